"""ProductResolver: matching rules, product keys, state that survives processes, rows."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from simulator.world import World
from transforms.resolve import ListingFacts, ProductResolver, Resolution

ROOT = Path(__file__).resolve().parents[3]
_ids = iter(range(1, 10**9))


def facts(
    brand: str | None = None,
    model: str | None = None,
    gtin: str | None = None,
    title: str | None = "电热水壶 家用大容量",
    category: str | None = "electric_kettle",
    producer: str | None = None,
    platform: str = "youpin",
) -> ListingFacts:
    """A listing with an external id of its own, so that each call is a new listing."""
    return ListingFacts(platform, str(next(_ids)), title, brand, model, gtin, category, producer)


# --------------------------------------------------------------------------- matching


def test_brand_aliases_learned_from_one_brand_field():
    r = ProductResolver()
    first = r.resolve(facts("MEIDOO/美度", "MD-53P13A"))
    assert first == Resolution("bm:美度:MD53P13A", "new", 0.0)
    assert r.canonical_brand("MEIDOO") == "美度"
    assert r.canonical_brand("meidoo") == "美度"
    assert r.brand_aliases("Meidoo") == ["meidoo", "美度"]
    for brand, model in [
        ("meidoo", "md53p13a"),
        ("美度", "MD 53P13A"),
        ("美度（MEIDOO）", "ＭＤ－５３Ｐ１３Ａ"),
        ("美度官方旗舰店", "MD-53P13A型"),
        ("美度", "型号：MD-53P13A"),
    ]:
        assert r.resolve(facts(brand, model)) == Resolution(first.product_key, "brand_model", 1.0)
    assert len(r) == 1
    state = r.product_state(first.product_key)
    assert ["meidoo", "美度"] in state["brand_aliases"]
    assert state["model_variants"] == ["MD53P13A"]


def test_alias_learned_later_joins_spellings_seen_before():
    r = ProductResolver()
    a = r.resolve(facts("MEIDOO", "MD-53P13A"))
    assert a.product_key == "bm:meidoo:MD53P13A"
    assert r.canonical_brand("MEIDOO") == "meidoo"
    r.resolve(facts("MEIDOO/美度", "MD-11A11"))
    assert r.canonical_brand("MEIDOO") == "美度"
    # Keys already given do not change; the product is found under the Chinese name too.
    assert r.resolve(facts("美度", "md-53p13a")) == Resolution(a.product_key, "brand_model", 1.0)
    assert r.record(a.product_key).brand == "美度"


def test_undecided_brand_spellings_meet_on_a_specific_model_code():
    r = ProductResolver()
    a = r.resolve(facts("MEIDOO/美度", "MD-53P13A"))
    # Pinyin and a counterfeit misspelling: neither is tied to another Chinese name.
    assert r.resolve(facts("Meidu", "MD53P13A")) == Resolution(a.product_key, "brand_model", 0.9)
    assert r.resolve(facts("MEID0O", "md-53p13a")) == Resolution(a.product_key, "brand_model", 0.9)
    # Without a brand at all, the code decides as well.
    assert r.resolve(facts(None, "MD-53P13A")).product_key == a.product_key


def test_brands_tied_to_different_chinese_names_never_meet():
    r = ProductResolver()
    a = r.resolve(facts("MEIDOO/美度", "MD-53P13A"))
    b = r.resolve(facts("沁源", "MD-53P13A"))
    assert b.method == "new" and b.product_key != a.product_key
    c = r.resolve(facts("QINYUAN/沁源", "md53p13a"))
    assert c == Resolution(b.product_key, "brand_model", 1.0)


def test_weak_model_codes_need_the_same_brand():
    r = ProductResolver()
    a = r.resolve(facts("美度", "X1"))
    assert r.resolve(facts("Meidu", "X1")).product_key != a.product_key
    assert r.resolve(facts("美度", "x-1")).product_key == a.product_key


def test_an_undecided_brand_matching_two_products_is_left_alone():
    r = ProductResolver()
    a = r.resolve(facts("美度", "AB-12345"))
    b = r.resolve(facts("沁源", "AB-12345"))
    c = r.resolve(facts("Meidu", "AB-12345"))
    assert c.method == "new" and c.product_key not in (a.product_key, b.product_key)


@pytest.mark.parametrize(
    "other",
    ["MD-53P13", "MD-53P13B", "MD-53P18A", "MD-58P13A", "MD-53P13A/B", "MD-53P13AB"],
)
def test_models_that_differ_in_one_character_stay_apart(other):
    r = ProductResolver()
    title = "美度 电水壶 家用大容量 防干烧 自动断电 1.7L"
    a = r.resolve(facts("美度", "MD-53P13A", title=title))
    b = r.resolve(facts("美度", other, title=title))
    assert b.method == "new" and b.product_key != a.product_key


def test_same_model_in_another_category_is_another_product():
    r = ProductResolver()
    a = r.resolve(facts("LANBOR/澜博", "LB-31D36A", category="electric_kettle"))
    b = r.resolve(facts("LANBOR", "LB-31D36A", category="plush_toy"))
    assert b.method == "new" and b.product_key != a.product_key
    assert b.product_key == "bm:澜博:LB31D36A~2"  # a deterministic key, never a counter


def test_gtin_first_and_recorded_from_brand_model_matches():
    r = ProductResolver()
    a = r.resolve(facts("美度", "MD-53P13A"))
    b = r.resolve(facts("MEIDOO/美度", "MD53P13A", gtin="6910843372643"))
    assert b == Resolution(a.product_key, "brand_model", 1.0)
    # Now the barcode alone finds it, whatever else the listing says.
    c = r.resolve(facts("Meidoo", None, gtin="6910 8433 72643", title="烧水壶"))
    assert c == Resolution(a.product_key, "gtin", 1.0)
    assert r.record(a.product_key).gtin == "6910843372643"


def test_invalid_gtin_is_ignored():
    r = ProductResolver()
    a = r.resolve(facts("美度", "MD-53P13A", gtin="6910843372644"))
    assert a.product_key == "bm:美度:MD53P13A"
    assert r.product_state(a.product_key)["gtins"] == []
    b = r.resolve(facts("沁源", "QY-11B22", gtin="6910843372644"))
    assert b.method == "new"


def test_new_product_keyed_by_its_gtin():
    r = ProductResolver()
    a = r.resolve(facts("Meidu", "MD-53P13A", gtin="6910843372643"))
    assert a == Resolution("gtin:6910843372643", "new", 0.0)
    assert r.resolve(facts("美度", "MD-53P13A型")).product_key == a.product_key


def test_copied_barcode_is_not_trusted_against_brand_and_model():
    r = ProductResolver()
    a = r.resolve(facts("美度", "MD-53P13A", gtin="6910843372643"))
    b = r.resolve(facts("沁源", "QY-87B88C", gtin="6910843372643"))
    assert b.method == "new" and b.product_key != a.product_key
    assert r.product_state(b.product_key)["gtins"] == []
    # Same brand, other model spelling: the barcode wins and the spelling is learned.
    c = r.resolve(facts("美度", "MD-53P13A-W", gtin="6910843372643"))
    assert c == Resolution(a.product_key, "gtin", 1.0)
    assert r.resolve(facts("美度", "md53p13aw")).product_key == a.product_key


def test_model_read_from_the_title_when_the_field_is_missing():
    r = ProductResolver()
    a = r.resolve(facts("美度", "MD-53P13A"))
    b = r.resolve(facts("Meidoo", None, title="新款Meidoo电热水壶双层防烫MD53P13A家用"))
    assert b == Resolution(a.product_key, "brand_model", 0.85)


def test_product_first_seen_without_model_field_is_found_by_its_title_code():
    r = ProductResolver()
    a = r.resolve(facts("美度", None, title="美度 电热水壶 MD-53P13A 家用大容量"))
    assert a.method == "new" and a.product_key.startswith("t:")
    assert r.product_state(a.product_key)["model_key"] is None
    b = r.resolve(facts("美度", "MD-53P13A", title="美度电水壶 防干烧"))
    assert b == Resolution(a.product_key, "brand_model", 0.85)
    # From now on the product is known by its model.
    assert r.product_state(a.product_key)["model_key"] == "MD53P13A"
    assert r.resolve(facts("MEIDOO/美度", "md53p13a")).method == "brand_model"


def test_codes_in_titles_are_not_taken_as_the_model():
    r = ProductResolver()
    a = r.resolve(facts("贝优", None, title="贝优 儿童安全座椅 BY-23G30A ISOFIX0-12岁"))
    b = r.resolve(facts("贝优", None, title="贝优 增高垫 ISOFIX0-12岁 车载"))
    assert b == Resolution(a.product_key, "brand_model", 0.85)
    assert r.product_state(a.product_key)["model_key"] is None
    c = r.resolve(facts("贝优", "BY-23G30A"))
    assert c.product_key == a.product_key
    assert r.product_state(a.product_key)["model_key"] == "BY23G30A"


def test_title_match_only_for_near_identical_titles_of_one_brand():
    r = ProductResolver()
    title = "美度 电热水壶 家用大容量 304不锈钢 防干烧 1.7L"
    a = r.resolve(facts("美度", None, title=title))
    assert a.product_key.startswith("t:") and a.method == "new"
    b = r.resolve(
        facts(
            "MEIDOO/美度",
            None,
            title="官方正品 MEIDOO/美度电热水壶家用大容量304不锈钢防干烧1.7L 包邮",
        )
    )
    assert b.product_key == a.product_key and b.method == "title" and b.score >= 0.9
    # Another brand, another category, or another wording is another product.
    assert r.resolve(facts("沁源", None, title=title.replace("美度", "沁源"))).method == "new"
    assert r.resolve(facts("美度", None, title=title, category="hair_dryer")).method == "new"
    assert r.resolve(facts("美度", None, title="美度 电热水壶 玻璃 恒温 1.5L")).method == "new"


def test_title_match_never_crosses_a_model_code():
    r = ProductResolver()
    title = "美度 电热水壶 家用大容量 304不锈钢 防干烧 1.7L"
    a = r.resolve(facts("美度", "MD-53P13A", title=title))
    b = r.resolve(facts("美度", "MD-53P13B", title=title))
    c = r.resolve(facts("美度", None, title=title + " MD-53P13C"))
    assert len({a.product_key, b.product_key, c.product_key}) == 3


def test_keys_of_listings_without_brand_or_model():
    r = ProductResolver()
    assert r.resolve(facts(None, "MD-53P13A")).product_key == "m:MD53P13A"
    t = r.resolve(facts(None, None, title="无品牌 电热水壶 不锈钢", category=None))
    assert t.product_key.startswith("t:") and len(t.product_key) == 18
    empty = r.resolve(facts(None, None, title=None, category=None))
    assert empty.product_key.startswith("l:")


def test_long_keys_fit_the_column():
    r = ProductResolver()
    key = r.resolve(facts("美度", "MD-" + "7A" * 100)).product_key
    assert len(key) <= 128
    assert r.resolve(facts("美度", "md" + "7a" * 100)).product_key == key


def test_a_listing_seen_again_keeps_its_product_and_is_counted_once():
    r = ProductResolver()
    first = ListingFacts("lehuo", "42", "美度电水壶", "美度", "MD-53P13A", None, "electric_kettle")
    key = r.resolve(first).product_key
    again = r.resolve(first)
    assert again == Resolution(key, "brand_model", 1.0)
    state = r.product_state(key)
    assert state["listings"] == 1 and state["listing_refs"] == {"lehuo:42": 0}
    assert state["brand_names"] == {"美度": ["美度", 1]}
    # Reworded, or with a new barcode: still the same listing and product.
    reworded = replace(first, title="新款 美度 电水壶 包邮", gtin="6910843372643")
    assert r.resolve(reworded).product_key == key
    assert r.product_state(key)["gtins"] == ["6910843372643"]


def test_a_listing_showing_a_copied_barcode_stays_and_is_not_counted_twice():
    r = ProductResolver()
    other = r.resolve(facts("沁源", "QY-87B88C", gtin="6910843372643")).product_key
    listing = ListingFacts(
        "lehuo", "42", "美度电水壶", "美度", "MD-53P13A", None, "electric_kettle"
    )
    key = r.resolve(listing).product_key
    again = r.resolve(replace(listing, gtin="6910843372643"))
    assert again == Resolution(key, "brand_model", 1.0)
    state = r.product_state(key)
    assert state["listings"] == 1 and state["brand_names"] == {"美度": ["美度", 1]}
    assert state["gtins"] == [] and r.product_state(other)["gtins"] == ["6910843372643"]


def test_a_listing_that_now_sells_another_model_moves():
    r = ProductResolver()
    listing = ListingFacts(
        "lehuo", "42", "美度电水壶", "美度", "MD-53P13A", None, "electric_kettle"
    )
    old = r.resolve(listing).product_key
    moved = r.resolve(replace(listing, model="MD-53P13B"))
    assert moved.method == "new" and moved.product_key != old and moved.moved_from == old
    assert r.product_state(old)["listing_refs"] == {}
    assert r.product_state(moved.product_key)["listing_refs"] == {"lehuo:42": 1}
    back = r.resolve(listing)
    assert back.product_key == old and back.moved_from == moved.product_key
    assert r.product_state(old)["listing_refs"] == {"lehuo:42": 2}


def test_resolving_the_same_listings_again_changes_nothing(listings):
    r = ProductResolver()
    first = r.resolve_many(listings)
    states = _states(r)
    again = r.resolve_many(listings)
    assert [x.product_key for x in again] == [x.product_key for x in first]
    assert _states(r) == states


# --------------------------------------------------------------------------- warehouse rows


def test_products_give_warehouse_rows():
    r = ProductResolver()
    key = r.resolve(
        facts("MEIDOO/美度", "MD-53P13A", gtin="6910843372643", producer="佛山美度电器有限公司")
    ).product_key
    r.resolve(facts("meidoo", "md53p13a", producer="佛山美度电器有限公司"))
    r.resolve(facts("Meidu", "MD 53P13A型", producer="佛山美度电器有限公司 "))
    r.resolve(facts("沁源", "QY-87B88C", category=None, title="沁源 电饭煲 4L"))
    rows = dict(r.products())
    assert list(rows) == sorted(rows)
    rec = rows[key]
    assert (rec.brand, rec.model, rec.name) == ("美度", "MD-53P13A", "美度 MD-53P13A")
    assert (rec.gtin, rec.category_code, rec.producer_name) == (
        "6910843372643",
        "electric_kettle",
        "佛山美度电器有限公司",
    )
    row = rec.to_row(key)
    assert set(row) == {
        "product_key",
        "brand",
        "model",
        "name",
        "category_code",
        "gtin",
        "producer_name",
        "attributes",
    }
    attrs = json.loads(json.dumps(row["attributes"], ensure_ascii=False))
    assert attrs == rec.attributes
    assert attrs["brand"] == "美度" and attrs["gtins"] == ["6910843372643"]
    assert attrs["listings"] == 3
    other = rows["bm:沁源:QY87B88C"]
    assert other.category_code is None and other.gtin is None and other.brand == "沁源"


# --------------------------------------------------------------------------- state


def _world_listings(products: int, seed: int) -> list[ListingFacts]:
    """Listings of a simulated world, in a shuffled order, as a crawler would give them."""
    world = World(products=products, seed=seed)
    out = []
    for pid in range(products):
        for key in world.listings_of(pid):
            listing = world.listing(*key)
            p = listing.product
            out.append(
                ListingFacts(
                    listing.platform,
                    str(listing.ext_id),
                    listing.title,
                    listing.brand_text,
                    # Some pages without a model field, to exercise titles as well.
                    listing.model_text if (listing.ext_id % 5) else None,
                    p.gtin if listing.platform != "pinjia" else None,
                    p.category.code if listing.ext_id % 7 else None,
                    listing.manufacturer,
                )
            )
    # Copies re-listed by other shops with only the title: matched by title or by the
    # model code in it.
    out.extend(
        ListingFacts(
            "pinjia", f"copy-{x.external_id}", x.title, x.brand, None, None, x.category_code
        )
        for x in out[::4]
    )
    random.Random(seed).shuffle(out)
    return out


@pytest.fixture(scope="module")
def listings() -> list[ListingFacts]:
    return _world_listings(150, 31)


def _states(r: ProductResolver) -> dict[str, dict]:
    return {k: r.product_state(k) for k in r.product_keys()}


def _round_trip(r: ProductResolver, shuffle: int | None = None) -> ProductResolver:
    """Store every state as JSON (as the warehouse does) and rebuild from it."""
    stored = [(k, json.dumps(s, ensure_ascii=False)) for k, s in _states(r).items()]
    if shuffle is not None:
        random.Random(shuffle).shuffle(stored)
    return ProductResolver.from_states((k, json.loads(s)) for k, s in stored)


def _indexes(r: ProductResolver) -> dict:
    """The resolver's lookup structures, empty entries dropped, for comparison."""

    def blocks(b) -> dict:
        return {
            name: {k: sorted(v) for k, v in getattr(b, name).items() if v}
            for name in ("by_brand", "by_brand_category", "by_category")
        }

    return {
        "gtin": r._by_gtin,
        "model": {k: v for k, v in r._by_model.items() if v},
        "title_code": {k: v for k, v in r._by_title_code.items() if v},
        "listing": r._by_listing,
        "blocks": blocks(r._blocks),
        "modelless": blocks(r._blocks_modelless),
        "aliases": sorted(sorted(r._aliases.members(k)) for k in r._aliases._parent),
    }


