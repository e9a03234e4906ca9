"""Evaluation as a plain function of a warehouse URL: the ``evaluate_results`` DAG and
the ``ecqm evaluate`` command call it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ecqm import settings as ecqm_settings
from ecqm.warehouse.engine import make_engine


def evaluate(url: str, now: dt.datetime, *, home: Path | str | None = None) -> dict[str, Any]:
    """Evaluate every new or changed lab report in the warehouse at ``url`` and queue its
    notices; ``now`` is the run's moment (timezone-aware). Returns the summary of
    :meth:`transforms.results.evaluate.EvaluateReport.as_dict`."""
    from transforms.results.evaluate import evaluate as run

    engine = make_engine(url)
    try:
        report = run(engine, now, home=home if home is not None else ecqm_settings.load().home)
    finally:
        engine.dispose()
    return report.as_dict()
