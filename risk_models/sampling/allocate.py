"""Allocate a monitoring plan's test purchases: a targeted stratum and an audit stratum.

GB/T 38358-2019 estimates the overall quality level of what is sold online; GB/T
37538-2019 asks that risky products be monitored first. A plan therefore has two parts:

* **targeted** (定向监测): products assessed ``high`` — staff-confirmed first, then
  pending ones — and then ``elevated`` ones, each by descending probability of failing,
  as far as the budget goes. A product whose assessment staff dismissed is never
  targeted. Every targeted unit has inclusion probability 1.
* **audit** (随机抽查): a stratified random sample of every other eligible product,
  strata category × platform, proportional allocation with at least one unit per
  stratum. Within a stratum the frame is ordered by purchase cost (then province, then
  product id) and sampled systematically with an integer random start, so each unit's
  inclusion probability is exactly ``n_h / N_h``, the sample spreads over the price
  range, and the dearest total any start can give is known in advance.

The unit is a product; each selected product is bought once, from one listing:

* targeted: the listing the assessment's evidence points at most (reviews, complaints,
  snapshots cited in its explanation), else the cheapest purchase, else the lowest id;
* audit: a listing drawn at random among the product's listings on its platform, so
  the estimate speaks for the product as it is offered, not for its cheapest seller.

Constraints, never exceeded whatever the seed:

* ``budget_purchases`` tasks in all;
* ``budget_fen``: each task costs ``units × price cap`` (units = sample + backup of its
  category; the task's price cap is the listing price plus ``price_headroom``, never
  above the plan's ``price_cap_fen``), so buyers who pay up to the cap still stay inside
  the budget. The audit is sized so that its worst case — the dearest total over all
  random starts — fits in the money left, so no draw can overrun it. When the money
  left cannot buy the planned audit size whatever the draw, the dearest products are
  left out of this plan's audit frame (the highest cost ceiling at which the planned
  size fits; ``cost_ceiling_fen`` and ``excluded_by_cost`` in the summary); only when no
  ceiling fits is the audit made smaller;
* at most ``per_shop`` tasks per shop and ``per_brand`` per brand (brand compared
  case-insensitively; a product without a brand is not capped by brand);
* listings priced above ``price_cap_fen`` are never bought.

Products that the targeted stratum's caps leave without a purchasable listing are out
of the audit frame (counted in the summary). If the caps bind *between* audit draws, the
drawn unit is replaced by the next feasible unit of its stratum frame that costs no
more; the summary counts such replacements (``audit_design.replaced``), and inclusion
probabilities are then nominal. The default caps rarely bind for the audit.

Everything is a function of the candidates and the seed (a NumPy ``Generator``); the
input row order does not matter.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

TARGETED = "targeted"
AUDIT = "audit"
LEVEL_RANK: dict[str, int] = {"high": 4, "elevated": 3, "moderate": 2, "low": 1}
TARGETED_LEVELS: tuple[str, ...] = ("high", "elevated")
DISMISSED = "dismissed"
CONFIRMED = "confirmed"

DEFAULT_AUDIT_SHARE = 0.3
DEFAULT_PER_SHOP = 3
DEFAULT_PER_BRAND = 5
DEFAULT_PRICE_HEADROOM = 0.10

REQUIRED_COLUMNS: tuple[str, ...] = (
    "product_id",
    "listing_id",
    "platform",
    "category_code",
    "price_fen",
    "units",
)
OPTIONAL_COLUMNS: dict[str, Any] = {
    "shop_id": None,
    "brand": None,
    "level": None,
    "probability": None,
    "review_status": "pending",
    "region_code": None,
    "evidence": 0.0,
}
TASK_COLUMNS: tuple[str, ...] = (
    "order",
    "stratum",
    "stratum_key",
    "inclusion_probability",
    "product_id",
    "listing_id",
    "shop_id",
    "platform",
    "category_code",
    "brand",
    "region_code",
    "level",
    "probability",
    "review_status",
    "price_fen",
    "price_cap_fen",
    "units",
    "cost_fen",
    "evidence",
)
STRATA_COLUMNS: tuple[str, ...] = (
    "stratum_key",
    "population",
    "allocated",
    "selected",
    "inclusion_probability",
)
# How far the audit strata were collapsed: the sample must have at least one unit in
# every stratum, so with fewer units than category × platform strata the design falls
# back to platform strata, and below that to one stratum.
STRATIFICATIONS: tuple[str, ...] = ("category×platform", "platform", "overall")


@dataclass(frozen=True)
class PlanParams:
    """What a plan may spend and how it is shaped.

    Parameters
    ----------
    budget_purchases
        Most test purchases (tasks) in the plan.
    seed
        Seed of the random draws; the same candidates and seed give the same plan.
    budget_fen
        Most money the plan may commit, in fen (``None``: no money limit).
    per_shop, per_brand
        Most tasks per shop and per brand (``None``: no cap).
    price_cap_fen
        Highest unit price a buyer may pay (``None``: no cap).
    price_headroom
        Share above the listed price a buyer may pay when the price moved (the task's
        price cap), never above ``price_cap_fen``.
    audit_share
        Share of ``budget_purchases`` kept for the audit stratum; purchases the
        targeted stratum leaves unused go to the audit as well.
    audit_size
        Exact audit size instead of a share (at most what the targeted part leaves).
    platforms, categories
        Scope: only these platforms (listings) and categories (products).
    """

    budget_purchases: int
    seed: int
    budget_fen: int | None = None
    per_shop: int | None = DEFAULT_PER_SHOP
    per_brand: int | None = DEFAULT_PER_BRAND
    price_cap_fen: int | None = None
    price_headroom: float = DEFAULT_PRICE_HEADROOM
    audit_share: float = DEFAULT_AUDIT_SHARE
    audit_size: int | None = None
    platforms: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        def nonneg(name: str, value: Any, *, optional: bool = True) -> None:
            if value is None and optional:
                return
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")

        nonneg("budget_purchases", self.budget_purchases, optional=False)
        nonneg("seed", self.seed, optional=False)
        for name in ("budget_fen", "per_shop", "per_brand", "price_cap_fen", "audit_size"):
            nonneg(name, getattr(self, name))
        if self.per_shop == 0 or self.per_brand == 0:
            raise ValueError("per_shop and per_brand must be at least 1 (or None for no cap)")
        if not 0.0 <= float(self.audit_share) <= 1.0:
            raise ValueError(f"audit_share must be within [0, 1], got {self.audit_share!r}")
        if not 0.0 <= float(self.price_headroom) <= 1.0:
            raise ValueError(f"price_headroom must be within [0, 1], got {self.price_headroom!r}")
        for name in ("platforms", "categories"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(sorted({str(v) for v in value})))

    def as_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready values."""
        d = asdict(self)
        for name in ("platforms", "categories"):
            if d[name] is not None:
                d[name] = list(d[name])
        return d


