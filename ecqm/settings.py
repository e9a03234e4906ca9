"""The one settings object of ecqm.

Everything is read from ``ECQM_*`` environment variables, with defaults that make
``make demo`` work with nothing set. Secrets only ever come from the environment
or, inside Airflow, from connections (the ``ecqm_warehouse`` connection wins over
``ECQM_WAREHOUSE_URL`` there).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = PROJECT_ROOT / "dags"
AIRFLOW_WAREHOUSE_CONN_ID = "ecqm_warehouse"
DEFAULT_USER_AGENT = "ecqm-monitor/0.1 (+https://github.com/ecqm/ecqm; quality monitoring)"
DEFAULT_INBOX_MAX_BYTES = 50 * 1024 * 1024
AIRFLOW_SMTP_CONN_ID = "ecqm_smtp"
SMTP_SECURITY = ("starttls", "ssl", "none")
SMTP_DEFAULT_PORT = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class Settings:
    """Where things are and how to reach them. Build with :func:`load`."""

    home: Path
    warehouse_url: str
    landing_url: str
    airflow_home: Path
    user_agent: str
    simulator_url: str | None
    crawl_settings: dict[str, Any]
    pii_salt_env: str | None = None
    # The largest inbox file taken (``ECQM_INBOX_MAX_BYTES``); a larger one is refused unread.
    inbox_max_bytes: int = DEFAULT_INBOX_MAX_BYTES
    # Notifications (``docs/notifications.md``). E-mail is off while ``ECQM_SMTP_HOST`` is
    # unset. The password comes from the environment only (inside Airflow the connection
    # ``ecqm_smtp`` wins) and is never printed.
    smtp_host: str | None = None
    smtp_port: int = SMTP_DEFAULT_PORT["starttls"]
    smtp_security: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_sender: str | None = None
    smtp_ca_file: str | None = None
    smtp_timeout: float = 30.0
    webhook_timeout: float = 10.0
    webhook_max_attempts: int = 4
    # The outbox dead-letters a notice after this many delivery attempts, waiting
    # ``notify_backoff_s``·2ⁿ (capped) between them.
    notify_max_attempts: int = 8
    notify_backoff_s: float = 300.0
    # Reminders when an acknowledgement is overdue, then an escalation notice.
    notify_max_reminders: int = 2
    notify_reminder_interval_h: float = 48.0
    notify_escalate_to: str | None = None
    # Marts stored as MATERIALIZED VIEWs on PostgreSQL (``ECQM_MATERIALISED_MARTS``, comma
    # separated; plain views elsewhere). They are as fresh as their last refresh:
    # ``ecqm warehouse refresh-marts`` (ecqm/warehouse/marts.py).
    materialised_marts: tuple[str, ...] = ()

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @property
    def inbox_dir(self) -> Path:
        return self.home / "inbox"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    def pii_salt(self) -> bytes:
        """The salt for pseudonymising personal data: ``ECQM_PII_SALT``, or else a random
        salt made once for this ``ECQM_HOME`` and kept in ``secrets/pii_salt`` (mode 0600),
        so the same person gets the same pseudonym on every run of one installation."""
        if self.pii_salt_env:
            return self.pii_salt_env.encode("utf-8")
        path = self.home / "secrets" / "pii_salt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        salt = path.read_text().strip()
        if len(salt) < 32:
            raise ValueError(f"{path} holds a salt of {len(salt)} characters; it needs at least 32")
        return salt.encode("utf-8")

    @property
    def is_sqlite(self) -> bool:
        return self.warehouse_url.startswith("sqlite")

    def airflow_environ(self) -> dict[str, str]:
        """Environment for an Airflow process that runs ecqm's DAGs."""
        return {
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "ECQM_HOME": str(self.home),
            "ECQM_WAREHOUSE_URL": self.warehouse_url,
            "ECQM_LANDING_URL": self.landing_url,
        }


