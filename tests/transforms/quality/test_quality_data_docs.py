"""GX Data Docs land under the folder the caller names, and nowhere else."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from conftest import CASES

from transforms.quality import build_data_docs, validate_rows

ROOT = Path(__file__).resolve().parents[3]


def test_data_docs_under_docs_dir_and_nothing_elsewhere(tmp_path, monkeypatch, validated):
    _, reviews = validated("reviews")
    cwd, home, tmp = tmp_path / "cwd", tmp_path / "home", tmp_path / "tmp"
    for d in (cwd, home, tmp):
        d.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    repo_gx_before = (ROOT / "gx").exists()

    case = CASES["listings"]()  # validated here, inside the bare working directory
    listings = validate_rows(
        "listings",
        case.frame,
        key_columns=case.key_columns,
        run_id="run-20261102",
        reference=case.reference,
    )
    docs = tmp_path / "ecqm_home" / "data_docs"
    index = build_data_docs({"reviews": reviews, "listings": listings}, docs)

    assert index == docs / "index.html" and index.is_file()
    assert (docs / "expectations" / "core" / "reviews.html").is_file()
    assert (docs / "expectations" / "core" / "listings.html").is_file()
    pages = sorted((docs / "validations").rglob("*.html"))
    assert [p.name for p in pages] == ["listings-run-20261102.html", "reviews-run-20261101.html"]
    page = re.sub(r"<[^>]+>", " ", pages[0].read_text(encoding="utf-8"))
    assert "core.listings" in page and "price_fen" in page
    assert "2 unexpected values found" in page  # price_fen: -100 and 10**10
    suite_page = (docs / "expectations" / "core" / "listings.html").read_text(encoding="utf-8")
    assert "price in fen" in suite_page  # the rule's note

    assert list(cwd.iterdir()) == []
    assert list(home.iterdir()) == []
    assert list(tmp.iterdir()) == []
    assert (ROOT / "gx").exists() == repo_gx_before