@dataclass(frozen=True)
class Allocation:
    """A planned sample.

    Attributes
    ----------
    params
        The parameters it was made with.
    tasks
        One row per purchase (:data:`TASK_COLUMNS`): targeted first in priority order,
        then the audit by stratum; ``order`` numbers them from 1.
    strata
        One row per audit stratum (:data:`STRATA_COLUMNS`): frame size ``N_h``,
        allocated and selected ``n_h``, and ``n_h / N_h``.
    skipped
        Targeted candidates (high or elevated, not dismissed) that are not in the
        targeted stratum, with the reason: ``budget_purchases``, ``budget_fen``,
        ``shop_cap``, ``brand_cap``.
    summary
        Counts for people and for ``monitoring_plans.summary`` (JSON-ready).
    """

    params: PlanParams
    tasks: pd.DataFrame
    strata: pd.DataFrame
    skipped: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


class _Offer(NamedTuple):
    listing_id: int
    shop_key: Any
    shop_id: int | None
    platform: str
    region_code: str | None
    price_fen: int
    cap_fen: int
    cost_fen: int
    evidence: float


class _Unit(NamedTuple):
    product_id: int
    category_code: str
    brand: str | None
    brand_key: str | None
    level: str | None
    probability: float | None
    review_status: str
    units: int
    offers: tuple[_Offer, ...]


