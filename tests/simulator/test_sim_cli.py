"""The command line: serve until SIGTERM, print the truth, plug into a parent parser."""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

from sim_helpers import fetch

from simulator.cli import register

ROOT = Path(__file__).resolve().parents[2]


def test_register_adds_serve_and_truth() -> None:
    parser = argparse.ArgumentParser(prog="ecqm simulator")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "serve",
            "--port",
            "0",
            "--products",
            "50",
            "--seed",
            "4",
            "--faults",
            "429=0.1",
            "--clock",
            "2026-06-01",
        ]
    )
    assert callable(args.func) and args.products == 50 and args.faults.rate("429") == 0.1
    args = parser.parse_args(["truth", "--products", "10"])
    assert callable(args.func)


def test_serve_prints_line_serves_and_stops(tmp_path: Path) -> None:
    log = tmp_path / "req.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "serve",
            "--port",
            "0",
            "--products",
            "50",
            "--seed",
            "4",
            "--faults",
            "slow=0.01,slow_seconds=0.1",
            "--request-log",
            str(log),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.fullmatch(
            r"simulator serving (http://127\.0\.0\.1:(\d+)/) \(products=50 seed=4 faults=(.+)\)\n",
            line,
        )
        assert m, line
        assert fetch(m.group(1).rstrip("/"), "/robots.txt")[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert json.loads(log.read_text().splitlines()[0])["path"] == "/robots.txt"


def test_truth_command_prints_json(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "truth", "--products", "30", "--seed", "4"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    doc = json.loads(out.stdout)
    assert doc["products_count"] == 30 and len(doc["products"]) == 30
    target = tmp_path / "t.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "truth",
            "--products",
            "30",
            "--seed",
            "4",
            "--out",
            str(target),
        ],
        cwd=ROOT,
        check=True,
    )
    assert json.loads(target.read_text()) == doc


def test_bad_faults_are_rejected() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "serve", "--faults", "teapot=0.1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "teapot" in out.stderr
