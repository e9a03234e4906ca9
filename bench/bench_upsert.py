"""Bulk upsert throughput on PostgreSQL, side by side with the ceiling and the usual way.

Three ways of loading the same rows into an empty copy of ``stg_listings``:

- ``copy``: plain ``COPY … FROM STDIN`` into the empty table — the ceiling;
- ``ecqm upsert``: :func:`ecqm.warehouse.bulk.upsert` (checks, COPY into a temporary
  table, ``INSERT … ON CONFLICT``), then the same rows again (all unchanged) and with
  10% changed;
- ``to_sql``: ``DataFrame.to_sql(..., if_exists="append")``, what one writes by hand
  (it cannot update; a second load would duplicate or fail).

Each is run ``--repeat`` times and the best time kept. Target: the upsert of new rows
at least half the speed of plain COPY.

    python -m bench.bench_upsert --rows 100000 --url postgresql://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import record
from ecqm.settings import normalise_database_url
from ecqm.warehouse import migrate
from ecqm.warehouse.bulk import upsert
from ecqm.warehouse.engine import json_dumps, make_engine
from ecqm.warehouse.schema import stg_listings

FETCHED = dt.datetime(2026, 3, 5, 1, 30, tzinfo=dt.UTC)


def make_rows(n: int, version: int = 0) -> list[dict]:
    rows = []
    for i in range(n):
        payload = {
            "title": f"优品 电热水壶 MK-15S{i % 97:02d}A 1.5L 304不锈钢 家用烧水壶 v{version if i % 10 == 0 else 0}",
            "price": f"¥{100 + i % 900}.00",
            "sales": "月销1.2万+",
            "shop": {"id": f"S{i % 5000}", "name": "某某旗舰店"},
        }
        rows.append(
            {
                "source": "youpin",
                "platform": "youpin",
                "external_id": f"YP{i:09d}",
                "payload_sha256": hashlib.sha256(str(i).encode()).hexdigest(),
                "crawl_run_id": f"bench-{version}",
                "url": f"http://127.0.0.1:8000/youpin/item/{i}.html",
                "fetched_at": FETCHED,
                "evidence_sha256": hashlib.sha256(f"e{i}".encode()).hexdigest(),
                "payload": payload,
            }
        )
    return rows


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A database of the benchmark's own on the server of ``server_url``, dropped after."""
    admin_url = make_url(normalise_database_url(server_url))
    if admin_url.get_backend_name() != "postgresql":
        raise SystemExit("this benchmark compares against COPY: give a PostgreSQL URL")
    name = f"ecqm_bench_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run(url: str, n: int, repeat: int = 3) -> dict:
    engine = make_engine(url)
    migrate.upgrade(engine)
    rows = make_rows(n)
    columns = list(rows[0])

    def reset(name: str) -> None:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            conn.execute(text(f"CREATE TABLE {name} (LIKE stg_listings INCLUDING ALL)"))

    def plain_copy() -> None:
        with engine.begin() as conn:
            with conn.connection.driver_connection.cursor() as cur:
                with cur.copy(f"COPY bench_copy ({', '.join(columns)}) FROM STDIN") as cp:
                    for r in rows:
                        cp.write_row(
                            [json_dumps(r[c]) if c == "payload" else r[c] for c in columns]
                        )

    def to_sql() -> None:
        import pandas as pd

        df = pd.DataFrame(rows)
        df["payload"] = df["payload"].map(json.dumps)
        df.to_sql("bench_to_sql", engine, if_exists="append", index=False, chunksize=10_000)

    def fresh_stg_listings() -> None:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE stg_listings"))

    changed = make_rows(n, version=1)
    for r in changed[::10]:
        r["url"] += "?v=1"
    t_copy = t_upsert = t_again = t_changed = t_to_sql = float("inf")
    for _ in range(repeat):
        reset("bench_copy")
        t_copy = min(t_copy, _timed(plain_copy))
        fresh_stg_listings()
        t_upsert = min(t_upsert, _timed(lambda: upsert(engine, stg_listings, rows)))
        t_again = min(t_again, _timed(lambda: upsert(engine, stg_listings, rows)))
        t_changed = min(t_changed, _timed(lambda: upsert(engine, stg_listings, changed)))
        reset("bench_to_sql")
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE bench_to_sql ALTER COLUMN payload TYPE text")
        t_to_sql = min(t_to_sql, _timed(to_sql))
    with engine.begin() as conn:
        count = conn.execute(text("select count(*) from stg_listings")).scalar_one()
        conn.execute(text("DROP TABLE bench_copy"))
        conn.execute(text("DROP TABLE bench_to_sql"))
    assert count == n, f"upserts left {count} rows, expected {n}"
    engine.dispose()
    rate = lambda t: round(n / t)  # noqa: E731
    return {
        "rows": n,
        "repeat": repeat,
        "statistic": "best of repeat",
        "rows_per_second": {
            "copy_ceiling": rate(t_copy),
            "ecqm_upsert_new": rate(t_upsert),
            "ecqm_upsert_unchanged": rate(t_again),
            "ecqm_upsert_10pct_changed": rate(t_changed),
            "dataframe_to_sql": rate(t_to_sql),
        },
        "ratio_upsert_to_copy": round(t_copy / t_upsert, 3),
        "ratio_upsert_to_to_sql": round(t_to_sql / t_upsert, 2),
        "target": "ecqm_upsert_new >= 0.5 x copy_ceiling",
        "meets_target": t_copy / t_upsert >= 0.5,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "ECQM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server to connect to; the benchmark creates and drops a database of its own",
    )
    args = parser.parse_args(argv)
    with scratch_database(args.url) as url:
        result = run(url, args.rows, args.repeat)
    record("upsert_postgresql", result)
    r = result["rows_per_second"]
    print(f"bulk load of {args.rows:,} rows into stg_listings on PostgreSQL (rows/s):")
    for name, value in r.items():
        print(f"  {name:28s} {value:>10,}")
    print(f"  upsert / plain COPY   = {result['ratio_upsert_to_copy']:.2f}  (target >= 0.50)")
    print(f"  upsert vs to_sql      = {result['ratio_upsert_to_to_sql']:.1f}x faster")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