class _Book:
    """Running totals of what the plan has committed: purchases, fen, shops, brands."""

    def __init__(self, params: PlanParams) -> None:
        self.params = params
        self.purchases = 0
        self.fen = 0
        self.shops: Counter[Any] = Counter()
        self.brands: Counter[str] = Counter()
        self.products: set[int] = set()

    def shop_open(self, offer: _Offer) -> bool:
        cap = self.params.per_shop
        return cap is None or self.shops[offer.shop_key] < cap

    def brand_open(self, unit: _Unit) -> bool:
        cap = self.params.per_brand
        return cap is None or unit.brand_key is None or self.brands[unit.brand_key] < cap

    def take(self, unit: _Unit, offer: _Offer) -> None:
        self.purchases += 1
        self.fen += offer.cost_fen
        self.shops[offer.shop_key] += 1
        if unit.brand_key is not None:
            self.brands[unit.brand_key] += 1
        self.products.add(unit.product_id)


# --------------------------------------------------------------------------- entry


def plan(
    candidates: pd.DataFrame,
    *,
    budget_purchases: int,
    seed: int,
    budget_fen: int | None = None,
    per_shop: int | None = DEFAULT_PER_SHOP,
    per_brand: int | None = DEFAULT_PER_BRAND,
    price_cap_fen: int | None = None,
    price_headroom: float = DEFAULT_PRICE_HEADROOM,
    audit_share: float = DEFAULT_AUDIT_SHARE,
    audit_size: int | None = None,
    platforms: Iterable[str] | None = None,
    categories: Iterable[str] | None = None,
) -> Allocation:
    """Plan the purchases of one monitoring period from ``candidates``.

    ``candidates`` has one row per listing of a candidate product (product columns
    repeated on each of its listings): required :data:`REQUIRED_COLUMNS` —
    ``units`` is the purchase quantity (sample + backup units of the category) —
    and optionally :data:`OPTIONAL_COLUMNS` (``level``, ``probability`` and
    ``review_status`` of the newest assessment, ``brand``, ``shop_id``, the shop's
    ``region_code``, and the listing's ``evidence`` weight). See :class:`PlanParams`
    for the other arguments.

    Examples
    --------
    >>> rows = [
    ...     {"product_id": p, "listing_id": 10 * p, "shop_id": p, "platform": "youpin",
    ...      "category_code": "electric_kettle", "price_fen": 9900, "units": 4,
    ...      "level": "high" if p == 1 else "low", "probability": 0.5 if p == 1 else 0.01}
    ...     for p in range(1, 21)
    ... ]
    >>> alloc = plan(pd.DataFrame(rows), budget_purchases=4, seed=7)
    >>> alloc.tasks.loc[0, "stratum"], int(alloc.tasks.loc[0, "product_id"])
    ('targeted', 1)
    >>> alloc.tasks["stratum"].value_counts().to_dict()
    {'audit': 3, 'targeted': 1}
    >>> alloc.strata.to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'stratum_key': 'electric_kettle|youpin', 'population': 19, 'allocated': 3,
      'selected': 3, 'inclusion_probability': 0.15789473684210525}]
    """
    params = PlanParams(
        budget_purchases=budget_purchases,
        seed=seed,
        budget_fen=budget_fen,
        per_shop=per_shop,
        per_brand=per_brand,
        price_cap_fen=price_cap_fen,
        price_headroom=price_headroom,
        audit_share=audit_share,
        audit_size=audit_size,
        platforms=None if platforms is None else tuple(platforms),
        categories=None if categories is None else tuple(categories),
    )
    return allocate(candidates, params)


def allocate(candidates: pd.DataFrame, params: PlanParams) -> Allocation:
    """:func:`plan` with the parameters already gathered in a :class:`PlanParams`."""
    units, excluded = _units(candidates, params)
    book = _Book(params)
    n = params.budget_purchases
    platforms = sorted({o.platform for u in units for o in u.offers})
    if params.audit_size is not None:
        audit_goal = min(params.audit_size, n)
    else:
        audit_goal = min(n, round(params.audit_share * n))
        # At least one audit unit per platform in scope, when the budget allows.
        audit_goal = max(audit_goal, min(len(platforms), n))
    targeted_fen = None
    if params.budget_fen is not None:
        reserve = params.budget_fen * audit_goal // n if n else 0
        targeted_fen = params.budget_fen - reserve
    targeted, skipped = _targeted(units, book, limit=n - audit_goal, fen_limit=targeted_fen)
    audit_room = n - book.purchases
    if params.audit_size is not None:
        audit_room = min(audit_room, params.audit_size)
    rng = np.random.Generator(np.random.PCG64(params.seed))
    audit, strata, audit_notes = _audit(units, book, audit_room, audit_goal, rng)
    rows = targeted + audit
    tasks = _task_frame(rows)
    summary = _summary(params, units, excluded, rows, skipped, strata, audit_notes, platforms)
    return Allocation(
        params=params,
        tasks=tasks,
        strata=pd.DataFrame(strata, columns=list(STRATA_COLUMNS)),
        skipped=pd.DataFrame(skipped, columns=["product_id", "level", "reason"]),
        summary=summary,
    )


