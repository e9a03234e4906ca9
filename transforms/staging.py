"""Landing zone → ``stg_*``: load one crawl run's JSON-lines files into staging.

The landing layout (written by the crawlers) is::

    {landing}/{profile}/{kind}s/{date}/{run_id}/shard-NNN.jsonl   items: listing, review, shop, complaint, recall
    {landing}/{profile}/pages/{date}/{run_id}/shard-NNN.jsonl     one line per fetched response
    {landing}/{profile}/stats/{date}/{run_id}/shard-NNN.json      per-shard crawl statistics

Staging keeps first observations: a row's key is its natural key plus the SHA-256 of its
payload, and a row is never rewritten, so loading the same run again, or a re-crawl that
found nothing new, inserts nothing and creates no downstream work. A line that cannot be
loaded goes to ``quarantine`` with its file, line number, rule and reason; the rest of
the run loads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from ecqm.warehouse.bulk import RejectedRow, UpsertResult, upsert
from ecqm.warehouse.engine import json_dumps
from ecqm.warehouse.schema import (
    crawl_pages,
    crawl_runs,
    quarantine,
    stg_complaints,
    stg_listings,
    stg_recalls,
    stg_reviews,
    stg_shops,
)

KINDS = {
    "listing": stg_listings,
    "review": stg_reviews,
    "shop": stg_shops,
    "complaint": stg_complaints,
    "recall": stg_recalls,
}
MAX_QUARANTINED_TEXT = 2000
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


@dataclass
class RunLoad:
    """What loading one crawl run did."""

    crawl_run_id: str
    tables: dict[str, UpsertResult] = field(default_factory=dict)
    quarantined: int = 0
    lines: int = 0

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {
                "inserted": r.inserted,
                "unchanged": r.unchanged,
                "rejected": r.rejected,
                "duplicates_in_input": r.duplicates_in_input,
            }
            for name, r in self.tables.items()
        }

    @property
    def new_rows(self) -> int:
        return sum(r.inserted for name, r in self.tables.items() if name.startswith("stg_"))


def run_folders(landing: Path, profile: str, part: str, partition_date: str, run_id: str) -> Path:
    return landing / profile / part / partition_date / run_id


def load_crawl_run(
    conn: Connection, *, landing: Path, profile: str, run_id: str, partition_date: str
) -> RunLoad:
    """Load every item, page and statistics file of one run of ``profile``."""
    result = RunLoad(run_id)
    quarantined: list[dict[str, Any]] = []
    for kind, table in KINDS.items():
        folder = run_folders(landing, profile, f"{kind}s", partition_date, run_id)
        rejects: list[RejectedRow] = []
        rows = _staging_rows(folder, kind, run_id, quarantined, result)
        loaded = upsert(conn, table, rows, update=(), rejects=rejects)
        quarantined.extend(_reject_row(r, run_id) for r in rejects)
        if loaded.inserted or loaded.unchanged or loaded.rejected:
            result.tables[table.name] = loaded
    pages_folder = run_folders(landing, profile, "pages", partition_date, run_id)
    rejects = []
    pages = upsert(
        conn, crawl_pages, _page_rows(pages_folder, run_id, quarantined), update=(), rejects=rejects
    )
    quarantined.extend(_reject_row(r, run_id) for r in rejects)
    result.tables["crawl_pages"] = pages
    if quarantined:
        upsert(conn, quarantine, quarantined, update=("reason", "value", "payload"))
    result.quarantined = len(quarantined)
    stats_folder = run_folders(landing, profile, "stats", partition_date, run_id)
    upsert(conn, crawl_runs, [_run_row(stats_folder, profile, run_id, partition_date, result)])
    return result


# --------------------------------------------------------------------------- reading


def _lines(folder: Path) -> Iterator[tuple[str, int, str]]:
    """A run's lines, file by file, each file's in the order of what they are about.

    A shard's crawl writes items in the order its concurrent responses arrived, which
    differs from one crawl of the same pages to the next. Staging ids follow the order
    of loading, and everything downstream that depends on arrival (core ids, which
    spelling of a brand a new product is keyed by) follows them; so each file is loaded
    sorted by its items' external ids (pages by URL), then fetch time, then line. The
    same pages crawled again, in any order, load the same way. One shard file is held
    in memory at a time, as raw lines.
    """
    for path in sorted(folder.glob("shard-*.jsonl")):
        with path.open(encoding="utf-8", errors="surrogateescape") as fh:
            numbered = [(n, line) for n, line in enumerate(fh, start=1) if line.strip()]
        numbered.sort(key=_line_order)
        for number, line in numbered:
            yield str(path), number, line


def _line_order(numbered: tuple[int, str]) -> tuple[str, str, str, int]:
    number, line = numbered
    try:
        record = json.loads(line)
    except ValueError:
        return ("", "", "", number)  # unreadable: quarantined, in file order, first
    if not isinstance(record, dict):
        return ("", "", "", number)
    return (
        str(record.get("source") or ""),
        str(record.get("external_id") or record.get("url") or ""),
        str(record.get("fetched_at") or ""),
        number,
    )


def _quarantine(
    table: str, where: str, rule: str, reason: str, run_id: str, raw: str, payload: Any = None
) -> dict[str, Any]:
    return {
        "table_name": table,
        "record_key": where[-256:],
        "rule": rule,
        "run_id": run_id,
        "reason": reason,
        "value": raw.encode("utf-8", "replace")
        .decode("utf-8")[:MAX_QUARANTINED_TEXT]
        .replace("\x00", ""),
        "payload": payload,
    }


def _reject_row(reject: RejectedRow, run_id: str) -> dict[str, Any]:
    row = reject.row
    key = "|".join(
        str(row.get(k, ""))
        for k in ("source", "platform", "external_id", "complaint_number", "recall_number", "url")
        if row.get(k)
    )
    return _quarantine(
        reject.table,
        key or f"row {reject.index}",
        "staging_value",
        str(reject),
        run_id,
        json.dumps({k: str(v)[:200] for k, v in row.items()}, ensure_ascii=False),
    )


def _parse_time(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"fetched_at must be an ISO 8601 string, got {value!r}")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"fetched_at {value!r} has no time zone")
    return parsed


def _item(line: str, kind: str) -> dict[str, Any]:
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("a line must be a JSON object")
    if record.get("kind") != kind:
        raise ValueError(f"kind is {record.get('kind')!r}, this file holds {kind!r} items")
    for name in ("source", "external_id", "url"):
        if not isinstance(record.get(name), str) or not record[name].strip():
            raise ValueError(f"{name} must be a non-empty string, got {record.get(name)!r}")
    if not isinstance(record.get("payload"), dict):
        raise ValueError("payload must be a JSON object")
    return record


def _staging_rows(
    folder: Path, kind: str, run_id: str, quarantined: list[dict[str, Any]], result: RunLoad
) -> Iterator[dict[str, Any]]:
    table = KINDS[kind].name
    for path, number, line in _lines(folder):
        result.lines += 1
        where = f"{Path(path).name}:{number}"
        try:
            record = _item(line, kind)
            fetched_at = _parse_time(record.get("fetched_at"))
        except (ValueError, json.JSONDecodeError) as exc:
            rule = "landing_json" if isinstance(exc, json.JSONDecodeError) else "landing_schema"
            quarantined.append(
                _quarantine(table, f"{path}:{number}", rule, f"{where}: {exc}", run_id, line)
            )
            continue
        payload = record["payload"]
        row: dict[str, Any] = {
            "source": record["source"],
            "payload_sha256": hashlib.sha256(
                json_dumps(payload).encode("utf-8", "surrogatepass")
            ).hexdigest(),
            "crawl_run_id": run_id,
            "url": record["url"],
            "fetched_at": fetched_at,
            "evidence_sha256": record.get("evidence_sha256"),
            "payload": payload,
        }
        if kind in ("listing", "review", "shop"):
            row["platform"] = record.get("platform")
            row["external_id"] = record["external_id"]
            if kind == "review":
                row["listing_external_id"] = record.get("listing_external_id")
        elif kind == "complaint":
            row["complaint_number"] = record["external_id"]
        else:
            row["recall_number"] = record["external_id"]
        yield row


def _page_rows(
    folder: Path, run_id: str, quarantined: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    for path, number, line in _lines(folder):
        try:
            page = json.loads(line)
            if not isinstance(page, dict):
                raise ValueError("a line must be a JSON object")
            yield {
                "crawl_run_id": run_id,
                "url": page["url"],
                "status": int(page["status"]),
                "sha256": page["sha256"],
                "fetched_at": _parse_time(page.get("fetched_at")),
                "content_type": page.get("content_type"),
                "bytes": int(page.get("bytes") or 0),
                "headers": page.get("headers"),
            }
        except (ValueError, KeyError, TypeError) as exc:
            quarantined.append(
                _quarantine(
                    "crawl_pages",
                    f"{path}:{number}",
                    "landing_schema",
                    f"{Path(path).name}:{number}: {exc!r}",
                    run_id,
                    line,
                )
            )


def _run_row(
    folder: Path, profile: str, run_id: str, partition_date: str, result: RunLoad
) -> dict[str, Any]:
    shards = [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("shard-*.json"))
    ]
    items: dict[str, int] = {}
    errors: dict[str, int] = {}
    for shard in shards:
        _add(items, shard.get("items"))
        _add(errors, shard.get("errors"))
    times = [
        (_parse_time(s["started_at"]), _parse_time(s["finished_at"]))
        for s in shards
        if s.get("started_at") and s.get("finished_at")
    ]
    # Without statistics (a crawl that died before writing them) the run is dated by its
    # partition, never by the clock, so reloading gives the same row.
    midnight = dt.datetime.combine(dt.date.fromisoformat(partition_date), dt.time(), SHANGHAI)
    started = min((t[0] for t in times), default=midnight)
    finished = max((t[1] for t in times), default=midnight)
    return {
        "crawl_run_id": run_id,
        "profile": profile,
        "partition_date": dt.date.fromisoformat(partition_date),
        "shards": len(shards),
        "started_at": started,
        "finished_at": finished,
        "duration_s": round(sum(float(s.get("duration_s") or 0) for s in shards), 3),
        "pages": sum(int(s.get("pages") or 0) for s in shards),
        "retries": sum(int(s.get("retries") or 0) for s in shards),
        "items": items,
        "errors": errors,
        "loaded": {**result.counts(), "quarantined": result.quarantined},
        "status": "loaded" if shards else "no_stats",
    }


def _add(total: dict[str, int], part: Mapping[str, Any] | None) -> None:
    for key, value in (part or {}).items():
        total[key] = total.get(key, 0) + int(value)
