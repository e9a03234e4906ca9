"""The Chinese working-day calendar and the notification deadlines counted on it.

Every expected date below was counted by hand from the State Council notices (国办发明电
〔2023〕7号, 〔2024〕12号, 〔2025〕7号), not with the code under test: "day 1" is the first
working day after the result day, weekend days listed as 调休上班 count, holidays do not.
"""

from __future__ import annotations

import copy
import datetime as dt
import doctest
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from transforms.notify import workdays
from transforms.notify.workdays import (
    DATA_FILE,
    SHANGHAI,
    CalendarDataError,
    OutsideCalendarError,
    WorkdayCalendar,
    default_calendar,
)

D = dt.date.fromisoformat
UTC = dt.UTC


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def cal() -> WorkdayCalendar:
    return default_calendar()


# The notices once more, typed separately from the YAML: days off (first, last) and the
# adjusted working days.
DAYS_OFF = [
    ("2024-01-01", "2024-01-01"),
    ("2024-02-10", "2024-02-17"),
    ("2024-04-04", "2024-04-06"),
    ("2024-05-01", "2024-05-05"),
    ("2024-06-10", "2024-06-10"),
    ("2024-09-15", "2024-09-17"),
    ("2024-10-01", "2024-10-07"),
    ("2025-01-01", "2025-01-01"),
    ("2025-01-28", "2025-02-04"),
    ("2025-04-04", "2025-04-06"),
    ("2025-05-01", "2025-05-05"),
    ("2025-05-31", "2025-06-02"),
    ("2025-10-01", "2025-10-08"),
    ("2026-01-01", "2026-01-03"),
    ("2026-02-15", "2026-02-23"),
    ("2026-04-04", "2026-04-06"),
    ("2026-05-01", "2026-05-05"),
    ("2026-06-19", "2026-06-21"),
    ("2026-09-25", "2026-09-27"),
    ("2026-10-01", "2026-10-07"),
]
ADJUSTED_WORKDAYS = """
2024-02-04 2024-02-18 2024-04-07 2024-04-28 2024-05-11 2024-09-14 2024-09-29 2024-10-12
2025-01-26 2025-02-08 2025-04-27 2025-09-28 2025-10-11
2026-01-04 2026-02-14 2026-02-28 2026-05-09 2026-09-20 2026-10-10
""".split()


def expected_workday(day: dt.date) -> bool:
    if day.isoformat() in ADJUSTED_WORKDAYS:
        return True
    off = any(D(a) <= day <= D(b) for a, b in DAYS_OFF)
    return not off and day.weekday() < 5


def all_days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


# ------------------------------------------------------------------ the shipped data


def test_every_day_of_2024_to_2026_matches_the_notices(cal: WorkdayCalendar) -> None:
    wrong = [
        d
        for d in all_days(D("2024-01-01"), D("2026-12-31"))
        if cal.is_workday(d) != expected_workday(d)
    ]
    assert wrong == []


@pytest.mark.parametrize(("year", "count"), [(2024, 251), (2025, 248), (2026, 248)])
def test_working_days_per_year(cal: WorkdayCalendar, year: int, count: int) -> None:
    # 2024: 262 weekdays - 19 off + 8 adjusted; 2025: 261 - 18 + 5; 2026: 261 - 19 + 6.
    days = all_days(dt.date(year, 1, 1), dt.date(year, 12, 31))
    assert sum(cal.is_workday(d) for d in days) == count


def test_shipped_file_sources(cal: WorkdayCalendar) -> None:
    assert cal.years == (2024, 2025, 2026)
    numbers = {a.year: a.source.number for a in cal.arrangements}
    assert numbers == {
        2024: "国办发明电〔2023〕7号",
        2025: "国办发明电〔2024〕12号",
        2026: "国办发明电〔2025〕7号",
    }
    issued = {a.year: a.source.issued for a in cal.arrangements}
    assert issued == {2024: D("2023-10-25"), 2025: D("2024-11-12"), 2026: D("2025-11-04")}
    for a in cal.arrangements:
        assert a.source.title == f"国务院办公厅关于{a.year}年部分节假日安排的通知"
        assert re.fullmatch(
            r"https://www\.gov\.cn/zhengce/content/\d{6}/content_\d+\.htm", a.source.url
        )


