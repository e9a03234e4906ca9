"""The arithmetic layout agrees with a brute-force enumeration."""

from __future__ import annotations

import pytest

from simulator.catalog import CATEGORIES, GROUP_CODES
from simulator.layout import PLATFORMS
from simulator.rng import AffineCode
from simulator.world import World


@pytest.mark.parametrize("products", [1, 41, 999, 2345])
def test_enumerations_match_brute_force(products: int) -> None:
    w = World(products, 11)
    for pi, plat in enumerate(PLATFORMS):
        every = [(pid, j) for pid in range(products) for j in range(w.layout.count(pid, pi))]
        enum = w.layout.everything(pi)
        assert len(enum) == len(every)
        assert list(enum.range(0, len(enum))) == every
        for ci in (0, 7, 40):
            want = [k for k in every if w.layout.category_index(k[0]) == ci]
            e = w.layout.by_category(ci, pi)
            assert [e.at(i) for i in range(len(e))] == want
            assert all(e.rank(pid, j) == i for i, (pid, j) in enumerate(want))
        g = GROUP_CODES[2]
        want = [k for k in every if CATEGORIES[w.layout.category_index(k[0])].group == g]
        assert list(w.layout.by_group(g, pi).range(0, 10**9)) == want
        assert plat in w.item_codes


def test_every_category_present_from_41_products() -> None:
    w = World(41, 5)
    assert {w.layout.category_index(p) for p in range(41)} == set(range(len(CATEGORIES)))


def test_shop_assignment_is_a_partition() -> None:
    w = World(300, 2)
    for plat in PLATFORMS:
        seen = []
        for g, idx in w.shops(plat):
            shop = w.shop(plat, g, idx)
            for i in range(w.shop_listing_count(shop)):
                key = w.shop_listing_at(shop, i)
                assert w.listing(*key).shop.ext_id == shop.ext_id
                seen.append(key)
        every = [(plat, pid, j) for pid in range(300) for j in range(w.listing_count(pid, plat))]
        assert sorted(seen) == sorted(every)


def test_affine_codes_round_trip() -> None:
    code = AffineCode(3, "x", 10**11, 10**11)
    for x in (0, 1, 2, 12345, 3 * 10**6):
        assert code.decode(code.encode(x)) == x
    assert code.decode(5) is None
