"""Row-level validation of the core rows a pipeline run is about to write.

:func:`validate_rows` runs a table's suite (:mod:`transforms.quality.suites`) with GX on
a DataFrame and returns two things: the rows that failed, one :class:`RowFailure` per
row and rule (the caller quarantines them and writes the rest), and one result dict per
expectation, shaped like a ``dq_results`` row. Bad rows never fail a run; that is
:func:`transforms.quality.table.check_table`'s decision, on table-level evidence.

Which rows failed is found by the pandas masks of :mod:`transforms.quality.frames`
(``row_source="pandas"``, the default) or by GX itself with
``result_format="COMPLETE"`` and ``unexpected_index_column_names``
(``row_source="gx"``). Both read the same rules and give the same rows. On 100,000
review rows the two cost the same when 2 % of rows are bad (about 1 s, nearly all of it
GX computing the suite), but GX's per-row report grows with the failures: at 50 % bad
rows (a broken parser) it takes about 9 s against 2.6 s. So the pipeline uses the
masks, and GX supplies the counts, the observed values and the Data Docs; every mask
count is compared with GX's ``unexpected_count`` and a disagreement is logged.

Input arriving in chunks is validated chunk by chunk; :func:`combine_results` merges
the per-chunk result dicts of one table and run. Uniqueness is checked within a
chunk only: a key repeated across chunks is the upsert's to resolve.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from transforms.quality._gx import ephemeral_context
from transforms.quality.frames import json_safe, prepare, reason, show, unexpected_mask
from transforms.quality.rules import (
    COMPOUND_UNIQUE,
    LENGTH_BETWEEN,
    PAIR_A_GREATER,
    UNIQUE,
    Rule,
    TableSuite,
)
from transforms.quality.suites import DEFAULT_REFERENCE, suite_for

log = logging.getLogger(__name__)

ROW_COLUMN = "__ecqm_row__"
PARTIAL = 20  # unexpected values kept per expectation in ``observed``
SAMPLE_CHARS = 200  # of each such value

RowSource = Literal["pandas", "gx"]


@dataclass(frozen=True)
class RowFailure:
    """One row breaking one rule.

    ``key`` is the row's ``key_columns`` joined with ``|`` (a missing part is empty and
    the row's index label is appended after ``#``, so two keyless rows stay apart);
    ``position`` is the row's 0-based position in the DataFrame that was validated.
    """

    key: str
    rule: str
    column: str
    value: str | None
    reason: str
    position: int


@dataclass
class RowValidation:
    """What :func:`validate_rows` found in one DataFrame (one chunk)."""

    table: str
    run_id: str
    rows: int
    failures: list[RowFailure]
    results: list[dict[str, Any]]
    skipped: tuple[str, ...] = field(default=())

    @property
    def failed_positions(self) -> frozenset[int]:
        return frozenset(f.position for f in self.failures)

    def split(self, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(good, bad)`` rows of the DataFrame that was validated, by position."""
        bad = np.zeros(len(df), dtype=bool)
        bad[list(self.failed_positions)] = True
        return df.iloc[~bad], df.iloc[bad]