# ---------------------------------------------------------------------- candidates


def _units(candidates: pd.DataFrame, params: PlanParams) -> tuple[list[_Unit], Counter[str]]:
    """Products with their purchasable listings, in product id order; and the count of
    products left out by reason (``no_category``, ``out_of_scope``, ``no_price``,
    ``over_price_cap``). Product columns are read from the product's first listing (by
    listing id); a listing id given twice counts once."""
    missing = [c for c in REQUIRED_COLUMNS if c not in candidates.columns]
    if missing:
        raise ValueError(f"candidates lack the column(s) {', '.join(missing)}")
    size = len(candidates)
    columns = {
        c: _objects(candidates[c]) if c in candidates.columns else [default] * size
        for c, default in (*((c, None) for c in REQUIRED_COLUMNS), *OPTIONAL_COLUMNS.items())
    }
    pids = [_int(v) for v in columns["product_id"]]
    lids = [_int(v) for v in columns["listing_id"]]
    order = sorted(
        (i for i in range(size) if pids[i] is not None and lids[i] is not None),
        key=lambda i: (pids[i], lids[i]),
    )
    cap = params.price_cap_fen
    headroom_bp = round(float(params.price_headroom) * 10_000)
    scope_p = set(params.platforms) if params.platforms is not None else None
    scope_c = set(params.categories) if params.categories is not None else None
    excluded: Counter[str] = Counter()
    units: list[_Unit] = []
    seen: set[int] = set()
    k = 0
    while k < len(order):
        head = order[k]
        pid = pids[head]
        rows = []
        while k < len(order) and pids[order[k]] == pid:
            if lids[order[k]] not in seen:
                seen.add(lids[order[k]])
                rows.append(order[k])
            k += 1
        if not rows:
            continue
        head = rows[0]
        category = _text(columns["category_code"][head])
        count = _int(columns["units"][head])
        if category is None or count is None or count < 1:
            excluded["no_category"] += 1
            continue
        if scope_c is not None and category not in scope_c:
            excluded["out_of_scope"] += 1
            continue
        offers: list[_Offer] = []
        scoped = priced = 0
        for i in rows:
            platform = _text(columns["platform"][i])
            if platform is None or (scope_p is not None and platform not in scope_p):
                continue
            scoped += 1
            price = _int(columns["price_fen"][i])
            if price is None or price <= 0:
                continue
            priced += 1
            if cap is not None and price > cap:
                continue
            task_cap = price + (price * headroom_bp + 9_999) // 10_000
            if cap is not None:
                task_cap = min(task_cap, cap)
            shop = _int(columns["shop_id"][i])
            offers.append(
                _Offer(
                    listing_id=lids[i],
                    shop_key=shop if shop is not None else f"listing:{lids[i]}",
                    shop_id=shop,
                    platform=platform,
                    region_code=_text(columns["region_code"][i]),
                    price_fen=price,
                    cap_fen=task_cap,
                    cost_fen=task_cap * count,
                    evidence=_float(columns["evidence"][i]) or 0.0,
                )
            )
        if not scoped:
            excluded["out_of_scope"] += 1
            continue
        if not priced:
            excluded["no_price"] += 1
            continue
        if not offers:
            excluded["over_price_cap"] += 1
            continue
        brand = _text(columns["brand"][head])
        level = _text(columns["level"][head])
        units.append(
            _Unit(
                product_id=pid,
                category_code=category,
                brand=brand,
                brand_key=brand.casefold() if brand else None,
                level=level if level in LEVEL_RANK else None,
                probability=_float(columns["probability"][head]),
                review_status=_text(columns["review_status"][head]) or "pending",
                units=count,
                offers=tuple(offers),
            )
        )
    return units, excluded


def _objects(series: pd.Series) -> list[Any]:
    """The column as Python objects, missing values (None, NaN, NA) as ``None``."""
    return [
        None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v
        for v in series.tolist()
    ]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    if value is None:
        return None
    try:
        number = float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        return None
    if isinstance(number, float):
        if math.isnan(number) or math.isinf(number) or number != int(number):
            return None
        return int(number)
    return int(number)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


