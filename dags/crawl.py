"""
### Crawl a source — one DAG per site profile

`crawl_<profile>` is generated for every enabled profile in `crawlers/profiles/`
(adding a site is adding a YAML file). Each run:

1. **plan** — splits the profile's start points into shards (`shards` in the run's
   conf, default 2 for marketplaces and 1 otherwise);
2. **crawl** — one mapped task per shard, on the `crawl` queue (`ECQM_CRAWL_QUEUE`), runs
   `scrapy crawl` in a subprocess: robots.txt obeyed, AutoThrottle on, retries honouring
   `Retry-After`, every page gzipped into the evidence archive under its SHA-256, items
   as JSON lines in the landing zone;
3. **load** — the run's landing files into `stg_*` through the bulk upsert, bad lines to
   `quarantine`, statistics to `crawl_runs`; loading twice adds nothing;
4. **publish** — Asset events for the staging tables with the counts. When the crawl
   found nothing new this task is skipped, so an unchanged site creates no downstream work.

The crawl run id comes from the DAG run's logical time, so retries and re-runs of a DAG
run write the same files and rows.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, task

from ecqm.assets import CRAWL_RUNS, STAGING_ASSETS
from ecqm.crawl_profiles import ProfileSummary, profile_summaries

OUTLETS = [*STAGING_ASSETS.values(), CRAWL_RUNS]
# Under the CeleryExecutor the crawl tasks go to their own queue, so network-bound
# workers scale apart from the compute ones; every other task takes Airflow's
# `[operators] default_queue`. Other executors ignore queues.
CRAWL_QUEUE = os.environ.get("ECQM_CRAWL_QUEUE") or "crawl"


def build_crawl_dag(profile: ProfileSummary):
    @dag(
        dag_id=f"crawl_{profile.name}",
        schedule=CronTriggerTimetable(profile.schedule, timezone="Asia/Shanghai")
        if profile.schedule
        else None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        tags=["ecqm", "crawl", profile.kind],
        doc_md=f"{__doc__}\n\n**Profile** `{profile.name}` ({profile.kind}): {profile.description}",
        params={"shards": Param(profile.default_shards, type="integer", minimum=1, maximum=64)},
    )
    def crawl_dag():
        @task
        def plan(*, params=None, dag_run=None) -> list[dict]:
            from ecqm.crawl import plan_shards

            return plan_shards(profile.name, dag_run.run_after, int(params["shards"]))

        @task(retries=2, retry_delay=pendulum.duration(seconds=30), queue=CRAWL_QUEUE)
        def crawl(spec: dict) -> dict:
            from ecqm.crawl import crawl_shard

            return crawl_shard(spec)

        @task
        def load(specs: list[dict], crawled: list[dict]) -> dict:
            from ecqm.crawl import load_run
            from ecqm.settings import warehouse_url_for_task

            return load_run(specs[0], warehouse_url_for_task())

        @task(outlets=OUTLETS)
        def publish(loaded: dict, *, outlet_events=None) -> dict:
            from airflow.sdk.exceptions import AirflowSkipException

            if loaded["new_rows"] == 0:
                raise AirflowSkipException("nothing new: no staging rows added, no downstream work")
            for table, asset in STAGING_ASSETS.items():
                outlet_events[asset].extra = {
                    "crawl_run_id": loaded["crawl_run_id"],
                    **loaded["tables"].get(table, {}),
                }
            outlet_events[CRAWL_RUNS].extra = {"crawl_run_id": loaded["crawl_run_id"]}
            return loaded

        specs = plan()
        crawled = crawl.expand(spec=specs)
        publish(load(specs, crawled))

    return crawl_dag()


for _profile in profile_summaries():
    if _profile.enabled:
        globals()[f"crawl_{_profile.name}"] = build_crawl_dag(_profile)
