"""RecallMatcher on the listings and recalls that make matching hard: brands in two
scripts, aliases and misspellings, models written every way, lists of models, codes
only in titles, sibling codes and model collisions between brands."""

from __future__ import annotations

import pytest

from risk_models.recalls import BrandAliases, RecallMatch, RecallMatcher

KETTLE = {
    "source": "samr",
    "recall_number": "ZH-2024-00001",
    "title": "佛山美度电器有限公司召回部分美度牌电热水壶",
    "product_name": "电热水壶",
    "brands": ["美度"],
    "models": ["MD-1520、MD-1530"],
    "hazard": "可能导致使用者触电",
    "attributes": {"description": "电源线与外壳之间绝缘不足，存在漏电隐患"},
}
DRYER = {
    "source": "cpsc",
    "recall_number": "24100",
    "title": "Meidu Electric Appliance Co., Ltd. Recalls Hair Dryers Due to Fire Hazard",
    "product_name": "Hair Dryers",
    "brands": ["MEIDU"],
    "models": [],
    "hazard": "The hair dryers can overheat, posing fire and burn hazards.",
    "attributes": {
        "description": "This recall involves MEIDU hair dryers. Model numbers include "
        "AB-12, AB-13 and AB-15. The model number is printed on the label.",
        "hazard_type": "Fire",
    },
}
STRIP = {
    "source": "safety_gate",
    "recall_number": "A12/00001/24",
    "title": "Power strip",
    "product_name": "Power Strips",
    "brands": ["Voltara"],
    "models": ["X-100"],
    "hazard": "The insulation is insufficient. The product poses an electric shock risk.",
    "attributes": {
        "hazard_type": "Electric shock",
        "extra": {"batch_barcode": "Barcode 6932978520447"},
    },
}
NO_BRAND = {
    "source": "cpsc",
    "recall_number": "24200",
    "title": "Recall of toy cars",
    "product_name": "Remote-Control Toy Cars",
    "brands": [],
    "models": ["A100", "KX-77Q81"],
    "hazard": "Small parts can detach, posing a choking hazard.",
}
MIDEA = {
    "source": "cpsc",
    "recall_number": "25107",
    "title": "Midea Recalls Rice Cookers",
    "product_name": "Rice Cookers",
    "brands": ["Midea"],
    "models": ["MB-FB40E"],
    "hazard": "burn hazard",
}


@pytest.fixture(scope="module")
def matcher() -> RecallMatcher:
    aliases = BrandAliases.shipped()
    aliases.add(["美度", "MEIDU"])
    return RecallMatcher([KETTLE, DRYER, STRIP, NO_BRAND, MIDEA], aliases=aliases)


def _ids(found: list[RecallMatch]) -> list[tuple[str, str]]:
    return [(m.recall_id, m.matched_on) for m in found]


@pytest.mark.parametrize(
    "brand",
    [
        "美度",
        "MEIDU",
        "Meidu",
        "meidu",
        "MEIDU/美度",
        "美度（MEIDU）",
        "美度(MEIDU)",
        "美度官方旗舰店",
    ],
)
def test_brand_spellings_and_aliases(matcher, brand):
    found = matcher.match("电热水壶 1.7L", brand, "MD-1520")
    assert _ids(found) == [("ZH-2024-00001", "brand+model")]
    assert found[0].score == 0.95
    assert found[0].model == "MD-1520" and found[0].brand == "美度"
    assert found[0].hazard_class == "electric_shock"


def test_latin_only_recall_matches_chinese_listing_through_aliases(matcher):
    # CPSC names the brand in Latin script only; the listing writes it in Chinese.
    assert _ids(matcher.match("电吹风", "美度", "AB-13")) == [("24100", "brand+model")]
    # and the shipped real-world aliases: 美的 = Midea
    assert _ids(matcher.match("美的电饭煲 4L", "美的", "MB-FB40E")) == [("25107", "brand+model")]


@pytest.mark.parametrize("brand", ["MEID0", "MEIDV", "ME1DU", "MFIDU"])
def test_misspelt_counterfeit_brand_matches_at_a_lower_score(matcher, brand):
    found = matcher.match("电热水壶 原装正品 假一赔十", brand, "MD-1520")
    assert _ids(found) == [("ZH-2024-00001", "brand~fuzzy+model")]
    assert 0.5 < found[0].score < 0.95


