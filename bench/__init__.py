"""Benchmarks of each stage, side by side with a reference, written to bench/results.json."""