# ------------------------------------------------------------------------ targeted


def _priority(unit: _Unit) -> tuple[Any, ...]:
    return (
        -LEVEL_RANK.get(unit.level or "", 0),
        unit.review_status != CONFIRMED,
        -(unit.probability or 0.0),
        unit.product_id,
    )


def _targeted(
    units: Sequence[_Unit], book: _Book, *, limit: int, fen_limit: int | None
) -> tuple[list[dict[str, Any]], list[tuple[int, str | None, str]]]:
    """Walk the targeted candidates in priority order and take what the caps allow."""
    pool = [u for u in units if u.level in TARGETED_LEVELS and u.review_status != DISMISSED]
    pool.sort(key=_priority)
    rows: list[dict[str, Any]] = []
    skipped: list[tuple[int, str | None, str]] = []
    for unit in pool:
        if book.purchases >= limit:
            skipped.append((unit.product_id, unit.level, "budget_purchases"))
            continue
        if not book.brand_open(unit):
            skipped.append((unit.product_id, unit.level, "brand_cap"))
            continue
        open_offers = [o for o in unit.offers if book.shop_open(o)]
        if not open_offers:
            skipped.append((unit.product_id, unit.level, "shop_cap"))
            continue
        if fen_limit is not None:
            open_offers = [o for o in open_offers if book.fen + o.cost_fen <= fen_limit]
            if not open_offers:
                skipped.append((unit.product_id, unit.level, "budget_fen"))
                continue
        offer = min(open_offers, key=lambda o: (-o.evidence, o.cost_fen, o.listing_id))
        book.take(unit, offer)
        rows.append(_row(unit, offer, TARGETED, unit.level or "", 1.0))
    return rows, skipped


def _row(unit: _Unit, offer: _Offer, stratum: str, key: str, pi: float) -> dict[str, Any]:
    return {
        "stratum": stratum,
        "stratum_key": key,
        "inclusion_probability": pi,
        "product_id": unit.product_id,
        "listing_id": offer.listing_id,
        "shop_id": offer.shop_id,
        "platform": offer.platform,
        "category_code": unit.category_code,
        "brand": unit.brand,
        "region_code": offer.region_code,
        "level": unit.level,
        "probability": unit.probability,
        "review_status": unit.review_status,
        "price_fen": offer.price_fen,
        "price_cap_fen": offer.cap_fen,
        "units": unit.units,
        "cost_fen": offer.cost_fen,
        "evidence": offer.evidence,
    }


# --------------------------------------------------------------------------- audit


class _FrameUnit(NamedTuple):
    unit: _Unit
    platform: str
    province: str
    offers: tuple[_Offer, ...]
    worst_fen: int


def _audit_frame(units: Sequence[_Unit], book: _Book) -> tuple[list[_FrameUnit], int]:
    """Every eligible product not yet planned that the caps still allow, on its home
    platform (the one with most purchasable listings; ties by name)."""
    frame: list[_FrameUnit] = []
    capped = 0
    for unit in units:
        if unit.product_id in book.products:
            continue
        offers = [o for o in unit.offers if book.shop_open(o)]
        if not book.brand_open(unit) or not offers:
            capped += 1
            continue
        platform = _most_common(o.platform for o in offers)
        home = tuple(o for o in offers if o.platform == platform)
        province = _most_common((o.region_code or "")[:2] for o in home)
        worst = max(o.cost_fen for o in home)
        frame.append(_FrameUnit(unit, platform, province, home, worst))
    return frame, capped


def _most_common(values: Iterable[str]) -> str:
    """The most frequent value; ties go to the first in sort order."""
    items = list(values)
    if len(items) == 1 or all(v == items[0] for v in items):
        return items[0]
    counts = Counter(items)
    return min(counts, key=lambda v: (-counts[v], v))


def _stratum_key(item: _FrameUnit, level: int) -> str:
    if level == 0:
        return f"{item.unit.category_code}|{item.platform}"
    if level == 1:
        return f"*|{item.platform}"
    return "*"


