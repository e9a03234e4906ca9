"""Staging → core: the ``process_staging`` run.

Each staging table is read from its watermark (the last staging row id already taken
into core) up to the highest id present when the run starts, in id order and in chunks
of bounded size, so memory stays flat however much arrived. A chunk is one
transaction: its core rows, its quarantine rows, the advanced watermark and the run's
reconciliation counts commit together, so an interrupted run resumes where it stopped
and a finished one, run again, finds nothing to do.

Every staging row taken in ends as exactly one of

* **core** — the newest version of its natural key in the run (the core row holds it,
  or an even newer version already there);
* **merged** — an older version of a key whose newer version is in this run (listing
  versions stay as ``listing_snapshots``; CPSC's CSV and JSON copies of one recall are
  folded into one row);
* **quarantined** — a value could not be read, or a data-quality rule refused the row.

``process_runs`` stores the counts per run and staging table; ``balanced`` says they
add up, and :func:`reconcile` checks them against the tables themselves.

Versions are ordered by (fetch time, staging id) and the newest wins whatever the
chunking, so a rebuild from staging (:func:`rebuild_core`) gives the same tables as
the incremental runs did.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy import text as sql

from ecqm.warehouse.bulk import RejectedRow, upsert
from ecqm.warehouse.engine import database_identity
from ecqm.warehouse.schema import (
    complaints,
    dq_results,
    listing_snapshots,
    listings,
    process_runs,
    process_watermarks,
    products,
    quarantine,
    recalls,
    ref_categories,
    ref_regions,
    reviews,
    shops,
    stg_complaints,
    stg_listings,
    stg_recalls,
    stg_reviews,
    stg_shops,
)
from transforms.core import records
from transforms.core.records import RecordError, Toolkit

log = logging.getLogger(__name__)

CHUNK_ROWS = 20_000
KEY_BATCH = 2_000
MAX_QUARANTINE_SHARE = 0.5
MIN_ROWS_FOR_SHARE = 20
# A core table is analyzed during a run once this many rows plus this share of its rows
# changed since its last analyze (see _Statistics).
ANALYZE_ROWS = 1_000
ANALYZE_SHARE = 1.0
CORE_OF = {
    "stg_listings": listings,
    "stg_reviews": reviews,
    "stg_complaints": complaints,
    "stg_recalls": recalls,
    "stg_shops": shops,
}
# Tables whose quarantine rows this stage writes (and a rebuild clears).
STAGE_TABLES = (
    "shops",
    "products",
    "listings",
    "listing_snapshots",
    "reviews",
    "complaints",
    "recalls",
)


class TableBreakage(RuntimeError):
    """A whole table looks broken (most rows refused, volume collapsed): the run's rows
    are kept and quarantined as usual, then the run fails so that a person looks."""


# ------------------------------------------------------------------------ reporting


@dataclass
class TableReport:
    staging_table: str
    first_staging_id: int | None = None
    last_staging_id: int | None = None
    rows_in: int = 0
    to_core: int = 0
    merged: int = 0
    quarantined: int = 0
    core_inserted: int = 0
    core_updated: int = 0

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.to_core + self.merged + self.quarantined

    def add(self, other: TableReport) -> None:
        if other.rows_in == 0:
            return
        if self.first_staging_id is None:
            self.first_staging_id = other.first_staging_id
        self.last_staging_id = other.last_staging_id
        for name in (
            "rows_in",
            "to_core",
            "merged",
            "quarantined",
            "core_inserted",
            "core_updated",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows_in": self.rows_in,
            "to_core": self.to_core,
            "merged": self.merged,
            "quarantined": self.quarantined,
            "core_inserted": self.core_inserted,
            "core_updated": self.core_updated,
            "balanced": self.balanced,
        }


@dataclass
class ProcessReport:
    run_id: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    core_counts: dict[str, int] = field(default_factory=dict)
    spam_flagged: int = 0
    spam_changed: int = 0
    dq_failures: int = 0
    data_docs: str | None = None
    breakage: list[str] = field(default_factory=list)
    analyzed: list[str] = field(default_factory=list)  # core tables analyzed, in order

    @property
    def rows_in(self) -> int:
        return sum(t.rows_in for t in self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "rows_in": self.rows_in,
            "tables": {k: v.as_dict() for k, v in self.tables.items()},
            "core_counts": self.core_counts,
            "spam_flagged": self.spam_flagged,
            "spam_changed": self.spam_changed,
            "dq_failures": self.dq_failures,
            "data_docs": self.data_docs,
            "breakage": self.breakage,
            "analyzed": self.analyzed,
        }


@dataclass
class ChunkResult:
    report: TableReport
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    # Natural keys of the rows offered to the upsert that were in core before the chunk.
    rewritten: list[tuple] = field(default_factory=list)


# ------------------------------------------------------------------------- services


class Services:
    """The run's helpers: category mapping, product resolution, review clusters, data
    quality, built once per run (their imports are heavy and stay out of DAG files)."""

    def __init__(self, conn: Connection, *, salt: bytes, run_id: str) -> None:
        from transforms.categories import CategoryMapper
        from transforms.core.links import ListingUrls
        from transforms.core.regions import RegionIndex

        self.run_id = run_id
        self.categories = CategoryMapper()
        self._category_cache: dict[tuple, tuple[str | None, str | None, float]] = {}
        self.urls = ListingUrls.from_profiles()
        self.category_codes = set(conn.execute(select(ref_categories.c.code)).scalars())
        self.regions = RegionIndex(
            conn.execute(select(ref_regions).where(ref_regions.c.is_active.is_(True))).mappings()
        )
        self.kit = Toolkit(
            salt=salt,
            categorise=self._categorise,
            listing_of_url=self.urls.match,
            region_of=self.regions.code_of,
        )
        self.resolver = _load_resolver(conn)
        self.product_seen: dict[str, tuple[dt.datetime, dt.datetime]] = {}
        self.quality = Quality(run_id, self.category_codes, self.urls.platforms())

    def _categorise(
        self, path: Sequence[str], title: str | None
    ) -> tuple[str | None, str | None, float]:
        key = (tuple(path), title)
        if key not in self._category_cache:
            self.prime_categories([key])
        return self._category_cache[key]

    def prime_categories(self, pairs: Sequence[tuple[tuple[str, ...], str | None]]) -> None:
        """Map a chunk's listings in one batch (the classifier is vectorised)."""
        todo = list(dict.fromkeys(k for k in pairs if k not in self._category_cache))
        if len(self._category_cache) > 200_000:
            self._category_cache.clear()
        for k, m in zip(todo, self.categories.map_many([(list(p), t) for p, t in todo])):
            self._category_cache[k] = (m.code, m.method, m.confidence)


