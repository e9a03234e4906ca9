"""The sampling frame of a plan, read from the warehouse: every listing of a product with
the product's newest risk assessment, its category's purchase quantity, and how strongly
the assessment's evidence points at each listing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, func, select

from ecqm.warehouse.schema import (
    complaints,
    inspection_results,
    listing_snapshots,
    listings,
    products,
    recall_matches,
    ref_categories,
    reviews,
    risk_assessments,
    shops,
)

CHUNK = 900
# Evidence kinds in an assessment's explanation that name rows tied to one listing.
_LISTING_OF = {
    "reviews": reviews,
    "complaints": complaints,
    "listing_snapshots": listing_snapshots,
    "inspection_results": inspection_results,
}


@dataclass(frozen=True)
class Candidates:
    """What the planner reads, and what the plan documents need besides.

    Attributes
    ----------
    frame
        One row per listing (the planner's candidate table), plus ``external_id``,
        ``url``, ``title``, ``model``, ``product_name`` and ``shop_name`` for the
        workbooks.
    risk_as_of
        The newest assessment date used (``None`` when nothing was assessed yet).
    categories
        Active categories by code: ``name_zh``, ``unit_zh``, ``sample_units``,
        ``backup_units``, ``test_items`` and ``standards``.
    """

    frame: pd.DataFrame
    risk_as_of: dt.date | None
    categories: dict[str, dict[str, Any]]


def load_categories(conn: Connection) -> dict[str, dict[str, Any]]:
    """Active ``ref_categories`` rows by code."""
    rows = conn.execute(
        select(
            ref_categories.c.code,
            ref_categories.c.name_zh,
            ref_categories.c.unit_zh,
            ref_categories.c.sample_units,
            ref_categories.c.backup_units,
            ref_categories.c.test_items,
            ref_categories.c.standards,
        ).where(ref_categories.c.is_active.is_(True))
    ).mappings()
    return {r["code"]: dict(r) for r in rows}


def load_candidates(conn: Connection, as_of: dt.date | None = None) -> Candidates:
    """Every listing that belongs to a product, with the product's newest assessment on
    or before ``as_of`` (default: the newest there is).

    Products never assessed are kept (level missing): they belong to the market the
    audit estimates. The category is the product's, else the assessment's, else the
    listing's; ``units`` = sample + backup units of an active category (missing
    otherwise, which the planner counts as ``no_category``).
    """
    newest = select(
        risk_assessments.c.product_id, func.max(risk_assessments.c.as_of).label("as_of")
    )
    if as_of is not None:
        newest = newest.where(risk_assessments.c.as_of <= as_of)
    newest = newest.group_by(risk_assessments.c.product_id).subquery()
    ra = (
        select(
            risk_assessments.c.product_id,
            risk_assessments.c.as_of,
            risk_assessments.c.level,
            risk_assessments.c.probability,
            risk_assessments.c.review_status,
            risk_assessments.c.category_code,
        )
        .join(
            newest,
            and_(
                newest.c.product_id == risk_assessments.c.product_id,
                newest.c.as_of == risk_assessments.c.as_of,
            ),
        )
        .subquery()
    )
    query = (
        select(
            listings.c.product_id,
            listings.c.id.label("listing_id"),
            listings.c.shop_id,
            listings.c.platform,
            listings.c.external_id,
            listings.c.url,
            listings.c.title,
            listings.c.price_fen,
            listings.c.brand.label("listing_brand"),
            listings.c.model.label("listing_model"),
            listings.c.category_code.label("listing_category"),
            products.c.brand.label("product_brand"),
            products.c.model.label("product_model"),
            products.c.name.label("product_name"),
            products.c.category_code.label("product_category"),
            shops.c.name.label("shop_name"),
            shops.c.region_code,
            ra.c.as_of.label("risk_as_of"),
            ra.c.level,
            ra.c.probability,
            ra.c.review_status,
            ra.c.category_code.label("risk_category"),
        )
        .select_from(
            listings.join(products, products.c.id == listings.c.product_id)
            .outerjoin(shops, shops.c.id == listings.c.shop_id)
            .outerjoin(ra, ra.c.product_id == listings.c.product_id)
        )
        .order_by(listings.c.product_id, listings.c.id)
    )
    result = conn.execute(query)
    frame = pd.DataFrame([tuple(r) for r in result.fetchall()], columns=list(result.keys()))
    categories = load_categories(conn)
    if frame.empty:
        frame = frame.assign(
            category_code=pd.Series(dtype=object),
            brand=pd.Series(dtype=object),
            model=pd.Series(dtype=object),
            units=pd.Series(dtype="Int64"),
            evidence=pd.Series(dtype=float),
        )
        return Candidates(frame, None, categories)
    frame["category_code"] = _first_present(
        frame, ["product_category", "risk_category", "listing_category"]
    )
    frame["brand"] = _first_present(frame, ["product_brand", "listing_brand"])
    frame["model"] = _first_present(frame, ["product_model", "listing_model"])
    units = {c: int(r["sample_units"]) + int(r["backup_units"]) for c, r in categories.items()}
    frame["units"] = frame["category_code"].map(units).astype("Int64")
    risky = frame.loc[frame["level"].isin(["high", "elevated"]), "product_id"].unique()
    weights = listing_evidence(conn, [int(p) for p in risky], as_of)
    frame["evidence"] = frame["listing_id"].map(weights).fillna(0.0).astype(float)
    dates = frame["risk_as_of"].dropna()
    risk_as_of = max(dates) if len(dates) else None
    return Candidates(frame, risk_as_of, categories)


def _first_present(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    out = frame[columns[0]].astype(object)
    for column in columns[1:]:
        out = out.where(out.notna() & (out.astype(str).str.strip() != ""), frame[column])
    return out.astype(object).where(out.notna(), None)


def listing_evidence(
    conn: Connection, product_ids: Iterable[int], as_of: dt.date | None = None
) -> dict[int, float]:
    """Per listing: how strongly the newest assessment of its product points at it.

    Every signal in the explanation's ``top_signals`` adds its strength once for each
    evidence row tied to the listing (the listing itself, its reviews, complaints,
    snapshots, inspection results, or a recall matched to it). Rows tied to another
    product's listing are ignored.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    explanations: dict[int, Any] = {}
    for chunk in _chunks(ids):
        newest = select(
            risk_assessments.c.product_id, func.max(risk_assessments.c.as_of).label("as_of")
        ).where(risk_assessments.c.product_id.in_(chunk))
        if as_of is not None:
            newest = newest.where(risk_assessments.c.as_of <= as_of)
        newest = newest.group_by(risk_assessments.c.product_id).subquery()
        rows = conn.execute(
            select(risk_assessments.c.product_id, risk_assessments.c.explanation).join(
                newest,
                and_(
                    newest.c.product_id == risk_assessments.c.product_id,
                    newest.c.as_of == risk_assessments.c.as_of,
                ),
            )
        )
        explanations.update({int(p): e for p, e in rows})
    cited: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for pid, explanation in explanations.items():
        if not isinstance(explanation, Mapping):
            continue
        for signal in explanation.get("top_signals") or []:
            if not isinstance(signal, Mapping):
                continue
            strength = _number(signal.get("strength"))
            evidence = signal.get("evidence")
            if strength <= 0 or not isinstance(evidence, Mapping):
                continue
            for kind, values in evidence.items():
                for value in values if isinstance(values, list) else []:
                    if isinstance(value, int) and not isinstance(value, bool):
                        cited[str(kind)].append((pid, value, strength))
    owner = _listing_products(conn, ids)
    weights: dict[int, float] = defaultdict(float)

    def credit(pid: int, listing_id: int | None, strength: float) -> None:
        if listing_id is not None and owner.get(int(listing_id)) == pid:
            weights[int(listing_id)] += strength

    for pid, lid, strength in cited.get("listings", []):
        credit(pid, lid, strength)
    for kind, table in _LISTING_OF.items():
        refs = cited.get(kind, [])
        lookup = _lookup(conn, table.c.id, table.c.listing_id, {r for _, r, _ in refs})
        for pid, rid, strength in refs:
            credit(pid, lookup.get(rid), strength)
    refs = cited.get("recalls", [])
    if refs:
        matched: dict[int, list[int]] = defaultdict(list)
        for chunk in _chunks(sorted({r for _, r, _ in refs})):
            for recall_id, listing_id in conn.execute(
                select(recall_matches.c.recall_id, recall_matches.c.listing_id).where(
                    recall_matches.c.recall_id.in_(chunk)
                )
            ):
                matched[int(recall_id)].append(int(listing_id))
        for pid, rid, strength in refs:
            for lid in matched.get(rid, []):
                credit(pid, lid, strength)
    return {k: round(v, 6) for k, v in sorted(weights.items())}


def _listing_products(conn: Connection, product_ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in _chunks(product_ids):
        for lid, pid in conn.execute(
            select(listings.c.id, listings.c.product_id).where(listings.c.product_id.in_(chunk))
        ):
            out[int(lid)] = int(pid)
    return out


def _lookup(conn: Connection, key: Any, value: Any, ids: set[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in _chunks(sorted(ids)):
        for k, v in conn.execute(select(key, value).where(key.in_(chunk))):
            if v is not None:
                out[int(k)] = int(v)
    return out


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
