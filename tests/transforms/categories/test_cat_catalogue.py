"""A catalogue of awkward listings, mapped end to end (rules, then the model).

Each row: breadcrumb, title, the expected code (``None``: no code is the right answer)
and who should decide. Decisions worth stating:

* An accessory is not the product: ``电吹风 收纳架`` is a holder, made of plastic or metal,
  with none of a hair dryer's electrical hazards and outside its CCC scope; mapping it to
  ``hair_dryer`` would send a holder to an electrical-safety lab. No code.
* A giveaway is not the product: ``电热水壶 送 电吹风`` sells a kettle.
* A title that names an out-of-scope product (防晒衣, 5号电池) gets no code even when the
  shop filed it under a monitored category.
* Children's garments are ``children_clothing`` whatever the garment word says.
"""

from __future__ import annotations

import pytest

from transforms.categories import CategoryMapper, CategoryRules
from transforms.categories.lexicon import load_lexicon
from transforms.reference import read_reference

K, H = "electric_kettle", "hair_dryer"

CATALOGUE = [
    # --- Traditional characters
    ([], "電熱水壺 不鏽鋼 自動斷電 1.7L", K, "rule"),
    ([], "吹風機 負離子 大功率 家用", H, "rule"),
    (["首頁", "全部分類", "生活電器", "電暖器"], "速熱 家用", "room_heater", "rule"),
    ([], "兒童安全座椅 汽車用 ISOFIX", "child_car_seat", "rule"),
    ([], "吹風機 收納架 免打孔", None, "rule"),
    # --- full-width forms
    ([], "ＬＥＤ護眼檯燈 學生 宿舍", "led_lamp", "rule"),
    ([], "Ｔ恤 男 純棉 短袖", "adult_clothing", "rule"),
    ([], "１８６５０電池 強光手電", "lithium_battery", "rule"),
    ([], "充電寶　２００００ｍＡｈ", "power_bank", "rule"),
    # --- English titles
    ([], "Portable Electric Kettle 1.7L Stainless Steel", K, "rule"),
    ([], "Hair Dryers 1800W ionic fast drying", H, "rule"),
    ([], "Power Bank 20000mAh 22.5W", "power_bank", "rule"),
    ([], "Kids hoodie cotton 110-160", "children_clothing", "rule"),
    ([], "Laptop stand adjustable aluminium", None, "rule"),
    ([], "Baby monitor wifi camera", None, "rule"),
    ([], "Brand new phone case silicone", None, "model"),  # 'bra' is not in 'brand'
    # --- breadcrumb noise and shapes
    (["首页", "全部分类"], "美的 电水壶 1.7L", K, "rule"),
    (["Home", "All Categories", "Electric Kettles"], "1.7L fast boil", K, "rule"),
    (["家用电器", "厨房小电", "电水壶/养生壶"], "美的 1.7L 304", K, "rule"),
    (["首页", "生活电器", "取暖器"], "", "room_heater", "rule"),
    (["首页"], "   ", None, None),
    # --- two products: the giveaway is not the product
    (["首页", "全部分类"], "电热水壶 送 电吹风", K, "rule"),
    ([], "美的电热水壶送电吹风", K, "rule"),
    ([], "吹风机 负离子 送收纳架", H, "rule"),
    ([], "电磁炉 赠 汤锅", "induction_cooker", "rule"),
    ([], "送女友 口红 礼盒", "lipstick", "rule"),  # 送 + recipient is not a giveaway
    ([], "送礼 电热毯 双人", "electric_blanket", "rule"),
    ([], "配送 毛巾 纯棉", "towel", "rule"),
    ([], "全新 送 电吹风", None, "model"),  # only a giveaway: the rest says nothing
    # --- accessories and parts
    ([], "电吹风 收纳架", None, "rule"),
    ([], "戴森吹风机专用收纳架 免打孔", None, "rule"),
    ([], "适用戴森吹风机 收纳架", None, "rule"),
    ([], "电吹风架 壁挂", None, "rule"),
    ([], "电饭煲内胆 通用 4L", None, "rule"),
    ([], "保温杯套 斜挎 便携", None, "rule"),
    ([], "显示器支架 桌面 升降", None, "rule"),
    ([], "笔记本电脑支架 散热", None, "rule"),
    (["小家电", "电吹风"], "电吹风 收纳架", None, "rule"),  # misfiled by the shop
    (["数码", "电脑配件"], "笔记本电脑 散热器 支架", None, "rule"),
    # --- fitting notes: the product fits, it is not
    ([], "炒锅 不粘 电磁炉燃气灶通用", "stainless_cookware", "rule"),
    ([], "头盔 四季通用 男女 3C", "ebike_helmet", "rule"),  # 四季通用 is not "fits"
    ([], "陶瓷碗 洗碗机可用 家用", "ceramic_tableware", "rule"),
    # --- phrases that contain a keyword but name something else
    ([], "防晒衣 女 冰丝 UPF50+", None, "rule"),
    (["美妆个护", "防晒霜"], "防晒衣 女 冰丝", None, "rule"),
    ([], "5号电池 碱性 24粒", None, "rule"),
    ([], "手推车 折叠 拉货", None, "rule"),
    ([], "燃气热水器 16升 恒温", None, "rule"),
    ([], "洗碗机 嵌入式 13套", None, "rule"),
    ([], "电炒锅 多功能 家用", None, "rule"),
    ([], "屏幕挂灯 显示器 护眼", None, "rule"),
    # --- compounds and garments
    ([], "电磁炉炒锅 不锈钢 32cm", "stainless_cookware", "rule"),  # head-final
    ([], "微波炉专用 饭盒 可加热", "plastic_food_container", "rule"),
    ([], "女童 连衣裙 夏季 公主裙", "children_clothing", "rule"),
    ([], "儿童内裤 纯棉 男童", "children_clothing", "rule"),
    ([], "男士 内裤 纯棉 平角", "underwear", "rule"),
    ([], "童装 卫衣 加绒", "children_clothing", "rule"),
    # --- weak paths: an ancestor or a partly matching leaf needs the title to agree
    (["母婴童装", "奶嘴"], "新生儿 硅胶 奶嘴 宽口径", None, "model"),
    (["母婴", "童装/童鞋"], "儿童运动鞋 男童 透气", None, "model"),
    (["母婴", "童装/童鞋"], "男童 卫衣 加绒", "children_clothing", "rule"),
    (["数码电脑", "数码配件"], "充电宝 20000毫安", "power_bank", "rule"),
    # --- no keyword: the model
    (["首页", "生活电器", "取暖"], "美的 家用 速热 节能 静音", "room_heater", "model"),
    ([], "负离子 冷热风 速干 大功率 1800W", H, "model"),
    ([], "遥控", None, "model"),
    ([], "手机壳 适用苹果15 硅胶 防摔", None, "model"),
    # --- nothing at all
    ([], "", None, None),
    (None, None, None, None),
]


