"""CategoryMapper's interface: inputs it accepts, batches, thresholds, the model switch."""

from __future__ import annotations

import pytest

from transforms.categories import CategoryMapper, CategoryMatch
from transforms.reference import read_reference


@pytest.fixture(scope="module")
def mapper() -> CategoryMapper:
    return CategoryMapper()


def test_map_many_takes_pairs_and_extract_payloads(mapper):
    items = [
        (["小家电", "电热水壶"], "美的 电水壶"),
        {"category_path": ["小家电", "电吹风"], "name": "飞利浦 负离子"},  # ListingExtract payload
        {"path": [], "title": "充电宝 20000毫安"},
        {"category_path": "电磁炉", "name": None},  # one crumb given as a string
        {"category_path": [], "name": None},
    ]
    codes = [m.code for m in mapper.map_many(items)]
    assert codes == ["electric_kettle", "hair_dryer", "power_bank", "induction_cooker", None]


def test_map_equals_map_many_and_repeats_are_mapped_once(mapper):
    items = [([], "负离子 冷热风 速干 大功率"), (["首页"], "电吹风 收纳架")] * 3
    many = mapper.map_many(items)
    assert many == [mapper.map(p, t) for p, t in items]
    assert many[0] is many[2] is many[4]
    assert all(isinstance(m, CategoryMatch) for m in many)
    assert mapper.map_many([]) == []


def test_threshold_turns_model_codes_into_abstentions():
    strict = CategoryMapper(threshold=0.999)
    m = strict.map([], "负离子 冷热风 速干 大功率")
    assert (m.code, m.method) == (None, "model")
    assert 0.5 < m.confidence < 0.999  # the model's probability is kept
    assert "below threshold" in m.evidence


def test_rule_threshold_sends_weaker_rule_answers_to_the_model():
    path, title = ["数码电脑", "数码配件"], "充电宝 20000毫安"  # title over ancestor: 0.8
    assert CategoryMapper().map(path, title).method == "rule"
    m = CategoryMapper(rule_threshold=0.95).map(path, title)
    assert m.method == "model" and m.code in ("power_bank", None)


def test_mapper_accepts_reference_data_or_categories():
    reference = read_reference()
    a = CategoryMapper(reference, use_model=False).map([], "电热毯 双人")
    b = CategoryMapper(reference.categories, use_model=False).map([], "电热毯 双人")
    assert a == b and a.code == "electric_blanket"


def test_every_code_given_is_a_reference_code(mapper):
    codes = {c.code for c in read_reference().categories}
    for category in read_reference().categories:
        for word in category.keywords:
            m = mapper.map([], word)
            assert m.code == category.code, (word, m)
        assert mapper.map([category.name_zh], "").code == category.code
    assert {m.code for m in mapper.map_many([([], "x")])} <= codes | {None}
