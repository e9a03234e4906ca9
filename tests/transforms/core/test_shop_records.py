"""Shop page → core ``shops`` row: company kept, people pseudonymised, region resolved."""

from __future__ import annotations

import json

import pytest
from core_rows import FETCHED, SALT, complaint, shop  # type: ignore[import-not-found]

from simulator.regions import CITY_BY_CODE
from transforms.core import records
from transforms.core.records import RecordError, Toolkit
from transforms.core.regions import RegionIndex
from transforms.pii import assert_no_pii
from transforms.reference.load import read_reference


@pytest.fixture(scope="module")
def regions() -> RegionIndex:
    return RegionIndex(r.to_row() for r in read_reference().regions)


@pytest.fixture(scope="module")
def kit(regions: RegionIndex) -> Toolkit:
    return Toolkit(
        salt=SALT,
        categorise=lambda path, title: (None, None, 0.0),
        listing_of_url=lambda url: None,
        region_of=regions.code_of,
    )


def _row(item: dict, staging_id: int = 1) -> dict:
    return {"id": staging_id, **item}


def _phone_hash(kit: Toolkit, phone: str) -> str | None:
    return records.shop_row(_row(shop("1", phone=phone)), kit)["phone_hash"]


# ----------------------------------------------------------------------------- rows
def test_the_company_stays_the_people_become_pseudonyms(kit):
    item = shop("35671549")
    row = records.shop_row(_row(item, 7), kit)
    p = item["payload"]
    assert row["name"] == "美的生活电器旗舰店"
    assert row["company_name"] == "佛山市美的生活电器科技有限公司"
    assert row["region_code"] == "440600"
    assert row["url"] == item["url"] and row["attributes"]["shop_url"] == item["url"]
    assert row["attributes"]["credit_code"] == "91440606MA4UHRRH11"
    assert row["attributes"]["credit_code_valid"] is True
    assert (row["attributes"]["province"], row["attributes"]["city"]) == ("广东省", "佛山市")
    assert row["first_seen_at"] == row["last_seen_at"] == FETCHED and row["staging_id"] == 7
    for column, kind in (
        ("contact_hash", "name"),
        ("phone_hash", "phone"),
        ("address_hash", "address"),
    ):
        assert row[column].startswith(f"{kind}:") and len(row[column]) == len(kind) + 33
    text = json.dumps(row, default=str, ensure_ascii=False)
    for raw in (p["contact"], p["phone"], p["address"], "26638888", "美的大道6号"):
        assert raw not in text
    assert assert_no_pii(row, skip_keys=("url", "shop_url", "external_id")) == []


@pytest.mark.parametrize(
    "written",
    [
        "0571-88881234",
        "057188881234",
        "0571-8888 1234",
        "(0571) 8888-1234",
        "０５７１－８８８８　１２３４",
        "+86 571 8888 1234",
        "0086-571-88881234",
        "0571-88881234 转 8001",
        "0571-88881234 / 13812345678",
    ],
)
def test_a_landline_written_differently_gets_one_pseudonym(kit, written):
    assert _phone_hash(kit, written) == _phone_hash(kit, "0571-88881234")


@pytest.mark.parametrize(
    "written",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "１３８１２３４５６７８",
    ],
)
def test_a_mobile_written_differently_gets_one_pseudonym(kit, written):
    assert _phone_hash(kit, written) == _phone_hash(kit, "13812345678")


def test_different_numbers_and_kinds_never_share_a_pseudonym(kit):
    hashes = {_phone_hash(kit, n) for n in ("13812345678", "13812345679", "0571-88881234")}
    assert len(hashes) == 3
    row = records.shop_row(_row(shop("1", contact="13812345678")), kit)
    assert row["contact_hash"] != _phone_hash(kit, "13812345678")  # the kind is salted in


def test_a_shop_contact_links_to_a_complainant_of_the_same_name(kit):
    shop_row = records.shop_row(_row(shop("1", contact="李小明")), kit)
    c = complaint("17370000001", complainant="李小明")
    complaint_row = records.complaint_row(_row(c), kit)
    assert shop_row["contact_hash"] == complaint_row["complainant_hash"]