def proportional_allocation(sizes: Mapping[str, int], n: int, minimum: int = 1) -> dict[str, int]:
    """Integer proportional allocation of ``n`` units to strata of ``sizes``.

    Each stratum gets at least ``minimum`` (when ``n`` allows it for all) and at most
    its size; the rest goes, one unit at a time, to the stratum furthest below its
    proportional share ``n · N_h / N`` (ties by stratum key).

    >>> proportional_allocation({"a": 50, "b": 30, "c": 2}, 10)
    {'a': 6, 'b': 3, 'c': 1}
    >>> proportional_allocation({"a": 3, "b": 1}, 10)
    {'a': 3, 'b': 1}
    """
    keys = sorted(sizes)
    total = sum(sizes.values())
    if n >= total:
        return {k: int(sizes[k]) for k in keys}
    floor = minimum if n >= minimum * len(keys) else 0
    alloc = {k: min(floor, int(sizes[k])) for k in keys}
    left = n - sum(alloc.values())
    heap = [(-(n * sizes[k] / total - alloc[k]), k) for k in keys if alloc[k] < sizes[k]]
    heapq.heapify(heap)
    while left > 0 and heap:
        _, k = heapq.heappop(heap)
        alloc[k] += 1
        left -= 1
        if alloc[k] < sizes[k]:
            heapq.heappush(heap, (-(n * sizes[k] / total - alloc[k]), k))
    return alloc


@dataclass(frozen=True)
class _Layout:
    """The audit frame cut into strata at one stratification level, each stratum in
    draw order (purchase cost, then province, then product id) with its costs."""

    level: int
    members: dict[str, list[_FrameUnit]]
    costs: dict[str, np.ndarray]


def _layouts(frame: Sequence[_FrameUnit]) -> list[_Layout]:
    out = []
    for level in range(len(STRATIFICATIONS)):
        members: dict[str, list[_FrameUnit]] = {}
        for item in frame:
            members.setdefault(_stratum_key(item, level), []).append(item)
        for items in members.values():
            items.sort(key=lambda it: (it.worst_fen, it.province, it.unit.product_id))
        costs = {
            k: np.fromiter((it.worst_fen for it in v), dtype=np.int64, count=len(v))
            for k, v in members.items()
        }
        out.append(_Layout(level, members, costs))
    return out


def _design(layouts: Sequence[_Layout], n: int) -> tuple[_Layout, dict[str, int]]:
    """The finest stratification with at least one unit per stratum, and its allocation."""
    for layout in layouts:
        if n >= len(layout.members) or layout is layouts[-1]:
            sizes = {k: len(v) for k, v in layout.members.items()}
            return layout, proportional_allocation(sizes, n)
    raise AssertionError("unreachable")


def systematic_selection(size: int, n: int, start: int) -> np.ndarray:
    """Positions taken by a systematic draw of ``n`` of ``size`` units with integer
    random start ``start`` in ``[0, size)``: unit i is taken when
    ``(i·n + start) mod size ≥ size − n``. Over a uniform start every unit has
    probability exactly ``n / size``.

    >>> systematic_selection(10, 3, 0).tolist(), systematic_selection(10, 3, 9).tolist()
    ([3, 6, 9], [0, 3, 6])
    """
    return np.flatnonzero((np.arange(size, dtype=np.int64) * n + start) % size >= size - n)


def systematic_worst_case(costs: np.ndarray, n: int) -> int:
    """The dearest total a systematic draw of ``n`` units from ``costs`` (in draw order)
    can have, over every random start.

    Unit i is taken for the starts in a cyclic run of length ``n`` beginning at
    ``(size − n − i·n mod size) mod size``, so the totals of all starts come from one
    difference array.

    >>> systematic_worst_case(np.array([1, 2, 3, 10, 11, 12]), 2)
    15
    """
    size = len(costs)
    if n <= 0 or size == 0:
        return 0
    if n >= size:
        return int(costs.sum())
    i = np.arange(size, dtype=np.int64)
    first = (size - n - (i * n) % size) % size
    last = first + n
    diff = np.zeros(size + 1, dtype=np.int64)
    np.add.at(diff, first, costs)
    np.add.at(diff, np.minimum(last, size), -costs)
    wraps = last > size
    np.add.at(diff, np.zeros(int(wraps.sum()), dtype=np.int64), costs[wraps])
    np.add.at(diff, last[wraps] - size, -costs[wraps])
    return int(np.cumsum(diff[:size]).max())


