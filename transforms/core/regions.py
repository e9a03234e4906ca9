"""Province and city names, as shop pages show them, to ``ref_regions`` codes.

Shop pages name a seller's place as 浙江省 杭州市, 浙江杭州, 广东省东莞市 or 上海市
上海市. :class:`RegionIndex` finds the six-digit code of the city (a prefecture-level
city, or a county-level one such as 义乌市) among the reference regions, using the
province to tell apart cities of the same name. The four municipalities are regions
of province level in the reference data; there the municipality is the city. A city
the reference data does not know gives ``None``: a province alone is not a seller's
place.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_PROVINCE_SUFFIX = re.compile(r"(?:壮族自治区|回族自治区|维吾尔自治区|特别行政区|自治区|省|市)$")
_CITY_SUFFIX = re.compile(r"(?:自治州|地区|市|盟|县|区)$")


@dataclass(frozen=True)
class _Region:
    code: str
    name: str
    level: str
    parent_code: str | None


def _norm(name: str | None) -> str:
    if not name:
        return ""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


class RegionIndex:
    """Look-ups over the reference regions (rows of ``ref_regions``)."""

    def __init__(self, regions: Iterable[Mapping[str, str | None]]) -> None:
        self._by_code: dict[str, _Region] = {}
        self._places: dict[str, list[_Region]] = defaultdict(list)  # city and county
        self._provinces: dict[str, _Region] = {}
        for r in regions:
            region = _Region(
                str(r["code"]), _norm(r["name"]), str(r["level"]), r.get("parent_code")
            )
            self._by_code[region.code] = region
            if region.level == "province":
                for name in {region.name, _PROVINCE_SUFFIX.sub("", region.name)}:
                    if name:
                        self._provinces[name] = region
            else:
                for name in {region.name, _CITY_SUFFIX.sub("", region.name)}:
                    if name:
                        self._places[name].append(region)

    def __len__(self) -> int:
        return len(self._by_code)

    def province_of(self, code: str) -> str | None:
        """The code of the province a region lies in (itself for a province)."""
        seen: set[str] = set()
        region = self._by_code.get(code)
        while region is not None and region.level != "province" and region.code not in seen:
            seen.add(region.code)
            region = self._by_code.get(region.parent_code or "")
        return region.code if region is not None and region.level == "province" else None

    def code_of(self, province: str | None, city: str | None) -> str | None:
        """The code of ``city`` (in ``province`` when given), or ``None`` when the city is
        unknown or the names do not settle which one is meant."""
        city_name, province_name = _norm(city), _norm(province)
        if not city_name:
            return None
        wanted = self._provinces.get(province_name) if province_name else None
        if province_name and wanted is None:
            wanted = self._provinces.get(_PROVINCE_SUFFIX.sub("", province_name))
        candidates = self._places.get(city_name) or self._places.get(
            _CITY_SUFFIX.sub("", city_name), []
        )
        if wanted is not None:
            candidates = [c for c in candidates if self.province_of(c.code) == wanted.code]
        for level in ("city", "county"):
            at_level = {c.code for c in candidates if c.level == level}
            if len(at_level) == 1:
                return at_level.pop()
            if at_level:
                return None  # two places of that name: not settled
        # A municipality: the province-level region is the city.
        municipality = self._provinces.get(city_name) or self._provinces.get(
            _PROVINCE_SUFFIX.sub("", city_name)
        )
        if (
            municipality is not None
            and municipality.name.endswith("市")
            and (wanted is None or wanted.code == municipality.code)
        ):
            return municipality.code
        return None
