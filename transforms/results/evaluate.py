"""结果评价与处理: judge every lab report in ``inspection_results`` and queue its notices.

:func:`evaluate` brings ``evaluations`` up to date with ``inspection_results``. Per
sampling task, in one transaction:

1. **judge** each report that has no evaluation yet, or whose items changed since it was
   evaluated (its task, dates, lab, item count or failed items differ from the stored
   evaluation), with the rules of :mod:`transforms.results.judge`; an evaluation stands
   under the rules version it was judged with until its items change;
2. **retests** (复检): the latest report of the task is current, every earlier one is
   superseded by the one after it (:mod:`transforms.results.retests`); nothing is
   deleted;
3. **notices** for each current evaluation that is new, re-judged or newly current,
   rendered and routed, inserted into the ``notifications`` outbox idempotently
   (:mod:`transforms.results.notices`); the pending notices of an evaluation a retest
   superseded are cancelled (sent ones stay);
4. **risk**: a current failure confirms the product's newest risk assessment; a
   failure that stops counting withdraws its confirmation (:mod:`transforms.results.risk`).

The seller deadline is ``notices.seller_workdays`` (5) working days after the test date
on the Chinese calendar; a deadline that runs into a year whose arrangement is not
published yet is counted provisionally (weekends and the fixed-date holidays off, see
:meth:`~transforms.notify.workdays.WorkdayCalendar.with_provisional_future`). A report
that cannot be evaluated — an item verdict that is not pass or fail, a task that does
not exist, a date before the calendar's first year — is left without an evaluation, with a ``quarantine`` row (run
``evaluate_results``) saying why, and is tried again on the next run; the rest of the
run goes on. Running :func:`evaluate` again with nothing new changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from ecqm.warehouse.schema import evaluations, inspection_results, quarantine, sampling_tasks
from risk_models.matrix import RiskMatrix
from transforms.notify.render import NoticeError
from transforms.notify.routes import Routes
from transforms.notify.workdays import OutsideCalendarError, WorkdayCalendar, default_calendar
from transforms.results import notices as nt
from transforms.results import risk
from transforms.results.facts import RegionBook, gather
from transforms.results.judge import Item, Judgement, JudgementError, JudgementRules
from transforms.results.retests import CURRENT, SUPERSEDED, Links, chain_links, report_order

log = logging.getLogger(__name__)

QUARANTINE_RUN = "evaluate_results"
CHUNK = 900
# Columns of an evaluation that follow from the report's items and its task alone; when
# they differ from what is stored, the report is judged again.
INPUTS = (
    "task_id",
    "plan_id",
    "stratum",
    "platform",
    "listing_external_id",
    "listing_id",
    "product_id",
    "shop_id",
    "category_code",
    "lab_code",
    "tested_on",
    "items_total",
    "items_failed",
)
LINKS = ("status", "is_retest", "supersedes", "superseded_by")


class UnknownTask(ValueError):
    """Results name a sampling task that does not exist."""


@dataclass
class Report:
    """One lab report as its item rows hold it."""

    report_number: str
    task_id: str
    rows: list[Mapping[str, Any]] = field(default_factory=list)

    @property
    def tested_on(self) -> dt.date:
        return max(r["tested_on"] for r in self.rows)

    def items(self) -> list[Item]:
        return [
            Item(
                test_item=r["test_item"],
                standard_clause=r["standard_clause"],
                measured_value=r["measured_value"],
                limit_value=r["limit_value"],
                verdict=r["verdict"],
                defect_class=r["defect_class"],
            )
            for r in self.rows
        ]


@dataclass
class EvaluateReport:
    evaluated_at: dt.datetime
    rules_version: str = ""
    routes_version: str = ""
    reports: int = 0
    inserted: int = 0
    replaced: int = 0
    relinked: int = 0
    unchanged: int = 0
    superseded: int = 0
    verdicts: Counter = field(default_factory=Counter)
    safety: int = 0
    notifications: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)
    by_channel: Counter = field(default_factory=Counter)
    risk: Counter = field(default_factory=Counter)
    task_ids: list[str] = field(default_factory=list)
    report_numbers: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.inserted + self.replaced + self.relinked

    def add(self, other: EvaluateReport) -> None:
        """Count in what another report (one task's) counted."""
        for name in ("inserted", "replaced", "relinked", "superseded", "safety"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("verdicts", "notifications", "by_kind", "by_channel", "risk"):
            getattr(self, name).update(getattr(other, name))
        self.task_ids += other.task_ids
        self.report_numbers += other.report_numbers

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; ``evaluations`` and ``notifications`` are the Asset event
        extras."""
        return {
            "evaluated_at": self.evaluated_at.isoformat(),
            "rules_version": self.rules_version,
            "routes_version": self.routes_version,
            "reports": self.reports,
            "evaluations": {
                "inserted": self.inserted,
                "replaced": self.replaced,
                "relinked": self.relinked,
                "unchanged": self.unchanged,
                "written": self.written,
                "superseded": self.superseded,
                "verdicts": dict(sorted(self.verdicts.items())),
                "safety": self.safety,
                "task_ids": sorted(set(self.task_ids)),
                "report_numbers": sorted(self.report_numbers),
            },
            "notifications": {
                **{
                    k: self.notifications.get(k, 0)
                    for k in ("queued", "already_queued", "refreshed", "cancelled", "stale_sent")
                },
                "written": self.notifications.get("queued", 0)
                + self.notifications.get("refreshed", 0)
                + self.notifications.get("cancelled", 0),
                # Of the notices newly queued by this run.
                "by_kind": dict(sorted(self.by_kind.items())),
                "by_channel": dict(sorted(self.by_channel.items())),
            },
            "risk": dict(sorted(self.risk.items())),
            "problems": list(self.problems),
        }


@dataclass
class _Context:
    now: dt.datetime
    rules: JudgementRules
    routes: Routes
    calendar: WorkdayCalendar
    matrix: RiskMatrix
    regions: RegionBook
    report: EvaluateReport


def evaluate(
    engine: Engine,
    now: dt.datetime,
    *,
    home: Path | str | None = None,
    rules: JudgementRules | None = None,
    routes: Routes | None = None,
    calendar: WorkdayCalendar | None = None,
    matrix: RiskMatrix | None = None,
) -> EvaluateReport:
    """Evaluate every new or changed report; ``now`` is the run's moment (the notices'
    issue and queue time), timezone-aware.

    ``home`` is where ``notify_routes.yaml`` may override the shipped routes (default
    ``$ECQM_HOME``); the other arguments replace the shipped rules, routes, calendar and
    risk matrix (tests).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must carry a time zone")
    # A plain datetime, whatever the caller passed (Airflow passes pendulum's).
    now = dt.datetime.fromtimestamp(now.timestamp(), dt.UTC)
    rules = rules or JudgementRules.load()
    routes = routes or Routes.load(home=home)
    report = EvaluateReport(now, rules.version, routes.version)
    with engine.connect() as conn:
        by_task = _reports(conn)
        stored = {r["report_number"]: dict(r) for r in conn.execute(select(evaluations)).mappings()}
        tasks = _tasks(conn, sorted(by_task))
        regions = RegionBook.load(conn)
    ctx = _Context(
        now,
        rules,
        routes,
        calendar or default_calendar().with_provisional_future(),
        matrix or RiskMatrix.load(),
        regions,
        report,
    )
    for task_id in sorted(by_task):
        reports = by_task[task_id]
        report.reports += len(reports)
        try:
            plan = _plan(task_id, reports, tasks.get(task_id), stored, rules)
        except (JudgementError, UnknownTask) as exc:
            _problem(engine, ctx, task_id, reports, exc)
            continue
        report.unchanged += sum(1 for p in plan if p["action"] is None)
        if all(p["action"] is None for p in plan):
            continue
        # The task's counts are kept only if its transaction commits.
        done = EvaluateReport(now)
        try:
            with engine.begin() as conn:
                _apply(conn, ctx, done, task_id, plan)
        except (OutsideCalendarError, NoticeError, JudgementError) as exc:
            _problem(engine, ctx, task_id, reports, exc)
        else:
            report.add(done)
    return report


# ------------------------------------------------------------------------ reading


def _reports(conn: Connection) -> dict[str, dict[str, Report]]:
    """Every report's item rows, by task and report number."""
    out: dict[str, dict[str, Report]] = defaultdict(dict)
    ir = inspection_results.c
    for row in conn.execute(
        select(
            ir.task_id,
            ir.report_number,
            ir.test_item,
            ir.standard_clause,
            ir.measured_value,
            ir.limit_value,
            ir.verdict,
            ir.defect_class,
            ir.lab_code,
            ir.tested_on,
            ir.platform,
            ir.listing_external_id,
            ir.listing_id,
            ir.product_id,
            ir.shop_id,
        ).order_by(ir.task_id, ir.report_number, ir.test_item, ir.id)
    ).mappings():
        reports = out[row["task_id"]]
        number = row["report_number"]
        if number not in reports:
            reports[number] = Report(number, row["task_id"])
        reports[number].rows.append(row)
    return out


def _tasks(conn: Connection, task_ids: list[str]) -> dict[str, Mapping[str, Any]]:
    st = sampling_tasks.c
    out: dict[str, Mapping[str, Any]] = {}
    for i in range(0, len(task_ids), CHUNK):
        for row in conn.execute(
            select(
                st.task_id,
                st.plan_id,
                st.stratum,
                st.category_code,
                st.platform,
                st.listing_external_id,
                st.listing_id,
                st.product_id,
                st.shop_id,
                st.lab_code,
            ).where(st.task_id.in_(task_ids[i : i + CHUNK]))
        ).mappings():
            out[row["task_id"]] = row
    return out


# ------------------------------------------------------------------------ planning


def _inputs(report: Report, task: Mapping[str, Any], judgement: Judgement) -> dict[str, Any]:
    first = report.rows[0]

    def pick(name: str) -> Any:
        value = next((r[name] for r in report.rows if r[name] is not None), None)
        return value if value is not None else task.get(name)

    return {
        "task_id": report.task_id,
        "plan_id": task["plan_id"],
        "stratum": task["stratum"],
        "platform": first["platform"] or task["platform"],
        "listing_external_id": first["listing_external_id"] or task["listing_external_id"],
        "listing_id": pick("listing_id"),
        "product_id": pick("product_id"),
        "shop_id": pick("shop_id"),
        "category_code": task["category_code"],
        "lab_code": pick("lab_code"),
        "tested_on": report.tested_on,
        "items_total": judgement.items_total,
        "items_failed": judgement.items_failed,
    }


def _failed_items_key(items: Any) -> list[tuple]:
    """Failed items compared without what the rules add (their order, is_safety)."""
    fields = ("test_item", "standard_clause", "measured_value", "limit_value", "defect_class")
    return sorted(tuple(i.get(f) for f in fields) for i in items or [])


def _plan(
    task_id: str,
    reports: dict[str, Report],
    task: Mapping[str, Any] | None,
    stored: Mapping[str, Mapping[str, Any]],
    rules: JudgementRules,
) -> list[dict[str, Any]]:
    """What each report of a task needs: ``new``, ``replace`` (items changed),
    ``relink`` (only its place in the chain changed) or ``None``."""
    if task is None:
        raise UnknownTask(f"no sampling task {task_id!r} for reports {sorted(reports)}")
    links = chain_links((r.report_number, r.tested_on) for r in reports.values())
    plan = []
    for number in sorted(reports, key=lambda n: report_order(n, reports[n].tested_on)):
        report = reports[number]
        judgement = rules.judge(report.items())
        inputs = _inputs(report, task, judgement)
        before = stored.get(number)
        link = links[number]
        if before is None:
            action = "new"
        elif any(before[k] != inputs[k] for k in INPUTS) or _failed_items_key(
            before["failed_items"]
        ) != _failed_items_key(judgement.failed_items):
            action = "replace"
        elif any(before[k] != getattr(link, k) for k in LINKS):
            action = "relink"
        else:
            action = None
        plan.append(
            {
                "action": action,
                "report": report,
                "judgement": judgement,
                "inputs": inputs,
                "links": link,
                "before": before,
            }
        )
    return plan


# ------------------------------------------------------------------------ writing


def _apply(
    conn: Connection, ctx: _Context, report: EvaluateReport, task_id: str, plan: list[dict]
) -> None:
    """Write one task's evaluations, notices and risk confirmations (one transaction),
    counting into ``report``."""
    done: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for p in plan:
        if p["action"] is None:
            continue
        row = _write_evaluation(conn, ctx, p)
        done.append((p, row))
        report.task_ids.append(task_id)
        report.report_numbers.append(row["report_number"])
        report.inserted += p["action"] == "new"
        report.replaced += p["action"] == "replace"
        report.relinked += p["action"] == "relink"
        conn.execute(
            delete(quarantine).where(
                quarantine.c.table_name == "inspection_results",
                quarantine.c.record_key == row["report_number"],
                quarantine.c.run_id == QUARANTINE_RUN,
            )
        )
    for p, row in done:
        before = p["before"]
        links: Links = p["links"]
        was_current = before is not None and before["status"] == CURRENT
        was_failed = before is not None and before["verdict"] == "fail"
        if links.status == SUPERSEDED:
            if before is not None and before["status"] != SUPERSEDED:
                report.superseded += 1
                report.notifications["cancelled"] += nt.cancel_for(
                    conn,
                    row["id"],
                    ctx.now,
                    {"reason": "superseded by a retest", "superseded_by": links.superseded_by},
                )
            if was_failed or row["verdict"] == "fail":
                report.risk["withdrawn"] += risk.withdraw(
                    conn, row["product_id"], row["report_number"]
                )
            continue
        if p["action"] == "relink" and was_current:
            continue
        judgement: Judgement = p["judgement"]
        if p["action"] != "relink":
            report.verdicts[row["verdict"]] += 1
            report.safety += bool(row["is_safety"])
        if row["verdict"] == "fail":
            change = risk.confirm(
                conn,
                row["product_id"],
                row["report_number"],
                safety=bool(row["is_safety"]),
                matrix=ctx.matrix,
            )
            report.risk[change.outcome] += 1
        elif was_failed:
            report.risk["withdrawn"] += risk.withdraw(conn, row["product_id"], row["report_number"])
        facts = gather(conn, row, ctx.regions, ctx.routes.platform_name(row["platform"] or ""))
        times = nt.deadlines(row["tested_on"], ctx.now, ctx.rules, ctx.calendar)
        planned = nt.plan_notices(
            row,
            judgement,
            facts,
            rules=ctx.rules,
            routes=ctx.routes,
            times=times,
            now=ctx.now,
        )
        queued: list[nt.PlannedNotice] = []
        counts = nt.queue(
            conn,
            row["id"],
            row["report_number"],
            planned,
            ctx.now,
            refresh=p["action"] == "replace",
            inserted=queued,
        )
        report.notifications.update(counts)
        for n in queued:
            report.by_kind[n.kind] += 1
            report.by_channel[n.route.channel] += 1


def _write_evaluation(conn: Connection, ctx: _Context, p: dict[str, Any]) -> dict[str, Any]:
    before = p["before"]
    links: Links = p["links"]
    link_values = {k: getattr(links, k) for k in LINKS}
    if p["action"] == "relink":
        conn.execute(
            update(evaluations).where(evaluations.c.id == before["id"]).values(**link_values)
        )
        return {**before, **link_values}
    judgement: Judgement = p["judgement"]
    inputs = p["inputs"]
    assessment = risk.newest(conn, inputs["product_id"])
    level_before = (
        before["risk_level_before"]
        if before is not None
        else (assessment["level"] if assessment else None)
    )
    counts = links.status == CURRENT
    level_after = (
        risk.level_after(
            ctx.matrix,
            assessment,
            failed=judgement.verdict == "fail",
            safety=judgement.is_safety,
        )
        if counts
        else level_before
    )
    values = {
        **inputs,
        "report_number": p["report"].report_number,
        "verdict": judgement.verdict,
        "worst_defect": judgement.worst_defect,
        "failed_items": judgement.failed_items,
        "is_safety": judgement.is_safety,
        **link_values,
        "seller_deadline": ctx.calendar.add_workdays(
            inputs["tested_on"], ctx.rules.seller_workdays
        ),
        "risk_level_before": level_before,
        "risk_level_after": level_after,
        "rules_version": judgement.rules_version,
        "evaluated_at": ctx.now,
    }
    if before is None:
        new_id = conn.execute(
            evaluations.insert().values(**values).returning(evaluations.c.id)
        ).scalar_one()
        return {**values, "id": new_id}
    conn.execute(update(evaluations).where(evaluations.c.id == before["id"]).values(**values))
    return {**values, "id": before["id"]}


def _problem(
    engine: Engine,
    ctx: _Context,
    task_id: str,
    reports: Mapping[str, Report],
    exc: Exception,
) -> None:
    """Record why a task's reports were not evaluated: in the run's report, the log,
    and ``quarantine`` (one row per report, replaced on every run until it clears)."""
    code = {
        OutsideCalendarError: "outside_calendar",
        NoticeError: "notice_error",
        JudgementError: "cannot_judge",
        UnknownTask: "unknown_task",
    }.get(type(exc), "error")
    reason = str(exc)
    log.warning("task %s not evaluated (%s): %s", task_id, code, reason)
    rule = f"evaluate:{code}"
    with engine.begin() as conn:
        for number in sorted(reports):
            ctx.report.problems.append(
                {"task_id": task_id, "report_number": number, "code": code, "reason": reason}
            )
            key = {
                "table_name": "inspection_results",
                "record_key": number[:256],
                "rule": rule,
                "run_id": QUARANTINE_RUN,
            }
            q = quarantine.c
            conn.execute(
                delete(quarantine).where(
                    q.table_name == key["table_name"],
                    q.record_key == key["record_key"],
                    q.run_id == QUARANTINE_RUN,
                    q.rule != rule,
                )
            )
            found = conn.execute(
                select(q.id, q.reason).where(*(q[k] == v for k, v in key.items()))
            ).first()
            if found is None:
                conn.execute(
                    quarantine.insert().values(
                        **key, reason=reason, value=None, payload={"task_id": task_id}
                    )
                )
            elif found.reason != reason:
                conn.execute(update(quarantine).where(q.id == found.id).values(reason=reason))
