"""Titles, brand and model spellings and descriptions of listings."""

from __future__ import annotations

import random

from .catalog import BANNED_TERMS, Brand, Category
from .entities import Product

MARKETING = (
    "正品",
    "官方正品",
    "包邮",
    "新款",
    "2026新款",
    "家用",
    "热卖",
    "现货速发",
    "顺丰包邮",
    "厂家直销",
    "官方授权",
    "送礼",
    "品质保障",
    "旗舰款",
    "限时特惠",
    "爆款",
    "七天无理由",
    "实体店同款",
)
COUNTERFEIT_CLAIMS = (
    "原装正品",
    "假一赔十",
    "专柜正品",
    "官方正品 清仓",
    "工厂尾单 正品",
    "品牌正品 特价",
)
FULLWIDTH = {
    ord(c): ord(c) + 0xFEE0
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"
}
COLOURS = (
    "白色",
    "黑色",
    "灰色",
    "粉色",
    "蓝色",
    "绿色",
    "米白色",
    "浅灰",
    "香槟金",
    "雾霾蓝",
    "奶油黄",
)
EXEMPT_BY_GROUP = {
    "kitchen": ("最佳食用期", "第一次使用前请清洗", "最佳使用温度"),
    "appliance": ("一级能效", "第一次使用前请清洗"),
    "cosmetic": ("最佳使用温度",),
    "kids": ("第一次使用前请清洗",),
}


def brand_spelling(rng: random.Random, brand: Brand, counterfeit: bool) -> str:
    choices = [
        brand.zh,
        brand.alias,
        f"{brand.alias}/{brand.zh}",
        f"{brand.alias} {brand.zh}",
        f"{brand.zh}（{brand.alias}）",
        brand.pinyin,
        brand.alias.title(),
    ]
    text = rng.choice(choices)
    if counterfeit and rng.random() < 0.4:
        text = _misspell(rng, brand.alias)
    return text


def _misspell(rng: random.Random, alias: str) -> str:
    swaps = {"O": "0", "I": "l", "E": "F", "N": "M", "A": "4", "S": "5"}
    positions = [i for i, c in enumerate(alias) if c in swaps]
    if not positions:
        return alias + "S"
    i = rng.choice(positions)
    return alias[:i] + swaps[alias[i]] + alias[i + 1 :]


def model_spelling(rng: random.Random, model: str) -> str:
    r = rng.random()
    if r < 0.35:
        return model
    if r < 0.55:
        return model.replace("-", "")
    if r < 0.7:
        return model.lower()
    if r < 0.82:
        return model.replace("-", " ")
    if r < 0.9:
        return model.lower().replace("-", "")
    if r < 0.95:
        return model.translate(FULLWIDTH)
    return model + "型"


def make_title(
    rng: random.Random,
    product: Product,
    brand_text: str,
    model_text: str,
    counterfeit: bool,
    banned: str | None,
    exempt: str | None,
) -> str:
    cat = product.category
    parts: list[str] = []
    if rng.random() < 0.5:
        parts.append(rng.choice(MARKETING))
    parts.append(brand_text)
    feats = rng.sample(cat.features, k=min(len(cat.features), rng.randint(2, 4)))
    noun = rng.choice(cat.nouns)
    if rng.random() < 0.5:
        parts.extend(feats)
        parts.append(noun)
    else:
        parts.append(noun)
        parts.extend(feats)
    if rng.random() < 0.75:
        parts.insert(rng.randint(2, len(parts)), model_text)
    if counterfeit and rng.random() < 0.7:
        parts.append(rng.choice(COUNTERFEIT_CLAIMS))
    if banned:
        phrase = rng.choice(
            (f"{banned}品质", f"全网{banned}", f"{banned}", f"行业{banned}", f"{banned}推荐")
        )
        parts.insert(rng.randint(1, len(parts)), phrase)
    if exempt:
        parts.append(exempt)
    if rng.random() < 0.3:
        parts.append(rng.choice(MARKETING))
    sep = " " if rng.random() < 0.6 else ""
    return sep.join(parts)


def pick_banned(rng: random.Random) -> str:
    return rng.choice(BANNED_TERMS)


def pick_exempt(rng: random.Random, cat: Category) -> str | None:
    options = EXEMPT_BY_GROUP.get(cat.group)
    return rng.choice(options) if options else None


_DESC_OPEN = (
    "{brand}{noun}，{feat}设计，让生活更轻松。",
    "本品为{brand}出品的{noun}，{feat}，做工精细。",
    "{noun}采用{feat}工艺，品质可靠，适合家庭日常使用。",
    "选择{brand}，选择放心。{feat}，细节见真章。",
    "{feat}，{noun}的理想之选，外观简约大方。",
    "专为中国家庭设计的{noun}，{feat}，使用方便。",
)
_DESC_CARE = (
    "请仔细阅读说明书后使用。",
    "使用完毕请及时清洁并放置于干燥处。",
    "请将产品放置在儿童接触不到的地方。",
    "如有质量问题请联系客服，支持七天无理由退换。",
    "收到商品后请当面验货，如有破损请拒签。",
    "产品颜色因拍摄光线可能略有差异，以实物为准。",
    "全国联保，售后无忧。",
    "本店所有商品均开具发票。",
)
_DESC_EXEMPT = {
    "最佳食用期": "食物密封冷藏可延长最佳食用期，建议三天内食用完毕。",
    "第一次使用前请清洗": "第一次使用前请清洗并用清水煮沸一次。",
    "最佳使用温度": "最佳使用温度为5℃至35℃，避免阳光直射。",
    "一级能效": "本产品符合国家一级能效标准，节能省电。",
    "最佳赏味期": "开封后请在最佳赏味期内使用。",
}


def make_description(
    rng: random.Random, product: Product, brand_text: str, banned: str | None, exempt: str | None
) -> tuple[str, ...]:
    cat = product.category
    paras = [
        rng.choice(_DESC_OPEN).format(
            brand=brand_text, noun=rng.choice(cat.nouns), feat=rng.choice(cat.features)
        )
    ]
    paras.append(
        "产品特点：" + "、".join(rng.sample(cat.features, k=min(3, len(cat.features)))) + "。"
    )
    if banned:
        paras.append(
            rng.choice(
                (
                    f"品质{banned}，值得信赖。",
                    f"{banned}的选择，用过都说好。",
                    f"本品堪称{banned}，放心购买。",
                )
            )
        )
    if exempt:
        paras.append(_DESC_EXEMPT.get(exempt, exempt))
    paras.extend(rng.sample(_DESC_CARE, k=2))
    return tuple(paras)


def price_round(fen: int) -> int:
    """Shop-style prices: 89.00, 129.90, 59.90."""
    yuan = max(1, fen // 100)
    if yuan >= 100:
        yuan = (yuan // 10) * 10 + 9
        return yuan * 100
    return yuan * 100 + 90 if yuan % 2 else yuan * 100
