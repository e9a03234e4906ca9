"""Signals: what each information channel says about a product or a shop on one date.

Every signal is one row of ``risk_signals``: its subject (a product or a shop), its
name, the channel it came from (GB/T 37538's source classes: complaints, enforcement,
active monitoring, laboratory, overseas), its time window, a value with the baseline
it was judged against, a strength in [0, 1] (how strongly it points at a quality
problem), the hazard it points at if any, a sentence in Chinese for people, and the
ids of the evidence behind it (reviews, complaints, listings, listing snapshots,
recalls, shops, inspection results) so staff can open what moved an assessment.

Signals are computed from the frames of :mod:`risk_models.frames` with vectorised
pandas where the volume is (reviews), and plain loops over the few rows elsewhere.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from risk_models.frames import Frames

# Channels (STANDARD.md, "Information channels").
COMPLAINTS = "complaints"
ENFORCEMENT = "enforcement"
ACTIVE = "active_monitoring"
LABORATORY = "laboratory"
OVERSEAS = "overseas"
CHANNEL_ZH = {
    COMPLAINTS: "投诉举报",
    ENFORCEMENT: "执法监管",
    ACTIVE: "主动监测",
    LABORATORY: "检验检测",
    OVERSEAS: "境外通报",
    "media": "媒体舆情",
}
HAZARD_ZH = {
    "fire": "起火燃烧",
    "electric_shock": "触电",
    "burn": "烫伤",
    "chemical_odour": "化学异味",
    "choking_small_parts": "小零件窒息",
    "cut_breakage": "割伤断裂",
    "allergy_skin": "过敏刺激",
    "performance": "性能缺陷",
    "labelling": "标识缺失",
}
SAFETY_HAZARDS = frozenset(HAZARD_ZH) - {"performance", "labelling"}
OVERSEAS_SOURCES = frozenset({"cpsc", "eu_safety_gate", "safety_gate", "oecd"})

# Windows: complaints count over a year; a review spike compares the last 90 days with
# everything before them.
COMPLAINT_DAYS = 365
SPIKE_DAYS = 90
MAX_EVIDENCE = 20
DEFECT_CUTOFF = 0.5

# Signals that feed the product score, in a fixed order (the model's features).
PRODUCT_SIGNALS = (
    "review_hazard",
    "review_defect",
    "review_negative",
    "review_spike",
    "complaints_hazard",
    "complaints_quality",
    "banned_terms",
    "missing_ccc",
    "sanwu",
    "price_anomaly",
    "shop_network",
    "recall_match",
    "history_product",
    "history_brand",
    "history_shop",
    "history_producer",
)
SIGNAL_ZH = {
    "review_hazard": "评论中的安全隐患",
    "review_defect": "评论中的质量问题",
    "review_negative": "差评比例",
    "review_spike": "问题评论突增",
    "complaints_hazard": "安全类投诉",
    "complaints_quality": "质量类投诉",
    "banned_terms": "违禁广告用语",
    "missing_ccc": "未标注3C认证",
    "sanwu": "三无（无厂名厂址）",
    "price_anomaly": "价格异常偏低",
    "shop_network": "关联店铺网络",
    "recall_match": "召回产品匹配",
    "history_product": "本产品检验不合格",
    "history_brand": "同品牌检验不合格",
    "history_shop": "同店铺检验不合格",
    "history_producer": "同生产者检验不合格",
    "seller_network": "关联店铺网络",
    "shop_complaints": "店铺投诉",
}


@dataclass
class Signal:
    subject_kind: str
    subject_id: int
    signal: str
    channel: str
    value: float
    strength: float
    detail: str
    evidence: dict[str, list[int]] = field(default_factory=dict)
    baseline: float | None = None
    hazard: str | None = None
    window_start: dt.datetime | None = None

    def row(self, as_of: dt.date, end: dt.datetime, computed_at: dt.datetime) -> dict[str, Any]:
        return {
            "as_of": as_of,
            "subject_kind": self.subject_kind,
            "subject_id": int(self.subject_id),
            "signal": self.signal,
            "channel": self.channel,
            "window_start": self.window_start,
            "window_end": end,
            "value": float(self.value),
            "baseline": None if self.baseline is None else float(self.baseline),
            "strength": round(float(min(1.0, max(0.0, self.strength))), 6),
            "hazard": self.hazard,
            "detail": self.detail,
            "evidence": {k: [int(i) for i in v] for k, v in self.evidence.items() if len(v)},
            "computed_at": computed_at,
        }


def saturate(x: float, scale: float) -> float:
    """0 at 0, rising towards 1: how much ``x`` events of typical size ``scale`` weigh."""
    return 1.0 - math.exp(-max(0.0, x) / scale)


def _text(series: pd.Series) -> pd.Series:
    """Text with missing values as empty strings, whatever dtype the column came in as."""
    return series.astype(object).where(series.notna(), "").astype(str)


def _top_per_product(counts: pd.Series) -> dict[Any, tuple[str, int]]:
    """(product, hazard) → count  ⇒  product → (most frequent hazard, its count); ties go
    to the hazard named first in alphabetical order, so results do not depend on row order."""
    out: dict[Any, tuple[str, int]] = {}
    for (pid, hazard), k in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        if pid not in out:
            out[pid] = (str(hazard), int(k))
    return out


def _id_lists(frame: pd.DataFrame, keys: list[str]) -> dict[tuple, list[int]]:
    """Group key (always a tuple) → the first :data:`MAX_EVIDENCE` ids, in frame order."""
    out: dict[tuple, list[int]] = {}
    cols = [frame[k].tolist() for k in keys]
    for *key, rid in zip(*cols, frame["id"].tolist(), strict=True):
        ids = out.setdefault(tuple(key), [])
        if len(ids) < MAX_EVIDENCE:
            ids.append(int(rid))
    return out


def _ids(values: Iterable[Any], limit: int = MAX_EVIDENCE) -> list[int]:
    out: list[int] = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        out.append(int(v))
        if len(out) >= limit:
            break
    return out


# ----------------------------------------------------------------------------- reviews


def review_signals(f: Frames) -> list[Signal]:
    """Hazard and defect mentions, negative share, and a spike against the product's own
    past. Reviews in a 刷单 cluster are left out: copied praise says nothing."""
    stats = f.review_stats
    if stats.empty:
        return []
    r = f.reviews
    r = r.assign(
        is_defect=r["defect_probability"] >= DEFECT_CUTOFF,
        is_negative=r["negative_probability"] >= DEFECT_CUTOFF,
    )
    r = r.assign(is_hazard=r["is_defect"] & r["hazard"].isin(SAFETY_HAZARDS))
    per = stats.set_index("product_id")
    per["hazards"] = r[r["is_hazard"]].groupby("product_id").size().reindex(per.index).fillna(0)
    # Category baselines: the share most products of the category show.
    cat = f.products.set_index("id")["category_code"]
    per["category"] = cat.reindex(per.index).values
    totals = per.groupby("category", dropna=False)[["n", "defects", "negatives"]].transform("sum")
    base_defect = ((totals["defects"] + 1) / (totals["n"] + 20)).clip(0.01, 0.5)
    base_negative = ((totals["negatives"] + 2) / (totals["n"] + 20)).clip(0.02, 0.6)
    out: list[Signal] = []
    # Per product, computed once for all products (no per-product frames): the most
    # reported safety hazard and its count, the dominant hazard of all defect reports,
    # and the evidence ids, most confident first.
    hz = r[r["is_hazard"]].sort_values(["defect_probability", "id"], ascending=[False, True])
    hz_counts = hz.groupby(["product_id", "hazard"]).size()
    top_hazard = _top_per_product(hz_counts)
    hz_ids = _id_lists(hz, ["product_id", "hazard"])
    df = r[r["is_defect"]].sort_values(["defect_probability", "id"], ascending=[False, True])
    df_hazard = _top_per_product(df.groupby(["product_id", "hazard"]).size())
    df_ids = _id_lists(df, ["product_id"])
    neg = r[r["is_negative"]].sort_values(["negative_probability", "id"], ascending=[False, True])
    neg_ids = _id_lists(neg, ["product_id"])
    b_def = base_defect.to_dict()
    b_neg = base_negative.to_dict()
    for pid, n, defects, negatives, hazards, first in per[
        ["n", "defects", "negatives", "hazards", "first"]
    ].itertuples(index=True, name=None):
        n = int(n)
        start = first.to_pydatetime() if pd.notna(first) else None
        if hazards > 0:
            hazard, k = top_hazard[pid]
            share = k / n
            # One report in many is weak (a misread review, a one-off); several
            # reports of the same hazard, or a high share, are strong.
            strength = saturate(k - 0.5, 2.0) * min(1.0, 0.6 + share / 0.1 * 0.4)
            out.append(
                Signal(
                    "product",
                    pid,
                    "review_hazard",
                    ACTIVE,
                    k,
                    strength,
                    f"{n}条评论中{k}条反映{HAZARD_ZH.get(hazard, hazard)}（{share:.1%}）",
                    {"reviews": hz_ids[(pid, hazard)]},
                    baseline=None,
                    hazard=hazard,
                    window_start=start,
                )
            )
        b = float(b_def[pid])
        k = int(defects)
        z = (k - n * b) / math.sqrt(max(n * b * (1 - b), 1e-9))
        if k and z > 1.0:
            out.append(
                Signal(
                    "product",
                    pid,
                    "review_defect",
                    ACTIVE,
                    k / n,
                    min(1.0, (z - 1.0) / 4.0) * saturate(k, 2.0),
                    f"{n}条评论中{k}条反映质量问题（{k / n:.1%}，同类产品约{b:.1%}）",
                    {"reviews": df_ids[(pid,)]},
                    baseline=b,
                    hazard=df_hazard.get(pid, (None, 0))[0],
                    window_start=start,
                )
            )
        b = float(b_neg[pid])
        k = int(negatives)
        z = (k - n * b) / math.sqrt(max(n * b * (1 - b), 1e-9))
        if k and z > 1.5:
            out.append(
                Signal(
                    "product",
                    pid,
                    "review_negative",
                    ACTIVE,
                    k / n,
                    min(1.0, (z - 1.5) / 4.0) * saturate(k, 3.0),
                    f"差评{k}条，占{k / n:.1%}（同类产品约{b:.1%}）",
                    {"reviews": neg_ids[(pid,)]},
                    baseline=b,
                    window_start=start,
                )
            )
    out.extend(_spikes(per, r, f.end, base_defect))
    return out


def _spikes(
    per: pd.DataFrame, r: pd.DataFrame, end: dt.datetime, base_defect: pd.Series
) -> list[Signal]:
    """The last 90 days against the product's own earlier reviews (two-proportion test;
    with too little history, against the category's rate)."""
    cut = pd.Timestamp(end - dt.timedelta(days=SPIKE_DAYS))
    out: list[Signal] = []
    n1 = per["n_recent"].astype(float)
    k1 = per["defects_recent"].astype(float)
    n0 = per["n"] - n1
    k0 = per["defects"] - k1
    b_cat = base_defect.reindex(per.index).fillna(0.05)
    own = n0 >= 10
    p0 = pd.Series(np.where(own, (k0 + 0.5) / (n0 + 1), b_cat), index=per.index)
    p1 = k1 / n1.where(n1 > 0, 1)
    se = np.sqrt(p0 * (1 - p0) / n1.where(n1 > 0, 1) + np.where(own, p0 * (1 - p0) / n0.clip(1), 0))
    z = (p1 - p0) / np.maximum(se, 1e-9)
    mask = (n1 >= 3) & (k1 >= 2) & (z > 2.0)
    bad_recent = r[(r["posted_at"] >= cut) & r["is_defect"]].sort_values(
        ["posted_at", "id"], ascending=[False, True]
    )
    top = _top_per_product(bad_recent.groupby(["product_id", "hazard"]).size())
    ids = _id_lists(bad_recent, ["product_id"])
    for pid in per.index[mask]:
        zz = float(z.loc[pid])
        base = float(p0.loc[pid])
        share = float(p1.loc[pid])
        out.append(
            Signal(
                "product",
                pid,
                "review_spike",
                ACTIVE,
                share,
                min(1.0, (zz - 2.0) / 4.0 + 0.25),
                f"近{SPIKE_DAYS}天问题评论占{share:.1%}，此前{base:.1%}"
                f"（{'本产品' if bool(own.loc[pid]) else '同类产品'}基线，z={zz:.1f}）",
                {"reviews": ids.get((pid,), [])},
                baseline=base,
                hazard=top.get(pid, (None, 0))[0],
                window_start=cut.to_pydatetime(),
            )
        )
    return out


