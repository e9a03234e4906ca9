"""Risk assessment of every product on one date: 质量信息分析 and 质量风险评估.

:func:`assess` runs the steps in order, each idempotent:

1. **score reviews** the text models have not scored yet (or scored with another
   model version) into ``review_scores``;
2. **match recalls** against every listing into ``recall_matches``;
3. **signals** from every channel (:mod:`risk_models.signals`) into ``risk_signals``;
4. **score**: the likelihood model turns a product's signal strengths into the
   probability that a sample fails; the hazard in sight and the category give the
   severity; the versioned matrix gives the level;
5. **explain and confirm**: the signals that moved the score most, with their channel
   and evidence ids; confirmation rules (质量风险确认) and staff decisions.

Rows of ``risk_signals`` and ``risk_assessments`` are keyed by the assessment date, so
running a date again replaces that date's rows and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, delete, func, or_, select, tuple_

from ecqm.warehouse.bulk import upsert
from ecqm.warehouse.engine import database_identity
from ecqm.warehouse.schema import (
    evaluations,
    listings,
    recall_matches,
    review_scores,
    reviews,
    risk_assessments,
    risk_decisions,
    risk_signals,
)
from risk_models import signals as sg
from risk_models.confirmation import compose
from risk_models.frames import Frames, load_frames
from risk_models.matrix import LEVEL_RANK, RiskMatrix
from risk_models.scoring import Scorer, current_scorer

REVIEW_CHUNK = 20_000
TOP_SIGNALS = 5
# Confirmation rules (质量风险确认): an assessment is confirmed without staff when
# a recall matches with at least this confidence, when the product itself failed an
# inspection, or when two independent channels each show a signal at least this
# strong while the level is elevated or high.
CONFIRM_RECALL_SCORE = 0.8
CONFIRM_CHANNEL_STRENGTH = 0.5


@dataclass
class AssessReport:
    as_of: dt.date
    reviews_scored: int = 0
    review_model: str = ""
    recall_matches: int = 0
    signals: int = 0
    products: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    confirmed: int = 0
    dismissed: int = 0
    model_version: str = ""
    matrix_version: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["as_of"] = self.as_of.isoformat()
        return d


# ------------------------------------------------------------------------ review scores


def _review_texts(conn: Connection, version: str) -> Iterator[list[tuple[int, str]]]:
    """Reviews without a score from this model version, in chunks of ids and texts (the
    追评 follows the review's own text)."""
    last = 0
    while True:
        rows = conn.execute(
            select(reviews.c.id, reviews.c.text, reviews.c.attributes)
            .select_from(
                reviews.outerjoin(review_scores, review_scores.c.review_id == reviews.c.id)
            )
            .where(
                reviews.c.id > last,
                or_(review_scores.c.review_id.is_(None), review_scores.c.model_version != version),
            )
            .order_by(reviews.c.id)
            .limit(REVIEW_CHUNK)
        ).all()
        if not rows:
            return
        out = []
        for rid, text, attrs in rows:
            follow = (attrs or {}).get("followup_text") if isinstance(attrs, dict) else None
            out.append((int(rid), "\n".join(t for t in (text, follow) if t)))
        last = rows[-1][0]
        yield out


def score_reviews(engine: Engine, scorer: Any, now: dt.datetime) -> int:
    """Score every review the current text model has not scored; returns how many."""
    n = 0
    with engine.connect() as reader:
        for chunk in _review_texts(reader, scorer.version):
            scores = scorer.score([t for _, t in chunk])
            rows = []
            for i, (rid, text) in enumerate(chunk):
                hits = scorer.lexicon_hits(text) if scores.hazard[i] != "none" else []
                rows.append(
                    {
                        "review_id": rid,
                        "model_version": scorer.version,
                        "negative_probability": round(float(scores.negative_probability[i]), 6),
                        "defect_probability": round(float(scores.defect_probability[i]), 6),
                        "hazard": scores.hazard[i],
                        "hazard_probability": round(float(scores.hazard_probability[i]), 6),
                        "terms": sorted({h.term for h in hits if not h.negated}) or None,
                        "scored_at": now,
                    }
                )
            with engine.begin() as conn:
                upsert(conn, review_scores, rows)
            n += len(rows)
    return n


def register_text_model(conn: Connection, scorer: Any, now: dt.datetime) -> None:
    """Record the review text model in ``model_versions`` (once per version)."""
    import json

    from risk_models.scoring import register

    meta = json.loads(json.dumps(getattr(scorer, "metadata", {}) or {}, default=str))
    window = meta.get("training_window") or [None, None]
    rows = (meta.get("rows") or {}).get("fitted", 0)
    register(
        conn,
        {
            "model_name": "review_text",
            "version": scorer.version,
            "kind": "weak",
            "status": "champion",
            "trained_at": now,
            "window_start": _moment(window[0]),
            "window_end": _moment(window[-1]),
            "rows": int(rows) if isinstance(rows, int | float) else 0,
            "metrics": meta.get("metrics") or {},
            "params": {k: v for k, v in meta.items() if k not in ("metrics",)},
            "artifact": None,
        },
    )


def _moment(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# ------------------------------------------------------------------------ recall matches


def match_recalls(
    conn: Connection, now: dt.datetime, state_dir: Path | None = None
) -> tuple[int, Callable[[], None]]:
    """Match listings against every recall in the warehouse; the table then holds exactly
    the current matches. Returns how many there are, and what to call once the
    transaction is committed (it records the state for the next run; never called, the
    next run matches every listing).

    With ``state_dir`` the run is incremental when it can be exact: the file there
    records what the last run matched with (the recalls and their versions, the brand
    aliases, the matcher's code and rules) and up to which listing version. When all of
    that is unchanged and ``recall_matches`` is as that run left it, only the listings
    written since (``staging_id`` above the mark, or new ids) are matched again;
    anything else (a new or changed recall, a newly learned alias, a rebuilt core, a
    missing file) matches every listing, as without ``state_dir``.
    """
    from ecqm.warehouse.schema import recalls
    from risk_models.recalls import RecallMatcher

    matcher = RecallMatcher.from_warehouse(conn)
    recall_rows = conn.execute(
        select(
            recalls.c.id, recalls.c.source, recalls.c.recall_number, recalls.c.staging_id
        ).order_by(recalls.c.id)
    ).all()
    recall_ids = {(s, n): i for i, s, n, _ in recall_rows}
    mark, last_listing = conn.execute(
        select(func.max(listings.c.staging_id), func.max(listings.c.id))
    ).one()
    stamp = _matcher_stamp(matcher, recall_rows, database_identity(conn))
    path = _recall_state_path(conn, state_dir) if state_dir is not None else None
    saved = _read_json(path)
    since = None
    if saved and saved.get("stamp") == stamp and saved.get("matches") == _matches_seen(conn):
        since = (int(saved["listing_mark"]), int(saved["last_listing"]))
    cols = (listings.c.id, listings.c.title, listings.c.brand, listings.c.model, listings.c.gtin)
    query = select(*cols).order_by(listings.c.id)
    if since is not None:
        query = query.where(or_(listings.c.staging_id > since[0], listings.c.id > since[1]))
    rows = conn.execute(query).all()
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for (lid, *_), matches in zip(
        rows,
        matcher.match_many(
            {"title": t or "", "brand": b, "model": m, "gtin": g} for _, t, b, m, g in rows
        ),
        strict=True,
    ):
        for m in matches:
            rid = recall_ids.get((m.source, m.recall_id))
            if rid is None:
                continue
            key = (int(lid), int(rid))
            if key in found and found[key]["score"] >= m.score:
                continue
            found[key] = {
                "listing_id": int(lid),
                "recall_id": int(rid),
                "source": m.source,
                "recall_number": m.recall_id,
                "score": round(float(m.score), 6),
                "matched_on": m.matched_on,
                "matched_model": (m.model or None),
                "hazard": m.hazard_class,
                "matched_at": now,
            }
    pairs = select(recall_matches.c.listing_id, recall_matches.c.recall_id)
    if since is None:
        existing = set(conn.execute(pairs))
    else:
        seen = [int(r[0]) for r in rows]
        existing = set()
        for i in range(0, len(seen), 1000):
            existing |= set(
                conn.execute(pairs.where(recall_matches.c.listing_id.in_(seen[i : i + 1000])))
            )
    stale = [k for k in existing if tuple(k) not in found]
    for i in range(0, len(stale), 500):
        conn.execute(
            delete(recall_matches).where(
                tuple_(recall_matches.c.listing_id, recall_matches.c.recall_id).in_(
                    stale[i : i + 500]
                )
            )
        )
    # Unchanged matches keep their row (and their first matched_at).
    if found:
        upsert(
            conn,
            recall_matches,
            list(found.values()),
            update=("source", "recall_number", "score", "matched_on", "matched_model", "hazard"),
        )
    total = conn.execute(select(func.count()).select_from(recall_matches)).scalar_one()
    state = {
        "stamp": stamp,
        "listing_mark": int(mark or 0),
        "last_listing": int(last_listing or 0),
        "matches": _matches_seen(conn),
        "incremental": since is not None,
        "listings_matched": len(rows),
    }

    def committed() -> None:
        if path is not None:
            _write_json(path, state)

    return int(total), committed


# The files whose contents decide what the matcher finds, besides the recalls and the
# aliases: a change of code or rules matches every listing again.
_MATCHER_FILES = ("risk_models/recalls", "transforms/categories", "transforms/resolve")


def _matcher_stamp(matcher: Any, recall_rows: list[Any], warehouse: str) -> str:
    import hashlib
    import json

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder in _MATCHER_FILES:
        for f in sorted((root / folder).rglob("*")):
            if f.is_file() and f.suffix in (".py", ".yaml", ".yml", ".json", ".txt"):
                digest.update(f.relative_to(root).as_posix().encode())
                digest.update(f.read_bytes())
    digest.update(
        json.dumps(
            {
                "recalls": [[int(i), s, n, s_id] for i, s, n, s_id in recall_rows],
                "aliases": sorted(sorted(g) for g in matcher.aliases.groups()),
                "warehouse": warehouse,
                "min_score": matcher.min_score,
                "check_category": matcher.check_category,
            },
            ensure_ascii=False,
            default=str,
        ).encode()
    )
    return digest.hexdigest()


def _matches_seen(conn: Connection) -> list[int]:
    """How ``recall_matches`` stands: row count and largest id (a rebuild or another
    writer changes them)."""
    n, top = conn.execute(
        select(func.count(), func.max(recall_matches.c.id)).select_from(recall_matches)
    ).one()
    return [int(n), int(top or 0)]


def _recall_state_path(conn: Connection, state_dir: Path) -> Path:
    import hashlib

    url = conn.engine.url.render_as_string(hide_password=True)
    return state_dir / f"recall_matches-{hashlib.sha256(url.encode()).hexdigest()[:16]}.json"


def _read_json(path: Path | None) -> dict[str, Any] | None:
    import json

    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


# ----------------------------------------------------------------------------- scoring


def classify_texts(scorer: Any):
    def classify(texts: list[str]) -> tuple[np.ndarray, list[str]]:
        if not texts:
            return np.zeros(0), []
        s = scorer.score(texts)
        return np.asarray(s.defect_probability), list(s.hazard)

    return classify


def compute_signals(f: Frames, text_scorer: Any, banned: Any) -> list[sg.Signal]:
    out: list[sg.Signal] = []
    out += sg.review_signals(f)
    out += sg.complaint_signals(f, classify_texts(text_scorer))
    out += sg.listing_signals(f, banned)
    out += sg.network_signals(f)
    out += sg.recall_signals(f)
    out += sg.history_signals(f)
    return out


def _hazard(sigs: list[sg.Signal], weights: dict[str, float]) -> str | None:
    """The hazard the signals point at: safety hazards first, by weighted strength."""
    score: dict[str, float] = {}
    for s in sigs:
        if s.hazard:
            score[s.hazard] = score.get(s.hazard, 0.0) + s.strength * max(
                weights.get(s.signal, 0.5), 0.1
            )
    safety = {h: v for h, v in score.items() if h in sg.SAFETY_HAZARDS}
    pool = safety or score
    return max(sorted(pool), key=lambda h: pool[h]) if pool else None


def _latest_decisions(conn: Connection, end: dt.datetime) -> dict[int, dict[str, Any]]:
    newest = (
        select(risk_decisions.c.product_id, func.max(risk_decisions.c.decided_at).label("at"))
        .where(risk_decisions.c.decided_at < end)
        .group_by(risk_decisions.c.product_id)
        .subquery()
    )
    rows = conn.execute(
        select(risk_decisions).join(
            newest,
            and_(
                newest.c.product_id == risk_decisions.c.product_id,
                newest.c.at == risk_decisions.c.decided_at,
            ),
        )
    ).mappings()
    return {int(r["product_id"]): dict(r) for r in rows}


def assess(
    engine: Engine,
    as_of: dt.date,
    *,
    home: Path,
    now: dt.datetime | None = None,
    text_scorer: Any | None = None,
    matrix: RiskMatrix | None = None,
) -> AssessReport:
    """Assess every product as of the end of ``as_of`` (Asia/Shanghai)."""
    from transforms.reference.load import read_reference
    from transforms.reference.terms import BannedTermMatcher

    now = now or dt.datetime.now(dt.UTC)
    matrix = matrix or RiskMatrix.load()
    report = AssessReport(as_of=as_of, matrix_version=matrix.version)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        t = time.perf_counter()
        report.seconds[name] = round(t - clock, 3)
        clock = t

    if text_scorer is None:
        from risk_models.text import default_scorer

        text_scorer = default_scorer(home)
    report.review_model = text_scorer.version
    with engine.begin() as conn:
        register_text_model(conn, text_scorer, now)
    report.reviews_scored = score_reviews(engine, text_scorer, now)
    lap("score_reviews")
    with engine.begin() as conn:
        report.recall_matches, recall_matches_committed = match_recalls(conn, now, home / "state")
    recall_matches_committed()
    lap("match_recalls")
    banned = BannedTermMatcher(read_reference().banned_terms)
    with engine.begin() as conn:
        frames = load_frames(conn, as_of)
        lap("load")
        sigs = compute_signals(frames, text_scorer, banned)
        lap("signals")
        scorer = current_scorer(conn, home, now)
        report.model_version = scorer.version
        rows = _assessments(conn, frames, sigs, scorer, matrix, now, report)
        lap("score")
        _write(conn, as_of, frames, sigs, rows, now)
        lap("write")
    report.signals = len(sigs)
    report.products = len(rows)
    return report


def _assessments(
    conn: Connection,
    f: Frames,
    sigs: list[sg.Signal],
    scorer: Scorer,
    matrix: RiskMatrix,
    now: dt.datetime,
    report: AssessReport,
) -> list[dict[str, Any]]:
    col = {s: i for i, s in enumerate(sg.PRODUCT_SIGNALS)}
    pids = [int(p) for p in f.products["id"]]
    index = {p: i for i, p in enumerate(pids)}
    X = np.zeros((len(pids), len(col)))
    by_product: dict[int, list[sg.Signal]] = {}
    for s in sigs:
        if s.subject_kind != "product" or s.subject_id not in index:
            continue
        by_product.setdefault(int(s.subject_id), []).append(s)
        if s.signal in col:
            i, j = index[int(s.subject_id)], col[s.signal]
            X[i, j] = max(X[i, j], s.strength)
    proba = scorer.predict_proba(X) if len(pids) else np.zeros(0)
    contrib = scorer.contributions(X) if len(pids) else np.zeros((0, len(col)))
    weights = dict(
        zip(sg.PRODUCT_SIGNALS, np.abs(contrib).max(axis=0) if len(pids) else [], strict=False)
    )
    decisions = _latest_decisions(conn, f.end)
    lab = _failed_reports(conn, f.as_of)
    prod = f.products.set_index("id")
    levels = {lv: 0 for lv in ("high", "elevated", "moderate", "low")}
    rows = []
    for p in pids:
        i = index[p]
        own = by_product.get(p, [])
        hazard = _hazard(own, {k: float(v) for k, v in weights.items()})
        meta = prod.loc[p]
        sw = meta["severity_weight"]
        ms = meta["max_severity"]
        likelihood = matrix.likelihood(float(proba[i]))
        severity = matrix.severity(
            hazard,
            severity_weight=None if pd.isna(sw) else float(sw),
            max_severity=None if pd.isna(ms) else int(ms),
        )
        level = matrix.level(likelihood, severity)
        explanation = _explain(own, contrib[i], hazard, float(proba[i]), scorer.version)
        reports = lab.get(p, [])
        confirmed, why = _confirmation(own, level, lab_reports=bool(reports))
        if reports:
            # The product's own failed samples, as the evaluation of results writes them.
            confirmed, why = True, compose(reports, [why] if why else [])
        status, note = "pending", None
        d = decisions.get(p)
        if d is not None:
            when = d["decided_at"].astimezone(dt.UTC).strftime("%Y-%m-%d")
            if d["decision"] == "confirm":
                confirmed, status = True, "confirmed"
                why = f"人工确认（{d['decided_by']}，{when}）" + (
                    f"：{d['reason']}" if d["reason"] else ""
                )
            elif LEVEL_RANK[level] > LEVEL_RANK.get(d["level_at_decision"] or "low", 0):
                status = "pending"
                note = (
                    f"{d['decided_by']}于{when}排除时为{matrix.level_zh(d['level_at_decision'] or 'low')}，"
                    f"现升至{matrix.level_zh(level)}，需重新复核"
                )
            else:
                confirmed, status = False, "dismissed"
                why = None
                note = f"人工排除（{d['decided_by']}，{when}）" + (
                    f"：{d['reason']}" if d["reason"] else ""
                )
        if status == "dismissed":
            report.dismissed += 1
        report.confirmed += int(confirmed)
        levels[level] += 1
        rows.append(
            {
                "as_of": f.as_of,
                "product_id": p,
                "category_code": None
                if pd.isna(meta["category_code"])
                else str(meta["category_code"]),
                "probability": round(float(proba[i]), 6),
                "likelihood": likelihood,
                "severity": severity,
                "level": level,
                "hazard": hazard,
                "model_version": scorer.version,
                "matrix_version": matrix.version,
                "summary": _summary(explanation, matrix, level),
                "explanation": explanation,
                "is_confirmed": confirmed,
                "confirmation": why,
                "review_status": status,
                "review_note": note,
                "assessed_at": now,
            }
        )
    report.levels = levels
    return rows


def _explain(
    own: list[sg.Signal], contrib: np.ndarray, hazard: str | None, p: float, version: str
) -> dict[str, Any]:
    col = {s: i for i, s in enumerate(sg.PRODUCT_SIGNALS)}
    scored = []
    for s in own:
        c = float(contrib[col[s.signal]]) if s.signal in col else 0.0
        scored.append((c, s))
    scored.sort(key=lambda cs: (-cs[0], cs[1].signal))
    top = [
        {
            "signal": s.signal,
            "name_zh": sg.SIGNAL_ZH.get(s.signal, s.signal),
            "channel": s.channel,
            "channel_zh": sg.CHANNEL_ZH.get(s.channel, s.channel),
            "strength": round(float(s.strength), 4),
            "contribution": round(c, 4),
            "hazard": s.hazard,
            "detail": s.detail,
            "evidence": {k: [int(x) for x in v] for k, v in s.evidence.items() if len(v)},
        }
        for c, s in scored
        if c > 0
    ][:TOP_SIGNALS]
    return {
        "probability": round(p, 6),
        "model_version": version,
        "hazard": hazard,
        "hazard_zh": sg.HAZARD_ZH.get(hazard or "", None),
        "channels": sorted({t["channel"] for t in top}),
        "top_signals": top,
    }


def _summary(explanation: dict[str, Any], matrix: RiskMatrix, level: str) -> str:
    top = explanation["top_signals"][:3]
    if not top:
        return f"{matrix.level_zh(level)}：未发现风险信号"
    parts = "；".join(f"{t['name_zh']}（{t['channel_zh']}）：{t['detail']}" for t in top)
    return f"{matrix.level_zh(level)}：{parts}"


INDIRECT_SIGNALS = frozenset({"history_brand", "history_shop", "history_producer", "shop_network"})


def _failed_reports(conn: Connection, as_of: dt.date) -> dict[int, list[str]]:
    """Product → the numbers of its current failed reports tested on or before ``as_of``
    (``evaluations``; a retest's pass supersedes a failure)."""
    rows = conn.execute(
        select(evaluations.c.product_id, evaluations.c.report_number).where(
            evaluations.c.status == "current",
            evaluations.c.verdict == "fail",
            evaluations.c.tested_on <= as_of,
            evaluations.c.product_id.is_not(None),
        )
    ).all()
    out: dict[int, list[str]] = {}
    for pid, number in rows:
        out.setdefault(int(pid), []).append(str(number))
    return out


def _confirmation(
    own: list[sg.Signal], level: str, *, lab_reports: bool = False
) -> tuple[bool, str | None]:
    """The rules' confirmation. ``lab_reports``: the product's failed reports are
    evaluated, and confirm it in their own words (:mod:`risk_models.confirmation`)."""
    for s in own:
        if s.signal == "recall_match" and s.strength >= CONFIRM_RECALL_SCORE:
            return True, f"召回匹配确认：{s.detail}"
    for s in own:
        if s.signal == "history_product" and not lab_reports:
            return True, f"检验不合格确认：{s.detail}"
    if LEVEL_RANK[level] >= LEVEL_RANK["elevated"]:
        strong = {}
        for s in own:
            # Evidence about this product only: a failed test of the same brand, shop or
            # producer, or a shop's seller network, raises the odds but confirms nothing.
            if (
                s.strength >= CONFIRM_CHANNEL_STRENGTH
                and s.signal in sg.PRODUCT_SIGNALS
                and s.signal not in INDIRECT_SIGNALS
            ):
                strong.setdefault(s.channel, s)
        if len(strong) >= 2:
            names = "、".join(sg.CHANNEL_ZH.get(c, c) for c in sorted(strong))
            return True, f"多渠道确认：{names}两个以上独立渠道均有较强信号"
    return False, None


def _write(
    conn: Connection,
    as_of: dt.date,
    f: Frames,
    sigs: list[sg.Signal],
    rows: list[dict[str, Any]],
    now: dt.datetime,
) -> None:
    """Replace this date's signals and assessments: upsert on the natural keys (rows that
    did not change keep their ids) and delete the ones this run no longer produces."""
    sig_rows = [s.row(as_of, f.end, now) for s in sigs]
    keep = {(r["subject_kind"], r["subject_id"], r["signal"]) for r in sig_rows}
    old = conn.execute(
        select(
            risk_signals.c.id,
            risk_signals.c.subject_kind,
            risk_signals.c.subject_id,
            risk_signals.c.signal,
        ).where(risk_signals.c.as_of == as_of)
    ).all()
    gone = [i for i, k, s, n in old if (k, int(s), n) not in keep]
    for i in range(0, len(gone), 1000):
        conn.execute(delete(risk_signals).where(risk_signals.c.id.in_(gone[i : i + 1000])))
    if sig_rows:
        upsert(conn, risk_signals, sig_rows, update=_changing(risk_signals))
    keep_p = {r["product_id"] for r in rows}
    old_p = conn.execute(
        select(risk_assessments.c.id, risk_assessments.c.product_id).where(
            risk_assessments.c.as_of == as_of
        )
    ).all()
    gone = [i for i, p in old_p if int(p) not in keep_p]
    for i in range(0, len(gone), 1000):
        conn.execute(delete(risk_assessments).where(risk_assessments.c.id.in_(gone[i : i + 1000])))
    if rows:
        upsert(conn, risk_assessments, rows, update=_changing(risk_assessments))


def _changing(table: Any) -> tuple[str, ...]:
    """Columns an upsert may change: everything but the key, the id and the timestamps
    (a re-run that changes nothing else leaves the row as it was)."""
    fixed = {"id", "as_of", "product_id", "subject_kind", "subject_id", "signal"}
    fixed |= {"computed_at", "assessed_at"}
    return tuple(c.name for c in table.columns if c.name not in fixed)
