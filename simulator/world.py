"""The simulated world: products, listings and shops computed on demand.

Nothing per product is held in memory: every entity is derived from
``(seed, kind, id)`` with its own generator, and lists (search results,
category pages, shop pages, sitemaps) are computed arithmetically through
:mod:`simulator.layout`.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

from . import listingtext as lt
from .catalog import BRAND_BY_KEY, CATEGORIES, EXEMPT_PHRASES, GROUP_CODES, GROUPS, brands_for
from .entities import Complaint, Defect, Listing, Product, Recall, Review, Shop
from .layout import MAX_LISTINGS, PLATFORMS, Enumeration, Layout
from .people import business_address, company_name, gtin13, mobile, person_name
from .regions import CITY_BY_CODE, SHOP_CITY_WEIGHTS
from .rng import AffineCode, rng_for, stable_hash, weighted

DEFAULT_CLOCK = date(2026, 11, 1)
PLATFORM_ZH = {"youpin": "优品商城", "lehuo": "乐货网", "pinjia": "拼佳"}
SHOP_SIZE = 10  # listings per shop on average
K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[K, V] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        value = make()
        with self.lock:
            self.data[key] = value
            if len(self.data) > self.size:
                self.data.popitem(last=False)
        return value


class World:
    """A deterministic market of ``products`` products for one ``seed``.

    ``review_scale`` multiplies every listing's review count (rounded; the default 1.0
    keeps the market as it is, about 61 reviews per product): the benchmarks use it for
    a market of a chosen review density. Everything else about a listing stays the same.
    """

    def __init__(
        self,
        products: int,
        seed: int,
        clock: date | None = None,
        *,
        review_scale: float = 1.0,
    ) -> None:
        if products < 1:
            raise ValueError("products must be at least 1")
        if review_scale < 0:
            raise ValueError("review_scale must not be negative")
        self.products = products
        self.review_scale = review_scale
        self.seed = seed
        self.clock = clock or DEFAULT_CLOCK
        self.layout = Layout(seed, products)
        self.item_codes = {
            "youpin": AffineCode(seed, "youpin-item", 10**11, 10**11),
            "lehuo": AffineCode(seed, "lehuo-item", 9 * 10**9, 10**9),
            "pinjia": AffineCode(seed, "pinjia-item", 10**11, 3 * 10**11),
        }
        self.shop_codes = {
            "youpin": AffineCode(seed, "youpin-shop", 9 * 10**7, 10**7),
            "lehuo": AffineCode(seed, "lehuo-shop", 9 * 10**8, 10**8),
            "pinjia": AffineCode(seed, "pinjia-shop", 9 * 10**8, 10**9),
        }
        self.review_code = AffineCode(seed, "review", 9 * 10**12, 10**12)
        self._products: _LRU[int, Product] = _LRU(512)
        self._shops: _LRU[tuple[str, str, int], Shop] = _LRU(512)
        self._listings: _LRU[tuple[str, int, int], Listing] = _LRU(512)
        self.shop_counts = {
            (p, g): max(2, math.ceil(len(self.layout.by_group(g, i)) / SHOP_SIZE))
            for i, p in enumerate(PLATFORMS)
            for g in GROUP_CODES
        }
        self.total_shops = sum(self.shop_counts.values())
        self.rings = max(2, self.total_shops // 60)
        from .complaints import ComplaintBook
        from .recalls import RecallRegistry

        self.recall_registry = RecallRegistry(self)
        self.complaint_book = ComplaintBook(self)

    # ------------------------------------------------------------------ products
    def product(self, pid: int) -> Product:
        if not 0 <= pid < self.products:
            raise KeyError(pid)
        return self._products.get(pid, lambda: self._make_product(pid))

    def product_core(self, pid: int) -> tuple[Any, ...]:
        """The fields of a product that do not depend on recalls (used by recalls too)."""
        rng = rng_for(self.seed, "product", pid)
        cat = CATEGORIES[self.layout.category_index(pid)]
        brand = rng.choice(brands_for(cat))
        letters = "ABCDEFGHJKMNPRSTWXYZ"
        if (brand.key == "topcook" and rng.random() < 0.5) or rng.random() < 0.02:
            model = f"{brand.model_prefix}-Top{rng.randint(10, 399)}"
        else:
            model = (
                f"{brand.model_prefix}-{rng.randint(10, 99)}{rng.choice(letters)}"
                f"{rng.randint(0, 99):02d}{rng.choice(('A', 'B', 'C', 'E', ''))}"
            )
        gtin = gtin13(rng) if rng.random() < 0.6 else None
        sanwu = rng.random() < 0.04
        producer = city = None
        if not sanwu:
            if rng.random() < 0.7:
                city = CITY_BY_CODE[brand.city]
                producer = company_name(
                    rng_for(self.seed, "brandco", brand.key),
                    city,
                    _trade(cat.group),
                    word=brand.zh[:2],
                )
            else:
                city = CITY_BY_CODE[weighted(rng, SHOP_CITY_WEIGHTS)]
                producer = company_name(rng, city, _trade(cat.group))
        return rng, cat, brand, model, gtin, sanwu, producer, city

    def _make_product(self, pid: int) -> Product:
        rng, cat, brand, model, gtin, sanwu, producer, city = self.product_core(pid)
        ccc = None
        if cat.ccc and rng.random() < 0.95:
            ccc = f"{rng.randint(2018, 2025)}01{cat.ccc_code}{rng.randrange(10**8):08d}"
        lo, hi = cat.price
        price = int((lo + (hi - lo) * rng.random() ** 1.5) * brand.tier * 100)
        launched = self.clock - timedelta(days=rng.randint(90, 1300))
        recall = self.recall_registry.recall_of_product(pid)
        defect = self.defect(pid)
        if defect is not None and defect.start < launched:
            launched = defect.start - timedelta(days=rng.randint(30, 200))
        p_fail = cat.fail_base + (0.2 if sanwu else 0) + (0.1 if cat.ccc and not ccc else 0)
        if defect is not None:
            p_fail += 0.5 + 0.3 * rng.random()
        specs = [("品牌", brand.zh), ("型号", model)]
        for name, options in cat.specs:
            specs.append((name, rng.choice(options)))
        if gtin:
            specs.append(("条形码", gtin))
        noun = cat.nouns[0]
        return Product(
            pid,
            cat,
            brand,
            model,
            gtin,
            f"{brand.zh}{noun} {model}",
            producer,
            city,
            ccc,
            lt.price_round(price),
            launched,
            defect,
            recall,
            round(min(p_fail, 0.97), 3),
            tuple(specs),
        )

    def defect(self, pid: int) -> Defect | None:
        """The product's defective batch, if any (cheap: no full product needed)."""
        recall = self.recall_registry.recall_of_product(pid)
        rng = rng_for(self.seed, "defect", pid)
        if recall is not None:
            rec = self.recall_registry.recall(recall)
            return Defect(
                rec.hazard,
                rec.published - timedelta(days=rng.randint(40, 200)),
                rec.batches,
                "recall",
            )
        if rng.random() >= 0.06:
            return None
        cat = CATEGORIES[self.layout.category_index(pid)]
        haz = weighted(rng, [(h, 3.0 if i == 0 else 1.0) for i, h in enumerate(cat.hazards)])
        start = self.clock - timedelta(days=rng.randint(20, 420))
        batches = tuple(
            f"{start.year}{start.month:02d}{rng.randint(1, 28):02d}-{rng.randint(1, 9)}"
            for _ in range(rng.randint(1, 3))
        )
        return Defect(haz, start, batches, "planted")

    # ------------------------------------------------------------------ listings
    def listing_count(self, pid: int, platform: str) -> int:
        return self.layout.count(pid, PLATFORMS.index(platform))

    def listings_of(self, pid: int) -> Iterator[tuple[str, int, int]]:
        for i, plat in enumerate(PLATFORMS):
            for j in range(self.layout.count(pid, i)):
                yield (plat, pid, j)

    def listing_ext_id(self, platform: str, pid: int, j: int) -> int:
        return self.item_codes[platform].encode(pid * MAX_LISTINGS + j)

    def listing_by_ext(self, platform: str, ext_id: int) -> Listing | None:
        x = self.item_codes[platform].decode(ext_id)
        if x is None:
            return None
        pid, j = divmod(x, MAX_LISTINGS)
        if pid >= self.products or j >= self.listing_count(pid, platform):
            return None
        return self.listing(platform, pid, j)

    def listing(self, platform: str, pid: int, j: int) -> Listing:
        if j >= self.listing_count(pid, platform):
            raise KeyError((platform, pid, j))
        return self._listings.get((platform, pid, j), lambda: self._make_listing(platform, pid, j))

    def _make_listing(self, platform: str, pid: int, j: int) -> Listing:
        product = self.product(pid)
        rng = rng_for(self.seed, "listing", platform, pid, j)
        shop = self.shop(platform, *self.shop_key_of(platform, pid, j))
        cat = product.category
        counterfeit = (shop.ring is not None and rng.random() < 0.55) or rng.random() < 0.01
        brand_text = lt.brand_spelling(rng, product.brand, counterfeit)
        model_text = lt.model_spelling(rng, product.model)
        banned = lt.pick_banned(rng) if rng.random() < 0.08 else None
        banned_where = "title" if rng.random() < 0.75 else "description"
        exempt = lt.pick_exempt(rng, cat) if rng.random() < 0.12 else None
        title = lt.make_title(
            rng,
            product,
            brand_text,
            model_text,
            counterfeit,
            banned if banned_where == "title" else None,
            exempt if rng.random() < 0.5 else None,
        )
        description = lt.make_description(
            rng, product, brand_text, banned if banned_where == "description" else None, exempt
        )
        if counterfeit:
            price = int(product.base_price_fen * rng.uniform(0.18, 0.4))
        else:
            price = int(product.base_price_fen * rng.uniform(0.85, 1.1))
        price = lt.price_round(price)
        list_price = lt.price_round(int(price * rng.uniform(1.15, 1.9)))
        coupon = 0
        if rng.random() < 0.4 and price > 2000:
            coupon = rng.choice((500, 1000, 2000, 3000)) if price > 6000 else 300
        reviews = min(2000, int(rng.lognormvariate(2.3, 1.1)))
        if shop.spam_cluster:
            reviews = min(2000, reviews + rng.randint(5, 30))
        sales = reviews * rng.randint(3, 25) + rng.randint(0, 60)
        if self.review_scale != 1.0:
            reviews = min(2000, round(reviews * self.review_scale))
        stock = weighted(rng, (("有货", 0.85), ("无货", 0.08), ("预售", 0.07)))
        images = tuple(
            f"/img/{platform}/{stable_hash(self.seed, 'img', platform, pid, j, k) % 10**12:012d}.png"
            for k in range(rng.randint(3, 6))
        )
        manufacturer = product.producer
        origin = (
            f"{product.producer_city.province}{product.producer_city.name}"
            if product.producer_city
            else None
        )
        if manufacturer and rng.random() < 0.03:
            manufacturer = origin = None
        elif manufacturer and rng.random() < 0.05:
            origin = None
        ccc_shown = product.ccc_cert
        if ccc_shown and (rng.random() < 0.08 or (counterfeit and rng.random() < 0.6)):
            ccc_shown = None
        listed = min(
            self.clock - timedelta(days=rng.randint(1, 30)),
            product.launched + timedelta(days=rng.randint(0, 300)),
        )
        text = title + "".join(description)
        banned_terms = ((banned, banned_where),) if banned else ()
        exempt_found = tuple(p for p in EXEMPT_PHRASES if p in text)
        if "Top" in product.model:
            exempt_found += (
                (model_text,) if "top" in model_text.lower() and model_text in text else ()
            )
        p_fail = product.p_fail
        if counterfeit:
            p_fail = min(0.97, p_fail + 0.35)
        colours = tuple(rng.sample(lt.COLOURS, k=rng.randint(1, 4)))
        return Listing(
            platform,
            product,
            j,
            self.listing_ext_id(platform, pid, j),
            shop,
            title,
            brand_text,
            model_text,
            price,
            list_price,
            coupon,
            sales,
            reviews,
            stock,
            images,
            manufacturer,
            origin,
            ccc_shown,
            description,
            banned_terms,
            exempt_found,
            counterfeit,
            listed,
            round(p_fail, 3),
            colours,
        )

    def listing_url(self, listing: Listing) -> str:
        return listing_path(listing.platform, listing.ext_id)

    # ------------------------------------------------------------------ shops
    def shop_key_of(self, platform: str, pid: int, j: int) -> tuple[str, int]:
        group = CATEGORIES[self.layout.category_index(pid)].group
        enum = self.layout.by_group(group, PLATFORMS.index(platform))
        k = enum.rank(pid, j)
        assert k is not None
        return group, k % self.shop_counts[(platform, group)]

    def shop_listing_enum(self, platform: str, group: str) -> Enumeration:
        return self.layout.by_group(group, PLATFORMS.index(platform))

    def shop_listing_count(self, shop: Shop) -> int:
        enum = self.shop_listing_enum(shop.platform, shop.group)
        n = self.shop_counts[(shop.platform, shop.group)]
        return max(0, math.ceil((len(enum) - shop.index) / n))

    def shop_listing_at(self, shop: Shop, i: int) -> tuple[str, int, int]:
        enum = self.shop_listing_enum(shop.platform, shop.group)
        n = self.shop_counts[(shop.platform, shop.group)]
        pid, j = enum.at(shop.index + i * n)
        return (shop.platform, pid, j)

    def shops(self, platform: str) -> Iterator[tuple[str, int]]:
        for g in GROUP_CODES:
            for idx in range(self.shop_counts[(platform, g)]):
                yield g, idx

    def shop_by_ext(self, platform: str, ext_id: int) -> Shop | None:
        x = self.shop_codes[platform].decode(ext_id)
        if x is None:
            return None
        idx, g = divmod(x, len(GROUP_CODES))
        group = GROUP_CODES[g]
        if idx >= self.shop_counts[(platform, group)]:
            return None
        return self.shop(platform, group, idx)

    def shop(self, platform: str, group: str, idx: int) -> Shop:
        return self._shops.get(
            (platform, group, idx), lambda: self._make_shop(platform, group, idx)
        )

    def _make_shop(self, platform: str, group: str, idx: int) -> Shop:
        from .shops import make_shop

        ext = self.shop_codes[platform].encode(idx * len(GROUP_CODES) + GROUP_CODES.index(group))
        return make_shop(self, platform, group, idx, ext)

    def ring_attributes(self, ring: int) -> dict[str, str]:
        rng = rng_for(self.seed, "ring", ring)
        city = CITY_BY_CODE[weighted(rng, SHOP_CITY_WEIGHTS)]
        return {
            "contact": person_name(rng),
            "phone": mobile(rng),
            "address": business_address(rng, city),
            "city": city.code,
        }

    # ------------------------------------------------------------------ reviews
    def review_count(self, listing: Listing) -> int:
        return listing.review_count

    def review(self, listing: Listing, i: int) -> Review:
        from .reviews import make_review

        return make_review(self, listing, i)

    def reviews(
        self, listing: Listing, start: int = 0, stop: int | None = None
    ) -> Iterator[Review]:
        end = listing.review_count if stop is None else min(stop, listing.review_count)
        for i in range(max(0, start), end):
            yield self.review(listing, i)

    def review_id(self, listing: Listing, i: int) -> int:
        return self.review_code.encode(
            (listing.product.id * MAX_LISTINGS + listing.j) * 2048 * 3
            + PLATFORMS.index(listing.platform) * 2048
            + i
        )

    # ------------------------------------------------------------------ complaints and recalls
    def complaint_count(self) -> int:
        return self.complaint_book.count

    def complaint(self, k: int) -> Complaint:
        return self.complaint_book.complaint(k)

    def recall_count(self) -> int:
        return self.recall_registry.count

    def recall(self, k: int) -> Recall:
        return self.recall_registry.recall(k)


def listing_path(platform: str, ext_id: int) -> str:
    if platform == "youpin":
        return f"/youpin/item/{ext_id}.html"
    if platform == "lehuo":
        return f"/lehuo/goods/{ext_id}.html"
    return f"/pinjia/goods.html?goods_id={ext_id}"


def shop_path(platform: str, ext_id: int) -> str:
    if platform == "youpin":
        return f"/youpin/shop/{ext_id}.html"
    if platform == "lehuo":
        return f"/lehuo/store/{ext_id}/"
    return f"/pinjia/mall/{ext_id}"


def _trade(group: str) -> str:
    return {
        "appliance": "电器",
        "toy": "玩具",
        "kids": "婴童用品",
        "lighting": "电器",
        "digital": "电子科技",
        "ebike": "车业",
        "textile": "服饰",
        "cosmetic": "化妆品",
        "kitchen": "日用品",
    }[group]


__all__ = [
    "World",
    "DEFAULT_CLOCK",
    "PLATFORM_ZH",
    "GROUPS",
    "BRAND_BY_KEY",
    "listing_path",
    "shop_path",
]
