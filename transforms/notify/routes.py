"""Routing: which channel and address each notice recipient gets.

The rules are data, ``data/routes.yaml`` (or ``$ECQM_HOME/notify_routes.yaml`` when that
file exists, which replaces it whole). :meth:`Routes.route` answers for one recipient:

============  ==========================================================================
recipient     route
============  ==========================================================================
platform      its webhook (``platforms.<code>.webhook``), else a file
seller        its platform's webhook when ``sellers.via_platform`` (the platform passes
              it on to the shop), else a file
producer      e-mail when ``producers`` gives an address and SMTP is set up, else a file
regulator     e-mail to ``ref_regions.notify_email`` when SMTP is set up, else a file
public        a file (the public alert list)
anything else a file (``files.unknown``): a notice is never dropped
============  ==========================================================================

SMTP counts as set up when the variable named by ``smtp_host_env`` (``ECQM_SMTP_HOST``)
is set. Addresses under a placeholder top-level domain (``example``, ``invalid``,
``test``, ``localhost``) are never mailed: the shipped ``ref_regions`` holds only such
placeholders. A file route's address is a folder name under
``$ECQM_HOME/outbox/notices/``; a webhook route's address is its URL, and the route
names where its signing secret is — an environment variable ``ECQM_WEBHOOK_SECRET_*``
(``secret_env``) or an Airflow connection ``ecqm_webhook*`` (``secret_conn``), the
names the outbox accepts. :meth:`Route.delivery` is that reference as the outbox reads
it from the row's ``payload._delivery``; the secret itself never reaches the warehouse.

>>> routes = Routes.from_dict({"version": "t", "platforms": {"youpin": {"name": "优品商城"}}},
...                           environ={})
>>> route = routes.route("platform", platform="youpin")
>>> route.channel, route.address, route.reason
('file', 'platforms', 'no webhook for platform youpin')
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA_FILE = Path(__file__).resolve().parent / "data" / "routes.yaml"
OVERRIDE_NAME = "notify_routes.yaml"
CHANNELS = ("email", "webhook", "file")
RECIPIENT_KINDS = ("seller", "producer", "platform", "regulator", "public")
DEFAULT_FILES = {
    "seller": "sellers",
    "producer": "producers",
    "platform": "platforms",
    "regulator": "regulators",
    "public": "public_alerts",
    "unknown": "unrouted",
}
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
# The secret references transforms.notify.outbox accepts.
SECRET_ENV = re.compile(r"ECQM_WEBHOOK_SECRET(?:_[A-Z0-9_]+)?")
SECRET_CONN = re.compile(r"ecqm_webhook[a-z0-9_]*")
_FOLDER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EMAIL = re.compile(r"[^@\s<>\"',;:]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


class RoutesError(ValueError):
    """The routes file is invalid; the message lists every problem."""


@dataclass(frozen=True)
class Route:
    """Where one notice goes: ``channel`` (email, webhook, file) and ``address`` (an
    e-mail address, the webhook URL, or the outbox folder); for a webhook,
    ``secret_env`` or ``secret_conn`` names where its signing secret is; ``reason``
    says why, for people."""

    channel: str
    address: str
    secret_env: str | None = None
    reason: str = ""
    secret_conn: str | None = None

    def delivery(self) -> dict[str, str] | None:
        """What the outbox needs besides channel and address (``payload._delivery``):
        the webhook secret's reference, or ``None``."""
        if self.channel != "webhook":
            return None
        if self.secret_env:
            return {"secret_env": self.secret_env}
        return {"secret_conn": self.secret_conn} if self.secret_conn else None


@dataclass(frozen=True)
class Webhook:
    url: str
    secret_env: str | None = None
    secret_conn: str | None = None


@dataclass(frozen=True)
class Platform:
    code: str
    name: str
    webhook: Webhook | None = None