@pytest.fixture(scope="module")
def mapper() -> CategoryMapper:
    return CategoryMapper()


@pytest.mark.parametrize(("path", "title", "code", "method"), CATALOGUE)
def test_catalogue(mapper, path, title, code, method):
    m = mapper.map(path, title)
    assert (m.code, m.method) == (code, method), m
    assert m.evidence
    assert 0.0 <= m.confidence <= 1.0


def test_bundle_of_two_products_is_arbitrated_or_left_uncoded(mapper):
    m = mapper.map([], "电热水壶 电吹风 两件套")
    assert m.method == "model"
    assert m.code in (K, H, None)
    assert "conflict" in m.evidence


def test_rule_evidence_names_the_keyword_and_where_it_was_found(mapper):
    m = mapper.map(["小家电", "电热水壶"], "美的 电水壶 家用")
    assert (m.code, m.method, m.confidence) == (K, "rule", 1.0)
    assert "path" in m.evidence and "电热水壶" in m.evidence and "title agrees" in m.evidence
    m = mapper.map([], "MEIDOO/美度 电陶炉 爆炒 家用 多功能 定时 七天无理由")
    assert (m.code, m.method) == ("induction_cooker", "rule")
    assert "title" in m.evidence and "电陶炉" in m.evidence


def test_path_over_title_is_resolved_but_not_trusted(mapper):
    rule = mapper.rules.match(["小家电", "电热水壶"], "美度 电陶炉 爆炒 家用")
    assert rule.code == K  # the platform's classification wins the tie …
    assert rule.confidence < mapper.rule_threshold  # … but not outright
    assert set(rule.candidates) == {K, "induction_cooker"}
    m = mapper.map(["小家电", "电热水壶"], "美度 电陶炉 爆炒 家用")
    assert m.method == "model" and m.code in (K, "induction_cooker", None)


def test_longest_keyword_wins_overlaps():
    rules = CategoryMapper(use_model=False).rules
    assert rules.match([], "即热式电热水器").code == "water_heater"  # not 热水壶/热水器 parts
    assert rules.match([], "儿童卫衣 加绒").code == "children_clothing"  # 儿童卫衣 ⊃ 卫衣
    assert rules.match([], "18650锂电池").code == "lithium_battery"
    assert rules.match([], "电动车锂电池 48V").code == "ebike_battery"  # ⊃ 锂电池


def test_rules_do_not_depend_on_the_order_of_categories_or_keywords():
    categories = read_reference().categories
    lexicon = load_lexicon(categories)
    forward = CategoryRules(categories, lexicon)
    backward = CategoryRules(tuple(reversed(categories)), lexicon)
    for path, title, _, _ in CATALOGUE:
        a, b = forward.match(path, title), backward.match(path, title)
        assert (a.code, a.confidence, a.candidates, a.decisive) == (
            b.code,
            b.confidence,
            b.candidates,
            b.decisive,
        ), title


def test_model_is_not_consulted_when_rules_decide(mapper):
    rule = mapper.rules.match([], "电吹风 收纳架")
    assert rule.decisive and rule.code is None
    off = CategoryMapper(use_model=False)
    assert off.map([], "电吹风 收纳架").method == "rule"
    # Without the model, what the rules leave open stays uncoded.
    m = off.map([], "负离子 冷热风 速干")
    assert (m.code, m.method) == (None, None)
    assert "model disabled" in m.evidence
