"""GX Data Docs for the validation results of pipeline runs.

The site is GX's own (index, one page per suite, one page per table and run), built by
an ephemeral context whose only filesystem store is the Data Docs site in the folder
the caller names, so nothing lands in the working directory or the repository.

Pages are rendered from result dicts shaped like ``dq_results`` rows (what
:func:`~transforms.quality.validate.validate_rows` returns, or what was read back from
the table), not from live GX objects: chunks of a run are merged first, and a site
covering several runs can be rebuilt at any time from the warehouse. GX removes pages
whose results it was not given, so the site shows exactly what this call receives;
pass the last few runs from ``dq_results`` to keep history on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from transforms.quality._gx import DOCS_SITE, ephemeral_context, gx_version
from transforms.quality.suites import SUITES
from transforms.quality.validate import RowValidation, combine_results

ResultRows = RowValidation | Iterable[Mapping[str, Any]]


def build_data_docs(results_by_table: Mapping[str, ResultRows], docs_dir: Path) -> Path:
    """Render ``results_by_table`` (table → results of one or more runs and chunks) as
    a GX Data Docs site under ``docs_dir``; returns the path of its ``index.html``."""
    from great_expectations.core import (
        ExpectationSuite,
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    docs_dir = Path(docs_dir).resolve()
    docs_dir.mkdir(parents=True, exist_ok=True)
    ctx = ephemeral_context(docs_dir)
    version = gx_version()
    for table, given in results_by_table.items():
        rows = combine_results(given.results if isinstance(given, RowValidation) else given)
        if not rows:
            continue
        runs: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            runs.setdefault(str(row["run_id"]), []).append(row)
        latest = max(runs.values(), key=lambda rs: max(_when(r["checked_at"]) for r in rs))
        suite_name = str(latest[0]["suite"])
        ctx.suites.add(
            ExpectationSuite(
                name=suite_name,
                expectations=[_configuration(table, r).to_domain_obj() for r in latest],
                meta={"notes": {"format": "markdown", "content": [_suite_note(table)]}},
            )
        )
        for run_id, rs in runs.items():
            checked_at = max(_when(r["checked_at"]) for r in rs)
            run = RunIdentifier(run_name=run_id, run_time=checked_at)
            results = [
                ExpectationValidationResult(
                    success=bool(r["success"]),
                    expectation_config=_configuration(table, r),
                    result=_result(r),
                    exception_info=_exception_info(r),
                )
                for r in rs
            ]
            passed = sum(1 for r in results if r.success)
            validation = ExpectationSuiteValidationResult(
                success=passed == len(results),
                results=results,
                suite_name=str(rs[0]["suite"]),
                statistics={
                    "evaluated_expectations": len(results),
                    "successful_expectations": passed,
                    "unsuccessful_expectations": len(results) - passed,
                    "success_percent": 100.0 * passed / len(results),
                },
                meta={
                    "great_expectations_version": version,
                    "run_id": run.to_json_dict(),
                    "validation_time": checked_at.isoformat(),
                    "active_batch_definition": {
                        "datasource_name": "ecqm",
                        "data_connector_name": "pipeline",
                        "data_asset_name": table,
                        "batch_identifiers": {"run_id": run_id},
                    },
                    "batch_spec": {
                        "data_asset_name": table,
                        "rows": max(int(r["element_count"]) for r in rs),
                    },
                },
            )
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=str(rs[0]["suite"])),
                run_id=run,
                batch_identifier=f"{table}-{run_id}",
            )
            ctx.validation_results_store.set(key, validation)
    ctx.build_data_docs(site_names=[DOCS_SITE])
    return docs_dir / "index.html"


def _when(value: Any) -> dt.datetime:
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _configuration(table: str, row: Mapping[str, Any]) -> Any:
    """The expectation a result row was produced by, with the kwargs it actually used."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    name = str(row["expectation"])
    observed = row.get("observed") or {}
    kwargs = dict(observed.get("expectation_kwargs") or {})
    notes = None
    suite = SUITES.get(table)
    if suite is not None:
        try:
            rule = suite.rule(name)
        except KeyError:
            rule = None
        if rule is not None:
            notes = rule.notes
            kwargs = kwargs or dict(rule.kwargs)
    if not kwargs and row.get("column_name"):
        kwargs = {"column": row["column_name"]}
    return ExpectationConfiguration(
        type=name.split(":", 1)[0], kwargs=kwargs, meta={"rule": name}, notes=notes
    )


def _result(row: Mapping[str, Any]) -> dict[str, Any]:
    observed = row.get("observed") or {}
    element_count = int(row["element_count"])
    missing = int(observed.get("missing_count") or 0)
    result: dict[str, Any] = {
        "element_count": element_count,
        "unexpected_count": int(row["unexpected_count"]),
        "unexpected_percent": row.get("unexpected_percent"),
        "missing_count": missing,
        "missing_percent": 100.0 * missing / element_count if element_count else None,
        "partial_unexpected_list": list(observed.get("partial_unexpected_list") or []),
        "partial_unexpected_counts": list(observed.get("partial_unexpected_counts") or []),
    }
    if "observed_value" in observed:
        result["observed_value"] = observed["observed_value"]
    return result


def _exception_info(row: Mapping[str, Any]) -> dict[str, Any]:
    message = (row.get("observed") or {}).get("exception")
    return {
        "raised_exception": bool(message),
        "exception_message": message,
        "exception_traceback": None,
    }


def _suite_note(table: str) -> str:
    suite = SUITES.get(table)
    if suite is None:
        return f"Results for `{table}`."
    return (
        f"Rows bound for core table `{table}` (natural key: {', '.join(suite.natural_key)}). "
        "A failing row is quarantined and the rest are written; only table-level "
        "checks fail a run. Declared in `transforms/quality/suites.py`."
    )
