"""The red and black lists from samples: pure functions of the samples known on a day,
the notifications about them and the rules. No database, no clock.

Every listing is an interval of days: in force from ``listed_on`` up to, not including,
``expires_on`` (``None``: until an event ends it). A listing that ended early is
``lifted`` and its ``expires_on`` becomes the day it ended; the end it was scheduled for
stays in the evidence. One that ran its course is ``expired``.

The history is rebuilt from the first sample every time, so the lists of a day do not
depend on which days were computed before. See docs/credit.md for the rules.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from transforms.credit.rules import ACK_ZH, LISTS, CreditRules, Rule, date_zh
from transforms.credit.samples import DEFECT_ZH, Notice, Sample, ShopKey, add_months

__all__ = ["Computed", "Listing", "compute_lists", "end_stale"]

_DAY = dt.timedelta(days=1)
_REPORTS_SHOWN = 10  # in a reason; the evidence keeps every report


@dataclass(frozen=True)
class Listing:
    """One merchant_credit row as computed (without the shop's id and name)."""

    shop: ShopKey
    list_kind: str
    rule_code: str
    listed_on: dt.date
    expires_on: dt.date | None
    status: str
    reason: str
    evidence: Mapping[str, Any]

    @property
    def key(self) -> tuple[str, str, str, str, dt.date]:
        return (*self.shop, self.list_kind, self.rule_code, self.listed_on)


@dataclass
class Computed:
    """Everything computed for a day: the listings and what did not (yet) list a shop."""

    listings: list[Listing] = field(default_factory=list)
    samples: int = 0
    safety_pending: int = 0  # safety failures still inside their remedy period
    safety_unnotified: int = 0  # safety failures whose shop was not notified yet


def compute_lists(
    samples: Sequence[Sample],
    notices: Iterable[Notice],
    as_of: dt.date,
    rules: CreditRules,
) -> Computed:
    """The listings of every shop as of ``as_of`` (black rules first: the red rule needs
    to know when a shop was black)."""
    by_shop: dict[ShopKey, list[Sample]] = defaultdict(list)
    for s in samples:
        by_shop[s.shop].append(s)
    notices_of = _notices_by_report(notices)
    out = Computed(samples=len(samples))
    for shop in sorted(by_shop):
        shop_samples = sorted(by_shop[shop], key=lambda s: (s.dated, s.task_id))
        black: list[Listing] = []
        rule = rules.rule("repeat_failure")
        if rule.enabled:
            black += _repeat_failure(shop, shop_samples, as_of, rule, rules)
        rule = rules.rule("unremedied_safety")
        if rule.enabled:
            listed, pending, unnotified = _unremedied_safety(
                shop, shop_samples, notices_of, as_of, rule, rules
            )
            black += listed
            out.safety_pending += pending
            out.safety_unnotified += unnotified
        red: list[Listing] = []
        rule = rules.rule("clean_record")
        if rule.enabled:
            red = _clean_record(shop, shop_samples, black, as_of, rule, rules)
        out.listings += black + red
    return out


# ------------------------------------------------------------------------ black lists


def _repeat_failure(
    shop: ShopKey, samples: list[Sample], as_of: dt.date, rule: Rule, rules: CreditRules
) -> list[Listing]:
    p = rule.params
    failures = [s for s in samples if s.failed]
    # (listed on, failures in the window that listed it, all its failures, end)
    episodes: list[tuple[dt.date, int, list[Sample], dt.date]] = []
    for i, f in enumerate(failures):
        if episodes and f.dated < episodes[-1][3]:
            # Failing again while listed keeps the shop listed, counted from this failure.
            listed_on, in_window, members, ends = episodes[-1]
            ends = max(ends, add_months(f.dated, p["listing_months"]))
            episodes[-1] = (listed_on, in_window, [*members, f], ends)
            continue
        since = add_months(f.dated, -p["window_months"])
        window = [g for g in failures[: i + 1] if g.dated >= since]
        if len(window) >= p["min_failures"]:
            ends = add_months(f.dated, p["listing_months"])
            episodes.append((f.dated, len(window), window, ends))
    out = []
    for listed_on, in_window, members, expires_on in episodes:
        evidence = _evidence(rule, rules, members, params=p)
        reason = rules.reason(
            rule.code,
            {
                "listed_on": listed_on,
                "expires_on": expires_on,
                "window_count": in_window,
                "count": len(members),
                "reports": _reports_zh(members),
                "first_failed_on": members[0].dated,
                "last_failed_on": members[-1].dated,
            },
        )
        status = "active" if as_of < expires_on else "expired"
        out.append(
            Listing(shop, "black", rule.code, listed_on, expires_on, status, reason, evidence)
        )
    return out


def _unremedied_safety(
    shop: ShopKey,
    samples: list[Sample],
    notices_of: Mapping[str | int, list[Notice]],
    as_of: dt.date,
    rule: Rule,
    rules: CreditRules,
) -> tuple[list[Listing], int, int]:
    p = rule.params
    pending = unnotified = 0
    late: dict[dt.date, list[tuple[Sample, dict[str, Any]]]] = defaultdict(list)
    for s in samples:
        if not (s.failed and s.current.is_safety):
            continue
        notices = _notices_of(s, notices_of, p["notice_kinds"])
        sent = [n.sent_on for n in notices if n.sent_on is not None and n.sent_on <= as_of]
        if not sent:
            unnotified += 1
            continue
        notified_on = min(sent)
        deadline = notified_on + dt.timedelta(days=p["remedy_days"])
        acks = sorted(
            (day, kind)
            for n in notices
            for day, kind in n.acks
            if kind in p["remedy_acks"] and day <= as_of
        )
        remedy = acks[0] if acks else None
        if remedy is not None and remedy[0] <= deadline:
            continue
        if as_of <= deadline:
            pending += 1
            continue
        facts = {
            "notified_on": notified_on.isoformat(),
            "remedy_deadline": deadline.isoformat(),
            "remedied_on": remedy[0].isoformat() if remedy else None,
            "remedy_ack": remedy[1] if remedy else None,
        }
        late[deadline + _DAY].append((s, facts))
    out = []
    for listed_on, cases in sorted(late.items()):
        members = [s for s, _ in cases]
        evidence = _evidence(rule, rules, members, params=p, extra=[f for _, f in cases])
        reason = rules.reason(
            rule.code,
            {
                "listed_on": listed_on,
                "expires_on": None,
                "count": len(members),
                "reports": _reports_zh(members),
                "report_number": [s.current.report_number for s in members],
                "tested_on": sorted({s.dated for s in members}),
                "defect": sorted({_defect_zh(s) for s in members}),
                "notified_on": sorted({dt.date.fromisoformat(f["notified_on"]) for _, f in cases}),
                "deadline": listed_on - _DAY,
            },
        )
        listing = Listing(shop, "black", rule.code, listed_on, None, "active", reason, evidence)
        remedies = [f["remedied_on"] for _, f in cases]
        if all(remedies):
            # Lifted when the last of its failures is remedied.
            last = max(range(len(cases)), key=lambda i: (remedies[i], i))
            ack = cases[last][1]["remedy_ack"]
            listing = _ended(
                listing,
                "remedied",
                dt.date.fromisoformat(remedies[last]),
                rules,
                lifted_by=ack,
                ack=ACK_ZH.get(ack, ack),
            )
        out.append(listing)
    return out, pending, unnotified


# -------------------------------------------------------------------------- red list


def _clean_record(
    shop: ShopKey,
    samples: list[Sample],
    black: list[Listing],
    as_of: dt.date,
    rule: Rule,
    rules: CreditRules,
) -> list[Listing]:
    p = rule.params
    passes = [s for s in samples if not s.failed]
    failures = [s for s in samples if s.failed]
    spans = [(b.listed_on, b.expires_on) for b in black]

    def is_black(day: dt.date) -> bool:
        return any(start <= day and (end is None or day < end) for start, end in spans)

    def in_window(day: dt.date) -> list[Sample]:
        since = add_months(day, -p["window_months"])
        return [s for s in passes if since <= s.dated <= day]

    def failure_free(day: dt.date) -> bool:
        since = add_months(day, -p["failure_free_months"])
        return not any(since <= f.dated <= day for f in failures)

    def met(day: dt.date) -> bool:
        return len(in_window(day)) >= p["min_samples"] and failure_free(day) and not is_black(day)

    # The condition can only start to hold on a pass, on the day a failure leaves its
    # window, or when a black listing ends; it stops on a failure or a black listing.
    days = {s.dated for s in passes} | {f.dated for f in failures}
    days |= {_after_window(f.dated, p["failure_free_months"]) for f in failures}
    days |= {d for start, end in spans for d in (start, end) if d is not None}
    heap = sorted(d for d in days if d <= as_of)  # a sorted list is a heap
    out: list[Listing] = []
    current: Listing | None = None
    seen: set[dt.date] = set()
    while heap:
        day = heapq.heappop(heap)
        if day in seen:
            continue
        seen.add(day)
        if current is not None and current.expires_on is not None and day >= current.expires_on:
            out.append(replace(current, status="expired"))
            current = None
        if current is not None:
            failed = [f for f in failures if current.listed_on <= f.dated <= day]
            if failed:
                first = failed[0]
                out.append(
                    _ended(
                        current,
                        "failure",
                        first.dated,
                        rules,
                        lifted_by=first.current.report_number,
                    )
                )
                current = None
            elif is_black(day):
                out.append(_ended(current, "blacklisted", day, rules, lifted_by=None))
                current = None
        if current is None and met(day):
            members = in_window(day)
            expires_on = add_months(day, p["listing_months"])
            reason = rules.reason(
                rule.code,
                {
                    "listed_on": day,
                    "expires_on": expires_on,
                    "count": len(members),
                    "reports": _reports_zh(members),
                    "first_tested_on": members[0].dated,
                    "last_tested_on": members[-1].dated,
                },
            )
            evidence = _evidence(rule, rules, members, params=p)
            current = Listing(shop, "red", rule.code, day, expires_on, "active", reason, evidence)
            if expires_on <= as_of:
                heapq.heappush(heap, expires_on)
    if current is not None:
        out.append(current)
    return out


def _after_window(day: dt.date, months: int) -> dt.date:
    """The first day whose window of ``months`` back no longer reaches ``day``."""
    d = add_months(day, months) + _DAY
    while add_months(d, -months) <= day:
        d += _DAY
    return d


# ------------------------------------------------------------- rows no longer computed


def end_stale(
    row: Mapping[str, Any],
    computed: Sequence[Listing],
    samples: Sequence[Sample],
    as_of: dt.date,
    rules: CreditRules,
) -> tuple[str, dt.date | None, str, dict[str, Any]]:
    """A listing in force that today's computation no longer gives (a retest cleared a
    failure, a late report moved the dates, the rules changed): its new status,
    expires_on, reason and evidence. ``computed``: today's listings of the same shop;
    ``samples``: today's samples of the shop."""
    listed_on: dt.date = row["listed_on"]
    same = [
        c
        for c in computed
        if c.list_kind == row["list_kind"]
        and c.rule_code == row["rule_code"]
        and c.listed_on <= listed_on
        and (c.expires_on is None or listed_on < c.expires_on)
    ]
    kind, lifted_on, lifted_by = _why_stale(row, same, samples, as_of, rules)
    expires_on = row["expires_on"]
    if kind != "merged" and expires_on is not None and expires_on <= lifted_on:
        return "expired", expires_on, row["reason"], dict(row["evidence"])
    stored = Listing(
        shop=(row["platform"], row["shop_external_id"]),
        list_kind=row["list_kind"],
        rule_code=row["rule_code"],
        listed_on=listed_on,
        expires_on=expires_on,
        status=row["status"],
        reason=row["reason"],
        evidence=row["evidence"],
    )
    ended = _ended(stored, kind, lifted_on, rules, lifted_by=lifted_by)
    return ended.status, ended.expires_on, ended.reason, dict(ended.evidence)


def _why_stale(
    row: Mapping[str, Any],
    same: list[Listing],
    samples: Sequence[Sample],
    as_of: dt.date,
    rules: CreditRules,
) -> tuple[str, dt.date, str | None]:
    listed_on: dt.date = row["listed_on"]
    if same:
        # The same listing, dated differently now (a report arrived late): one record.
        return "merged", listed_on, date_zh(same[0].listed_on)
    by_task = {s.task_id: s for s in samples}
    if row["list_kind"] == "black":
        cleared = []
        for entry in row["evidence"].get("reports") or []:
            s = by_task.get(entry.get("task_id"))
            numbers = set(entry.get("reports") or [entry.get("report_number")])
            if s is not None and not s.failed and numbers & {c.report_number for c in s.cleared}:
                cleared.append((s.dated, s.current.report_number))
        if cleared:
            day, report = min(cleared)
            return "cleared_by_retest", max(day, listed_on), report
    else:
        months = rules.rule("clean_record").params["failure_free_months"]
        since = add_months(listed_on, -months)
        failed = sorted(
            (s.dated, s.current.report_number) for s in samples if s.failed and s.dated >= since
        )
        if failed:
            return "failure", max(failed[0][0], listed_on), failed[0][1]
    return "no_longer_met", as_of, None


# -------------------------------------------------------------------------- helpers


def _ended(
    listing: Listing,
    kind: str,
    lifted_on: dt.date,
    rules: CreditRules,
    *,
    lifted_by: str | None,
    ack: str | None = None,
) -> Listing:
    evidence = dict(listing.evidence)
    evidence.update(
        {
            "lifted_on": lifted_on.isoformat(),
            "lifted_because": kind,
            "lifted_by": lifted_by,
            "scheduled_expires_on": listing.expires_on.isoformat() if listing.expires_on else None,
        }
    )
    sentence = rules.ending(
        kind,
        {
            "lifted_on": lifted_on,
            "lifted_by": lifted_by,
            "list_zh": LISTS[listing.list_kind],
            "ack": ack,
        },
    )
    return replace(
        listing,
        status="lifted",
        expires_on=lifted_on,
        reason=f"{listing.reason}{sentence}",
        evidence=evidence,
    )


def _evidence(
    rule: Rule,
    rules: CreditRules,
    members: Sequence[Sample],
    *,
    params: Mapping[str, Any],
    extra: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    reports = []
    for i, s in enumerate(members):
        entry: dict[str, Any] = {
            "task_id": s.task_id,
            "report_number": s.current.report_number,
            "tested_on": s.current.tested_on.isoformat(),
            "verdict": s.verdict,
            "category_code": s.current.category_code,
        }
        if s.failed:
            entry.update(
                {
                    "found_on": s.dated.isoformat(),
                    "reports": list(s.report_numbers),
                    "worst_defect": s.current.worst_defect,
                    "is_safety": s.current.is_safety,
                }
            )
        if extra is not None:
            entry.update(extra[i])
        reports.append(entry)
    return {
        "rule": rule.code,
        "rule_zh": rule.title_zh,
        "list_zh": LISTS[rule.list_kind],
        "report_count": len(reports),
        "reports": reports,
        "params": _plain(params),
    }


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(params.items())}


def _defect_zh(s: Sample) -> str:
    label = DEFECT_ZH.get(s.current.worst_defect or "", "不合格")
    return f"{label}，涉及安全" if s.current.is_safety else label


def _reports_zh(members: Sequence[Sample]) -> str:
    parts = []
    for s in members[:_REPORTS_SHOWN]:
        if s.failed:
            text = f"{date_zh(s.dated)}报告{s.run[0].report_number}（{_defect_zh(s)}"
            if len(s.run) > 1:
                text += f"，复检报告{s.current.report_number}维持"
            parts.append(text + "）")
        else:
            parts.append(f"{date_zh(s.dated)}报告{s.current.report_number}")
    more = len(members) - _REPORTS_SHOWN
    return "；".join(parts) + (f"等{len(members)}份" if more > 0 else "")


def _notices_by_report(notices: Iterable[Notice]) -> dict[str | int, list[Notice]]:
    out: dict[str | int, list[Notice]] = defaultdict(list)
    for n in notices:
        if n.report_number:
            out["r:" + n.report_number].append(n)
        elif n.evaluation_id is not None:
            out[n.evaluation_id].append(n)
    return out


def _notices_of(
    s: Sample, notices_of: Mapping[str | int, list[Notice]], kinds: Sequence[str]
) -> list[Notice]:
    found = []
    for e in s.run:
        found += notices_of.get("r:" + e.report_number, [])
        found += notices_of.get(e.id, [])
    return [n for n in found if n.kind in kinds]
