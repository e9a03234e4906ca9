"""Run a profile's crawl as a ``scrapy crawl`` subprocess and report what it did.

Scrapy's reactor cannot be restarted, so a crawl never runs inside the calling
process (an Airflow task under ``dag.test()`` runs many in one process). Everything
the crawl needs goes on the command line as ``-s NAME=VALUE``; the result is read back
from the shard's statistics file::

    result = run_crawl("youpin", run_id="crawl_youpin__20261101T020000",
                       partition_date="2026-11-01", shard=0, shards=2)
    result.items        # {"listing": 120, "review": 3400}
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawlers import landing
from crawlers.profiles import Profile, ProfileError, load_profile

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STDERR_TAIL = 4000
_GRACE_SECONDS = 20


class CrawlError(RuntimeError):
    """The crawl could not run or did not finish; the message ends with its stderr tail."""


@dataclass
class CrawlResult:
    profile: str
    run_id: str
    shard: int
    items: dict[str, int]
    pages: int
    errors: dict[str, int]
    retries: int
    duration_s: float
    item_files: list[str]
    pages_file: str
    stats_file: str
    finish_reason: str = "finished"


def _setting_arg(name: str, value: Any) -> str:
    if isinstance(value, bool):
        text = "True" if value else "False"
    elif isinstance(value, dict):
        text = json.dumps(value)
    elif isinstance(value, list | tuple):
        text = ",".join(str(v) for v in value)
    elif isinstance(value, Path):
        text = str(value)
    else:
        text = str(value)
    return f"{name}={text}"


def crawl_command(profile: Profile, settings: Mapping[str, Any]) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", profile.spider]
    for name, value in settings.items():
        if value is None:
            continue
        cmd += ["-s", _setting_arg(name, value)]
    return cmd


def run_crawl(
    profile: str,
    *,
    run_id: str,
    partition_date: str,
    shard: int = 0,
    shards: int = 1,
    target_url: str | None = None,
    landing_dir: Path | None = None,
    evidence_dir: Path | None = None,
    settings: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> CrawlResult:
    """Crawl shard ``shard`` of ``shards`` of ``profile`` in a subprocess.

    ``target_url`` replaces the profile's base URL (the simulator's random port in
    tests). ``settings`` are Scrapy settings that win over the profile's (politeness,
    for example). Raises :class:`ProfileError` for a bad profile, ``ValueError`` for
    bad run coordinates and :class:`CrawlError` when the crawl fails, is cut short
    or times out.
    """
    from ecqm import settings as ecqm_settings

    extra = dict(settings or {})
    prof = load_profile(profile, extra.get("ECQM_PROFILES_DIR"))
    if not prof.enabled and not extra.pop("ECQM_ALLOW_DISABLED", False):
        raise CrawlError(
            f"profile {profile!r} is disabled (enabled: false in {prof.path}); "
            "enable it there first"
        )
    landing.check_run(run_id, partition_date, shard)
    if shards < 1 or shard >= shards:
        raise ValueError(f"shard {shard} of {shards}: need 0 <= shard < shards")
    # Fail here, with the profile's own message, rather than inside the subprocess.
    prof.resolve_base_url(target_url)

    env_settings = ecqm_settings.load()
    landing_root = landing.local_dir(landing_dir or env_settings.landing_url)
    evidence_root = landing.local_dir(evidence_dir or env_settings.evidence_dir)
    run_settings: dict[str, Any] = {
        "ECQM_PROFILE": prof.name,
        "ECQM_RUN_ID": run_id,
        "ECQM_PARTITION_DATE": partition_date,
        "ECQM_SHARD": shard,
        "ECQM_SHARDS": shards,
        "ECQM_TARGET_URL": target_url,
        "ECQM_LANDING_DIR": landing_root.resolve(),
        "ECQM_EVIDENCE_DIR": evidence_root.resolve(),
    }
    run_settings.update(extra)
    stats_file = landing.stats_path(landing_root, prof.name, partition_date, run_id, shard)
    # A stale statistics file must not pass for this run's.
    stats_file.unlink(missing_ok=True)

    env = os.environ.copy()
    env["SCRAPY_SETTINGS_MODULE"] = "crawlers.settings"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    if target_url:
        env["ECQM_SIMULATOR_URL"] = target_url
    cmd = crawl_command(prof, run_settings)
    proc = subprocess.Popen(
        cmd,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    try:
        _out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # A graceful stop first, so the crawl can close its files; then the hard way.
        proc.send_signal(signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
        raise CrawlError(
            f"crawl of {prof.name} shard {shard} timed out after {timeout}s\n{_tail(err)}"
        ) from None
    if proc.returncode != 0:
        raise CrawlError(
            f"crawl of {prof.name} shard {shard} exited with {proc.returncode}\n{_tail(err)}"
        )
    if not stats_file.is_file():
        raise CrawlError(
            f"crawl of {prof.name} shard {shard} wrote no statistics ({stats_file})\n{_tail(err)}"
        )
    doc = json.loads(stats_file.read_text(encoding="utf-8"))
    if doc.get("finish_reason") != "finished" and not str(doc.get("finish_reason")).startswith(
        "closespider_"
    ):
        raise CrawlError(
            f"crawl of {prof.name} shard {shard} ended with {doc.get('finish_reason')!r}\n"
            f"{_tail(err)}"
        )
    return CrawlResult(
        profile=prof.name,
        run_id=run_id,
        shard=shard,
        items={k: int(v) for k, v in doc["items"].items()},
        pages=int(doc["pages"]),
        errors={k: int(v) for k, v in doc["errors"].items()},
        retries=int(doc["retries"]),
        duration_s=float(doc["duration_s"]),
        item_files=sorted(doc["item_files"].values()),
        pages_file=doc["pages_file"],
        stats_file=str(stats_file),
        finish_reason=doc["finish_reason"],
    )


def _tail(text: str | None) -> str:
    text = text or ""
    return text[-STDERR_TAIL:]


__all__ = ["CrawlError", "CrawlResult", "ProfileError", "run_crawl"]