def test_rebuilt_resolver_gives_the_same_keys(listings):
    half = len(listings) // 2
    a, b = listings[:half], listings[half:]

    one = ProductResolver()
    one.resolve_many(a)
    expected = one.resolve_many(b)

    first = ProductResolver()
    first.resolve_many(a)
    rebuilt = _round_trip(first, shuffle=7)
    assert _states(rebuilt) == _states(first)
    got = rebuilt.resolve_many(b)

    assert got == expected
    assert _states(rebuilt) == _states(one)
    assert _indexes(rebuilt) == _indexes(one)
    assert {m.method for m in expected} == {"gtin", "brand_model", "title", "new"}


def test_batches_do_not_change_keys(listings):
    whole = ProductResolver().resolve_many(listings)
    for cuts in ([50], [1, 2, 3, 200, 201], list(range(0, len(listings), 97))):
        r = ProductResolver()
        got: list[Resolution] = []
        bounds = [0, *cuts, len(listings)]
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            got.extend(r.resolve_many(listings[lo:hi]))
            r = _round_trip(r, shuffle=hi)
        assert got == whole


def test_storing_only_the_products_given_back_is_enough(listings):
    """What the warehouse does: after each run, store the states of the products that
    resolve() returned. Products that a listing left are not stored again."""
    first, second = listings[:300], listings[300:]
    # Some listings of the first run now show another listing's model: they move.
    movers = [
        replace(x, model=y.model, gtin=None)
        for x, y in zip(first[:60:2], first[1:61:2], strict=True)
        if x.model and y.model
    ]
    r = ProductResolver()
    r.resolve_many(first)
    stored = {k: json.dumps(s, ensure_ascii=False) for k, s in _states(r).items()}
    out = r.resolve_many(movers + second)
    assert sum(x.moved_from is not None for x in out) >= 5
    for x in out:
        stored[x.product_key] = json.dumps(r.product_state(x.product_key), ensure_ascii=False)
    rebuilt = ProductResolver.from_states((k, json.loads(s)) for k, s in stored.items())
    assert _states(rebuilt) == _states(r)
    assert _indexes(rebuilt) == _indexes(r)
    assert rebuilt.resolve_many(listings[::3]) == r.resolve_many(listings[::3])


