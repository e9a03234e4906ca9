"""The complaint portal's records (黑猫投诉 style), computed arithmetically.

Complaint ``k`` (0 = oldest) is filed at a time that grows with ``k``, so
"newest first" is descending ``k``.  Status depends on the complaint's age
band and a seeded pattern of period 20, so lists filtered by status are
counted and paginated without scanning.
"""

from __future__ import annotations

import bisect
import random
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from .entities import Complaint, Step
from .people import email, home_address, id_number, mobile, person_name
from .regions import CITY_BY_CODE, SHOP_CITY_WEIGHTS
from .rng import rng_for, weighted

if TYPE_CHECKING:
    from .world import World

STATUSES = ("待分配", "处理中", "已回复", "已完成")
STATUS_CODES = {
    "pending": "待分配",
    "processing": "处理中",
    "replied": "已回复",
    "completed": "已完成",
}
SPAN = timedelta(days=540)
PATTERN = 20
_BAND_WEIGHTS = ((0.35, 0.35, 0.2, 0.1), (0.1, 0.3, 0.3, 0.3), (0.0, 0.05, 0.2, 0.75))
_BAND_AGES = (7, 30)  # days
KINDS = (
    ("hazard", 0.14),
    ("quality", 0.14),
    ("logistics", 0.18),
    ("service", 0.12),
    ("refund", 0.22),
    ("false_advertising", 0.1),
    ("counterfeit", 0.1),
)
HAZARD_SHORT = {
    "fire": ("冒烟起火", "起火", "冒烟并烧焦", "爆炸起火", "鼓包冒烟"),
    "electric_shock": ("漏电", "漏电致人被电击", "外壳带电"),
    "burn": ("严重发烫致烫伤", "外壳过热烫伤", "烫伤儿童"),
    "chemical_odour": ("异味刺鼻", "甲醛超标异味严重", "有刺鼻化学气味"),
    "choking_small_parts": ("小零件脱落", "零件脱落儿童险些误吞", "配件脱落存在窒息风险"),
    "cut_breakage": ("断裂", "破裂划伤", "突然断裂致人受伤"),
    "allergy_skin": ("致皮肤过敏", "使用后过敏红肿", "导致皮炎"),
    "performance": ("无法使用", "使用几天即损坏", "功能失效"),
}
_TITLES = {
    "hazard": (
        "{shop}销售的{noun}使用中{hz}，要求退款赔偿",
        "购买的{noun}{hz}，商家推诿不处理",
        "{noun}存在安全隐患：{hz}",
        "{platform}购买{noun}{hz}，要求三倍赔偿",
    ),
    "quality": (
        "{noun}{hz}，商家拒绝售后",
        "购买的{noun}质量有问题，申请退货被拒",
        "{noun}用了没几天就坏了",
    ),
    "logistics": (
        "{platform}订单迟迟不发货",
        "快递丢件，商家不处理",
        "物流显示签收但本人未收到货",
        "商家虚假发货，物流信息不更新",
    ),
    "service": (
        "客服态度恶劣，推诿责任",
        "商家承诺的赠品未兑现",
        "{shop}客服辱骂消费者",
        "售后电话永远打不通",
    ),
    "refund": (
        "申请退款{n}天未处理",
        "七天无理由退货被拒",
        "退货后迟迟不退款",
        "{shop}拒不退还定金",
    ),
    "false_advertising": (
        "商品宣传与实物严重不符",
        "虚假宣传，夸大功效",
        "价格欺诈，先涨价后打折",
        "页面标注的参数与实物不符",
    ),
    "counterfeit": (
        "{brand}{noun}疑似假货，要求假一赔十",
        "{shop}销售假冒{brand}产品",
        "买到假冒{brand}{noun}",
    ),
}
_PROBLEM = {
    "hazard": "安全隐患",
    "quality": "产品质量问题",
    "logistics": "物流问题",
    "service": "售后服务差",
    "refund": "退款问题",
    "false_advertising": "虚假宣传",
    "counterfeit": "假冒伪劣",
}
_DEMANDS = {
    "hazard": ("退款", "赔偿", "三倍赔偿", "退货退款"),
    "quality": ("退货退款", "换货", "维修"),
    "logistics": ("退款", "尽快发货", "赔偿"),
    "service": ("道歉", "退款"),
    "refund": ("退款",),
    "false_advertising": ("退款", "三倍赔偿", "依法处理"),
    "counterfeit": ("假一赔十", "退款", "依法处理"),
}
_RATING_TEXT = {
    5: "商家处理及时，满意",
    4: "处理结果基本满意",
    3: "一般，处理有点慢",
    2: "不太满意，拖了很久",
    1: "非常不满意，敷衍了事",
}