def test_statutory_days_follow_the_holiday_law(cal: WorkdayCalendar) -> None:
    # 11 statutory days a year until 2024; 13 from 2025 (除夕 and May 2 added).
    totals = {a.year: sum(len(p.statutory_days) for p in a.holidays) for a in cal.arrangements}
    assert totals == {2024: 11, 2025: 13, 2026: 13}


def test_holiday_on_names_the_period(cal: WorkdayCalendar) -> None:
    assert cal.holiday_on(D("2025-10-06")).name_en == "National Day and Mid-Autumn Festival"
    assert cal.holiday_on(D("2026-02-28")).name_zh == "春节"  # its adjusted working day
    assert cal.holiday_on(D("2025-03-12")) is None


def test_chuxi_2024_is_a_working_day(cal: WorkdayCalendar) -> None:
    # The 2024 notice only encourages giving 除夕 (Fri 9 Feb) off.
    assert cal.is_workday(D("2024-02-09"))


def test_default_calendar_is_loaded_once() -> None:
    assert default_calendar() is default_calendar()


def test_docstring_examples() -> None:
    result = doctest.testmod(workdays)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------ deadlines


DEADLINES = [
    # 2025 Spring Festival: holiday Tue 01-28..Tue 02-04; work Sun 01-26 and Sat 02-08.
    ("2025-01-23", 5, "2025-02-06", "Thu: 24, 26 Sun, 27, 02-05, 02-06"),
    ("2025-01-24", 5, "2025-02-07", "Fri: 26 Sun, 27, 02-05, 06, 07"),
    ("2025-01-25", 5, "2025-02-07", "ordinary Sat: counts from Sun 26 like Friday"),
    ("2025-01-26", 5, "2025-02-08", "adjusted Sun: 27, 02-05, 06, 07, 08 Sat"),
    ("2025-01-27", 5, "2025-02-10", "Mon: 02-05, 06, 07, 08 Sat, 10"),
    ("2025-01-28", 5, "2025-02-10", "除夕, holiday: 02-05 is day 1"),
    ("2025-01-29", 5, "2025-02-10", "初一, holiday"),
    ("2025-02-04", 5, "2025-02-10", "last day of the holiday"),
    ("2025-02-08", 5, "2025-02-14", "adjusted Sat: 10..14"),
    ("2025-02-09", 5, "2025-02-14", "the Sun after"),
    # 2025 National Day + Mid-Autumn: Wed 10-01..Wed 10-08; work Sun 09-28 and Sat 10-11.
    ("2025-09-26", 5, "2025-10-10", "Fri: 28 Sun, 29, 30, 10-09, 10"),
    ("2025-09-28", 5, "2025-10-11", "adjusted Sun: 29, 30, 10-09, 10, 11 Sat"),
    ("2025-09-29", 5, "2025-10-13", "Mon: 30, 10-09, 10, 11 Sat, 13"),
    ("2025-10-01", 5, "2025-10-14", "holiday: 09, 10, 11 Sat, 13, 14"),
    ("2025-10-06", 5, "2025-10-14", "中秋 inside the holiday"),
    ("2025-10-11", 5, "2025-10-17", "adjusted Sat: 13..17"),
    # 2026 Spring Festival: Sun 02-15..Mon 02-23; work Sat 02-14 and Sat 02-28.
    ("2026-02-12", 5, "2026-02-26", "Thu: 13, 14 Sat, 24, 25, 26"),
    ("2026-02-13", 5, "2026-02-27", "Fri: 14 Sat, 24, 25, 26, 27"),
    ("2026-02-13", 6, "2026-02-28", "the 6th is the adjusted Sat"),
    ("2026-02-14", 5, "2026-02-28", "adjusted Sat: 24, 25, 26, 27, 28 Sat"),
    ("2026-02-17", 5, "2026-02-28", "初一, holiday"),
    ("2026-02-24", 5, "2026-03-02", "Tue: 25, 26, 27, 28 Sat, 03-02"),
    ("2026-02-28", 5, "2026-03-06", "adjusted Sat: 03-02..06"),
    # 2026 autumn: work Sun 09-20; 中秋 Fri 09-25..Sun 09-27; 国庆 Thu 10-01..Wed 10-07;
    # work Sat 10-10.
    ("2026-09-18", 5, "2026-09-24", "Fri: 20 Sun, 21, 22, 23, 24"),
    ("2026-09-19", 5, "2026-09-24", "ordinary Sat"),
    ("2026-09-18", 11, "2026-10-10", "…24, 28, 29, 30, 10-08, 09, 10 Sat"),
    ("2026-09-18", 12, "2026-10-12", "…10 Sat, then Sun 11 off, Mon 12"),
    ("2026-09-23", 5, "2026-10-08", "Wed: 24, 28, 29, 30, 10-08"),
    ("2026-09-25", 5, "2026-10-09", "中秋: 28, 29, 30, 10-08, 09"),
    ("2026-09-28", 5, "2026-10-10", "Mon: 29, 30, 10-08, 09, 10 Sat"),
    ("2026-10-01", 5, "2026-10-13", "国庆: 08, 09, 10 Sat, 12, 13"),
    # 2024, and across New Year.
    ("2024-02-08", 5, "2024-02-21", "Thu: 09 (除夕, working), 18 Sun, 19, 20, 21"),
    ("2024-09-27", 5, "2024-10-10", "Fri: 29 Sun, 30, 10-08, 09, 10"),
    ("2024-12-31", 5, "2025-01-08", "01-01 off: 02, 03, 06, 07, 08"),
    ("2025-12-31", 1, "2026-01-04", "元旦 01-01..03 off, Sun 01-04 works"),
    ("2025-12-31", 5, "2026-01-08", "04 Sun, 05, 06, 07, 08"),
    ("2025-01-28", 0, "2025-01-28", "n = 0 is the result day itself"),
]


