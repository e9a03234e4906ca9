"""Every SQL file people read (sql/marts/*.sql, sql/roles.sql) passes sqlfluff with the
repository's .sqlfluff (postgres dialect)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlfluff.core import FluffConfig, Linter

ROOT = Path(__file__).resolve().parents[2]
SQL_FILES = sorted((ROOT / "sql").rglob("*.sql"))


@pytest.fixture(scope="module")
def linter():
    config = FluffConfig.from_path(str(ROOT))
    return Linter(config=config)


def _violations(linter, sql: str, name: str) -> list[str]:
    linted = linter.lint_string(sql, fname=name)
    return [
        f"{name}:{v.line_no}:{v.line_pos}: {v.rule_code()} {v.desc()}"
        for v in linted.get_violations()
    ]


def test_the_config_is_the_repositorys():
    config = FluffConfig.from_path(str(ROOT))
    assert config.get("dialect") == "postgres"
    assert config.get("templater") == "raw"
    assert config.get("max_line_length") == 100


def test_there_are_marts_and_roles():
    names = {p.relative_to(ROOT).as_posix() for p in SQL_FILES}
    assert "sql/roles.sql" in names
    assert {"sql/marts/mart_risk_current.sql", "sql/marts/mart_sampling_plan.sql"} <= names


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_sql_passes_sqlfluff(linter, path):
    name = path.relative_to(ROOT).as_posix()
    problems = _violations(linter, path.read_text(encoding="utf-8"), name)
    assert not problems, (
        f"sqlfluff finds {len(problems)} problem(s); see them with "
        f"`.venv/bin/sqlfluff lint {name}` (`sqlfluff fix` mends the layout ones):\n"
        + "\n".join(problems)
    )


def test_the_linter_catches_what_the_house_style_forbids(linter):
    bad = (
        "WITH Final AS (\n"
        "    select a.x y, b.z from t a join u b on a.k = b.k\n"
        ")\n"
        "select * from final -- " + "长" * 100 + "\n"
    )
    codes = {p.split(": ")[1].split()[0] for p in _violations(linter, bad, "bad.sql")}
    # upper-case keywords, implicit aliases, a bare join, an over-long line
    assert {"CP01", "AL01", "AL02", "AM05", "LT05"} <= codes


def test_unparsable_sql_is_a_violation(linter):
    problems = _violations(linter, "select a from t where (\n", "broken.sql")
    assert any(" PRS " in p for p in problems)
