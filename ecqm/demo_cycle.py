"""The second half of ``make demo``: the monitoring cycle after the risk assessment.

plan → buy and test (a simulated purchasing team and lab, drawing each sample's result
from the simulator's truth, clearly marked as simulation) → the inbox → evaluation and
queued notices → delivery to a local SMTP sink and to files → the monthly review and its
report. ``plan_sampling``, ``ingest_inbox`` and ``review_monitoring`` have timetables and
are triggered here, as a person or their timetable would; ``evaluate_results`` and
``deliver_notifications`` run only when Airflow's asset queue makes them ready, after
the Assets they are scheduled on got events (with ``--no-airflow``, the same task
functions directly).

Running the demo again changes nothing: the month's plan is in execution once its
purchases are recorded, so it is kept; every task is already tested, so the lab has
nothing to buy; nothing new is evaluated or sent; the review recomputes the same
indicators and writes the same report.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select

DEMO_BUDGET = 60
SINK_HOST = "127.0.0.1"


@dataclass
class CycleSummary:
    """What the cycle did, for the demo's closing summary."""

    plan_id: str = ""
    tasks: int = 0
    targeted: int = 0
    audit: int = 0
    samples: int = 0
    failed: int = 0
    expected_failures: float = 0.0
    notices: dict[str, int] = field(default_factory=dict)
    emails: int = 0
    report: str = ""
    triggered: list[Any] = field(default_factory=list)
    """The DAG runs that Asset events triggered (``ecqm.airflow_local.TriggeredRun``)."""


class MailSink:
    """A local SMTP server that keeps what it receives (the demo's mail server)."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self._lock = threading.Lock()
        self.controller: Any = None
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.messages.append(bytes(envelope.content))
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        with socket.socket() as sock:
            sock.bind((SINK_HOST, 0))
            self.port = sock.getsockname()[1]
        self.controller = Controller(self, hostname=SINK_HOST, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def _step(n: int, total: int, text: str) -> None:
    print(f"[{n}/{total}] {text}", flush=True)


def _trigger(
    dag_id: str, s: Any, out: CycleSummary, conf: dict[str, Any] | None = None
) -> tuple[Any, list[Any]]:
    """Run ``dag_id`` as a person or its timetable would, then every run its Asset events
    trigger through Airflow's asset queue: (its run, the asset-triggered runs)."""
    from ecqm import airflow_local

    first, *triggered = airflow_local.trigger(dag_id, conf)
    out.triggered += triggered
    for run in (first, *triggered):
        if run.state != "success":
            raise RuntimeError(
                f"DAG {run.dag_id} ended {run.state}; see the logs under {s.airflow_home / 'logs'}"
            )
    return first, triggered


def _run_of(runs: list[Any], dag_id: str) -> Any:
    return next((r for r in runs if r.dag_id == dag_id), None)


def _events(run: Any) -> dict[str, dict[str, Any]]:
    from ecqm.airflow_local import asset_events_of

    return asset_events_of(run)