@pytest.mark.parametrize(("result", "n", "deadline", "why"), DEADLINES)
def test_add_workdays(cal: WorkdayCalendar, result: str, n: int, deadline: str, why: str) -> None:
    assert cal.add_workdays(D(result), n) == D(deadline), why
    assert cal.workdays_between(D(result), D(deadline)) == n


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-01-24", "2025-01-26"),
        ("2025-01-27", "2025-02-05"),
        ("2026-02-13", "2026-02-14"),
        ("2026-09-24", "2026-09-28"),
        ("2026-10-07", "2026-10-08"),
    ],
)
def test_next_workday(cal: WorkdayCalendar, day: str, expected: str) -> None:
    assert cal.next_workday(D(day)) == D(expected)


def test_workdays_between(cal: WorkdayCalendar) -> None:
    assert cal.workdays_between(D("2025-01-24"), D("2025-02-07")) == 5
    assert cal.workdays_between(D("2025-02-07"), D("2025-01-24")) == -5
    assert cal.workdays_between(D("2025-01-28"), D("2025-02-04")) == 0
    assert cal.workdays_between(D("2025-03-12"), D("2025-03-12")) == 0
    assert cal.workdays_between(D("2024-01-01"), D("2024-12-31")) == 251
    assert cal.workdays_between(D("2024-12-31"), D("2026-12-31")) == 248 + 248


