"""Write the red and black lists of a day into ``merchant_credit``.

:func:`update_credit` reads the evaluations tested on or before ``as_of`` and the
notifications about failed ones, computes every listing (:mod:`transforms.credit.lists`)
and reconciles the table with it, in one transaction:

- a computed listing is inserted, or updated when anything about it changed (status,
  end, reason, evidence, shop name, rules version); an unchanged row is not touched, so
  its ``computed_at`` says when it last changed;
- a row in force that the computation no longer gives is ended, never deleted: ``lifted``
  (a passing retest cleared its failure, the rules changed, a late report moved it into
  another row) or ``expired`` if its end came first;
- rows already ended, and rows listed after ``as_of`` (written by a run for a later
  day), are left as they are.

The same ``as_of`` on the same data therefore leaves the table exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, or_, select

from ecqm.warehouse.bulk import upsert
from ecqm.warehouse.engine import json_dumps
from ecqm.warehouse.schema import (
    evaluations,
    merchant_credit,
    notification_events,
    notifications,
    sampling_tasks,
    shops,
)
from transforms.credit.lists import Listing, compute_lists, end_stale
from transforms.credit.rules import RULES, CreditRules, load_rules
from transforms.credit.samples import Evaluation, Notice, Sample, ShopKey, samples_as_of

__all__ = ["CreditReport", "update_credit"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATUSES = ("active", "expired", "lifted")
_COMPARED = (
    "shop_id",
    "shop_name",
    "reason",
    "evidence",
    "expires_on",
    "status",
    "rules_version",
)


@dataclass
class CreditReport:
    """What one :func:`update_credit` run found and did."""

    as_of: dt.date
    rules_version: str
    samples: int = 0
    shops: int = 0
    samples_without_shop: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows that became expired or lifted in this run.
    expired: int = 0
    lifted: int = 0
    safety_pending: int = 0
    safety_unnotified: int = 0
    # list → rule → status → rows, over the whole table after the run.
    counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        return out


def update_credit(
    engine: Engine | Connection,
    as_of: dt.date,
    now: dt.datetime,
    *,
    rules: CreditRules | None = None,
) -> CreditReport:
    """Compute the red and black lists as of ``as_of`` and reconcile ``merchant_credit``
    with them. ``now`` (timezone-aware) is stamped on the rows that change."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must carry a time zone")
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a date, got {as_of!r}")
    rules = rules or load_rules()
    if isinstance(engine, Engine):
        with engine.begin() as conn:
            return _update(conn, as_of, now, rules)
    return _update(engine, as_of, now, rules)


def _update(conn: Connection, as_of: dt.date, now: dt.datetime, rules: CreditRules) -> CreditReport:
    evs, shop_info = _read_evaluations(conn, as_of)
    samples = samples_as_of(evs, as_of)
    kinds = rules.rule("unremedied_safety").params["notice_kinds"]
    computed = compute_lists(samples, _read_notices(conn, as_of, kinds), as_of, rules)
    report = CreditReport(
        as_of=as_of,
        rules_version=rules.version,
        samples=len(samples),
        shops=len({s.shop for s in samples}),
        samples_without_shop=len(
            {e.task_id for e in evs if e.shop is None} - {s.task_id for s in samples}
        ),
        safety_pending=computed.safety_pending,
        safety_unnotified=computed.safety_unnotified,
    )
    existing = {_key(r): r for r in conn.execute(select(merchant_credit)).mappings()}
    writes: list[dict[str, Any]] = []

    def consider(old: Mapping[str, Any] | None, row: dict[str, Any]) -> None:
        if old is None:
            report.inserted += 1
        elif _same(old, row):
            report.unchanged += 1
            return
        else:
            report.updated += 1
        if row["status"] != (old or {}).get("status", "active"):
            if row["status"] == "expired":
                report.expired += 1
            elif row["status"] == "lifted":
                report.lifted += 1
        writes.append({**row, "computed_at": now})

    by_shop_listings: dict[ShopKey, list[Listing]] = defaultdict(list)
    for listing in computed.listings:
        by_shop_listings[listing.shop].append(listing)
        shop_id, shop_name = shop_info[listing.shop]
        consider(existing.get(listing.key), _row(listing, shop_id, shop_name, rules.version))

    by_shop_samples: dict[ShopKey, list[Sample]] = defaultdict(list)
    for s in samples:
        by_shop_samples[s.shop].append(s)
    computed_keys = {listing.key for listing in computed.listings}
    for key in sorted(existing, key=repr):
        old = existing[key]
        if key in computed_keys or old["status"] != "active" or old["listed_on"] > as_of:
            continue
        shop = (old["platform"], old["shop_external_id"])
        status, expires_on, reason, evidence = end_stale(
            old, by_shop_listings.get(shop, []), by_shop_samples.get(shop, []), as_of, rules
        )
        row = {c: old[c] for c in _columns()}
        row.update(
            status=status,
            expires_on=expires_on,
            reason=reason,
            evidence=evidence,
            rules_version=rules.version,
        )
        consider(old, row)

    if writes:
        upsert(conn, merchant_credit, writes)
    report.counts = _counts(conn)
    return report


