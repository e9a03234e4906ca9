"""``ecqm extract-listing`` over saved simulator pages: order, errors, exit codes."""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from crawlers.extract import to_fen
from crawlers.extract.cli import register

ROOT = Path(__file__).resolve().parents[3]


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ecqm")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["extract-listing", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def saved_pages(sim_pages, tmp_path_factory):
    """~200 simulator pages saved to disk (every third gzipped) with a manifest, plus a
    missing file and a garbage file among them."""
    folder = tmp_path_factory.mktemp("saved")
    (folder / "pages").mkdir()
    rows, truths = [], []
    for i, page in enumerate(sim_pages[:200]):
        name = f"pages/{i:04d}-{page.platform}.html"
        if i % 3 == 0:
            name += ".gz"
            (folder / name).write_bytes(gzip.compress(page.body))
        else:
            (folder / name).write_bytes(page.body)
        # Relative paths mostly, absolute ones too.
        rows.append((name if i % 5 else str(folder / name), page.url))
        truths.append(page.truth)
    rows.insert(50, ("pages/gone.html", "http://127.0.0.1:1/youpin/item/1.html"))
    truths.insert(50, None)
    (folder / "pages" / "garbage.html").write_bytes(random.Random(7).randbytes(5000))
    rows.insert(120, ("pages/garbage.html", "http://127.0.0.1:1/lehuo/goods/1.html"))
    truths.insert(120, None)
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "url"])
        writer.writerows(rows)
    return manifest, rows, truths


@pytest.mark.parametrize("jobs", [1, 2])
def test_manifest_run(saved_pages, tmp_path, jobs):
    manifest, rows, truths = saved_pages
    out = tmp_path / "out.jsonl"
    code = run_cli(["--manifest", str(manifest), "--jobs", str(jobs), "--output", str(out)])
    assert code == 1  # because of the missing and the garbage page
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [rec["path"] for rec in lines] == [path for path, _ in rows]
    errors = {i: rec["error"] for i, rec in enumerate(lines) if "error" in rec}
    assert set(errors) == {50, 120}
    assert errors[50] == "cannot read page: no such file"
    assert errors[120].startswith("not an HTML page")
    for rec, truth in zip(lines, truths):
        if truth is None:
            continue
        assert to_fen(Decimal(rec["price"])) == truth["price_fen"], rec["path"]
        assert rec["sku"] == truth["sku"] and rec["availability"] == truth["availability"]
        assert rec["url"].endswith(truth["url"]) and rec["sources"]["price"]


def test_single_page_and_exit_zero(saved_pages, capsys):
    manifest, rows, truths = saved_pages
    path, url = rows[1]
    code = run_cli([str(manifest.parent / path), "--url", url])
    assert code == 0
    (line,) = capsys.readouterr().out.splitlines()
    rec = json.loads(line)
    assert rec["sku"] == truths[1]["sku"] and rec["path"].endswith(Path(path).name)


def test_selectors_file(saved_pages, tmp_path, capsys):
    manifest, rows, truths = saved_pages
    index = next(i for i, t in enumerate(truths) if t and t["platform"] == "pinjia")
    path, url = rows[index]
    selectors = tmp_path / "pinjia.yaml"
    selectors.write_text('selectors:\n  price: ".g-price .cur b"\n  shop_name: "a.mall-name"\n')
    assert run_cli([str(manifest.parent / path), "--url", url, "--selectors", str(selectors)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["sources"]["price"] == "selector"
    assert to_fen(Decimal(rec["price"])) == truths[index]["price_fen"]


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["page.html"],
        ["page.html", "--url", "http://x/", "--manifest", "m.csv"],
        ["--manifest", "no-such-manifest.csv"],
        ["--manifest", "MANIFEST", "--jobs", "0"],
        ["--manifest", "BAD_COLUMNS"],
        ["page.html", "--url", "http://x/", "--selectors", "BAD_SELECTORS"],
    ],
)
def test_usage_errors_exit_2(argv, tmp_path, saved_pages, capsys):
    bad_columns = tmp_path / "bad.csv"
    bad_columns.write_text("file,link\na.html,http://x/\n")
    bad_selectors = tmp_path / "sel.json"
    bad_selectors.write_text(json.dumps({"colour": ".c"}))
    subst = {
        "MANIFEST": str(saved_pages[0]),
        "BAD_COLUMNS": str(bad_columns),
        "BAD_SELECTORS": str(bad_selectors),
    }
    assert run_cli([subst.get(a, a) for a in argv]) == 2
    assert "error:" in capsys.readouterr().err


def test_python_dash_m(saved_pages):
    manifest, rows, truths = saved_pages
    path, url = rows[2]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawlers.extract",
            "extract-listing",
            str(manifest.parent / path),
            "--url",
            url,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sku"] == truths[2]["sku"]
    done = subprocess.run(
        [sys.executable, "-m", "crawlers.extract", "--manifest", str(manifest.parent / "nope.csv")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2 and "cannot read manifest" in done.stderr
