"""The Chinese working-day calendar (工作日), for deadlines such as "notify the seller
within 5 working days of the test result" (GB/T 37538-2019, results handling).

A day is a working day when it is Monday to Friday and not inside a public-holiday period,
or when it is a weekend day the State Council makes a working day (调休上班). The periods
and the adjusted working days come, year by year, from the State Council General Office's
notices (《国务院办公厅关于20XX年部分节假日安排的通知》), kept in
``data/cn_workdays.yaml`` and validated when loaded. A date in a year the file does not
cover raises :class:`OutsideCalendarError`: the weekday alone would be wrong about every
holiday and adjusted working day, so the calendar refuses to guess. The next year's notice
usually appears in October or November; add it then.

Counting rule
-------------
``add_workdays(day, n)`` is the *n*-th working day strictly after ``day``: the result day
itself is day 0, whether or not it is a working day, and is never counted; each following
working day counts one. A result on a non-working day is thus counted from the next working
day, which is day 1. The deadline is the end of day *n*.

Why: Chinese law counts a period without the day it starts on (the Civil Procedure Law:
期间开始的时和日，不计算在期间内), and a period in working days leaves out the days that are
not (the Administrative Licensing Law's 以工作日计算，不含法定节假日). Counting a weekend or
holiday result from the next working day *as day 1* is also the stricter reading: it never
gives a later deadline than treating that working day as day 0, so a notice that is on
time here is on time under either reading.

Days are days in Asia/Shanghai, where the people who act on the deadline are. Moments are
stored in UTC: every function converts a timezone-aware datetime to its Asia/Shanghai date
first (``2025-01-27T17:00Z`` is 2025-01-28 in Shanghai, a Spring Festival holiday) and
refuses a naive one, as the warehouse does. :meth:`WorkdayCalendar.deadline_at` gives the
deadline as an instant: 00:00 Asia/Shanghai on the day after the last working day, in UTC,
an *exclusive* end, so a notice is on time when ``sent_at < deadline_at(...)``. A half-open
end has no 23:59:59.999999 gap to fall into, whatever precision the timestamps have.

>>> cal = default_calendar()
>>> cal.add_workdays(dt.date(2025, 1, 24), 5)   # Fri, across the 2025 Spring Festival
datetime.date(2025, 2, 7)
>>> cal.deadline_at(dt.datetime(2025, 1, 24, 9, 0, tzinfo=dt.UTC), 5)
datetime.datetime(2025, 2, 7, 16, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

__all__ = [
    "DATA_FILE",
    "FESTIVALS",
    "SHANGHAI",
    "CalendarDataError",
    "HolidayPeriod",
    "Notice",
    "OutsideCalendarError",
    "WorkdayCalendar",
    "YearArrangement",
    "default_calendar",
    "load_calendar",
    "shanghai_date",
]

DATA_FILE = Path(__file__).resolve().parent / "data" / "cn_workdays.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
FORMAT_VERSION = 1

# The seven holidays every yearly notice arranges (全国年节及纪念日放假办法).
FESTIVALS = (
    "new_year",
    "spring_festival",
    "qingming",
    "labour_day",
    "dragon_boat",
    "mid_autumn",
    "national_day",
)
# Festivals on a fixed Gregorian day: the loader checks the period contains it. The lunar
# and solar-term ones are checked against the statutory days the file states.
_FIXED_DAY = {"new_year": (1, 1), "labour_day": (5, 1), "national_day": (10, 1)}
# The longest period so far is 9 days (Spring Festival 2026); a longer one is a typo.
_MAX_PERIOD_DAYS = 14
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_HOLIDAY_KEYS = {
    "festivals",
    "name_zh",
    "name_en",
    "first",
    "last",
    "statutory_days",
    "adjusted_workdays",
}


# The statutory holidays with a fixed solar date (全国年节及纪念日放假办法, 2024 revision);
# the provisional count of a year not yet published keeps these off.
FIXED_STATUTORY_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


class CalendarDataError(ValueError):
    """The calendar file is invalid; ``errors`` lists every problem found."""

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        self.source = source
        self.errors = list(errors)
        count = len(self.errors)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the working-day calendar {source}:\n"
            + "\n".join(f"  {e}" for e in self.errors)
        )


class OutsideCalendarError(ValueError):
    """A date in a year the calendar does not cover."""

    def __init__(self, day: dt.date, years: Sequence[int]) -> None:
        self.day = day
        self.years = tuple(years)
        covered = f"{self.years[0]}–{self.years[-1]}" if self.years else "no year"
        super().__init__(
            f"{day.isoformat()} is outside the working-day calendar, which covers {covered}; "
            f"add the State Council notice 《国务院办公厅关于{day.year}年部分节假日安排的通知》 "
            f"to {DATA_FILE.name}"
        )


@dataclass(frozen=True)
class Notice:
    """The State Council General Office notice a year's arrangement comes from."""

    title: str
    number: str
    issued: dt.date
    url: str | None = None