def test_from_states_rejects_bad_states():
    r = ProductResolver()
    key = r.resolve(facts("美度", "MD-53P13A")).product_key
    state = r.product_state(key)
    with pytest.raises(ValueError, match="twice"):
        ProductResolver.from_states([(key, state), (key, state)])
    with pytest.raises(ValueError, match="version"):
        ProductResolver.from_states([(key, {**state, "version": 99})])
    other = r.resolve(facts("沁源", "QY-87B88C")).product_key
    stolen = {**r.product_state(other), "listing_refs": state["listing_refs"]}
    with pytest.raises(ValueError, match="two products"):
        ProductResolver.from_states([(key, state), (other, stolen)])


_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from tests.transforms.resolve.test_resolver import _world_listings
from transforms.resolve import ProductResolver
r = ProductResolver()
keys = [x.product_key for x in r.resolve_many(_world_listings(60, 5))]
print(json.dumps([keys, {{k: r.product_state(k) for k in r.product_keys()}}], sort_keys=True))
"""


def test_keys_do_not_depend_on_the_process():
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", _SCRIPT.format(root=str(ROOT))],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    keys, _ = json.loads(outputs[0])
    r = ProductResolver()
    assert [x.product_key for x in r.resolve_many(_world_listings(60, 5))] == keys
