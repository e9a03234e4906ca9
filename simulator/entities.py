"""Plain records of the simulated world (computed on demand, never stored)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from .catalog import Brand, Category
from .regions import City


@dataclass(frozen=True)
class Defect:
    hazard: str
    start: date
    batches: tuple[str, ...]
    cause: str  # "planted" or "recall"


@dataclass(frozen=True)
class Product:
    id: int
    category: Category
    brand: Brand
    model: str
    gtin: str | None
    name: str
    producer: str | None
    producer_city: City | None
    ccc_cert: str | None
    base_price_fen: int
    launched: date
    defect: Defect | None
    recall: int | None  # index of the recall that names this product
    p_fail: float
    specs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Shop:
    platform: str
    group: str
    index: int
    ext_id: int
    name: str
    kind: str
    brand_key: str | None
    city: City
    district: str
    company: str
    credit_code: str
    contact: str
    phone: str
    address: str
    opened: date
    score: float
    ring: int | None
    shared: tuple[str, ...]  # which of phone/address/contact come from the ring
    spam_cluster: str | None


@dataclass(frozen=True)
class Listing:
    platform: str
    product: Product
    j: int
    ext_id: int
    shop: Shop
    title: str
    brand_text: str
    model_text: str
    price_fen: int
    list_price_fen: int
    coupon_fen: int
    sales_month: int
    review_count: int
    stock: str
    images: tuple[str, ...]
    manufacturer: str | None
    origin: str | None
    ccc_shown: str | None
    description: tuple[str, ...]
    banned_terms: tuple[tuple[str, str], ...]  # (term, "title" | "description")
    exempt_phrases: tuple[str, ...]
    counterfeit: bool
    listed: date
    p_fail: float
    colours: tuple[str, ...]

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.platform, self.product.id, self.j)

    @property
    def ccc_required(self) -> bool:
        return self.product.category.ccc

    @property
    def missing_ccc(self) -> bool:
        return self.ccc_required and not self.ccc_shown

    @property
    def sanwu(self) -> bool:
        return self.manufacturer is None and self.origin is None


@dataclass(frozen=True)
class Review:
    id: int
    index: int
    nickname: str
    rating: int
    posted: datetime
    text: str
    sku: str
    followup: tuple[int, str] | None  # (days after, text)
    images: tuple[str, ...]
    kind: str
    sentiment: str
    defect: bool
    hazard: str | None
    spam_cluster: str | None
    helpful: int = 0


@dataclass(frozen=True)
class Step:
    when: datetime
    actor: str
    text: str


@dataclass(frozen=True)
class Complaint:
    index: int
    number: str
    title: str
    filed: datetime
    status: str
    kind: str
    hazard: str | None
    listing: tuple[str, int, int] | None  # listing key
    shop_name: str
    platform_zh: str
    problem: str
    demand: str
    amount_fen: int
    complainant: str
    phone: str
    address: str
    id_number: str | None
    email: str | None
    user_id: int
    steps: tuple[Step, ...]
    rating: int | None
    rating_text: str | None
    detail: str


@dataclass(frozen=True)
class Recall:
    index: int
    source: str  # samr, cpsc, eu_safety_gate
    number: str
    published: date
    product_name: str
    product_type: str
    category: str
    brand: str
    models: tuple[str, ...]
    batches: tuple[str, ...]
    producer: str
    producer_country: str
    units: int
    defect: str
    hazard: str
    hazard_text: str
    measures: str
    contact: str
    matched_product: int | None
    extra: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
