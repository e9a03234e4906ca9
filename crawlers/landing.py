"""Where a crawl writes, and how: the landing zone layout and atomic file writes.

Layout (``date`` is the run's partition date, ``YYYY-MM-DD``)::

    {landing}/{profile}/{kind}s/{date}/{run_id}/shard-{shard:03d}.jsonl   items
    {landing}/{profile}/pages/{date}/{run_id}/shard-{shard:03d}.jsonl     one line per response
    {landing}/{profile}/stats/{date}/{run_id}/shard-{shard:03d}.json      per-shard statistics
    {evidence}/{sha[:2]}/{sha}.gz                                         response bodies, gzipped

Shard files are written under a hidden temporary name and renamed into place when the
shard finishes, so a killed crawl leaves no half file under a final name, and a re-run
of the same run and shard replaces its own files. Evidence files are content-addressed
and never rewritten.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

ITEM_KINDS = ("listing", "review", "shop", "complaint", "recall")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+\-]{0,127}$")


def utc_now() -> str:
    """The current time as ISO 8601 UTC with milliseconds, ending in ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_run(run_id: str, partition_date: str, shard: int) -> None:
    """Raise ``ValueError`` when the parts of a landing path are unusable."""
    if not _RUN_ID.match(run_id or ""):
        raise ValueError(
            f"run id {run_id!r}: use letters, digits and _ . : + - (at most 128, no slashes)"
        )
    if not _DATE.match(partition_date or ""):
        raise ValueError(f"partition date {partition_date!r}: expected YYYY-MM-DD")
    datetime.strptime(partition_date, "%Y-%m-%d")
    if shard < 0 or shard > 999:
        raise ValueError(f"shard {shard}: expected 0..999")


def local_dir(url: str | os.PathLike[str]) -> Path:
    """A landing or evidence location as a local folder (``file://`` URLs allowed)."""
    text = os.fspath(url)
    parts = urlsplit(text)
    if parts.scheme == "file":
        return Path(parts.path)
    if parts.scheme and len(parts.scheme) > 1:
        raise ValueError(f"{text!r}: the crawlers write to a local folder, not {parts.scheme}://")
    return Path(text)


def _run_dir(landing: Path, profile: str, folder: str, date: str, run_id: str) -> Path:
    return Path(landing) / profile / folder / date / run_id


def item_path(landing: Path, profile: str, kind: str, date: str, run_id: str, shard: int) -> Path:
    if kind not in ITEM_KINDS:
        raise ValueError(f"unknown item kind {kind!r} (known: {', '.join(ITEM_KINDS)})")
    return _run_dir(landing, profile, f"{kind}s", date, run_id) / f"shard-{shard:03d}.jsonl"


def pages_path(landing: Path, profile: str, date: str, run_id: str, shard: int) -> Path:
    return _run_dir(landing, profile, "pages", date, run_id) / f"shard-{shard:03d}.jsonl"


def stats_path(landing: Path, profile: str, date: str, run_id: str, shard: int) -> Path:
    return _run_dir(landing, profile, "stats", date, run_id) / f"shard-{shard:03d}.json"


def evidence_path(evidence_dir: Path, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return Path(evidence_dir) / sha256[:2] / f"{sha256}.gz"


def write_evidence(evidence_dir: Path, sha256: str, body: bytes) -> bool:
    """Store ``body`` gzipped under its hash; False when it was already there.

    Written to a temporary file in the same folder and linked into place, so readers
    never see a partial file and an existing file is never touched.
    """
    path = evidence_path(evidence_dir, sha256)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{sha256[:16]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            # mtime=0 and no file name: the same body always gives the same file.
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                gz.write(body)
            raw.flush()
            os.fsync(raw.fileno())
        try:
            os.link(tmp, path)  # fails if another process stored it first
        except FileExistsError:
            return False
        except OSError:
            if path.exists():
                return False
            os.replace(tmp, path)
            return True
        return True
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def json_default(value: Any) -> Any:
    """JSON for the few non-JSON types records may carry (dates, decimals, sets)."""
    from datetime import date
    from decimal import Decimal

    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-safe")


def dumps_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=json_default)


class ShardFile:
    """A JSON-lines file written under a temporary name and renamed at :meth:`commit`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent
        )
        self.tmp_path = Path(tmp)
        self._fp: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self.lines = 0

    def write(self, record: dict[str, Any]) -> None:
        line = dumps_line(record)  # serialise first: a bad record writes nothing
        assert self._fp is not None, "shard file already closed"
        self._fp.write(line + "\n")
        self.lines += 1

    def write_many(self, records: Iterable[dict[str, Any]]) -> None:
        for r in records:
            self.write(r)

    def commit(self) -> Path:
        """Flush, sync and rename into place (replacing an earlier run's file)."""
        if self._fp is not None:
            self._fp.flush()
            os.fsync(self._fp.fileno())
            self._fp.close()
            self._fp = None
        os.replace(self.tmp_path, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the temporary file; the final name is left as it was."""
        if self._fp is not None:
            self._fp.close()
            self._fp = None
        if self.tmp_path.exists():
            self.tmp_path.unlink()


def write_json_atomic(path: Path, obj: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            json.dump(obj, fp, ensure_ascii=False, indent=2, default=json_default)
            fp.write("\n")
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
