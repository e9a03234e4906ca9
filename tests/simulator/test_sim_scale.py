"""A 1,000,000-product world serves with flat memory; its truth streams."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from pathlib import Path

from sim_helpers import Client

from simulator.layout import PLATFORMS
from simulator.server import SimulatorServer
from simulator.truth import iter_truth
from simulator.world import World, listing_path, shop_path

ROOT = Path(__file__).resolve().parents[2]


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def random_paths(world: World, rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        pid = rng.randrange(world.products)
        plat, _, j = rng.choice(list(world.listings_of(pid)))
        ext = world.listing_ext_id(plat, pid, j)
        r = rng.random()
        if r < 0.55:
            out.append(listing_path(plat, ext))
        elif r < 0.7:
            shop = world.shop(plat, *world.shop_key_of(plat, pid, j))
            out.append(shop_path(plat, shop.ext_id))
        elif r < 0.8:
            out.append(
                f"/youpin/search?keyword=%E5%85%85%E7%94%B5%E5%AE%9D&page={rng.randint(1, 1500)}"
            )
        elif r < 0.9:
            out.append(
                f"/tousu/complaint/{world.complaint_book.number(rng.randrange(world.complaint_count()))}"
            )
        else:
            out.append(
                f"/youpin/sitemaps/items-{rng.randint(1, 80)}.xml"
                if rng.random() < 0.1
                else f"/tousu/list?page={rng.randint(1, 12000)}"
            )
    return out


def test_million_product_world_has_flat_memory() -> None:
    world = World(1_000_000, 3)
    rng = random.Random(1)
    with SimulatorServer(world) as srv:
        client = Client(srv.base_url)
        for path in random_paths(world, rng, 400):
            assert client.get(path)[0] == 200, path
        start = rss_kb()
        paths = random_paths(world, rng, 2500)
        for path in paths:
            assert client.get(path)[0] == 200, path
        grown = rss_kb() - start
        client.close()
    assert grown < 8 * 1024, f"RSS grew by {grown} kB over {len(paths)} pages"
    assert len({p.split("/")[1] for p in paths}) >= 3 and len(PLATFORMS) == 3


def test_million_product_truth_streams() -> None:
    world = World(1_000_000, 3)
    before = rss_kb()
    chunks = list(itertools.islice(iter_truth(world), 500))
    assert chunks[0].startswith('{"format":"ecqm-simulator-truth"')
    assert rss_kb() - before < 20 * 1024


def test_cli_truth_streams_before_the_document_is_complete() -> None:
    """The first 64 KiB of a 1,000,000-product truth arrive while the process is still
    writing, so the document is never built whole (the process is killed unfinished)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "truth", "--products", "1000000", "--seed", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        head = proc.stdout.read(65536)
        assert proc.poll() is None, "the truth command finished instead of streaming"
        assert head.startswith(b'{"format":"ecqm-simulator-truth"') and b'"products":[' in head
    finally:
        proc.kill()
        proc.wait()