# --------------------------------------------------------------------------- complaints


def complaint_signals(
    f: Frames, classify: Callable[[Sequence[str]], tuple[np.ndarray, list[str]]]
) -> list[Signal]:
    """Complaints of the last year by hazard, per product and per shop.

    ``classify(texts)`` gives each complaint's defect probability and hazard class (the
    review text models read complaint narratives as well)."""
    c = f.complaints
    if c.empty:
        return []
    start = f.end - dt.timedelta(days=COMPLAINT_DAYS)
    c = c[c["filed_at"] >= pd.Timestamp(start)]
    if c.empty:
        return []
    texts = (_text(c["title"]) + "。" + _text(c["problem"])).tolist()
    defect, hazard = classify(texts)
    c = c.assign(defect=defect, hazard=hazard)
    c = c.assign(
        kind=np.where(
            (c["defect"] >= DEFECT_CUTOFF) & c["hazard"].isin(SAFETY_HAZARDS),
            "hazard",
            np.where(c["defect"] >= DEFECT_CUTOFF, "quality", "other"),
        )
    )
    reviews_per_product = (
        f.review_stats.set_index("product_id")["n"] if len(f.review_stats) else None
    )
    out: list[Signal] = []
    linked = c[c["product_id"].notna()]
    for (pid, kind), g in linked.groupby(["product_id", "kind"]):
        if kind == "other":
            continue
        k = len(g)
        n_rev = int(reviews_per_product.get(pid, 0)) if reviews_per_product is not None else 0
        rate = 1000 * k / n_rev if n_rev else None
        rate_text = f"，每千条评论{rate:.1f}件" if rate is not None else ""
        if kind == "hazard":
            counts = g["hazard"].value_counts()
            hz = str(counts.index[0])
            out.append(
                Signal(
                    "product",
                    int(pid),
                    "complaints_hazard",
                    COMPLAINTS,
                    k,
                    saturate(k, 1.0),
                    f"一年内安全类投诉{k}件，以{HAZARD_ZH.get(hz, hz)}为主{rate_text}",
                    {"complaints": _ids(g["id"])},
                    baseline=rate,
                    hazard=hz,
                    window_start=start,
                )
            )
        else:
            out.append(
                Signal(
                    "product",
                    int(pid),
                    "complaints_quality",
                    COMPLAINTS,
                    k,
                    saturate(k, 2.0),
                    f"一年内质量类投诉{k}件{rate_text}",
                    {"complaints": _ids(g["id"])},
                    baseline=rate,
                    hazard="performance",
                    window_start=start,
                )
            )
    by_shop = c[c["shop_id"].notna() & (c["kind"] != "other")]
    for sid, g in by_shop.groupby("shop_id"):
        k = len(g)
        out.append(
            Signal(
                "shop",
                int(sid),
                "shop_complaints",
                COMPLAINTS,
                k,
                saturate(k, 3.0),
                f"一年内店铺质量与安全类投诉{k}件",
                {"complaints": _ids(g["id"])},
                window_start=start,
            )
        )
    return out


