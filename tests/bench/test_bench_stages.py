"""The scaling benchmark: its arithmetic on made-up numbers, and a run at tiny sizes."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from bench import bench_stages as bs


def _run(products: int, seconds: dict[str, float], inc: dict[str, float] | None = None) -> dict:
    """A run as :func:`bench_stages.run_size` returns it, with only the costs filled in."""
    run: dict = {"products": products}
    for stage, s in seconds.items():
        if stage == "crawl":
            run["crawl"] = {"complete_crawl": {"seconds": s}}
        else:
            run[stage] = {"seconds": s}
    run["cycle"] = {"seconds": sum(seconds[s] for s in bs.WHOLE_CYCLE)}
    run["triggered"] = {"seconds": sum(seconds[s] for s in bs.TRIGGERED)}
    if inc is not None:
        run["incremental"] = {stage: {"seconds": s} for stage, s in inc.items()}
        run["incremental"]["triggered"] = {"seconds": sum(inc[s] for s in bs.TRIGGERED)}
    return run


def test_exponent_of_power_laws_with_noise() -> None:
    rng = random.Random(3)
    sizes = [1_000, 10_000, 100_000]
    for k in (0.5, 1.0, 1.5, 2.0):
        costs = [0.01 * n**k * math.exp(rng.uniform(-0.03, 0.03)) for n in sizes]
        assert bs.fit_exponent(sizes, costs) == pytest.approx(k, abs=0.03)
        assert bs.top_slope(sizes, costs) == pytest.approx(k, abs=0.05)


def test_exponent_ignores_missing_and_needs_two_sizes() -> None:
    assert bs.fit_exponent([10, 100, 1000], [1.0, 0.0, 100.0]) == pytest.approx(1.0)
    assert bs.fit_exponent([10, 10], [1.0, 2.0]) is None
    assert bs.top_slope([10], [1.0]) is None


def test_incremental_ratio() -> None:
    assert bs.incremental_ratio(5.0, 100.0) == pytest.approx(0.05)
    assert bs.incremental_ratio(None, 100.0) is None
    assert bs.incremental_ratio(5.0, 0.0) is None


def test_summary_flags_superlinear_growth_and_costly_increments() -> None:
    linear = {"crawl": 10.0, "load": 1.0, "process": 5.0, "score_reviews": 1.0, "assess": 3.0}
    runs = []
    for n in (1_000, 10_000, 100_000):
        f = n / 1_000
        seconds = {k: v * f for k, v in linear.items()}
        seconds["plan"] = 0.01 * f**1.5  # grows faster than linearly
        runs.append(_run(n, seconds))
    runs[-1]["incremental"] = {
        stage: {"seconds": runs[-1][stage]["seconds"] * 0.02} for stage in bs.WHOLE_CYCLE
    }
    runs[-1]["incremental"]["triggered"] = {"seconds": runs[-1]["triggered"]["seconds"] * 0.02}
    s = bs.summarise(runs)
    assert s["growth"]["process"]["exponent"] == pytest.approx(1.0)
    assert s["growth"]["process"]["meets_target"]
    assert s["growth"]["plan"]["exponent"] == pytest.approx(1.5)
    assert not s["growth"]["plan"]["meets_target"]
    assert not s["linear"]
    assert s["incremental"]["products"] == 100_000
    assert s["incremental"]["cycle_ratio"] == pytest.approx(0.02)
    assert s["incremental"]["meets_target"]

    runs[-1]["incremental"]["triggered"]["seconds"] = runs[-1]["triggered"]["seconds"] * 0.25
    assert not bs.summarise(runs)["incremental"]["meets_target"]


def test_crawl_estimate_scales_units_by_the_measured_rate() -> None:
    est = bs.crawl_estimate({"pages_per_second": 150.0}, 1.2, 10_000)
    assert est["pages"] == 12_000
    assert est["seconds"] == pytest.approx(80.0)


def test_update_docs_replaces_only_the_marked_part(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Title\n\nbefore\n{bs.DOCS_BEGIN}\nold\n{bs.DOCS_END}\nafter\n")
    assert bs.update_docs(doc, "| new |")
    assert doc.read_text() == f"# Title\n\nbefore\n{bs.DOCS_BEGIN}\n| new |\n{bs.DOCS_END}\nafter\n"
    plain = tmp_path / "plain.md"
    plain.write_text("no markers\n")
    assert not bs.update_docs(plain, "| new |")
    assert plain.read_text() == "no markers\n"


@pytest.mark.postgres
def test_tiny_run_writes_results_and_docs(postgres_database_url: str, tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"intro\n{bs.DOCS_BEGIN}\n{bs.DOCS_END}\n")
    code = bs.main(
        [
            "--sizes=20,60",
            f"--url={postgres_database_url}",
            "--bench-seconds=0",
            "--crawl-pages=120",
            "--reference-rows=500",
            "--model-products=60",
            "--shards=1",
            "--in-process",
            f"--results={results}",
            f"--docs={doc}",
        ]
    )
    assert code in (0, 1)
    data = json.loads(results.read_text())["stages"]
    assert data["config"]["sizes"] == [20, 60]
    assert [r["products"] for r in data["sizes"]] == [20, 60]
    small, large = data["sizes"]
    # The smallest size is crawled completely, the other on its page budget.
    assert small["crawl"]["complete"] and small["crawl"]["page_budget"] is None
    assert large["crawl"]["page_budget"] == 120
    for r in data["sizes"]:
        assert r["landing"]["review"] > 0 and r["landing"]["listing"] > 0
        assert r["landing"]["recalls"] > 0
        # The landing files written from the world carry the fields a real crawl's do.
        assert r["landing"]["shape_differences"] == {}
        assert r["load"]["rows"] >= r["landing"]["review"] + r["landing"]["listing"]
        assert r["load"]["quarantined"] == 0
        assert r["process"]["balanced"] and r["process"]["rows"] > 0
        assert r["score_reviews"]["reviews"] == r["process"]["core_counts"]["reviews"]
        assert r["assess"]["products"] == r["process"]["core_counts"]["products"]
        assert r["plan"]["tasks"] > 0
        assert r["crawl"]["complete_crawl"]["seconds"] > 0
        assert set(r["load"]["reference"]["rows_per_second"]) == {
            "ecqm_upsert",
            "copy",
            "dataframe_to_sql",
        }
        inc = r["incremental"]
        # Only what is new is loaded, processed and scored.
        assert inc["load"]["inserted"] < r["load"]["inserted"]
        assert 0 < inc["process"]["rows"] < r["process"]["rows"]
        assert 0 < inc["score_reviews"]["reviews"] < r["score_reviews"]["reviews"]
        assert inc["triggered"]["seconds"] > 0
    assert set(data["summary"]["growth"]) == set(bs.STAGES)
    assert data["summary"]["incremental"]["products"] == 60
    assert code == (0 if data["meets_target"] else 1)
    text = doc.read_text()
    assert text.startswith("intro\n")
    assert "| process: staging → core |" in text and "PostgreSQL" in text


@pytest.mark.postgres
def test_analyzer_analyzes_tables_that_grew(postgres_database_url: str) -> None:
    import time

    import sqlalchemy

    engine = sqlalchemy.create_engine(postgres_database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_analyzer_probe")
        conn.exec_driver_sql("CREATE TABLE bench_analyzer_probe (id int)")
        conn.exec_driver_sql("INSERT INTO bench_analyzer_probe SELECT generate_series(1, 500)")

    def estimated() -> float:
        with engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE relname = 'bench_analyzer_probe'"
            ).scalar_one()

    try:
        with bs.Analyzer(postgres_database_url, every=0.1) as analyzer:
            deadline = time.monotonic() + 10
            while estimated() < 500 and time.monotonic() < deadline:
                time.sleep(0.1)
        assert estimated() == 500
        assert analyzer.tables >= 1
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE bench_analyzer_probe")
        engine.dispose()