def _read_evaluations(
    conn: Connection, as_of: dt.date
) -> tuple[list[Evaluation], dict[ShopKey, tuple[int, str]]]:
    e, t, s = evaluations.c, sampling_tasks.c, shops.c
    shop_id = func.coalesce(e.shop_id, t.shop_id)
    query = (
        select(
            e.id,
            e.report_number,
            e.task_id,
            e.tested_on,
            e.verdict,
            e.is_safety,
            e.worst_defect,
            e.category_code,
            e.supersedes,
            e.superseded_by,
            s.id.label("shop_id"),
            s.platform,
            s.external_id,
            s.name,
        )
        .select_from(
            evaluations.outerjoin(sampling_tasks, t.task_id == e.task_id).outerjoin(
                shops, s.id == shop_id
            )
        )
        .where(e.tested_on <= as_of)
        .order_by(e.id)
    )
    out, info = [], {}
    for r in conn.execute(query).mappings():
        shop = (r["platform"], r["external_id"]) if r["shop_id"] is not None else None
        if shop is not None:
            info[shop] = (r["shop_id"], r["name"])
        out.append(
            Evaluation(
                id=r["id"],
                report_number=r["report_number"],
                task_id=r["task_id"],
                shop=shop,
                tested_on=r["tested_on"],
                verdict=r["verdict"],
                is_safety=bool(r["is_safety"]),
                worst_defect=r["worst_defect"],
                category_code=r["category_code"],
                supersedes=r["supersedes"],
                superseded_by=r["superseded_by"],
            )
        )
    return out, info


def _read_notices(conn: Connection, as_of: dt.date, kinds: tuple[str, ...]) -> list[Notice]:
    """Notices of the given kinds about failed reports tested by ``as_of``, with every
    acknowledgement they received.

    The acknowledgements come from the notice's ``acknowledged`` events: on the notice
    itself ``acknowledged_at`` is the *earliest* acknowledgement of any kind and
    ``ack_kind`` the *latest* (transforms.notify.acks), so together they would date a
    late remedy by an early receipt. A notice without events (written by other means)
    falls back to its two columns.
    """
    e, n = evaluations.c, notifications.c
    failed = (e.verdict == "fail") & (e.tested_on <= as_of)
    query = (
        select(
            n.id,
            n.evaluation_id,
            n.report_number,
            n.kind,
            n.sent_at,
            n.acknowledged_at,
            n.ack_kind,
        )
        .where(n.kind.in_(kinds))
        .where(
            or_(
                n.report_number.in_(select(e.report_number).where(failed)),
                n.evaluation_id.in_(select(e.id).where(failed)),
            )
        )
        .order_by(n.id)
    )
    rows = conn.execute(query).mappings().all()
    events: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    ev = notification_events.c
    ids = [r["id"] for r in rows]
    for chunk in range(0, len(ids), 500):
        found = conn.execute(
            select(ev.notification_id, ev.detail)
            .where(ev.event == "acknowledged")
            .where(ev.notification_id.in_(ids[chunk : chunk + 500]))
            .order_by(ev.id)
        )
        for notification_id, detail in found:
            ack = _ack_of(detail)
            if ack is not None:
                events[notification_id].append(ack)
    out = []
    for r in rows:
        acks = events.get(r["id"])
        if acks is None and r["acknowledged_at"] is not None and r["ack_kind"]:
            acks = [(_shanghai_date(r["acknowledged_at"]), r["ack_kind"])]
        out.append(
            Notice(
                evaluation_id=r["evaluation_id"],
                report_number=r["report_number"],
                kind=r["kind"],
                sent_on=_shanghai_date(r["sent_at"]),
                acks=tuple(sorted(acks or ())),
            )
        )
    return out


def _ack_of(detail: Any) -> tuple[dt.date, str] | None:
    """(day in Shanghai, kind) of an ``acknowledged`` event's detail, ``None`` if it
    carries no readable kind and time."""
    if not isinstance(detail, Mapping):
        return None
    kind, at = detail.get("kind"), detail.get("at")
    if not isinstance(kind, str) or not isinstance(at, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(SHANGHAI).date(), kind


def _shanghai_date(moment: dt.datetime | None) -> dt.date | None:
    return None if moment is None else moment.astimezone(SHANGHAI).date()


def _columns() -> tuple[str, ...]:
    return tuple(c.name for c in merchant_credit.columns if c.name not in ("id", "computed_at"))


def _key(row: Mapping[str, Any]) -> tuple[str, str, str, str, dt.date]:
    return (
        row["platform"],
        row["shop_external_id"],
        row["list_kind"],
        row["rule_code"],
        row["listed_on"],
    )


def _row(listing: Listing, shop_id: int, shop_name: str, version: str) -> dict[str, Any]:
    return {
        "platform": listing.shop[0],
        "shop_external_id": listing.shop[1],
        "shop_id": shop_id,
        "shop_name": shop_name,
        "list_kind": listing.list_kind,
        "rule_code": listing.rule_code,
        "reason": listing.reason,
        "evidence": dict(listing.evidence),
        "listed_on": listing.listed_on,
        "expires_on": listing.expires_on,
        "status": listing.status,
        "rules_version": version,
    }


def _same(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    for c in _COMPARED:
        a, b = old[c], new[c]
        if c == "evidence":
            a, b = json.loads(json_dumps(a)), json.loads(json_dumps(b))
        if a != b:
            return False
    return True


def _counts(conn: Connection) -> dict[str, dict[str, dict[str, int]]]:
    mc = merchant_credit.c
    out = {
        kind: {
            code: dict.fromkeys(STATUSES, 0)
            for code, spec in RULES.items()
            if spec.list_kind == kind
        }
        for kind in ("black", "red")
    }
    query = select(mc.list_kind, mc.rule_code, mc.status, func.count()).group_by(
        mc.list_kind, mc.rule_code, mc.status
    )
    for kind, code, status, n in conn.execute(query):
        out.setdefault(kind, {}).setdefault(code, dict.fromkeys(STATUSES, 0))[status] = n
    return out
