"""Data quality of the core tables, with Great Expectations 1.x.

One expectation suite per core table, declared as data in
:mod:`transforms.quality.suites`. The staging → core pipeline validates the rows it is
about to write, quarantines the failing ones and writes the rest; only table-level
breakage fails a run. GX runs in an ephemeral context inside the task and is imported
on first use, never when a DAG is parsed; nothing here touches the database.

=============================  =========================================================
:func:`validate_rows`          one table's rows (one chunk) → :class:`RowValidation`
                               (``failures``: :class:`RowFailure` per row and rule;
                               ``results``: ``dq_results`` rows)
:func:`combine_results`        merge the ``results`` of several chunks of one run
:func:`check_table`            volume against the last run → :class:`TableCheck`;
                               the caller raises :class:`TableBreakage`
:func:`build_data_docs`        GX Data Docs of results under a folder the caller names
:func:`expected_columns`       the DataFrame columns (and kinds) a table's rows need
=============================  =========================================================
"""

from __future__ import annotations

from transforms.quality.docs import build_data_docs
from transforms.quality.frames import FrameError
from transforms.quality.suites import SUITES, suite_for
from transforms.quality.table import TableBreakage, TableCheck, check_table
from transforms.quality.validate import (
    RowFailure,
    RowValidation,
    combine_results,
    expected_columns,
    validate_rows,
)

__all__ = [
    "SUITES",
    "FrameError",
    "RowFailure",
    "RowValidation",
    "TableBreakage",
    "TableCheck",
    "build_data_docs",
    "check_table",
    "combine_results",
    "expected_columns",
    "suite_for",
    "validate_rows",
]