def _worst_case(layout: _Layout, alloc: Mapping[str, int]) -> int:
    """The most the allocation can cost, whichever random starts the draw takes."""
    return sum(systematic_worst_case(layout.costs[k], n) for k, n in alloc.items() if n)


def _largest_fitting(layouts: Sequence[_Layout], goal: int, fen: int | None) -> int:
    """The largest audit size up to ``goal`` whose worst case fits in ``fen``."""
    if fen is None or goal <= 0:
        return max(goal, 0)

    def fits(n: int) -> bool:
        return _worst_case(*_design(layouts, n)) <= fen

    if fits(goal):
        return goal
    lo, hi = 0, goal - 1  # fits(0) holds
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    while lo > 0 and not fits(lo):  # the worst case is nearly, not strictly, monotone
        lo -= 1
    return lo


def _audit(
    units: Sequence[_Unit], book: _Book, room: int, planned: int, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], list[tuple[str, int, int, int, float]], dict[str, Any]]:
    """Draw the audit: at most ``room`` units, ``planned`` of them kept even when the
    money left means leaving the dearest products out of the frame."""
    frame, capped = _audit_frame(units, book)
    params = book.params
    goal = min(room, len(frame))
    notes: dict[str, Any] = {
        "frame": len(frame),
        "excluded_by_caps": capped,
        "excluded_by_cost": 0,
        "cost_ceiling_fen": None,
        "goal": max(room, 0),
        "stratification": None,
        "replaced": 0,
        "short": 0,
        "reserved_fen": 0,
    }
    if goal <= 0:
        return [], [], notes
    fen_left = None if params.budget_fen is None else params.budget_fen - book.fen
    layouts = _layouts(frame)
    n = _largest_fitting(layouts, goal, fen_left)
    wanted = min(goal, max(planned, 1))
    if fen_left is not None and n < wanted:
        # The money left cannot buy the planned audit whatever the draw: leave the
        # dearest products out of this plan's audit frame, as few as make it fit.
        ceiling = None
        while wanted > n:
            ceiling = _cost_ceiling(frame, wanted, fen_left)
            if ceiling is not None:
                break
            wanted -= 1
        if ceiling is not None:
            kept = [item for item in frame if item.worst_fen <= ceiling]
            notes["cost_ceiling_fen"] = ceiling
            notes["excluded_by_cost"] = len(frame) - len(kept)
            notes["frame"] = len(kept)
            frame = kept
            layouts = _layouts(frame)
            n = _largest_fitting(layouts, min(goal, len(frame)), fen_left)
    if n <= 0:
        notes["short_of_fen"] = True
        return [], [], notes
    layout, alloc = _design(layouts, n)
    notes["stratification"] = STRATIFICATIONS[layout.level]
    notes["reserved_fen"] = _worst_case(layout, alloc)
    rows: list[dict[str, Any]] = []
    table: list[tuple[str, int, int, int, float]] = []
    for key in sorted(layout.members):
        ordered = layout.members[key]
        k = alloc.get(key, 0)
        big_n = len(ordered)
        if k == 0:
            table.append((key, big_n, 0, 0, 0.0))
            continue
        chosen = systematic_selection(big_n, k, int(rng.integers(big_n))).tolist()
        picked, replaced = _take_stratum(ordered, chosen, book, rng)
        notes["replaced"] += replaced
        notes["short"] += k - len(picked)
        pi = len(picked) / big_n
        for item, offer in picked:
            rows.append(_row(item.unit, offer, AUDIT, key, pi))
        table.append((key, big_n, k, len(picked), pi))
    return rows, table, notes


def _cost_ceiling(frame: Sequence[_FrameUnit], n: int, fen: int) -> int | None:
    """The highest purchase cost at which a frame cut there still holds ``n`` units whose
    worst-case draw fits in ``fen``; ``None`` when no cut does."""

    def fits(ceiling: int) -> bool:
        kept = [item for item in frame if item.worst_fen <= ceiling]
        if len(kept) < n:
            return False
        return _worst_case(*_design(_layouts(kept), n)) <= fen

    costs = sorted({item.worst_fen for item in frame})
    lo, hi, best = 0, len(costs) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(costs[mid]):
            best, lo = costs[mid], mid + 1
        else:
            hi = mid - 1
    return best


