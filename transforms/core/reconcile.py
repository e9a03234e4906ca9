"""Check a processing run's reconciliation against the tables themselves.

``process_runs`` says, per run and staging table, how many staging rows were taken in
and how many ended in core, merged or quarantined. :func:`reconcile` recounts from
``stg_*``, ``quarantine`` and the core tables without trusting those numbers: every
staging row of the run's id range must be quarantined by that run or have its natural
key in core, and the stored counts must equal the recount.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, select

from ecqm.warehouse.schema import (
    complaints,
    listings,
    process_runs,
    quarantine,
    recalls,
    reviews,
    shops,
    stg_complaints,
    stg_listings,
    stg_recalls,
    stg_reviews,
    stg_shops,
)

_PAIRS: dict[str, tuple[Table, Table, tuple[str, ...]]] = {
    "stg_listings": (stg_listings, listings, ("platform", "external_id")),
    "stg_reviews": (stg_reviews, reviews, ("platform", "external_id")),
    "stg_complaints": (stg_complaints, complaints, ("source", "complaint_number")),
    "stg_recalls": (stg_recalls, recalls, ("source", "recall_number")),
    "stg_shops": (stg_shops, shops, ("platform", "external_id")),
}


@dataclass
class Reconciliation:
    run_id: str
    staging_table: str
    stored: dict[str, int]
    counted: dict[str, int]
    missing: list[int] = field(default_factory=list)  # staging ids with no outcome

    @property
    def ok(self) -> bool:
        return self.stored == self.counted and not self.missing

    def problems(self) -> list[str]:
        out = []
        for k, v in self.counted.items():
            if self.stored.get(k) != v:
                out.append(
                    f"{self.run_id} {self.staging_table}: {k} stored {self.stored.get(k)}, counted {v}"
                )
        if self.missing:
            out.append(
                f"{self.run_id} {self.staging_table}: {len(self.missing)} staging rows with no "
                f"core row and no quarantine row (ids {self.missing[:10]})"
            )
        return out


def reconcile(conn: Connection, run_id: str) -> list[Reconciliation]:
    """Recount every staging table the run took rows from."""
    out = []
    runs = conn.execute(select(process_runs).where(process_runs.c.run_id == run_id)).mappings()
    for run in runs:
        stg, core, key = _PAIRS[run["staging_table"]]
        lo, hi = run["first_staging_id"], run["last_staging_id"]
        rows = conn.execute(
            select(stg.c.id, *[stg.c[k] for k in key]).where(stg.c.id.between(lo, hi))
        ).all()
        prefix = f"{stg.name}:"
        quarantined = {
            int(k[len(prefix) :])
            for k in conn.execute(
                select(quarantine.c.record_key).where(
                    quarantine.c.run_id == run_id, quarantine.c.record_key.startswith(prefix)
                )
            ).scalars()
        }
        quarantined &= {r[0] for r in rows}
        in_core = {tuple(r) for r in conn.execute(select(*[core.c[k] for k in key]))}
        kept = [r for r in rows if r[0] not in quarantined]
        missing = [r[0] for r in kept if tuple(r[1:]) not in in_core]
        distinct = len({tuple(r[1:]) for r in kept})
        counted = {
            "rows_in": len(rows),
            "quarantined": len(quarantined),
            "to_core": distinct,
            "merged": len(kept) - distinct,
        }
        stored = {k: run[k] for k in counted}
        out.append(Reconciliation(run_id, stg.name, stored, counted, missing))
    return out