@pytest.mark.parametrize(
    "model",
    [
        "MD-1520",
        "MD1520",
        "md-1520",
        "md 1520",
        "MD_1520",
        "ＭＤ－１５２０",
        "MD-1520型",
        "型号：MD-1520",
        "型号:md1520",
        "Model No. MD-1520",
        "MD-1520（白色）",
    ],
)
def test_model_spellings_are_one_code(matcher, model):
    assert _ids(matcher.match("电热水壶", "美度", model)) == [("ZH-2024-00001", "brand+model")]


@pytest.mark.parametrize(
    "model", ["MD-1520-A", "MD-1520 Pro", "MD-1520升级版", "MD-1520/1", "MD-1520 MAX"]
)
def test_variant_suffixes_match_at_a_lower_score(matcher, model):
    found = matcher.match("电热水壶", "美度", model)
    assert _ids(found) == [("ZH-2024-00001", "brand+model~fuzzy")]
    assert found[0].score < 0.95


def test_recall_naming_a_variant_matches_the_base_code_lower():
    rec = {**KETTLE, "models": ["MD-1520-A"]}
    found = RecallMatcher([rec]).match("电热水壶", "美度", "MD-1520")
    assert _ids(found) == [("ZH-2024-00001", "brand+model~fuzzy")]
    # two different variants of one base are siblings, not the same product
    assert RecallMatcher([rec]).match("电热水壶", "美度", "MD-1520-B") == []


@pytest.mark.parametrize("model", ["MD-1521", "MD-152", "MD-15200", "MD-1520A", "MD-2520"])
def test_sibling_codes_never_match(matcher, model):
    assert matcher.match("美度 电热水壶", "美度", model) == []


@pytest.mark.parametrize("model", ["AB-12", "AB-13", "AB-15", "ab15"])
def test_models_listed_in_the_description(matcher, model):
    assert _ids(matcher.match("电吹风", "MEIDU", model)) == [("24100", "brand+model")]
    assert matcher.match("电吹风", "MEIDU", "AB-14") == []


def test_many_models_in_one_field(matcher):
    for model in ("MD-1520", "MD-1530"):
        assert _ids(matcher.match("电热水壶", "美度", model)) == [("ZH-2024-00001", "brand+model")]


def test_models_in_one_english_field_with_and_and_ranges():
    rec = {**DRYER, "models": ["AB-20, AB-21 and AB-23", "CD-7 to CD-9"], "attributes": {}}
    m = RecallMatcher([rec])
    for model in ("AB-20", "AB-21", "AB-23", "CD-7", "CD-8", "CD-9"):
        assert [x.recall_id for x in m.match("hair dryer", "MEIDU", model)] == ["24100"], model
    assert m.match("hair dryer", "MEIDU", "AB-22") == []


@pytest.mark.parametrize(
    "title",
    [
        "美度电热水壶 MD-1530 家用 1.7L",
        "美度 电热水壶 md 1530 防干烧",
        "美度电热水壶MD1530型304不锈钢",
        "【官方正品】美度（MEIDU）ＭＤ－１５３０电热水壶",
    ],
)
def test_model_only_in_the_title(matcher, title):
    found = matcher.match(title, "美度", None)
    assert _ids(found) == [("ZH-2024-00001", "brand+model_in_title")]
    assert found[0].model == "MD-1530"


def test_brand_only_in_the_title(matcher):
    found = matcher.match("美度 电热水壶 家用", None, "MD-1520")
    assert _ids(found) == [("ZH-2024-00001", "brand+model")]


def test_other_brand_with_the_same_code_is_a_collision_not_a_recall(matcher):
    assert matcher.match("插线板 8位", "公牛", "X-100") == []
    assert matcher.match("power strip", "Anker", "X100") == []
    assert _ids(matcher.match("插线板", "Voltara", "X100")) == [("A12/00001/24", "brand+model")]