@dataclass(frozen=True)
class HolidayPeriod:
    """One holiday period of a notice: the days off ``first``..``last`` (inclusive) and
    the weekend days made working days for it."""

    festivals: tuple[str, ...]
    name_zh: str
    name_en: str
    first: dt.date
    last: dt.date
    statutory_days: tuple[dt.date, ...]
    adjusted_workdays: tuple[dt.date, ...]

    def days(self) -> Iterator[dt.date]:
        day = self.first
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            return False
        return self.first <= day <= self.last


@dataclass(frozen=True)
class YearArrangement:
    """A year's arrangement, as one notice publishes it."""

    year: int
    source: Notice
    holidays: tuple[HolidayPeriod, ...]


def shanghai_date(value: dt.date | dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar day of ``value``: a date as it is, a timezone-aware
    datetime converted first. A naive datetime is refused: its zone is unknown.

    >>> shanghai_date(dt.datetime(2025, 1, 27, 17, 0, tzinfo=dt.UTC))
    datetime.date(2025, 1, 28)
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()}: give it a time zone (stored times are UTC)"
            )
        return value.astimezone(SHANGHAI).date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}: {value!r}")


class WorkdayCalendar:
    """Working days in mainland China for the years of ``arrangements``.

    Build it with :func:`default_calendar` (the shipped file, loaded once) or
    :meth:`from_yaml` (another file). The arrangements are validated here as well, so a
    calendar that exists is a valid one. Every method takes a date or a timezone-aware
    datetime (see :func:`shanghai_date`) and raises :class:`OutsideCalendarError` for a
    day, given or reached while counting, in a year that is not covered.
    """

    def __init__(
        self,
        arrangements: Iterable[YearArrangement],
        *,
        source: str = "<memory>",
        provisional_future: bool = False,
    ):
        self.provisional_future = provisional_future
        self.arrangements = tuple(sorted(arrangements, key=lambda a: a.year))
        problems = check_arrangements(self.arrangements)
        if problems:
            raise CalendarDataError(source, problems)
        self.source = source
        self.years = tuple(a.year for a in self.arrangements)
        self._off: dict[dt.date, HolidayPeriod] = {}
        self._on: dict[dt.date, HolidayPeriod] = {}
        for arrangement in self.arrangements:
            for period in arrangement.holidays:
                self._off.update(dict.fromkeys(period.days(), period))
                self._on.update(dict.fromkeys(period.adjusted_workdays, period))

    @classmethod
    def from_yaml(cls, path: Path | str) -> WorkdayCalendar:
        """Read and validate a calendar file. :class:`CalendarDataError` lists every
        problem, each naming the year and the field or date: first every structural one
        (missing fields, bad dates, unknown keys), then, when there are none, every
        inconsistency (see :func:`check_arrangements`)."""
        path = Path(path)
        problems: list[str] = []
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CalendarDataError(str(path), [f"cannot read: {exc}"]) from exc
        arrangements = parse_document(doc, problems)
        if problems:
            raise CalendarDataError(str(path), problems)
        # Consistency is checked (by __init__) once the structure is sound: a year skipped
        # for a bad field would otherwise also be reported as missing.
        return cls(arrangements, source=str(path))

    def __repr__(self) -> str:
        extra = ", provisional_future=True" if self.provisional_future else ""
        return f"WorkdayCalendar(years={self.years!r}, source={self.source!r}{extra})"

    def with_provisional_future(self) -> WorkdayCalendar:
        """This calendar, counting the years after its last one provisionally.

        Until the State Council publishes a year's arrangement (usually in November of
        the year before), a deadline that runs into it is counted with Monday to Friday as
        working days and only the fixed-date statutory holidays off (元旦 1 January,
        劳动节 1–2 May, 国庆节 1–3 October, under 全国年节及纪念日放假办法): lunar holidays and
        adjusted working days are unknown. :meth:`is_provisional` tells which days were
        counted so; add the year to the data file once the notice is out.
        """
        copy = WorkdayCalendar.__new__(WorkdayCalendar)
        copy.__dict__.update(self.__dict__)
        copy.provisional_future = True
        return copy

    def is_provisional(self, day: dt.date | dt.datetime) -> bool:
        """Whether ``day`` lies after the covered years and is counted provisionally."""
        d = shanghai_date(day)
        return self.provisional_future and bool(self.years) and d.year > self.years[-1]

    def _covered(self, day: dt.date) -> dt.date:
        if day.year not in self.years and not self.is_provisional(day):
            raise OutsideCalendarError(day, self.years)
        return day

    def holiday_on(self, day: dt.date | dt.datetime) -> HolidayPeriod | None:
        """The holiday period ``day`` is off for, or the one it is an adjusted working day
        for; ``None`` on an ordinary day."""
        d = self._covered(shanghai_date(day))
        return self._off.get(d) or self._on.get(d)

    def is_workday(self, day: dt.date | dt.datetime) -> bool:
        """Whether ``day`` (its Asia/Shanghai date) is a working day.

        >>> cal = default_calendar()
        >>> cal.is_workday(dt.date(2025, 1, 26)), cal.is_workday(dt.date(2025, 1, 28))
        (True, False)
        """
        d = self._covered(shanghai_date(day))
        if d in self._on:
            return True
        if self.is_provisional(d):
            return d.weekday() < 5 and (d.month, d.day) not in FIXED_STATUTORY_HOLIDAYS
        return d not in self._off and d.weekday() < 5

    def next_workday(self, day: dt.date | dt.datetime) -> dt.date:
        """The first working day strictly after ``day`` (``add_workdays(day, 1)``)."""
        return self.add_workdays(day, 1)

    def add_workdays(self, start: dt.date | dt.datetime, n: int) -> dt.date:
        """The *n*-th working day strictly after ``start``: the day a deadline of *n*
        working days from ``start`` ends on (see the module docstring for the rule).

        ``n == 0`` gives ``start``'s own date; ``n`` may not be negative.

        >>> cal = default_calendar()
        >>> cal.add_workdays(dt.date(2025, 2, 8), 5)    # an adjusted working Saturday
        datetime.date(2025, 2, 14)
        >>> cal.add_workdays(dt.date(2025, 1, 29), 5)   # a holiday: Feb 5 is day 1
        datetime.date(2025, 2, 10)
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}: {n!r}")
        if n < 0:
            raise ValueError(f"n must be 0 or more, got {n}")
        day = self._covered(shanghai_date(start))
        counted = 0
        while counted < n:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def workdays_between(self, a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> int:
        """The number of working days after ``a`` up to and including ``b``; negative when
        ``b`` is before ``a``. ``workdays_between(d, add_workdays(d, n)) == n``.

        >>> default_calendar().workdays_between(dt.date(2025, 9, 26), dt.date(2025, 10, 10))
        5
        """
        start = self._covered(shanghai_date(a))
        end = self._covered(shanghai_date(b))
        if end < start:
            return -self.workdays_between(end, start)
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count

    def deadline_at(self, result_time: dt.date | dt.datetime, n: int) -> dt.datetime:
        """The UTC instant a deadline of *n* working days after ``result_time`` ends:
        00:00 Asia/Shanghai the day after :meth:`add_workdays`. Exclusive: on time means
        strictly before it.

        >>> default_calendar().deadline_at(dt.datetime(2025, 9, 29, 16, 0, tzinfo=dt.UTC), 5)
        datetime.datetime(2025, 10, 14, 16, 0, tzinfo=datetime.timezone.utc)
        """
        last_day = self.add_workdays(result_time, n)
        end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)
        return end.astimezone(dt.UTC)


@functools.cache
def load_calendar(path: Path | str = DATA_FILE) -> WorkdayCalendar:
    """The calendar in ``path``, read once per process (use
    :meth:`WorkdayCalendar.from_yaml` to re-read a file that changed)."""
    return WorkdayCalendar.from_yaml(path)


def default_calendar() -> WorkdayCalendar:
    """The shipped calendar, ``data/cn_workdays.yaml``, read once per process."""
    return load_calendar(DATA_FILE)


# ------------------------------------------------------------------------ validation


def parse_document(doc: Any, problems: list[str]) -> list[YearArrangement]:
    """The year arrangements of a parsed calendar file. Appends to ``problems`` what is
    missing or of the wrong type and skips those years."""
    if not isinstance(doc, dict):
        problems.append("the file must be a mapping with 'version', 'timezone' and 'years'")
        return []
    if doc.get("version") != FORMAT_VERSION:
        problems.append(f"version: expected {FORMAT_VERSION}, got {doc.get('version')!r}")
    if doc.get("timezone") != "Asia/Shanghai":
        problems.append(f"timezone: expected 'Asia/Shanghai', got {doc.get('timezone')!r}")
    years = doc.get("years")
    if not isinstance(years, dict) or not years:
        problems.append("years: expected a mapping of year -> arrangement, with at least one year")
        return []
    arrangements = []
    for year, entry in years.items():
        before = len(problems)
        arrangement = _parse_year(year, entry, problems)
        if arrangement is not None and len(problems) == before:
            arrangements.append(arrangement)
    return arrangements


def _parse_year(year: Any, entry: Any, problems: list[str]) -> YearArrangement | None:
    if isinstance(year, bool) or not isinstance(year, int) or not 1949 < year < 2200:
        problems.append(f"years: {year!r} is not a year")
        return None
    if not isinstance(entry, dict):
        problems.append(f"{year}: expected a mapping with 'source' and 'holidays'")
        return None
    unknown = set(entry) - {"source", "holidays"}
    if unknown:
        problems.append(f"{year}: unknown keys {sorted(map(str, unknown))}")
    src = entry.get("source")
    notice = None
    if not isinstance(src, dict):
        problems.append(f"{year}.source: expected a mapping with title, number and issued")
    else:
        title = _text(src, "title", f"{year}.source", problems)
        number = _text(src, "number", f"{year}.source", problems)
        issued = _date(src.get("issued"), f"{year}.source.issued", problems)
        url = src.get("url")
        if url is not None and not isinstance(url, str):
            problems.append(f"{year}.source.url: expected text, got {url!r}")
        if title and f"{year}年" not in title:
            problems.append(f"{year}.source.title: {title!r} is not the notice for {year}")
        if title and number and issued:
            notice = Notice(title, number, issued, url)
    holidays = entry.get("holidays")
    if not isinstance(holidays, list) or not holidays:
        problems.append(f"{year}.holidays: expected a list of holiday periods")
        return None
    periods = [_parse_period(f"{year}.holidays[{i}]", h, problems) for i, h in enumerate(holidays)]
    if notice is None or any(p is None for p in periods):
        return None
    return YearArrangement(year, notice, tuple(p for p in periods if p is not None))


def _parse_period(where: str, item: Any, problems: list[str]) -> HolidayPeriod | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: expected a mapping")
        return None
    unknown = set(item) - _HOLIDAY_KEYS
    if unknown:
        problems.append(f"{where}: unknown keys {sorted(map(str, unknown))}")
    festivals = item.get("festivals")
    if not isinstance(festivals, list) or not festivals:
        problems.append(f"{where}.festivals: expected a list of codes from {list(FESTIVALS)}")
        festivals = []
    for code in festivals:
        if code not in FESTIVALS:
            problems.append(f"{where}.festivals: unknown festival {code!r}")
    name_zh = _text(item, "name_zh", where, problems)
    name_en = _text(item, "name_en", where, problems)
    first = _date(item.get("first"), f"{where}.first", problems)
    last = _date(item.get("last"), f"{where}.last", problems)
    statutory = _dates(item, "statutory_days", where, problems, allow_empty=False)
    adjusted = _dates(item, "adjusted_workdays", where, problems, allow_empty=True)
    if not (name_zh and name_en and first and last) or statutory is None or adjusted is None:
        return None
    return HolidayPeriod(
        tuple(festivals), name_zh, name_en, first, last, tuple(statutory), tuple(adjusted)
    )


def _text(mapping: dict, key: str, where: str, problems: list[str]) -> str | None:
    value = mapping.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}.{key}: expected non-empty text, got {value!r}")
        return None
    return value.strip()


def _date(value: Any, where: str, problems: list[str]) -> dt.date | None:
    # YAML reads 2025-01-28 as a date; a quoted one arrives as text.
    if isinstance(value, dt.datetime):
        problems.append(f"{where}: expected a date, got a date and time {value!r}")
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.append(f"{where}: expected a date (YYYY-MM-DD), got {value!r}")
    return None


def _dates(
    mapping: dict, key: str, where: str, problems: list[str], *, allow_empty: bool
) -> list[dt.date] | None:
    values = mapping.get(key)
    if not isinstance(values, list) or (not values and not allow_empty):
        problems.append(f"{where}.{key}: expected a list of dates")
        return None
    days = [_date(v, f"{where}.{key}", problems) for v in values]
    if any(d is None for d in days):
        return None
    return [d for d in days if d is not None]


def check_arrangements(arrangements: Sequence[YearArrangement]) -> list[str]:
    """Every inconsistency in ``arrangements``: adjusted working days not on a weekend or
    inside a holiday, overlapping or implausible periods, festivals missing or repeated in
    a year, statutory days outside their period, years not consecutive."""
    problems: list[str] = []
    if not arrangements:
        return ["no year: the calendar needs at least one year's arrangement"]
    years = sorted(a.year for a in arrangements)
    if len(set(years)) != len(years):
        problems.append(f"a year appears more than once: {years}")
    gaps = [y for y in range(years[0], years[-1] + 1) if y not in years] if years else []
    if gaps:
        problems.append(
            f"years must be consecutive: {years[0]}–{years[-1]} lacks {gaps}; a date in a "
            "missing year would raise in the middle of a count"
        )
    periods: list[tuple[int, HolidayPeriod]] = []
    adjusted_seen: dict[dt.date, int] = {}
    for arrangement in arrangements:
        year = arrangement.year
        # A notice may reach into the neighbouring month across New Year (2023's 元旦 began
        # on 2022-12-31), no further.
        window = (dt.date(year - 1, 12, 1), dt.date(year + 1, 1, 31))
        if arrangement.source.issued >= dt.date(year, 1, 1):
            problems.append(
                f"{year}.source.issued: {arrangement.source.issued} is not before {year}; "
                "the notice is published the year before"
            )
        counts = dict.fromkeys(FESTIVALS, 0)
        for period in arrangement.holidays:
            where = f"{year} {period.name_zh}"
            for code in period.festivals:
                counts[code] += 1
            periods.append((year, period))
            if period.last < period.first:
                problems.append(f"{where}: last day {period.last} is before first {period.first}")
            elif (period.last - period.first).days + 1 > _MAX_PERIOD_DAYS:
                problems.append(
                    f"{where}: {period.first}..{period.last} is longer than "
                    f"{_MAX_PERIOD_DAYS} days; check the dates"
                )
            for day in (
                period.first,
                period.last,
                *period.statutory_days,
                *period.adjusted_workdays,
            ):
                if not window[0] <= day <= window[1]:
                    problems.append(f"{where}: {day} is too far from {year}")
            for day in period.statutory_days:
                if day not in period:
                    problems.append(
                        f"{where}: statutory day {day} is outside the period "
                        f"{period.first}..{period.last}"
                    )
            for code in period.festivals:
                if code in _FIXED_DAY:
                    fixed = dt.date(year, *_FIXED_DAY[code])
                    if fixed not in period.statutory_days:
                        problems.append(f"{where}: {code} falls on {fixed}, not a statutory day")
            for day in period.adjusted_workdays:
                if day.weekday() < 5:
                    problems.append(
                        f"{where}: adjusted working day {day} is a {_WEEKDAYS[day.weekday()]}; "
                        "an adjusted working day (调休上班) must be a Saturday or Sunday"
                    )
                if day in adjusted_seen:
                    problems.append(f"{where}: adjusted working day {day} is listed twice")
                adjusted_seen[day] = year
        missing = [code for code, n in counts.items() if n == 0]
        repeated = [code for code, n in counts.items() if n > 1]
        if missing:
            problems.append(f"{year}: incomplete, no holiday period for {missing}")
        if repeated:
            problems.append(f"{year}: more than one holiday period for {repeated}")
    periods.sort(key=lambda yp: yp[1].first)
    for (year_a, a), (year_b, b) in zip(periods, periods[1:], strict=False):
        if b.first <= a.last:
            problems.append(
                f"holidays overlap: {year_a} {a.name_zh} {a.first}..{a.last} and "
                f"{year_b} {b.name_zh} {b.first}..{b.last}"
            )
    for day, year in sorted(adjusted_seen.items()):
        for year_p, period in periods:
            if day in period:
                problems.append(
                    f"{year}: adjusted working day {day} is inside the holiday "
                    f"{year_p} {period.name_zh} {period.first}..{period.last}"
                )
    return problems
