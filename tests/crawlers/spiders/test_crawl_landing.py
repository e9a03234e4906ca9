"""Landing zone helpers and the pieces of the crawl that need no network."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
from pathlib import Path

import pytest
from itemadapter import ItemAdapter
from scrapy.http import HtmlResponse, Request

from crawlers import landing
from crawlers.extensions import errors_by_kind
from crawlers.items import LINE_FIELDS, ListingItem, RecallItem
from crawlers.middlewares import decoded_body, finished_normally, retry_after_seconds


def test_layout():
    root = Path("/data/landing")
    assert landing.item_path(root, "youpin", "review", "2026-11-01", "r1", 3) == Path(
        "/data/landing/youpin/reviews/2026-11-01/r1/shard-003.jsonl"
    )
    assert landing.pages_path(root, "tousu", "2026-11-01", "r1", 0).parts[-4:] == (
        "pages",
        "2026-11-01",
        "r1",
        "shard-000.jsonl",
    )
    assert landing.stats_path(root, "tousu", "2026-11-01", "r1", 12).name == "shard-012.json"
    sha = hashlib.sha256(b"x").hexdigest()
    assert landing.evidence_path(Path("/ev"), sha) == Path(f"/ev/{sha[:2]}/{sha}.gz")
    assert landing.item_path(root, "youpin", "shop", "2026-11-01", "r1", 0).parts[-4] == "shops"
    with pytest.raises(ValueError):
        landing.item_path(root, "youpin", "seller", "2026-11-01", "r1", 0)
    with pytest.raises(ValueError):
        landing.evidence_path(Path("/ev"), "../../etc/passwd")


@pytest.mark.parametrize(
    ("run_id", "date", "shard"),
    [
        ("../x", "2026-11-01", 0),
        ("", "2026-11-01", 0),
        ("r1", "2026-13-01", 0),
        ("r1", "20261101", 0),
        ("r1", "2026-11-01", 1000),
    ],
)
def test_bad_run_coordinates(run_id, date, shard):
    with pytest.raises(ValueError):
        landing.check_run(run_id, date, shard)


def test_local_dir_accepts_paths_and_file_urls_only():
    assert landing.local_dir("/a/b") == Path("/a/b")
    assert landing.local_dir("file:///a/b") == Path("/a/b")
    with pytest.raises(ValueError, match="s3://"):
        landing.local_dir("s3://bucket/landing")


def test_evidence_is_written_once_and_never_rewritten(tmp_path):
    body = "电热水壶 ¥89".encode()
    sha = hashlib.sha256(body).hexdigest()
    assert landing.write_evidence(tmp_path, sha, body) is True
    path = landing.evidence_path(tmp_path, sha)
    assert gzip.decompress(path.read_bytes()) == body
    first = path.read_bytes()
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert landing.write_evidence(tmp_path, sha, body) is False
    assert path.stat().st_mtime_ns == 1_000_000_000 and path.read_bytes() == first
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_evidence_files_are_reproducible(tmp_path):
    body = b"<html>same</html>"
    sha = hashlib.sha256(body).hexdigest()
    landing.write_evidence(tmp_path / "a", sha, body)
    landing.write_evidence(tmp_path / "b", sha, body)
    a, b = (landing.evidence_path(tmp_path / d, sha).read_bytes() for d in "ab")
    assert a == b


def test_shard_file_appears_only_on_commit_and_replaces(tmp_path):
    path = tmp_path / "x" / "shard-000.jsonl"
    f = landing.ShardFile(path)
    f.write({"a": 1, "text": "中文"})
    assert not path.exists()
    f.commit()
    assert path.read_text(encoding="utf-8") == '{"a":1,"text":"中文"}\n'
    g = landing.ShardFile(path)
    g.write({"a": 2})
    g.abort()
    assert path.read_text(encoding="utf-8").startswith('{"a":1')  # an aborted run leaves it
    h = landing.ShardFile(path)
    h.commit()
    assert path.read_text() == ""  # a finished re-run with nothing replaces it
    assert sorted(p.name for p in path.parent.iterdir()) == ["shard-000.jsonl"]


def test_shard_file_rejects_records_that_are_not_json_safe(tmp_path):
    f = landing.ShardFile(tmp_path / "s.jsonl")
    with pytest.raises(TypeError):
        f.write({"x": object()})
    f.write({"d": __import__("decimal").Decimal("1.50")})
    f.commit()
    assert (tmp_path / "s.jsonl").read_text() == '{"d":"1.50"}\n'


def test_items_carry_their_kind():
    item = ListingItem(
        source="youpin", external_id="1", url="u", fetched_at="t", crawl_run_id="r", payload={}
    )
    assert item.kind == "listing" and RecallItem.kind == "recall"
    assert "kind" not in {f.name for f in dataclasses.fields(item)}
    assert set(ItemAdapter(item).keys()) == set(LINE_FIELDS) - {"kind"}


def test_decoded_body_matches_what_the_spider_reads():
    raw = "<html>优品</html>".encode() * 100
    resp = HtmlResponse("http://x/", body=gzip.compress(raw), headers={"Content-Encoding": "gzip"})
    assert decoded_body(resp) == raw
    plain = HtmlResponse("http://x/", body=raw)
    assert decoded_body(plain) == raw
    broken = HtmlResponse("http://x/", body=b"not gzip", headers={"Content-Encoding": "gzip"})
    assert decoded_body(broken) == b"not gzip"
    assert Request("http://x/").meta == {}


def test_retry_after_values():
    assert retry_after_seconds(b"1") == 1.0
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(b"Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


def test_close_reasons():
    assert finished_normally("finished") and finished_normally("closespider_timeout")
    assert not finished_normally("shutdown") and not finished_normally("cancelled")


def test_errors_by_kind():
    errors = errors_by_kind(
        {
            "ecqm/pages/status/2xx": 90,
            "ecqm/pages/status/4xx": 3,
            "ecqm/pages/status/5xx": 2,
            "downloader/exception_type_count/scrapy.exceptions.ResponseDataLossError": 4,
            "downloader/exception_type_count/scrapy.exceptions.DownloadTimeoutError": 1,
            "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 7,
            "ecqm/errors/parse/reviews": 2,
            "robotstxt/forbidden": 5,
            "offsite/filtered": 6,
            "retry/max_reached": 1,
        }
    )
    assert errors == {
        "http_4xx": 3,
        "http_5xx": 2,
        "offsite_filtered": 6,
        "parse": 2,
        "parse_reviews": 2,
        "retries_exhausted": 1,
        "robots_forbidden": 5,
        "timeouts": 1,
        "truncated": 4,
    }
