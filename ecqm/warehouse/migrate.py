"""Warehouse migrations: Alembic, driven from code (``ecqm warehouse upgrade``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ecqm.warehouse.engine import make_engine
from ecqm.warehouse.marts import create_marts, drop_marts

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class MigrationStatus:
    before: str | None
    after: str | None
    head: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _run(engine: Engine, action: str, revision: str) -> MigrationStatus:
    before = current_revision(engine)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        drop_marts(conn)
        getattr(command, action)(cfg, revision)
        if action == "upgrade":
            create_marts(conn)
    return MigrationStatus(before, current_revision(engine), head_revision())


def upgrade(engine: Engine | None = None, revision: str = "head") -> MigrationStatus:
    """Bring the warehouse to ``revision``; a second call changes nothing."""
    return _run(engine or make_engine(), "upgrade", revision)


def downgrade(engine: Engine | None = None, revision: str = "base") -> MigrationStatus:
    return _run(engine or make_engine(), "downgrade", revision)
