"""``ecqm simulator serve|truth`` (also ``python -m simulator``)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from .faults import FaultSpec


def _clock(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _faults(text: str) -> FaultSpec:
    try:
        return FaultSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _world_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--products", type=int, default=5000, help="number of products (default 5000)")
    p.add_argument("--seed", type=int, default=1, help="world seed (default 1)")
    p.add_argument(
        "--clock",
        type=_clock,
        default=None,
        help="the world's today, YYYY-MM-DD (default 2026-11-01)",
    )


def register(subparsers: Any) -> None:
    """Add ``serve`` and ``truth`` to an argparse subparsers object."""
    serve = subparsers.add_parser(
        "serve", help="serve the simulated shops, complaint portal and recall registry"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)"
    )
    _world_args(serve)
    serve.add_argument(
        "--faults", type=_faults, default=FaultSpec(), help='e.g. "429=0.05,5xx=0.03,slow=0.01"'
    )
    serve.add_argument(
        "--request-log", type=Path, default=None, help="append JSON lines of every request here"
    )
    serve.set_defaults(func=cmd_serve)
    truth = subparsers.add_parser("truth", help="print the planted truth of a world as JSON")
    _world_args(truth)
    truth.add_argument(
        "--out", type=Path, default=None, help="write to this file instead of stdout"
    )
    truth.add_argument("--no-reviews", action="store_true", help="leave out per-review labels")
    truth.set_defaults(func=cmd_truth)


def cmd_serve(args: argparse.Namespace) -> int:
    from .server import SimulatorServer
    from .world import World

    try:
        world = World(args.products, args.seed, args.clock)
        server = SimulatorServer(
            world, args.faults, host=args.host, port=args.port, request_log=args.request_log
        )
    except ValueError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    try:
        server.serve_forever(ready=sys.stdout)
    except OSError as exc:
        print(f"simulator: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_truth(args: argparse.Namespace) -> int:
    from .truth import write_truth
    from .world import World

    world = World(args.products, args.seed, args.clock)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8") as fp:
            write_truth(world, fp, reviews=not args.no_reviews)
    else:
        try:
            write_truth(world, sys.stdout, reviews=not args.no_reviews)
            sys.stdout.flush()
        except BrokenPipeError:
            return 0
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="ecqm simulated e-commerce world"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
