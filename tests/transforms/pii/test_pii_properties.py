"""Property tests: generated personal data embedded anywhere in Chinese text is removed."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pii_helpers import SALT, fullwidth, make_id

from transforms.pii import (
    assert_no_pii,
    is_valid_id_number,
    mask_address,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    pseudonymise,
    scrub_text,
)

# Review-like words and punctuation; none of them is a cue (订单号, 编号, 型号 ...).
FILLER = (
    "质量很好不错物流快包装完整颜色漂亮客服态度满意推荐购买宝贝收到了使用感觉一般价格便宜"
    "充电宝电热水壶儿童玩具发烫冒烟漏电异味做工粗糙退货退款商家处理"
)
PUNCT = "，。！？、；：（）【】「」 \n"
chinese = st.text(alphabet=st.sampled_from(FILLER + PUNCT), max_size=40)

MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + ["145", "147", "150", "151", "152", "153"]
MOBILE_PREFIXES += ["155", "156", "157", "158", "159", "166", "173", "175", "176", "177"]
MOBILE_PREFIXES += ["178", "180", "181", "182", "183", "184", "185", "186", "187", "188"]
MOBILE_PREFIXES += ["189", "191", "198", "199"]


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(written form, the 11 digits)."""
    digits = draw(st.sampled_from(MOBILE_PREFIXES)) + draw(
        st.from_regex(r"[0-9]{8}", fullmatch=True)
    )
    style = draw(st.sampled_from(["plain", "spaces", "dashes", "+86", "0086", "fullwidth"]))
    written = {
        "plain": digits,
        "spaces": f"{digits[:3]} {digits[3:7]} {digits[7:]}",
        "dashes": f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
        "+86": f"+86 {digits}",
        "0086": f"0086-{digits}",
        "fullwidth": fullwidth(digits),
    }[style]
    return written, digits


AREAS = ["110105", "310104", "330106", "440305", "320583", "510107", "650102", "130602"]


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    birth = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31)))
    id18 = make_id(draw(st.sampled_from(AREAS)), birth, draw(st.integers(0, 999)))
    return id18.lower() if draw(st.booleans()) else id18


emails = st.builds(
    lambda user, dom: f"{user}@{dom}",
    st.from_regex(r"[a-z0-9]([a-z0-9._]{0,10}[a-z0-9])?", fullmatch=True),
    st.sampled_from(["qq.com", "163.com", "example.com", "mail.shop.com.cn", "foxmail.com"]),
)

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(before=chinese, after=chinese, phone=mobiles())
def test_embedded_mobile_is_removed(before: str, after: str, phone: tuple[str, str]) -> None:
    written, digits = phone
    result = scrub_text(before + written + after, salt=SALT)
    assert written not in result.text
    assert digits[3:] not in result.text.replace(" ", "").replace("-", "")
    assert result.counts.get("mobile") == 1
    assert result.pseudonyms == (pseudonymise(digits, kind="phone", salt=SALT),)
    assert assert_no_pii(result.text) == []


@PROPS
@given(before=chinese, after=chinese, id18=id_numbers())
def test_embedded_id_number_is_removed(before: str, after: str, id18: str) -> None:
    assert is_valid_id_number(id18)
    result = scrub_text(before + id18 + after, salt=SALT)
    assert id18 not in result.text and id18[6:14] not in result.text
    assert result.counts == {"id_number": 1}
    assert assert_no_pii(before + id18 + after) == ["id_number"]


@PROPS
@given(before=chinese, after=chinese, email=emails)
def test_embedded_email_is_removed(before: str, after: str, email: str) -> None:
    result = scrub_text(before + email + after, salt=SALT)
    assert email not in result.text and "@" not in result.text
    assert result.counts == {"email": 1}


@PROPS
@given(
    parts=st.lists(
        st.one_of(chinese, mobiles().map(lambda p: p[0]), id_numbers(), emails), max_size=8
    )
)
def test_everything_together_is_removed(parts: list[str]) -> None:
    text = "，".join(parts)
    result = scrub_text(text, salt=SALT)
    assert assert_no_pii(result.text) == []


printable_mix = st.text(
    alphabet=st.sampled_from(
        FILLER + PUNCT + "0123456789０１２３４５６７８９+-.@_abcxyzXQVv微信号路街室栋单元省市区"
    ),
    max_size=80,
)


@PROPS
@given(
    text=st.one_of(
        printable_mix,
        st.lists(st.one_of(printable_mix, mobiles().map(lambda p: p[0]), id_numbers(), emails)).map(
            "".join
        ),
    )
)
def test_scrub_is_idempotent(text: str) -> None:
    once = scrub_text(text, salt=SALT)
    twice = scrub_text(once.text, salt=SALT)
    assert twice.text == once.text
    assert dict(twice.counts) == {}


@PROPS
@given(text=chinese)
def test_text_without_personal_data_is_unchanged(text: str) -> None:
    result = scrub_text(text, salt=SALT)
    assert result.text == text and dict(result.counts) == {}


@PROPS
@given(
    value=st.text(min_size=1, max_size=30).filter(str.strip),
    kind=st.sampled_from(["name", "address", "email", "wechat", "id_number"]),
    salt_a=st.binary(min_size=1, max_size=32),
    salt_b=st.binary(min_size=1, max_size=32),
)
def test_pseudonymise_stable_and_salted(
    value: str, kind: str, salt_a: bytes, salt_b: bytes
) -> None:
    first = pseudonymise(value, kind=kind, salt=salt_a)
    assert first == pseudonymise(value, kind=kind, salt=salt_a)
    assert first.startswith(kind + ":") and len(first) == len(kind) + 1 + 32
    int(first.split(":", 1)[1], 16)
    if salt_a != salt_b:
        assert first != pseudonymise(value, kind=kind, salt=salt_b)
    other = "address" if kind != "address" else "name"
    assert first.split(":")[1] != pseudonymise(value, kind=other, salt=salt_a).split(":")[1]


@PROPS
@given(phone=mobiles(), salt=st.binary(min_size=1, max_size=16))
def test_pseudonymise_phone_ignores_spelling(phone: tuple[str, str], salt: bytes) -> None:
    written, digits = phone
    assert pseudonymise(written, kind="phone", salt=salt) == pseudonymise(
        digits, kind="phone", salt=salt
    )


@PROPS
@given(
    value=st.one_of(
        st.text(max_size=30),
        mobiles().map(lambda p: p[0]),
        id_numbers(),
        emails,
        st.text(alphabet=st.sampled_from(FILLER + "省市区县路号栋单元室0123456789*"), max_size=30),
    )
)
def test_masks_are_idempotent_and_hide_the_value(value: str) -> None:
    for mask in (mask_name, mask_phone, mask_id_number, mask_email, mask_address):
        once = mask(value)
        assert mask(once) == once, mask.__name__
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) >= 11:
        assert digits not in mask_phone(value) and digits not in mask_id_number(value)
