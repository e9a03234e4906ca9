from __future__ import annotations

from pathlib import Path

import pytest

from ecqm import settings


def test_defaults_make_the_demo_work_with_nothing_set(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = settings.load({})
    assert s.home == tmp_path / "var"
    assert s.warehouse_url == f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}"
    assert s.landing_url == str(tmp_path / "var" / "landing")
    assert s.airflow_home == tmp_path / "var" / "airflow"
    assert s.evidence_dir == tmp_path / "var" / "evidence"
    assert s.inbox_dir == tmp_path / "var" / "inbox" and s.outbox_dir == tmp_path / "var" / "outbox"
    assert s.is_sqlite and "ecqm" in s.user_agent


def test_environment_overrides(tmp_path):
    s = settings.load(
        {
            "ECQM_HOME": str(tmp_path / "h"),
            "ECQM_WAREHOUSE_URL": "postgresql://etl:pw@db:5432/wh",
            "ECQM_LANDING_URL": "s3://bucket/landing",
            "AIRFLOW_HOME": "/opt/airflow",
            "ECQM_USER_AGENT": "test-agent",
        }
    )
    assert s.home == tmp_path / "h"
    assert s.warehouse_url == "postgresql+psycopg://etl:pw@db:5432/wh" and not s.is_sqlite
    assert s.landing_url == "s3://bucket/landing"
    assert s.airflow_home == Path("/opt/airflow")
    assert s.user_agent == "test-agent"
    env = s.airflow_environ()
    assert env["AIRFLOW_HOME"] == "/opt/airflow"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("dags")
    assert env["ECQM_WAREHOUSE_URL"] == s.warehouse_url


def test_relative_home_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert settings.load({"ECQM_HOME": "data/ecqm"}).home == tmp_path / "data" / "ecqm"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_get_the_installed_driver(given, expected):
    assert settings.normalise_database_url(given) == expected


def test_outside_a_task_the_variable_is_used(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_ECQM_WAREHOUSE", raising=False)
    url = settings.warehouse_url_for_task({"ECQM_WAREHOUSE_URL": "sqlite:////tmp/w.db"})
    assert url == "sqlite:////tmp/w.db"


def test_crawl_settings_are_a_json_object():
    assert settings.load({}).crawl_settings == {}
    got = settings.load(
        {"ECQM_CRAWL_SETTINGS": '{"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": false}'}
    )
    assert got.crawl_settings == {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
    with pytest.raises(ValueError, match="ECQM_CRAWL_SETTINGS is not valid JSON"):
        settings.load({"ECQM_CRAWL_SETTINGS": "{DOWNLOAD_DELAY: 0}"})
    with pytest.raises(ValueError, match="must be a JSON object"):
        settings.load({"ECQM_CRAWL_SETTINGS": "[1, 2]"})


def test_pii_salt_comes_from_the_environment_or_a_private_file(tmp_path):
    assert (
        settings.load({"ECQM_HOME": str(tmp_path), "ECQM_PII_SALT": "x" * 40}).pii_salt()
        == b"x" * 40
    )
    s = settings.load({"ECQM_HOME": str(tmp_path)})
    first = s.pii_salt()
    assert len(first) == 64 and first == settings.load({"ECQM_HOME": str(tmp_path)}).pii_salt()
    path = tmp_path / "secrets" / "pii_salt"
    assert path.stat().st_mode & 0o777 == 0o600
    assert settings.load({"ECQM_HOME": str(tmp_path / "other")}).pii_salt() != first
    path.write_text("short")
    with pytest.raises(ValueError, match="needs at least 32"):
        s.pii_salt()
