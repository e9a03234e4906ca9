"""Staging row → core row builders on nasty inputs."""

from __future__ import annotations

import datetime as dt

import pytest
from core_rows import FETCHED, SALT, complaint, listing, recall, review  # type: ignore[import-not-found]

from transforms.core import records
from transforms.core.records import RecordError, Toolkit
from transforms.pii import assert_no_pii

KIT = Toolkit(
    salt=SALT,
    categorise=lambda path, title: (
        ("electric_kettle", "rule", 1.0) if "电热水壶" in (title or "") else (None, None, 0.0)
    ),
    listing_of_url=lambda url: (
        ("youpin", url.rsplit("/", 1)[-1].split(".")[0]) if "/youpin/item/" in url else None
    ),
)


def _row(item: dict, staging_id: int = 1) -> dict:
    return {"id": staging_id, "url": item.get("url"), **item}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("6901234567892", "6901234567892"),
        ("6901234567890", None),  # wrong check digit
        ("690-1234-567892", "6901234567892"),
        ("96385074", "96385074"),  # EAN-8
        ("036000291452", "036000291452"),  # UPC-A
        ("12345", None),
        ("", None),
        (None, None),
        ("６９０１２３４５６７８９２", "6901234567892"),  # full-width digits, folded
        ("٦٩٠١٢٣٤٥٦٧٨٩٢", None),  # other scripts' digits are not a barcode
    ],
)
def test_gtin_needs_a_valid_check_digit(value, expected):
    assert records.gtin(value) == expected


def test_listing_normalises_and_keeps_what_it_cannot_place():
    item = listing(
        "1",
        name="<b>美的&amp;電熱水壺</b>\u200b　１．５Ｌ",
        price="券后¥59.9",
        list_price="原价：¥99",
        sales_volume="月销 1.2万+",
        rating="0",
        gtin="6901234567890",
        description="客服电话13912345678",
    )
    parts = records.listing_parts(_row(item), KIT)
    li, snap = parts.listing, parts.snapshot
    assert li["title"] == "美的&电热水壶 1.5L"
    assert li["category_code"] == "electric_kettle" and li["category_method"] == "rule"
    assert li["price_fen"] == 5990 and snap["list_price_fen"] == 9900
    assert (snap["sales_volume"], snap["sales_is_lower_bound"]) == (12000, True)
    assert snap["rating"] is None  # 0 is what a listing without reviews shows
    assert li["gtin"] is None and li["attributes"]["gtin_shown"] == "6901234567890"
    assert "13912345678" not in li["attributes"]["description"]
    assert parts.shop == {
        "platform": "youpin",
        "external_id": "5001",
        "name": "美的生活电器旗舰店",
        "first_seen_at": FETCHED,
        "last_seen_at": FETCHED,
    }


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("name", None, "required:title"),
        ("name", "  \u3000 ", "required:title"),
        ("price", "价格面议abc", "normalise:price"),
        ("currency", "人民币元", "normalise:currency"),
        ("rating", "12", "normalise:rating"),
        ("review_count", "-3", "normalise:review_count"),
        ("review_count", "很多", "normalise:review_count"),
    ],
)
def test_unreadable_listing_values_name_field_value_and_rule(field, value, rule):
    with pytest.raises(RecordError) as err:
        records.listing_parts(_row(listing("1", **{field: value})), KIT)
    assert err.value.rule == rule
    assert field in str(err.value)


def test_payload_that_is_not_an_object_is_refused():
    with pytest.raises(RecordError, match="payload"):
        records.listing_parts(
            {
                "id": 1,
                "platform": "youpin",
                "external_id": "1",
                "fetched_at": FETCHED,
                "payload": ["x"],
            },
            KIT,
        )


@pytest.mark.parametrize(
    ("posted", "posted_text", "expected"),
    [
        (
            None,
            "昨天 23:59",
            dt.datetime(2026, 11, 19, 15, 59, tzinfo=dt.UTC),
        ),  # fetched 10:00 Shanghai on the 20th
        (None, "刚刚", FETCHED),
        ("2026-03-05", "2026年3月5日", dt.datetime(2026, 3, 4, 16, 0, tzinfo=dt.UTC)),
        (None, None, None),
    ],
)
def test_review_dates_are_read_in_shanghai_against_the_fetch_time(posted, posted_text, expected):
    row = records.review_row(
        _row(review("r", "1", "好", posted=posted, posted_text=posted_text)), KIT
    )
    assert row["posted_at"] == expected


def test_review_rating_out_of_scale_is_refused():
    with pytest.raises(RecordError, match="rating"):
        records.review_row(_row(review("r", "1", "好", rating=9)), KIT)


def test_complaint_names_the_person_nowhere_even_in_running_text():
    item = complaint(
        "17370000009",
        listing_url="http://x/youpin/item/42.html",
        complainant="欧阳娜娜",
        detail="我是欧阳娜娜，住在北京市朝阳区建国路88号3栋2单元501室，身份证110105199003071234",
        steps=[
            {
                "time": "2026-11-01 23:30:00",
                "actor": "欧阳娜娜",
                "text": "请联系欧阳娜娜 13812345678",
            }
        ],
    )
    row = records.complaint_row(_row(item), KIT)
    text = repr(row)
    for raw in (
        "欧阳娜娜",
        "建国路88号",
        "110105199003071234",
        "13812345678",
        "xiaoming.li@example.com",
    ):
        assert raw not in text
    assert not assert_no_pii(row, skip_keys=("complaint_number", "listing_url"))
    assert row["platform"] == "youpin"
    assert row["filed_at"] == dt.datetime(2026, 11, 1, 15, 30, tzinfo=dt.UTC)
    assert row["steps"][0]["time"] == "2026-11-01T15:30:00+00:00"
    assert row["complainant_hash"] == records.pseudonym("欧阳娜娜", "name", SALT)


def test_complaint_with_a_bad_step_time_is_refused_with_its_position():
    item = complaint("1", steps=[{"time": "昨天下午", "actor": "商家", "text": "已处理"}])
    with pytest.raises(RecordError, match=r"steps\[0\]\.time"):
        records.complaint_row(_row(item), KIT)


def test_cpsc_csv_and_json_copies_fold_into_one_recall():
    csv = records.recall_row(
        _row(recall("24100", url="https://x/cpsc.csv", extra={"a": 1}, remedy=None), 1), KIT
    )
    js = records.recall_row(
        _row(
            recall(
                "24100",
                url="https://x/cpsc.json",
                extra={"b": 2},
                fetched_at=FETCHED + dt.timedelta(hours=1),
            ),
            2,
        ),
        KIT,
    )
    merged = records.merge_recall(csv, js)
    assert merged["attributes"]["formats"] == ["csv", "json"]
    assert merged["attributes"]["extra"] == {"a": 1, "b": 2}
    assert merged["remedy"] == "Refund" and merged["staging_id"] == 2
    assert records.merge_recall(js, csv)["remedy"] == "Refund"  # a gap never erases a value
