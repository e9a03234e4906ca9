"""Risk assessment as plain functions of a warehouse URL: the ``assess_risk`` DAG and the
``ecqm assess`` command call these."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from ecqm import settings as ecqm_settings
from ecqm.warehouse.engine import make_engine

SHANGHAI = ZoneInfo("Asia/Shanghai")


def as_of_for(moment: dt.datetime) -> dt.date:
    """The assessment date of a run: its logical moment's date in Asia/Shanghai."""
    if moment.tzinfo is None:
        raise ValueError("the run's moment must carry a time zone")
    return moment.astimezone(SHANGHAI).date()


def assess(url: str, as_of: dt.date, **kwargs: Any) -> dict[str, Any]:
    from risk_models.assess import assess as run

    s = ecqm_settings.load()
    engine = make_engine(url)
    try:
        return run(engine, as_of, home=s.home, **kwargs).as_dict()
    finally:
        engine.dispose()


def train(url: str, now: dt.datetime | None = None, **kwargs: Any) -> dict[str, Any]:
    """Fit a challenger risk-score model on the inspection outcomes; promote it if it
    beats the champion on held-out outcomes."""
    from risk_models.scoring import train as fit

    s = ecqm_settings.load()
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            result = fit(conn, s.home, now or dt.datetime.now(dt.UTC), **kwargs)
    finally:
        engine.dispose()
    return dict(result.__dict__)
