"""``ecqm extract-listing``: listing fields of saved product pages, as JSON lines.

::

    ecqm extract-listing page.html --url https://shop.example/item/1.html
    ecqm extract-listing --manifest pages.csv --jobs 4 > listings.jsonl

The manifest is a CSV with the columns ``path,url`` (and optionally ``content_type``);
paths are relative to the manifest's folder or absolute, pages plain or gzipped. One
JSON object per page is printed in manifest order, with ``path`` and the fields of
:class:`~crawlers.extract.listing.ListingExtract`, or ``path``, ``url`` and ``error``.
Exit status: 0 when every page was extracted, 1 when any page had an error, 2 for a
usage error (bad arguments, unreadable manifest or selectors file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import IO, Any

__all__ = ["add_arguments", "main", "register", "run"]

USAGE_ERROR = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``extract-listing`` (shared with ``python -m crawlers.extract``)."""
    parser.add_argument("page", nargs="?", type=Path, help="one saved page (.html or .html.gz)")
    parser.add_argument("--url", help="the URL the page was fetched from (with PAGE)")
    parser.add_argument("--manifest", type=Path, help="CSV with columns path,url")
    parser.add_argument(
        "--content-type", help="the HTTP Content-Type of PAGE, e.g. 'text/html; charset=gbk'"
    )
    parser.add_argument(
        "--selectors",
        type=Path,
        help="JSON or YAML file mapping field to CSS selector (or 'xpath:...')",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for --manifest (default: the number of CPUs)",
    )
    parser.add_argument("--output", "-o", type=Path, help="write JSON lines here, not stdout")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``extract-listing`` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "extract-listing",
        help="extract listing fields from saved product pages (JSON lines)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def _usage(message: str) -> int:
    print(f"ecqm extract-listing: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _load_selectors(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if isinstance(data, dict) and isinstance(data.get("selectors"), dict):
        data = data["selectors"]  # a whole site profile
    if not isinstance(data, dict):
        raise ValueError("the selectors file must hold a mapping of field to selector")
    return {str(k): str(v) for k, v in data.items()}


def run(args: argparse.Namespace) -> int:
    """Run ``extract-listing`` for parsed arguments; returns the exit status."""
    from .batch import ManifestError, PageTask, extract_lines, read_manifest
    from .profile import validate_selectors

    if (args.page is None) == (args.manifest is None):
        return _usage("give either PAGE (with --url) or --manifest FILE.csv")
    if args.page is not None and not args.url:
        return _usage("PAGE needs --url (the address it was fetched from)")
    if args.jobs < 1:
        return _usage("--jobs must be at least 1")
    selectors = None
    if args.selectors is not None:
        try:
            selectors = _load_selectors(args.selectors)
            validate_selectors(selectors)
        except (OSError, ValueError) as exc:
            return _usage(f"selectors file {args.selectors}: {exc}")
    if args.manifest is not None:
        try:
            tasks = read_manifest(args.manifest)
            first = next(tasks, None)  # opens the file and checks its columns now
        except ManifestError as exc:
            return _usage(str(exc))
        rows = [] if first is None else _chain(first, tasks)
        jobs = args.jobs
    else:
        page = str(args.page)
        rows = [PageTask(page, str(args.page.resolve()), args.url, args.content_type)]
        jobs = 1
    out: IO[str]
    if args.output is not None:
        try:
            out = open(args.output, "w", encoding="utf-8")  # noqa: SIM115 — closed below
        except OSError as exc:
            return _usage(f"cannot write {args.output}: {exc.strerror or exc}")
    else:
        out = sys.stdout
    errors = 0
    try:
        for line in extract_lines(rows, jobs=jobs, selectors=selectors):
            if '"error":' in line and json.loads(line).get("error"):
                errors += 1
            out.write(line + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    return 1 if errors else 0


def _chain(first: Any, rest: Any) -> Any:
    yield first
    yield from rest


def main(argv: list[str] | None = None) -> int:
    """``python -m crawlers.extract [extract-listing] ...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["extract-listing"]:
        argv = argv[1:]
    parser = argparse.ArgumentParser(
        prog="python -m crawlers.extract",
        description="Extract listing fields from saved product pages (JSON lines).",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