def validate_rows(
    table: str,
    df: pd.DataFrame,
    *,
    key_columns: Sequence[str],
    run_id: str,
    reference: Mapping[str, Collection[str]] | None = None,
    row_source: RowSource = "pandas",
) -> RowValidation:
    """Validate ``df`` (rows for core table ``table``) against the table's suite.

    ``reference`` supplies the value sets rules refer to by name (``category_code``:
    the active codes of ``ref_categories``; ``platform``, ``complaint_status`` and
    ``availability`` override their defaults). A rule whose set is not supplied and
    has no default is skipped and named in :attr:`RowValidation.skipped`.

    Raises :class:`~transforms.quality.frames.FrameError` when the DataFrame breaks
    the column contract (see :func:`expected_columns`).
    """
    if row_source not in ("pandas", "gx"):
        raise ValueError(f"row_source must be 'pandas' or 'gx', not {row_source!r}")
    suite = suite_for(table)
    refs: dict[str, Collection[str]] = {**DEFAULT_REFERENCE, **(reference or {})}
    rules = [r for r in suite.rules if r.reference is None or r.reference in refs]
    skipped = tuple(
        r.name for r in suite.rules if r.reference is not None and r.reference not in refs
    )
    if skipped:
        log.warning("%s: no reference set for %s; skipped", table, ", ".join(skipped))
    frame = prepare(suite, df, key_columns)
    kwargs = {r.name: r.resolved(refs) for r in rules}
    checked_at = dt.datetime.now(dt.UTC)

    gx_results = _run_gx(suite, rules, frame, refs, complete=row_source == "gx")
    if row_source == "gx":
        masks = {r.name: _gx_mask(gx_results[r.name], len(frame)) for r in rules}
    else:
        masks = {r.name: unexpected_mask(r, frame, kwargs[r.name]) for r in rules}

    failures = _failures(suite, rules, kwargs, masks, frame, df.index, key_columns)
    results = [
        _result_row(
            run_id,
            suite,
            r,
            kwargs[r.name],
            gx_results[r.name],
            masks[r.name],
            len(frame),
            checked_at,
        )
        for r in rules
    ]
    return RowValidation(table, run_id, len(frame), failures, results, skipped)


def expected_columns(table: str) -> dict[str, str]:
    """Column → kind (``str``, ``int``, ``float``, ``bool``, ``datetime``, ``date``,
    ``json``) of the DataFrame :func:`validate_rows` takes for ``table``."""
    return dict(suite_for(table).columns)


# ------------------------------------------------------------------------------ GX


def _run_gx(
    suite: TableSuite,
    rules: Sequence[Rule],
    frame: pd.DataFrame,
    refs: Mapping[str, Collection[str]],
    *,
    complete: bool,
) -> dict[str, Any]:
    """Run the suite through GX; results by rule name."""
    import great_expectations as gx

    ctx = ephemeral_context()
    batch_definition = (
        ctx.data_sources.add_pandas("core")
        .add_dataframe_asset(name=suite.table)
        .add_batch_definition_whole_dataframe("rows")
    )
    gx_suite = ctx.suites.add(
        gx.ExpectationSuite(
            name=suite.name,
            expectations=[r.configuration(refs).to_domain_obj() for r in rules],
        )
    )
    if complete:
        data = frame.assign(**{ROW_COLUMN: np.arange(len(frame))})
        result_format: Any = {
            "result_format": "COMPLETE",
            "unexpected_index_column_names": [ROW_COLUMN],
            "return_unexpected_index_query": False,
            "partial_unexpected_count": PARTIAL,
        }
    else:
        data = frame
        result_format = {"result_format": "SUMMARY", "partial_unexpected_count": PARTIAL}
    batch = batch_definition.get_batch(batch_parameters={"dataframe": data})
    with warnings.catch_warnings():
        # GX 1.24 reads tz-aware columns through ``Series.values`` when it lists the
        # unexpected pairs of a column-pair rule; pandas 3.1 deprecates that. The
        # samples are for display only (row detection never depends on them).
        warnings.filterwarnings("ignore", message=r"Series\.values returning an ndarray")
        validation = batch.validate(gx_suite, result_format=result_format)
    by_rule = {r.expectation_config.meta["rule"]: r for r in validation.results}
    missing = [r.name for r in rules if r.name not in by_rule]
    if missing:  # pragma: no cover - GX returns one result per expectation
        raise RuntimeError(f"GX returned no result for {missing}")
    return by_rule


