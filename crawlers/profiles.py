"""Site profiles: what to crawl on a site, how politely, and how to read its pages.

One YAML file per site in ``crawlers/profiles/``. :func:`load_profiles` reads and
validates all of them; every problem names the file and the field, and fields the
schema does not know are rejected (a typo must not silently disable a setting).

A profile's ``base_url`` may be ``${ECQM_SIMULATOR_URL}`` (any ``${VAR}``): it is
substituted from the environment, or from ``target_url`` given at run time. Entries
of ``allowed_domains`` may be URLs (also with ``${VAR}``); they are reduced to their
host names. Start points are paths relative to the base URL or absolute URLs;
``{keyword}`` expands over the monitored categories' search keywords (read from the
reference data), other ``{name}`` placeholders over the start point's ``values``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import yaml

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

KINDS = ("marketplace", "complaints", "recalls")
SPIDER_FOR_KIND = {"marketplace": "listings", "complaints": "complaints", "recalls": "recalls"}
START_TYPES = {
    "marketplace": ("home", "sitemap", "search", "search_api", "list"),
    "complaints": ("home", "list"),
    "recalls": ("samr_notices", "cpsc_csv", "cpsc_json", "safety_gate_csv"),
}
EXTRACTION_MODES = ("auto", "structured", "selectors")
REVIEW_STYLES = ("json-cursor", "html-pages", "json-pages")
KEYWORD_CHOICES = ("all", "first")
_VAR = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CRON_FIELD = re.compile(r"^[\d*/,\-]+$")


class ProfileError(ValueError):
    """A profile file is invalid, or cannot be resolved at run time."""


@dataclass(frozen=True)
class StartPoint:
    """Where a crawl begins: a page ``type`` the spider knows how to read, and its URL."""

    type: str
    url: str
    keywords: str = "all"
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedStart:
    """One expanded start point: an absolute URL and the page type behind it."""

    type: str
    url: str


@dataclass(frozen=True)
class Links:
    """How to recognise pages: regular expressions on path + query, a CSS pager.

    ``shop`` (marketplaces, optional) recognises a seller's shop page, the page with
    the licence data; without it the listings spider collects no shop pages.
    """

    detail: str | None = None
    list: str | None = None
    pagination: str | None = None
    shop: str | None = None

    def detail_id(self, url: str) -> str | None:
        """The id captured by the ``detail`` pattern's ``id`` group, if ``url`` is a detail."""
        return _id_of(self.detail, url)

    def shop_id(self, url: str) -> str | None:
        """The id captured by the ``shop`` pattern's ``id`` group, if ``url`` is a shop page."""
        return _id_of(self.shop, url)

    def is_detail(self, url: str) -> bool:
        return _match(self.detail, url) is not None

    def is_list(self, url: str) -> bool:
        return _match(self.list, url) is not None

    def is_shop(self, url: str) -> bool:
        return _match(self.shop, url) is not None


def _id_of(pattern: str | None, url: str) -> str | None:
    m = _match(pattern, url)
    if m is None:
        return None
    return m.groupdict().get("id") or m.group(0)


def _match(pattern: str | None, url: str) -> re.Match[str] | None:
    if not pattern:
        return None
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return re.search(pattern, target)


@dataclass(frozen=True)
class Extraction:
    mode: str = "auto"
    selectors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reviews:
    """``endpoint`` holds ``{id}`` (the listing id) and, for page styles, ``{page}``."""

    style: str
    endpoint: str
    max_pages: int = 1000


@dataclass(frozen=True)
class Politeness:
    concurrency: int = 2
    delay: float = 1.0
    autothrottle_target: float = 1.0


