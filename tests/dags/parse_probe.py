"""Run in a fresh interpreter: parse each DAG file and report what parsing did.

Prints one JSON object: per file, the parse seconds, the DAG ids, import errors, heavy
modules the parse pulled in, and any network connection it attempted. The warehouse URL
points at a file that must not come into existence.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

HEAVY = (
    "pandas",
    "numpy",
    "sklearn",
    "scrapy",
    "great_expectations",
    "jieba",
    "extruct",
    "sqlalchemy.dialects.postgresql.psycopg",
    "psycopg",
    "crawlers",
    "risk_models",
    "transforms",
    "simulator",
    "openpyxl",
)

attempts: list[str] = []
_real_connect = socket.socket.connect


def _guard(self, address):  # noqa: ANN001
    if isinstance(address, tuple):
        attempts.append(repr(address))
        raise OSError(f"network access while parsing a DAG file: {address!r}")
    return _real_connect(self, address)


def main(paths: list[str]) -> None:
    import airflow.sdk  # noqa: F401 — paid once, not charged to the first file
    import pendulum  # noqa: F401
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import BaseHook, Connection

    lookups: list[str] = []
    BaseHook.get_connection = classmethod(lambda cls, conn_id: lookups.append(conn_id))
    Connection.get = classmethod(lambda cls, conn_id, *a, **k: lookups.append(conn_id))
    socket.socket.connect = _guard
    report = {}
    for path in paths:
        before = set(sys.modules)
        attempts.clear()
        lookups.clear()
        start = time.perf_counter()
        bag = DagBag(dag_folder=path)
        seconds = time.perf_counter() - start
        new = set(sys.modules) - before
        report[Path(path).name] = {
            "seconds": round(seconds, 4),
            "dag_ids": sorted(bag.dag_ids),
            "import_errors": {k: str(v)[-2000:] for k, v in bag.import_errors.items()},
            "heavy_modules": sorted(m for m in new if m.split(".")[0] in HEAVY or m in HEAVY),
            "network": list(attempts),
            "connection_lookups": list(lookups),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
