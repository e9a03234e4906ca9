"""The likelihood model: the probability that a test sample of a product fails inspection.

At cold start it is a weighted-rules model (``data/scoring_rules.yaml``): a logistic
function of the signal strengths with weights set by judgement. Once enough inspection
results exist, :func:`train` fits a logistic regression on the signals each tested
product had *before* its test, calibrated with :class:`~sklearn.calibration.CalibratedClassifierCV`,
and promotes it only when it beats the current model (the champion) on the most recent
quarter of outcomes, held out. Every version is a row of ``model_versions`` with its
data window and metrics.

Both models explain themselves the same way: the contribution of each signal to the
log-odds of failure, which the assessment's explanation lists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import Connection, select, update

from ecqm.warehouse.schema import inspection_results, model_versions, risk_assessments, risk_signals
from risk_models.signals import PRODUCT_SIGNALS
from transforms.results.retests import is_current_report

MODEL_NAME = "risk_score"
RULES_PATH = Path(__file__).with_name("data") / "scoring_rules.yaml"
ARTIFACT_FORMAT = 1
MIN_OUTCOMES = 200
MIN_PER_CLASS = 20


class Scorer(Protocol):
    version: str
    kind: str

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...

    def contributions(self, X: np.ndarray) -> np.ndarray: ...


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class RuleScorer:
    """Weighted rules: ``p = sigmoid(logit(base) + Σ weight·strength)``."""

    version: str
    base_probability: float
    weights: tuple[float, ...]
    kind: str = "rules"

    @classmethod
    def load(cls, path: Path | str | None = None) -> RuleScorer:
        path = Path(path or RULES_PATH)
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        weights = doc.get("weights") or {}
        unknown = set(weights) - set(PRODUCT_SIGNALS)
        if unknown:
            raise ValueError(f"{path}: weights for unknown signals: {', '.join(sorted(unknown))}")
        base = float(doc["base_probability"])
        if not 0 < base < 1:
            raise ValueError(f"{path}: base_probability must lie between 0 and 1, not {base}")
        return cls(
            version=str(doc["version"]),
            base_probability=base,
            weights=tuple(float(weights.get(s, 0.0)) for s in PRODUCT_SIGNALS),
        )

    def contributions(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float) * np.asarray(self.weights)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        z = _logit(self.base_probability) + self.contributions(X).sum(axis=1)
        return _sigmoid(z)

    def params(self) -> dict[str, Any]:
        return {
            "base_probability": self.base_probability,
            "weights": dict(zip(PRODUCT_SIGNALS, self.weights, strict=True)),
        }


class LearnedScorer:
    """A calibrated logistic regression on the signal strengths."""

    kind = "learned"

    def __init__(self, model: Any, version: str, features: tuple[str, ...] = PRODUCT_SIGNALS):
        self.model = model
        self.version = version
        self.features = features

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(np.asarray(X, dtype=float))[:, 1]

    def coefficients(self) -> np.ndarray:
        """The logistic regression's weights, averaged over the calibration folds."""
        coefs = [c.estimator.coef_[0] for c in self.model.calibrated_classifiers_]
        return np.mean(coefs, axis=0)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float) * self.coefficients()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(
                {
                    "format": ARTIFACT_FORMAT,
                    "version": self.version,
                    "features": self.features,
                    "model": self.model,
                },
                fh,
            )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> LearnedScorer:
        with Path(path).open("rb") as fh:
            doc = pickle.load(fh)  # noqa: S301 — our own artifact under $ECQM_HOME
        if not isinstance(doc, dict) or doc.get("format") != ARTIFACT_FORMAT:
            raise ValueError(f"{path}: not a risk-score model of format {ARTIFACT_FORMAT}")
        if tuple(doc["features"]) != PRODUCT_SIGNALS:
            raise ValueError(f"{path}: the model was trained on other signals; retrain it")
        return cls(doc["model"], doc["version"], tuple(doc["features"]))


def register(conn: Connection, row: dict[str, Any]) -> None:
    """Record a model version (once; a second registration of a version changes nothing)."""
    exists = conn.execute(
        select(model_versions.c.id).where(
            model_versions.c.model_name == row["model_name"],
            model_versions.c.version == row["version"],
        )
    ).first()
    if exists is None:
        conn.execute(model_versions.insert().values(**row))


