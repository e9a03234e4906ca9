"""The outbox's settings (``ECQM_SMTP_*``, ``ECQM_WEBHOOK_*``, ``ECQM_NOTIFY_*``), the
channel factory built from them, and ``ecqm settings`` keeping the password to itself."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from ecqm import settings
from transforms.notify.outbox import ChannelFactory, deliver

NOW = dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.UTC)
SMTP_ENV = {
    "ECQM_SMTP_HOST": "smtp.example.cn",
    "ECQM_SMTP_USERNAME": "notify",
    "ECQM_SMTP_PASSWORD": "p4ssw0rd-not-for-printing",
    "ECQM_SMTP_SENDER": "监测中心 <notify@example.cn>",
}

# The test servers require AUTH without TLS on purpose in places; aiosmtpd warns.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def test_defaults_leave_email_off():
    s = settings.load({})
    assert s.smtp_host is None and s.smtp_security == "starttls" and s.smtp_port == 587
    assert (s.notify_max_attempts, s.notify_backoff_s) == (8, 300.0)
    assert (s.webhook_timeout, s.webhook_max_attempts, s.smtp_timeout) == (10.0, 4, 30.0)
    assert s.notify_max_reminders == 2 and s.notify_reminder_interval_h == 48.0
    factory = ChannelFactory.from_settings(s)
    assert factory.channels == {"webhook", "file"}
    assert factory.outbox_dir == s.outbox_dir / "notices"


@pytest.mark.parametrize(("security", "port"), [("ssl", 465), ("starttls", 587), ("none", 25)])
def test_the_port_follows_the_security(security, port):
    assert settings.load({"ECQM_SMTP_SECURITY": security}).smtp_port == port
    assert (
        settings.load({"ECQM_SMTP_SECURITY": security, "ECQM_SMTP_PORT": "2525"}).smtp_port == 2525
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ECQM_SMTP_SECURITY", "tls"),
        ("ECQM_SMTP_PORT", "smtp"),
        ("ECQM_NOTIFY_MAX_ATTEMPTS", "0"),
        ("ECQM_NOTIFY_BACKOFF_S", "-5"),
        ("ECQM_WEBHOOK_TIMEOUT", "nan"),
        ("ECQM_NOTIFY_MAX_REMINDERS", "many"),
    ],
)
def test_bad_values_are_refused_by_name(name, value):
    with pytest.raises(ValueError, match=name):
        settings.load({name: value})


def test_the_password_never_shows():
    s = settings.load(SMTP_ENV)
    assert s.smtp_password == SMTP_ENV["ECQM_SMTP_PASSWORD"]
    assert "p4ssw0rd" not in repr(s)
    out = subprocess.run(
        [sys.executable, "-m", "ecqm", "settings"],
        capture_output=True,
        text=True,
        env={**os.environ, **SMTP_ENV},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert "p4ssw0rd" not in out.stdout and shown["ECQM_SMTP_PASSWORD"] == "***"
    assert shown["ECQM_SMTP_HOST"] == "smtp.example.cn" and shown["ECQM_SMTP_USERNAME"] == "notify"


def test_email_needs_a_sender():
    with pytest.raises(ValueError, match="ECQM_SMTP_SENDER"):
        ChannelFactory.from_settings(settings.load({"ECQM_SMTP_HOST": "smtp.example.cn"}))


def test_the_airflow_connection_wins_for_the_login():
    s = settings.load(SMTP_ENV)
    factory = ChannelFactory.from_settings(
        s,
        smtp_connection={"host": "relay.example.cn", "port": 2525, "login": "af", "password": "pw"},
    )
    smtp = factory.channel_for({"channel": "email"})
    assert (smtp.host, smtp.port, smtp.username, smtp.password) == (
        "relay.example.cn",
        2525,
        "af",
        "pw",
    )
    assert smtp.starttls and not smtp.ssl


def test_delivery_from_the_settings_over_starttls_with_auth(
    warehouse_engine, queue_notices, smtp_server, tls_files
):
    sink = smtp_server(tls="starttls", auth=True)
    s = settings.load(
        {
            **SMTP_ENV,
            "ECQM_SMTP_HOST": "127.0.0.1",
            "ECQM_SMTP_PORT": str(sink.port),
            "ECQM_SMTP_USERNAME": sink.user,
            "ECQM_SMTP_PASSWORD": sink.password,
            "ECQM_SMTP_CA_FILE": str(tls_files.ca_file),
            "ECQM_SMTP_TIMEOUT": "5",
        }
    )
    queue_notices(warehouse_engine, ["k-1"], channel="email", address="a@shop.example.cn", now=NOW)
    report = deliver(warehouse_engine, NOW, ChannelFactory.from_settings(s))
    assert report.sent_keys == ["k-1"]
    [mail] = sink.messages
    assert mail.tls and mail.login == sink.user and mail.rcpt_tos == ["a@shop.example.cn"]


def test_webhook_secrets_come_only_from_the_names_allowed(monkeypatch):
    from transforms.notify.outbox import ChannelUnavailable, resolve_secret

    env = {"ECQM_WEBHOOK_SECRET_A": "from-env", "ECQM_SMTP_PASSWORD": "no"}
    assert resolve_secret({"secret_env": "ECQM_WEBHOOK_SECRET_A"}, env) == "from-env"
    with pytest.raises(ChannelUnavailable, match="not an ECQM_WEBHOOK_SECRET_"):
        resolve_secret({"secret_env": "ECQM_SMTP_PASSWORD"}, env)
    with pytest.raises(ChannelUnavailable, match="not an ecqm_webhook"):
        resolve_secret({"secret_conn": "ecqm_warehouse"}, env)
    # An Airflow connection's password, here from AIRFLOW_CONN_* as Airflow reads it.
    monkeypatch.setenv("AIRFLOW_CONN_ECQM_WEBHOOK_SHOPX", "https://:s3cr%40t@hook.example.cn")
    assert resolve_secret({"secret_conn": "ecqm_webhook_shopx"}, env) == "s3cr@t"
    with pytest.raises(ChannelUnavailable, match="has no password"):
        resolve_secret({"secret_conn": "ecqm_webhook_missing"}, env)