def test_brandless_weak_codes_never_match(matcher):
    # the recall names no brand: a short code is shared by too many products
    assert matcher.match("遥控车 玩具", None, "A100") == []
    assert matcher.match("遥控车 玩具", "Foo", "A100") == []
    # a specific code still finds the product, with a low score that says why
    found = matcher.match("遥控车 玩具", None, "KX-77Q81")
    assert _ids(found) == [("24200", "no_brand+model")]
    assert found[0].score == pytest.approx(0.6)
    # a listing without any brand against a branded recall: only specific codes
    assert matcher.match("电热水壶", None, "X-100") == []


def test_barcode_match(matcher):
    found = matcher.match("插线板", None, None, gtin="6932978520447")
    assert _ids(found) == [("A12/00001/24", "gtin")]
    assert found[0].score == pytest.approx(0.99)
    assert matcher.match("插线板", None, None, gtin="6932978520446") == []  # wrong check digit


def test_other_category_halves_the_score(matcher):
    assert matcher.match("美度电饭煲 4L", "美度", "MD-1520") == []
    low = matcher.match("美度电饭煲 4L", "美度", "MD-1520", min_score=0.0)
    assert _ids(low) == [("ZH-2024-00001", "brand+model+other_category")]
    assert low[0].score == pytest.approx(0.475)
    off = RecallMatcher([KETTLE], check_category=False)
    assert _ids(off.match("美度电饭煲 4L", "美度", "MD-1520")) == [("ZH-2024-00001", "brand+model")]


def test_two_sources_for_one_product_give_two_matches():
    cpsc = {**DRYER, "models": ["MD-1520"], "attributes": {}, "product_name": "Electric Kettles"}
    m = RecallMatcher([KETTLE, cpsc], aliases=BrandAliases([["美度", "MEIDU"]]))
    found = m.match("电热水壶", "美度", "MD-1520")
    assert sorted(x.recall_id for x in found) == ["24100", "ZH-2024-00001"]


def test_records_of_one_recall_are_merged():
    csv_copy = {**MIDEA, "models": ["MB-FB40E"]}
    json_copy = {**MIDEA, "models": ["MB-FB50E"]}
    m = RecallMatcher([csv_copy, json_copy])
    assert len(m) == 1
    assert [x.recall_id for x in m.match("电饭煲", "Midea", "MB-FB50E")] == ["25107"]


def test_parser_records_are_accepted():
    record = {
        "source": "cpsc",
        "external_id": "24300",
        "brands": ["PANDOO"],
        "models": ["XX-352Q"],
        "description": "This recall involves PANDOO hair dryers.",
        "hazard": "The hair dryers can overheat.",
        "hazard_type": "Fire",
    }
    found = RecallMatcher([record]).match("吹风机", "PANDOO", "xx352q")
    assert found and found[0].recall_id == "24300" and found[0].hazard_class == "fire"


def test_match_many_takes_mappings_and_sequences(matcher):
    rows = [
        {"title": "电热水壶", "brand": "美度", "model": "MD-1520"},
        ("电热水壶", "美度", "MD-1521"),
        ("插线板", None, None, "6932978520447"),
        {"title": "电吹风", "brand_text": "MEIDU", "model_text": "AB-12"},
    ]
    found = matcher.match_many(rows)
    assert [[m.recall_id for m in f] for f in found] == [
        ["ZH-2024-00001"],
        [],
        ["A12/00001/24"],
        ["24100"],
    ]


def test_min_score_is_checked():
    with pytest.raises(ValueError, match="min_score"):
        RecallMatcher([KETTLE], min_score=1.5)


def test_empty_inputs(matcher):
    assert matcher.match(None, None, None) == []
    assert matcher.match("", "", "") == []
    assert RecallMatcher([]).match("美度电热水壶", "美度", "MD-1520") == []


def test_barcodes_are_read_only_where_the_recall_says_so():
    rec = {
        **MIDEA,
        "attributes": {
            "description": "The recalled cookers have UPC 0 12345 67890 5 on the box.",
            # a telephone number that happens to pass the GTIN check digit
            "extra": {"contact": "Call 0571-8888 6667"},
        },
    }
    m = RecallMatcher([rec])
    assert [x.matched_on for x in m.match("电饭煲", None, None, gtin="012345678905")] == ["gtin"]
    assert m.match("电饭煲", None, None, gtin="0057188886667") == []