def _load_resolver(conn: Connection) -> Any:
    from transforms.resolve import ProductResolver

    rows = conn.execute(
        select(products.c.product_key, products.c.attributes).order_by(products.c.id)
    ).all()
    return ProductResolver.from_states(
        (key, (attrs or {}).get("resolver") or {}) for key, attrs in rows
    )


class Quality:
    """Data-quality rules per core table, results gathered over the run's chunks."""

    def __init__(self, run_id: str, category_codes: set[str], platforms: set[str]) -> None:
        self.run_id = run_id
        self.reference = {"category_code": category_codes, "platform": platforms}
        self.results: dict[str, list[list[dict[str, Any]]]] = defaultdict(list)
        # Table-level checks made by the pipeline itself (row counts against the last
        # run): stored with the rest, not rendered as GX expectations.
        self.table_results: list[list[dict[str, Any]]] = []
        self.failures = 0

    def check(
        self, table: str, rows: list[dict[str, Any]], key_columns: Sequence[str]
    ) -> dict[str, list[Any]]:
        """Validate ``rows`` (dicts for ``table``); return failures by row key."""
        if not rows:
            return {}
        import pandas as pd

        from transforms.quality import validate_rows

        frame = pd.DataFrame.from_records(rows)
        outcome = validate_rows(
            table, frame, key_columns=key_columns, run_id=self.run_id, reference=self.reference
        )
        self.results[table].append(outcome.results)
        by_key: dict[str, list[Any]] = defaultdict(list)
        for f in outcome.failures:
            by_key[f.key].append(f)
        self.failures += len(outcome.failures)
        return by_key

    def combined(self) -> dict[str, list[dict[str, Any]]]:
        from transforms.quality import combine_results

        return {
            t: combine_results(r for chunk in chunks for r in chunk)
            for t, chunks in self.results.items()
        }


# ------------------------------------------------------------------------ quarantine


def _q(
    core_table: str,
    staging_table: str,
    staging_id: int,
    rule: str,
    reason: str,
    value: Any,
    run_id: str,
    natural: str | None = None,
) -> dict[str, Any]:
    shown = None if value is None else str(value)[:2000]
    return {
        "table_name": core_table,
        "record_key": f"{staging_table}:{staging_id}",
        "rule": rule[:128],
        "run_id": run_id,
        "reason": reason,
        "value": shown,
        "payload": {"staging_table": staging_table, "staging_id": staging_id, "key": natural},
    }


def _scrub_quarantine(rows: list[dict[str, Any]], salt: bytes) -> None:
    """A refused value can be personal data (a malformed phone field): quarantine keeps
    the reason and the value a person needs to fix the source, never the person."""
    from transforms.pii import scrub_text

    for q in rows:
        for k in ("value", "reason"):
            if q[k]:
                q[k] = scrub_text(q[k], salt=salt).text


def _as_record_error(exc: Exception) -> RecordError:
    """A builder's own refusal as it is; anything else (a payload shaped in a way no
    builder expects: a list where text belongs) named by its type, as a refusal."""
    if isinstance(exc, RecordError):
        return exc
    return RecordError(
        "payload", None, f"unexpected {type(exc).__name__}: {exc}", rule="normalise:unexpected"
    )


def _q_error(core: str, stg: str, row: Mapping[str, Any], exc: RecordError, run_id: str):
    return _q(core, stg, row["id"], exc.rule, f"{stg} id {row['id']}: {exc}", exc.value, run_id)


def _q_dq(core: str, stg: str, staging_id: int, failure: Any, run_id: str, natural: str):
    return _q(core, stg, staging_id, failure.rule, failure.reason, failure.value, run_id, natural)


def _q_reject(core: str, stg: str, staging_id: int, rej: RejectedRow, run_id: str, natural: str):
    return _q(
        core,
        stg,
        staging_id,
        f"load:{rej.column or 'row'}",
        f"{stg} id {staging_id}: {rej.reason}",
        rej.row.get(rej.column) if rej.column else None,
        run_id,
        natural,
    )


# ------------------------------------------------------------------------ utilities


def _version(row: Mapping[str, Any], at: str) -> tuple[dt.datetime, int]:
    return (row[at], row["staging_id"] or 0)


def _by_key(
    table: Table, key: Sequence[str], keys: Iterable[tuple]
) -> Iterator[ColumnElement[bool]]:
    """Conditions selecting the rows of ``keys`` (natural-key tuples) through the key's
    unique index, at most :data:`KEY_BATCH` keys each.

    SQLite answers ``(a, b) IN (VALUES ...)`` by scanning the whole index, once per
    batch, so the cost of a chunk would grow with the table; keys grouped by their
    leading columns and asked as ``a = ? AND b IN (...)`` are looked up instead. A key
    with a missing part matches nothing, as in a row-value comparison.
    """
    cols = [table.c[k] for k in key]
    groups: dict[tuple, list[Any]] = defaultdict(list)
    for k in dict.fromkeys(keys):
        if all(v is not None for v in k):
            groups[k[:-1]].append(k[-1])
    for prefix, lasts in groups.items():
        head = [c == v for c, v in zip(cols, prefix)]
        for i in range(0, len(lasts), KEY_BATCH):
            yield and_(*head, cols[-1].in_(lasts[i : i + KEY_BATCH]))


def _existing(
    conn: Connection, table: Table, key: Sequence[str], keys: Iterable[tuple], columns=None
) -> dict[tuple, dict[str, Any]]:
    """Current core rows for ``keys``, by key, fetched in batches."""
    cols = [table.c[c] for c in columns] if columns else list(table.c)
    out: dict[tuple, dict[str, Any]] = {}
    for cond in _by_key(table, key, keys):
        result = conn.execute(select(*cols).where(cond))
        names = list(result.keys())
        at = [names.index(k) for k in key]
        for values in result:
            out[tuple(values[i] for i in at)] = dict(zip(names, values))
    return out


def _ids(
    conn: Connection, table: Table, key: Sequence[str], keys: Iterable[tuple]
) -> dict[tuple, int]:
    found = _existing(conn, table, key, keys, columns=[*key, "id"])
    return {k: v["id"] for k, v in found.items()}


def _key_order(row: Mapping[str, Any], key: Sequence[str]) -> tuple[str, ...]:
    """Rows are written in natural-key order, so new rows take their ids in an order
    that does not depend on when their pages happened to be fetched."""
    return tuple("" if row[c] is None else str(row[c]) for c in key)