def _take_stratum(
    ordered: Sequence[_FrameUnit], chosen: list[int], book: _Book, rng: np.random.Generator
) -> tuple[list[tuple[_FrameUnit, _Offer]], int]:
    """Buy the systematically chosen units. One the caps now forbid is replaced by the
    next feasible unit of the ordered frame (wrapping round) that costs no more, so the
    reserved worst case still holds."""
    size = len(ordered)
    used = set(chosen)
    tried: set[int] = set()
    picked: list[tuple[_FrameUnit, _Offer]] = []
    replaced = 0
    for position in chosen:
        candidate = position
        ceiling = ordered[position].worst_fen
        while True:
            tried.add(candidate)
            item = ordered[candidate]
            offers = (
                [o for o in item.offers if book.shop_open(o)]
                if book.brand_open(item.unit) and item.worst_fen <= ceiling
                else []
            )
            if offers:
                offer = offers[int(rng.integers(len(offers)))] if len(offers) > 1 else offers[0]
                book.take(item.unit, offer)
                picked.append((item, offer))
                if candidate != position:
                    replaced += 1
                break
            nxt = _next_free(candidate, size, used, tried)
            if nxt is None:
                break
            used.add(nxt)
            candidate = nxt
    return picked, replaced


def _next_free(position: int, size: int, used: set[int], tried: set[int]) -> int | None:
    for step in range(1, size):
        j = (position + step) % size
        if j not in used and j not in tried:
            return j
    return None


# ------------------------------------------------------------------------ results


_DTYPES: dict[str, str] = {
    "order": "int64",
    "stratum": "object",
    "stratum_key": "object",
    "inclusion_probability": "float64",
    "product_id": "int64",
    "listing_id": "int64",
    "shop_id": "Int64",
    "platform": "object",
    "category_code": "object",
    "brand": "object",
    "region_code": "object",
    "level": "object",
    "probability": "float64",
    "review_status": "object",
    "price_fen": "int64",
    "price_cap_fen": "int64",
    "units": "int64",
    "cost_fen": "int64",
    "evidence": "float64",
}


def _task_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    data: dict[str, Any] = {"order": list(range(1, len(rows) + 1))}
    for column in TASK_COLUMNS[1:]:
        values = [r[column] for r in rows]
        if _DTYPES[column] == "float64":
            values = [np.nan if v is None else v for v in values]
        data[column] = pd.Series(values, dtype=_DTYPES[column])
    data["order"] = pd.Series(data["order"], dtype="int64")
    return pd.DataFrame(data, columns=list(TASK_COLUMNS))


def _summary(
    params: PlanParams,
    units: Sequence[_Unit],
    excluded: Counter[str],
    rows: list[dict[str, Any]],
    skipped: list[tuple[int, str | None, str]],
    strata: list[tuple[str, int, int, int, float]],
    audit_notes: dict[str, Any],
    platforms: list[str],
) -> dict[str, Any]:
    def counts(column: str, stratum: str | None = None) -> dict[str, int]:
        found = Counter(
            str(r[column])
            for r in rows
            if r[column] is not None and (stratum is None or r["stratum"] == stratum)
        )
        return dict(sorted(found.items()))

    audited = set(counts("platform", AUDIT))
    eligible_levels = Counter(u.level or "unassessed" for u in units)
    return {
        "planned": len(rows),
        "targeted": sum(r["stratum"] == TARGETED for r in rows),
        "audit": sum(r["stratum"] == AUDIT for r in rows),
        "planned_fen": sum(int(r["cost_fen"]) for r in rows),
        "budget_purchases": params.budget_purchases,
        "budget_fen": params.budget_fen,
        "eligible_products": len(units),
        "eligible_by_level": dict(sorted(eligible_levels.items())),
        "excluded_products": dict(sorted(excluded.items())),
        "targeted_by_level": counts("level", TARGETED),
        "targeted_skipped": dict(sorted(Counter(r for _, _, r in skipped).items())),
        "high_not_planned": sorted(p for p, lv, _ in skipped if lv == "high"),
        "audit_design": {
            **audit_notes,
            "strata": len(strata),
            "sizes": {k: {"N": n_big, "n": sel} for k, n_big, _, sel, _ in strata},
        },
        "by_platform": counts("platform"),
        "by_category": counts("category_code"),
        "platforms_in_scope": platforms,
        "platforms_without_audit": [p for p in platforms if p not in audited],
        "provinces": sorted({str(r["region_code"])[:2] for r in rows if r["region_code"]}),
    }