def test_bad_n(cal: WorkdayCalendar) -> None:
    with pytest.raises(ValueError, match="0 or more"):
        cal.add_workdays(D("2025-03-12"), -1)
    with pytest.raises(TypeError):
        cal.add_workdays(D("2025-03-12"), 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cal.add_workdays("2025-03-12", 2)  # type: ignore[arg-type]


# ------------------------------------------------------------------ UTC and Asia/Shanghai


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2025-01-27T15:59:59.999999", True),  # Mon 27th 23:59:59 in Shanghai
        ("2025-01-27T16:00:00", False),  # 28th 00:00, 除夕
        ("2025-01-27T17:00:00", False),
        ("2025-01-25T15:59:59", False),  # Sat 25th, ordinary weekend
        ("2025-01-25T16:00:00", True),  # Sun 26th 00:00, adjusted working day
        ("2026-02-13T16:30:00", True),  # Sat 14th, adjusted working day
        ("2026-02-14T16:30:00", False),  # Sun 15th, Spring Festival
    ],
)
def test_utc_moments_are_read_in_shanghai(
    cal: WorkdayCalendar, moment: str, expected: bool
) -> None:
    assert cal.is_workday(utc(moment)) is expected


def test_other_zones_and_naive_datetimes(cal: WorkdayCalendar) -> None:
    assert cal.is_workday(dt.datetime(2025, 1, 28, 0, 30, tzinfo=SHANGHAI)) is False
    new_york = dt.timezone(dt.timedelta(hours=-5))
    assert cal.is_workday(dt.datetime(2025, 1, 27, 12, 0, tzinfo=new_york)) is False
    with pytest.raises(ValueError, match="naive datetime 2025-01-27T12:00:00"):
        cal.is_workday(dt.datetime(2025, 1, 27, 12, 0))
    with pytest.raises(ValueError, match="naive"):
        cal.deadline_at(dt.datetime(2025, 1, 27, 12, 0), 5)


