"""The crawl DAGs' tasks as plain functions: plan shards, crawl one shard, load the run.

Each DAG run has one crawl run id, derived from the run's logical time, so a retried
task or a re-run of the DAG run writes to the same landing folder and loads into the
same rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ecqm import settings as ecqm_settings

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def crawl_run_id(profile: str, run_time: dt.datetime) -> str:
    """``crawl_<profile>__<UTC time>``: the same for every attempt of one DAG run."""
    return f"crawl_{profile}__{run_time.astimezone(dt.UTC):%Y%m%dT%H%M%S}"[:64]


def partition_date(run_time: dt.datetime) -> str:
    """The day a run belongs to, as people in China count days."""
    return run_time.astimezone(SHANGHAI).date().isoformat()


def plan_shards(profile: str, run_time: dt.datetime, shards: int) -> list[dict[str, Any]]:
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    run_id = crawl_run_id(profile, run_time)
    day = partition_date(run_time)
    return [
        {"profile": profile, "run_id": run_id, "partition_date": day, "shard": i, "shards": shards}
        for i in range(shards)
    ]


def crawl_shard(
    spec: dict[str, Any], settings_overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run ``scrapy crawl`` for one shard in a subprocess; its statistics as a dict."""
    from crawlers.runner import run_crawl

    s = ecqm_settings.load()
    if settings_overrides is None:
        settings_overrides = s.crawl_settings or None
    result = run_crawl(
        spec["profile"],
        run_id=spec["run_id"],
        partition_date=spec["partition_date"],
        shard=spec["shard"],
        shards=spec["shards"],
        target_url=s.simulator_url,
        landing_dir=Path(s.landing_url),
        evidence_dir=s.evidence_dir,
        settings=settings_overrides,
    )
    return asdict(result)


def load_run(spec: dict[str, Any], warehouse_url: str) -> dict[str, Any]:
    """Load the run's landing files into staging; counts per table and new rows."""
    from ecqm.warehouse.engine import make_engine
    from transforms.staging import load_crawl_run

    s = ecqm_settings.load()
    engine = make_engine(warehouse_url)
    try:
        with engine.begin() as conn:
            loaded = load_crawl_run(
                conn,
                landing=Path(s.landing_url),
                profile=spec["profile"],
                run_id=spec["run_id"],
                partition_date=spec["partition_date"],
            )
    finally:
        engine.dispose()
    return {
        "crawl_run_id": loaded.crawl_run_id,
        "tables": loaded.counts(),
        "new_rows": loaded.new_rows,
        "quarantined": loaded.quarantined,
    }
