"""Synthetic candidate tables for the sampling tests: products with listings, risk levels,
and (for the simulations) a known failure probability and a drawn true outcome each."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

CATEGORIES = ("electric_kettle", "plush_toy", "power_bank")
PLATFORMS = ("youpin", "lehuo")
PROVINCES = ("33", "44", "32", "35")
# Probability that a sample of a product at this level fails, before the category effect.
LEVEL_FAIL = {"high": 0.55, "elevated": 0.35, "moderate": 0.15, "low": 0.06}
CATEGORY_FAIL = {"electric_kettle": 1.0, "plush_toy": 1.6, "power_bank": 0.7}


def population(
    products: int, *, seed: int, shops: int = 300, brands: int = 200, listings: int = 2
) -> pd.DataFrame:
    """A candidate table (one row per listing) with ``fail_probability`` and ``fails``
    per product (the product's true outcome, drawn once)."""
    rng = np.random.default_rng(seed)
    level = rng.choice(list(LEVEL_FAIL), size=products, p=[0.04, 0.08, 0.38, 0.50])
    category = rng.choice(CATEGORIES, size=products, p=[0.5, 0.3, 0.2])
    home = rng.choice(PLATFORMS, size=products, p=[0.6, 0.4])
    fail_p = np.clip(
        [LEVEL_FAIL[lv] * CATEGORY_FAIL[c] for lv, c in zip(level, category, strict=True)],
        0.0,
        0.95,
    )
    fails = rng.random(products) < fail_p
    rows: list[dict[str, Any]] = []
    listing_id = 1000
    for i in range(products):
        k = int(rng.integers(1, listings + 1))
        for _ in range(k):
            listing_id += 1
            shop = int(rng.integers(1, shops + 1))
            rows.append(
                {
                    "product_id": i + 1,
                    "listing_id": listing_id,
                    "shop_id": shop,
                    "platform": str(home[i]),
                    "region_code": PROVINCES[shop % len(PROVINCES)] + "0100",
                    "category_code": str(category[i]),
                    "brand": f"品牌{int(rng.integers(brands))}",
                    "price_fen": int(rng.integers(20, 400)) * 100,
                    "units": 4,
                    "level": str(level[i]),
                    "probability": float(np.round(fail_p[i] * rng.uniform(0.8, 1.2), 4)),
                    "review_status": "pending",
                    "evidence": float(rng.integers(0, 3)),
                    "fail_probability": float(fail_p[i]),
                    "fails": bool(fails[i]),
                }
            )
    return pd.DataFrame(rows)
