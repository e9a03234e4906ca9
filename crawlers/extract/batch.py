"""Run :func:`~crawlers.extract.listing.extract_listing` over many saved pages.

Pages are read and extracted in worker processes, in chunks, with a bounded number of
chunks in flight: results come back in input order and memory stays flat however long
the manifest is. One bad page gives one error line and never stops the run.
"""

from __future__ import annotations

import csv
import gzip
import json
import multiprocessing
import sys
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

__all__ = ["ManifestError", "PageTask", "extract_lines", "read_manifest", "read_page"]

_GZIP_MAGIC = b"\x1f\x8b"


class ManifestError(ValueError):
    """The manifest itself cannot be used (missing, unreadable, wrong columns)."""


@dataclass(frozen=True)
class PageTask:
    """One page to extract: ``path`` as written in the manifest, ``file`` resolved."""

    path: str
    file: str
    url: str
    content_type: str | None = None


def read_manifest(manifest: Path) -> Iterator[PageTask]:
    """Stream the rows of a ``path,url`` CSV (optional ``content_type`` column).

    Relative paths are taken from the manifest's folder.

    Raises
    ------
    ManifestError
        If the file cannot be opened or lacks the ``path`` and ``url`` columns.
    """
    try:
        fh = open(manifest, encoding="utf-8-sig", newline="")  # noqa: SIM115 — streamed
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {manifest}: {exc.strerror or exc}") from exc
    base = manifest.resolve().parent
    with fh:
        reader = csv.DictReader(fh)
        columns = {c.strip().lower() for c in reader.fieldnames or []}
        if not {"path", "url"} <= columns:
            raise ManifestError(
                f"manifest {manifest} needs the columns path,url (found: {', '.join(sorted(columns)) or 'none'})"
            )
        for row in reader:
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            path = row.get("path", "")
            file = str(base / path) if path else ""
            yield PageTask(path, file, row.get("url", ""), row.get("content_type") or None)


def read_page(file: str | Path) -> bytes:
    """The bytes of a saved page, un-gzipped when gzipped (by content, not name)."""
    data = Path(file).read_bytes()
    if data.startswith(_GZIP_MAGIC):
        return gzip.decompress(data)
    return data


def _describe_read_error(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return "cannot read page: no such file"
    if isinstance(exc, IsADirectoryError):
        return "cannot read page: is a directory"
    if isinstance(exc, gzip.BadGzipFile | zlib.error | EOFError):
        return f"cannot read page: broken gzip data ({exc})"
    if isinstance(exc, OSError):
        return f"cannot read page: {exc.strerror or exc}"
    return f"cannot read page: {exc}"


def extract_line(task: PageTask, selectors: Mapping[str, str] | None = None) -> str:
    """The JSON line for one page: the extract, or ``error`` with a clear message."""
    from .listing import extract_listing

    head = {"path": task.path, "url": task.url}
    if not task.file:
        return json.dumps({**head, "error": "manifest row has no path"}, ensure_ascii=False)
    if not task.url:
        return json.dumps({**head, "error": "manifest row has no url"}, ensure_ascii=False)
    try:
        body = read_page(task.file)
    except Exception as exc:  # noqa: BLE001 — every read failure becomes an error line
        return json.dumps({**head, "error": _describe_read_error(exc)}, ensure_ascii=False)
    headers = {"Content-Type": task.content_type} if task.content_type else None
    try:
        result = extract_listing(body, task.url, headers=headers, selectors=selectors)
    except Exception as exc:  # noqa: BLE001 — one page must never stop the run
        message = f"extraction failed: {type(exc).__name__}: {exc}"
        return json.dumps({**head, "error": message}, ensure_ascii=False)
    if result.error:
        return json.dumps({**head, "error": result.error}, ensure_ascii=False)
    payload = result.to_payload()
    payload.pop("url", None)
    return json.dumps({**head, **payload}, ensure_ascii=False)


def _extract_chunk(tasks: list[PageTask], selectors: Mapping[str, str] | None) -> list[str]:
    return [extract_line(t, selectors) for t in tasks]


def _context() -> multiprocessing.context.BaseContext:
    if sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has already imported extruct and lxml.
        ctx.set_forkserver_preload(["crawlers.extract.listing"])
        return ctx
    return multiprocessing.get_context("spawn")


def extract_lines(
    tasks: Iterable[PageTask],
    jobs: int = 1,
    selectors: Mapping[str, str] | None = None,
    chunk_size: int = 16,
) -> Iterator[str]:
    """JSON lines for ``tasks``, in order, extracted by ``jobs`` processes.

    Parameters
    ----------
    tasks
        Pages to extract; consumed lazily.
    jobs
        Worker processes; 1 runs in this process.
    selectors
        A site profile's selectors, passed to every page.
    chunk_size
        Pages per unit of work sent to a worker.
    """
    if jobs <= 1:
        for task in tasks:
            yield extract_line(task, selectors)
        return
    it = iter(tasks)
    window = jobs * 3
    pending: deque[Future[list[str]]] = deque()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_context()) as pool:
        while True:
            while len(pending) < window:
                chunk = list(islice(it, chunk_size))
                if not chunk:
                    break
                pending.append(pool.submit(_extract_chunk, chunk, selectors))
            if not pending:
                return
            yield from pending.popleft().result()
