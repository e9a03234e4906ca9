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

BATCH = 50_000  # staging rows recounted at a time
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
    for run in runs.all():
        stg, core, key = _PAIRS[run["staging_table"]]
        prefix = f"{stg.name}:"
        quarantined = {
            int(k[len(prefix) :])
            for k in conn.execute(
                select(quarantine.c.record_key).where(
                    quarantine.c.run_id == run_id, quarantine.c.record_key.startswith(prefix)
                )
            ).scalars()
        }
        counted, missing = _recount(
            conn, stg, core, key, run["first_staging_id"], run["last_staging_id"], quarantined
        )
        stored = {k: run[k] for k in counted}
        out.append(Reconciliation(run_id, stg.name, stored, counted, missing))
    return out


def _recount(
    conn: Connection,
    stg: Table,
    core: Table,
    key: tuple[str, ...],
    lo: int,
    hi: int,
    quarantined: set[int],
) -> tuple[dict[str, int], list[int]]:
    """Counts of staging rows ``lo..hi``, and the ids of kept rows whose key is not in core.

    The rows are read in natural-key order, :data:`BATCH` at a time, so a key's versions
    arrive together and are counted as one without a set of every key; which keys core
    holds is asked per batch. Memory stays flat however large the run.
    """
    from transforms.core.pipeline import _by_key

    key_cols = [stg.c[k] for k in key]
    query = (
        select(stg.c.id, *key_cols)
        .where(stg.c.id.between(lo, hi))
        .order_by(*key_cols, stg.c.id)
        .execution_options(yield_per=BATCH)
    )
    rows_in = dropped = kept = distinct = 0
    missing: list[int] = []
    previous: tuple | None = None
    for part in conn.execute(query).partitions():
        rows_in += len(part)
        keep = [(r[0], tuple(r[1:])) for r in part if r[0] not in quarantined]
        dropped += len(part) - len(keep)
        kept += len(keep)
        for _, k in keep:
            if previous is None or k != previous:
                distinct += 1
                previous = k
        wanted = {k for _, k in keep}
        present: set[tuple] = set()
        for cond in _by_key(core, key, wanted):
            present.update(
                tuple(r) for r in conn.execute(select(*[core.c[c] for c in key]).where(cond))
            )
        missing += [i for i, k in keep if k not in present]
    counted = {
        "rows_in": rows_in,
        "quarantined": dropped,
        "to_core": distinct,
        "merged": kept - distinct,
    }
    return counted, sorted(missing)
