"""``ecqm evaluate``: judge the lab reports not yet evaluated (or changed since), handle
retests, and queue the notices they owe. The ``evaluate_results`` DAG does the same on
every new ``ecqm.inspection_results`` event.

Exit status: 0 when every report was evaluated, 1 when some could not be (each is on
standard error, and in ``quarantine`` with run ``evaluate_results``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add ``evaluate`` to the ``ecqm`` subcommands."""
    p = sub.add_parser(
        "evaluate",
        help="judge new inspection reports, handle retests, queue the notices (结果评价与处理)",
        description="Judge the lab reports not yet evaluated (or changed since), handle "
        "retests (复检), and queue the notices they owe; the evaluate_results DAG does the "
        "same on every new ecqm.inspection_results event. Exit 1 when a report could not be "
        "evaluated (it is named on standard error and kept in quarantine).",
    )
    p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    p.add_argument(
        "--now",
        type=_moment,
        help="the run's moment, ISO 8601 with a zone (default: now); notices are issued "
        "and queued at it",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ecqm import settings
    from transforms.results.tasks import evaluate

    now = args.now or dt.datetime.now(dt.UTC)
    summary = evaluate(args.url or settings.load().warehouse_url, now)
    ev, nt = summary["evaluations"], summary["notifications"]
    verdicts = ", ".join(f"{k} {v}" for k, v in ev["verdicts"].items()) or "none"
    print(
        f"{summary['reports']} reports: {ev['inserted']} evaluated, {ev['replaced']} "
        f"re-evaluated, {ev['relinked']} relinked, {ev['unchanged']} unchanged; "
        f"verdicts {verdicts}; {ev['safety']} safety defects, {ev['superseded']} superseded "
        "by retests"
    )
    channels = ", ".join(f"{k} {v}" for k, v in nt["by_channel"].items()) or "none"
    print(
        f"notices: {nt['queued']} queued, {nt['already_queued']} already queued, "
        f"{nt['refreshed']} refreshed, {nt['cancelled']} cancelled (channels: {channels})"
    )
    if nt["stale_sent"]:
        print(
            f"ecqm: {nt['stale_sent']} notices were already sent with content that changed; "
            "send corrections by hand",
            file=sys.stderr,
        )
    for p in summary["problems"]:
        print(
            f"ecqm: report {p['report_number']} (task {p['task_id']}) not evaluated: "
            f"{p['code']}: {p['reason']}",
            file=sys.stderr,
        )
    return 1 if summary["problems"] else 0


def _moment(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time like 2026-11-23T10:00+08:00"
        ) from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, such as +08:00 or Z")
    return value
