"""The ``ecqm`` command line. Airflow tasks call the same functions."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from ecqm import __version__, settings


def _warehouse_upgrade(args: argparse.Namespace) -> int:
    from ecqm.warehouse import migrate
    from ecqm.warehouse.engine import make_engine

    engine = make_engine(args.url)
    status = migrate.upgrade(engine, args.revision)
    verb = "upgraded" if status.changed else "already at"
    print(f"warehouse {verb} {status.after} ({engine.url.render_as_string(hide_password=True)})")
    return 0


def _warehouse_refresh_marts(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import ProgrammingError

    from ecqm.warehouse.engine import make_engine
    from ecqm.warehouse.marts import (
        MATERIALIZED_VIEW,
        MartSqlError,
        mart_kinds,
        materialisation_drift,
        refresh_marts,
    )

    engine = make_engine(args.url)
    if engine.dialect.name != "postgresql":
        print(f"{engine.dialect.name}: every mart is a view, always current; nothing to refresh")
        return 0
    try:
        with engine.connect() as conn:
            for problem in materialisation_drift(conn):
                print(f"ecqm: {problem} (run: ecqm warehouse upgrade)", file=sys.stderr)
            kinds = mart_kinds(conn)
        names = args.marts or [n for n, k in kinds.items() if k == MATERIALIZED_VIEW]
        if not names:
            print("no materialised marts (ECQM_MATERIALISED_MARTS); nothing to refresh")
            return 0
        for name in names:  # one transaction each: a refreshed mart is kept if a later one fails
            with engine.begin() as conn:
                (done,) = refresh_marts(conn, [name])
            how = "concurrently" if done.concurrently else "readers waiting (no unique key)"
            print(f"{done.name}: refreshed {how} in {done.seconds:.1f} s")
    except MartSqlError as exc:
        print(f"ecqm: {exc}", file=sys.stderr)
        return 2
    except ProgrammingError as exc:  # a right missing: say which, not a traceback
        reason = str(exc.orig).strip().splitlines()[0]
        print(f"ecqm: run refresh-marts as the owner of the marts: {reason}", file=sys.stderr)
        return 1
    return 0


def _warehouse_downgrade(args: argparse.Namespace) -> int:
    from ecqm.warehouse import migrate
    from ecqm.warehouse.engine import make_engine

    status = migrate.downgrade(make_engine(args.url), args.revision)
    print(f"warehouse downgraded from {status.before} to {status.after or 'base'}")
    return 0


def _warehouse_current(args: argparse.Namespace) -> int:
    from ecqm.warehouse import migrate
    from ecqm.warehouse.engine import make_engine

    current = migrate.current_revision(make_engine(args.url))
    head = migrate.head_revision()
    print(
        f"current {current or 'none'}, head {head}"
        + ("" if current == head else " (run: ecqm warehouse upgrade)")
    )
    return 0 if current == head else 1


def _warehouse_load_reference(args: argparse.Namespace) -> int:
    from ecqm.warehouse.engine import make_engine
    from transforms.reference.load import load_reference

    engine = make_engine(args.url)
    with engine.begin() as conn:
        counts = load_reference(conn, args.data_dir)
    for table, result in counts.items():
        print(f"{table}: {_describe(result)}")
    return 0


def _warehouse_grant_bi(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import ProgrammingError

    from ecqm.warehouse.engine import make_engine
    from ecqm.warehouse.marts import bi_role_problems, grant_bi

    engine = make_engine(args.url)
    if engine.dialect.name != "postgresql":
        print("ecqm: SQLite has no roles; give BI tools the file read-only", file=sys.stderr)
        return 2
    try:
        with engine.begin() as conn:
            marts = grant_bi(conn, args.role)
            problems = bi_role_problems(conn, args.role)
    except ProgrammingError as exc:  # a right missing: say which, not a traceback
        reason = str(exc.orig).strip().splitlines()[0]
        print(f"ecqm: run grant-bi as the owner of the marts: {reason}", file=sys.stderr)
        return 1
    print(f"{args.role} reads {len(marts)} marts: {', '.join(marts) or 'none yet'}")
    for problem in problems:
        print(f"ecqm: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _process(args: argparse.Namespace, *, rebuild: bool) -> int:
    import datetime as dt

    from transforms.core import TableBreakage, tasks

    url = args.url or settings.load().warehouse_url
    run_id = args.run_id or ("rebuild" if rebuild else "manual") + dt.datetime.now(dt.UTC).strftime(
        "__%Y%m%dT%H%M%SZ"
    )
    try:
        report = (tasks.rebuild if rebuild else tasks.process)(url, run_id)
    except TableBreakage as exc:
        print(f"ecqm: run {run_id} finished but a table looks broken: {exc}", file=sys.stderr)
        return 2
    for stg, t in report["tables"].items():
        print(
            f"{stg:15} in {t['rows_in']:>8,}  core {t['to_core']:>8,}  merged {t['merged']:>7,}"
            f"  quarantined {t['quarantined']:>6,}  {'balanced' if t['balanced'] else 'NOT BALANCED'}"
        )
    if not report["tables"]:
        print("nothing new in staging")
    print("core now: " + ", ".join(f"{k} {v:,}" for k, v in report["core_counts"].items()))
    print(f"spam review clusters: {report['spam_flagged']:,} reviews flagged")
    problems = tasks.check_reconciliation(url, run_id)
    for p in problems:
        print(f"ecqm: reconciliation: {p}", file=sys.stderr)
    if report["data_docs"]:
        print(f"data docs: {report['data_docs']}")
    print(f"run {run_id}")
    return 1 if problems else 0


def _assess(args: argparse.Namespace) -> int:
    import datetime as dt

    from risk_models.tasks import as_of_for, assess

    url = args.url or settings.load().warehouse_url
    as_of = args.as_of or as_of_for(dt.datetime.now(dt.UTC))
    report = assess(url, as_of)
    print(
        f"assessed {report['products']:,} products as of {report['as_of']}: "
        + ", ".join(f"{lv} {n:,}" for lv, n in report["levels"].items())
    )
    print(
        f"reviews scored {report['reviews_scored']:,} (text model {report['review_model']}), "
        f"recall matches {report['recall_matches']:,}, signals {report['signals']:,}"
    )
    print(
        f"confirmed {report['confirmed']:,}, dismissed by staff {report['dismissed']:,}; "
        f"risk model {report['model_version']}, matrix {report['matrix_version']}"
    )
    return 0


def _plan(args: argparse.Namespace) -> int:
    import datetime as dt

    from transforms.plans.tasks import describe, period_for, plan_month, yuan_to_fen

    try:
        report = plan_month(
            args.url or settings.load().warehouse_url,
            period=args.period or period_for(dt.datetime.now(dt.UTC)),
            budget_purchases=args.budget,
            budget_fen=yuan_to_fen(args.yuan),
            seed=args.seed,
            plan_id=args.plan_id,
            as_of=args.as_of,
            categories=args.categories.split(",") if args.categories else None,
            platforms=args.platforms.split(",") if args.platforms else None,
        )
    except ValueError as exc:
        print(f"ecqm: {exc}", file=sys.stderr)
        return 2
    print(describe(report))
    return 0


def _estimate(args: argparse.Namespace) -> int:
    from transforms.plans.tasks import estimates

    rows = estimates(args.url or settings.load().warehouse_url, args.plan_id)
    for r in rows:
        est = "—" if r.get("estimate") is None else f"{r['estimate']:.1%}"
        ci = "" if r.get("ci_low") is None else f" (95% CI {r['ci_low']:.1%}–{r['ci_high']:.1%})"
        print(
            f"{r['category_code']:24s} audit {r['audit_failed']}/{r['audit_samples']} failed, "
            f"estimate {est}{ci}; targeted {r['targeted_failed']}/{r['targeted_samples']}"
        )
    return 0


def _train_risk_model(args: argparse.Namespace) -> int:
    from risk_models.tasks import train

    result = train(args.url or settings.load().warehouse_url, min_outcomes=args.min_outcomes)
    print(result["reason"])
    return 0


def _import_risk_decisions(args: argparse.Namespace) -> int:
    from ecqm.warehouse.engine import make_engine
    from risk_models.decisions import DecisionFileError, import_decisions

    engine = make_engine(args.url or settings.load().warehouse_url)
    try:
        with engine.begin() as conn:
            report = import_decisions(conn, args.file)
    except DecisionFileError as exc:
        print(f"ecqm: {exc.path}: refused, nothing was loaded:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ecqm: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(
        f"{report.path}: {report.rows} decisions ("
        + ", ".join(f"{k} {v}" for k, v in sorted(report.decisions.items()))
        + f"), {report.inserted} new, {report.unchanged} already recorded"
    )
    return 0


def _date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-01") from exc


def _describe(result: object) -> str:
    if isinstance(result, dict):
        return ", ".join(f"{k} {v}" for k, v in result.items())
    fields = ("inserted", "updated", "unchanged", "deactivated")
    return ", ".join(f"{f} {getattr(result, f)}" for f in fields if hasattr(result, f))


def _settings(args: argparse.Namespace) -> int:
    s = settings.load()
    shown = {
        "ECQM_HOME": str(s.home),
        "ECQM_WAREHOUSE_URL": _hide_password(s.warehouse_url),
        "ECQM_LANDING_URL": s.landing_url,
        "AIRFLOW_HOME": str(s.airflow_home),
        "ECQM_USER_AGENT": s.user_agent,
        "ECQM_MATERIALISED_MARTS": ",".join(s.materialised_marts),
        "ECQM_CRAWL_QUEUE": os.environ.get("ECQM_CRAWL_QUEUE") or "crawl",
    }
    from transforms.notify.cli import shown_settings

    shown.update(shown_settings(s))
    print(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _demo(args: argparse.Namespace) -> int:
    from ecqm.demo import run_demo

    return run_demo(
        products=args.products, seed=args.seed, use_airflow=not args.no_airflow, port=args.port
    )


def _up(args: argparse.Namespace) -> int:
    from ecqm.airflow_local import standalone

    return standalone()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecqm",
        description="Online monitoring of e-commerce product quality (GB/T 37538-2019).",
    )
    parser.add_argument("--version", action="version", version=f"ecqm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the pipeline on the simulated marketplace")
    demo.add_argument("--products", type=int, default=1000, help="size of the simulated world")
    demo.add_argument("--seed", type=int, default=20191001)
    demo.add_argument(
        "--port", type=int, default=8800, help="where the simulator listens (127.0.0.1)"
    )
    demo.add_argument("--no-airflow", action="store_true", help="call the tasks directly")
    demo.set_defaults(func=_demo)

    up = sub.add_parser("up", help="start Airflow standalone with ecqm's DAGs (UI on :8080)")
    up.set_defaults(func=_up)

    from crawlers.extract.cli import register as register_extract

    register_extract(sub)

    sim = sub.add_parser("simulator", help="the simulated marketplace")
    from simulator.cli import register

    register(sim.add_subparsers(dest="simulator_command", required=True, metavar="COMMAND"))

    wh = sub.add_parser("warehouse", help="migrate and inspect the warehouse")
    wh_sub = wh.add_subparsers(dest="warehouse_command", required=True, metavar="COMMAND")
    for name, func, default_rev, text in (
        ("upgrade", _warehouse_upgrade, "head", "migrate to the newest schema (idempotent)"),
        ("downgrade", _warehouse_downgrade, "base", "migrate back to REVISION"),
    ):
        p = wh_sub.add_parser(name, help=text)
        p.add_argument("revision", nargs="?", default=default_rev)
        p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
        p.set_defaults(func=func)
    p = wh_sub.add_parser("current", help="show the schema revision; exit 1 when behind")
    p.add_argument("--url")
    p.set_defaults(func=_warehouse_current)
    p = wh_sub.add_parser("load-reference", help="load reference data from the versioned files")
    p.add_argument("--url")
    p.add_argument("--data-dir", help="folder with the YAML files (default: the shipped ones)")
    p.set_defaults(func=_warehouse_load_reference)
    p = wh_sub.add_parser(
        "grant-bi", help="run sql/roles.sql: a read-only role for BI tools (PostgreSQL)"
    )
    p.add_argument("--url")
    p.add_argument("--role", default="ecqm_bi_reader", help="the reader role's name")
    p.set_defaults(func=_warehouse_grant_bi)
    p = wh_sub.add_parser(
        "refresh-marts",
        help="refresh the materialised marts, concurrently where they have a key (PostgreSQL)",
    )
    p.add_argument("marts", nargs="*", metavar="MART", help="only these (default: every one)")
    p.add_argument("--url")
    p.set_defaults(func=_warehouse_refresh_marts)

    p = wh_sub.add_parser(
        "rebuild-core", help="empty the core tables and rebuild them from staging"
    )
    p.add_argument("--url")
    p.add_argument("--run-id", help="run id recorded in process_runs (default rebuild__<time>)")
    p.set_defaults(func=lambda a: _process(a, rebuild=True))

    p = sub.add_parser("process", help="take new staging rows into the core tables")
    p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    p.add_argument("--run-id", help="run id recorded in process_runs (default manual__<time>)")
    p.set_defaults(func=lambda a: _process(a, rebuild=False))

    p = sub.add_parser("assess", help="assess every product's risk (signals, level, explanation)")
    p.add_argument("--url", help="database URL (default ECQM_WAREHOUSE_URL)")
    p.add_argument("--as-of", type=_date, help="assessment date, Asia/Shanghai (default today)")
    p.set_defaults(func=_assess)

    p = sub.add_parser("plan", help="make the monthly monitoring plan (targeted + audit samples)")
    p.add_argument("--budget", type=int, required=True, help="number of purchases")
    p.add_argument("--yuan", help="money for purchases, in yuan (e.g. 20000 or ¥20,000)")
    p.add_argument("--seed", type=int, help="random seed (default: the month, e.g. 202612)")
    p.add_argument("--period", help="YYYY-MM (default: this month, Asia/Shanghai)")
    p.add_argument("--plan-id")
    p.add_argument("--as-of", type=_date, help="use the risk assessments of this date")
    p.add_argument("--categories", help="category codes, comma separated")
    p.add_argument("--platforms", help="platforms, comma separated")
    p.add_argument("--url")
    p.set_defaults(func=_plan)

    p = sub.add_parser(
        "estimate", help="market non-conformity rate of a plan from its inspection results"
    )
    p.add_argument("plan_id")
    p.add_argument("--url")
    p.set_defaults(func=_estimate)

    p = sub.add_parser(
        "train-risk-model",
        help="learn the risk score from inspection results; promote it only if it is better",
    )
    p.add_argument("--url")
    p.add_argument("--min-outcomes", type=int, default=200)
    p.set_defaults(func=_train_risk_model)

    imp = sub.add_parser("import", help="take in files from staff (CSV or XLSX)")
    imp_sub = imp.add_subparsers(dest="import_command", required=True, metavar="KIND")
    p = imp_sub.add_parser(
        "risk-decisions", help="staff confirm or dismiss risk assessments (质量风险确认)"
    )
    p.add_argument("file")
    p.add_argument("--url")
    p.set_defaults(func=_import_risk_decisions)
    from transforms.intake.cli import register_import

    register_import(imp_sub)
    from transforms.notify.cli import register as register_notify
    from transforms.notify.cli import register_import as register_import_acks

    register_import_acks(imp_sub)
    register_notify(sub)

    from risk_models.recalls.cli import register as register_recalls
    from risk_models.text.cli import register as register_reviews

    register_reviews(sub)
    register_recalls(sub)
    from transforms.results.cli import register as register_evaluate

    register_evaluate(sub)
    from transforms.credit.cli import register as register_credit

    register_credit(sub)
    from transforms.review.cli import register as register_report

    register_report(sub)

    s = sub.add_parser("settings", help="print the effective settings")
    s.set_defaults(func=_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sqlalchemy.exc import OperationalError

    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OperationalError as exc:
        url = _hide_password(settings.normalise_database_url(_url_of(args)))
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        print(f"ecqm: cannot use the database {url}: {reason}", file=sys.stderr)
        return 1


def _url_of(args: argparse.Namespace) -> str:
    return getattr(args, "url", None) or settings.load().warehouse_url


if __name__ == "__main__":
    sys.exit(main())