@pytest.mark.parametrize(
    ("field", "column", "shown"),
    [
        ("phone", "phone_hash", "138****5678"),
        ("phone", "phone_hash", "暂无"),
        ("phone", "phone_hash", None),
        ("contact", "contact_hash", "张**"),
        ("contact", "contact_hash", ""),
        ("address", "address_hash", "浙江省杭州市西湖区****"),
    ],
)
def test_masked_or_missing_values_give_no_pseudonym(kit, field, column, shown):
    row = records.shop_row(_row(shop("1", **{field: shown})), kit)
    assert row[column] is None
    assert row["company_name"]  # the rest of the row stands


@pytest.mark.parametrize(
    ("shown", "code", "valid"),
    [
        ("91440606MA4UHRRH11", "91440606MA4UHRRH11", True),
        ("91440606ma4uhrrh11", "91440606MA4UHRRH11", True),
        ("９１４４０６０６ＭＡ４ＵＨＲＲＨ１１", "91440606MA4UHRRH11", True),
        ("9144 0606 MA4U HRRH 11", "91440606MA4UHRRH11", True),
        ("91440606MA4UHRRH12", "91440606MA4UHRRH12", False),  # wrong check character
        ("330106000991234", "330106000991234", None),  # an old registration number
        ("110105199003071239", None, None),  # a resident ID number: personal, dropped
        (None, None, None),
    ],
)
def test_credit_codes_are_checked_and_kept(shown, code, valid):
    assert records.credit_code(shown) == (code, valid)


def test_region_is_left_empty_for_a_city_the_reference_does_not_know(kit):
    row = records.shop_row(_row(shop("1", province="江西省", city="景德镇市")), kit)
    assert row["region_code"] is None and row["attributes"]["city"] == "景德镇市"
    row = records.shop_row(_row(shop("1", province="浙江省", city=None)), kit)
    assert row["region_code"] is None


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("name", None, "required:name"),
        ("name", "  \u3000 ", "required:name"),
        ("name", ["a", "list"], "normalise:name"),
        ("company", {"an": "object"}, "normalise:company"),
    ],
)
def test_unreadable_shop_values_name_field_and_rule(kit, field, value, rule):
    with pytest.raises(RecordError) as err:
        records.shop_row(_row(shop("1", **{field: value})), kit)
    assert err.value.rule == rule


def test_without_a_region_look_up_the_region_is_unknown():
    plain = Toolkit(salt=SALT, categorise=lambda p, t: (None, None, 0.0), listing_of_url=str)
    assert records.shop_row(_row(shop("1")), plain)["region_code"] is None


# -------------------------------------------------------------------------- regions
@pytest.mark.parametrize(
    ("province", "city", "code"),
    [
        ("浙江省", "杭州市", "330100"),
        ("浙江", "杭州", "330100"),
        (None, "杭州市", "330100"),
        (" 浙江省 ", "杭州市 ", "330100"),
        ("浙江省", "义乌市", "330782"),  # a county-level city
        ("广东省", "东莞市", "441900"),
        ("上海市", "上海市", "310000"),  # a municipality is its own city
        (None, "北京市", "110000"),
        ("重庆", "重庆市", "500000"),
        ("江苏省", "杭州市", None),  # the province says it is another 杭州
        ("江西省", "景德镇市", None),  # not in the reference data
        ("浙江省", None, None),  # a province alone is no seller's place
        (None, None, None),
    ],
)
def test_region_codes_of_province_and_city_names(regions, province, city, code):
    assert regions.code_of(province, city) == code


def test_every_simulated_shop_city_resolves(regions):
    known = {r.code for r in read_reference().regions}
    for city in CITY_BY_CODE.values():
        if city.province == city.name:
            expected = city.province_code
        else:
            expected = city.code if city.code in known else None
        assert regions.code_of(city.province, city.name) == expected, city
