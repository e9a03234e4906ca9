"""The banned-term rules on realistic listing titles and detail text.

Each case names the terms that must be reported as violations; an empty set means
the text is clean (often because an exemption of SAMR's 2023 guide applies).
"""

from __future__ import annotations

import pytest

from transforms.reference.load import read_reference
from transforms.reference.terms import BannedTermMatcher, normalise_text


@pytest.fixture(scope="module")
def matcher() -> BannedTermMatcher:
    return BannedTermMatcher(read_reference().banned_terms)


HITS = [
    # absolute terms in titles
    ("全网最低价 电热水壶1.7L 304不锈钢 自动断电", {"最低价"}),
    ("国家级品质 新疆长绒棉四件套 1.8m床", {"国家级产品"}),
    ("第一品牌 负离子电吹风 大功率速干", {"第一"}),
    ("顶级工艺 316不锈钢保温杯 男女学生", {"顶级"}),
    ("【NO.1爆款】20000毫安充电宝 超薄便携", {"NO.1"}),
    ("ＮＯ．１ 畅销 儿童安全座椅", {"NO.1"}),  # full-width letters and dot
    ("抖音TOP1 插线板 USB多孔 3米", {"TOP1"}),
    ("史上最低 取暖器 家用节能", {"最"}),
    ("唯一正品渠道 原装手机充电器", {"唯一"}),
    ("全国首家 石墨烯电热毯 独家专利", {"首家", "独家"}),
    ("宝妈首选 婴儿推车 可坐可躺", {"首选"}),
    ("绝对安全 不漏电 电热水器", {"绝对"}),
    ("万能插座 多孔位 一转多", {"万能"}),
    ("史无前例的低价 电饭煲", {"史无前例"}),
    ("吸力之王 无线手持吸尘器", {"之王"}),
    ("遥遥领先 破壁机 静音", {"行业领先"}),
    ("连续五年销量冠军 电磁炉", {"冠军"}),
    ("2023年销量第一 电动车头盔", {"第一"}),  # a year but no named source: not exempt
    ("Best seller hair dryer 2000W", {"best"}),
    ("本店最低价 不买后悔", {"最低价"}),  # a shop's own prices are not a brand self-comparison
    # state organs, honours
    ("人民大会堂特供 陶瓷餐具套装", {"部队特供"}),
    ("央视推荐品牌 智能电饭煲", {"央视推荐"}),
    ("驰名商标 国家免检产品 不锈钢炒锅", {"驰名商标", "国家免检"}),
    ("中国名牌 羽绒被 95白鸭绒", {"中国名牌"}),
    # guarantees
    ("100%正品 假一赔十 口红", {"100%"}),
    ("１００％安全 无毒 宝宝奶瓶", {"100%"}),
    ("永久保修 电热水壶", {"永久"}),
    ("无效退款 防脱染发膏", {"无效退款"}),
    # medical and efficacy claims
    ("特效祛痘 根治痘痘 面霜", {"特效", "根治"}),
    ("纯植物 无副作用 染发剂", {"无副作用"}),
    ("医学护肤品 修护敏感肌", {"医学护肤"}),
    ("医用级硅胶奶嘴 宽口径奶瓶", {"医用级"}),
    ("远红外电热毯 降血压 改善睡眠", {"降血压"}),
    ("药妆 美白祛斑霜", {"药妆"}),
    # promotion pressure
    ("仅此一次 随时涨价 充电宝清仓", {"仅此一次", "随时涨价"}),
]

CLEAN = [
    # usage tips
    "坚果礼盒 开封后最佳食用期3天",
    "手工曲奇 最佳赏味期7天 请冷藏",
    "锂电池最佳使用温度 -10℃~40℃",
    "开封后最好在3天内食用完",
    "Best before 2026-06-30",
    # self-comparison within the brand
    "本品牌最新款吹风机 2024款 负离子",
    "这是我们最新的磁吸充电宝，比上一代更薄",
    "品牌史上最轻 无线吸尘器",
    # grade names from standards, and specifications
    "一级能效 变频微波炉 23L",
    "国家一级能效 储水式电热水器 60升",
    "能效等级：1级 电磁炉",
    "特级初榨橄榄油 玻璃瓶装",
    "西湖龙井 等级：特级",
    "优等品 日用瓷器 釉下彩",
    "最大功率2000W 最高温度220℃ 电熨斗",
    "最大承重25kg 婴儿推车",
    "最多可定时12小时 落地扇",
    # product names, models, trademarks
    "小米 Redmi K70 至尊版 16GB+1TB",
    "格力 KFR-35GW/NhGc1B 空调挂机",
    "美的 MB-FB40E211 电饭煲 4L",
    "型号：TOP1-X2 便携显示器",
    "最生活 纯棉毛巾 A-Life",
    "完美日记 小细跟口红",
    "永久牌 儿童自行车 12寸",
    # time-limited facts with a source
    "2023年度销量第一(据中怡康零售监测)",
    "据奥维云网数据，2023年线上吹风机零售额第一",
    "2023年双11天猫吹风机类目销售额TOP1（数据来源：天猫榜单）",
    # honours awarded under state rules, aims and ethos
    "国家级非物质文化遗产 龙泉青瓷茶具",
    "制造业单项冠军企业出品",
    "追求极致 匠心品质",
    "质量第一 信誉至上",
    "致力于打造最好的电热毯",
    # facts and ordinary words that look like terms
    "100%纯棉儿童T恤 A类婴幼儿",
    "面料：棉100% 里料：聚酯纤维100%",
    "百分百纯棉 加厚浴巾",
    "符合最新国标GB 2099.7 延长线插座",
    "每块电池打刻永久性唯一编码",
    "第一次用就爱上了 好评",
    "收到第一时间试用，效果不错",
    "LED氛围灯 七彩灯光特效",
    "本品不能代替药物治疗",
    "万能表 数字高精度",
    "最近天冷 取暖器卖得好",
]


