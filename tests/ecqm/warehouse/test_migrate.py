"""Migrations: idempotent upgrade, downgrade/upgrade round trip, schema equals the code."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ecqm.warehouse import migrate
from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.schema import (
    CORE_TABLES,
    MONITORING_TABLES,
    PROCESS_TABLES,
    REFERENCE_TABLES,
    RESULTS_TABLES,
    REVIEW_TABLES,
    RISK_TABLES,
    STAGING_TABLES,
    metadata,
)


def _schema_snapshot(engine) -> dict:
    insp = inspect(engine)
    snap = {}
    for name in sorted(insp.get_table_names()):
        snap[name] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(name)],
            "unique": sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(name)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"])) for i in insp.get_indexes(name)
            ),
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in insp.get_foreign_keys(name)
            ),
        }
    return snap


def _diff_with_code(engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, metadata)


def test_upgrade_creates_every_table_and_matches_the_code(database_url):
    engine = make_engine(database_url)
    status = migrate.upgrade(engine)
    assert status.before is None and status.after == migrate.head_revision() and status.changed
    tables = set(inspect(engine).get_table_names())
    expected = {
        t.name
        for t in (
            *STAGING_TABLES,
            *REFERENCE_TABLES,
            *CORE_TABLES,
            *PROCESS_TABLES,
            *RISK_TABLES,
            *MONITORING_TABLES,
            *RESULTS_TABLES,
            *REVIEW_TABLES,
        )
    }
    assert expected <= tables
    assert _diff_with_code(engine) == [], "migrations and ecqm.warehouse.schema disagree"
    engine.dispose()


def test_second_upgrade_changes_nothing(database_url):
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    before = _schema_snapshot(engine)
    status = migrate.upgrade(engine)
    assert not status.changed
    assert _schema_snapshot(engine) == before
    engine.dispose()


def test_downgrade_then_upgrade_round_trips(database_url):
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    before = _schema_snapshot(engine)
    down = migrate.downgrade(engine, "base")
    assert down.after is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert _schema_snapshot(engine) == before
    assert _diff_with_code(engine) == []
    engine.dispose()


def test_current_revision_reports_behind(database_url):
    engine = make_engine(database_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
