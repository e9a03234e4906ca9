"""The shipped reference files: they validate, and their content makes sense."""

from __future__ import annotations

import datetime as dt
import re
from statistics import mean

import pytest

from transforms.reference.load import read_reference
from transforms.reference.model import GROUPS, HAZARDS, ReferenceData
from transforms.reference.parse import normalise_keyword

CATEGORY_CODES = """
electric_kettle hair_dryer electric_fan room_heater induction_cooker rice_cooker electric_blanket
water_heater microwave_oven vacuum_cleaner food_processor electric_iron plush_toy plastic_toy
electric_toy children_clothing stroller child_car_seat children_stationery baby_bottle led_lamp
power_strip laptop monitor power_bank lithium_battery phone_charger ebike_battery ebike_helmet
bedding underwear adult_clothing towel skin_cream sunscreen hair_dye lipstick
plastic_food_container stainless_cookware ceramic_tableware thermos_cup
""".split()
APPLIANCES = CATEGORY_CODES[:12]
CCC_REQUIRED = set(APPLIANCES) | set(
    """
plush_toy plastic_toy electric_toy stroller child_car_seat led_lamp power_strip laptop monitor
power_bank lithium_battery phone_charger ebike_battery ebike_helmet""".split()
)
RESERVED_DOMAIN = re.compile(r"@(?:[a-z0-9-]+\.)*(?:example|invalid|test)$")


@pytest.fixture(scope="module")
def ref() -> ReferenceData:
    return read_reference()


def test_shipped_files_validate_without_warnings(ref: ReferenceData) -> None:
    assert ref.warnings == ()
    for source in ref.sources.values():
        assert re.fullmatch(r"\S+\+[0-9a-f]{12}", source.source_version)


# ---------------------------------------------------------------------- categories


def test_exactly_the_41_category_codes(ref: ReferenceData) -> None:
    assert len(CATEGORY_CODES) == 41
    assert sorted(c.code for c in ref.categories) == sorted(CATEGORY_CODES)


def test_simulator_uses_the_same_category_codes(ref: ReferenceData) -> None:
    catalog = pytest.importorskip("simulator.catalog")
    assert {c.code for c in catalog.CATEGORIES} == {c.code for c in ref.categories}


def test_groups(ref: ReferenceData) -> None:
    by_code = {c.code: c for c in ref.categories}
    assert {c.group_code for c in ref.categories} == set(GROUPS)
    assert all(by_code[code].group_code == "household_appliances" for code in APPLIANCES)
    for c in ref.categories:
        assert c.group_zh == GROUPS[c.group_code]


def test_ccc_required_categories(ref: ReferenceData) -> None:
    assert {c.code for c in ref.categories if c.is_ccc_required} == CCC_REQUIRED
    for c in ref.categories:
        if c.is_ccc_required:
            assert c.ccc_catalogue_item, c.code
            assert any(s.code.startswith("GB ") for s in c.standards), c.code
            assert c.test_items, c.code
        else:
            assert c.ccc_catalogue_item is None and c.ccc_required_from is None, c.code
    by_code = {c.code: c for c in ref.categories}
    assert by_code["power_bank"].ccc_required_from == dt.date(2024, 8, 1)
    assert by_code["lithium_battery"].ccc_required_from == dt.date(2024, 8, 1)
    assert by_code["ebike_battery"].ccc_required_from == dt.date(2025, 11, 1)


def test_severity_weights_favour_children_and_appliances(ref: ReferenceData) -> None:
    for c in ref.categories:
        assert 0 < c.severity_weight <= 1, c.code
        assert c.max_severity in (1, 2, 3, 4), c.code
    heavy = [
        c.severity_weight
        for c in ref.categories
        if c.group_code in ("household_appliances", "children_toys")
    ]
    light = [
        c.severity_weight
        for c in ref.categories
        if c.group_code in ("textiles", "cosmetics", "food_contact")
    ]
    assert mean(heavy) > mean(light) + 0.2
    by_code = {c.code: c for c in ref.categories}
    for fatal in (
        "electric_blanket",
        "water_heater",
        "power_strip",
        "power_bank",
        "ebike_battery",
        "child_car_seat",
    ):
        assert by_code[fatal].max_severity == 4, fatal