def rules_row(rules: RuleScorer, now: dt.datetime, status: str) -> dict[str, Any]:
    return {
        "model_name": MODEL_NAME,
        "version": rules.version,
        "kind": "rules",
        "status": status,
        "trained_at": now,
        "window_start": None,
        "window_end": None,
        "rows": 0,
        "metrics": {},
        "params": rules.params(),
        "artifact": str(RULES_PATH.name),
    }


def current_scorer(conn: Connection, home: Path, now: dt.datetime) -> Scorer:
    """The champion: the newest promoted learned model whose artifact loads, else the
    rules (registered as champion the first time they are used)."""
    rows = conn.execute(
        select(model_versions.c.version, model_versions.c.artifact, model_versions.c.kind)
        .where(model_versions.c.model_name == MODEL_NAME, model_versions.c.status == "champion")
        .order_by(model_versions.c.trained_at.desc(), model_versions.c.id.desc())
    ).all()
    rules = RuleScorer.load()
    for version, artifact, kind in rows:
        if kind == "learned" and artifact:
            path = Path(artifact)
            if not path.is_absolute():
                path = home / artifact
            try:
                return LearnedScorer.load(path)
            except (OSError, ValueError, pickle.UnpicklingError):
                continue
        if kind == "rules" and version == rules.version:
            return rules
    register(conn, rules_row(rules, now, "champion" if not rows else "challenger"))
    return rules


# --------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    version: str | None
    promoted: bool
    rows: int
    metrics: dict[str, Any]
    champion_metrics: dict[str, Any]
    reason: str


def outcomes(conn: Connection) -> pd.DataFrame:
    """One row per inspected sample: product, test date, failed or not, and the signal
    strengths of the newest assessment of that product made on or before the test date."""
    res = conn.execute(
        select(
            inspection_results.c.task_id,
            inspection_results.c.product_id,
            inspection_results.c.verdict,
            inspection_results.c.tested_on,
        ).where(
            inspection_results.c.product_id.is_not(None),
            # A retest (复检) supersedes the first report of its task.
            is_current_report(inspection_results, dialect=conn.dialect.name),
        )
    )
    items = pd.DataFrame(res.fetchall(), columns=["task_id", "product_id", "verdict", "tested_on"])
    if items.empty:
        return pd.DataFrame(columns=["task_id", "product_id", "tested_on", "failed", "as_of"])
    samples = items.groupby("task_id").agg(
        product_id=("product_id", "first"),
        tested_on=("tested_on", "max"),
        failed=("verdict", lambda v: int((v == "fail").any())),
    )
    assessed = pd.DataFrame(
        conn.execute(select(risk_assessments.c.product_id, risk_assessments.c.as_of)).fetchall(),
        columns=["product_id", "as_of"],
    )
    samples = samples.reset_index().sort_values("tested_on")
    assessed = assessed.sort_values("as_of")
    samples["tested_on"] = pd.to_datetime(samples["tested_on"])
    assessed["as_of"] = pd.to_datetime(assessed["as_of"])
    joined = pd.merge_asof(
        samples,
        assessed,
        left_on="tested_on",
        right_on="as_of",
        by="product_id",
        direction="backward",
    )
    return joined[joined["as_of"].notna()].reset_index(drop=True)


def feature_matrix(conn: Connection, rows: pd.DataFrame) -> np.ndarray:
    """Signal strengths (columns in :data:`PRODUCT_SIGNALS` order) for (product, as_of)."""
    X = np.zeros((len(rows), len(PRODUCT_SIGNALS)))
    if rows.empty:
        return X
    col = {s: i for i, s in enumerate(PRODUCT_SIGNALS)}
    wanted = {(int(p), a.date()) for p, a in zip(rows["product_id"], rows["as_of"], strict=True)}
    dates = sorted({a for _, a in wanted})
    sig = pd.DataFrame(
        conn.execute(
            select(
                risk_signals.c.subject_id,
                risk_signals.c.as_of,
                risk_signals.c.signal,
                risk_signals.c.strength,
            ).where(
                risk_signals.c.subject_kind == "product",
                risk_signals.c.as_of.in_(dates),
                risk_signals.c.signal.in_(PRODUCT_SIGNALS),
            )
        ).fetchall(),
        columns=["product_id", "as_of", "signal", "strength"],
    )
    index = {
        (int(p), a.date()): i
        for i, (p, a) in enumerate(zip(rows["product_id"], rows["as_of"], strict=True))
    }
    for p, a, s, v in sig.itertuples(index=False):
        i = index.get((int(p), a if isinstance(a, dt.date) else a.date()))
        if i is not None:
            X[i, col[s]] = v
    return X


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    p = np.clip(p, 1e-6, 1 - 1e-6)
    out: dict[str, Any] = {
        "n": int(len(y)),
        "failures": int(y.sum()),
        "brier": round(float(brier_score_loss(y, p)), 6),
        "log_loss": round(float(log_loss(y, p, labels=[0, 1])), 6),
    }
    if 0 < y.sum() < len(y):
        out["roc_auc"] = round(float(roc_auc_score(y, p)), 6)
        out["pr_auc"] = round(float(average_precision_score(y, p)), 6)
    return out