@pytest.mark.parametrize(
    ("result_time", "n", "deadline"),
    [
        ("2025-01-24T09:00:00", 5, "2025-02-07T16:00:00"),
        ("2025-01-23T15:30:00", 5, "2025-02-06T16:00:00"),  # Thu 23:30 Shanghai
        ("2025-01-23T16:30:00", 5, "2025-02-07T16:00:00"),  # Fri 00:30 Shanghai
        ("2025-09-29T15:59:59", 5, "2025-10-13T16:00:00"),  # Mon 23:59:59
        ("2025-09-29T16:00:00", 5, "2025-10-14T16:00:00"),  # Tue 00:00
        ("2026-02-13T15:00:00", 5, "2026-02-27T16:00:00"),  # Fri 23:00
        ("2026-02-13T16:00:00", 5, "2026-02-28T16:00:00"),  # Sat 00:00, adjusted
        ("2023-12-31T16:00:00", 1, "2024-01-02T16:00:00"),  # 2024-01-01 in Shanghai
    ],
)
def test_deadline_at(cal: WorkdayCalendar, result_time: str, n: int, deadline: str) -> None:
    end = cal.deadline_at(utc(result_time), n)
    assert end == utc(deadline)
    assert end.utcoffset() == dt.timedelta(0)
    # Midnight in Shanghai, exclusive: the last moment on time is still the deadline day.
    local = end.astimezone(SHANGHAI)
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    last_ok = (end - dt.timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    assert last_ok == cal.add_workdays(utc(result_time), n)


# ------------------------------------------------------------------ outside the calendar


def test_date_before_the_calendar(cal: WorkdayCalendar) -> None:
    with pytest.raises(
        OutsideCalendarError, match=r"2023-12-31 is outside .* covers 2024–2026"
    ) as e:
        cal.is_workday(D("2023-12-31"))
    assert e.value.day == D("2023-12-31") and e.value.years == (2024, 2025, 2026)
    assert "2023年部分节假日安排" in str(e.value)
    with pytest.raises(OutsideCalendarError, match="2023-12-31"):
        cal.is_workday(utc("2023-12-31T15:59:59"))  # still 2023 in Shanghai


def test_count_running_past_the_calendar(cal: WorkdayCalendar) -> None:
    assert cal.add_workdays(D("2026-12-25"), 4) == D("2026-12-31")
    with pytest.raises(OutsideCalendarError, match="2027-01-01 is outside"):
        cal.add_workdays(D("2026-12-25"), 5)
    with pytest.raises(OutsideCalendarError, match="2027-01-01"):
        cal.next_workday(D("2026-12-31"))
    with pytest.raises(OutsideCalendarError, match="2027-01-01"):
        cal.deadline_at(utc("2026-12-31T16:00:00"), 1)
    with pytest.raises(OutsideCalendarError, match="2027-03-01"):
        cal.workdays_between(D("2026-03-01"), D("2027-03-01"))


# ------------------------------------------------------------------ properties

# The latest start from which 30 working days still end inside 2026.
starts = st.dates(min_value=D("2024-01-01"), max_value=D("2026-10-31"))
counts = st.integers(min_value=0, max_value=30)


@given(starts, st.integers(min_value=1, max_value=30))
def test_deadline_is_a_working_day(start: dt.date, n: int) -> None:
    cal = default_calendar()
    assert cal.is_workday(cal.add_workdays(start, n))


@given(starts, counts)
def test_between_inverts_add(start: dt.date, n: int) -> None:
    cal = default_calendar()
    end = cal.add_workdays(start, n)
    assert cal.workdays_between(start, end) == n
    assert cal.workdays_between(end, start) == -n


@given(starts, counts)
def test_no_working_day_is_skipped(start: dt.date, n: int) -> None:
    cal = default_calendar()
    a, b = cal.add_workdays(start, n), cal.add_workdays(start, n + 1)
    assert a < b
    assert not any(
        cal.is_workday(d) for d in all_days(a + dt.timedelta(days=1), b - dt.timedelta(days=1))
    )


@given(
    st.datetimes(
        min_value=dt.datetime(2024, 1, 1),
        max_value=dt.datetime(2026, 12, 31, 15, 59),
        timezones=st.just(UTC),
    )
)
def test_shanghai_is_utc_plus_eight(moment: dt.datetime) -> None:
    # No daylight saving in China since 1991: the Shanghai day is the UTC+8 day.
    day = (moment.replace(tzinfo=None) + dt.timedelta(hours=8)).date()
    assert default_calendar().is_workday(moment) == expected_workday(day)


# ------------------------------------------------------------------ validation


def shipped() -> dict[str, Any]:
    return yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))


def write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "cn_workdays.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def period(doc: dict[str, Any], year: int, name_zh: str) -> dict[str, Any]:
    return next(h for h in doc["years"][year]["holidays"] if h["name_zh"] == name_zh)


def problems_of(tmp_path: Path, doc: Any) -> list[str]:
    with pytest.raises(CalendarDataError) as e:
        WorkdayCalendar.from_yaml(write(tmp_path, doc))
    assert str(tmp_path) in str(e.value)
    return e.value.errors


def test_a_written_copy_of_the_shipped_file_loads(tmp_path: Path) -> None:
    cal = WorkdayCalendar.from_yaml(write(tmp_path, shipped()))
    assert cal.years == (2024, 2025, 2026)
    assert cal.add_workdays(D("2025-01-24"), 5) == D("2025-02-07")


def test_a_year_can_be_added(tmp_path: Path) -> None:
    # A made-up 2027 (not the real arrangement): extending is a matter of data.
    doc = shipped()
    doc["years"][2027] = {
        "source": {
            "title": "国务院办公厅关于2027年部分节假日安排的通知",
            "number": "test",
            "issued": D("2026-11-01"),
        },
        "holidays": [
            {
                "festivals": [code],
                "name_zh": code,
                "name_en": code,
                "first": D(first),
                "last": D(last),
                "statutory_days": [D(first)],
                "adjusted_workdays": [],
            }
            for code, first, last in [
                ("new_year", "2027-01-01", "2027-01-01"),
                ("spring_festival", "2027-02-06", "2027-02-06"),
                ("qingming", "2027-04-05", "2027-04-05"),
                ("labour_day", "2027-05-01", "2027-05-01"),
                ("dragon_boat", "2027-06-09", "2027-06-09"),
                ("mid_autumn", "2027-09-15", "2027-09-15"),
                ("national_day", "2027-10-01", "2027-10-01"),
            ]
        ],
    }
    cal = WorkdayCalendar.from_yaml(write(tmp_path, doc))
    assert cal.years == (2024, 2025, 2026, 2027)
    # Mon 12-28: 29, 30, 31, (Fri 01-01 off, weekend) Mon 01-04, Tue 01-05.
    assert cal.add_workdays(D("2026-12-28"), 5) == D("2027-01-05")