def demo_routes(home: Path) -> Path:
    """The shipped notification routes with the placeholder regulator addresses allowed,
    written as ``$ECQM_HOME/notify_routes.yaml``: in the demo every e-mail goes to the
    local SMTP sink, which passes nothing on."""
    from transforms.notify.routes import DATA_FILE, OVERRIDE_NAME

    doc = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    doc["placeholder_domains"] = []
    path = home / OVERRIDE_NAME
    text = (
        "# Written by `ecqm demo`: the shipped routes, with the placeholder addresses of\n"
        "# ref_regions allowed because the demo's SMTP server is a local sink. Delete this\n"
        "# file before pointing ECQM_SMTP_HOST at a real server.\n"
        + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    )
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def run_cycle(
    first: int, total: int, use_airflow: bool, s: Any, world: Any, seed: int
) -> CycleSummary:
    """Steps ``first`` … ``first + 4`` of the demo. Raises ``RuntimeError`` when a DAG
    fails."""
    from ecqm.warehouse.engine import make_engine
    from ecqm.warehouse.schema import evaluations, merchant_credit, notifications, sampling_tasks
    from risk_models.tasks import as_of_for
    from simulator.lab import simulate, write_inbox
    from transforms.plans import PlanLockedError
    from transforms.plans.make import default_plan_id
    from transforms.plans.tasks import period_for, plan_month

    out = CycleSummary()
    now = dt.datetime.now(dt.UTC)
    period = period_for(now)
    out.plan_id = plan_id = default_plan_id(period)
    engine = make_engine(s.warehouse_url)
    sink = MailSink()
    saved = {k: os.environ.get(k) for k in ("ECQM_SMTP_HOST", "ECQM_SMTP_PORT")}
    saved.update({k: os.environ.get(k) for k in ("ECQM_SMTP_SECURITY", "ECQM_SMTP_SENDER")})
    try:
        # ------------------------------------------------------------------ plan
        n = first
        if use_airflow:
            run, _ = _trigger(
                "plan_sampling", s, out, {"budget": DEMO_BUDGET, "seed": seed % 100_000}
            )
            made = "ecqm.sampling_tasks" in _events(run.dag_run)
            _step(n, total, "DAG plan_sampling: success — the month's monitoring plan")
        else:
            try:
                plan_month(
                    s.warehouse_url,
                    period=period,
                    budget_purchases=DEMO_BUDGET,
                    seed=seed % 100_000,
                    as_of=as_of_for(now),
                )
                made = True
            except PlanLockedError:
                made = False
            _step(n, total, "the month's monitoring plan")
        with engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(
                    select(sampling_tasks).where(sampling_tasks.c.plan_id == plan_id)
                ).mappings()
            ]
        strata = Counter(r["stratum"] for r in rows)
        out.tasks, out.targeted, out.audit = len(rows), strata["targeted"], strata["audit"]
        labs = len({r["lab_code"] for r in rows if r["lab_code"]})
        print(
            f"      {plan_id}: {len(rows)} purchases — {strata['targeted']} targeted (高/较高风险), "
            f"{strata['audit']} audit (random, with inclusion probabilities); {labs} labs"
            + ("" if made else "; in execution since the last run, kept as it was")
        )
        print(f"      workbooks  {s.outbox_dir / 'plans' / plan_id}/ (buyers, and one per lab)")

        # ------------------------------------------------------------- buy, test
        n += 1
        lab = simulate(world, rows, seed=seed, now=now)
        out.samples = lab.samples
        out.failed = len(lab.failed_tasks)
        out.expected_failures = lab.expected_failures
        for path in write_inbox(lab, s.inbox_dir, plan_id):
            if path is not None:
                # The inbox leaves a file changed in the last 30 seconds for the next scan
                # (it may still be being copied); these were "dropped" two minutes ago.
                then = time.time() - 120
                os.utime(path, (then, then))
        # Started now: the runs the inbox's Asset events trigger may send e-mail.
        sink.start()
        os.environ.update(
            ECQM_SMTP_HOST=SINK_HOST,
            ECQM_SMTP_PORT=str(sink.port),
            ECQM_SMTP_SECURITY="none",
            ECQM_SMTP_SENDER="ecqm-demo@localhost",
        )
        demo_routes(s.home)
        triggered: list[Any] = []
        if use_airflow:
            run, triggered = _trigger("ingest_inbox", s, out)
            events = _events(run.dag_run)
            _step(n, total, "SIMULATED buyers and lab → the inbox → DAG ingest_inbox: success")
        else:
            from transforms.intake.tasks import ingest

            taken = ingest(s.warehouse_url)["tables"]
            events = {f"ecqm.{t}": v for t, v in taken.items() if v["written"]}
            _step(n, total, "SIMULATED buyers and lab → the inbox, taken in")
        if lab.samples:
            print(
                f"      bought {lab.samples} samples and tested them (simulation: each result "
                f"drawn from the truth): {out.failed} 不合格, against {lab.expected_failures:.1f} "
                "expected from the true failure probabilities"
            )
        else:
            print("      nothing left to buy: every task of the plan is already tested")
        for name in ("ecqm.purchases", "ecqm.inspection_results"):
            if name in events:
                print(f"      {name} got an event: {events[name].get('rows', '')} rows".rstrip())

        # --------------------------------------------------- evaluate and queue
        n += 1
        if use_airflow:
            # Run by the asset queue after ingest_inbox, when it had new results.
            run = _run_of(triggered, "evaluate_results")
            if run is not None:
                _step(n, total, f"DAG evaluate_results (on {', '.join(run.assets)}): success")
                print(f"      asset-triggered by the events of {', '.join(run.sources)}")
            else:
                _step(
                    n,
                    total,
                    "no new inspection results (no ecqm.inspection_results event): "
                    "evaluate_results was not triggered",
                )
        elif "ecqm.inspection_results" in events:
            from transforms.credit.tasks import update_credit
            from transforms.results.tasks import evaluate

            evaluate(s.warehouse_url, now, home=s.home)
            update_credit(s.warehouse_url, now.astimezone(dt.UTC).date())
            _step(n, total, "results evaluated, notices queued, credit lists updated")
        else:
            _step(n, total, "no new inspection results: evaluate_results has nothing to do")
        with engine.connect() as conn:
            verdicts = dict(
                conn.execute(
                    select(evaluations.c.verdict, func.count())
                    .where(evaluations.c.status == "current")
                    .group_by(evaluations.c.verdict)
                ).all()
            )
            safety = conn.execute(
                select(func.count()).where(
                    evaluations.c.status == "current", evaluations.c.is_safety
                )
            ).scalar_one()
            queued = dict(
                conn.execute(
                    select(notifications.c.kind, func.count()).group_by(notifications.c.kind)
                ).all()
            )
            credit = dict(
                conn.execute(
                    select(merchant_credit.c.list_kind, func.count())
                    .where(merchant_credit.c.status == "active")
                    .group_by(merchant_credit.c.list_kind)
                ).all()
            )
        print(
            f"      verdicts: 合格 {verdicts.get('pass', 0)}, 不合格 {verdicts.get('fail', 0)} "
            f"({safety} with a safety defect); notices: "
            + ", ".join(f"{k} {v}" for k, v in sorted(queued.items()))
        )
        print(
            f"      credit lists: black {credit.get('black', 0)}, red {credit.get('red', 0)} "
            "(mart_merchant_credit)"
        )

        # ------------------------------------------------------------- deliver
        n += 1
        if use_airflow:
            # Run by the asset queue after evaluate_results, when it queued notices.
            run = _run_of(triggered, "deliver_notifications")
            if run is not None:
                _step(n, total, f"DAG deliver_notifications (on {', '.join(run.assets)}): success")
                print(f"      asset-triggered by the events of {', '.join(run.sources)}")
            else:
                _step(
                    n,
                    total,
                    "no new notices (no ecqm.notifications event): deliver_notifications was "
                    "not triggered (its 10-minute timetable retries and reminds)",
                )
        else:
            from transforms.notify.tasks import deliver

            deliver(s.warehouse_url, now)
            _step(n, total, "notices delivered")
        with engine.connect() as conn:
            sent = dict(
                conn.execute(
                    select(notifications.c.channel, func.count())
                    .where(notifications.c.status == "sent")
                    .group_by(notifications.c.channel)
                ).all()
            )
            waiting = conn.execute(
                select(func.count()).where(notifications.c.status.in_(("queued", "retry")))
            ).scalar_one()
        out.notices = {str(k): int(v) for k, v in sent.items()}
        out.emails = len(sink.messages)
        print(
            "      sent: "
            + (", ".join(f"{k} {v}" for k, v in sorted(sent.items())) or "nothing")
            + f"; {waiting} waiting; this run's SMTP sink received {len(sink.messages)} e-mails"
        )
        print(f"      notices    {s.outbox_dir / 'notices'}/ (files), mart_notification_status")

        # -------------------------------------------------------------- review
        n += 1
        month = now.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
        if use_airflow:
            _trigger("review_monitoring", s, out, {"month": month})
            _step(n, total, f"DAG review_monitoring ({month}): success — indicators and report")
        else:
            from transforms.review.tasks import indicators, report

            indicators(s.warehouse_url, month, now)
            report(s.warehouse_url, month, now)
            _step(n, total, f"the monthly review of {month}: indicators and report")
        out.report = str(s.outbox_dir / "reports" / month / f"监测月报_{month}.html")
        _print_indicators(engine, month)
        print(f"      report     {out.report} (and .xlsx)")
        return out
    finally:
        sink.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        engine.dispose()


