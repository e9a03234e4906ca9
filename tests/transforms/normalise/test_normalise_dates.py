"""parse_posted: absolute and relative posting times, read in Shanghai, stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from transforms.normalise import NormaliseError, parse_posted

SH = ZoneInfo("Asia/Shanghai")
# 00:01 on Friday 6 March 2026 in Shanghai: "yesterday" is a different date in UTC.
FETCHED = datetime(2026, 3, 6, 0, 1, tzinfo=SH)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize(
    ("raw", "posted"),
    [
        ("2026年3月5日", sh(2026, 3, 5)),
        ("2026年03月05日 14:30", sh(2026, 3, 5, 14, 30)),
        ("2026年3月5日14时30分", sh(2026, 3, 5, 14, 30)),
        ("2026-03-05", sh(2026, 3, 5)),
        ("2026/3/5 14:30", sh(2026, 3, 5, 14, 30)),
        ("2026.03.05", sh(2026, 3, 5)),
        ("2026-03-05 14:30:15", sh(2026, 3, 5, 14, 30, 15)),
        ("2026-03-05T06:30:00Z", datetime(2026, 3, 5, 6, 30, tzinfo=UTC)),
        ("2026-03-05T14:30:00+08:00", sh(2026, 3, 5, 14, 30)),
        ("03-05", sh(2026, 3, 5)),
        ("3月5日", sh(2026, 3, 5)),
        ("03-07", sh(2025, 3, 7)),  # would be tomorrow: so last year
        ("12-31 08:00", sh(2025, 12, 31, 8)),
        ("刚刚", FETCHED),
        ("just now", FETCHED),
        ("30秒前", FETCHED - timedelta(seconds=30)),
        ("5分钟前", FETCHED - timedelta(minutes=5)),
        ("半小时前", FETCHED - timedelta(minutes=30)),
        ("2小时前", FETCHED - timedelta(hours=2)),
        ("两小时前", FETCHED - timedelta(hours=2)),
        ("00:00", sh(2026, 3, 6)),
        ("今天 00:00", sh(2026, 3, 6)),
        ("昨天", sh(2026, 3, 5)),
        ("昨天 23:59", sh(2026, 3, 5, 23, 59)),
        ("前天 12:00", sh(2026, 3, 4, 12)),
        ("3天前", FETCHED - timedelta(days=3)),
        ("3天前发布", FETCHED - timedelta(days=3)),
        ("2周前", FETCHED - timedelta(weeks=2)),
        ("1个月前", sh(2026, 2, 6, 0, 1)),
        ("3个月前", sh(2025, 12, 6, 0, 1)),
        ("1年前", sh(2025, 3, 6, 0, 1)),
        ("3 days ago", FETCHED - timedelta(days=3)),
        ("an hour ago", FETCHED - timedelta(hours=1)),
        ("yesterday 23:59", sh(2026, 3, 5, 23, 59)),
        ("发布于 2026-03-01", sh(2026, 3, 1)),
        ("评论时间：2026年3月1日", sh(2026, 3, 1)),
        ("<span>昨天&nbsp;23:59</span>", sh(2026, 3, 5, 23, 59)),
        ("1772726400", datetime(2026, 3, 5, 16, tzinfo=UTC)),
        ("1772726400000", datetime(2026, 3, 5, 16, tzinfo=UTC)),
        ("今天 00:08", FETCHED),  # seven minutes ahead: the site's clock, moved back
    ],
)
def test_parse_posted(raw, posted):
    got = parse_posted(raw, FETCHED)
    assert got == posted
    assert got.tzinfo is UTC


def test_month_end_is_clamped():
    fetched = datetime(2026, 3, 31, 12, tzinfo=SH)
    assert parse_posted("1个月前", fetched) == sh(2026, 2, 28, 12)
    assert parse_posted("13个月前", fetched) == sh(2025, 2, 28, 12)


def test_february_29_without_a_year_is_the_latest_one():
    assert parse_posted("02-29", datetime(2025, 1, 10, tzinfo=SH)) == sh(2024, 2, 29)


def test_yesterday_just_after_midnight_is_the_previous_date():
    just_after = datetime(2026, 1, 1, 0, 0, 30, tzinfo=SH)
    assert parse_posted("昨天 23:59", just_after) == sh(2025, 12, 31, 23, 59)


@pytest.mark.parametrize("raw", [None, "", "  ", "--", "未知"])
def test_nothing_to_read(raw):
    assert parse_posted(raw, FETCHED) is None


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("2026年2月29日", "no such date 2026-02-29"),
        ("2026-13-01", "no such date"),
        ("2026-03-05 25:00", "no such time"),
        ("昨天 24:30", "no such time"),
        ("2027-01-01", "after the fetch"),
        ("今天 23:00", "after the fetch"),
        ("garbage", "not a date or time"),
        ("几分钟前", "not a date or time"),
        ("购买后3天追评", "not a date or time"),
        ("半天前", "half of a unit"),
        (3.5, "expected text"),
    ],
)
def test_errors_name_the_value_and_the_problem(raw, problem):
    with pytest.raises(NormaliseError) as info:
        parse_posted(raw, FETCHED)
    assert problem in str(info.value)
    assert repr(raw) in str(info.value)


def test_naive_fetch_time_is_a_caller_bug_not_bad_data():
    with pytest.raises(ValueError, match="timezone-aware") as info:
        parse_posted("3天前", datetime(2026, 3, 6))
    assert not isinstance(info.value, NormaliseError)
    with pytest.raises(TypeError):
        parse_posted("3天前", "2026-03-06")  # type: ignore[arg-type]


ZONES = [UTC, SH, ZoneInfo("America/New_York"), timezone(timedelta(hours=5, minutes=45))]


def _forms(t: datetime, fetched: datetime) -> list[tuple[str, timedelta]]:
    """Ways a site shows ``t`` on a page fetched at ``fetched``, with each one's precision."""
    tl, fl = t.astimezone(SH), fetched.astimezone(SH)
    age = fetched - t
    minute, hour, day = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
    forms = [
        (f"{tl.year}年{tl.month}月{tl.day}日", day),
        (f"{tl:%Y-%m-%d}", day),
        (f"{tl.year}/{tl.month}/{tl.day} {tl:%H:%M}", minute),
        (f"{tl:%Y-%m-%d %H:%M:%S}", timedelta(seconds=1)),
        (f"{age // day}天前", day),
        (f"{age // timedelta(weeks=1)}周前", timedelta(weeks=1)),
        (f"{age // day} days ago", day),
    ]
    if len(str(int(t.timestamp()))) == 10:  # Unix seconds, as APIs send them since 2001
        forms.append((f"{int(t.timestamp())}", timedelta(seconds=1)))
    if age < timedelta(days=300):
        forms.append((f"{tl:%m-%d %H:%M}", minute))
    if age < minute:
        forms.append(("刚刚", minute))
    if age < hour:
        forms.append((f"{age // minute}分钟前", minute))
    if age < day:
        forms.append((f"{age // hour}小时前", hour))
    if tl.date() == fl.date():
        forms.append((f"今天 {tl:%H:%M}", minute))
    if tl.date() == fl.date() - day:
        forms += [(f"昨天 {tl:%H:%M}", minute), ("昨天", day)]
    if tl.date() == fl.date() - 2 * day:
        forms.append((f"前天 {tl:%H:%M}", minute))
    return forms


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2001, 1, 1),
        max_value=datetime(2090, 1, 1),
        timezones=st.sampled_from(ZONES),
    ),
    st.one_of(
        st.integers(min_value=0, max_value=3 * 86400),
        st.integers(min_value=0, max_value=3 * 365 * 86400),
    ),
    st.data(),
)
def test_rendered_times_parse_back_within_their_precision(fetched, age_seconds, data):
    assume(fetched.utcoffset() is not None)
    t = (fetched.astimezone(UTC) - timedelta(seconds=age_seconds)).replace(microsecond=0)
    text, precision = data.draw(st.sampled_from(_forms(t, fetched)), label="form")
    got = parse_posted(text, fetched)
    assert got.tzinfo is UTC
    assert got <= fetched
    assert abs(got - t) < precision, (text, got, t)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(SH)
    ),
    st.integers(min_value=0, max_value=120),
)
def test_months_ago_is_calendar_months_back(fetched, n):
    got = parse_posted(f"{n}个月前", fetched).astimezone(SH)
    months = (fetched.year - got.year) * 12 + fetched.month - got.month
    assert months == n
    assert got.day <= fetched.day and got.time() == fetched.time().replace(tzinfo=None)