@pytest.mark.parametrize(("text", "expected"), HITS, ids=[t for t, _ in HITS])
def test_violations_are_found(matcher: BannedTermMatcher, text: str, expected: set[str]) -> None:
    assert {h.term for h in matcher.violations(text)} == expected


@pytest.mark.parametrize("text", CLEAN)
def test_exempt_and_ordinary_text_is_clean(matcher: BannedTermMatcher, text: str) -> None:
    assert matcher.violations(text) == []


def test_there_are_at_least_forty_realistic_cases() -> None:
    assert len(HITS) + len(CLEAN) >= 40
    assert len(HITS) >= 20 and len(CLEAN) >= 20


def test_exempt_hits_are_reported_with_the_exemption(matcher: BannedTermMatcher) -> None:
    hits = matcher.scan("开封后最佳食用期3天")
    assert [(h.term, h.matched) for h in hits] == [("最佳", "最佳")]
    assert hits[0].is_exempt and "食用" in hits[0].exempt_by


def test_the_longest_overlapping_hit_stands(matcher: BannedTermMatcher) -> None:
    hits = matcher.violations("全网最低价")
    assert [(h.term, h.matched, h.start, h.end) for h in hits] == [("最低价", "最低价", 2, 5)]
    assert [h.term for h in matcher.violations("最高级")] == ["最高级"]


def test_hit_offsets_refer_to_the_normalised_text(matcher: BannedTermMatcher) -> None:
    text = "爆款ＴＯＰ１插线板"
    (hit,) = matcher.violations(text)
    assert normalise_text(text)[hit.start : hit.end] == hit.matched == "TOP1"
    assert hit.severity == "medium" and hit.term_class == "absolute"
    assert "第九条第三项" in hit.legal_basis


def test_one_text_can_carry_exempt_and_violating_uses(matcher: BannedTermMatcher) -> None:
    text = "本品牌最新款 全网最低价 开封后最佳食用期3天"
    scan = matcher.scan(text)
    assert [(h.term, h.is_exempt) for h in scan] == [
        ("最新", True),
        ("最低价", False),
        ("最佳", True),
    ]


def test_the_matcher_accepts_warehouse_rows() -> None:
    rows = [t.to_row() for t in read_reference().banned_terms]
    from_rows = BannedTermMatcher(rows)
    text = "国家级品质 100%纯棉 第一品牌 最佳赏味期"
    assert [h.term for h in from_rows.violations(text)] == ["国家级产品", "第一"]


def test_model_numbers_are_not_rankings(matcher: BannedTermMatcher) -> None:
    assert matcher.violations("型号 No.12 TOP10 榜单") == []
    assert matcher.violations("ASUS TOP100") == []


def _rule_by_rule() -> BannedTermMatcher:
    """The same rules, every one tried on every text."""
    plain = BannedTermMatcher(read_reference().banned_terms)
    plain._index = None
    return plain


def test_the_trigger_index_finds_what_the_rules_find(matcher: BannedTermMatcher) -> None:
    """Trying only the rules whose trigger characters a text contains must never miss a
    hit: every case above, each term of the list as written, in capitals and inside
    other text, and mixtures of them give the same hits as trying every rule."""
    assert matcher._index
    plain = _rule_by_rule()
    texts = [t for t, _ in HITS] + list(CLEAN)
    for term in read_reference().banned_terms:
        texts += [term.term, f"新款{term.term}电热水壶", f"{term.term.upper()}！ 包邮"]
        texts += [f"开封后{term.term}食用", f"No.{term.term}1", term.term.swapcase()]
    texts += ["ＮＯ．１ 爆款", "Nо.1 (Cyrillic о)", "BEST ſeller", "TOP-1 İ ı", "No\u00a0.\u20031"]
    texts += [a + "\n" + b for a, b in zip(texts, reversed(texts), strict=True)]
    assert len(texts) > 400
    for text in texts:
        assert matcher.scan(text) == plain.scan(text), text


def test_most_rules_have_triggers_and_a_plain_text_sets_off_few(
    matcher: BannedTermMatcher,
) -> None:
    assert len(matcher._always) <= len(matcher._rules) // 4
    assert len(matcher._candidates("304不锈钢 电热水壶 1.7L 自动断电 家用")) <= 3
    assert matcher.scan("304不锈钢 电热水壶 1.7L 自动断电 家用") == []


def test_a_rule_without_a_small_trigger_set_is_tried_on_every_text() -> None:
    from transforms.reference.model import BannedTerm

    def term(pattern: str) -> BannedTerm:
        return BannedTerm(
            term=pattern,
            term_class="absolute",
            legal_basis="广告法第九条",
            severity="low",
            pattern=pattern,
            exemption_patterns=(),
            note=None,
        )

    m = BannedTermMatcher([term(r"[^\s]{3}®"), term(r"\d{5,}"), term(r"(好)\1|优选")])
    assert m._always == [1]  # ® is required by the first; the third needs 好 or 优
    assert [h.term for h in m.violations("商标abc® 编号123456 好好")] == [
        r"[^\s]{3}®",
        r"\d{5,}",
        r"(好)\1|优选",
    ]
