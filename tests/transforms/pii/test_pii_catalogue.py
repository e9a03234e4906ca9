"""A catalogue of realistic Chinese texts: what scrub_text must remove and what it must keep."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import pytest
from pii_helpers import SALT, fullwidth, luhn_break, luhn_complete, luhn_ok, make_id, wrong_check

from transforms.pii import PLACEHOLDERS, assert_no_pii, pseudonymise, scrub_text

ID_A = make_id("110105", date(1990, 3, 7), 123)
ID_B = make_id("330106", date(1985, 12, 1), 7)
ID_X = next(
    i for i in (make_id("440305", date(1978, 6, 30), s) for s in range(200)) if i.endswith("X")
)
ID_OLD = "110105900307123"  # 15 digits: region 110105, born 1990-03-07
ORDER_WRONG_CHECK = wrong_check(ID_A)  # looks like an ID, but the check digit is wrong
ORDER_BARE = next(  # no cue, wrong ID check digit, not Luhn-valid: stays
    o
    for o in (wrong_check(make_id("320583", date(2001, 1, 1), s)) for s in range(50))
    if not luhn_ok(o)
)
CARD19 = luhn_complete("622202123456789012")
CARD16 = luhn_complete("621700987654321")
CARD16_GROUPED = " ".join(CARD16[i : i + 4] for i in range(0, 16, 4))
CCC_LUHN = luhn_complete("202101070123456")  # a certificate number that passes Luhn
CCC_PLAIN = "2021010701234567"
TRACKING_LUHN = luhn_complete("773012345678901")

assert luhn_ok(CARD19) and luhn_ok(CARD16) and luhn_ok(CCC_LUHN) and not luhn_ok(ORDER_BARE)
assert not luhn_ok(luhn_break(CARD16))


@dataclass(frozen=True)
class Case:
    text: str
    counts: dict[str, int] = field(default_factory=dict)
    gone: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


CASES: dict[str, Case] = {
    # ------------------------------------------------------------------ mobile numbers
    "mobile plain": Case("我的手机13812345678，有问题打给我", {"mobile": 1}, ("13812345678",)),
    "mobile spaced": Case("电话：138 1234 5678", {"mobile": 1}, ("138 1234 5678", "5678")),
    "mobile dashed": Case("手机号138-1234-5678请回电", {"mobile": 1}, ("138-1234-5678",)),
    "mobile +86": Case("联系+86 13812345678", {"mobile": 1}, ("13812345678", "+86")),
    "mobile full-width": Case(
        "１３８１２３４５６７８是我电话", {"mobile": 1}, ("１３８１２３４５６７８", "５６７８")
    ),
    "mobile 0086 dashed": Case("境外拨打0086-139-8765-4321", {"mobile": 1}, ("8765", "4321")),
    "mobile (+86)": Case("(+86)15012345678 王女士", {"mobile": 1}, ("15012345678", "+86")),
    "mobile full-width (+86)": Case(
        "（＋８６）１５０１２３４５６７８", {"mobile": 1}, ("１５０", "５６７８")
    ),
    "mobile after tel:": Case("tel:17712345678", {"mobile": 1}, ("17712345678",)),
    "mobile dotted": Case("打我电话199.1234.5678哈", {"mobile": 1}, ("199.1234.5678",)),
    "mobile 86 glued": Case("8613812345678", {"mobile": 1}, ("13812345678",)),
    "two mobiles": Case(
        "联系人手机:13912345678/13712345678", {"mobile": 2}, ("13912345678", "13712345678")
    ),
    "mobile 7+4": Case("号码1381234 5678", {"mobile": 1}, ("1381234",)),
    "mobile 166": Case("号码是 166 0000 1111 谢谢", {"mobile": 1}, ("166 0000 1111",)),
    "mobile behind vx": Case("vx13812345678", {"mobile": 1}, ("13812345678",)),
    "mobile same as wechat": Case("微信同号13812345678", {"mobile": 1}, ("13812345678",)),
    "mobile fullwidth dashes": Case(
        "手机：１３８－１２３４－５６７８", {"mobile": 1}, ("１２３４", "５６７８")
    ),
    # ------------------------------------------------------------------ landlines
    "landline dashed": Case("店铺座机0571-88123456", {"landline": 1}, ("88123456",)),
    "landline brackets ext": Case(
        "北京客服（010）62345678转123", {"landline": 1}, ("62345678", "转123")
    ),
    "landline spaced": Case("电话 020 8765 4321 工作日", {"landline": 1}, ("8765 4321",)),
    "landline 7 digits": Case("0755-2345678", {"landline": 1}, ("2345678",)),
    # ------------------------------------------------------------------ ID numbers
    "id 18": Case(f"身份证号：{ID_A}", {"id_number": 1}, (ID_A, ID_A[6:14])),
    "id lower-case x": Case(f"身份证{ID_X.lower()}。", {"id_number": 1}, (ID_X.lower(),)),
    "id upper-case X": Case(f"证件{ID_X}号", {"id_number": 1}, (ID_X,)),
    "id spaced": Case(
        f"我的证件号 {ID_B[:6]} {ID_B[6:14]} {ID_B[14:]}", {"id_number": 1}, (ID_B[6:14],)
    ),
    "id 15 old": Case(f"旧身份证{ID_OLD}已过期", {"id_number": 1}, (ID_OLD,)),
    "id full-width": Case(
        f"身份证：{fullwidth(ID_B)}", {"id_number": 1}, (fullwidth(ID_B), fullwidth(ID_B[6:14]))
    ),
    # ------------------------------------------------------------------ e-mail
    "email": Case("邮箱：zhang.san@example.com", {"email": 1}, ("zhang.san", "@example.com")),
    "email qq digits": Case("发到 12345678@qq.com 就行", {"email": 1}, ("12345678",)),
    "email mixed case plus": Case("Email: Li_Si+shop@163.COM。", {"email": 1}, ("Li_Si",)),
    "email full-width": Case(
        "邮件ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", {"email": 1}, ("ｚｈａｎｇ", "＠")
    ),
    "email subdomains": Case(
        "my mail is wang.wu@sub.mail.com.cn, thanks", {"email": 1}, ("wang.wu", "mail.com.cn")
    ),
    "email after product cue": Case(
        "型号问题请发邮件 sn12345@qq.com 或 no.1@shop.cn", {"email": 2}, ("sn12345", "no.1@")
    ),
    # ------------------------------------------------------------------ WeChat / QQ
    "wechat wxid": Case("加我微信：wxid_abc12345 返现", {"wechat": 1}, ("wxid_abc12345",)),
    "wechat VX colon": Case("VX: zhangsan_88 私聊", {"wechat": 1}, ("zhangsan_88",)),
    "wechat id is": Case("微信号是 Li-Ming2020", {"wechat": 1}, ("Li-Ming2020",)),
    "wechat wx": Case("wx：shop_service01", {"wechat": 1}, ("shop_service01",)),
    "wechat 加v": Case("加v：abc123456返现5元", {"wechat": 1}, ("abc123456",), ("返现5元",)),
    "wechat 薇信": Case("薇信 meimei_2024 领券", {"wechat": 1}, ("meimei_2024",)),
    "qq colon": Case("QQ：123456789", {"qq": 1}, ("123456789",)),
    "qq 扣扣": Case("扣扣 87654321 联系", {"qq": 1}, ("87654321",)),
    "qq number": Case("qq号码:1234567890售后", {"qq": 1}, ("1234567890",)),
    # ------------------------------------------------------------------ bank cards
    "card 19": Case(f"退款打到银行卡{CARD19}", {"bank_card": 1}, (CARD19, CARD19[-4:])),
    "card grouped": Case(f"卡号 {CARD16_GROUPED} 户主", {"bank_card": 1}, (CARD16_GROUPED,)),
    "card bare": Case(f"{CARD16}", {"bank_card": 1}, (CARD16,)),
    "card-like with cue": Case(f"卡号：{CCC_LUHN}", {"bank_card": 1}, (CCC_LUHN,)),
    "card failing luhn": Case(f"积分卡{luhn_break(CARD16)}", {}, (), (luhn_break(CARD16),)),
    # ------------------------------------------------------------------ addresses
    "address full": Case(
        "收货地址：浙江省杭州市西湖区文三路478号华星时代广场3幢1单元1201室，谢谢",
        {"address": 1},
        ("文三路", "478号", "华星时代广场", "1201室"),
        ("浙江省杭州市西湖区", "，谢谢"),
    ),
    "address municipality": Case(
        "寄到上海市浦东新区世纪大道100号", {"address": 1}, ("世纪大道100号",), ("上海市浦东新区",)
    ),
    "address building": Case(
        "地址：北京市朝阳区建国路88号现代城5号楼1205室",
        {"address": 1},
        ("建国路88号", "5号楼", "1205室"),
        ("北京市朝阳区",),
    ),
    "address estate only": Case(
        "住在翠苑小区3栋2单元501室", {"address": 1}, ("翠苑小区", "501室"), ("住在",)
    ),
    "address lane": Case(
        "上海市徐汇区漕溪北路12弄3号", {"address": 1}, ("漕溪北路", "12弄"), ("上海市徐汇区",)
    ),
    "address simulator style": Case(
        "送到江苏省苏州市昆山市朝阳路532号龙湖香醍24幢3单元2303室",
        {"address": 1},
        ("朝阳路532号", "龙湖香醍", "2303室"),
        ("江苏省苏州市昆山市",),
    ),
    "address range number": Case(
        "广东省深圳市南山区科技园路1-3号", {"address": 1}, ("科技园路1-3号",), ("南山区",)
    ),
    "address full-width digits": Case(
        "杭州市滨江区江南大道５８８号", {"address": 1}, ("江南大道５８８号",), ("杭州市滨江区",)
    ),
    # ------------------------------------------------------------------ names
    "name consignee": Case(
        "收货人：欧阳娜娜 电话13800001111", {"name": 1, "mobile": 1}, ("欧阳娜娜", "13800001111")
    ),
    "name field": Case("姓名: 王芳，女", {"name": 1}, ("王芳",), ("，女",)),
    "complaint record": Case(
        "投诉人：沈丹红 联系电话：15363673552 "
        "联系地址：江苏省苏州市昆山市朝阳路532号龙湖香醍24幢3单元2303室 "
        f"身份证号：{ID_B} 电子邮箱：2497578575@163.com",
        {"name": 1, "mobile": 1, "address": 1, "id_number": 1, "email": 1},
        ("沈丹红", "15363673552", "朝阳路", ID_B, "2497578575"),
        ("投诉人：", "联系电话：", "江苏省苏州市昆山市", "电子邮箱："),
    ),
    # ------------------------------------------------------------------ product text that stays
    "model capacity price": Case("型号：MK-15S03A，容量20000mAh，到手价￥129.00"),
    "ccc certificate": Case(f"CCC证书编号：{CCC_PLAIN}"),
    "ccc luhn after cue": Case(f"3C认证 {CCC_LUHN}"),
    "ccc luhn bare": Case(f"产品证书{CCC_LUHN}合格"),
    "gb standards": Case("执行标准：GB 4706.1-2005 GB 4706.15-2008"),
    "gb/t": Case("GB/T 37538-2019《电子商务交易产品质量网上监测规范》"),
    "order wrong check": Case(f"订单号：{ORDER_WRONG_CHECK}"),
    "order bare": Case(f"{ORDER_BARE}已签收"),
    "order simulator": Case("订单号626478091308988121，收到货就坏了"),
    "dates and times": Case("2024年3月15日下单，2024-03-20 13:45:08 收到，20240320到货"),
    "power specs": Case("功率1380W，电压220V~50Hz，容量1.7L，重量1.38kg"),
    "gtin": Case("条码6901234567892"),
    "complaint number": Case("投诉编号：17370000000"),
    "battery and dates": Case("5号电池两节，3号发货，7号线地铁站附近"),
    "prices": Case("价格13800元，原价 138 元 优惠 12 元，共 1399.00"),
    "fridge model": Case("型号BCD-470WTPZM(E) 能效等级1级"),
    "tracking sf": Case("快递单号：SF1234567890123"),
    "tracking luhn": Case(f"物流单号{TRACKING_LUHN}"),
    "batch": Case("批号20240315 有效期至2026-03-14"),
    "shop stats": Case("旗舰店评分4.9 好评率98% 月销1.2万+"),
    "sha256": Case("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    "full-width model": Case("MENGBABY 越野 遥控车 ＭＢ－３８Ｃ５９"),
    "3c mark": Case("3C标志编号 A2021123456"),
    "cue words without ids": Case("QQ音乐会员 微信支付 VX-2000型号 wx扫码"),
    "capacity mAh": Case("容量20000毫安 输出5V⎓2A 10000mAh/37Wh"),
    "road without number": Case("浙江省杭州市西湖区文三路附近的实体店"),
    "hotline 400": Case("售后热线400-820-8820"),
    "smoke words": Case("充电时冒烟起火，外壳发烫138度，差点爆炸"),
}


def test_catalogue_is_large() -> None:
    assert len(CASES) >= 60
    assert sum(1 for c in CASES.values() if not c.counts) >= 20


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_scrub(case: Case) -> None:
    result = scrub_text(case.text, salt=SALT)
    assert dict(result.counts) == case.counts, result.text
    for g in case.gone:
        assert g not in result.text, result.text
    for k in case.kept:
        assert k in result.text, result.text
    for kind, n in case.counts.items():
        assert result.text.count(PLACEHOLDERS[kind]) == n, result.text
    if not case.counts:
        assert result.text == case.text
        assert not result and result.pseudonyms == ()
    else:
        assert len(result.pseudonyms) == sum(case.counts.values())
    again = scrub_text(result.text, salt=SALT)
    assert again.text == result.text and dict(again.counts) == {}
    assert assert_no_pii(result.text) == []
    raw = {k for k in case.counts if k in ("mobile", "id_number", "email")}
    assert set(assert_no_pii(case.text)) == raw


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机13812345678，有问题打给我", "我的手机[手机号]，有问题打给我"),
        ("联系+86 13812345678", "联系[手机号]"),
        ("座机0571-88123456", "座机[电话]"),
        (f"身份证号：{ID_A}", "身份证号：[身份证号]"),
        ("邮箱：zhang.san@example.com。", "邮箱：[邮箱]。"),
        ("加我微信：wxid_abc12345 返现", "加我微信：[微信] 返现"),
        ("QQ：123456789", "QQ：[QQ]"),
        (f"银行卡{CARD19}", "银行卡[银行卡]"),
        ("收货人：欧阳娜娜", "收货人：[姓名]"),
        ("浙江省杭州市西湖区文三路478号3幢1单元1201室。", "浙江省杭州市西湖区[地址]。"),
    ],
)
def test_exact_output(text: str, expected: str) -> None:
    assert scrub_text(text, salt=SALT).text == expected


def test_pseudonyms_link_the_same_person_across_spellings() -> None:
    texts = ["手机13812345678", "电话 +86 138-1234-5678", "１３８１２３４５６７８"]
    pseudos = {scrub_text(t, salt=SALT).pseudonyms for t in texts}
    assert pseudos == {(pseudonymise("13812345678", kind="phone", salt=SALT),)}
    assert scrub_text("ZHANG@Example.com", salt=SALT).pseudonyms == (
        pseudonymise("zhang@example.com", kind="email", salt=SALT),
    )


def test_scrub_requires_a_salt() -> None:
    with pytest.raises(ValueError, match="ECQM_PII_SALT"):
        scrub_text("13812345678", salt=b"")
    with pytest.raises(TypeError):
        scrub_text(None, salt=SALT)  # type: ignore[arg-type]


def test_scrub_keeps_everything_around_a_hit() -> None:
    text = (
        "【差评】买的MK-15S03A充电宝20000mAh，用三天就鼓包！卖家电话13812345678不接。GB 4706.1-2005"
    )
    out = scrub_text(text, salt=SALT).text
    assert out == re.sub("13812345678", "[手机号]", text)


def test_no_pii_in_nested_values() -> None:
    record = {
        "number": "17370000000",
        "body": {"steps": [{"text": "已联系"}, {"text": f"身份证{ID_A}"}]},
        "contacts": [13812345678, "x@example.com"],
        "hash": pseudonymise("13812345678", kind="phone", salt=SALT),
    }
    assert assert_no_pii(record) == ["email", "id_number", "mobile"]
    assert assert_no_pii(record, skip_keys={"body", "contacts"}) == ["mobile"]
    assert assert_no_pii(record, skip_keys={"number", "body", "contacts"}) == []
    assert assert_no_pii({"a": [None, True, 1.5, ("ok", b"ab@cd.com")]}) == ["email"]
    assert assert_no_pii("") == []
    assert assert_no_pii({"订单号": "订单号626478091308988121"}) == []