def _print_indicators(engine: Any, month: str) -> None:
    from ecqm.warehouse.schema import kpi_snapshots
    from transforms.review.kpis import month_bounds

    first, _ = month_bounds(month)
    with engine.connect() as conn:
        rows = {
            (r["kpi"], r["dimension"]): r
            for r in conn.execute(
                select(kpi_snapshots).where(kpi_snapshots.c.period_start == first)
            ).mappings()
        }

    def share(key: tuple[str, str]) -> str:
        r = rows.get(key)
        if r is None or r["value"] is None:
            return "—"
        return f"{r['value']:.1%} ({r['numerator']:.0f}/{r['denominator']:.0f})"

    lift = rows.get(("targeting_lift", ""))
    market = rows.get(("market_nonconformity", ""))
    print(
        f"      不合格 rate: targeted {share(('fail_rate_by_stratum', 'targeted'))}, "
        f"audit {share(('fail_rate_by_stratum', 'audit'))}"
        + (f"; lift ×{lift['value']:.1f}" if lift and lift["value"] else "")
    )
    if market and market["value"] is not None:
        print(
            f"      market 不合格 rate (Horvitz–Thompson, audit stratum): {market['value']:.1%}, "
            f"95% interval {market['ci_low']:.1%}–{market['ci_high']:.1%}"
        )