def _key_text(key: tuple) -> str:
    return "|".join("" if k is None else str(k) for k in key)


# -------------------------------------------------------------------------- listings


def _listings_chunk(conn: Connection, rows: list[dict], sv: Services) -> ChunkResult:
    stg, run_id = "stg_listings", sv.run_id
    res = ChunkResult(TableReport(stg))
    parts: list[tuple[dict, records.ListingParts]] = []
    sv.prime_categories([x for x in map(_category_inputs, rows) if x is not None])
    for row in rows:
        try:
            parts.append((row, records.listing_parts(row, sv.kit)))
        except Exception as exc:  # noqa: BLE001 — one bad record never fails the run
            res.quarantine.append(_q_error("listings", stg, row, _as_record_error(exc), run_id))
    # Data quality on each version (snapshot and listing fields) before anything is written.
    bad: set[int] = set()
    # Listing ids do not exist yet: each listing gets a stand-in number for the checks,
    # so "one snapshot per listing and time" is still checked within the chunk.
    stand_in: dict[tuple, int] = {}
    snap_rows = [
        {
            **p.snapshot,
            "listing_id": stand_in.setdefault((r["platform"], r["external_id"]), len(stand_in) + 1),
            "staging_id": r["id"],
        }
        for r, p in parts
    ]
    for key, fails in sv.quality.check("listing_snapshots", snap_rows, ["staging_id"]).items():
        sid = int(key)
        bad.add(sid)
        res.quarantine.extend(_q_dq("listing_snapshots", stg, sid, f, run_id, key) for f in fails)
    # The listing as it will stand (the newest surviving version of each key) is
    # checked once; when it fails, every version of it in the chunk is quarantined.
    survivors = [(r, p) for r, p in parts if r["id"] not in bad]
    newest_version: dict[tuple, dict] = {}
    for _, p in survivors:
        li = p.listing
        k = (li["platform"], li["external_id"])
        if k not in newest_version or _version(li, "last_seen_at") >= _version(
            newest_version[k], "last_seen_at"
        ):
            newest_version[k] = li
    failing = sv.quality.check(
        "listings", [_flat(x) for x in newest_version.values()], ["platform", "external_id"]
    )
    for r, _ in survivors:
        k = _key_text((r["platform"], r["external_id"]))
        if k in failing:
            bad.add(r["id"])
            res.quarantine.extend(_q_dq("listings", stg, r["id"], f, run_id, k) for f in failing[k])
    parts = [(r, p) for r, p in parts if r["id"] not in bad]

    # Products: resolve each surviving version in staging order.
    from transforms.resolve import ListingFacts

    touched_products: set[str] = set()
    for _, p in parts:
        li = p.listing
        facts = ListingFacts(
            platform=li["platform"],
            external_id=li["external_id"],
            title=li["title"],
            brand=li["brand"],
            model=li["model"],
            gtin=li["gtin"],
            category_code=li["category_code"],
            producer=li["producer_name"],
        )
        key = sv.resolver.resolve(facts).product_key
        li["_product_key"] = key
        touched_products.add(key)
        seen = sv.product_seen.get(key)
        t = li["last_seen_at"]
        sv.product_seen[key] = (min(seen[0], t), max(seen[1], t)) if seen else (t, t)
    product_ids = _write_products(conn, sv, touched_products)

    # Shops: first and last seen over all versions, the newest version's name.
    shop_rows: dict[tuple, dict] = {}
    for _, p in parts:
        s = p.shop
        if not s:
            continue
        k = (s["platform"], s["external_id"])
        cur = shop_rows.get(k)
        if cur is None:
            shop_rows[k] = dict(s)
        else:
            cur["first_seen_at"] = min(cur["first_seen_at"], s["first_seen_at"])
            if s["last_seen_at"] >= cur["last_seen_at"]:
                cur["name"], cur["last_seen_at"] = s["name"], s["last_seen_at"]
    old_shops = _existing(conn, shops, ("platform", "external_id"), shop_rows)
    for k, s in shop_rows.items():
        old = old_shops.get(k)
        if old:
            s["first_seen_at"] = min(s["first_seen_at"], old["first_seen_at"])
            if old["last_seen_at"] > s["last_seen_at"]:
                s["name"], s["last_seen_at"] = old["name"], old["last_seen_at"]
    upsert(conn, shops, list(shop_rows.values()))
    shop_ids = _ids(conn, shops, ("platform", "external_id"), shop_rows)

    # Listings: newest version per key wins (chosen above), against the core row too.
    newest = {k: li for k, li in newest_version.items() if _key_text(k) not in failing}
    first_seen: dict[tuple, dt.datetime] = {}
    for _, p in parts:
        li = p.listing
        k = (li["platform"], li["external_id"])
        first_seen[k] = min(first_seen.get(k, li["first_seen_at"]), li["first_seen_at"])
    old_listings = _existing(
        conn,
        listings,
        ("platform", "external_id"),
        newest,
        columns=["platform", "external_id", "first_seen_at", "last_seen_at", "staging_id"],
    )
    out: list[dict] = []
    for k, li in newest.items():
        old = old_listings.get(k)
        row = {c: v for c, v in li.items() if not c.startswith("_")}
        row["first_seen_at"] = min(first_seen[k], old["first_seen_at"]) if old else first_seen[k]
        if old and _version(old, "last_seen_at") > _version(li, "last_seen_at"):
            # An older version than core holds: its snapshot is new, and it may move
            # the listing's first sighting back; nothing else changes.
            if row["first_seen_at"] < old["first_seen_at"]:
                conn.execute(
                    update(listings)
                    .where(listings.c.platform == k[0], listings.c.external_id == k[1])
                    .values(first_seen_at=row["first_seen_at"])
                )
            continue
        row["product_id"] = product_ids.get(li["_product_key"])
        sk = (li["platform"], (li["attributes"] or {}).get("shop_external_id"))
        row["shop_id"] = shop_ids.get(sk)
        out.append(row)
    rejects: list[RejectedRow] = []
    loaded = upsert(conn, listings, out, rejects=rejects)
    refused = {(j.row["platform"], j.row["external_id"]) for j in rejects}
    for j in rejects:
        sid = j.row["staging_id"]
        res.quarantine.append(
            _q_reject(
                "listings",
                stg,
                sid,
                j,
                run_id,
                _key_text((j.row["platform"], j.row["external_id"])),
            )
        )
    # A refused newest version takes its whole key out of this chunk (its older versions
    # would otherwise stand in for it): quarantine them too, with the same reason.
    dropped = [(r, p) for r, p in parts if (r["platform"], r["external_id"]) in refused]
    for r, _ in dropped:
        if r["id"] not in {j.row["staging_id"] for j in rejects}:
            res.quarantine.append(
                _q(
                    "listings",
                    stg,
                    r["id"],
                    "load:newer_version_refused",
                    f"{stg} id {r['id']}: a newer version of this listing was refused",
                    None,
                    run_id,
                )
            )
    parts = [(r, p) for r, p in parts if (r["platform"], r["external_id"]) not in refused]
    listing_ids = _ids(conn, listings, ("platform", "external_id"), newest)
    snaps = []
    for r, p in parts:
        lid = listing_ids.get((r["platform"], r["external_id"]))
        snaps.append({**p.snapshot, "listing_id": lid})
    upsert(conn, listing_snapshots, snaps)

    rep = res.report
    rep.rows_in = len(rows)
    rep.quarantined = len({q["record_key"] for q in res.quarantine})
    rep.to_core = len({(r["platform"], r["external_id"]) for r, _ in parts})
    rep.merged = len(parts) - rep.to_core
    rep.core_inserted, rep.core_updated = loaded.inserted, loaded.updated
    return res


