"""Brand aliases: the shipped file, learning from listings of one product, and the
warehouse (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from sqlalchemy import insert

from risk_models.recalls.aliases import DEFAULT_ALIASES_FILE, BrandAliases
from risk_models.recalls.matcher import RecallMatcher

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def test_shipped_file_is_versioned_and_well_formed():
    data = yaml.safe_load(DEFAULT_ALIASES_FILE.read_text(encoding="utf-8"))
    assert data["version"]
    assert all(isinstance(b, list) and len(b) >= 2 for b in data["brands"])
    a = BrandAliases.shipped()
    assert a.version.startswith("brand_aliases.yaml@")
    for pair in (("美的", "Midea"), ("小米", "Xiaomi"), ("小米", "MI"), ("飞利浦", "Philips"),
                 ("九阳", "Joyoung"), ("苏泊尔", "SUPOR"), ("格力", "GREE"), ("公牛", "BULL"),
                 ("倍思", "Baseus"), ("安克", "Anker")):  # fmt: skip
        assert a.same(*pair), pair
    assert not a.same("小米", "米家")
    assert not a.same("美的", "格力")
    # every shipped group has exactly one Chinese name
    for group in a.groups():
        assert sum(any("\u4e00" <= c <= "\u9fff" for c in k) for k in group) == 1, group


def test_shipped_copies_are_independent():
    a = BrandAliases.shipped()
    a.add(["美度", "MEIDOO"])
    assert not BrandAliases.shipped().same("美度", "MEIDOO")


def test_bad_alias_file(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("brands: 美的\n", encoding="utf-8")
    with pytest.raises(ValueError, match="list of lists"):
        BrandAliases.from_yaml(path)


def test_spellings_of_one_brand_text_are_one_name():
    a = BrandAliases()
    assert a.same("Dr. Lebo", "DR.LEBO")
    assert a.same("MEIDOO/美度", "美度")  # a composite text names both
    assert not a.same("MEIDOO", "美度")  # nothing joins them yet


def test_learning_from_products():
    groups = [
        ["美度", "MEIDOO", "Meidu"],
        ["MEIDOO/美度", "Meidu", "Meidoo"],
        ["美度", "Meidu", "MEID0O"],  # a counterfeit misspelling
        ["美度（MEIDOO）", "MEID0O"],
        ["美的", "美度"],  # a resolution mistake: two Chinese names
        ["美的", "美度"],
        ["Anker", "Ankr"],  # seen once: not enough
    ]
    a = BrandAliases.from_listing_groups(groups)
    assert a.same("美度", "MEIDOO") and a.same("美度", "Meidu") and a.same("Meidu", "MEIDOO")
    # a misspelling stays a misspelling (the matcher scores it as such)
    assert not a.same("美度", "MEID0O")
    # two Chinese names are two brands whatever the listings say
    assert not a.same("美的", "美度")
    assert not a.same("Anker", "Ankr")
    assert "learned from 7 products" in a.version


def test_min_support_and_base():
    groups = [["Zephyra/泽菲"], ["Voltara", "沃塔"], ["Lumicor", "卢米"], ["Lumicor", "卢米"]]
    a = BrandAliases.from_listing_groups(groups, base=BrandAliases())
    assert a.same("Zephyra", "泽菲")  # written together once: enough
    assert not a.same("Voltara", "沃塔")  # only sharing a product, once: not enough
    assert a.same("Lumicor", "卢米")  # sharing a product twice
    strict = BrandAliases.from_listing_groups(groups, min_support=3, base=BrandAliases())
    assert not strict.same("Lumicor", "卢米")
    assert len(BrandAliases.from_listing_groups([], base=BrandAliases())) == 0


def test_shipped_groups_are_never_joined_by_learning():
    a = BrandAliases.from_listing_groups([["Midea", "Gree"]] * 5)
    assert not a.same("Midea", "Gree")


def _product(conn, key: str) -> int:
    return conn.execute(
        insert(_t("products")).values(product_key=key, first_seen_at=NOW, last_seen_at=NOW)
    ).inserted_primary_key[0]


def _t(name: str):
    from ecqm.warehouse import schema

    return getattr(schema, name)


def _listing(conn, product_id: int | None, n: int, brand: str | None) -> None:
    conn.execute(
        insert(_t("listings")).values(
            platform="youpin",
            external_id=str(n),
            product_id=product_id,
            title=f"电热水壶 {n}",
            brand=brand,
            first_seen_at=NOW,
            last_seen_at=NOW,
        )
    )


def test_from_warehouse(warehouse_engine):
    spellings = [
        ["美度", "MEIDU", "Meidu"],
        ["美度（MEIDU）", "Meidu"],
        ["MEIDU/美度", "MEID0"],
        ["美的", "美度"],
        ["美的", "美度"],
    ]
    n = 0
    with warehouse_engine.begin() as conn:
        for i, group in enumerate(spellings):
            pid = _product(conn, f"bm:p{i}")
            for brand in group:
                n += 1
                _listing(conn, pid, n, brand)
        _listing(conn, None, n + 1, "Meidu")  # not resolved: teaches nothing
        _listing(conn, pid, n + 2, None)
        conn.execute(
            insert(_t("recalls")).values(
                source="samr",
                recall_number="ZH-2024-00001",
                brands=["美度"],
                models=["MD-1520"],
                hazard="可能导致使用者触电",
                product_name="电热水壶",
                fetched_at=NOW,
            )
        )
    with warehouse_engine.connect() as conn:
        aliases = BrandAliases.from_warehouse(conn)
        matcher = RecallMatcher.from_warehouse(conn)
    assert aliases.same("美度", "Meidu") and aliases.same("美度", "MEIDU")
    assert not aliases.same("美度", "MEID0")
    assert not aliases.same("美的", "美度")
    assert aliases.same("美的", "Midea")  # the shipped pairs are kept
    assert len(matcher) == 1
    found = matcher.match("电热水壶 1.7L", "Meidu", "md 1520")
    assert [(m.recall_id, m.matched_on) for m in found] == [("ZH-2024-00001", "brand+model")]
    fake = matcher.match("电热水壶", "MEID0", "MD1520")
    assert [(m.recall_id, m.matched_on) for m in fake] == [("ZH-2024-00001", "brand~fuzzy+model")]
    assert matcher.match("电热水壶", "美的", "MD-1520") == []
