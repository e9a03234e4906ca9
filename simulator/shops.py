"""Shops: registration data, counterfeit rings and review-farming clusters."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from .catalog import BRANDS_BY_GROUP, GROUPS
from .entities import Shop
from .people import business_address, company_name, mobile, person_name
from .regions import CITY_BY_CODE, SHOP_CITY_WEIGHTS
from .rng import rng_for, stable_hash, weighted

if TYPE_CHECKING:
    from .world import World

_KINDS = (("旗舰店", 0.1), ("专营店", 0.25), ("专卖店", 0.1), ("企业店", 0.25), ("个人店", 0.3))
_WORDS = (
    "恒盛",
    "优选",
    "佳美",
    "鑫源",
    "小美",
    "乐享",
    "好物",
    "万家",
    "惠民",
    "宜居生活",
    "锦程",
    "天天",
    "星辰",
    "初心",
    "悦购",
    "品尚",
    "安心",
    "福满",
    "家和",
    "欢乐",
    "启航",
    "雅居",
    "优品汇",
    "诚信",
)
_GROUP_SHORT = {
    "appliance": "电器",
    "toy": "玩具",
    "kids": "母婴",
    "lighting": "照明",
    "digital": "数码",
    "ebike": "车品",
    "textile": "服饰",
    "cosmetic": "美妆",
    "kitchen": "家居",
}
_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(rng_seed: int, area: str) -> str:
    """An 18-character unified social credit code with a valid check character."""
    import random

    rng = random.Random(rng_seed)
    body = "91" + area + "".join(rng.choice(_CODE_CHARS) for _ in range(9))
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(_CODE_CHARS.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + _CODE_CHARS[(31 - total % 31) % 31]


def make_shop(world: World, platform: str, group: str, idx: int, ext: int) -> Shop:
    rng = rng_for(world.seed, "shop", platform, group, idx)
    kind = weighted(rng, _KINDS)
    brand = rng.choice(BRANDS_BY_GROUP[group])
    city = CITY_BY_CODE[weighted(rng, SHOP_CITY_WEIGHTS)]
    district = rng.choice(city.districts)[1]
    word = rng.choice(_WORDS)
    if kind == "旗舰店":
        name = f"{brand.zh}{rng.choice(('官方旗舰店', '旗舰店', _GROUP_SHORT[group] + '旗舰店'))}"
        brand_key: str | None = brand.key
    elif kind in ("专营店", "专卖店"):
        name = (
            f"{word}{_GROUP_SHORT[group]}{kind}"
            if rng.random() < 0.6
            else f"{brand.zh}{word}{kind}"
        )
        brand_key = brand.key if "专卖" in kind else None
    elif kind == "企业店":
        name = f"{city.short}{word}{GROUPS[group][:2]}企业店"
        brand_key = None
    else:
        name = rng.choice(
            (
                f"{word}的小店",
                f"{word}{_GROUP_SHORT[group]}店",
                f"{person_name(rng)[0]}姐{word}小铺",
                f"{word}百货",
                f"{word}生活馆",
            )
        )
        brand_key = None
    if platform == "pinjia" and rng.random() < 0.5:
        name = name.replace("小店", "小铺")
    company = company_name(rng, city, rng.choice(("电子商务", "商贸", "贸易", "科技")))
    contact = person_name(rng)
    phone = mobile(rng)
    address = business_address(rng, city)
    opened = world.clock - timedelta(days=rng.randint(120, 3000))
    score = round(rng.uniform(4.3, 4.95), 1)
    ring = None
    shared: tuple[str, ...] = ()
    planted = idx == 1 and group in (
        "digital",
        "appliance",
    )  # every world has at least one cross-platform ring
    if planted or rng.random() < 0.07:
        ring = (
            0 if planted else stable_hash(world.seed, "ring-of", platform, group, idx) % world.rings
        )
        attrs = world.ring_attributes(ring)
        shared = tuple(a for a in ("phone", "address", "contact") if rng.random() < 0.6) or (
            rng.choice(("phone", "address", "contact")),
        )
        if "phone" in shared:
            phone = attrs["phone"]
        if "address" in shared:
            address = attrs["address"]
            city = CITY_BY_CODE[attrs["city"]]
            district = next((d for _, d in city.districts if d in address), city.districts[0][1])
        if "contact" in shared:
            contact = attrs["contact"]
        if kind == "旗舰店":
            kind = "专营店"
            name = f"{word}{_GROUP_SHORT[group]}专营店"
            brand_key = None
    spam = None
    if ring is not None and rng.random() < 0.7:
        spam = f"ring-{ring}"
    elif rng.random() < 0.06:
        spam = f"shop-{platform}-{ext}"
    code = credit_code(rng.randrange(2**32), city.code)
    return Shop(
        platform,
        group,
        idx,
        ext,
        name,
        kind,
        brand_key,
        city,
        district,
        company,
        code,
        contact,
        phone,
        address,
        opened,
        score,
        ring,
        shared,
        spam,
    )
