"""What the crawl DAG file needs to know about the site profiles, read cheaply.

The DAG file is parsed every few seconds by Airflow; it must not import the Scrapy
project. This reads only the profiles' names, switches and schedules from the YAML
files (the full validation lives in ``crawlers.profiles``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ecqm.settings import PROJECT_ROOT

PROFILES_DIR = PROJECT_ROOT / "crawlers" / "profiles"
DEFAULT_SHARDS = {"marketplace": 2}


@dataclass(frozen=True)
class ProfileSummary:
    name: str
    enabled: bool
    kind: str
    schedule: str | None
    description: str

    @property
    def default_shards(self) -> int:
        return DEFAULT_SHARDS.get(self.kind, 1)


def profile_summaries(folder: Path = PROFILES_DIR) -> list[ProfileSummary]:
    """Every profile in ``folder``, sorted by name; a file that does not parse is skipped
    here (the crawl itself reports it with the full validation)."""
    out = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            continue
        out.append(
            ProfileSummary(
                name=data["name"],
                enabled=bool(data.get("enabled", False)),
                kind=str(data.get("kind", "marketplace")),
                schedule=data.get("schedule") or None,
                description=str(data.get("description") or data.get("title") or data["name"]),
            )
        )
    return out
