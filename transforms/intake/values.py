"""Cell values as people type them, read into what the warehouse stores.

Each parser takes one cell as the reader hands it over (text from a CSV; text, int,
float, datetime or None from an XLSX) and returns the stored value, or raises
:class:`CellError` with a code and a reason in Chinese and English. ``None`` comes back
for an empty cell; whether a value is required is the caller's business.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Excel keeps 15 significant digits; a longer number typed into a number cell is gone.
EXCEL_DIGITS = 15
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


class CellError(ValueError):
    """A cell that cannot be read; ``code`` is stable, ``reason`` is for people."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def shown(value: Any) -> str:
    """A cell value as a person would recognise it in an error report."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 10**EXCEL_DIGITS:
        return str(int(value))
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_blank(value: Any) -> bool:
    """An empty cell: nothing, or only spaces and invisible characters."""
    return value is None or (isinstance(value, str) and not value.translate(_INVISIBLE).strip())


def text(value: Any) -> str | None:
    """Free text (shop name, arrival condition, measured value), trimmed, never evaluated.

    A number cell reads as the number Excel shows (``12.0`` as ``12``); a date cell in a
    text column is refused, because Excel turns entries such as ``1-2`` or ``3/4`` into
    dates on its own.
    """
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        raise CellError(
            "excel_date",
            f"Excel 把这个值变成了日期（{value}），请把该列设为文本后重新输入 / "
            f"Excel turned this entry into a date ({value}); format the column as text "
            "and type it again",
        )
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return shown(value) if value.is_integer() else repr(value)
    return str(value).translate(_INVISIBLE).strip()


_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")


def identifier(value: Any, *, squeeze: bool = False) -> str | None:
    """An identifier (task id, order number, tracking number, seal, report number).

    Full-width characters become ASCII (NFKC), invisible characters copied from web pages
    go, and with ``squeeze`` so do spaces inside (order numbers are often copied in
    groups). A number cell that cannot hold the identifier exactly is refused, as is the
    scientific notation a CSV saved from Excel shows for long numbers.
    """
    if is_blank(value):
        return None
    if isinstance(value, bool) or isinstance(value, dt.date | dt.time):
        raise CellError("not_an_identifier", f"不是编号：{value} / not an identifier: {value}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 10**EXCEL_DIGITS:
            return str(int(value))
        raise CellError(
            "number_lost_digits",
            f"编号被存成了数字（{value!r}），Excel 只保留 15 位有效数字，请把该列设为文本后重新输入 / "
            "the identifier was stored as a number and Excel keeps only 15 digits; format "
            "the column as text and type it again",
        )
    out = unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE).strip()
    out = out.removeprefix("'").strip()
    if squeeze:
        out = re.sub(r"\s+", "", out)
    if _SCIENTIFIC.match(out):
        raise CellError(
            "number_lost_digits",
            f"编号显示为科学计数法（{out}），原数字已丢失，请在 Excel 中把该列设为文本后重新输入 / "
            f"the identifier is in scientific notation ({out}) and its digits are lost; "
            "format the column as text in Excel and type it again",
        )
    return out or None


_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_PLAIN = re.compile(r"^\d+(?:\.\d+)?$")
_CURRENCY = re.compile(r"^(?:¥|rmb|cny|人民币)\s*|\s*(?:元|rmb|cny)$", re.IGNORECASE)


def yuan_to_fen(value: Any) -> int | None:
    """An amount in yuan (``¥89.50``, ``89.5``, ``1,299.00``, ``￥89.50元``) as integer fen.

    Read through :class:`~decimal.Decimal`, never float: an XLSX number cell is taken at
    its shortest decimal spelling (``89.5``), and more than two decimal places is an error
    rather than a rounding.
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise CellError("bad_amount", f"不是金额：{value} / not an amount: {value}")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        raw = str(value)
        t = unicodedata.normalize("NFKC", raw).translate(_INVISIBLE).strip().replace(" ", "")
        # NFKC maps the full-width yen sign (U+FFE5) onto the yen sign used here.
        t = _CURRENCY.sub("", t.replace("\u00a5", "¥")).strip()
        if not (_PLAIN.match(t) or _GROUPED.match(t)):
            raise CellError(
                "bad_amount",
                f"不是以元为单位的金额：{raw!r}，应写成 89.50、¥89.50 或 1,299.00 / "
                f"not an amount in yuan: {raw!r}; write 89.50, ¥89.50 or 1,299.00",
            )
        try:
            amount = Decimal(t.replace(",", ""))
        except InvalidOperation:  # pragma: no cover — the patterns above admit only digits
            raise CellError("bad_amount", f"不是金额 / not an amount: {raw!r}") from None
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise CellError(
            "bad_amount",
            f"金额最多两位小数：{shown(value)} / an amount has at most two decimal places: "
            f"{shown(value)}",
        )
    return int(fen)


_MOMENT = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s+|T|\s*(?=\d))(?P<H>\d{1,2})\s*[:：时点]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:：分]\s*(?P<S>\d{1,2})(?:\.(?P<f>\d{1,6}))?\s*秒?|\s*分)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