def test_adjusted_working_day_on_a_weekday(tmp_path: Path) -> None:
    doc = shipped()
    period(doc, 2025, "春节")["adjusted_workdays"] = [D("2025-01-27"), D("2025-02-08")]
    [problem] = problems_of(tmp_path, doc)
    assert "2025 春节: adjusted working day 2025-01-27 is a Monday" in problem


def test_adjusted_working_day_inside_a_holiday(tmp_path: Path) -> None:
    doc = shipped()
    period(doc, 2025, "春节")["adjusted_workdays"].append(D("2025-02-01"))
    [problem] = problems_of(tmp_path, doc)
    assert "2025-02-01 is inside the holiday 2025 春节 2025-01-28..2025-02-04" in problem


def test_overlapping_holidays(tmp_path: Path) -> None:
    doc = shipped()
    period(doc, 2026, "中秋节")["last"] = D("2026-10-01")
    [problem] = problems_of(tmp_path, doc)
    assert problem.startswith(
        "holidays overlap: 2026 中秋节 2026-09-25..2026-10-01 and 2026 国庆节"
    )


def test_incomplete_year(tmp_path: Path) -> None:
    doc = shipped()
    doc["years"][2026]["holidays"].remove(period(doc, 2026, "中秋节"))
    assert problems_of(tmp_path, doc) == ["2026: incomplete, no holiday period for ['mid_autumn']"]


def test_years_must_be_consecutive(tmp_path: Path) -> None:
    doc = shipped()
    del doc["years"][2025]
    [problem] = problems_of(tmp_path, doc)
    assert "years must be consecutive: 2024–2026 lacks [2025]" in problem


def test_statutory_day_outside_its_period(tmp_path: Path) -> None:
    doc = shipped()
    period(doc, 2026, "清明节")["statutory_days"] = [D("2026-04-07")]
    [problem] = problems_of(tmp_path, doc)
    assert (
        "2026 清明节: statutory day 2026-04-07 is outside the period 2026-04-04..2026-04-06"
        in problem
    )


def test_fixed_festival_must_be_inside(tmp_path: Path) -> None:
    doc = shipped()
    p = period(doc, 2025, "国庆节、中秋节")
    p["first"], p["statutory_days"] = D("2025-10-02"), [D("2025-10-02"), D("2025-10-03")]
    [problem] = problems_of(tmp_path, doc)
    assert "national_day falls on 2025-10-01, not a statutory day" in problem


def test_every_structural_problem_is_reported_at_once(tmp_path: Path) -> None:
    doc = shipped()
    period(doc, 2024, "春节")["last"] = "2024-02-30"
    period(doc, 2025, "端午节")["adjusted_workday"] = [D("2025-06-03")]
    doc["years"][2026]["source"]["title"] = "国务院办公厅关于2025年部分节假日安排的通知"
    del period(doc, 2026, "元旦")["name_en"]
    assert problems_of(tmp_path, doc) == [
        "2024.holidays[1].last: expected a date (YYYY-MM-DD), got '2024-02-30'",
        "2025.holidays[4]: unknown keys ['adjusted_workday']",
        "2026.source.title: '国务院办公厅关于2025年部分节假日安排的通知' is not the notice for 2026",
        "2026.holidays[0].name_en: expected non-empty text, got None",
    ]


