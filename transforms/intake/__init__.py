"""Intake of purchase records and inspection results dropped in the inbox.

Staff drop CSV or XLSX files into ``$ECQM_HOME/inbox/purchases/`` and
``$ECQM_HOME/inbox/results/``. Each file is validated whole; a file with any error is
rejected whole, with an error report beside it naming row, column and reason; an
accepted file is written in one transaction, archived under its SHA-256, and a second
drop of the same bytes changes nothing. ``docs/inbox.md`` describes the columns and
rules for the people who fill the files in.

>>> report = import_file(engine, "purchases", "采购记录.xlsx", home=home)  # doctest: +SKIP
>>> report.status, [str(p) for p in report.errors]  # doctest: +SKIP
('rejected', ['row 3, column 实付金额(元): ...'])
"""

from __future__ import annotations

from transforms.intake.inbox import KINDS, import_file, scan_inbox
from transforms.intake.problems import IntakeReport, Problem

__all__ = ["KINDS", "IntakeReport", "Problem", "import_file", "scan_inbox"]
