"""Product entity resolution: which listings, on which platforms, sell the same product.

:class:`ProductResolver` matches each listing (:class:`ListingFacts`) to a product by
barcode, then brand and model code, then title, and keeps what it learns (brand aliases,
model spellings, barcodes) in per-product states that the warehouse stores in
``products.attributes``; :meth:`ProductResolver.from_states` rebuilds it from them.

The keys it matches on are pure functions in :mod:`.keys`:

=======================  ==============================================================
:func:`normalise_brand`  ``MEIDOO/美度``, ``美度官方旗舰店`` → ``美度``; ``Meidoo`` → ``meidoo``
:func:`normalise_model`  ``md 53p13a型``, ``ＭＤ－５３Ｐ１３Ａ`` → ``MD53P13A``
:func:`normalise_gtin`   EAN-13 with a valid check digit (UPC-A and GTIN-14 folded), else None
=======================  ==============================================================
"""

from __future__ import annotations

from transforms.resolve.keys import (
    brand_parts,
    is_strong_model,
    normalise_brand,
    normalise_gtin,
    normalise_model,
)
from transforms.resolve.resolver import (
    STATE_VERSION,
    ListingFacts,
    Method,
    ProductRecord,
    ProductResolver,
    Resolution,
)

__all__ = [
    "STATE_VERSION",
    "ListingFacts",
    "Method",
    "ProductRecord",
    "ProductResolver",
    "Resolution",
    "brand_parts",
    "is_strong_model",
    "normalise_brand",
    "normalise_gtin",
    "normalise_model",
]
