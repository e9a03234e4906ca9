"""Recall files and listings of a small simulated world, and warehouse snapshots, for the
recall tests (imported by name: test helper module names are unique in the tree)."""

from __future__ import annotations

import csv
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

PRODUCTS = 800
SEED = 5
BASE = "http://127.0.0.1:8800"
SALT = b"recall-tests-salt-0123456789abcdef0123"


@lru_cache(maxsize=1)
def world() -> Any:
    from simulator.world import World

    return World(PRODUCTS, SEED)


def _get(path: str) -> bytes:
    from simulator.router import route

    resp = route(world(), path, BASE)
    assert resp.status == 200, path
    return resp.body


def cpsc_csv_bytes() -> bytes:
    return _get("/recall/download/cpsc_recalls.csv")


def safety_gate_csv_bytes() -> bytes:
    return _get("/recall/download/safety_gate_alerts.csv")


def samr_pages() -> dict[str, bytes]:
    """Notice number → page, for every SAMR notice of the world."""
    reg = world().recall_registry
    out = {}
    for i in range(reg.count_source("samr")):
        number = reg.recall(reg.nth("samr", i)).number
        out[number] = _get(f"/recall/notice/{number}.html")
    return out


def write_cpsc(folder: Path, name: str = "recalls_recall_listing.csv") -> Path:
    path = folder / name
    path.write_bytes(cpsc_csv_bytes())
    return path


def write_safety_gate(folder: Path, name: str = "safety_gate_alerts.csv") -> Path:
    path = folder / name
    path.write_bytes(safety_gate_csv_bytes())
    return path


def write_samr_zip(folder: Path, name: str = "notices.zip") -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w") as zf:
        for number, body in samr_pages().items():
            zf.writestr(f"{number}.html", body)
    return path


def write_samr_folder(folder: Path, name: str = "notices") -> Path:
    path = folder / name
    path.mkdir(parents=True, exist_ok=True)
    for number, body in samr_pages().items():
        (path / f"{number}.html").write_bytes(body)
    return path


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(body.decode("utf-8-sig").splitlines()))


def csv_bytes(rows: list[list[str]], *, bom: bool = True) -> bytes:
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8")


def world_recall_count(source: str) -> int:
    return world().recall_registry.count_source(source)


def listing_rows(limit: int | None = None) -> list[dict[str, str]]:
    """Listings of the world as the match-recalls CSV holds them."""
    w = world()
    out = []
    for pid in range(w.products):
        for key in w.listings_of(pid):
            lst = w.listing(*key)
            out.append(
                {
                    "listing_id": f"{lst.platform}:{lst.ext_id}",
                    "title": lst.title,
                    "brand": lst.brand_text,
                    "model": lst.model_text,
                    "gtin": lst.product.gtin or "",
                }
            )
            if limit is not None and len(out) >= limit:
                return out
    return out


def truth_pairs() -> set[tuple[str, str]]:
    """(listing id, recall number) of every listing of a recalled product."""
    w = world()
    out = set()
    for k in range(w.recall_count()):
        r = w.recall(k)
        if r.matched_product is None:
            continue
        for key in w.listings_of(r.matched_product):
            lst = w.listing(*key)
            out.add((f"{lst.platform}:{lst.ext_id}", r.number))
    return out


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of the tables an import writes, in a stable order."""
    from ecqm.warehouse import schema

    tables = (
        schema.stg_recalls,
        schema.recalls,
        schema.quarantine,
        schema.process_runs,
        schema.process_watermarks,
        schema.dq_results,
    )
    out = {}
    with engine.connect() as conn:
        for t in tables:
            order = list(t.primary_key.columns)
            rows = conn.execute(select(t).order_by(*order)).all()
            out[t.name] = [tuple(r) for r in rows]
    return out
