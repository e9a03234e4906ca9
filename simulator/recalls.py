"""The recall registry: SAMR notices and overseas (CPSC, EU Safety Gate) records.

Recall ``k`` (0 = oldest) has a source from a fixed pattern of period 10.
Every fourth recall names a product of the world (through an invertible
permutation, so a product knows its recall without a scan); the rest name
products that are not sold here, some with a real brand and a model that
does not exist.
"""

from __future__ import annotations

import bisect
import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from .catalog import BRANDS_BY_GROUP, CATEGORIES, Category
from .entities import Recall
from .people import company_name, landline, person_name
from .regions import CITY_BY_CODE, SHOP_CITY_WEIGHTS
from .rng import rng_for, stable_hash, weighted

if TYPE_CHECKING:
    from .world import World

SOURCES = ("samr", "cpsc", "eu_safety_gate")
_PATTERN = (
    "samr",
    "cpsc",
    "samr",
    "eu_safety_gate",
    "samr",
    "cpsc",
    "samr",
    "eu_safety_gate",
    "samr",
    "samr",
)
SPAN_DAYS = 1095
EN_NAMES = {
    "electric_kettle": "Electric Kettles",
    "hair_dryer": "Hair Dryers",
    "electric_fan": "Electric Fans",
    "room_heater": "Space Heaters",
    "induction_cooker": "Induction Cooktops",
    "rice_cooker": "Rice Cookers",
    "electric_blanket": "Electric Blankets",
    "water_heater": "Electric Water Heaters",
    "microwave_oven": "Microwave Ovens",
    "vacuum_cleaner": "Vacuum Cleaners",
    "food_processor": "Blenders",
    "electric_iron": "Steam Irons",
    "plush_toy": "Plush Toys",
    "plastic_toy": "Toy Building Sets",
    "electric_toy": "Remote-Control Toy Cars",
    "children_clothing": "Children's Hoodies",
    "stroller": "Strollers",
    "child_car_seat": "Child Car Seats",
    "children_stationery": "Children's Pencil Cases",
    "baby_bottle": "Baby Bottles",
    "led_lamp": "LED Desk Lamps",
    "power_strip": "Power Strips",
    "laptop": "Laptop Computers",
    "monitor": "Computer Monitors",
    "power_bank": "Portable Power Banks",
    "lithium_battery": "Lithium-Ion Batteries",
    "phone_charger": "USB Chargers",
    "ebike_battery": "E-Bike Batteries",
    "ebike_helmet": "Bicycle Helmets",
    "bedding": "Duvet Covers",
    "underwear": "Underwear",
    "adult_clothing": "Jackets",
    "towel": "Bath Towels",
    "skin_cream": "Face Creams",
    "sunscreen": "Sunscreen Lotions",
    "hair_dye": "Hair Dye Kits",
    "lipstick": "Lipsticks",
    "plastic_food_container": "Food Storage Containers",
    "stainless_cookware": "Cooking Pots",
    "ceramic_tableware": "Ceramic Dinnerware Sets",
    "thermos_cup": "Insulated Tumblers",
}
HAZARD_ZH = {
    "fire": (
        "产品内部元件存在过热风险，极端情况下可能导致起火",
        "可能引发火灾，造成财产损失和人身伤害",
    ),
    "electric_shock": ("电源线与外壳之间绝缘不足，存在漏电隐患", "可能导致使用者触电"),
    "burn": ("产品表面温度过高，超出标准限值", "可能导致使用者烫伤"),
    "chemical_odour": ("产品材料中有害物质含量超出标准要求", "可能对人体健康造成危害"),
    "choking_small_parts": ("产品小零件易脱落", "儿童可能误吞导致窒息"),
    "cut_breakage": ("产品结构强度不足，使用中可能断裂", "可能造成使用者划伤或摔伤"),
    "allergy_skin": ("产品中含有致敏物质", "可能导致皮肤过敏或刺激"),
    "performance": ("产品关键性能不符合标准要求", "可能导致产品无法正常使用并引发安全事故"),
}
HAZARD_EN = {
    "fire": ("Fire", "The product can overheat, posing fire and burn hazards."),
    "electric_shock": (
        "Electric Shock",
        "The product's insulation can fail, posing an electric shock hazard.",
    ),
    "burn": ("Burn", "The product's surface can become excessively hot, posing a burn hazard."),
    "chemical_odour": (
        "Chemical",
        "The product contains levels of harmful substances that exceed limits.",
    ),
    "choking_small_parts": (
        "Choking",
        "Small parts can detach, posing a choking hazard to young children.",
    ),
    "cut_breakage": (
        "Laceration",
        "The product can break during use, posing laceration and fall hazards.",
    ),
    "allergy_skin": (
        "Skin Irritation",
        "The product contains allergens that can cause skin reactions.",
    ),
    "performance": ("Injury", "The product can fail during use, posing an injury hazard."),
}
FOREIGN_BRANDS = (
    "Kozyhome",
    "BrightNest",
    "Homelux",
    "Vantro",
    "Zephyra",
    "Lumicor",
    "Tinytots",
    "Pawpal",
    "Glowby",
    "Nordhaus",
    "Aquelle",
    "Sparkio",
    "Cuddlix",
    "Voltara",
    "Ecohaven",
    "Maxtrek",
)
EU_COUNTRIES = (
    ("Germany", 12),
    ("France", 11),
    ("Hungary", 13),
    ("Poland", 14),
    ("Spain", 17),
    ("Netherlands", 16),
    ("Italy", 15),
    ("Czechia", 10),
    ("Sweden", 18),
    ("Lithuania", 19),
    ("Cyprus", 20),
    ("Slovakia", 21),
)


