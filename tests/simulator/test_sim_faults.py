"""Injected faults: parsing, rates, Retry-After, retries, exemptions."""

from __future__ import annotations

import http.client
import json
import math
import time

import pytest
from sim_helpers import Client, fetch

from simulator.faults import FaultSpec
from simulator.server import SimulatorServer
from simulator.world import World


def test_parse_full_spec() -> None:
    spec = FaultSpec.parse(
        "429=0.05,5xx=0.03,slow=0.01,truncate=0.02,malformed_json=0.02,redirect_loop=0.01,"
        "slow_seconds=1.5"
    )
    assert spec.rate("429") == 0.05 and spec.rate("redirect_loop") == 0.01
    assert spec.slow_seconds == 1.5
    assert FaultSpec.parse("").total == 0
    assert FaultSpec.parse(str(spec)) == spec


@pytest.mark.parametrize(
    "text, bad",
    [
        ("404=0.1", "404"),
        ("429=1.5", "429=1.5"),
        ("5xx=-0.1", "5xx=-0.1"),
        ("429=abc", "429=abc"),
        ("429", "429"),
        ("429=0.6,5xx=0.6", "sum"),
    ],
)
def test_parse_rejects(text: str, bad: str) -> None:
    with pytest.raises(ValueError, match=bad.replace("+", r"\+")):
        FaultSpec.parse(text)


def _classify(client: Client, path: str) -> tuple[str, dict[str, str]]:
    try:
        status, headers, body = client.get(path)
    except http.client.IncompleteRead:
        client.close()
        return "truncate", {}
    if status == 429:
        return "429", headers
    if status >= 500:
        return "5xx", headers
    if status == 302:
        return "redirect_loop", headers
    try:
        json.loads(body)
    except ValueError:
        return "malformed_json", headers
    return "ok", headers


def test_rates_hold_and_retries_succeed() -> None:
    spec = FaultSpec.parse("429=0.05,5xx=0.03,truncate=0.02,malformed_json=0.02,redirect_loop=0.01")
    n = 3000
    counts: dict[str, int] = {}
    faulted: list[str] = []
    with SimulatorServer(World(100, 7), spec) as srv:
        client = Client(srv.base_url)
        for i in range(n):
            path = f"/pinjia/api/search?q=nothing&page={i + 1}"
            kind, headers = _classify(client, path)
            counts[kind] = counts.get(kind, 0) + 1
            if kind == "429":
                assert headers["retry-after"].isdigit()
            if kind != "ok":
                faulted.append(path)
        for kind in ("429", "5xx", "truncate", "malformed_json", "redirect_loop"):
            p = spec.rate(kind)
            tol = 4 * math.sqrt(n * p * (1 - p)) + 2
            assert abs(counts.get(kind, 0) - n * p) <= tol, (kind, counts)
        # a retry gets an independent draw: almost every faulted URL succeeds within three tries
        recovered = 0
        for path in faulted[:80]:
            for _ in range(3):
                if _classify(client, path)[0] == "ok":
                    recovered += 1
                    break
        assert recovered >= len(faulted[:80]) - 1
        client.close()


def test_faults_are_deterministic() -> None:
    spec = FaultSpec.parse("429=0.2,5xx=0.2")
    runs = []
    for _ in range(2):
        with SimulatorServer(World(50, 3), spec) as srv:
            client = Client(srv.base_url)
            runs.append([client.get(f"/tousu/list?page={i % 3 + 1}")[0] for i in range(60)])
            client.close()
    assert runs[0] == runs[1]
    assert 200 in runs[0] and 429 in runs[0]


def test_robots_and_health_never_fault() -> None:
    with SimulatorServer(World(20, 1), FaultSpec.parse("429=1.0")) as srv:
        for _ in range(30):
            assert fetch(srv.base_url, "/robots.txt")[0] == 200
            assert fetch(srv.base_url, "/__health")[0] == 200
        status, headers, _ = fetch(srv.base_url, "/youpin/")
        assert status == 429 and headers["retry-after"] == "1"


def test_redirect_loop_bounces_between_two_urls() -> None:
    with SimulatorServer(World(20, 1), FaultSpec.parse("redirect_loop=1.0")) as srv:
        seen = []
        path = "/youpin/"
        for _ in range(6):
            status, headers, _ = fetch(srv.base_url, path)
            assert status == 302
            path = headers["location"]
            seen.append(path)
        assert len(set(seen[1:])) == 2


def test_slow_and_truncate_and_5xx_codes() -> None:
    with SimulatorServer(World(20, 1), FaultSpec.parse("slow=1.0,slow_seconds=0.3")) as srv:
        t = time.monotonic()
        assert fetch(srv.base_url, "/youpin/")[0] == 200
        assert time.monotonic() - t >= 0.3
    with SimulatorServer(World(20, 1), FaultSpec.parse("truncate=1.0")) as srv:
        with pytest.raises(http.client.IncompleteRead):
            fetch(srv.base_url, "/youpin/")
    with SimulatorServer(World(20, 1), FaultSpec.parse("5xx=1.0")) as srv:
        codes = {fetch(srv.base_url, f"/tousu/list?page={i}")[0] for i in range(1, 4)} | {
            fetch(srv.base_url, "/recall/")[0] for _ in range(20)
        }
        assert codes <= {500, 502, 503} and len(codes) >= 2


def test_malformed_json_only_on_json(tmp_path) -> None:
    log = tmp_path / "requests.jsonl"
    with SimulatorServer(
        World(20, 1), FaultSpec.parse("malformed_json=1.0"), request_log=log
    ) as srv:
        status, _, body = fetch(srv.base_url, "/youpin/")
        assert status == 200 and body.startswith(b"<!DOCTYPE html>")
        status, _, body = fetch(
            srv.base_url,
            "/pinjia/api/search?q=%E6%AF%9B%E7%BB%92%E7%8E%A9%E5%85%B7",
            headers={"User-Agent": "ecqm-test/1.0"},
        )
        assert status == 200
        with pytest.raises(ValueError):
            json.loads(body)
        assert [r[2] for r in srv.requests] == [200, 200]
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert lines[1]["fault"] == "malformed_json" and lines[1]["user_agent"] == "ecqm-test/1.0"
    assert lines[0]["fault"] is None and lines[1]["path"].startswith("/pinjia/api/search?q=")
    assert {"time", "method", "path", "status", "fault", "user_agent"} <= set(lines[0])