class ComplaintBook:
    def __init__(self, world: World) -> None:
        self.world = world
        self.count = max(60, world.products // 4)
        self.end = datetime.combine(world.clock, time(0)) - timedelta(hours=1)
        rng = rng_for(world.seed, "complaint-pattern")
        self.patterns: list[tuple[str, ...]] = []
        self.positions: list[dict[str, list[int]]] = []
        for weights in _BAND_WEIGHTS:
            pat: list[str] = []
            for s, w in zip(STATUSES, weights, strict=True):
                pat += [s] * round(w * PATTERN)
            pat = (pat + ["已完成"] * PATTERN)[:PATTERN]
            rng.shuffle(pat)
            self.patterns.append(tuple(pat))
            self.positions.append({s: [i for i, x in enumerate(pat) if x == s] for s in STATUSES})
        # band b covers k in [bounds[b], bounds[b-1]) with bounds[-1] == count
        self.bounds = [self._first_younger_than(timedelta(days=d)) for d in _BAND_AGES] + [0]

    # ----------------------------------------------------------------- time and status
    def filed(self, k: int) -> datetime:
        seconds = int(SPAN.total_seconds())
        step = max(1, seconds // self.count)
        jitter = (k * 2654435761) % step  # keeps filing times strictly ordered
        return (
            self.end
            - timedelta(seconds=((self.count - 1 - k) * seconds) // self.count)
            + timedelta(seconds=jitter - step + 1)
        )

    def _first_younger_than(self, age: timedelta) -> int:
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            if self.end - self.filed(mid) < age:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _bands(self) -> list[tuple[int, int, int]]:
        """(band, start, stop) newest first."""
        b0, b1 = self.bounds[0], self.bounds[1]
        return [(0, b0, self.count), (1, b1, b0), (2, 0, b1)]

    def status(self, k: int) -> str:
        band = 0 if k >= self.bounds[0] else (1 if k >= self.bounds[1] else 2)
        return self.patterns[band][k % PATTERN]

    def _below(self, band: int, status: str, x: int) -> int:
        pos = self.positions[band][status]
        return (x // PATTERN) * len(pos) + bisect.bisect_left(pos, x % PATTERN)

    def count_status(self, status: str | None) -> int:
        if status is None:
            return self.count
        return sum(
            self._below(b, status, hi) - self._below(b, status, lo) for b, lo, hi in self._bands()
        )

    def newest(self, status: str | None, i: int) -> int:
        """Index of the ``i``-th newest complaint (optionally with ``status``)."""
        if status is None:
            if not 0 <= i < self.count:
                raise IndexError(i)
            return self.count - 1 - i
        for b, lo, hi in self._bands():
            n = self._below(b, status, hi) - self._below(b, status, lo)
            if i < n:
                pos = self.positions[b][status]
                target = self._below(b, status, hi) - 1 - i
                cycle, r = divmod(target, len(pos))
                return cycle * PATTERN + pos[r]
            i -= n
        raise IndexError(i)

    # ----------------------------------------------------------------- records
    def number(self, k: int) -> str:
        return str(17370000000 + k * 37 + (k * 7919) % 37)

    def index_of(self, number: str) -> int | None:
        if not number.isdigit():
            return None
        k = (int(number) - 17370000000) // 37
        return k if 0 <= k < self.count and self.number(k) == number else None

    def complaint(self, k: int) -> Complaint:
        if not 0 <= k < self.count:
            raise IndexError(k)
        w = self.world
        rng = rng_for(w.seed, "complaint", k)
        filed = self.filed(k)
        kind = weighted(rng, KINDS)
        key, hazard = self._target(rng, kind, filed)
        if key is None:
            kind = "service"
            key = self._random_listing(rng)
        if kind == "counterfeit" and not w.listing(*key).counterfeit:
            kind = "false_advertising"
        if kind == "hazard" and hazard == "performance":
            kind = "quality"
        listing = w.listing(*key)
        product = listing.product
        from .world import PLATFORM_ZH

        platform_zh = PLATFORM_ZH[listing.platform]
        noun = rng.choice(product.category.nouns)
        hz_text = rng.choice(HAZARD_SHORT[hazard if kind == "hazard" and hazard else "performance"])
        title = rng.choice(_TITLES[kind]).format(
            shop=listing.shop.name,
            noun=noun,
            hz=hz_text,
            platform=platform_zh,
            brand=product.brand.zh,
            n=rng.randint(7, 40),
        )
        demand = "、".join(
            rng.sample(_DEMANDS[kind], k=min(len(_DEMANDS[kind]), rng.randint(1, 2)))
        )
        qty = 1 if rng.random() < 0.85 else 2
        amount = listing.price_fen * qty
        city = CITY_BY_CODE[weighted(rng, SHOP_CITY_WEIGHTS)]
        name = person_name(rng)
        status = self.status(k)
        order = f"{rng.randrange(10**17, 10**18)}"
        bought = filed - timedelta(days=rng.randint(3, 60))
        detail = _detail(
            rng, kind, bought, platform_zh, listing.shop.name, listing.title, order, hz_text, demand
        )
        steps = _steps(
            rng, status, filed, self.end + timedelta(hours=1), listing.shop.name, platform_zh
        )
        rating = rng.randint(1, 5) if status == "已完成" else None
        return Complaint(
            k,
            self.number(k),
            title,
            filed,
            status,
            kind,
            hazard if kind == "hazard" else None,
            key,
            listing.shop.name,
            platform_zh,
            _PROBLEM[kind],
            demand,
            amount,
            name,
            mobile(rng),
            home_address(rng, city),
            id_number(rng, city) if rng.random() < 0.25 else None,
            email(rng) if rng.random() < 0.2 else None,
            5_000_000 + rng.randrange(9 * 10**6),
            steps,
            rating,
            _RATING_TEXT[rating] if rating else None,
            detail,
        )

    def _random_listing(self, rng: random.Random) -> tuple[str, int, int]:
        pid = rng.randrange(self.world.products)
        return rng.choice(list(self.world.listings_of(pid)))

    def _target(
        self, rng: random.Random, kind: str, filed: datetime
    ) -> tuple[tuple[str, int, int] | None, str | None]:
        w = self.world
        if kind in ("hazard", "quality") and rng.random() < 0.85:
            for _ in range(400):
                pid = rng.randrange(w.products)
                d = w.defect(pid)
                if d is None or d.start >= filed.date():
                    continue
                if rng.random() < min(1.0, 0.15 + (filed.date() - d.start).days / 180):
                    key = rng.choice(list(w.listings_of(pid)))
                    return key, d.hazard
        if kind == "quality":
            return self._random_listing(rng), None
        if kind == "hazard":
            return None, None
        if kind == "counterfeit":
            for _ in range(60):
                key = self._random_listing(rng)
                if w.listing(*key).counterfeit:
                    return key, None
            return self._random_listing(rng), None
        return self._random_listing(rng), None


def _detail(
    rng: random.Random,
    kind: str,
    bought: datetime,
    platform: str,
    shop: str,
    title: str,
    order: str,
    hz: str,
    demand: str,
) -> str:
    event = {
        "hazard": f"使用过程中产品{hz}，险些造成人身伤害和财产损失",
        "quality": f"收货后使用没几天就出现{hz}的情况",
        "logistics": "付款后商家迟迟不发货，物流信息多日未更新",
        "service": "多次联系客服，客服推诿扯皮，至今没有解决",
        "refund": "申请退货退款后商家已签收退货却一直不退款",
        "false_advertising": "收到的商品与页面宣传严重不符，存在夸大宣传",
        "counterfeit": "收到的商品做工粗糙、包装简陋，经比对疑似假冒产品",
    }[kind]
    contact = rng.choice(
        ("联系商家多次无果", "平台客服介入后仍未解决", "商家一直拖延不予处理", "商家拒不承认")
    )
    return (
        f"本人于{bought:%Y年%m月%d日}在{platform}「{shop}」购买了「{title}」，订单号{order}。"
        f"{event}。{contact}。现要求{demand}，请平台和有关部门督促处理。"
    )


def _steps(
    rng: random.Random, status: str, filed: datetime, limit: datetime, shop: str, platform: str
) -> tuple[Step, ...]:
    def at(t: datetime) -> datetime:
        return min(t, limit - timedelta(minutes=1))

    steps = [Step(filed, "投诉人", "提交投诉，等待审核")]
    level = STATUSES.index(status)
    t = filed
    if level >= 1:
        t = at(t + timedelta(hours=rng.randint(2, 30)))
        steps.append(Step(t, "投诉平台", f"审核通过，已分配给商家「{shop}」处理"))
    if level >= 2:
        t = at(t + timedelta(hours=rng.randint(5, 120)))
        reply = rng.choice(
            (
                "您好，已联系您协商处理，请留意电话。",
                "已为您申请退款，请耐心等待。",
                "非常抱歉给您带来不便，已安排售后专员跟进。",
                f"{platform}客服已介入，会尽快给您答复。",
            )
        )
        steps.append(Step(t, shop, reply))
    if level >= 3:
        t = at(t + timedelta(hours=rng.randint(5, 200)))
        steps.append(Step(t, "投诉人", "确认投诉已完成"))
    return tuple(steps)