def train(
    conn: Connection,
    home: Path,
    now: dt.datetime,
    *,
    min_outcomes: int = MIN_OUTCOMES,
    seed: int = 0,
) -> TrainResult:
    """Fit a challenger on the inspection outcomes and promote it if it beats the champion
    on the newest quarter of outcomes (lower Brier score), held out from its training."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    data = outcomes(conn)
    y = data["failed"].to_numpy(dtype=int) if len(data) else np.zeros(0, dtype=int)
    if len(data) < min_outcomes or min(int(y.sum()), int(len(y) - y.sum())) < MIN_PER_CLASS:
        return TrainResult(
            None,
            False,
            len(data),
            {},
            {},
            f"{len(data)} assessed outcomes ({int(y.sum())} failures); training needs "
            f"{min_outcomes} with at least {MIN_PER_CLASS} of each verdict",
        )
    X = feature_matrix(conn, data)
    order = np.argsort(data["tested_on"].to_numpy(), kind="stable")
    X, y, data = X[order], y[order], data.iloc[order].reset_index(drop=True)
    cut = int(len(y) * 0.75)
    if min(y[:cut].sum(), cut - y[:cut].sum()) < 5 or 0 in (y[cut:].sum(), len(y) - cut):
        return TrainResult(None, False, len(y), {}, {}, "the held-out quarter lacks one verdict")

    def fit(Xt: np.ndarray, yt: np.ndarray) -> Any:
        model = CalibratedClassifierCV(
            LogisticRegression(C=1.0, max_iter=1000, random_state=seed),
            method="sigmoid",
            cv=3,
        )
        return model.fit(Xt, yt)

    champion = current_scorer(conn, home, now)
    held_new = fit(X[:cut], y[:cut])
    challenger_m = _metrics(y[cut:], held_new.predict_proba(X[cut:])[:, 1])
    champion_m = _metrics(y[cut:], champion.predict_proba(X[cut:]))
    final = fit(X, y)
    digest = hashlib.sha256(
        pickle.dumps((final, PRODUCT_SIGNALS)) + json.dumps(challenger_m).encode()
    ).hexdigest()[:12]
    version = f"learned-{now:%Y%m%d}-{digest}"
    scorer = LearnedScorer(final, version)
    artifact = Path("models") / MODEL_NAME / f"{version}.pkl"
    scorer.save(home / artifact)
    promoted = challenger_m["brier"] < champion_m["brier"]
    tested = pd.to_datetime(data["tested_on"])
    if promoted:
        conn.execute(
            update(model_versions)
            .where(model_versions.c.model_name == MODEL_NAME, model_versions.c.status == "champion")
            .values(status="retired")
        )
    register(
        conn,
        {
            "model_name": MODEL_NAME,
            "version": version,
            "kind": "learned",
            "status": "champion" if promoted else "rejected",
            "trained_at": now,
            "window_start": tested.min().to_pydatetime().replace(tzinfo=dt.UTC),
            "window_end": tested.max().to_pydatetime().replace(tzinfo=dt.UTC),
            "rows": int(len(y)),
            "metrics": {
                "holdout": challenger_m,
                "champion_holdout": champion_m,
                "champion": champion.version,
            },
            "params": {
                "features": list(PRODUCT_SIGNALS),
                "coefficients": dict(
                    zip(PRODUCT_SIGNALS, scorer.coefficients().round(6).tolist(), strict=True)
                ),
                "calibration": "sigmoid, 3 folds",
                "holdout": "newest 25% of outcomes by test date",
            },
            "artifact": str(artifact),
        },
    )
    verdict = "promoted" if promoted else "kept the champion"
    return TrainResult(
        version,
        promoted,
        int(len(y)),
        challenger_m,
        champion_m,
        f"held-out Brier {challenger_m['brier']:.4f} vs champion {champion_m['brier']:.4f}: {verdict}",
    )
