from __future__ import annotations

import pytest

_parse_times: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        for name, value in report.user_properties:
            if name == "parse_seconds":
                _parse_times[report.nodeid.split("[")[-1].rstrip("]")] = value


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    if _parse_times:
        terminalreporter.section("DAG file parse times")
        for name, seconds in sorted(_parse_times.items(), key=lambda kv: -kv[1]):
            terminalreporter.write_line(f"{seconds * 1000:8.1f} ms  {name}")
