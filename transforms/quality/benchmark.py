"""Time :func:`~transforms.quality.validate.validate_rows` on synthetic review rows.

Command line::

    python -m transforms.quality.benchmark [--rows 100000] [--bad 0.02 0.5] [--gx]

Rows look like the review transform's output (pandas ``str`` columns, aware UTC
datetimes, ratings as floats with NaN) with a chosen fraction of rows broken in one of
the ways crawls break them. ``--gx`` also times the GX ``COMPLETE`` route.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from transforms.quality.suites import PLATFORMS

KEY = ("platform", "external_id")


def review_frame(rows: int, bad: float = 0.02, seed: int = 7) -> pd.DataFrame:
    """``rows`` reviews; about ``bad`` of them break one rule each."""
    rng = np.random.default_rng(seed)
    fetched = pd.Timestamp("2026-11-01T02:00:00Z")
    posted = fetched - pd.to_timedelta(rng.integers(0, 900 * 24, rows), unit="h")
    words = np.array(["质量很好", "物流快", "包装破损", "和描述一致", "味道难闻", "充电发烫"])
    phrases = np.array(["，".join(rng.choice(words, int(k))) for k in rng.integers(1, 12, 500)])
    text = phrases[rng.integers(0, len(phrases), rows)]
    df = pd.DataFrame(
        {
            "platform": pd.Series(rng.choice(PLATFORMS, rows), dtype="str"),
            "external_id": pd.Series([f"rv{i:09d}" for i in range(rows)], dtype="str"),
            "listing_id": pd.array(rng.integers(1, 50_000, rows), dtype="Int64"),
            "listing_external_id": pd.Series(
                [f"it{i:07d}" for i in rng.integers(0, 50_000, rows)], dtype="str"
            ),
            "rating": rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, np.nan], rows),
            "text": pd.Series(text, dtype="str"),
            "author_hash": pd.Series(
                [f"name:{x:032x}" for x in rng.integers(0, 2**62, rows)], dtype="str"
            ),
            "posted_at": posted,
            "fetched_at": pd.Series([fetched] * rows),
        }
    )
    broken = np.flatnonzero(rng.random(rows) < bad)
    kinds = rng.integers(0, 6, len(broken))
    at = {k: broken[kinds == k] for k in range(6)}
    df.loc[at[0], "rating"] = 7.0
    df.loc[at[1], "text"] = ""
    df.loc[at[2], "posted_at"] = fetched + pd.Timedelta(days=3)
    df.loc[at[3], "platform"] = "taobao"
    df.loc[at[4], "external_id"] = df["external_id"].to_numpy()[np.maximum(at[4] - 1, 0)]
    df.loc[at[5], "author_hash"] = "张三"
    return df


def main(argv: Sequence[str] | None = None) -> None:
    from transforms.quality.validate import validate_rows

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bad", type=float, nargs="+", default=[0.02, 0.5])
    parser.add_argument("--gx", action="store_true", help="also time the GX COMPLETE route")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    import great_expectations  # noqa: F401

    print(f"import great_expectations: {time.perf_counter() - started:.2f} s")
    validate_rows("reviews", review_frame(100), key_columns=KEY, run_id="warm-up")
    for bad in args.bad:
        df = review_frame(args.rows, bad)
        for source in ("pandas", "gx") if args.gx else ("pandas",):
            started = time.perf_counter()
            v = validate_rows("reviews", df, key_columns=KEY, run_id="bench", row_source=source)
            took = time.perf_counter() - started
            print(
                f"{args.rows} reviews, {bad:.0%} broken, rows from {source}: {took:.2f} s, "
                f"{len(v.failures)} failures on {len(v.failed_positions)} rows"
            )


if __name__ == "__main__":
    main()
