"""The monthly report renders in a real browser: headless Chromium lays it out, every
chart is in the DOM it built with shapes drawn, and a screenshot of the page is the right
size, not blank, and shows the charts' colours.

Needs ``chromium`` (Debian's package), which ``scripts/ensure-system-packages`` installs.
Without it the test is skipped, except where CI or ``ECQM_TEST_POSTGRES_REQUIRED`` is
set: there it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import lxml.html
import pytest
from review_world import NOW, add_report_world, build_month

from transforms.review.charts import LEVEL_COLORS, PALETTE
from transforms.review.report import write_report

CHROMIUM_TIMEOUT = 120
WIDTH, HEIGHT = 1280, 4000
SHAPES = ".//rect | .//circle | .//line | .//polyline | .//path"


@pytest.fixture
def chromium() -> str:
    """The browser; asked for before the warehouse is built, so a skip costs nothing."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    reason = "chromium not found: install chromium (scripts/ensure-system-packages)"
    if os.environ.get("CI") or os.environ.get("ECQM_TEST_POSTGRES_REQUIRED"):
        pytest.fail(f"{reason}; it is required here (CI or ECQM_TEST_POSTGRES_REQUIRED is set)")
    pytest.skip(reason)


def _run_chromium(chromium: str, args: list[str], tmp_path: Path) -> str:
    """One headless run with a profile of its own and no network chatter; its stdout."""
    profile = tmp_path / "chromium-profile"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    env = {**os.environ, "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    # A session of its own, so that a timeout ends Chromium's child processes too.
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=CHROMIUM_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium did not finish in {CHROMIUM_TIMEOUT} s: {' '.join(command)}")
    if proc.returncode != 0:
        pytest.fail(f"chromium exited {proc.returncode}:\n{err.decode(errors='replace')[-3000:]}")
    return out.decode("utf-8")


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, bytearray()
    width = height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for x in range(channels, stride):
                line[x] = (line[x] + line[x - channels]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for x in range(stride):
                left = line[x - channels] if x >= channels else 0
                line[x] = (line[x] + (left + prev[x]) // 2) & 0xFF
        elif kind == 4:
            for x in range(stride):
                a = line[x - channels] if x >= channels else 0
                b = prev[x]
                c = prev[x - channels] if x >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(
            bytes(line) if channels == 3 else bytes(line[i] for i in range(stride) if i % 4 != 3)
        )
        prev = line
    return width, height, rows


def _colours(rows: list[bytes]) -> Counter:
    counts: Counter = Counter()
    for row in rows:
        counts.update(row[i : i + 3] for i in range(0, len(row), 3))
    return counts


@pytest.fixture
def report(warehouse_engine, tmp_path) -> Path:
    world = add_report_world(build_month(warehouse_engine))
    return write_report(world, "2026-11", tmp_path / "outbox", NOW).html


def test_the_report_renders_in_chromium(chromium, report, tmp_path):
    url = report.as_uri()

    dom = _run_chromium(chromium, ["--dump-dom", url], tmp_path)
    doc = lxml.html.document_fromstring(dom)
    figures = doc.xpath("//figure[@data-chart]")
    assert len(figures) == 14
    for figure in figures:
        chart = figure.get("data-chart")
        svgs = figure.xpath(".//svg[@role='img']")
        assert len(svgs) == 1 and svgs[0].get("aria-label"), chart
        assert len(svgs[0].xpath(SHAPES)) > 0, chart
        assert figure.xpath("./figcaption"), chart
    assert "电子商务产品质量网上监测月报" in doc.findtext(".//h1")

    shot = tmp_path / "shot.png"
    _run_chromium(
        chromium, [f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", url], tmp_path
    )
    assert shot.exists() and shot.stat().st_size > 10_000
    width, height, rows = decode_png(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    colours = _colours(rows)
    white = colours[b"\xff\xff\xff"]
    assert len(colours) > 50, "a page of a few flat colours: nothing rendered"
    assert white < 0.95 * width * height, "the page is (almost) blank"
    # The charts drew: bars in the high-risk red, the low-risk green and the first series
    # blue are on the page, each over a good number of pixels (a bar is ~18 px high).
    for name, colour in (
        ("high", LEVEL_COLORS["high"]),
        ("low", LEVEL_COLORS["low"]),
        ("series", PALETTE[0]),
    ):
        assert colours[bytes.fromhex(colour[1:])] > 2_000, name
