"""Merchant credit as a plain function of a warehouse URL: the ``evaluate_results`` DAG
and ``ecqm credit`` call it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecqm.warehouse.engine import make_engine


def update_credit(url: str, as_of: dt.date) -> dict[str, Any]:
    """Recompute the red and black lists as of ``as_of`` (a day in Asia/Shanghai, the
    run's partition) in the warehouse at ``url``; the report as a JSON-ready dict (see
    :class:`transforms.credit.CreditReport`). Rows that change are stamped with the
    current time; a second run for the same day changes nothing."""
    from transforms.credit.update import update_credit as run

    engine = make_engine(url)
    try:
        return run(engine, as_of, dt.datetime.now(dt.UTC)).as_dict()
    finally:
        engine.dispose()
