"""Checks, while the image is built, that it can run ecqm; a failure fails the build.

- every installed distribution is pinned in constraints.txt, at that version;
- ecqm runs from the repository tree this file is in (/opt/ecqm), so the marts (sql/marts) and the DAG
  folder are where ecqm and Airflow look for them;
- the DAGs import without errors (parsing touches no database and no network).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # /opt/ecqm in the image


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def check_pins() -> list[str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_name(name)] = version.strip()
    problems = []
    for dist in metadata.distributions():
        name = _name(dist.metadata["Name"])
        if name == "ecqm":
            continue
        if name not in pins:
            problems.append(f"{name} {dist.version} is installed but not pinned in constraints.txt")
        elif pins[name] != dist.version:
            problems.append(f"{name} is {dist.version}, constraints.txt pins {pins[name]}")
    return problems


def check_layout() -> list[str]:
    from ecqm import settings
    from ecqm.warehouse.marts import mart_files

    problems = []
    if settings.PROJECT_ROOT != ROOT:
        problems.append(f"ecqm is imported from {settings.PROJECT_ROOT}, not {ROOT} (PYTHONPATH)")
    if not mart_files():
        problems.append("no marts in sql/marts")
    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if dags != settings.DAGS_FOLDER or not any(dags.glob("*.py")):
        problems.append(f"AIRFLOW__CORE__DAGS_FOLDER={dags} is not ecqm's dags/")
    return problems


def check_dags() -> list[str]:
    with tempfile.TemporaryDirectory() as home:  # no airflow.cfg left in the image
        os.environ["AIRFLOW_HOME"] = home
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
        problems = [f"{path}: {error}" for path, error in bag.import_errors.items()]
        if not bag.dags:
            problems.append("no DAGs found")
        print(f"check-image: {len(bag.dags)} DAGs import cleanly", file=sys.stderr)
        return problems


def main() -> int:
    problems = check_pins() + check_layout()
    problems += check_dags() if not problems else []
    for problem in problems:
        print(f"check-image: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
