"""to_five_scale: scores, shares and stars on the five-star scale."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.normalise import NormaliseError, to_five_scale


@pytest.mark.parametrize(
    ("raw", "scale_max", "five"),
    [
        (4.8, None, 4.8),
        (5, None, 5.0),
        (1, None, 1.0),
        (Decimal("4.75"), None, 4.75),
        ("4.8", None, 4.8),
        ("4.8分", None, 4.8),
        ("４．８分", None, 4.8),
        ("评分：4.9", None, 4.9),
        ("4.8 / 5", None, 4.8),
        ("98%", None, 4.92),
        ("好评率98%", None, 4.92),
        ("好评率：98.5%", None, 4.94),
        ("100%", None, 5.0),
        ("0%", None, 1.0),
        ("9.6/10", None, 4.84),
        ("9.6 / 10 分", None, 4.84),
        ("★★★★☆", None, 4.0),
        ("★★★★★", None, 5.0),
        ("★☆☆☆☆", None, 1.0),
        ("★★★★½", None, 4.5),
        ("4星", None, 4.0),
        ("五星好评", None, 5.0),
        ("96", 100, 4.84),
        (96, 100, 4.84),
        ("8", 10, 4.2),
        ("4.5 stars", None, 4.5),
    ],
)
def test_to_five_scale(raw, scale_max, five):
    assert to_five_scale(raw, scale_max) == pytest.approx(five, abs=1e-12)


@pytest.mark.parametrize("raw", [None, "", " ", "--", "暂无评分", "暂无评价"])
def test_nothing_to_read(raw):
    assert to_five_scale(raw) is None


@pytest.mark.parametrize(
    ("raw", "scale_max", "problem"),
    [
        (0, None, "outside the five-point scale"),
        ("0.0分", None, "outside the five-point scale"),
        (6, None, "above 5"),
        ("96", None, "above 5"),
        ("5.5分", None, "above 5"),
        ("120%", None, "outside the scale 0–100"),
        ("11/10", None, "outside the scale 0–10"),
        ("9.6/10", 5, "scale_max is 5"),
        ("☆☆☆☆☆", None, "outside the five-point scale"),
        ("garbage", None, "not a score"),
        ("好评", None, "not a score"),
        (True, None, "boolean"),
        (float("nan"), None, "finite"),
        ("4.8", 0, "not positive"),
        ([4.8], None, "expected text or a number"),
    ],
)
def test_errors_name_the_value_and_the_problem(raw, scale_max, problem):
    with pytest.raises(NormaliseError) as info:
        to_five_scale(raw, scale_max)
    assert problem in str(info.value)
    assert repr(raw) in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=1000))
def test_percentages_map_linearly_onto_one_to_five(permille):
    pct = Decimal(permille) / 10
    for text in (f"{pct}%", f"好评率{pct}%", f"好评率：{pct} %"):
        assert to_five_scale(text) == pytest.approx(1 + 4 * permille / 1000)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=1000), st.sampled_from([10, 100, 50, 7]))
def test_other_scales_agree_with_the_same_share_as_a_percentage(points, top):
    value = Decimal(points) * top / 1000
    share = to_five_scale(f"{value}/{top}")
    assert share == pytest.approx(to_five_scale(f"{Decimal(points) / 10}%"))
    assert to_five_scale(str(value), scale_max=top) == share
    assert 1 <= share <= 5


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=10, max_value=50))
def test_five_point_scores_and_stars_keep_their_value(tenths):
    assert to_five_scale(f"{tenths // 10}.{tenths % 10}分") == tenths / 10
    full, half = divmod(tenths, 10)
    if half in (0, 5):
        stars = "★" * full + ("½" if half else "") + "☆" * (5 - full - (1 if half else 0))
        assert to_five_scale(stars) == tenths / 10
