"""Site profiles: the shipped files load, bad ones fail naming file and field, shards partition."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crawlers.profiles import ProfileError, load_profile, load_profiles, parse_profile

SIM = {"ECQM_SIMULATOR_URL": "http://127.0.0.1:8123"}
KEYWORDS = [["电热水壶", "烧水壶"], ["充电宝", "移动电源", "power bank"]]


def test_shipped_profiles():
    profiles = load_profiles()
    assert {"youpin", "lehuo", "pinjia", "tousu", "sim_recalls"} <= {
        n for n, p in profiles.items() if p.enabled
    }
    real = {"cpsc_recalls", "eu_safety_gate", "samr_recalls"}
    assert real <= set(profiles)
    for name in real:
        p = profiles[name]
        assert not p.enabled and p.kind == "recalls"
        assert p.base_url.startswith("https://") and p.allowed_domains
    assert {profiles[p].platform for p in ("youpin", "lehuo", "pinjia")} == {
        "youpin",
        "lehuo",
        "pinjia",
    }
    assert profiles["youpin"].reviews.style == "json-cursor"
    assert profiles["lehuo"].reviews.style == "html-pages"
    assert profiles["pinjia"].extraction.selectors
    assert all(p.schedule for p in profiles.values())


def test_keyword_search_expands_over_reference_categories():
    youpin = load_profile("youpin")
    urls = youpin.start_urls(environ=SIM)
    searches = [u for u in urls if "/youpin/search?keyword=" in u]
    from transforms.reference.load import read_reference

    n_keywords = len({k for c in read_reference().categories for k in c.keywords})
    assert len(searches) == n_keywords
    assert (
        "http://127.0.0.1:8123/youpin/search?keyword=%E7%94%B5%E7%83%AD%E6%B0%B4%E5%A3%B6"
        in searches
    )
    assert urls[0] == "http://127.0.0.1:8123/youpin/"
    assert "http://127.0.0.1:8123/youpin/sitemap.xml" in urls


def test_target_url_overrides_and_domains_follow_it():
    p = load_profile("tousu")
    assert p.resolve_base_url("http://127.0.0.1:9999/", environ={}) == "http://127.0.0.1:9999"
    assert p.resolve_allowed_domains("http://127.0.0.1:9999", environ={}) == ["127.0.0.1"]
    with pytest.raises(ProfileError, match=r"tousu.yaml: base_url needs \$\{ECQM_SIMULATOR_URL\}"):
        p.resolve_base_url(environ={})
    statuses = [u for u in p.start_urls(environ=SIM) if "status=" in u]
    assert [u.rsplit("=", 1)[1] for u in statuses] == [
        "pending",
        "processing",
        "replied",
        "completed",
    ]


@pytest.mark.parametrize("shards", [1, 2, 3, 7])
def test_shards_partition_the_start_points(shards):
    p = load_profile("lehuo")
    everything = p.start_urls(0, 1, environ=SIM, keywords=KEYWORDS)
    parts = [p.start_urls(i, shards, environ=SIM, keywords=KEYWORDS) for i in range(shards)]
    flat = [u for part in parts for u in part]
    assert sorted(flat) == sorted(everything) and len(flat) == len(set(flat))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert parts == [p.start_urls(i, shards, environ=SIM, keywords=KEYWORDS) for i in range(shards)]
    with pytest.raises(ProfileError):
        p.start_urls(shards, shards, environ=SIM)


def test_first_keyword_only():
    doc = _doc()
    doc["start_points"] = [{"type": "search", "url": "/s?q={keyword}", "keywords": "first"}]
    p = parse_profile(doc, "demo.yaml")
    assert p.start_urls(environ=SIM, keywords=KEYWORDS) == [
        "http://127.0.0.1:8123/s?q=%E7%94%B5%E7%83%AD%E6%B0%B4%E5%A3%B6",
        "http://127.0.0.1:8123/s?q=%E5%85%85%E7%94%B5%E5%AE%9D",
    ]


def test_profile_settings_carry_politeness_and_user_agent():
    doc = _doc()
    doc["politeness"] = {"concurrency": 3, "delay": 2.5, "autothrottle_target": 1.5}
    doc["user_agent"] = "ecqm-test/1.0"
    s = parse_profile(doc, "demo.yaml").scrapy_settings()
    assert s == {
        "CONCURRENT_REQUESTS_PER_DOMAIN": 3,
        "DOWNLOAD_DELAY": 2.5,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.5,
        "USER_AGENT": "ecqm-test/1.0",
    }


def _doc() -> dict:
    return yaml.safe_load((Path(load_profile("youpin").path)).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(colour="red"), "youpin.yaml: colour is not a known field"),
        (lambda d: d["politeness"].update(speed=1), "politeness.speed is not a known field"),
        (lambda d: d.pop("kind"), "youpin.yaml: kind is required"),
        (lambda d: d.update(kind="shop"), "kind must be one of marketplace, complaints, recalls"),
        (lambda d: d.update(enabled="yes"), "enabled must be true or false"),
        (lambda d: d.pop("platform"), "platform is required for a marketplace"),
        (lambda d: d.update(base_url="ftp://x"), "base_url must be an http(s) URL"),
        (lambda d: d["politeness"].update(delay=-1), "politeness.delay must not be negative"),
        (
            lambda d: d["politeness"].update(concurrency=0),
            "politeness.concurrency must be at least 1",
        ),
        (lambda d: d.update(schedule="daily"), "schedule must be a 5-field cron"),
        (lambda d: d["links"].update(detail="(unclosed"), "links.detail is not a valid regular"),
        (lambda d: d["reviews"].update(style="xml"), "reviews.style must be one of"),
        (lambda d: d["reviews"].update(endpoint="/api"), "reviews.endpoint must contain {id}"),
        (lambda d: d["start_points"][0].update(type="rss"), "start_points[0].type must be one of"),
        (lambda d: d["start_points"][0].update(url="/x/{colour}"), "values.colour is not given"),
        (lambda d: d["extraction"].update(mode="selectors"), "extraction.selectors is required"),
        (lambda d: d.update(start_points=[]), "start_points must list at least one"),
        (lambda d: d.update(name="Youpin"), "name must be lower-case"),
    ],
)
def test_bad_profiles_name_file_and_field(change, message, tmp_path):
    doc = _doc()
    change(doc)
    path = tmp_path / "youpin.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profiles(tmp_path)
    assert message in str(info.value)


def test_name_must_match_file_and_unknown_profile(tmp_path):
    (tmp_path / "other.yaml").write_text(
        yaml.safe_dump(_doc(), allow_unicode=True), encoding="utf-8"
    )
    with pytest.raises(ProfileError, match="must match the file name 'other'"):
        load_profiles(tmp_path)
    with pytest.raises(ProfileError, match="no profile 'nosuch'.*known: .*youpin"):
        load_profile("nosuch")
    (tmp_path / "other.yaml").write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ProfileError, match="other.yaml: not valid YAML"):
        load_profiles(tmp_path)