def _parse_moment(value: Any) -> tuple[dt.datetime, bool]:
    """A datetime (naive means Asia/Shanghai) and whether the value carried a time."""
    if isinstance(value, dt.datetime):
        return value, True
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day), False
    raw = str(value)
    t = unicodedata.normalize("NFKC", raw).translate(_INVISIBLE).strip()
    m = _MOMENT.match(t)
    if not m:
        raise CellError(
            "bad_time",
            f"不是日期时间：{raw!r}，应写成 2026-11-20 15:30 / "
            f"not a date and time: {raw!r}; write 2026-11-20 15:30",
        )
    try:
        moment = dt.datetime(
            int(m["y"]),
            int(m["m"]),
            int(m["d"]),
            int(m["H"] or 0),
            int(m["M"] or 0),
            int(m["S"] or 0),
            int((m["f"] or "0").ljust(6, "0")),
        )
    except ValueError:
        raise CellError(
            "bad_time", f"日期不存在：{raw!r} / no such date or time: {raw!r}"
        ) from None
    if m["tz"]:
        tz = m["tz"].upper()
        offset = dt.timedelta(0)
        if tz != "Z":
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment = moment.replace(tzinfo=dt.timezone(offset))
    return moment, m["H"] is not None


def local_datetime(value: Any) -> dt.datetime | None:
    """A moment people wrote in Asia/Shanghai (or with an explicit offset), in UTC.

    Accepts Excel date-time cells and text such as ``2026-11-20 15:30``,
    ``2026/1/5 9:05:00``, ``2026年11月20日 15:30`` or ISO 8601 with an offset. Text with a
    date but no time is refused: an order time to the day is not evidence of an order.
    """
    if is_blank(value):
        return None
    if isinstance(value, dt.time) or isinstance(value, bool | int | float):
        raise CellError(
            "bad_time",
            f"不是日期时间：{shown(value)}，应写成 2026-11-20 15:30 / "
            f"not a date and time: {shown(value)}; write 2026-11-20 15:30",
        )
    moment, has_time = _parse_moment(value)
    if not has_time:
        raise CellError(
            "time_missing",
            f"缺少时刻：{shown(value)}，应写成 2026-11-20 15:30 / "
            f"the time of day is missing: {shown(value)}; write 2026-11-20 15:30",
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(dt.UTC)


def local_date(value: Any) -> dt.date | None:
    """A calendar date (``2026-11-20``, ``2026/11/20``, ``2026年11月20日``, an Excel date)."""
    if is_blank(value):
        return None
    if isinstance(value, dt.time) or isinstance(value, bool | int | float):
        raise CellError(
            "bad_date",
            f"不是日期：{shown(value)}，应写成 2026-11-20 / not a date: {shown(value)}; "
            "write 2026-11-20",
        )
    try:
        moment, _ = _parse_moment(value)
    except CellError as exc:
        raise CellError(
            "bad_date",
            f"不是日期：{shown(value)!r}，应写成 2026-11-20 / not a date: {shown(value)!r}; "
            "write 2026-11-20",
        ) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI)
    return moment.date()


def _key(value: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)).casefold())


VERDICTS = {
    "合格": "pass",
    "符合": "pass",
    "pass": "pass",
    "passed": "pass",
    "不合格": "fail",
    "不符合": "fail",
    "fail": "fail",
    "failed": "fail",
}
# 缺陷类别 as inspection reports grade non-conformities: A 类 严重, B 类 一般, C 类 轻微.
DEFECT_CLASSES = {
    "critical": "critical",
    "严重": "critical",
    "严重缺陷": "critical",
    "a": "critical",
    "a类": "critical",
    "major": "major",
    "一般": "major",
    "一般缺陷": "major",
    "b": "major",
    "b类": "major",
    "minor": "minor",
    "轻微": "minor",
    "轻微缺陷": "minor",
    "c": "minor",
    "c类": "minor",
}
DEFECT_LABELS = {"critical": "严重", "major": "一般", "minor": "轻微"}


def verdict(value: Any) -> str | None:
    """合格 / 不合格 (or pass / fail) as ``pass`` / ``fail``."""
    if is_blank(value):
        return None
    found = VERDICTS.get(_key(value))
    if found is None:
        raise CellError(
            "bad_verdict",
            f"单项判定应为 合格 或 不合格：{shown(value)!r} / "
            f"the verdict must be 合格 (pass) or 不合格 (fail): {shown(value)!r}",
        )
    return found


def defect_class(value: Any) -> str | None:
    """严重 / 一般 / 轻微 (A / B / C 类, or the codes) as ``critical`` / ``major`` / ``minor``."""
    if is_blank(value):
        return None
    found = DEFECT_CLASSES.get(_key(value))
    if found is None:
        raise CellError(
            "bad_defect_class",
            f"缺陷类别应为 严重、一般 或 轻微：{shown(value)!r} / the defect class must be "
            f"严重 (critical), 一般 (major) or 轻微 (minor): {shown(value)!r}",
        )
    return found


_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_FILE_NAME = re.compile(r"^[^<>:\"|?*\x00-\x1f]+\.[A-Za-z0-9]{1,5}$")
_SEPARATORS = re.compile(r"[;；,，、\n]+")


def references(value: Any) -> list[str] | None:
    """Evidence references: URLs (http, https) or file names with an extension, several
    separated by ``;``, ``,`` or ``、``."""
    if is_blank(value):
        return None
    if not isinstance(value, str):
        raise CellError(
            "bad_reference",
            f"应为文件名或网址：{shown(value)!r} / expected a file name or URL: {shown(value)!r}",
        )
    out: list[str] = []
    for part in _SEPARATORS.split(value.translate(_INVISIBLE)):
        ref = part.strip()
        if not ref:
            continue
        if not (_URL.match(ref) or (_FILE_NAME.match(ref) and ".." not in ref.split("/"))):
            raise CellError(
                "bad_reference",
                f"应为文件名（如 订单123.png）或网址：{ref!r} / expected a file name with an "
                f"extension (such as order123.png) or an http(s) URL: {ref!r}",
            )
        out.append(ref)
    return out or None


def name_key(value: str) -> str:
    """How test item names compare: width, case and spaces do not matter."""
    return _key(value)