def test_every_inconsistency_is_reported_at_once(tmp_path: Path) -> None:
    doc = shipped()
    period(doc, 2024, "劳动节")["adjusted_workdays"] = [D("2024-04-29"), D("2024-05-11")]
    period(doc, 2025, "元旦")["last"] = D("2025-01-20")
    period(doc, 2025, "国庆节、中秋节")["festivals"] = ["national_day"]
    period(doc, 2026, "中秋节")["last"] = D("2026-10-01")
    doc["years"][2026]["source"]["issued"] = D("2026-01-04")
    problems = problems_of(tmp_path, doc)
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert "2024 劳动节: adjusted working day 2024-04-29 is a Monday" in text
    assert "2025 元旦: 2025-01-01..2025-01-20 is longer than 14 days" in text
    assert "2025: incomplete, no holiday period for ['mid_autumn']" in text
    assert "2026.source.issued: 2026-01-04 is not before 2026" in text
    assert "holidays overlap: 2026 中秋节 2026-09-25..2026-10-01 and 2026 国庆节" in text


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ([], "the file must be a mapping"),
        ({"version": 1, "timezone": "Asia/Shanghai", "years": {}}, "years: expected a mapping"),
        ({"version": 2, "timezone": "UTC", "years": {2025: {}}}, "version: expected 1, got 2"),
    ],
)
def test_malformed_documents(tmp_path: Path, doc: Any, expected: str) -> None:
    assert any(expected in p for p in problems_of(tmp_path, doc))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CalendarDataError, match="cannot read"):
        WorkdayCalendar.from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("years: [unclosed\n", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="cannot read"):
        WorkdayCalendar.from_yaml(bad)


def test_constructing_from_objects_validates_too() -> None:
    arrangements = list(default_calendar().arrangements)
    with pytest.raises(CalendarDataError, match="years must be consecutive"):
        WorkdayCalendar([arrangements[0], arrangements[2]])
    with pytest.raises(CalendarDataError, match="no year"):
        WorkdayCalendar([])
    assert WorkdayCalendar(copy.deepcopy(arrangements)).years == (2024, 2025, 2026)


def test_the_years_after_the_data_can_be_counted_provisionally():
    strict = default_calendar()
    cal = strict.with_provisional_future()
    last = strict.years[-1]
    with pytest.raises(OutsideCalendarError):
        strict.add_workdays(dt.date(last, 12, 30), 5)
    assert not cal.is_provisional(dt.date(last, 12, 31))
    assert cal.is_provisional(dt.date(last + 1, 1, 1))
    # 1 January is off, weekends are off, nothing else is known.
    assert not cal.is_workday(dt.date(last + 1, 1, 1))
    assert cal.is_workday(dt.date(last + 1, 5, 3)) == (dt.date(last + 1, 5, 3).weekday() < 5)
    assert not cal.is_workday(dt.date(last + 1, 10, 2))
    # The covered years are counted exactly as before.
    assert cal.add_workdays(dt.date(last, 9, 18), 5) == strict.add_workdays(dt.date(last, 9, 18), 5)
    # Years before the data stay an error: nothing is guessed about the past.
    with pytest.raises(OutsideCalendarError):
        cal.is_workday(dt.date(strict.years[0] - 1, 6, 1))
    assert strict.provisional_future is False  # the shared calendar is untouched


def test_a_provisional_deadline_across_new_year_2027():
    cal = default_calendar().with_provisional_future()
    # Thursday 2026-12-24 + 5 working days: Fri 25, Mon 28, Tue 29, Wed 30, Thu 31.
    assert cal.add_workdays(dt.date(2026, 12, 24), 5) == dt.date(2026, 12, 31)
    # Wednesday 2026-12-30 + 5: Thu 31, (Fri 1 Jan off), Mon 4, Tue 5, Wed 6, Thu 7.
    assert cal.add_workdays(dt.date(2026, 12, 30), 5) == dt.date(2027, 1, 7)
