"""The error every normaliser raises for a value it cannot read, and what counts as empty."""

from __future__ import annotations

__all__ = ["NormaliseError", "PLACEHOLDERS"]

# What shops and scrapers put where there is no value. Compared case-insensitively after
# cleaning; each normaliser adds its own phrases (暂无报价, 暂无评分 …).
PLACEHOLDERS = frozenset(
    {"-", "--", "---", "—", "——", "/", "n/a", "na", "null", "none", "nil", "nan"}
    | {"暂无", "无", "未知", "空", "暂无数据", "待定"}
)

_SHOWN = 80


class NormaliseError(ValueError):
    """A value is present but cannot be read; the row goes to quarantine with the message.

    Parameters
    ----------
    field
        What was being read: ``price``, ``sales``, ``date``, ``rating``, ``quantity``.
    value
        The raw value as received.
    problem
        What is wrong with it, in words a person fixing the source can act on.

    Examples
    --------
    >>> str(NormaliseError("price", "¥abc", "no amount found"))
    "cannot read price '¥abc': no amount found"
    """

    def __init__(self, field: str, value: object, problem: str) -> None:
        super().__init__(field, value, problem)
        self.field = field
        self.value = value
        self.problem = problem

    def __str__(self) -> str:
        shown = repr(self.value)
        if len(shown) > _SHOWN:
            shown = shown[: _SHOWN - 4] + "…" + shown[-3:]
        return f"cannot read {self.field} {shown}: {self.problem}"
