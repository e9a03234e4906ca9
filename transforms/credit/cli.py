"""``ecqm credit``: recompute the red and black lists and print them by list and rule.

::

    ecqm credit                      # as of today (Asia/Shanghai)
    ecqm credit --as-of 2026-11-30

Exit status: 0 on success, 2 for a bad date or an unusable rules file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["describe", "register"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
_LIST_ZH = {"black": "黑名单", "red": "红名单"}


def register(sub: Any) -> None:
    """Add ``credit`` to the ``ecqm`` subcommands."""
    p = sub.add_parser("credit", help="recompute the merchant red and black lists (诚信管理)")
    p.add_argument("--as-of", type=_date, help="the day, YYYY-MM-DD (default today, Asia/Shanghai)")
    p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    p.set_defaults(func=_run)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30") from None


def _run(args: argparse.Namespace) -> int:
    from ecqm import settings
    from transforms.credit.rules import CreditRulesError
    from transforms.credit.tasks import update_credit

    as_of = args.as_of or dt.datetime.now(dt.UTC).astimezone(SHANGHAI).date()
    try:
        report = update_credit(args.url or settings.load().warehouse_url, as_of)
    except CreditRulesError as exc:
        print(f"ecqm: {exc}", file=sys.stderr)
        return 2
    print(describe(report))
    return 0


def describe(report: dict[str, Any]) -> str:
    """The report of :func:`transforms.credit.tasks.update_credit` for people."""
    from transforms.credit.rules import load_rules

    titles = {code: r.title_zh for code, r in load_rules().rules.items()}
    lines = [
        f"merchant credit as of {report['as_of']} (rules {report['rules_version']}): "
        f"{report['samples']} samples from {report['shops']} shops"
    ]
    for kind, rules in report["counts"].items():
        for code, by_status in rules.items():
            lines.append(
                f"  {_LIST_ZH.get(kind, kind)} {kind:5} {code:18} {titles.get(code, ''):\u3000<10}"
                + "  ".join(f"{status} {n:>4}" for status, n in by_status.items())
            )
    lines.append(
        f"this run: {report['inserted']} new, {report['updated']} changed, "
        f"{report['unchanged']} unchanged; {report['expired']} expired, {report['lifted']} lifted"
    )
    notes = []
    if report["safety_pending"]:
        notes.append(f"{report['safety_pending']} safety failures inside their remedy period")
    if report["safety_unnotified"]:
        notes.append(f"{report['safety_unnotified']} safety failures not notified yet")
    if report["samples_without_shop"]:
        notes.append(f"{report['samples_without_shop']} samples without a known shop (not counted)")
    if notes:
        lines.append("note: " + "; ".join(notes))
    return "\n".join(lines)