@dataclass(frozen=True)
class Routes:
    version: str
    issuer_name: str = "电子商务产品质量网上监测中心"
    issuer_contact: str | None = None
    smtp_host_env: str = "ECQM_SMTP_HOST"
    placeholder_domains: tuple[str, ...] = ("example", "invalid", "test", "localhost")
    files: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FILES))
    platforms: Mapping[str, Platform] = field(default_factory=dict)
    sellers_via_platform: bool = True
    producers: Mapping[str, str] = field(default_factory=dict)
    regulators_email: bool = True
    smtp_configured: bool = False
    source: str = "<memory>"

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls,
        path: Path | str | None = None,
        *,
        home: Path | str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Routes:
        """The routes in ``path``; else ``home/notify_routes.yaml`` when it exists (home
        defaults to ``$ECQM_HOME``); else the shipped file. ``environ`` (default
        ``os.environ``) tells whether SMTP is set up."""
        if path is None:
            if home is None:
                from ecqm import settings

                home = settings.load(environ).home
            override = Path(home) / OVERRIDE_NAME
            path = override if override.is_file() else DATA_FILE
        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RoutesError(f"cannot read the notice routes {path}: {exc}") from exc
        return cls.from_dict(doc, environ=environ, source=str(path))

    @classmethod
    def from_dict(
        cls, doc: Any, *, environ: Mapping[str, str] | None = None, source: str = "<memory>"
    ) -> Routes:
        env = os.environ if environ is None else environ
        problems: list[str] = []
        if not isinstance(doc, Mapping):
            raise RoutesError(f"{source}: expected a mapping")
        known = {
            "version",
            "issuer",
            "smtp_host_env",
            "placeholder_domains",
            "files",
            "platforms",
            "sellers",
            "producers",
            "regulators",
        }
        unknown = sorted(set(map(str, doc)) - known)
        if unknown:
            problems.append(f"unknown keys {unknown}")
        version = str(doc.get("version") or "").strip()
        if not version:
            problems.append("version: expected text such as '2026.1'")
        issuer = _mapping(doc, "issuer", problems)
        issuer_name = _one_line(issuer.get("name") or cls.issuer_name)
        contact = issuer.get("contact")
        smtp_env = str(doc.get("smtp_host_env") or "ECQM_SMTP_HOST")
        if not _ENV_NAME.fullmatch(smtp_env):
            problems.append(f"smtp_host_env: not an environment variable name: {smtp_env!r}")
        placeholders = doc.get("placeholder_domains", list(cls.placeholder_domains))
        if not isinstance(placeholders, list) or not all(isinstance(p, str) for p in placeholders):
            problems.append("placeholder_domains: expected a list of top-level domains")
            placeholders = []
        files = dict(DEFAULT_FILES)
        for kind, folder in _mapping(doc, "files", problems).items():
            if kind not in DEFAULT_FILES:
                problems.append(f"files.{kind}: unknown recipient kind")
            elif not isinstance(folder, str) or not _FOLDER.fullmatch(folder):
                problems.append(
                    f"files.{kind}: a folder name of letters, digits, _ and -: {folder!r}"
                )
            else:
                files[kind] = folder
        platforms: dict[str, Platform] = {}
        for code, entry in _mapping(doc, "platforms", problems).items():
            platform = _platform(str(code), entry, problems)
            if platform is not None:
                platforms[platform.code] = platform
        sellers = _mapping(doc, "sellers", problems)
        producers: dict[str, str] = {}
        for name, address in _mapping(doc, "producers", problems).items():
            if not isinstance(address, str) or not _EMAIL.fullmatch(address.strip()):
                problems.append(f"producers.{name}: not an e-mail address: {address!r}")
                continue
            producers[party_key(str(name))] = address.strip()
        regulators = _mapping(doc, "regulators", problems)
        if problems:
            raise RoutesError(
                f"{len(problems)} problem(s) in the notice routes {source}:\n"
                + "\n".join(f"  {p}" for p in problems)
            )
        return cls(
            version=version,
            issuer_name=issuer_name,
            issuer_contact=_one_line(contact) if contact else None,
            smtp_host_env=smtp_env,
            placeholder_domains=tuple(p.strip(".").lower() for p in placeholders),
            files=files,
            platforms=platforms,
            sellers_via_platform=bool(sellers.get("via_platform", True)),
            producers=producers,
            regulators_email=bool(regulators.get("email", True)),
            smtp_configured=bool((env.get(smtp_env) or "").strip()),
            source=source,
        )

    # ------------------------------------------------------------------ answers

    def route(
        self,
        recipient_kind: str,
        *,
        platform: str | None = None,
        email: str | None = None,
        producer: str | None = None,
    ) -> Route:
        """The route for one recipient.

        ``platform``: the platform code (for platform and seller notices); ``email``:
        the address known for the recipient (a regulator's ``notify_email``);
        ``producer``: the producer's name, looked up in ``producers``.
        """
        if recipient_kind == "platform":
            return self._webhook_or_file("platform", platform, "")
        if recipient_kind == "seller":
            if not self.sellers_via_platform:
                return self._file("seller", "sellers are not routed through their platform")
            return self._webhook_or_file("seller", platform, "the platform forwards it; ")
        if recipient_kind == "producer":
            address = self.producers.get(party_key(producer or "")) if producer else None
            if address is None:
                return self._file("producer", "no e-mail address for the producer")
            return self._email_or_file("producer", address)
        if recipient_kind == "regulator":
            if not self.regulators_email:
                return self._file("regulator", "regulators get files (regulators.email: false)")
            if not email:
                return self._file("regulator", "no e-mail address for the regulator")
            return self._email_or_file("regulator", email)
        if recipient_kind == "public":
            return self._file("public", "the public alert list")
        return self._file("unknown", f"no route for recipient kind {recipient_kind!r}")

    def platform_name(self, code: str) -> str:
        """The platform's name for people (its code when the file does not name it)."""
        platform = self.platforms.get(code)
        return platform.name if platform is not None else code

    def is_placeholder(self, address: str) -> bool:
        """Whether an e-mail address is on a reserved (never delivered) domain."""
        domain = address.rsplit("@", 1)[-1].strip().rstrip(".").lower()
        return domain.rsplit(".", 1)[-1] in self.placeholder_domains

    # ------------------------------------------------------------------ helpers

    def _file(self, kind: str, reason: str) -> Route:
        return Route("file", self.files.get(kind, self.files["unknown"]), None, reason)

    def _webhook_or_file(self, kind: str, code: str | None, via: str) -> Route:
        platform = self.platforms.get(code or "")
        if platform is None or platform.webhook is None:
            return self._file(kind, f"no webhook for platform {code}")
        hook = platform.webhook
        return Route(
            "webhook",
            hook.url,
            hook.secret_env,
            f"{via}webhook of {platform.code}",
            hook.secret_conn,
        )

    def _email_or_file(self, kind: str, address: str) -> Route:
        address = address.strip()
        if not _EMAIL.fullmatch(address):
            return self._file(kind, f"not an e-mail address: {address!r}")
        if self.is_placeholder(address):
            return self._file(kind, f"{address} is a placeholder address")
        if not self.smtp_configured:
            return self._file(kind, f"no SMTP server ({self.smtp_host_env} is not set)")
        return Route("email", address, None, "e-mail")