# ----------------------------------------------------------------------------- listings


def listing_signals(f: Frames, banned: Any | None) -> list[Signal]:
    """Banned advertising terms (with their exemptions), CCC missing where the category
    requires it, 三无 (no producer and no origin), and prices far below the brand's."""
    lst = f.listings
    if lst.empty:
        return []
    snap = dict(zip(f.snapshots["listing_id"], f.snapshots["snapshot_id"], strict=True))
    prod = f.products.set_index("id")
    out: list[Signal] = []

    def ev(ids: Iterable[int]) -> dict[str, list[int]]:
        ids = list(ids)
        snaps = [snap[i] for i in ids if i in snap]
        return {"listings": _ids(ids), "listing_snapshots": _ids(snaps)}

    linked = lst[lst["product_id"].notna()]
    if banned is not None:
        hits: dict[int, list[tuple[int, list[str], str]]] = {}
        for lid, pid, title, desc in zip(
            linked["id"], linked["product_id"], linked["title"], linked["description"], strict=True
        ):
            text = f"{title or ''}\n{desc or ''}"
            found = banned.violations(text)
            if found:
                terms = sorted({h.term for h in found})
                worst = min(
                    (getattr(h, "severity", "medium") for h in found),
                    key=lambda s: {"high": 0, "medium": 1, "low": 2}.get(s, 1),
                )
                hits.setdefault(int(pid), []).append((int(lid), terms, worst))
        for pid, items in hits.items():
            terms = sorted({t for _, ts, _ in items for t in ts})
            worst = min((w for *_, w in items), key=lambda s: {"high": 0, "medium": 1}.get(s, 2))
            out.append(
                Signal(
                    "product",
                    pid,
                    "banned_terms",
                    ACTIVE,
                    len(items),
                    {"high": 1.0, "medium": 0.7}.get(worst, 0.4),
                    f"{len(items)}个商品页使用违禁用语：{'、'.join(terms[:8])}",
                    ev(i for i, _, _ in items),
                    hazard="labelling",
                )
            )
    # CCC: listings of a product in the catalogue showing no certificate number.
    need_ccc = prod["is_ccc_required"].fillna(False).astype(bool)
    from_date = prod["ccc_required_from"]
    applies = need_ccc & (from_date.isna() | (pd.to_datetime(from_date) <= pd.Timestamp(f.as_of)))
    ccc = linked[linked["product_id"].map(applies).fillna(False).astype(bool)]
    totals = ccc.groupby("product_id").size().to_dict()
    missing = _id_lists(ccc[ccc["ccc_number"].isna()], ["product_id"])
    missing_n = ccc[ccc["ccc_number"].isna()].groupby("product_id").size().to_dict()
    for (pid,), ids in missing.items():
        k, total = int(missing_n[pid]), int(totals[pid])
        share = k / total
        out.append(
            Signal(
                "product",
                int(pid),
                "missing_ccc",
                ACTIVE,
                share,
                0.4 + 0.6 * share,
                f"属于强制性认证目录，{k}/{total}个商品页未标注3C证书编号",
                ev(ids),
                hazard="labelling",
            )
        )
    # 三无: neither producer nor origin shown.
    totals = linked.groupby("product_id").size().to_dict()
    bare = linked[linked["producer_name"].isna() & linked["origin"].isna()]
    bare_n = bare.groupby("product_id").size().to_dict()
    for (pid,), ids in _id_lists(bare, ["product_id"]).items():
        k, total = int(bare_n[pid]), int(totals[pid])
        share = k / total
        out.append(
            Signal(
                "product",
                int(pid),
                "sanwu",
                ACTIVE,
                share,
                share,
                f"{k}/{total}个商品页无生产者名称和产地（三无）",
                ev(ids),
                hazard="labelling",
            )
        )
    out.extend(_price_anomalies(f, linked, ev))
    return out


