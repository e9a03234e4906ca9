"""The risk matrix file: scales, severity from hazard and category, levels, and refusals."""

from __future__ import annotations

import copy

import pytest
import yaml

from risk_models.matrix import DEFAULT_PATH, LEVEL_RANK, MatrixError, RiskMatrix


@pytest.fixture(scope="module")
def doc() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def test_likelihood_bands_follow_the_thresholds():
    m = RiskMatrix.load()
    assert [m.likelihood(p) for p in (0.0, 0.049, 0.05, 0.2, 0.35, 0.59, 0.6, 1.0)] == [
        1,
        1,
        2,
        3,
        4,
        4,
        5,
        5,
    ]


def test_severity_from_hazard_and_category():
    m = RiskMatrix.load()
    # Fire is 非常严重 anywhere; chemical odour is 严重, raised in children's categories.
    assert m.severity("fire", severity_weight=0.5, max_severity=2) == 4
    assert m.severity("chemical_odour", severity_weight=0.8, max_severity=3) == 3
    assert m.severity("chemical_odour", severity_weight=1.0, max_severity=4) == 4
    assert m.severity("performance", severity_weight=0.8, max_severity=3) == 2
    # No hazard in sight: the category's worst typical outcome, one step down.
    assert m.severity(None, severity_weight=0.8, max_severity=4) == 3
    assert m.severity(None, severity_weight=None, max_severity=None) == 1
    assert m.severity("unheard_of", severity_weight=0.5, max_severity=1) == 1


def test_levels_grow_with_likelihood_and_severity():
    m = RiskMatrix.load()
    for lk in range(1, 6):
        for sv in range(1, 5):
            here = LEVEL_RANK[m.level(lk, sv)]
            if lk > 1:
                assert LEVEL_RANK[m.level(lk - 1, sv)] <= here
            if sv > 1:
                assert LEVEL_RANK[m.level(lk, sv - 1)] <= here
    assert m.level(5, 4) == "high" and m.level(1, 1) == "low"
    assert m.level_zh("elevated") == "较高风险"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["likelihood"].update(thresholds=[0.1, 0.05, 0.3, 0.6]), "increasing"),
        (lambda d: d["likelihood"].update(thresholds=[0.1, 0.2, 0.3]), "4 increasing"),
        (lambda d: d["severity"]["hazards"].update(fire=7), "outside 1..4"),
        (lambda d: d["levels"]["matrix"][4].__setitem__(3, "extreme"), "unknown level"),
        (lambda d: d["levels"]["matrix"][4].__setitem__(3, "low"), "lower than a cell"),
        (lambda d: d["levels"]["matrix"].pop(), "5 rows"),
        (lambda d: d.pop("version"), "missing `version`"),
    ],
)
def test_a_broken_matrix_is_refused_with_the_field_named(doc, change, message):
    bad = copy.deepcopy(doc)
    change(bad)
    with pytest.raises(MatrixError, match=message):
        RiskMatrix.from_dict(bad, "risk_matrix.yaml")


def test_an_unreadable_file_names_the_file(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text("version: [unclosed", encoding="utf-8")
    with pytest.raises(MatrixError, match="m.yaml"):
        RiskMatrix.load(p)
