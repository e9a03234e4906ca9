"""When a review, question or listing was posted: :func:`parse_posted`.

Sites print absolute dates (``2026年3月5日``, ``2026/3/5 14:30``, ``03-05``) and relative
ones (刚刚, ``5分钟前``, ``昨天 23:59``, ``3天前``, ``3 days ago``). Both are read as a
person in China would read them, in Asia/Shanghai, relative to the moment the page was
fetched, and returned in UTC.

A form resolves only to its own precision: ``2026-03-05`` and ``昨天`` give the start of
that day, ``3天前`` gives exactly 72 hours before the fetch. A result is never later
than the fetch: one up to ten minutes ahead (clocks disagree) is moved back to the fetch
time, one further ahead is an error, except that a date without a year is taken to be in
the previous year.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from transforms.normalise.errors import PLACEHOLDERS, NormaliseError
from transforms.normalise.text import clean_text

__all__ = ["SHANGHAI", "parse_posted"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
_SKEW = timedelta(minutes=10)

_LABEL = re.compile(
    r"^(?:发布于|发表于|评论于|评价于|更新于|发布时间|评论时间|评价时间|更新时间|时间|日期|"
    r"posted(?: on)?|published(?: on)?|updated(?: on)?|on)\s*[:：]?\s*"
)
_SUFFIX = re.compile(r"\s*(?:发布|发表|评论|评价|更新)$")
_TIME = (
    r"(?:\s*(?P<H>\d{1,2})\s*[:时点]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:分]\s*(?P<S>\d{1,2})\s*秒?)?\s*分?)?"
)
_YMD = re.compile(
    r"(?P<y>\d{4})\s*(?:年|[-/.])\s*(?P<m>\d{1,2})\s*(?:月|[-/.])\s*(?P<d>\d{1,2})\s*日?" + _TIME
)
_MD = re.compile(r"(?P<m>\d{1,2})\s*(?:月|[-/.])\s*(?P<d>\d{1,2})\s*日?" + _TIME)
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?", re.I
)
# A bare clock time is how many sites show a post from earlier today.
_CLOCK_ONLY = re.compile(r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?")
_EPOCH = re.compile(r"\d{10}|\d{13}")
_JUST_NOW = re.compile(r"刚刚|刚才|just now|now|moments? ago")
_DAY_WORDS = {"今天": 0, "今日": 0, "today": 0, "昨天": 1, "昨日": 1, "yesterday": 1, "前天": 2}
_DAY = re.compile(r"(?P<word>今天|今日|today|昨天|昨日|yesterday|前天)" + _TIME)
_NUMERALS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8}
_NUMERALS |= {"九": 9, "十": 10, "半": 0.5, "a": 1, "an": 1, "one": 1}
_UNITS = {
    "秒": "seconds",
    "秒钟": "seconds",
    "分钟": "minutes",
    "分": "minutes",
    "小时": "hours",
    "个小时": "hours",
    "天": "days",
    "日": "days",
    "周": "weeks",
    "星期": "weeks",
    "个星期": "weeks",
    "个月": "months",
    "月": "months",
    "年": "years",
    "second": "seconds",
    "minute": "minutes",
    "min": "minutes",
    "hour": "hours",
    "day": "days",
    "week": "weeks",
    "month": "months",
    "year": "years",
}
_AGO = re.compile(
    r"(?P<n>\d+|[一两二三四五六七八九十半])\s*(?P<unit>秒钟|秒|分钟|个小时|小时|天|日|个星期|星期|周|个月|月|年)\s*(?:之|以)?前"
    r"|(?P<en>\d+|an?|one)\s+(?P<enunit>second|minute|min|hour|day|week|month|year)s?\s+ago"
)


def _months_back(local: datetime, months: int) -> datetime:
    index = local.year * 12 + local.month - 1 - months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def _clock(m: re.Match[str], value: object) -> tuple[int, int, int]:
    if m.group("H") is None:
        return 0, 0, 0
    hour, minute = int(m.group("H")), int(m.group("M"))
    second = int(m.group("S") or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise NormaliseError("date", value, f"no such time {hour:02d}:{minute:02d}:{second:02d}")
    return hour, minute, second


def _local(value: object, y: int, mo: int, d: int, clock: tuple[int, int, int]) -> datetime:
    try:
        return datetime(y, mo, d, *clock, tzinfo=SHANGHAI)
    except ValueError as exc:
        raise NormaliseError(
            "date", value, f"no such date {y:04d}-{mo:02d}-{d:02d} ({exc})"
        ) from None


def _relative(m: re.Match[str], fetched: datetime, value: object) -> datetime:
    raw = m.group("n") or m.group("en")
    unit = _UNITS[m.group("unit") or m.group("enunit")]
    n = _NUMERALS[raw] if raw in _NUMERALS else int(raw)
    if n != int(n) and unit != "hours":
        raise NormaliseError("date", value, "half of a unit other than an hour")
    if unit in ("months", "years"):
        local = fetched.astimezone(SHANGHAI)
        return _months_back(local, int(n) * (12 if unit == "years" else 1))
    return fetched - timedelta(**{unit: n})


def _read(text: str, value: object, fetched: datetime) -> datetime:
    """The time a text names, before the check against the fetch time."""
    if _JUST_NOW.fullmatch(text):
        return fetched
    if m := _AGO.fullmatch(text):
        return _relative(m, fetched, value)
    if m := _DAY.fullmatch(text):
        day = fetched.astimezone(SHANGHAI).date() - timedelta(days=_DAY_WORDS[m.group("word")])
        return _local(value, day.year, day.month, day.day, _clock(m, value))
    if _EPOCH.fullmatch(text):
        seconds = int(text) / 1000 if len(text) == 13 else int(text)
        return datetime.fromtimestamp(seconds, UTC)
    if m := _CLOCK_ONLY.fullmatch(text):
        day = fetched.astimezone(SHANGHAI).date()
        return _local(value, day.year, day.month, day.day, _clock(m, value))
    if m := _YMD.fullmatch(text):
        y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        return _local(value, y, mo, d, _clock(m, value))
    if _ISO.fullmatch(text):
        try:
            parsed = datetime.fromisoformat(text.upper())
        except ValueError as exc:
            raise NormaliseError("date", value, f"not a valid timestamp ({exc})") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
    if m := _MD.fullmatch(text):
        mo, d = int(m.group("m")), int(m.group("d"))
        clock = _clock(m, value)
        year = fetched.astimezone(SHANGHAI).year
        try:
            posted = _local(value, year, mo, d, clock)
        except NormaliseError:  # 02-29 outside a leap year: the latest one was earlier
            posted = None
        if posted is None or posted > fetched + _SKEW:
            posted = _local(value, year - 1, mo, d, clock)
        return posted
    raise NormaliseError("date", value, "not a date or time this reader knows")


def parse_posted(text: object, fetched_at: datetime) -> datetime | None:
    """Read an absolute or relative posting time, in UTC.

    Parameters
    ----------
    text
        The date text as shown (``2026年3月5日``, ``昨天 23:59``, ``3天前``), or a Unix
        timestamp in seconds or milliseconds.
    fetched_at
        When the page was fetched; must be timezone-aware.

    Returns
    -------
    datetime or None
        An aware UTC datetime no later than ``fetched_at``; ``None`` for ``None``, empty
        text and placeholders.

    Raises
    ------
    NormaliseError
        For text that is not a known form, a date that does not exist (2026年2月29日),
        or a time more than ten minutes after ``fetched_at``.
    ValueError
        If ``fetched_at`` is naive: that is a bug in the caller, not bad data.

    Examples
    --------
    >>> fetched = datetime(2026, 3, 5, 16, 1, tzinfo=UTC)  # 00:01 on 6 March in Shanghai
    >>> parse_posted("昨天 23:59", fetched)
    datetime.datetime(2026, 3, 5, 15, 59, tzinfo=datetime.timezone.utc)
    >>> parse_posted("3天前", fetched)
    datetime.datetime(2026, 3, 2, 16, 1, tzinfo=datetime.timezone.utc)
    """
    if not isinstance(fetched_at, datetime):
        raise TypeError(f"fetched_at must be a datetime, not {type(fetched_at).__name__}")
    if fetched_at.tzinfo is None or fetched_at.utcoffset() is None:
        raise ValueError(f"fetched_at must be timezone-aware, got naive {fetched_at!r}")
    if text is None:
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise NormaliseError("date", text, f"expected text, got {type(text).__name__}")
    plain = clean_text(text)
    if plain is None or plain.lower() in PLACEHOLDERS:
        return None
    plain = _SUFFIX.sub("", _LABEL.sub("", plain.lower()))
    fetched = fetched_at.astimezone(UTC)
    posted = _read(plain, text, fetched)
    posted = posted.astimezone(UTC)
    if posted > fetched + _SKEW:
        raise NormaliseError(
            "date",
            text,
            f"{posted.astimezone(SHANGHAI):%Y-%m-%d %H:%M} (Shanghai) is after the fetch "
            f"at {fetched.astimezone(SHANGHAI):%Y-%m-%d %H:%M}",
        )
    return min(posted, fetched)