def test_governing_standards(ref: ReferenceData) -> None:
    by_code = {c.code: c for c in ref.categories}

    def codes(cat: str) -> set[str]:
        return {s.code.split("-")[0] for s in by_code[cat].standards}

    for cat in APPLIANCES:
        assert "GB 4706.1" in codes(cat), cat
        assert any(re.fullmatch(r"GB 4706\.(?!1$)\d+", s) for s in codes(cat)), cat
    for cat in ("plush_toy", "plastic_toy"):
        assert {"GB 6675.1", "GB 6675.2", "GB 6675.3", "GB 6675.4"} <= codes(cat), cat
    assert "GB 19865" in codes("electric_toy")
    assert {"GB 31701", "GB 18401"} <= codes("children_clothing")
    assert "GB 14748" in codes("stroller")
    assert "GB 27887" in codes("child_car_seat")
    assert "GB 21027" in codes("children_stationery")
    assert {"GB 7000.1", "GB 7000.201"} <= codes("led_lamp")
    assert {"GB/T 2099.1", "GB 2099.3", "GB 2099.7"} <= codes("power_strip")
    for cat in ("laptop", "monitor", "power_bank", "phone_charger"):
        assert "GB 4943.1" in codes(cat), cat
    assert "GB 31241" in codes("power_bank") & codes("lithium_battery")
    assert "GB 43854" in codes("ebike_battery")
    assert "GB 811" in codes("ebike_helmet")
    for cat in ("bedding", "underwear", "adult_clothing", "towel"):
        assert "GB 18401" in codes(cat), cat
    for c in ref.categories:
        if c.group_code == "food_contact":
            assert any(s.startswith("GB 4806.") for s in codes(c.code)), c.code
        if c.group_code == "cosmetics":
            assert any("化妆品安全技术规范" in s for s in codes(c.code)), c.code


def test_typical_test_items(ref: ReferenceData) -> None:
    by_code = {c.code: c for c in ref.categories}

    def names(cat: str) -> list[str]:
        return [t.name for t in by_code[cat].test_items]

    for cat in APPLIANCES:
        for item in (
            "对触及带电部件的防护",
            "输入功率和电流",
            "发热",
            "泄漏电流和电气强度",
            "耐热和耐燃",
        ):
            assert any(n.startswith(item) for n in names(cat)), (cat, item)
    for cat in ("plush_toy", "plastic_toy", "electric_toy"):
        joined = " ".join(names(cat))
        assert "小零件" in joined and "锐利" in joined and "可迁移元素" in joined, cat
    for cat in ("children_clothing", "bedding", "underwear", "adult_clothing", "towel"):
        assert {"甲醛含量", "pH值", "可分解致癌芳香胺染料"} <= set(names(cat)), cat
    assert "绳带要求" in names("children_clothing")
    for c in ref.categories:
        joined = " ".join(names(c.code))
        if c.group_code == "cosmetics":
            assert all(m in joined for m in ("铅", "砷", "汞", "禁用")), c.code
        if c.group_code == "food_contact":
            assert "迁移" in joined, c.code
    assert {"总迁移量", "重金属（以Pb计）"} <= set(names("plastic_food_container"))


def test_hazards_and_units(ref: ReferenceData) -> None:
    for c in ref.categories:
        assert c.hazards and set(c.hazards) <= set(HAZARDS), c.code
        assert c.sample_units >= 1 and c.backup_units >= 1, c.code
        assert c.unit_zh in {
            "台",
            "个",
            "件",
            "套",
            "支",
            "瓶",
            "条",
            "辆",
            "节",
            "组",
            "顶",
            "盒",
        }, c.code
    by_code = {c.code: c for c in ref.categories}
    assert "choking_small_parts" in by_code["plush_toy"].hazards
    assert "electric_shock" in by_code["power_strip"].hazards
    assert "fire" in by_code["ebike_battery"].hazards