def _price_anomalies(
    f: Frames, linked: pd.DataFrame, ev: Callable[[Iterable[int]], dict[str, list[int]]]
) -> list[Signal]:
    """Listings priced far below what the same product sells for elsewhere (the median of
    its other listings), a counterfeit signal. A product sold by one listing only is
    compared with its brand in the same category, with robust statistics (median and
    MAD of log price) and a stricter bar, since one brand's range spans cheap and dear
    models."""
    prod = f.products.set_index("id")
    d = linked[linked["price_fen"].notna() & (linked["price_fen"] > 0)].copy()
    if d.empty:
        return []
    d["price"] = d["price_fen"].astype(float)
    g = d.groupby("product_id")["price"]
    n = g.transform("size")
    # Median of the *other* listings of the product (exact for 2 and 3 listings, the
    # product's median otherwise, which a single low listing barely moves).
    total = g.transform("sum")
    med = g.transform("median")
    d["ref"] = np.where(n == 2, total - d["price"], np.where(n >= 3, med, np.nan))
    d["how"] = "product"
    single = n == 1
    d["brand_key"] = _text(d["product_id"].map(prod["brand"])).str.lower()
    d["cat"] = _text(d["product_id"].map(prod["category_code"]))
    d["lp"] = np.log(d["price"])
    bg = d.groupby(["brand_key", "cat"])["lp"]
    b_med = bg.transform("median")
    # The median absolute deviation from the group's median, without a Python call per
    # group.
    b_mad = (d["lp"] - b_med).abs().groupby([d["brand_key"], d["cat"]]).transform("median")
    b_n = bg.transform("size")
    z = (d["lp"] - b_med) / np.maximum(1.4826 * b_mad, 0.15)
    brand_low = single & (b_n >= 6) & (d["brand_key"] != "") & (z <= -4.0)
    d.loc[brand_low, "ref"] = np.exp(b_med[brand_low])
    d.loc[brand_low, "how"] = "brand"
    d["ratio"] = d["price"] / d["ref"]
    low = d[
        ((d["how"] == "product") & (d["ratio"] <= 0.5))
        | ((d["how"] == "brand") & (d["ratio"] <= 0.35))
    ]
    # Product → its low listings' ids (frame order) and the lowest ratio with its peer
    # and reference (the first listing of that ratio).
    found: dict[int, tuple[list[int], float, str, float]] = {}
    for pid, lid, ratio, how, ref in zip(
        low["product_id"], low["id"], low["ratio"], low["how"], low["ref"], strict=True
    ):
        pid, ratio = int(pid), float(ratio)
        have = found.get(pid)
        if have is None:
            found[pid] = ([int(lid)], ratio, how, float(ref))
            continue
        have[0].append(int(lid))
        if ratio < have[1]:
            found[pid] = (have[0], ratio, how, float(ref))
    out: list[Signal] = []
    for pid in sorted(found):
        ids, ratio, how, ref = found[pid]
        peer = "同一产品其他商品页" if how == "product" else "同品牌同类商品"
        out.append(
            Signal(
                "product",
                pid,
                "price_anomaly",
                ACTIVE,
                ratio,
                float(min(1.0, max(0.3, (0.6 - ratio) / 0.4))),
                f"{len(ids)}个商品页售价仅为{peer}中位价的{ratio:.0%}，疑似假冒",
                ev(ids),
                baseline=ref / 100,
            )
        )
    return out