@dataclass(frozen=True)
class Profile:
    name: str
    enabled: bool
    kind: str
    base_url: str
    start_points: tuple[StartPoint, ...]
    platform: str | None = None
    allowed_domains: tuple[str, ...] = ()
    links: Links = field(default_factory=Links)
    extraction: Extraction = field(default_factory=Extraction)
    reviews: Reviews | None = None
    politeness: Politeness = field(default_factory=Politeness)
    schedule: str | None = None
    user_agent: str | None = None
    description: str | None = None
    path: Path | None = None

    @property
    def spider(self) -> str:
        """The spider that crawls this profile."""
        return SPIDER_FOR_KIND[self.kind]

    def resolve_base_url(
        self, target_url: str | None = None, environ: Mapping[str, str] | None = None
    ) -> str:
        """The base URL with ``${VAR}`` substituted; ``target_url`` wins when given."""
        if target_url:
            return target_url.rstrip("/")
        return _substitute(self.base_url, environ, self, "base_url").rstrip("/")

    def resolve_allowed_domains(
        self, target_url: str | None = None, environ: Mapping[str, str] | None = None
    ) -> list[str]:
        """Host names the crawl may visit: the declared ones plus the base URL's host."""
        base = self.resolve_base_url(target_url, environ)
        hosts: list[str] = []
        for raw in self.allowed_domains:
            if raw == self.base_url:
                value = base  # the base URL, however it was resolved
            else:
                value = _substitute(raw, environ, self, "allowed_domains")
            host = urlsplit(value).hostname if "://" in value else value
            if host and host not in hosts:
                hosts.append(host)
        base_host = urlsplit(base).hostname
        if base_host and base_host not in hosts:
            hosts.append(base_host)
        return hosts

    def expand_start_points(
        self,
        *,
        target_url: str | None = None,
        keywords: Sequence[Sequence[str]] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> list[ResolvedStart]:
        """Every start URL in a stable order.

        ``keywords`` holds one keyword list per monitored category (default: the
        reference data's categories).
        """
        base = self.resolve_base_url(target_url, environ) + "/"
        out: list[ResolvedStart] = []
        seen: set[str] = set()
        for sp in self.start_points:
            for url in _expand(sp, keywords if keywords is not None else None):
                absolute = urljoin(base, url.lstrip("/")) if "://" not in url else url
                if absolute not in seen:
                    seen.add(absolute)
                    out.append(ResolvedStart(sp.type, absolute))
        return out

    def start_points_for(
        self,
        shard: int = 0,
        shards: int = 1,
        *,
        target_url: str | None = None,
        keywords: Sequence[Sequence[str]] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> list[ResolvedStart]:
        """Shard ``shard`` of ``shards``: every ``shards``-th expanded start point.

        Round-robin over the stable expansion order, so the shards are disjoint, cover
        every start point together and are about equally long.
        """
        if shards < 1 or not 0 <= shard < shards:
            raise ProfileError(f"shard {shard} of {shards}: need 0 <= shard < shards")
        points = self.expand_start_points(target_url=target_url, keywords=keywords, environ=environ)
        return [p for i, p in enumerate(points) if i % shards == shard]

    def start_urls(
        self,
        shard: int = 0,
        shards: int = 1,
        *,
        target_url: str | None = None,
        keywords: Sequence[Sequence[str]] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> list[str]:
        """The URLs of :meth:`start_points_for`."""
        return [
            p.url
            for p in self.start_points_for(
                shard, shards, target_url=target_url, keywords=keywords, environ=environ
            )
        ]

    def scrapy_settings(self) -> dict[str, Any]:
        """Settings this profile asks for (a run's explicit settings override them)."""
        out: dict[str, Any] = {
            "CONCURRENT_REQUESTS_PER_DOMAIN": self.politeness.concurrency,
            "DOWNLOAD_DELAY": self.politeness.delay,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": self.politeness.autothrottle_target,
        }
        if self.user_agent:
            out["USER_AGENT"] = self.user_agent
        return out


def category_keywords(categories: Iterable[str] | None = None) -> list[list[str]]:
    """Search keywords per monitored category, from the reference data."""
    from transforms.reference.load import read_reference

    known = read_reference().categories
    wanted = set(categories) if categories else None
    if wanted is not None:
        unknown = sorted(wanted - {c.code for c in known})
        if unknown:
            raise ProfileError(f"unknown category code(s): {', '.join(unknown)}")
    return [list(c.keywords) for c in known if wanted is None or c.code in wanted]


def _expand(sp: StartPoint, keywords: Sequence[Sequence[str]] | None) -> list[str]:
    names = _PLACEHOLDER.findall(sp.url)
    if not names:
        return [sp.url]
    choices: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        if name == "keyword":
            groups = keywords if keywords is not None else category_keywords()
            words: list[str] = []
            for group in groups:
                picked = list(group[:1]) if sp.keywords == "first" else list(group)
                words += [w for w in picked if w not in words]
            choices[name] = [quote(w, safe="") for w in words]
        else:
            choices[name] = [quote(v, safe="") for v in sp.values[name]]
    urls = [sp.url]
    for name, values in choices.items():
        urls = [u.replace("{" + name + "}", v) for u in urls for v in values]
    return urls


def _substitute(
    text: str, environ: Mapping[str, str] | None, profile: Profile, field_name: str
) -> str:
    env = os.environ if environ is None else environ

    def repl(m: re.Match[str]) -> str:
        value = env.get(m.group(1))
        if not value:
            where = profile.path.name if profile.path else profile.name
            raise ProfileError(
                f"{where}: {field_name} needs ${{{m.group(1)}}}, which is not set "
                "(set the variable or pass a target URL)"
            )
        return value

    return _VAR.sub(repl, text)


# --------------------------------------------------------------------------- reading


class _Reader:
    """Checks one mapping of a profile file; errors name the file and the field path."""

    def __init__(self, file: str, data: Any, where: str = "") -> None:
        self.file = file
        self.where = where
        if not isinstance(data, Mapping):
            raise self.error("", f"must be a mapping, got {type(data).__name__}")
        self.data = data

    def error(self, key: str, what: str) -> ProfileError:
        path = ".".join(p for p in (self.where, key) if p)
        return ProfileError(f"{self.file}: {path or 'profile'} {what}")

    def only(self, allowed: Iterable[str]) -> None:
        extra = sorted(set(self.data) - set(allowed))
        if extra:
            raise self.error(
                extra[0], f"is not a known field (known: {', '.join(sorted(allowed))})"
            )

    def get(self, key: str, types: type | tuple[type, ...], default: Any = ..., *, req=False):
        if key not in self.data or self.data[key] is None:
            if req or default is ...:
                raise self.error(key, "is required")
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in (
            types if isinstance(types, tuple) else (types,)
        ):
            raise self.error(key, f"must be {_type_name(types)}, got {value!r}")
        if not isinstance(value, types):
            raise self.error(key, f"must be {_type_name(types)}, got {value!r}")
        return value

    def choice(self, key: str, choices: Sequence[str], default: Any = ...) -> Any:
        value = self.get(key, str, default)
        if value is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def sub(self, key: str) -> _Reader | None:
        if key not in self.data or self.data[key] is None:
            return None
        return _Reader(self.file, self.data[key], ".".join(p for p in (self.where, key) if p))


def _type_name(types: type | tuple[type, ...]) -> str:
    ts = types if isinstance(types, tuple) else (types,)
    names = {"str": "text", "int": "an integer", "float": "a number", "bool": "true or false"}
    names |= {"list": "a list", "dict": "a mapping"}
    return " or ".join(names.get(t.__name__, t.__name__) for t in ts)


_TOP = (
    "name",
    "description",
    "enabled",
    "kind",
    "platform",
    "base_url",
    "allowed_domains",
    "start_points",
    "links",
    "extraction",
    "reviews",
    "politeness",
    "schedule",
    "user_agent",
)


def parse_profile(data: Any, file: str = "<profile>", path: Path | None = None) -> Profile:
    """Validate one profile document (already parsed from YAML)."""
    r = _Reader(file, data)
    r.only(_TOP)
    name = r.get("name", str, req=True)
    if not _NAME.match(name):
        raise r.error("name", f"must be lower-case letters, digits and _, got {name!r}")
    if path is not None and path.stem != name:
        raise r.error("name", f"must match the file name {path.stem!r}, got {name!r}")
    kind = r.choice("kind", KINDS)
    platform = r.get("platform", str, None)
    if kind == "marketplace" and not platform:
        raise r.error("platform", "is required for a marketplace profile")
    base_url = r.get("base_url", str, req=True)
    if not (_VAR.fullmatch(base_url) or re.match(r"^https?://", _VAR.sub("x", base_url))):
        raise r.error("base_url", f"must be an http(s) URL or ${{VAR}}, got {base_url!r}")
    domains = r.get("allowed_domains", list, [])
    for i, d in enumerate(domains):
        if not isinstance(d, str) or not d:
            raise r.error(f"allowed_domains[{i}]", f"must be a host name or URL, got {d!r}")
    links = _links(r.sub("links"))
    starts = _start_points(r, kind)
    if kind != "recalls" and not links.detail:
        raise r.error("links.detail", f"is required for a {kind} profile")
    if links.shop and kind != "marketplace":
        raise r.error("links.shop", "is only for marketplace profiles")
    ex = r.sub("extraction")
    extraction = Extraction()
    if ex is not None:
        ex.only(("mode", "selectors"))
        selectors = ex.get("selectors", dict, {})
        for k, v in selectors.items():
            if not isinstance(v, str) or not v.strip():
                raise ex.error(f"selectors.{k}", f"must be a CSS or XPath expression, got {v!r}")
        mode = ex.choice("mode", EXTRACTION_MODES, "auto")
        if mode == "selectors" and not selectors:
            raise ex.error("selectors", "is required when mode is selectors")
        extraction = Extraction(mode, dict(selectors))
    reviews = None
    rv = r.sub("reviews")
    if rv is not None:
        if kind != "marketplace":
            raise r.error("reviews", "is only for marketplace profiles")
        rv.only(("style", "endpoint", "max_pages"))
        style = rv.choice("style", REVIEW_STYLES)
        endpoint = rv.get("endpoint", str, req=True)
        if "{id}" not in endpoint:
            raise rv.error("endpoint", f"must contain {{id}}, got {endpoint!r}")
        if style != "json-cursor" and "{page}" not in endpoint:
            raise rv.error("endpoint", f"must contain {{page}} for style {style}")
        max_pages = rv.get("max_pages", int, 1000)
        if max_pages < 1:
            raise rv.error("max_pages", f"must be at least 1, got {max_pages}")
        reviews = Reviews(style, endpoint, max_pages)
    politeness = Politeness()
    po = r.sub("politeness")
    if po is not None:
        po.only(("concurrency", "delay", "autothrottle_target"))
        concurrency = po.get("concurrency", int, 2)
        delay = float(po.get("delay", (int, float), 1.0))
        target = float(po.get("autothrottle_target", (int, float), 1.0))
        if concurrency < 1:
            raise po.error("concurrency", f"must be at least 1, got {concurrency}")
        if delay < 0:
            raise po.error("delay", f"must not be negative, got {delay}")
        if target <= 0:
            raise po.error("autothrottle_target", f"must be positive, got {target}")
        politeness = Politeness(concurrency, delay, target)
    schedule = r.get("schedule", str, None)
    if schedule is not None:
        parts = schedule.split()
        if len(parts) != 5 or not all(_CRON_FIELD.match(p) for p in parts):
            raise r.error("schedule", f"must be a 5-field cron expression, got {schedule!r}")
    user_agent = r.get("user_agent", str, None)
    return Profile(
        name=name,
        enabled=r.get("enabled", bool, req=True),
        kind=kind,
        platform=platform,
        base_url=base_url,
        allowed_domains=tuple(domains),
        start_points=starts,
        links=links,
        extraction=extraction,
        reviews=reviews,
        politeness=politeness,
        schedule=schedule,
        user_agent=user_agent,
        description=r.get("description", str, None),
        path=path,
    )


def _links(lr: _Reader | None) -> Links:
    if lr is None:
        return Links()
    lr.only(("detail", "list", "pagination", "shop"))
    values = {k: lr.get(k, str, None) for k in ("detail", "list", "pagination", "shop")}
    for k in ("detail", "list", "shop"):
        if values[k]:
            try:
                re.compile(values[k])
            except re.error as exc:
                raise lr.error(k, f"is not a valid regular expression: {exc}") from None
    return Links(**values)


def _start_points(r: _Reader, kind: str) -> tuple[StartPoint, ...]:
    raw = r.get("start_points", list, req=True)
    if not raw:
        raise r.error("start_points", "must list at least one start point")
    out = []
    for i, item in enumerate(raw):
        sr = _Reader(r.file, item, f"start_points[{i}]")
        sr.only(("type", "url", "keywords", "values"))
        stype = sr.choice("type", START_TYPES[kind])
        url = sr.get("url", str, req=True)
        keywords = sr.choice("keywords", KEYWORD_CHOICES, "all")
        values_raw = sr.get("values", dict, {})
        values: dict[str, tuple[str, ...]] = {}
        for k, v in values_raw.items():
            if not isinstance(v, list) or not v or not all(isinstance(x, str | int) for x in v):
                raise sr.error(f"values.{k}", f"must be a non-empty list of values, got {v!r}")
            values[str(k)] = tuple(str(x) for x in v)
        for name in _PLACEHOLDER.findall(url):
            if name != "keyword" and name not in values:
                raise sr.error("url", f"uses {{{name}}} but values.{name} is not given")
        out.append(StartPoint(stype, url, keywords, values))
    return tuple(out)


def load_profile_file(path: Path | str) -> Profile:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path.name}: not valid YAML: {exc}") from None
    return parse_profile(data, path.name, path)


def load_profiles(folder: Path | str | None = None) -> dict[str, Profile]:
    """All profiles in ``folder`` (default: ``crawlers/profiles``), by name."""
    base = Path(folder) if folder is not None else PROFILES_DIR
    out: dict[str, Profile] = {}
    for path in sorted(base.glob("*.yaml")):
        profile = load_profile_file(path)
        out[profile.name] = profile
    return out


def load_profile(name: str, folder: Path | str | None = None) -> Profile:
    """One profile by name; the error lists the known ones."""
    base = Path(folder) if folder is not None else PROFILES_DIR
    path = base / f"{name}.yaml"
    if not _NAME.match(name) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in base.glob("*.yaml")))
        raise ProfileError(f"no profile {name!r} in {base} (known: {known})")
    return load_profile_file(path)
