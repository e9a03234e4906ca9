"""Cell values as staff type them: money, times, identifiers, verdicts, references."""

from __future__ import annotations

import datetime as dt

import pytest

from transforms.intake import values as v
from transforms.intake.values import CellError

UTC = dt.UTC


@pytest.mark.parametrize(
    ("cell", "fen"),
    [
        ("¥89.50", 8950),
        ("￥89.50", 8950),
        ("89.5", 8950),
        ("89.50元", 8950),
        ("1,299.00", 129900),
        ("１，２９９.００", 129900),  # full-width digits and comma from a Chinese IME
        (" RMB 12 ", 1200),
        ("CNY 0.01", 1),
        (89.5, 8950),  # an XLSX number cell
        (19.99, 1999),  # not 1998: read as Decimal, never through float arithmetic
        (1299.0, 129900),
        (0.07, 7),
        (300, 30000),
        ("", None),
        (None, None),
    ],
)
def test_yuan_becomes_integer_fen(cell, fen):
    got = v.yuan_to_fen(cell)
    assert got == fen and (got is None or type(got) is int)


@pytest.mark.parametrize(
    "cell", ["12,99", "1,2999.00", "89.505", 89.505, "八十九", "$89.50", "-5", "89.5.0"]
)
def test_amounts_that_are_not_yuan_are_refused(cell):
    with pytest.raises(CellError) as exc:
        v.yuan_to_fen(cell)
    assert exc.value.code == "bad_amount"


@pytest.mark.parametrize(
    ("cell", "utc"),
    [
        ("2026-11-20 15:30", dt.datetime(2026, 11, 20, 7, 30, tzinfo=UTC)),
        ("2026/1/5 9:05:07", dt.datetime(2026, 1, 5, 1, 5, 7, tzinfo=UTC)),
        ("2026年11月20日 15:30", dt.datetime(2026, 11, 20, 7, 30, tzinfo=UTC)),
        ("2026年11月20日15时30分", dt.datetime(2026, 11, 20, 7, 30, tzinfo=UTC)),
        ("２０２６－１１－２０　１５：３０", dt.datetime(2026, 11, 20, 7, 30, tzinfo=UTC)),
        ("2026-11-20T15:30:00+08:00", dt.datetime(2026, 11, 20, 7, 30, tzinfo=UTC)),
        ("2026-11-20T07:30:00Z", dt.datetime(2026, 11, 20, 7, 30, tzinfo=UTC)),
        (dt.datetime(2026, 11, 20, 0, 10), dt.datetime(2026, 11, 19, 16, 10, tzinfo=UTC)),
    ],
)
def test_local_times_are_read_in_shanghai_and_stored_in_utc(cell, utc):
    assert v.local_datetime(cell) == utc


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("2026-11-20", "time_missing"),
        ("2026-02-30 10:00", "bad_time"),
        ("11/20/2026 10:00", "bad_time"),
        ("昨天下午", "bad_time"),
        (46346.5, "bad_time"),  # an Excel serial that lost its date format
    ],
)
def test_bad_times_are_refused(cell, code):
    with pytest.raises(CellError) as exc:
        v.local_datetime(cell)
    assert exc.value.code == code


def test_dates():
    assert v.local_date("2026年11月20日") == dt.date(2026, 11, 20)
    assert v.local_date("2026/11/5") == dt.date(2026, 11, 5)
    assert v.local_date(dt.datetime(2026, 11, 20, 23, 59)) == dt.date(2026, 11, 20)
    assert v.local_date("2026-11-20T20:00:00Z") == dt.date(2026, 11, 21)  # Shanghai's day
    with pytest.raises(CellError):
        v.local_date("20.11.26")


def test_identifiers_survive_excel_or_are_refused_when_they_did_not():
    assert v.identifier(" T-KETTLE ") == "T-KETTLE"
    assert v.identifier("Ｔ－ＫＥＴＴＬＥ") == "T-KETTLE"  # full-width
    assert v.identifier("\ufeff\u200bT-1") == "T-1"  # invisible characters from a web page
    assert v.identifier("'0012") == "0012"  # Excel's text apostrophe
    assert v.identifier("3391 8274 6550", squeeze=True) == "339182746550"
    assert v.identifier(123456789012345.0) == "123456789012345"
    assert v.identifier(42) == "42"
    for lost in (3.391827465501928e18, "3.39183E+18", "3.39183e18"):
        with pytest.raises(CellError) as exc:
            v.identifier(lost)
        assert exc.value.code == "number_lost_digits"


def test_free_text_is_kept_as_written_and_never_evaluated():
    assert (
        v.text('=HYPERLINK("http://evil.example","点我")')
        == '=HYPERLINK("http://evil.example","点我")'
    )
    assert v.text("  外包装完好 ") == "外包装完好"
    assert v.text(12.0) == "12" and v.text(0.25) == "0.25"
    with pytest.raises(CellError) as exc:
        v.text(dt.datetime(2026, 1, 2))  # Excel's reading of "1-2"
    assert exc.value.code == "excel_date"


@pytest.mark.parametrize(
    ("cell", "verdict"),
    [("合格", "pass"), (" 不合格 ", "fail"), ("PASS", "pass"), ("Fail", "fail"), ("符合", "pass")],
)
def test_verdicts(cell, verdict):
    assert v.verdict(cell) == verdict


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("严重", "critical"),
        ("A类", "critical"),
        ("一般", "major"),
        ("b", "major"),
        ("轻微", "minor"),
        ("Minor", "minor"),
    ],
)
def test_defect_classes_become_codes(cell, code):
    assert v.defect_class(cell) == code


def test_unknown_verdicts_and_classes_are_refused():
    for parser, cell in ((v.verdict, "待定"), (v.verdict, "/"), (v.defect_class, "很严重")):
        with pytest.raises(CellError):
            parser(cell)


def test_evidence_references():
    assert v.references("订单 截图.png；https://pan.example.cn/s/1?x=2、video.MP4") == [
        "订单 截图.png",
        "https://pan.example.cn/s/1?x=2",
        "video.MP4",
    ]
    for bad in ("已截图", "有", "ftp://x/a.png", "../../etc/passwd.txt", 3.0):
        with pytest.raises(CellError) as exc:
            v.references(bad)
        assert exc.value.code == "bad_reference"
