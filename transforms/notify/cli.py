"""``ecqm deliver``, ``ecqm remind``, ``ecqm ack-server`` and ``ecqm import acks``.

- ``ecqm deliver``: send what is due in the notifications outbox (exit 0; dead letters
  are listed on standard error for a person to look at);
- ``ecqm remind``: queue reminders for overdue acknowledgements, then escalations;
- ``ecqm ack-server --port 8765``: the ``POST /ack`` receiver, until Ctrl-C;
- ``ecqm import acks FILE``: acknowledgements from a CSV or XLSX, taken whole or not at
  all (exit 2 when rejected, with the error report beside the file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

REJECTED = 2


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time like 2026-11-23T10:00Z") from exc
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs an offset (Z or +08:00)")
    return moment.astimezone(dt.UTC)


def register(sub: Any) -> None:
    """Add ``deliver``, ``remind`` and ``ack-server`` to the ``ecqm`` subcommands."""
    p = sub.add_parser("deliver", help="send the notices due in the outbox (e-mail, webhook, file)")
    p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    p.add_argument("--now", type=_moment, help="act as if it were this time (default: now)")
    p.add_argument("--batch", type=int, help="rows claimed per transaction (default 10)")
    p.add_argument("--limit", type=int, help="send at most this many")
    p.set_defaults(func=_deliver)

    p = sub.add_parser(
        "remind", help="queue reminders and escalations for overdue acknowledgements"
    )
    p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    p.add_argument("--now", type=_moment, help="act as if it were this time (default: now)")
    p.set_defaults(func=_remind)

    p = sub.add_parser("ack-server", help="receive signed acknowledgements on POST /ack")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    p.set_defaults(func=_ack_server)


def register_import(imp_sub: Any) -> None:
    """Add ``acks`` to the subparsers of ``ecqm import``."""
    text = "acknowledgements of notices (回执): 通知编号, 回执类型, 回执时间, 备注"
    p = imp_sub.add_parser("acks", help=text, description=text)
    p.add_argument("file", type=Path, help="CSV (UTF-8 or GBK) or XLSX")
    p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    p.set_defaults(func=_import_acks)


def shown_settings(s: Any) -> dict[str, Any]:
    """The notification settings as ``ecqm settings`` prints them; secrets masked."""
    return {
        "ECQM_SMTP_HOST": s.smtp_host,
        "ECQM_SMTP_PORT": s.smtp_port,
        "ECQM_SMTP_SECURITY": s.smtp_security,
        "ECQM_SMTP_USERNAME": s.smtp_username,
        "ECQM_SMTP_PASSWORD": "***" if s.smtp_password else None,
        "ECQM_SMTP_SENDER": s.smtp_sender,
        "ECQM_SMTP_CA_FILE": s.smtp_ca_file,
        "ECQM_SMTP_TIMEOUT": s.smtp_timeout,
        "ECQM_WEBHOOK_TIMEOUT": s.webhook_timeout,
        "ECQM_WEBHOOK_MAX_ATTEMPTS": s.webhook_max_attempts,
        "ECQM_NOTIFY_MAX_ATTEMPTS": s.notify_max_attempts,
        "ECQM_NOTIFY_BACKOFF_S": s.notify_backoff_s,
        "ECQM_NOTIFY_MAX_REMINDERS": s.notify_max_reminders,
        "ECQM_NOTIFY_REMINDER_INTERVAL_H": s.notify_reminder_interval_h,
        "ECQM_NOTIFY_ESCALATE_TO": s.notify_escalate_to,
    }


def _url(args: argparse.Namespace) -> str:
    from ecqm import settings

    return args.url or settings.load().warehouse_url


def _deliver(args: argparse.Namespace) -> int:
    from transforms.notify.tasks import deliver

    try:
        report = deliver(
            _url(args), args.now, use_airflow=False, batch=args.batch, limit=args.limit
        )
    except ValueError as exc:  # a setting that cannot work (e-mail without a sender)
        print(f"ecqm: {exc}", file=sys.stderr)
        return REJECTED
    print(report["summary"])
    for key in report["dead_keys"]:
        print(f"  dead letter: {key}", file=sys.stderr)
    return 0


def _remind(args: argparse.Namespace) -> int:
    from transforms.notify.tasks import remind

    report = remind(_url(args), args.now)
    print(report["summary"])
    for key in report["keys"]:
        print(f"  queued {key}")
    return 0


def _ack_server(args: argparse.Namespace) -> int:
    from ecqm.warehouse.engine import make_engine
    from transforms.notify.receiver import serve

    engine = make_engine(_url(args))
    try:
        serve(engine, args.host, args.port)
    except KeyboardInterrupt:
        return 0
    finally:
        engine.dispose()
    return 0


def _import_acks(args: argparse.Namespace) -> int:
    from ecqm import settings
    from ecqm.warehouse.engine import make_engine
    from transforms.notify.acks import import_acks

    s = settings.load()
    engine = make_engine(args.url or s.warehouse_url)
    try:
        report = import_acks(engine, args.file, home=s.home, max_bytes=s.inbox_max_bytes)
    except OSError as exc:
        print(f"ecqm: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return REJECTED
    finally:
        engine.dispose()
    if report.status == "rejected":
        print(f"ecqm: {report.summary()}:", file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        print(f"error report: {report.error_report}", file=sys.stderr)
        return REJECTED
    print(report.summary())
    for problem in report.warnings:
        print(f"  {problem}", file=sys.stderr)
    if report.archived_as:
        print(f"archived as {report.archived_as}")
    return 0
