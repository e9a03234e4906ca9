"""Realistic personal and company data: names, phones, ID numbers, addresses."""

from __future__ import annotations

import random
from datetime import date, timedelta

from .regions import CITY_BY_CODE, ESTATES, PARKS, STREETS, City

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯婷雪梅琳晨阳博"
    "欣怡子涵思雨梓轩一诺佳宁俊杰晓东志远海燕丹丹晶晶慧敏嘉豪雅琪昊天紫萱"
)
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "145",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def person_name(rng: random.Random) -> str:
    n = 1 if rng.random() < 0.35 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(n))


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random, city: City) -> str:
    codes = {
        "310100": "021",
        "110100": "010",
        "120100": "022",
        "500100": "023",
        "440300": "0755",
        "440100": "020",
        "330100": "0571",
        "330200": "0574",
        "350200": "0592",
        "320500": "0512",
    }
    area = codes.get(city.code, "0" + city.code[:3])
    return f"{area}-{rng.randrange(10**7, 10**8)}"


def id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def id_number(rng: random.Random, city: City) -> str:
    """An 18-character resident ID number with a valid check digit."""
    area = rng.choice(city.districts)[0]
    birth = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 45))
    body = f"{area}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + id_check_digit(body)


def email(rng: random.Random) -> str:
    if rng.random() < 0.5:
        user = str(rng.randrange(10**6, 10**10))
    else:
        letters = "abcdefghijklmnopqrstuvwxyz"
        user = "".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) + str(
            rng.randrange(100)
        )
    return f"{user}@{rng.choice(EMAIL_DOMAINS)}"


def home_address(rng: random.Random, city: City) -> str:
    district = rng.choice(city.districts)[1]
    prefix = city.province + city.name if city.province != city.name else city.name
    return (
        f"{prefix}{district}{rng.choice(STREETS)}{rng.randint(1, 999)}号{rng.choice(ESTATES)}"
        f"{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元{rng.randint(1, 33)}{rng.randint(1, 4):02d}室"
    )


def business_address(rng: random.Random, city: City) -> str:
    district = rng.choice(city.districts)[1]
    prefix = city.province + city.name if city.province != city.name else city.name
    return (
        f"{prefix}{district}{rng.choice(STREETS)}{rng.randint(1, 888)}号"
        f"{rng.choice(PARKS)}{rng.randint(1, 12)}号楼{rng.randint(1, 20)}{rng.randint(1, 30):02d}室"
    )


def city_of(code: str) -> City:
    return CITY_BY_CODE[code]


def mask_nickname(rng: random.Random) -> str:
    """Review nicknames as platforms show them: 1***8, 小**, t***a."""
    style = rng.random()
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    if style < 0.4:
        return f"{rng.choice(alnum)}***{rng.choice(alnum)}"
    if style < 0.7:
        return rng.choice("小大阿老萌甜糖花叶雨晴") + "**"
    if style < 0.85:
        return rng.choice(SURNAMES) + "**"
    return f"{rng.choice(alnum)}{rng.choice(alnum)}***{rng.choice(alnum)}"


def company_name(rng: random.Random, city: City, trade: str, word: str | None = None) -> str:
    words = "华鑫恒盛源泰丰达兴隆宏信美佳康顺新创博远凯瑞金鼎中联汇通永诚德安"
    w = word or "".join(rng.choice(words) for _ in range(2))
    return f"{city.short}{w}{trade}有限公司"


def gtin13(rng: random.Random) -> str:
    body = "69" + f"{rng.randrange(10**10):010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def city_in_region(code: str) -> City:
    return CITY_BY_CODE.get(code) or CITY_BY_CODE["330100"]