def normalise_database_url(url: str) -> str:
    """Give a database URL the driver ecqm installs (psycopg 3 for PostgreSQL).

    Airflow connections render PostgreSQL as ``postgres://`` and people often write
    ``postgresql://``; SQLAlchemy would pick psycopg2 for both, which is not installed.
    """
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("ECQM_HOME") or "var").expanduser()
    if not home.is_absolute():
        home = (Path.cwd() / home).resolve()
    warehouse_url = env.get("ECQM_WAREHOUSE_URL") or f"sqlite:///{home / 'warehouse.db'}"
    return Settings(
        home=home,
        warehouse_url=normalise_database_url(warehouse_url),
        landing_url=env.get("ECQM_LANDING_URL") or str(home / "landing"),
        airflow_home=Path(env.get("AIRFLOW_HOME") or home / "airflow"),
        user_agent=env.get("ECQM_USER_AGENT") or DEFAULT_USER_AGENT,
        simulator_url=env.get("ECQM_SIMULATOR_URL") or None,
        crawl_settings=_json_object(env, "ECQM_CRAWL_SETTINGS"),
        pii_salt_env=env.get("ECQM_PII_SALT") or None,
        inbox_max_bytes=_positive_int(env, "ECQM_INBOX_MAX_BYTES", DEFAULT_INBOX_MAX_BYTES),
        materialised_marts=_names(env, "ECQM_MATERIALISED_MARTS"),
        **_notify_settings(env),
    )


def _notify_settings(env: Mapping[str, str]) -> dict[str, Any]:
    security = (env.get("ECQM_SMTP_SECURITY") or "starttls").strip().lower()
    if security not in SMTP_SECURITY:
        raise ValueError(f"ECQM_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}")
    reminders = (env.get("ECQM_NOTIFY_MAX_REMINDERS") or "").strip()
    if reminders and not (reminders.isdigit() and int(reminders) <= 20):
        raise ValueError(f"ECQM_NOTIFY_MAX_REMINDERS must be 0 to 20, got {reminders!r}")
    return {
        "smtp_host": (env.get("ECQM_SMTP_HOST") or "").strip() or None,
        "smtp_port": _positive_int(env, "ECQM_SMTP_PORT", SMTP_DEFAULT_PORT[security]),
        "smtp_security": security,
        "smtp_username": env.get("ECQM_SMTP_USERNAME") or None,
        "smtp_password": env.get("ECQM_SMTP_PASSWORD") or None,
        "smtp_sender": env.get("ECQM_SMTP_SENDER") or None,
        "smtp_ca_file": env.get("ECQM_SMTP_CA_FILE") or None,
        "smtp_timeout": _positive_float(env, "ECQM_SMTP_TIMEOUT", 30.0),
        "webhook_timeout": _positive_float(env, "ECQM_WEBHOOK_TIMEOUT", 10.0),
        "webhook_max_attempts": _positive_int(env, "ECQM_WEBHOOK_MAX_ATTEMPTS", 4),
        "notify_max_attempts": _positive_int(env, "ECQM_NOTIFY_MAX_ATTEMPTS", 8),
        "notify_backoff_s": _positive_float(env, "ECQM_NOTIFY_BACKOFF_S", 300.0),
        "notify_max_reminders": int(reminders) if reminders else 2,
        "notify_reminder_interval_h": _positive_float(env, "ECQM_NOTIFY_REMINDER_INTERVAL_H", 48.0),
        "notify_escalate_to": (env.get("ECQM_NOTIFY_ESCALATE_TO") or "").strip() or None,
    }


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be more than 0, got {text}")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be more than 0, got {value}")
    return value


def _names(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of lower-case SQL names, in order, each once."""
    names: list[str] = []
    for part in (env.get(name) or "").split(","):
        word = part.strip()
        if not word:
            continue
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", word):
            raise ValueError(f"{name}: {word!r} is not a lower-case name like mart_risk_current")
        if word not in names:
            names.append(word)
    return tuple(names)


def _json_object(env: Mapping[str, str], name: str) -> dict[str, Any]:
    text = env.get(name)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(
            f"{name} must be a JSON object of Scrapy settings, got {type(value).__name__}"
        )
    return value


def warehouse_url_for_task(environ: Mapping[str, str] | None = None) -> str:
    """The warehouse URL inside an Airflow task: connection ``ecqm_warehouse`` first.

    Called at task run time only, never while a DAG file is parsed.
    """
    try:
        from airflow.sdk import Connection
    except ImportError:  # not running under Airflow
        return load(environ).warehouse_url
    try:
        conn = Connection.get(AIRFLOW_WAREHOUSE_CONN_ID)
    except Exception:  # AirflowNotFoundException and friends: no connection defined
        return load(environ).warehouse_url
    return normalise_database_url(conn.get_uri())
