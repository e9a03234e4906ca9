"""The matching text form and the category lexicon file: normalisation, validation, and
that the shipped data files are where the package expects them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from transforms.categories.lexicon import LEXICON_FILE, LexiconError, load_lexicon
from transforms.categories.model import EXAMPLES_FILE, OTHER, features_of, read_examples
from transforms.categories.text import normalise
from transforms.reference import read_reference

CATEGORIES = read_reference().categories


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("美度（ＭＥＩＤＯＯ）電熱水壺 1.5L/304不鏽鋼", "美度 meidoo 电热水壶 1.5l 304不锈钢"),
        ("ＬＥＤ護眼檯燈\u3000學生", "led护眼台灯 学生"),
        ("Hair  Dryer【送收纳架】", "hair dryer 送收纳架"),
        ("T-Shirt, e-bike; Li-ion", "t-shirt e-bike li-ion"),
        ("", ""),
        (None, ""),
        ("   ", ""),
    ],
)
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_normalise_is_idempotent():
    for text in ("電熱水壺 ＳＰＦ５０＋", "Kids' Hoodie (cotton)", "电吹风·收纳架"):
        once = normalise(text)
        assert normalise(once) == once


def test_features_are_chinese_ngrams_and_whole_ascii_words():
    assert features_of("led灯 护眼") == ["w:led", "灯", "护", "眼", "护眼"]
    # A brand glued to nothing in particular is one unknown word, not 'shirt'.
    assert features_of("greenshirt 纯棉") == ["w:greenshirt", "纯", "棉", "纯棉"]


def test_shipped_lexicon_loads_and_is_versioned():
    lexicon = load_lexicon(CATEGORIES)
    assert lexicon.version
    assert lexicon.source_version.startswith(lexicon.version + "+")
    assert set(lexicon.aliases) <= {c.code for c in CATEGORIES}
    assert "首页" in lexicon.noise_crumbs
    assert lexicon.child_promotes == {"adult_clothing", "underwear"}


def test_data_files_live_in_the_package_data_folder():
    folder = Path(__file__).resolve().parents[3] / "transforms" / "categories" / "data"
    assert LEXICON_FILE == folder / "lexicon.yaml" and LEXICON_FILE.is_file()
    assert EXAMPLES_FILE == folder / "examples.tsv" and EXAMPLES_FILE.is_file()


def test_examples_use_known_labels_and_cover_every_category():
    examples = read_examples()
    codes = {c.code for c in CATEGORIES}
    labels = [label for label, _ in examples]
    assert set(labels) <= codes | {OTHER}
    for code in codes:
        assert labels.count(code) >= 5, f"{code} has fewer than 5 examples"
    assert labels.count(OTHER) >= 50


def _write(tmp_path: Path, edit) -> Path:
    doc = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    edit(doc)
    path = tmp_path / "lexicon.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["aliases"]["hair_dryer"].append("电热水壶"), "already a keyword"),
        (lambda d: d["aliases"].update({"no_such_code": ["x"]}), "not a reference category"),
        (lambda d: d["exclusions"].append("电吹风"), "is a keyword or alias"),
        (lambda d: d["exclusions"].append("完全无关"), "contains no keyword"),
        (lambda d: d["exclusions"].append(d["exclusions"][0]), "listed twice"),
        (lambda d: d["child_promotes"].append("nope"), "not a reference category"),
        (lambda d: d.pop("version"), "'version' is required"),
        (lambda d: d.pop("noise_crumbs"), "missing section 'noise_crumbs'"),
    ],
)
def test_invalid_lexicon_is_rejected_with_the_reason(tmp_path, edit, message):
    with pytest.raises(LexiconError) as err:
        load_lexicon(CATEGORIES, _write(tmp_path, edit))
    assert any(message in e for e in err.value.errors), err.value.errors


def test_alias_collision_is_found_after_normalisation(tmp_path):
    # Full-width and Traditional spellings of a keyword are the same keyword.
    path = _write(tmp_path, lambda d: d["aliases"]["laptop"].append("電熱水壺"))
    with pytest.raises(LexiconError, match="already a keyword of 'electric_kettle'"):
        load_lexicon(CATEGORIES, path)
