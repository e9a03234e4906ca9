"""Table-level checks: the only data-quality findings that fail a pipeline run.

Bad rows are quarantined and the run goes on; what stops a run is evidence that the
table as a whole is broken — a parser that silently stopped matching, a crawl that
lost most of a site — because writing such a batch would make the warehouse look as if
products disappeared. The evidence is counts: this run's rows against the last run's,
and rows kept against rows received.
"""

from __future__ import annotations

from dataclasses import dataclass


class TableBreakage(Exception):
    """Raised by the caller when :func:`check_table` says a table is broken."""

    def __init__(self, table: str, reason: str) -> None:
        self.table = table
        self.reason = reason
        super().__init__(f"{table}: {reason}")


@dataclass(frozen=True)
class TableCheck:
    ok: bool
    reason: str | None = None

    def raise_for(self, table: str) -> None:
        """Raise :class:`TableBreakage` unless the check passed."""
        if not self.ok:
            raise TableBreakage(table, self.reason or "table-level check failed")


def check_table(
    table: str,
    *,
    current_count: int,
    previous_count: int | None,
    max_drop: float = 0.5,
    input_count: int | None = None,
) -> TableCheck:
    """Judge a table's batch by its size.

    ``current_count`` is the number of rows this run produced for ``table`` (after
    quarantine); ``previous_count`` the same for the last successful run, ``None`` when
    there is none (a first run cannot drop). It fails when the volume fell by more than
    ``max_drop`` (0.5: to less than half), or when ``input_count`` rows came in and none
    survived — every row failing is a broken parser, not bad data. A count that merely
    shrinks within ``max_drop``, or grows, passes.
    """
    if not 0 <= max_drop <= 1:
        raise ValueError(f"max_drop must be within [0, 1], got {max_drop}")
    for name, value in (
        ("current_count", current_count),
        ("previous_count", previous_count),
        ("input_count", input_count),
    ):
        if value is not None and value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
    if input_count and current_count == 0:
        return TableCheck(
            False,
            f"{table}: none of the {input_count} input rows survived validation "
            "(expected row count > 0)",
        )
    if previous_count:
        drop = 1 - current_count / previous_count
        if drop > max_drop:
            return TableCheck(
                False,
                f"{table}: {current_count} rows against {previous_count} in the last run, "
                f"down {drop:.0%} (more than the {max_drop:.0%} allowed)",
            )
    return TableCheck(True)