def fmt_units(n: int) -> str:
    return f"About {n:,}"


class _Perm:
    """An invertible permutation of ``range(n)``."""

    def __init__(self, seed: int, n: int) -> None:
        self.n = n
        h = stable_hash(seed, "recall-perm", n)
        a = h % n or 1
        while _gcd(a, n) != 1:
            a += 1
        self.a, self.b = a % n if n > 1 else 0, (h >> 17) % n
        self.a_inv = pow(self.a, -1, n) if n > 1 else 0

    def fwd(self, x: int) -> int:
        return (x * self.a + self.b) % self.n if self.n > 1 else 0

    def inv(self, y: int) -> int:
        return ((y - self.b) * self.a_inv) % self.n if self.n > 1 else 0


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


class RecallRegistry:
    def __init__(self, world: World) -> None:
        self.world = world
        self.count = max(24, world.products // 40)
        self.perm = _Perm(world.seed, world.products)
        self.positions = {s: [i for i, x in enumerate(_PATTERN) if x == s] for s in SOURCES}

    # ----------------------------------------------------------------- arithmetic
    def source(self, k: int) -> str:
        return _PATTERN[k % len(_PATTERN)]

    def below(self, source: str, x: int) -> int:
        pos = self.positions[source]
        return (x // len(_PATTERN)) * len(pos) + bisect.bisect_left(pos, x % len(_PATTERN))

    def count_source(self, source: str) -> int:
        return self.below(source, self.count)

    def nth(self, source: str, i: int) -> int:
        """Index ``k`` of the ``i``-th (oldest first) recall from ``source``."""
        pos = self.positions[source]
        cycle, r = divmod(i, len(pos))
        return cycle * len(_PATTERN) + pos[r]

    def newest(self, source: str, i: int) -> int:
        return self.nth(source, self.count_source(source) - 1 - i)

    def published(self, k: int) -> date:
        return self.world.clock - timedelta(
            days=1 + ((self.count - 1 - k) * SPAN_DAYS) // self.count
        )

    def matched_product(self, k: int) -> int | None:
        if k % 4:
            return None
        m = k // 4
        return self.perm.fwd(m) if m < self.world.products else None

    def recall_of_product(self, pid: int) -> int | None:
        m = self.perm.inv(pid)
        k = 4 * m
        return k if k < self.count else None

    def number(self, k: int) -> str:
        src = self.source(k)
        local = self.below(src, k)
        pub = self.published(k)
        if src == "samr":
            return f"ZH-{pub.year}-{local + 1:05d}"
        if src == "cpsc":
            first = self._first_of_year(src, pub.year)
            return f"{pub.year % 100:02d}{local - first + 100:03d}"
        rng = rng_for(self.world.seed, "eu-country", k)
        code = rng.choice(EU_COUNTRIES)[1]
        return f"A{code}/{local + 1:05d}/{pub.year % 100:02d}"

    def _first_of_year(self, source: str, year: int) -> int:
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            if self.published(mid).year < year:
                lo = mid + 1
            else:
                hi = mid
        return self.below(source, lo)

    def index_of(self, source: str, number: str) -> int | None:
        try:
            if source == "samr":
                local = int(number.rsplit("-", 1)[1]) - 1
            elif source == "eu_safety_gate":
                local = int(number.split("/")[1]) - 1
            else:
                yy, seq = int(number[:2]), int(number[2:]) - 100
                year = 2000 + yy
                local = self._first_of_year("cpsc", year) + seq
        except (ValueError, IndexError):
            return None
        if not 0 <= local < self.count_source(source):
            return None
        k = self.nth(source, local)
        return k if k < self.count and self.number(k) == number else None

    # ----------------------------------------------------------------- records
    def recall(self, k: int) -> Recall:
        if not 0 <= k < self.count:
            raise IndexError(k)
        w = self.world
        rng = rng_for(w.seed, "recall", k)
        src = self.source(k)
        pub = self.published(k)
        pid = self.matched_product(k)
        if pid is not None:
            _, cat, brand, model, gtin, _, producer, city = w.product_core(pid)
            en_brand = brand.alias.title()
            city = city or CITY_BY_CODE[brand.city]
            haz = weighted(rng, [(h, 3.0 if i == 0 else 1.0) for i, h in enumerate(cat.hazards)])
            brand_name = brand.zh if src == "samr" else brand.alias
            models = [_respell(rng, model)] + _siblings(rng, model, rng.randint(0, 6))
            maker = producer or company_name(rng, CITY_BY_CODE[brand.city], "电器")
        else:
            cat = rng.choice(CATEGORIES)
            haz = weighted(rng, [(h, 3.0 if i == 0 else 1.0) for i, h in enumerate(cat.hazards)])
            if rng.random() < 0.4:
                b = rng.choice(BRANDS_BY_GROUP[cat.group])
                brand_name = b.zh if src == "samr" else b.alias
                en_brand = b.alias.title()
                prefix = b.model_prefix
            else:
                en_brand = rng.choice(FOREIGN_BRANDS)
                brand_name = (
                    en_brand if src != "samr" else rng.choice(("宏发", "益家", "佳乐美", "金牛"))
                )
                prefix = "".join(rng.choice("BCFGHKPRSTVW") for _ in range(2))
            base = f"{prefix}-{rng.randint(100, 999)}{rng.choice('LQUV')}"
            models = [base] + _siblings(rng, base, rng.randint(0, 8))
            city = CITY_BY_CODE[weighted(rng, SHOP_CITY_WEIGHTS)]
            maker = company_name(rng, city, "实业")
            gtin = None
        start = pub - timedelta(days=rng.randint(200, 700))
        batches = (f"{start:%Y年%m月}至{pub - timedelta(days=rng.randint(30, 150)):%Y年%m月}生产",)
        units = rng.choice((rng.randint(30, 900), rng.randint(1000, 60000)))
        country = (
            "China"
            if rng.random() < 0.85 or src == "samr"
            else rng.choice(("Vietnam", "India", "Turkey"))
        )
        cause, effect = HAZARD_ZH[haz]
        measures = rng.choice(
            ("免费更换同型号合格产品", "免费维修", "退货并全额退款", "免费更换电源适配器")
        )
        tel = (
            landline(rng, city)
            if rng.random() < 0.5
            else f"400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
        )
        trade = {
            "appliance": "Electric Appliance",
            "toy": "Toys",
            "kids": "Baby Products",
            "lighting": "Lighting",
            "digital": "Electronics Technology",
            "ebike": "Vehicle Parts",
            "textile": "Garments",
            "cosmetic": "Cosmetics",
            "kitchen": "Housewares",
        }[cat.group]
        extra = {
            "contact_person": person_name(rng),
            "importer": f"{rng.choice(FOREIGN_BRANDS)} Trading LLC",
            "producer_en": f"{en_brand} {trade} Co., Ltd.",
            "group": cat.group,
            "eu_country": rng_for(w.seed, "eu-country", k).choice(EU_COUNTRIES)[0],
            "barcode": gtin or "",
        }
        return Recall(
            k,
            src,
            self.number(k),
            pub,
            _product_name(cat, src),
            cat.zh,
            cat.code,
            brand_name,
            tuple(models),
            batches,
            maker,
            country,
            units,
            cause,
            haz,
            effect,
            measures,
            f"{tel}（工作日 9:00-17:00）",
            pid,
            extra,
        )


def _product_name(cat: Category, source: str) -> str:
    return cat.zh if source == "samr" else EN_NAMES[cat.code]


def _respell(rng: random.Random, model: str) -> str:
    r = rng.random()
    if r < 0.4:
        return model.replace("-", "")
    if r < 0.6:
        return model.lower()
    if r < 0.8:
        return model.replace("-", " ")
    return model + "/1"


def _siblings(rng: random.Random, model: str, n: int) -> list[str]:
    head = model.split("-")[0]
    # three digits and a letter products never use: siblings never collide with real models
    return [f"{head}-{rng.randint(100, 999)}{rng.choice('LQUV')}" for _ in range(n)]