def _gx_mask(result: Any, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for item in (result.result or {}).get("unexpected_index_list") or []:
        mask[int(item[ROW_COLUMN] if isinstance(item, Mapping) else item)] = True
    return mask


def _exception(result: Any) -> str | None:
    info = result.exception_info or {}
    if "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    for nested in info.values():  # keyed by metric when several metrics failed
        if isinstance(nested, Mapping) and nested.get("raised_exception"):
            return str(nested.get("exception_message"))
    return None


# -------------------------------------------------------------------------- output


def _failures(
    suite: TableSuite,
    rules: Sequence[Rule],
    kwargs: Mapping[str, Mapping[str, Any]],
    masks: Mapping[str, np.ndarray],
    frame: pd.DataFrame,
    labels: pd.Index,
    key_columns: Sequence[str],
) -> list[RowFailure]:
    kinds = suite.columns
    # Values are read once per column, and only on the failing rows: element access on
    # pandas' Arrow-backed strings costs ~100 µs a call, and turning a whole datetime
    # column into objects ~0.3 s per 100,000 rows.
    failing = np.flatnonzero(np.logical_or.reduce([*masks.values(), np.zeros(len(frame), bool)]))
    raw_values: dict[str, list[Any]] = {}

    def raw(column: str) -> list[Any]:
        if column not in raw_values:
            raw_values[column] = frame[column].iloc[failing].to_numpy(dtype=object).tolist()
        return raw_values[column]

    def shown(column: str, slots: Sequence[int]) -> dict[int, str | None]:
        kind, cells = kinds.get(column), raw(column)
        return {i: show(cells[i], kind) for i in slots}

    every = range(len(failing))
    key_parts = [shown(c, every) for c in key_columns]
    keys = []
    for i in every:
        parts = [p[i] for p in key_parts]
        key = "|".join(p or "" for p in parts)
        if any(p is None for p in parts):
            key += f"#{labels[int(failing[i])]}"
        keys.append(key)

    out: list[tuple[int, int, RowFailure]] = []
    for order, rule in enumerate(rules):
        slots = np.searchsorted(failing, np.flatnonzero(masks[rule.name])).tolist()
        if not slots:
            continue
        kw = kwargs[rule.name]
        t = rule.expectation
        pair: dict[str, dict[int, str | None]] = {}
        counts: Counter[str] = Counter()
        if t == COMPOUND_UNIQUE:
            parts = [shown(c, slots) for c in kw["column_list"]]
            values = {i: "|".join(p[i] or "" for p in parts) for i in slots}
            counts.update(values.values())
        elif t == PAIR_A_GREATER:
            for c in (kw["column_A"], kw["column_B"], *(d.source for d in rule.derived)):
                pair[c] = shown(c, slots)
            values = pair[kw["column_B"] if rule.derived else kw["column_A"]]
        else:
            values = shown(kw["column"], slots)
            if t == UNIQUE:
                counts.update(v or "" for v in values.values())
        for i in slots:
            value = values[i]
            row = {c: v[i] for c, v in pair.items()}
            chars = len(str(raw(kw["column"])[i])) if t == LENGTH_BETWEEN else None
            text = reason(
                rule, kw, value, kinds=kinds, row=row, count=counts.get(value or ""), chars=chars
            )
            pos = int(failing[i])
            out.append((pos, order, RowFailure(keys[i], rule.name, rule.column, value, text, pos)))
    out.sort(key=lambda item: (item[0], item[1]))
    return [f for _, _, f in out]


def _result_row(
    run_id: str,
    suite: TableSuite,
    rule: Rule,
    kwargs: Mapping[str, Any],
    result: Any,
    mask: np.ndarray,
    rows: int,
    checked_at: dt.datetime,
) -> dict[str, Any]:
    res: Mapping[str, Any] = result.result or {}
    flagged = int(mask.sum())
    error = _exception(result)
    element_count = res.get("element_count")
    unexpected = res.get("unexpected_count")
    if unexpected is None:
        unexpected = flagged
    elif error is None and int(unexpected) != flagged:
        log.warning(
            "%s %s: GX counts %s unexpected rows, the row check %s",
            suite.table,
            rule.name,
            unexpected,
            flagged,
        )
    observed: dict[str, Any] = {
        "expectation_kwargs": json_safe(kwargs),
        "missing_count": int(res.get("missing_count") or 0),
        "partial_unexpected_list": _samples(res.get("partial_unexpected_list")),
        "partial_unexpected_counts": _samples(res.get("partial_unexpected_counts")),
        "flagged_rows": flagged,
        "chunks": 1,
    }
    if "observed_value" in res:
        observed["observed_value"] = json_safe(res["observed_value"])
    if error is not None:
        observed["exception"] = str(error)[:2000]
    percent = res.get("unexpected_percent")
    return {
        "run_id": run_id,
        "table_name": suite.table,
        "suite": suite.name,
        "expectation": rule.name,
        "column_name": rule.column,
        "success": bool(result.success),
        "element_count": int(element_count if element_count is not None else rows),
        "unexpected_count": int(unexpected),
        "unexpected_percent": None if percent is None else float(percent),
        "observed": observed,
        "checked_at": checked_at,
    }


def _samples(values: Any) -> list[Any]:
    """GX's sample of unexpected values, JSON-safe, long text cut to keep rows small."""

    def cut(v: Any) -> Any:
        if isinstance(v, str) and len(v) > SAMPLE_CHARS:
            return v[: SAMPLE_CHARS - 1] + "…"
        if isinstance(v, list):
            return [cut(x) for x in v]
        if isinstance(v, dict):
            return {k: cut(x) for k, x in v.items()}
        return v

    return [cut(v) for v in json_safe(list(values or [])[:PARTIAL])]


def combine_results(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Merge result dicts of the same ``(run_id, table_name, expectation)``.

    Counts are summed; ``success`` holds only if it held in every chunk;
    ``unexpected_percent`` is recomputed over the non-missing rows of all chunks (GX's
    definition), ``None`` when there were none; ``checked_at`` is the latest. Sample
    values are concatenated up to 20 and their counts summed. Merging merged results
    again changes nothing, so chunks can be folded in as they come.
    """
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in results:
        k = (r["run_id"], r["table_name"], r["expectation"])
        obs = dict(r.get("observed") or {})
        if k not in merged:
            merged[k] = {**r, "observed": {**obs, "chunks": int(obs.get("chunks", 1))}}
            continue
        m = merged[k]
        mo = m["observed"]
        m["success"] = bool(m["success"] and r["success"])
        m["element_count"] = int(m["element_count"]) + int(r["element_count"])
        m["unexpected_count"] = int(m["unexpected_count"]) + int(r["unexpected_count"])
        m["checked_at"] = max(m["checked_at"], r["checked_at"])
        for name in ("missing_count", "flagged_rows", "chunks"):
            mo[name] = int(mo.get(name, 0)) + int(obs.get(name, 1 if name == "chunks" else 0))
        samples = list(mo.get("partial_unexpected_list") or []) + list(
            obs.get("partial_unexpected_list") or []
        )
        mo["partial_unexpected_list"] = samples[:PARTIAL]
        mo["partial_unexpected_counts"] = _merge_counts(
            mo.get("partial_unexpected_counts") or [], obs.get("partial_unexpected_counts") or []
        )
        if "exception" in obs:
            mo["exception"] = "; ".join(filter(None, [mo.get("exception"), obs["exception"]]))
    for m in merged.values():
        checked = m["element_count"] - int(m["observed"].get("missing_count", 0))
        m["unexpected_percent"] = 100.0 * m["unexpected_count"] / checked if checked > 0 else None
    return list(merged.values())


def _merge_counts(
    a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    totals: dict[str, tuple[Any, int]] = {}
    for item in [*a, *b]:
        label = repr(item.get("value"))
        value, count = totals.get(label, (item.get("value"), 0))
        totals[label] = (value, count + int(item.get("count", 0)))
    ranked = sorted(totals.values(), key=lambda vc: -vc[1])[:PARTIAL]
    return [{"value": v, "count": c} for v, c in ranked]