def party_key(name: str) -> str:
    """A party's name as a lookup key: NFKC, spaces removed, case folded, so
    ``浙江某某电器有限公司`` and ``浙江某某电器 有限公司`` are one producer."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()


def _mapping(doc: Mapping[str, Any], key: str, problems: list[str]) -> Mapping[str, Any]:
    value = doc.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{key}: expected a mapping")
        return {}
    return value


def _platform(code: str, entry: Any, problems: list[str]) -> Platform | None:
    where = f"platforms.{code}"
    if entry is None:
        entry = {}
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: expected a mapping with name and webhook")
        return None
    name = _one_line(entry.get("name") or code)
    hook = entry.get("webhook")
    if hook is None:
        return Platform(code, name)
    if not isinstance(hook, Mapping):
        problems.append(f"{where}.webhook: expected a mapping with url and secret_env")
        return None
    url = str(hook.get("url") or "").strip()
    secret_env = str(hook.get("secret_env") or "").strip() or None
    secret_conn = str(hook.get("secret_conn") or "").strip() or None
    ok = True
    if not _URL.fullmatch(url):
        problems.append(f"{where}.webhook.url: expected an http(s) URL, got {url!r}")
        ok = False
    if (secret_env is None) == (secret_conn is None):
        problems.append(
            f"{where}.webhook: name its signing secret by exactly one of secret_env (such as "
            f"ECQM_WEBHOOK_SECRET_{code.upper()}) or secret_conn (an Airflow connection such "
            "as ecqm_webhook_" + code.lower() + "); a webhook is never unsigned, and the "
            "secret itself never goes in this file"
        )
        ok = False
    elif secret_env is not None and not SECRET_ENV.fullmatch(secret_env):
        problems.append(
            f"{where}.webhook.secret_env: must be ECQM_WEBHOOK_SECRET or start with "
            f"ECQM_WEBHOOK_SECRET_ (the outbox reads no other variable), got {secret_env!r}"
        )
        ok = False
    elif secret_conn is not None and not SECRET_CONN.fullmatch(secret_conn):
        problems.append(
            f"{where}.webhook.secret_conn: must start with ecqm_webhook (lower case), "
            f"got {secret_conn!r}"
        )
        ok = False
    return Platform(code, name, Webhook(url, secret_env, secret_conn)) if ok else None


def _one_line(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value)).strip()
