"""``ecqm report``: write the monthly report into the outbox and print where it is.

::

    ecqm report                      # last month (Asia/Shanghai)
    ecqm report --month 2026-11
    ecqm report --month 2026-11 --url postgresql://…

The month's indicators are computed first when it has none. Exit status: 0 on
success, 2 for a month not written YYYY-MM.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["register"]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def register(sub: Any) -> None:
    """Add ``report`` to the ``ecqm`` subcommands."""
    p = sub.add_parser(
        "report", help="write the monthly report (HTML with charts, and XLSX) into the outbox"
    )
    p.add_argument("--month", type=_month, help="YYYY-MM (default: last month, Asia/Shanghai)")
    p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    p.set_defaults(func=_run)


def _month(text: str) -> str:
    from transforms.review.report import check_month

    try:
        return check_month(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2026-11") from None


def last_month(moment: dt.datetime) -> str:
    """The calendar month (Asia/Shanghai) before ``moment``'s.

    >>> last_month(dt.datetime(2026, 11, 30, 17, tzinfo=dt.UTC))  # 1 December in Shanghai
    '2026-11'
    """
    first = moment.astimezone(SHANGHAI).date().replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def _run(args: argparse.Namespace) -> int:
    from ecqm import settings
    from ecqm.warehouse.engine import make_engine
    from transforms.review.report import write_report

    now = dt.datetime.now(dt.UTC)
    s = settings.load()
    engine = make_engine(args.url or s.warehouse_url)
    try:
        files = write_report(engine, args.month or last_month(now), s.outbox_dir, now)
    finally:
        engine.dispose()
    print(files.html)
    print(files.xlsx)
    return 0