def test_keywords(ref: ReferenceData) -> None:
    owner: dict[str, str] = {}
    for c in ref.categories:
        assert len(c.keywords) >= 3, c.code
        assert c.name_zh in c.keywords, c.code
        for word in c.keywords:
            norm = normalise_keyword(word)
            assert owner.setdefault(norm, c.code) == c.code, (
                f"{word!r} in {owner[norm]} and {c.code}"
            )
    by_code = {c.code: c for c in ref.categories}
    assert {"电热水壶", "烧水壶", "热水壶", "电水壶"} <= set(by_code["electric_kettle"].keywords)
    assert {"移动电源", "充电宝"} <= set(by_code["power_bank"].keywords)


# ------------------------------------------------------------------- banned terms


def test_banned_terms(ref: ReferenceData) -> None:
    terms = {t.term: t for t in ref.banned_terms}
    assert len(terms) >= 60
    required = """最 最佳 最好 最高级 国家级 第一 NO.1 TOP1 唯一 首个 首选 独家 顶级 极致 绝对 万能
                  史无前例 驰名商标 国家免检 100% 永久 特效 根治 无副作用""".split()
    assert set(required) <= set(terms)
    assert {t.term_class for t in ref.banned_terms} == {
        "absolute",
        "national_authority",
        "false_honor",
        "guarantee",
        "medical_claim",
        "other",
    }
    assert terms["国家级"].severity == terms["最佳"].severity == terms["最高级"].severity == "high"
    assert "第九条第三项" in terms["最佳"].legal_basis
    for t in ref.banned_terms:
        assert t.note and "\n" not in t.note, t.term
        for p in (t.pattern, *t.exemption_patterns):
            if p is not None:
                re.compile(p)


# ------------------------------------------------------------------ regions, labs


def test_regions(ref: ReferenceData) -> None:
    by_code = {r.code: r for r in ref.regions}
    provinces = [r for r in ref.regions if r.level == "province"]
    assert len(provinces) == 31
    assert by_code["110000"].name == "北京市" and by_code["650000"].name == "新疆维吾尔自治区"
    assert len([r for r in ref.regions if r.level == "city"]) >= 60
    expected = {
        "330100": "杭州市",
        "330200": "宁波市",
        "330300": "温州市",
        "330700": "金华市",
        "330782": "义乌市",
        "440100": "广州市",
        "440300": "深圳市",
        "441900": "东莞市",
        "440600": "佛山市",
        "440500": "汕头市",
        "445200": "揭阳市",
        "350500": "泉州市",
        "350200": "厦门市",
        "320500": "苏州市",
        "310000": "上海市",
    }
    assert {code: by_code[code].name for code in expected} == expected
    assert by_code["330782"].level == "county" and by_code["330782"].parent_code == "330700"
    assert by_code["330000"].regulator_name == "浙江省市场监督管理局"
    assert by_code["330100"].regulator_name == "杭州市市场监督管理局"
    for r in ref.regions:
        assert r.regulator_name.endswith("市场监督管理局") and r.name in r.regulator_name, r.code
        assert r.notify_email and RESERVED_DOMAIN.search(r.notify_email), r.code


def test_labs(ref: ReferenceData) -> None:
    regions = {r.code for r in ref.regions}
    assert len(ref.labs) >= 8
    tested_by: dict[str, int] = {}
    for lab in ref.labs:
        assert lab.region_code in regions
        assert re.fullmatch(r"CNAS L\d{4,5}", lab.accreditation_no)
        assert lab.monthly_capacity > 0
        assert lab.contact_email and RESERVED_DOMAIN.search(lab.contact_email)
        for code in lab.category_codes:
            tested_by[code] = tested_by.get(code, 0) + 1
    assert set(tested_by) == set(CATEGORY_CODES)
    assert sum(n >= 2 for n in tested_by.values()) >= 10
