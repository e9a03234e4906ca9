"""The review scorer: behaviour on hard inputs, persistence, and quality on a held-out
simulated market."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from risk_models.text.evaluate import evaluate
from risk_models.text.lexicon import HAZARD_CLASSES
from risk_models.text.model import HAZARD_OUTPUTS, ModelFormatError, ReviewScorer, review_text

SAFETY = set(HAZARD_CLASSES) - {"performance"}


def one(scorer: ReviewScorer, text: str) -> tuple[float, float, str, float]:
    s = scorer.score([text])
    return (
        float(s.negative_probability[0]),
        float(s.defect_probability[0]),
        s.hazard[0],
        float(s.hazard_probability[0]),
    )


@pytest.mark.parametrize(
    "text",
    [
        "不漏电",
        "没有异味",
        "一点也不烫",
        "用了一个月，不漏电，也没有异味，外壳一点也不烫，很好用",
        "宝宝的玩具做工很好，也不掉毛，没有小零件脱落",
        "無異味，不燙手，很滿意",  # Traditional
        "完全不刺鼻，ＡＢＳ材质，好评！",  # full-width
    ],
)
def test_denied_hazards_are_not_hazards(scorer: ReviewScorer, text: str) -> None:
    _, defect, hazard, _ = one(scorer, text)
    assert hazard == "none"
    assert defect < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "快递太慢了，包装都压坏了",
        "物流慢得要死，等了一个星期才到，客服也不理人",
        "退款好慢，申请了十天还没处理",
    ],
)
def test_delivery_and_service_complaints_are_negative_but_not_defects(
    scorer: ReviewScorer, text: str
) -> None:
    negative, defect, hazard, _ = one(scorer, text)
    assert defect < 0.1
    assert hazard == "none"
    assert negative > 0.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("用了三天就冒烟了，吓死我了", "fire"),
        ("质量好到冒烟了，给个五星不谢👍", "fire"),  # sarcasm with five stars
        ("真是好质量，用了3天就漏电了😊", "electric_shock"),
        ("電水壺用了兩天就漏電了，太危險", "electric_shock"),
        ("ＬＥＤ燈用了三天就冒煙了！！", "fire"),
        ("孩子的玩具眼睛一扯就掉了，差点吞下去", "choking_small_parts"),
        ("外壳摸着很烫，烫到孩子了", "burn"),
        ("用完脸上起了好多红疹，又痒又痛", "allergy_skin"),
        ("刚拆开一股刺鼻的味道，熏得头疼", "chemical_odour"),
        ("杯子把手断了，划伤了手", "cut_breakage"),
        ("用了两天就坏了，开不了机", "performance"),
    ],
)
def test_reported_problems(scorer: ReviewScorer, text: str, expected: str) -> None:
    _, defect, hazard, probability = one(scorer, text)
    assert hazard == expected
    assert defect > 0.9
    assert probability > 0.5


def test_praise_with_a_denied_hazard_next_to_a_reported_one(scorer: ReviewScorer) -> None:
    _, defect, hazard, _ = one(scorer, "外观很好看，也没有异味，可惜用了一周就漏电了")
    assert hazard == "electric_shock"
    assert defect > 0.5


def test_traditional_and_full_width_score_like_simplified(scorer: ReviewScorer) -> None:
    s = scorer.score(["電水壺用了兩天就漏電了，太危險！", "电水壶用了两天就漏电了,太危险!"])
    assert s.hazard[0] == s.hazard[1]
    assert s.defect_probability[0] == pytest.approx(s.defect_probability[1])
    assert s.negative_probability[0] == pytest.approx(s.negative_probability[1])


PRAISE = ("外观很好看", "做工扎实", "加热很快", "声音不大", "物流很快", "包装严实", "颜值很高")


def test_a_long_review_with_one_complaint_keeps_it(scorer: ReviewScorer) -> None:
    # About 600 characters of praise with the problem at the end, or in the middle.
    praise = "，".join(PRAISE[i % len(PRAISE)] + f"第{i}点" for i in range(80))
    s = scorer.score([praise + "，就是漏电", "用了一个月冒烟了，" + praise, praise + "，没有异味"])
    assert s.hazard == ["electric_shock", "fire", "none"]
    assert s.defect_probability[0] > 0.5 and s.defect_probability[1] > 0.5
    assert s.defect_probability[2] < 0.5


def test_emoji_long_and_empty_texts(scorer: ReviewScorer) -> None:
    texts = ["😀😀😀👍", "很好用" * 30_000 + "，就是漏电", "", "   \u200b ", None, "好评"]
    s = scorer.score(texts)
    assert len(s) == len(texts)
    assert list(s.has_text) == [True, True, False, False, False, True]
    for i in (2, 3, 4):
        assert np.isnan(s.negative_probability[i])
        assert np.isnan(s.defect_probability[i])
        assert np.isnan(s.hazard_probability[i])
        assert s.hazard[i] == "none"
    assert s.hazard[0] == s.hazard[5] == "none"
    ok = s.has_text
    for values in (s.negative_probability, s.defect_probability, s.hazard_probability):
        assert np.all((values[ok] >= 0) & (values[ok] <= 1))
    assert np.allclose(s.hazard_proba[ok].sum(axis=1), 1.0)


def test_scores_do_not_depend_on_batching(scorer: ReviewScorer, heldout) -> None:
    texts = heldout.texts[:500]
    whole = scorer.score(texts)
    small = scorer.score(texts, batch_size=7)
    assert np.array_equal(whole.defect_probability, small.defect_probability)
    assert np.array_equal(whole.negative_probability, small.negative_probability)
    assert whole.hazard == small.hazard
    assert len(scorer.score([])) == 0


def test_accepts_a_series_or_an_iterator(scorer: ReviewScorer) -> None:
    import pandas as pd

    series = pd.Series(["漏电了", None, "很好用"], index=[10, 20, 30])
    assert scorer.score(series).hazard == ["electric_shock", "none", "none"]
    assert scorer.score(iter(["冒烟了"])).hazard == ["fire"]


def test_to_frame(scorer: ReviewScorer) -> None:
    frame = scorer.score(["漏电了", ""]).to_frame()
    assert list(frame.columns) == [
        "negative_probability",
        "defect_probability",
        "hazard",
        "hazard_probability",
    ]
    assert frame["hazard"].tolist() == ["electric_shock", "none"]
    assert frame["defect_probability"].isna().tolist() == [False, True]


def test_lexicon_hits_cite_the_words(scorer: ReviewScorer) -> None:
    hits = scorer.lexicon_hits("用了三天就冒煙了，還好沒有漏電")
    assert [(h.term, h.negated) for h in hits] == [("冒烟", False), ("漏电", True)]
    assert hits[0].as_dict() == {
        "term": "冒烟",
        "hazard": "fire",
        "start": 5,
        "end": 7,
        "negated": False,
    }


def test_review_text_joins_the_followup() -> None:
    assert review_text("很好用", "追加：用了一个月冒烟了") == "很好用。追加：用了一个月冒烟了"
    assert review_text("很好用", None) == "很好用"
    assert review_text(None, "冒烟了") == "冒烟了"
    assert review_text("很好用", "  ") == "很好用"


def test_a_hazard_in_the_followup_is_found(scorer: ReviewScorer) -> None:
    s = scorer.score([review_text("非常好用，五星好评", "追加：用了一个月，插头烧黑了还冒烟")])
    assert s.hazard == ["fire"]


def test_save_load_roundtrip(scorer: ReviewScorer, model_path, heldout) -> None:
    loaded = ReviewScorer.load(model_path)
    assert loaded.version == scorer.version
    assert loaded.metadata == scorer.metadata
    texts = heldout.texts[:300]
    a, b = scorer.score(texts), loaded.score(texts)
    assert np.array_equal(a.defect_probability, b.defect_probability)
    assert a.hazard == b.hazard
    assert ReviewScorer.read_header(model_path)["version"] == scorer.version


def test_version_is_stable_and_tracks_the_model(scorer: ReviewScorer, training_corpus) -> None:
    from risk_models.text.train import train_weak

    texts, ratings, _ = training_corpus
    assert len(scorer.version) == 12 and int(scorer.version, 16) >= 0
    a = train_weak(texts[:5000], ratings[:5000])
    b = train_weak(texts[:5000], ratings[:5000])
    assert a.version == b.version  # the fit is deterministic
    assert a.version != scorer.version
    c = train_weak(texts[:5000], ratings[:5000], seed=1)
    assert c.version != a.version  # another seed mixes other training reviews


def test_load_refuses_other_files(tmp_path, model_path) -> None:
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelFormatError, match="not a saved review model"):
        ReviewScorer.load(junk)
    other = tmp_path / "other.joblib"
    other.write_bytes(pickle.dumps({"kind": "something else"}))
    with pytest.raises(ModelFormatError, match="not a saved review model"):
        ReviewScorer.load(other)


def _rewrite_header(src, dst, **changes) -> None:
    with open(src, "rb") as fh:
        header = pickle.load(fh)
        rest = fh.read()
    header.update(changes)
    with open(dst, "wb") as fh:
        pickle.dump(header, fh)
        fh.write(rest)


def test_load_refuses_another_format_or_library_version(tmp_path, model_path) -> None:
    old = tmp_path / "old.joblib"
    _rewrite_header(model_path, old, format=0)
    with pytest.raises(ModelFormatError, match="format 0.*retrain"):
        ReviewScorer.load(old)
    foreign = tmp_path / "foreign.joblib"
    _rewrite_header(model_path, foreign, sklearn="0.24.2")
    with pytest.raises(ModelFormatError, match="scikit-learn 0.24.2"):
        ReviewScorer.load(foreign)
    tampered = tmp_path / "tampered.joblib"
    _rewrite_header(model_path, tampered, version="000000000000")
    with pytest.raises(ModelFormatError, match="damaged"):
        ReviewScorer.load(tampered)


def test_hazard_outputs() -> None:
    assert HAZARD_OUTPUTS[-1] == "none"
    assert set(HAZARD_OUTPUTS[:-1]) == set(HAZARD_CLASSES)


def test_beats_the_lexicon_on_a_heldout_market(scorer: ReviewScorer, heldout) -> None:
    """Measured with the fixtures' sizes: defect PR-AUC about 0.99 (lexicon 0.79),
    safety 0.99+ (lexicon 0.91), negative 0.99+ (lexicon 0.65), hazard macro recall
    0.89 (lexicon 0.87). The thresholds leave a margin."""
    report = evaluate(scorer, heldout)
    m, b = report.model, report.lexicon
    assert m["defect"].average_precision >= 0.95
    assert m["defect"].average_precision >= b["defect"].average_precision + 0.1
    assert m["safety hazard"].average_precision >= 0.95
    assert m["safety hazard"].average_precision >= b["safety hazard"].average_precision
    assert m["negative"].average_precision >= 0.95
    assert m["defect"].precision_at[100] >= 0.95
    assert report.model_hazard.macro_f1 >= 0.85
    assert report.model_hazard.macro_recall >= report.lexicon_hazard.macro_recall - 0.02