# ----------------------------------------------------------------------- seller networks


def seller_networks(shops: pd.DataFrame) -> dict[int, int]:
    """Shop id → network id for shops that share a phone, an address or a contact with
    another shop, directly or through others (union-find over the pseudonyms)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for col in ("phone_hash", "address_hash", "contact_hash"):
        if col not in shops:
            continue
        # Each shop joins the first shop seen with the same value. A network's root is
        # its smallest id whatever the order of the joins.
        first: dict[Any, int] = {}
        for value, sid in zip(shops[col], shops["id"], strict=True):
            if pd.isna(value):
                continue
            sid = int(sid)
            if value not in first:
                first[value] = sid
                continue
            a, b = find(first[value]), find(sid)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for x in list(parent):
        members.setdefault(find(x), []).append(x)
    return {x: root for root, xs in members.items() if len(xs) > 1 for x in xs}


def network_signals(f: Frames) -> list[Signal]:
    net = seller_networks(f.shops)
    if not net:
        return []
    members: dict[int, list[int]] = {}
    for sid, root in net.items():
        members.setdefault(root, []).append(sid)
    out: list[Signal] = []
    shared_cols = ("phone_hash", "address_hash", "contact_hash")
    contact = {
        int(i): vals
        for i, *vals in zip(f.shops["id"], *(f.shops[c] for c in shared_cols), strict=True)
    }
    for sids in members.values():
        sids = sorted(sids)
        shared = []
        for k, zh in enumerate(("电话", "地址", "联系人")):
            seen = [contact[s][k] for s in sids if s in contact and not pd.isna(contact[s][k])]
            if len(set(seen)) < len(seen):
                shared.append(zh)
        for sid in sids:
            out.append(
                Signal(
                    "shop",
                    sid,
                    "seller_network",
                    ACTIVE,
                    len(sids),
                    min(1.0, (len(sids) - 1) / 3),
                    f"与另外{len(sids) - 1}家店铺共用{'、'.join(shared) or '联系方式'}",
                    {"shops": _ids(sids)},
                )
            )
    lst = f.listings[f.listings["product_id"].notna() & f.listings["shop_id"].notna()]
    lst = lst[lst["shop_id"].isin(list(net))]
    # Product → its listings' shops and ids, in frame order.
    sold: dict[int, tuple[list[int], list[int]]] = {}
    for pid, sid, lid in zip(lst["product_id"], lst["shop_id"], lst["id"], strict=True):
        shop_ids, listing_ids = sold.setdefault(int(pid), ([], []))
        shop_ids.append(int(sid))
        listing_ids.append(int(lid))
    for pid in sorted(sold):
        shop_ids, listing_ids = sold[pid]
        roots = {net[s] for s in shop_ids}
        size = max(len(members[r]) for r in roots)
        out.append(
            Signal(
                "product",
                pid,
                "shop_network",
                ACTIVE,
                size,
                min(1.0, (size - 1) / 3),
                f"在售店铺属于{len(roots)}个关联店铺网络（最大{size}家）",
                {"shops": _ids(sorted(set(shop_ids))), "listings": _ids(listing_ids)},
            )
        )
    return out


# ------------------------------------------------------------------------------ recalls


def recall_signals(f: Frames) -> list[Signal]:
    m = f.matches
    if m.empty:
        return []
    out: list[Signal] = []
    for pid, g in m[m["product_id"].notna()].groupby("product_id"):
        g = g.sort_values("score", ascending=False)
        best = g.iloc[0]
        source = str(best["source"])
        channel = OVERSEAS if source in OVERSEAS_SOURCES else ENFORCEMENT
        hz = (
            best["hazard"] if isinstance(best["hazard"], str) and best["hazard"] != "none" else None
        )
        numbers = list(dict.fromkeys(g["recall_number"]))
        out.append(
            Signal(
                "product",
                int(pid),
                "recall_match",
                channel,
                float(best["score"]),
                float(best["score"]),
                f"与{source.upper()}召回{numbers[0]}匹配（{best['matched_on']}，"
                f"置信度{float(best['score']):.2f}）"
                + (f"，另有{len(numbers) - 1}项" if len(numbers) > 1 else ""),
                {
                    "recalls": _ids(dict.fromkeys(g["recall_id"])),
                    "listings": _ids(dict.fromkeys(g["listing_id"])),
                },
                hazard=hz,
            )
        )
    return out


# ------------------------------------------------------------------------------ history


def history_signals(f: Frames) -> list[Signal]:
    """Failed inspections (a sample fails when any item fails) of the same product, and
    of other products of the same brand, shop or producer."""
    ins = f.inspections
    if ins.empty:
        return []
    samples = ins.groupby("task_id").agg(
        product_id=("product_id", "first"),
        shop_id=("shop_id", "first"),
        failed=("verdict", lambda v: bool((v == "fail").any())),
        tested_on=("tested_on", "max"),
    )
    failed_items = ins[ins["verdict"] == "fail"].groupby("task_id")["id"].apply(list)
    fails = samples[samples["failed"]]
    if fails.empty:
        return []
    prod = f.products.set_index("id")
    fails = fails.assign(
        brand=_text(fails["product_id"].map(prod["brand"])).str.lower(),
        producer=_text(fails["product_id"].map(prod["producer_name"])),
    )
    out: list[Signal] = []

    def items(tasks: Iterable[str]) -> list[int]:
        return _ids(i for t in tasks for i in failed_items.get(t, []))

    by_product = fails[fails["product_id"].notna()].groupby("product_id")
    for pid, g in by_product:
        out.append(
            Signal(
                "product",
                int(pid),
                "history_product",
                LABORATORY,
                len(g),
                saturate(len(g), 0.7),
                f"本产品{len(g)}批次检验不合格（最近{max(g['tested_on'])}）",
                {"inspection_results": items(g.index)},
            )
        )
    products = f.products.assign(
        brand_key=_text(f.products["brand"]).str.lower(),
        producer=_text(f.products["producer_name"]),
    )
    for key, col, name, zh in (
        ("brand", "brand_key", "history_brand", "同品牌"),
        ("producer", "producer", "history_producer", "同生产者"),
    ):
        groups = {k: g for k, g in fails[fails[key] != ""].groupby(key)}
        if not groups:
            continue
        for pid, k in zip(products["id"], products[col], strict=True):
            g = groups.get(k)
            if g is None:
                continue
            others = g[g["product_id"] != pid]
            if others.empty:
                continue
            out.append(
                Signal(
                    "product",
                    int(pid),
                    name,
                    LABORATORY,
                    len(others),
                    saturate(len(others), 2.0),
                    f"{zh}其他产品{len(others)}批次检验不合格",
                    {"inspection_results": items(others.index)},
                )
            )
    shop_fails = {int(s): g for s, g in fails[fails["shop_id"].notna()].groupby("shop_id")}
    if shop_fails:
        lst = f.listings[f.listings["product_id"].notna() & f.listings["shop_id"].notna()]
        for pid, g in lst.groupby("product_id"):
            tasks = [
                t
                for s in set(g["shop_id"].astype(int))
                if s in shop_fails
                for t, row in shop_fails[s].iterrows()
                if row["product_id"] != pid
            ]
            if not tasks:
                continue
            out.append(
                Signal(
                    "product",
                    int(pid),
                    "history_shop",
                    LABORATORY,
                    len(tasks),
                    saturate(len(tasks), 2.0),
                    f"在售店铺的其他产品{len(tasks)}批次检验不合格",
                    {"inspection_results": items(tasks)},
                )
            )
        for sid, g in shop_fails.items():
            out.append(
                Signal(
                    "shop",
                    sid,
                    "shop_history",
                    LABORATORY,
                    len(g),
                    saturate(len(g), 1.0),
                    f"店铺{len(g)}批次样品检验不合格",
                    {"inspection_results": items(g.index)},
                )
            )
    return out