def _category_inputs(row: Mapping[str, Any]) -> tuple[tuple[str, ...], str | None] | None:
    """For the batch pre-pass only: a row it cannot read is refused later, one by one."""
    try:
        return records.category_inputs(row)
    except Exception:  # noqa: BLE001
        return None


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as data-quality rules see it: JSON columns left out, helpers dropped."""
    return {k: v for k, v in row.items() if not k.startswith("_") and k != "attributes"}


def _write_products(conn: Connection, sv: Services, keys: set[str]) -> dict[str, int]:
    if not keys:
        return {}
    old = _existing(
        conn,
        products,
        ("product_key",),
        [(k,) for k in keys],
        columns=["product_key", "first_seen_at", "last_seen_at"],
    )
    rows = []
    for key in sorted(keys):
        rec = sv.resolver.record(key)
        first, last = sv.product_seen[key]
        prev = old.get((key,))
        if prev:
            first, last = min(first, prev["first_seen_at"]), max(last, prev["last_seen_at"])
        rows.append(
            {
                "product_key": key,
                "brand": rec.brand,
                "model": rec.model,
                "name": rec.name,
                "category_code": rec.category_code,
                "gtin": rec.gtin,
                "producer_name": rec.producer_name,
                "attributes": {"resolver": sv.resolver.product_state(key)},
                "first_seen_at": first,
                "last_seen_at": last,
            }
        )
    upsert(conn, products, rows)
    return {
        k[0]: v for k, v in _ids(conn, products, ("product_key",), [(k,) for k in keys]).items()
    }


# ---------------------------------------------------------- reviews, complaints, recalls


def _simple_chunk(
    conn: Connection,
    rows: list[dict],
    sv: Services,
    *,
    stg: str,
    table: Table,
    key: tuple[str, ...],
    build: Callable[[Mapping[str, Any], Toolkit], dict[str, Any]],
    fold: Callable[[dict, dict], dict] | None = None,
    enrich: Callable[[Connection, list[dict]], None] | None = None,
) -> ChunkResult:
    """Build, check, fold versions (newest wins, or ``fold``), enrich and upsert."""
    run_id = sv.run_id
    res = ChunkResult(TableReport(stg))
    built: list[dict] = []
    for row in rows:
        try:
            built.append(build(row, sv.kit))
        except Exception as exc:  # noqa: BLE001 — one bad record never fails the run
            res.quarantine.append(_q_error(table.name, stg, row, _as_record_error(exc), run_id))
    built.sort(key=lambda b: _version(b, "fetched_at"))
    folded: dict[tuple, dict] = {}
    for b in built:
        k = tuple(b[c] for c in key)
        folded[k] = fold(folded[k], b) if fold and k in folded else b
    # The record as it will stand is checked once; when it fails, every version of it
    # in the chunk is quarantined with the reason.
    failing = sv.quality.check(table.name, [_flat(b) for b in folded.values()], list(key))
    if failing:
        for b in built:
            k = _key_text(tuple(b[c] for c in key))
            if k in failing:
                res.quarantine.extend(
                    _q_dq(table.name, stg, b["staging_id"], f, run_id, k) for f in failing[k]
                )
        built = [b for b in built if _key_text(tuple(b[c] for c in key)) not in failing]
        folded = {k: v for k, v in folded.items() if _key_text(k) not in failing}
    old = _existing(conn, table, key, folded)
    out: list[dict] = []
    for k, b in folded.items():
        prev = old.get(k)
        if prev is not None:
            if fold:
                older, newer = (
                    (prev, b)
                    if _version(prev, "fetched_at") <= _version(b, "fetched_at")
                    else (b, prev)
                )
                b = fold(
                    {c: v for c, v in older.items() if c != "id"},
                    {c: v for c, v in newer.items() if c != "id"},
                )
            elif _version(prev, "fetched_at") > _version(b, "fetched_at"):
                continue
        out.append(b)
    if enrich:
        enrich(conn, out)
    out.sort(key=lambda b: _key_order(b, key))
    rejects: list[RejectedRow] = []
    loaded = upsert(conn, table, out, rejects=rejects)
    res.rewritten = [k for k in (tuple(b[c] for c in key) for b in out) if k in old]
    refused = set()
    for j in rejects:
        k = tuple(j.row[c] for c in key)
        refused.add(k)
        res.quarantine.append(
            _q_reject(table.name, stg, j.row["staging_id"], j, run_id, _key_text(k))
        )
    rejected_ids = {j.row["staging_id"] for j in rejects}
    for b in built:
        k = tuple(b[c] for c in key)
        if k in refused and b["staging_id"] not in rejected_ids:
            res.quarantine.append(
                _q(
                    table.name,
                    stg,
                    b["staging_id"],
                    "load:newer_version_refused",
                    f"{stg} id {b['staging_id']}: another version of this record was refused",
                    None,
                    run_id,
                    _key_text(k),
                )
            )
    survivors = [b for b in built if tuple(b[c] for c in key) not in refused]
    rep = res.report
    rep.rows_in = len(rows)
    rep.quarantined = len({q["record_key"] for q in res.quarantine})
    rep.to_core = len({tuple(b[c] for c in key) for b in survivors})
    rep.merged = len(survivors) - rep.to_core
    rep.core_inserted, rep.core_updated = loaded.inserted, loaded.updated
    return res


def _link_reviews(conn: Connection, rows: list[dict]) -> None:
    keys = {(r["platform"], r["listing_external_id"]) for r in rows if r.get("listing_external_id")}
    ids = _ids(conn, listings, ("platform", "external_id"), keys)
    for r in rows:
        r["listing_id"] = ids.get((r["platform"], r.get("listing_external_id")))


def _link_complaints(urls: Callable[[str], tuple[str, str] | None]):
    def enrich(conn: Connection, rows: list[dict]) -> None:
        wanted = {}
        for r in rows:
            found = urls(r["listing_url"]) if r.get("listing_url") else None
            if found:
                wanted[r["complaint_number"], r["source"]] = found
        found_rows = _existing(
            conn,
            listings,
            ("platform", "external_id"),
            wanted.values(),
            columns=["platform", "external_id", "id", "shop_id"],
        )
        for r in rows:
            hit = found_rows.get(wanted.get((r["complaint_number"], r["source"])))
            r["listing_id"] = hit["id"] if hit else None
            r["shop_id"] = hit["shop_id"] if hit else None

    return enrich


# ----------------------------------------------------------------------------- shops


def _shops_chunk(
    conn: Connection, rows: list[dict], sv: Services, counted: set[tuple]
) -> ChunkResult:
    """Shop pages into ``shops``: the newest page of a shop sets its licence fields
    (company, region, pseudonyms, URL, attributes), also on a shop first seen on a
    listing page; the name follows the newest sighting, page or listing; first and
    last seen span both. ``counted`` holds the shops earlier chunks of the run took
    in: a shop is counted to core once per run, its other versions as merged."""
    stg, run_id, key = "stg_shops", sv.run_id, ("platform", "external_id")
    res = ChunkResult(TableReport(stg))
    built: list[dict] = []
    for row in rows:
        try:
            built.append(records.shop_row(row, sv.kit))
        except Exception as exc:  # noqa: BLE001 — one bad record never fails the run
            res.quarantine.append(_q_error("shops", stg, row, _as_record_error(exc), run_id))
    built.sort(key=lambda b: _version(b, "fetched_at"))
    folded: dict[tuple, dict] = {}
    for b in built:
        k = (b["platform"], b["external_id"])
        first = folded[k]["first_seen_at"] if k in folded else b["first_seen_at"]
        folded[k] = {**b, "first_seen_at": min(first, b["first_seen_at"])}
    # The shop as it will stand is checked once; when it fails, every version of it in
    # the chunk is quarantined with the reason.
    failing = sv.quality.check("shops", [_flat(b) for b in folded.values()], list(key))
    for b in built:
        k = _key_text((b["platform"], b["external_id"]))
        if k in failing:
            res.quarantine.extend(
                _q_dq("shops", stg, b["staging_id"], f, run_id, k) for f in failing[k]
            )
    built = [b for b in built if _key_text((b["platform"], b["external_id"])) not in failing]
    folded = {k: v for k, v in folded.items() if _key_text(k) not in failing}
    old = _existing(conn, shops, key, folded)
    out: list[dict] = []
    for k, b in folded.items():
        row = {c: v for c, v in b.items() if c in shops.c and c != "id"}
        prev = old.get(k)
        if prev is not None:
            row["first_seen_at"] = min(row["first_seen_at"], prev["first_seen_at"])
            row["last_seen_at"] = max(row["last_seen_at"], prev["last_seen_at"])
            if prev["last_seen_at"] > b["last_seen_at"]:
                row["name"] = prev["name"]  # a newer listing page named the shop
            held = (prev["attributes"] or {}).get("page_fetched_at")
            if held and records.aware(held, "page_fetched_at") > b["fetched_at"]:
                # Core holds a newer page of this shop: its licence fields stay.
                row.update({c: prev[c] for c in records.SHOP_PAGE_COLUMNS})
        out.append(row)
    out.sort(key=lambda b: _key_order(b, key))
    rejects: list[RejectedRow] = []
    loaded = upsert(conn, shops, out, rejects=rejects)
    newest = {k: b["staging_id"] for k, b in folded.items()}
    refused: set[tuple] = set()
    for j in rejects:
        k = (j.row["platform"], j.row["external_id"])
        refused.add(k)
        res.quarantine.append(_q_reject("shops", stg, newest[k], j, run_id, _key_text(k)))
    for b in built:
        k = (b["platform"], b["external_id"])
        if k in refused and b["staging_id"] != newest[k]:
            res.quarantine.append(
                _q(
                    "shops",
                    stg,
                    b["staging_id"],
                    "load:newer_version_refused",
                    f"{stg} id {b['staging_id']}: another version of this shop was refused",
                    None,
                    run_id,
                    _key_text(k),
                )
            )
    survivors = [b for b in built if (b["platform"], b["external_id"]) not in refused]
    taken = {(b["platform"], b["external_id"]) for b in survivors}
    rep = res.report
    rep.rows_in = len(rows)
    rep.quarantined = len({q["record_key"] for q in res.quarantine})
    rep.to_core = len(taken - counted)
    rep.merged = len(survivors) - rep.to_core
    rep.core_inserted, rep.core_updated = loaded.inserted, loaded.updated
    counted |= taken
    return res


# ------------------------------------------------------------------------- the run


class _Collector:
    """The cyclic garbage collector during a run's chunks.

    A chunk makes a few hundred thousand short-lived objects (row dicts, payloads) that
    form no cycles; with automatic collection, each batch of them triggers collections
    that walk every object of the process (the libraries' too), about a tenth of the
    run. So automatic collection is off while the chunks are processed; after each
    chunk :meth:`settle` collects the cycles it left, and after the first one it freezes
    the objects that live on (modules, GX, the services) out of later collections.
    Leaving restores collection as it was.

    (Collecting only the youngest generation and freezing after every chunk was tried:
    no faster at 10,000 products, and at 100,000 the garbage it froze raised processing's
    peak memory from 1.4 to 2.2 GiB.)
    """

    def __init__(self) -> None:
        self.was_enabled = False
        self.frozen = False

    def __enter__(self) -> _Collector:
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def settle(self) -> None:
        gc.collect()
        if not self.frozen:
            gc.freeze()
            self.frozen = True

    def __exit__(self, *exc: object) -> None:
        if self.frozen:
            gc.unfreeze()
        if self.was_enabled:
            gc.enable()


class _Statistics:
    """Planner statistics of the core tables a run grows, on PostgreSQL.

    Each chunk looks its keys up in the core tables (``platform = … AND external_id IN
    (…)``). Without statistics (a server with autovacuum off, or a first load faster
    than autovacuum) PostgreSQL answers those look-ups with a scan of every row of the
    platform instead of index probes, so a chunk costs more the larger the table and a
    large first load grows faster than linearly. So the run counts the staging rows it
    takes into each core table and analyzes a table once they pass ``ANALYZE_ROWS`` +
    ``ANALYZE_SHARE`` of its rows at its last analyze (``pg_class.reltuples``; what the
    server changed before the run counts too): a table analyzed each time it doubles is
    analyzed a few dozen times over millions of rows, well under a second each. Nothing
    happens on SQLite, whose planner uses the unique index without statistics.
    """

    GROWS = {
        "stg_listings": ("listings", "listing_snapshots", "products", "shops"),
        "stg_reviews": ("reviews",),
        "stg_complaints": ("complaints",),
        "stg_recalls": ("recalls",),
        "stg_shops": ("shops",),
    }

    def __init__(self, engine: Engine) -> None:
        self.engine = engine if engine.dialect.name == "postgresql" else None
        self.analyzed: list[str] = []
        self.pending: dict[str, float] = {}
        self.rows: dict[str, float] = {}
        if self.engine is None:
            return
        names = sorted({t for ts in self.GROWS.values() for t in ts})
        with self.engine.connect() as conn:
            for name, changed, rows in conn.execute(
                sql(
                    "select c.relname, coalesce(s.n_mod_since_analyze, 0), "
                    "greatest(c.reltuples, 0) from pg_class c "
                    "left join pg_stat_user_tables s on s.relid = c.oid "
                    "where c.relnamespace = current_schema()::regnamespace "
                    "and c.relname = any(:names)"
                ),
                {"names": names},
            ):
                self.pending[name] = float(changed)
                self.rows[name] = float(rows)

    def taken(self, stg: str, rows: int) -> None:
        """``rows`` rows of ``stg`` went into core: analyze the tables now due."""
        if self.engine is None:
            return
        due = []
        for name in self.GROWS.get(stg, ()):
            if name not in self.rows:
                continue
            self.pending[name] += rows
            if self.pending[name] > ANALYZE_ROWS + ANALYZE_SHARE * self.rows[name]:
                due.append(name)
        if not due:
            return
        with self.engine.connect() as conn:
            for name in due:
                conn.exec_driver_sql(f'ANALYZE "{name}"')
                self.rows[name] = float(
                    conn.execute(
                        sql(
                            "select greatest(reltuples, 0) from pg_class where oid = "
                            "(current_schema() || '.' || :name)::regclass"
                        ),
                        {"name": name},
                    ).scalar_one()
                )
                self.pending[name] = 0.0
                self.analyzed.append(name)
            conn.commit()


def _staging_chunks(
    conn_factory: Callable[[], Any], table: Table, after: int, upto: int, size: int
) -> Iterator[list[dict]]:
    last = after
    while last < upto:
        with conn_factory() as conn:
            result = conn.execute(
                select(table)
                .where(table.c.id > last, table.c.id <= upto)
                .order_by(table.c.id)
                .limit(size)
            )
            names = list(result.keys())
            rows = [dict(zip(names, values)) for values in result]
        if not rows:
            return
        last = rows[-1]["id"]
        # Hand the chunk over without keeping a reference here, so that it is freed
        # before the next one is read.
        held = [rows]
        del rows
        yield held.pop()


def _watermarks(conn: Connection) -> dict[str, int]:
    return {
        r.staging_table: r.last_staging_id
        for r in conn.execute(
            select(process_watermarks.c.staging_table, process_watermarks.c.last_staging_id)
        )
    }


def process_staging(
    engine: Engine,
    *,
    run_id: str,
    salt: bytes,
    home: Path,
    chunk_rows: int = CHUNK_ROWS,
    max_quarantine_share: float = MAX_QUARANTINE_SHARE,
    data_docs: bool = True,
) -> ProcessReport:
    """Take every staging row added since the last run into the core tables.

    Raises :class:`TableBreakage` (after committing everything) when a table looks
    broken as a whole; bad rows alone never fail the run.
    """
    report = ProcessReport(run_id)
    started = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        marks = _watermarks(conn)
        upper = _upper_bounds(conn)
        sv = Services(conn, salt=salt, run_id=run_id)
    previous_runs = _previous_reports(engine, run_id)
    clusters = _ClusterState(engine, home, marks.get("stg_reviews", 0))
    shops_counted: set[tuple] = set()  # shops this run took in, over its chunks
    handlers: dict[str, Callable[[Connection, list[dict]], ChunkResult]] = {
        "stg_listings": lambda c, rows: _listings_chunk(c, rows, sv),
        "stg_reviews": lambda c, rows: _simple_chunk(
            c,
            rows,
            sv,
            stg="stg_reviews",
            table=reviews,
            key=("platform", "external_id"),
            build=records.review_row,
            enrich=_link_reviews,
        ),
        "stg_complaints": lambda c, rows: _simple_chunk(
            c,
            rows,
            sv,
            stg="stg_complaints",
            table=complaints,
            key=("source", "complaint_number"),
            build=records.complaint_row,
            enrich=_link_complaints(sv.urls.match),
        ),
        "stg_recalls": lambda c, rows: _simple_chunk(
            c,
            rows,
            sv,
            stg="stg_recalls",
            table=recalls,
            key=("source", "recall_number"),
            build=records.recall_row,
            fold=records.merge_recall,
        ),
        "stg_shops": lambda c, rows: _shops_chunk(c, rows, sv, shops_counted),
    }
    statistics = _Statistics(engine)
    with _Collector() as collector:
        for stg, handle in handlers.items():
            total = previous_runs.get(stg) or TableReport(stg)
            after = marks.get(stg, 0)
            chunks = _staging_chunks(engine.connect, _table(stg), after, upper[stg], chunk_rows)
            for rows in chunks:
                with engine.begin() as conn:
                    chunk = handle(conn, rows)
                    chunk.report.first_staging_id = rows[0]["id"]
                    chunk.report.last_staging_id = rows[-1]["id"]
                    if chunk.quarantine:
                        _scrub_quarantine(chunk.quarantine, salt)
                        upsert(
                            conn,
                            quarantine,
                            chunk.quarantine,
                            update=("reason", "value", "payload"),
                        )
                    total.add(chunk.report)
                    _save_progress(conn, run_id, stg, rows[-1]["id"], total, started)
                    if stg == "stg_reviews":
                        clusters.add(conn, rows[0]["id"], rows[-1]["id"], chunk.rewritten)
                taken = len(rows)
                del chunk, rows
                collector.settle()
                statistics.taken(stg, taken)
            if total.rows_in:
                report.tables[stg] = total
    with engine.begin() as conn:
        relinked = _relink(conn, sv)
        report.spam_flagged, report.spam_changed = clusters.apply(conn, upper["stg_reviews"])
        report.core_counts = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (shops, products, listings, listing_snapshots, reviews, complaints, recalls)
        }
    log.info("relinked %d reviews and complaints to listings", relinked)
    report.analyzed = statistics.analyzed
    report.dq_failures = sv.quality.failures
    report.breakage = _table_checks(engine, report, sv.quality, max_quarantine_share)
    combined = sv.quality.combined()
    _save_dq_results(
        engine, {**combined, "_tables": [r for c in sv.quality.table_results for r in c]}
    )
    if data_docs and combined:
        from transforms.quality import build_data_docs

        report.data_docs = str(build_data_docs(combined, home / "data_docs"))
    if report.breakage:
        raise TableBreakage("; ".join(report.breakage))
    return report


def _upper_bounds(conn: Connection) -> dict[str, int]:
    """The highest staging id of each table, once every row below it is committed.

    On PostgreSQL a row with a lower id can commit after one with a higher id (ids come
    from a sequence when the insert starts); a SHARE lock waits for the loads in flight,
    so no row below the bound can appear after the watermark has passed it.
    """
    out = {}
    for t in (stg_listings, stg_reviews, stg_complaints, stg_recalls, stg_shops):
        if conn.dialect.name == "postgresql":
            conn.execute(sql(f"LOCK TABLE {t.name} IN SHARE MODE"))
        out[t.name] = conn.execute(select(func.max(t.c.id))).scalar() or 0
    return out


def _table(name: str) -> Table:
    return {
        "stg_listings": stg_listings,
        "stg_reviews": stg_reviews,
        "stg_complaints": stg_complaints,
        "stg_recalls": stg_recalls,
        "stg_shops": stg_shops,
    }[name]


def _previous_reports(engine: Engine, run_id: str) -> dict[str, TableReport]:
    """This run's counts so far (a retried run continues its own reconciliation)."""
    out = {}
    with engine.connect() as conn:
        for r in conn.execute(
            select(process_runs).where(process_runs.c.run_id == run_id)
        ).mappings():
            out[r["staging_table"]] = TableReport(
                r["staging_table"],
                r["first_staging_id"],
                r["last_staging_id"],
                r["rows_in"],
                r["to_core"],
                r["merged"],
                r["quarantined"],
                r["core_inserted"],
                r["core_updated"],
            )
    return out


def _save_progress(
    conn: Connection, run_id: str, stg: str, last_id: int, total: TableReport, started
) -> None:
    now = dt.datetime.now(dt.UTC)
    upsert(
        conn,
        process_watermarks,
        [{"staging_table": stg, "last_staging_id": last_id, "run_id": run_id, "updated_at": now}],
    )
    upsert(
        conn,
        process_runs,
        [
            {
                "run_id": run_id,
                "staging_table": stg,
                "first_staging_id": total.first_staging_id,
                "last_staging_id": total.last_staging_id,
                **{k: v for k, v in total.as_dict().items()},
                "started_at": started,
                "finished_at": now,
            }
        ],
    )


def _relink(conn: Connection, sv: Services) -> int:
    """Reviews and complaints that arrived before their listing get linked now."""
    n = 0
    pending = conn.execute(
        select(reviews.c.id, reviews.c.platform, reviews.c.listing_external_id).where(
            reviews.c.listing_id.is_(None), reviews.c.listing_external_id.is_not(None)
        )
    ).all()
    ids = _ids(conn, listings, ("platform", "external_id"), {(p, e) for _, p, e in pending})
    todo = [{"rid": rid, "lid": ids[(p, e)]} for rid, p, e in pending if (p, e) in ids]
    if todo:
        conn.execute(
            update(reviews)
            .where(reviews.c.id == bindparam("rid"))
            .values(listing_id=bindparam("lid")),
            todo,
        )
        n += len(todo)
    pending = conn.execute(
        select(complaints.c.id, complaints.c.listing_url).where(
            complaints.c.listing_id.is_(None), complaints.c.listing_url.is_not(None)
        )
    ).all()
    wanted = {cid: sv.urls.match(url) for cid, url in pending}
    wanted = {k: v for k, v in wanted.items() if v}
    found = _existing(
        conn,
        listings,
        ("platform", "external_id"),
        wanted.values(),
        columns=["platform", "external_id", "id", "shop_id"],
    )
    todo = [
        {"cid": cid, "lid": found[k]["id"], "sid": found[k]["shop_id"]}
        for cid, k in wanted.items()
        if k in found
    ]
    if todo:
        conn.execute(
            update(complaints)
            .where(complaints.c.id == bindparam("cid"))
            .values(listing_id=bindparam("lid"), shop_id=bindparam("sid")),
            todo,
        )
        n += len(todo)
    return n


# ---------------------------------------------------------------- review clusters


class _ClusterState:
    """The near-duplicate review index, kept under ``$ECQM_HOME/state`` between runs.

    The file records the warehouse and the review watermark it matches; when either
    differs (first run, a rebuild, another warehouse) the index is rebuilt from the
    core reviews in the order they entered core, so the clusters are the same either
    way.
    """

    def __init__(self, engine: Engine, home: Path, mark: int) -> None:
        from transforms.duplicates import ReviewClusterIndex

        self.engine = engine
        self.dir = home / "state"
        ident = hashlib.sha256(
            engine.url.render_as_string(hide_password=True).encode()
        ).hexdigest()[:16]
        self.path = self.dir / f"review_clusters-{ident}.npz"
        self.meta = self.path.with_suffix(".json")
        self.index = None
        with engine.connect() as conn:
            # Every review up to this id is in the index (loaded or rebuilt below).
            self.last_id: int = conn.execute(select(func.max(reviews.c.id))).scalar() or 0
            self.database = database_identity(conn)
        # The index keeps its growing parts in working files next to its saved copy.
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            meta = json.loads(self.meta.read_text())
            if (
                meta.get("last_staging_id") == mark
                and meta.get("database") == self.database
                and self.path.exists()
            ):
                self.index = ReviewClusterIndex.load(self.path, workdir=self.dir)
        except (OSError, ValueError, KeyError):
            self.index = None
        if self.index is None:
            self.index = ReviewClusterIndex(workdir=self.dir)
            with engine.connect() as conn:
                self._feed(
                    conn,
                    select(reviews.c.platform, reviews.c.external_id, reviews.c.text).order_by(
                        reviews.c.id
                    ),
                )

    def _feed(self, conn: Connection, query) -> None:
        batch: list[tuple[str, str]] = []
        for p, e, t in conn.execution_options(yield_per=50_000).execute(query):
            batch.append((f"{p}\x1f{e}", t or ""))
            if len(batch) >= 50_000:
                self.index.extend(batch)
                batch = []
        if batch:
            self.index.extend(batch)

    def add(
        self, conn: Connection, first_id: int, last_id: int, rewritten: Iterable[tuple]
    ) -> None:
        """Index the reviews that rows ``first_id..last_id`` of stg_reviews put in core, in
        the order they entered core.

        ``staging_id`` has no index, so they are found as the reviews added since the last
        call (a range of ids) and those of ``rewritten`` (the chunk's reviews that were in
        core already, by natural key) whose ``staging_id`` the chunk set.
        """
        cols = (reviews.c.id, reviews.c.platform, reviews.c.external_id, reviews.c.text)
        this_chunk = reviews.c.staging_id.between(first_id, last_id)
        found = list(conn.execute(select(*cols).where(reviews.c.id > self.last_id, this_chunk)))
        for cond in _by_key(reviews, ("platform", "external_id"), rewritten):
            found += conn.execute(
                select(*cols).where(cond, reviews.c.id <= self.last_id, this_chunk)
            ).all()
        found.sort(key=lambda r: r[0])
        self.index.extend((f"{p}\x1f{e}", t or "") for _, p, e, t in found)
        self.last_id = max([self.last_id, *(r[0] for r in found)])

    def apply(self, conn: Connection, mark: int) -> tuple[int, int]:
        """Write the current clusters to ``reviews.spam_cluster_id``; (flagged, changed)."""
        wanted = self.index.clusters()
        current = {
            f"{p}\x1f{e}": c
            for p, e, c in conn.execute(
                select(reviews.c.platform, reviews.c.external_id, reviews.c.spam_cluster_id).where(
                    reviews.c.spam_cluster_id.is_not(None)
                )
            )
        }
        changes = [
            {"p": k.split("\x1f")[0], "e": k.split("\x1f")[1], "c": c}
            for k, c in wanted.items()
            if current.get(k) != c
        ] + [
            {"p": k.split("\x1f")[0], "e": k.split("\x1f")[1], "c": None}
            for k in current
            if k not in wanted
        ]
        if changes:
            conn.execute(
                update(reviews)
                .where(
                    reviews.c.platform == bindparam("p"), reviews.c.external_id == bindparam("e")
                )
                .values(spam_cluster_id=bindparam("c")),
                changes,
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        self.index.save(self.path)
        self.meta.write_text(json.dumps({"last_staging_id": mark, "database": self.database}))
        return len(wanted), len(changes)


# ---------------------------------------------------------------- data quality


def _table_checks(
    engine: Engine, report: ProcessReport, quality: Quality, share: float
) -> list[str]:
    """Table-level breakage: most of a table's rows refused, or a core table shrinking."""
    from transforms.quality import check_table

    problems = []
    for stg, t in report.tables.items():
        if t.rows_in >= MIN_ROWS_FOR_SHARE and t.quarantined / t.rows_in > share:
            problems.append(
                f"{stg}: {t.quarantined} of {t.rows_in} rows quarantined "
                f"({t.quarantined / t.rows_in:.0%} > {share:.0%}); see quarantine for run {report.run_id}"
            )
    with engine.connect() as conn:
        prev = {
            r.table_name: (r.observed or {}).get("count")
            for r in conn.execute(
                select(dq_results.c.table_name, dq_results.c.observed, dq_results.c.checked_at)
                .where(
                    dq_results.c.expectation == "core_row_count",
                    dq_results.c.run_id != report.run_id,
                )
                .order_by(dq_results.c.checked_at)
            )
        }
    now = dt.datetime.now(dt.UTC)
    for table, n in report.core_counts.items():
        check = check_table(table, current_count=n, previous_count=prev.get(table))
        if not check.ok:
            problems.append(f"{table}: {check.reason}")
        quality.table_results.append(
            [
                {
                    "run_id": report.run_id,
                    "table_name": table,
                    "suite": f"{table}_table",
                    "expectation": "core_row_count",
                    "column": None,
                    "success": check.ok,
                    "element_count": n,
                    "unexpected_count": 0 if check.ok else 1,
                    "unexpected_percent": 0.0 if check.ok else 100.0,
                    "observed": {"count": n, "previous": prev.get(table)},
                    "checked_at": now,
                }
            ]
        )
    return problems


def _save_dq_results(engine: Engine, combined: Mapping[str, list[dict[str, Any]]]) -> None:
    rows = []
    for results in combined.values():
        for r in results:
            rows.append(
                {
                    "run_id": r["run_id"],
                    "table_name": r["table_name"],
                    "suite": r["suite"],
                    "expectation": r["expectation"][:256],
                    "column_name": r.get("column_name", r.get("column")),
                    "success": bool(r["success"]),
                    "element_count": int(r["element_count"] or 0),
                    "unexpected_count": int(r["unexpected_count"] or 0),
                    "unexpected_percent": r.get("unexpected_percent"),
                    "observed": r.get("observed"),
                    "checked_at": r["checked_at"],
                }
            )
    if rows:
        with engine.begin() as conn:
            upsert(conn, dq_results, rows)


# ------------------------------------------------------------------------ rebuild


def clear_core(engine: Engine) -> None:
    """Empty the core tables and this stage's bookkeeping (staging is untouched)."""
    with engine.begin() as conn:
        for t in (listing_snapshots, reviews, complaints, listings, shops, products, recalls):
            conn.execute(delete(t))
        conn.execute(delete(quarantine).where(quarantine.c.table_name.in_(STAGE_TABLES)))
        conn.execute(delete(process_watermarks))
        if engine.dialect.name == "postgresql":
            for t in (listing_snapshots, reviews, complaints, listings, shops, products, recalls):
                seq = conn.execute(select(func.pg_get_serial_sequence(t.name, "id"))).scalar()
                if seq:
                    conn.execute(select(func.setval(seq, 1, False)))
        else:
            if conn.execute(
                sql("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")
            ).first():
                conn.execute(
                    sql(
                        "DELETE FROM sqlite_sequence WHERE name IN ('listing_snapshots','reviews','complaints','listings','shops','products','recalls')"
                    )
                )


def rebuild_core(
    engine: Engine, *, run_id: str, salt: bytes, home: Path, **kwargs: Any
) -> ProcessReport:
    """Rebuild every core table from staging: the same tables the incremental runs made."""
    clear_core(engine)
    return process_staging(engine, run_id=run_id, salt=salt, home=home, **kwargs)
