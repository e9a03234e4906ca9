"""Review text models: reviews scored per second and peak memory, in memory and from CSV.

The reviews of a simulated market (text with its follow-up, as the pipeline scores
them) are scored by the default review model (:func:`risk_models.text.default_scorer`,
trained first if it is not cached) in fresh processes:

* ``score()`` — :meth:`ReviewScorer.score` on the whole list, best and median of three
  runs, and the process's peak resident memory;
* CSV — :func:`risk_models.text.cli.score_csv` streaming a file of the same reviews (id,
  text, rating) to another file, the path ``ecqm score-reviews`` takes.

Target on 2 cores: at least 20,000 reviews per second through ``score()`` (wall clock,
best of three; the rate per second of CPU time is recorded too, as a figure that other
jobs on the machine do not depress). The CSV path adds parsing and writing. Its peak
memory must not depend on the file's length (it streams): a tenth of the file is scored
as well, and the two peaks must lie within 50 MiB.

    python -m bench.bench_score_reviews                      # 200,000 reviews
    python -m bench.bench_score_reviews --reviews 50000 --no-record
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import record

TARGET_REVIEWS_PER_SECOND = 20_000
SEED = 20191001


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _prepare(home: str | None, size: int, csv_path: str) -> dict:
    """Train or load the default model, and write ``size`` simulated reviews as CSV."""
    from risk_models.text.model import review_text
    from risk_models.text.train import default_scorer, model_dir
    from simulator.world import World

    start = time.perf_counter()
    folder = Path(home) if home else None
    scorer = default_scorer(folder)
    model_seconds = time.perf_counter() - start
    world = World(products=size // 55 + 1, seed=SEED)
    n = 0
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "rating"])
        for pid in range(world.products):
            for key in world.listings_of(pid):
                for r in world.reviews(world.listing(*key)):
                    if n >= size:
                        break
                    text = review_text(r.text, r.followup[1] if r.followup else None)
                    writer.writerow([r.id, text, r.rating])
                    n += 1
    return {
        "model": str(model_dir(folder) / f"{scorer.version}.joblib"),
        "model_version": scorer.version,
        "model_seconds": round(model_seconds, 1),
        "reviews": n,
    }


def _score_in_memory(model: str, csv_path: str, repeats: int) -> dict:
    from risk_models.text.model import ReviewScorer

    scorer = ReviewScorer.load(model)
    with open(csv_path, encoding="utf-8", newline="") as fh:
        texts = [row[1] for row in csv.reader(fh)][1:]
    scorer.score(texts[:1000])  # first-call costs (page faults, lazy imports) out of the way
    start_mib = _peak_mib()
    rates = []
    cpu_rates = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        scores = scorer.score(texts)
        rates.append(len(texts) / (time.perf_counter() - start))
        cpu_rates.append(len(texts) / (time.process_time() - cpu))
    flagged = sum(1 for h in scores.hazard if h != "none")
    return {
        "reviews": len(texts),
        "reviews_per_second_best": round(max(rates)),
        "reviews_per_second_median": round(statistics.median(rates)),
        # per second of this process's CPU time: what an unloaded core would do
        "reviews_per_cpu_second_best": round(max(cpu_rates)),
        "peak_rss_mib": _peak_mib(),
        "rss_after_load_mib": start_mib,
        "hazard_flagged": flagged,
    }


def _score_csv(model: str, csv_path: str, out_path: str) -> dict:
    from risk_models.text.cli import score_csv
    from risk_models.text.model import ReviewScorer

    scorer = ReviewScorer.load(model)
    scorer.score(["预热"])
    start = time.perf_counter()
    report = score_csv(csv_path, out_path, "text", scorer=scorer)
    seconds = time.perf_counter() - start
    return {
        "rows": report.rows,
        "rows_per_second": round(report.rows / seconds),
        "seconds": round(seconds, 1),
        "peak_rss_mib": _peak_mib(),
    }


def _in_child(func, *args):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(func, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_score_reviews", description=__doc__
    )
    parser.add_argument("--reviews", type=int, default=200_000, help="reviews to score")
    parser.add_argument("--repeats", type=int, default=3, help="runs of score() (best is kept)")
    parser.add_argument("--home", help="where the default model is cached (default: ECQM_HOME)")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/results.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ecqm-bench-reviews-") as tmp:
        data = f"{tmp}/reviews.csv"
        prepared = _in_child(_prepare, args.home, args.reviews, data)
        memory = _in_child(_score_in_memory, prepared["model"], data, args.repeats)
        streamed = _in_child(_score_csv, prepared["model"], data, f"{tmp}/scored.csv")
        small = f"{tmp}/small.csv"
        with open(data, encoding="utf-8") as src, open(small, "w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i > max(1, args.reviews // 10):
                    break
                dst.write(line)
        streamed_small = _in_child(_score_csv, prepared["model"], small, f"{tmp}/small_out.csv")
    rate = memory["reviews_per_second_best"]
    csv_growth = streamed["peak_rss_mib"] - streamed_small["peak_rss_mib"]
    ok = rate >= TARGET_REVIEWS_PER_SECOND and csv_growth < 50
    print(
        f"model {prepared['model_version']} ({prepared['model_seconds']} s to train or load)\n"
        f"score(): {memory['reviews']:,} reviews, best {rate:,}/s, median "
        f"{memory['reviews_per_second_median']:,}/s ({memory['reviews_per_cpu_second_best']:,} "
        f"per CPU second), peak {memory['peak_rss_mib']:,.0f} MiB\n"
        f"CSV: {streamed['rows']:,} rows, {streamed['rows_per_second']:,} rows/s, peak "
        f"{streamed['peak_rss_mib']:,.0f} MiB ({streamed_small['rows']:,} rows: "
        f"{streamed_small['peak_rss_mib']:,.0f} MiB)\n"
        f"target {TARGET_REVIEWS_PER_SECOND:,} reviews/s: " + ("ok" if ok else "BELOW TARGET")
    )
    if not args.no_record:
        record(
            "review text scoring",
            {
                "model_version": prepared["model_version"],
                "model_seconds": prepared["model_seconds"],
                "score": memory,
                "csv": streamed,
                "csv_small": streamed_small,
                "target_reviews_per_second": TARGET_REVIEWS_PER_SECOND,
                "meets_target": ok,
            },
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
