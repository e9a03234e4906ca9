"""Display masks, pseudonyms and the validators behind them."""

from __future__ import annotations

from datetime import date

import pytest
from pii_helpers import SALT, make_id, wrong_check

from transforms.pii import (
    id_check_digit,
    is_valid_id_number,
    luhn_valid,
    mask_address,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    normalise,
    pseudonymise,
)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张**"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧**"),
        (" 王  芳 ", "王**"),
        ("阿依古丽·买买提", "阿**"),
        ("John Smith", "J**"),
        ("王", "*"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
    assert mask_name(masked) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("0086 13812345678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("0571-88125678", "0571-****5678"),
        ("(0571)88125678", "0571-****5678"),
        ("010-62345678", "010-****5678"),
        ("0755-2345678", "0755-***5678"),
        ("+86 571 8812 5678", "0571-****5678"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
    assert mask_phone(masked) == masked or set(masked) == {"*"}


def test_mask_phone_unknown_keeps_last_four_at_most() -> None:
    assert mask_phone("400-820-8820") == "******8820"
    assert mask_phone("******8820") == "******8820"


ID_A = make_id("110105", date(1990, 3, 7), 123)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (ID_A, f"110105********{ID_A[-4:]}"),
        ("11010519491231002x", "110105********002X"),
        ("110105 19491231 002X", "110105********002X"),
        ("110105491231002", "110105*****1002"),
        ("12345", "*****"),
    ],
)
def test_mask_id_number(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked
    assert mask_id_number(masked) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("zhang@example.com", "z***@example.com"),
        ("Zhang.San@Example.COM", "Z***@example.com"),
        ("a@qq.com", "a***@qq.com"),
        (" 2497578575@163.com ", "2***@163.com"),
        ("ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "z***@example.com"),
        ("not-an-email", "n***"),
    ],
)
def test_mask_email(email: str, masked: str) -> None:
    assert mask_email(email) == masked
    assert mask_email(masked) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("浙江省杭州市西湖区文三路478号华星时代广场3幢1单元1201室", "浙江省杭州市西湖区****"),
        ("江苏省苏州市昆山市朝阳路532号龙湖香醍24幢3单元2303室", "江苏省苏州市昆山市****"),
        ("上海市浦东新区世纪大道100号", "上海市浦东新区****"),
        ("北京市朝阳区建国路88号", "北京市朝阳区****"),
        ("广西壮族自治区南宁市青秀区民族大道1号", "广西壮族自治区南宁市青秀区****"),
        ("新疆维吾尔自治区乌鲁木齐市天山区人民路2号", "新疆维吾尔自治区乌鲁木齐市天山区****"),
        ("浙江省义乌市稠城街道工人路8号", "浙江省义乌市****"),
        ("广东 深圳市 南山区 科技园路1号", "广东深圳市南山区****"),
        ("广东省东莞市虎门镇连升路8号", "广东省东莞市虎门镇****"),
        ("广东省中山市古镇镇东兴路8号", "广东省中山市古镇镇****"),
        ("浙江省杭州市西湖区转塘镇凌家桥路5号", "浙江省杭州市西湖区转塘镇****"),
        ("杭州市西湖区文三路478号", "杭州市西湖区****"),
        ("文三路478号", "****"),
        ("", ""),
    ],
)
def test_mask_address(address: str, masked: str) -> None:
    assert mask_address(address) == masked
    assert mask_address(masked) == masked or not masked


def test_mask_address_keeps_no_street_or_number() -> None:
    for addr in ("浙江省杭州市西湖区文三路478号", "上海市徐汇区漕溪北路12弄3号"):
        masked = mask_address(addr)
        assert "路" not in masked and not any(c.isdigit() for c in masked)


# ----------------------------------------------------------------------------- pseudonyms


def test_pseudonym_shape_and_stability() -> None:
    p = pseudonymise("13812345678", kind="phone", salt=SALT)
    assert p.startswith("phone:") and len(p) == len("phone:") + 32
    assert p == pseudonymise("13812345678", kind="phone", salt=SALT)
    assert "13812345678" not in p and "5678" not in p.split(":")[0]


@pytest.mark.parametrize(
    ("kind", "spellings"),
    [
        (
            "phone",
            ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "１３８１２３４５６７８"],
        ),
        ("phone", ["0571-88123456", "(0571) 8812 3456", "+86 571 88123456"]),
        ("email", ["Zhang.San@Example.com", " zhang.san@example.COM "]),
        ("id_number", ["11010519491231002x", "11010519491231002X", "110105 19491231 002X"]),
        ("name", ["张三", " 张 三 ", "张　三"]),
        ("name", ["John  Smith", " John Smith"]),
        ("address", ["浙江省杭州市 西湖区文三路478号", "浙江省杭州市西湖区文三路４７８号"]),
    ],
)
def test_pseudonym_normalises_spellings(kind: str, spellings: list[str]) -> None:
    assert len({pseudonymise(s, kind=kind, salt=SALT) for s in spellings}) == 1


def test_pseudonym_differs_across_salts_kinds_and_people() -> None:
    a = pseudonymise("13812345678", kind="phone", salt=SALT)
    assert a != pseudonymise("13812345678", kind="phone", salt=SALT + b"x")
    assert a != pseudonymise("13812345679", kind="phone", salt=SALT)
    assert a.split(":")[1] != pseudonymise("13812345678", kind="qq", salt=SALT).split(":")[1]
    assert normalise("John  Smith", kind="name") == "John Smith"


def test_pseudonym_errors() -> None:
    with pytest.raises(ValueError, match="ECQM_PII_SALT"):
        pseudonymise("13812345678", kind="phone", salt=b"")
    with pytest.raises(TypeError):
        pseudonymise("13812345678", kind="phone", salt="text salt")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown kind"):
        pseudonymise("13812345678", kind="mobile_phone", salt=SALT)
    with pytest.raises(ValueError, match="nothing"):
        pseudonymise("  ", kind="name", salt=SALT)
    with pytest.raises(ValueError, match="nothing"):
        pseudonymise("no digits", kind="phone", salt=SALT)


# ----------------------------------------------------------------------------- validators


def test_id_validation() -> None:
    assert id_check_digit("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")
    assert is_valid_id_number(ID_A)
    assert not is_valid_id_number(wrong_check(ID_A))
    assert not is_valid_id_number("990105" + ID_A[6:17] + id_check_digit("990105" + ID_A[6:17]))
    feb30 = "11010519900230123"
    assert not is_valid_id_number(feb30 + id_check_digit(feb30))
    assert is_valid_id_number("110105900307123")  # 15 digits, 1990-03-07
    assert not is_valid_id_number("110105901307123")  # month 13
    assert not is_valid_id_number("1101059003071234")
    with pytest.raises(ValueError):
        id_check_digit("123")


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("41111111a1111111")
    assert not luhn_valid("")
