"""Notices (信息传递及反馈): what the evaluation tells sellers, producers, platforms,
regulators and the public, rendered from Chinese templates.

:func:`render_notice` takes a notice kind and a context (plain mappings, as the outbox
reads them from the warehouse) and returns a :class:`Notice`: a one-line subject, a
plain-text body, an HTML body and a JSON-ready payload for webhooks. The kinds and the
context each needs are listed in ``docs/notifications.md``.

Marketplace text (shop names, titles, URLs) is hostile input. It only ever reaches a
template as a variable, never as template source, so ``{{ 7*7 }}`` in a title stays
those nine characters. The HTML bodies are autoescaped; plain-text bodies are not
escaped (an ``&lt;`` in a text mail would be wrong) but every value is cut to one line
with control and bidirectional-override characters removed, so a title cannot forge a
line such as ``检验结论：合格`` in the body or a header in the mail. A listing URL
becomes a link only when it is ``http`` or ``https``. The templates run in Jinja's
sandbox with undefined names as errors.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEMPLATES_DIR = Path(__file__).with_name("templates")
PAYLOAD_SCHEMA = "ecqm.notice/1"

# notice kind → the kind of recipient it goes to
KINDS: dict[str, str] = {
    "seller_result": "seller",
    "producer_failure": "producer",
    "platform_failure": "platform",
    "regulator_safety": "regulator",
    "public_alert": "public",
}
RECIPIENT_KINDS = ("seller", "producer", "platform", "regulator", "public")
VERDICT_LABELS = {"pass": "合格", "fail": "不合格"}
# 缺陷类别 as inspection reports grade them (A / B / C 类); codes as transforms.intake stores them.
DEFECT_LABELS = {"critical": "严重缺陷", "major": "一般缺陷", "minor": "轻微缺陷"}

MAX_FIELD = 500
MAX_SUBJECT = 200
_COMMON = ("reference", "issuer", "issued_at", "product", "listing", "shop", "verdict")
REQUIRED: dict[str, tuple[str, ...]] = {
    "seller_result": (*_COMMON, "sample_number", "report_number", "respond_by"),
    "producer_failure": (*_COMMON, "report_number", "failed_items", "producer", "respond_by"),
    "platform_failure": (*_COMMON, "report_number", "failed_items"),
    "regulator_safety": (
        *_COMMON,
        "report_number",
        "failed_items",
        "producer",
        "regulator",
        "hazard",
    ),
    "public_alert": (*_COMMON, "failed_items"),
}
# Fields of the nested records: (required, optional).
_RECORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "issuer": (("name",), ("contact",)),
    "product": (("name",), ("brand", "model", "category")),
    "listing": (("platform", "external_id", "url"), ("title",)),
    "shop": (("name",), ("region",)),
    "producer": (("name",), ("address",)),
    "regulator": (("name",), ("region",)),
}
_ITEM = (("test_item",), ("standard_clause", "measured_value", "limit_value", "defect_class"))
_OPTIONAL_TEXT = ("sample_number", "report_number", "lab", "hazard", "advice")

# C0/C1 controls, and the bidirectional overrides and isolates that can make text read
# differently from what it is.
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WHITESPACE = re.compile(r"\s+")


class NoticeError(ValueError):
    """A notice cannot be rendered from the context given (a missing or bad value)."""


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to: ``kind`` (one of :data:`RECIPIENT_KINDS`), a display
    ``name``, and an ``address``: an e-mail address, a webhook URL or a file label,
    depending on the channel that delivers it."""

    kind: str
    name: str
    address: str = ""

    def __post_init__(self) -> None:
        if self.kind not in RECIPIENT_KINDS:
            raise NoticeError(
                f"recipient kind must be one of {', '.join(RECIPIENT_KINDS)}, got {self.kind!r}"
            )
        if not isinstance(self.name, str) or not one_line(self.name):
            raise NoticeError("a recipient needs a name")
        if not isinstance(self.address, str):
            raise NoticeError("a recipient address is text")

    @classmethod
    def of(cls, value: Recipient | Mapping[str, Any]) -> Recipient:
        if isinstance(value, Recipient):
            return value
        if not isinstance(value, Mapping):
            raise NoticeError(f"recipient must be a Recipient or a mapping, got {value!r}")
        return cls(
            kind=value.get("kind", ""),
            name=value.get("name", ""),
            address=value.get("address") or "",
        )


@dataclass(frozen=True)
class Notice:
    """A rendered notice, ready for any channel.

    ``payload`` is the structured content for machines (webhooks, the ``.json`` file):
    JSON-serialisable, times in UTC ISO 8601, no recipient address.
    """

    kind: str
    recipient: Recipient
    subject: str
    text: str
    html: str
    payload: dict[str, Any] = field(default_factory=dict)

    def payload_json(self) -> str:
        """The payload as compact JSON text, Chinese kept as itself (not ``\\u`` escapes)."""
        return json.dumps(self.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def render_notice(kind: str, context: Mapping[str, Any]) -> Notice:
    """Render one notice of ``kind`` (a key of :data:`KINDS`) from ``context``.

    Raises :class:`NoticeError` naming the kind and the value when the context is
    incomplete or wrong (a missing field, a failure notice for a passed sample, a
    recipient of the wrong kind, a deadline that is not a date or datetime).

    >>> n = render_notice("public_alert", example_context("public_alert"))
    >>> n.subject
    '【消费提示】电热水壶 抽检不合格'
    """
    if kind not in KINDS:
        raise NoticeError(f"unknown notice kind {kind!r}; known: {', '.join(KINDS)}")
    if not isinstance(context, Mapping):
        raise NoticeError(f"{kind}: the context must be a mapping")
    view = _view(kind, context)
    env = _environment()
    try:
        subject = one_line(env.get_template(f"{kind}.subject.txt").render(view), MAX_SUBJECT)
        text = _tidy(env.get_template(f"{kind}.txt").render(view, subject=subject))
        html = env.get_template(f"{kind}.html").render(view, subject=subject)
    except TemplateError as exc:
        raise NoticeError(f"{kind}: template error: {exc}") from exc
    payload = _payload(kind, view)
    payload.update(subject=subject, text=text)
    return Notice(
        kind=kind,
        recipient=view["recipient"],
        subject=subject,
        text=text,
        html=html,
        payload=payload,
    )


def one_line(value: Any, limit: int = MAX_FIELD) -> str:
    """``value`` as one line of safe text: controls and bidi overrides removed, runs of
    whitespace (newlines included) made one space, cut to ``limit`` characters.

    >>> one_line("手机壳\\r\\n检验结论：合格\\u202e")
    '手机壳 检验结论：合格'
    """
    text = unicodedata.normalize("NFC", str(value))
    text = _UNSAFE_CHARS.sub("", _WHITESPACE.sub(" ", text))
    text = _WHITESPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one final newline. Values
    are one line each, so this only ever touches the template's own layout."""
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def web_link(url: str) -> str | None:
    """``url`` when it is safe to put in an ``href`` (http or https with a host)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


# ---------------------------------------------------------------- the template view


def _view(kind: str, context: Mapping[str, Any]) -> dict[str, Any]:
    # failed_items is checked against the verdict below, with a clearer message.
    required = [k for k in ("recipient", *REQUIRED[kind]) if k != "failed_items"]
    missing = [k for k in required if _blank(context.get(k))]
    if missing:
        raise NoticeError(f"{kind}: the context lacks {', '.join(missing)}")
    given = Recipient.of(context["recipient"])
    # The name is shown (the salutation, the To header) and is as hostile as any text.
    recipient = Recipient(given.kind, one_line(given.name, 200), given.address.strip())
    if recipient.kind != KINDS[kind]:
        raise NoticeError(
            f"{kind}: goes to a {KINDS[kind]}, not to a {recipient.kind} ({recipient.name!r})"
        )
    verdict = context["verdict"]
    if verdict not in VERDICT_LABELS:
        raise NoticeError(f"{kind}: verdict must be 'pass' or 'fail', got {verdict!r}")
    items = [_item(kind, n, item) for n, item in enumerate(context.get("failed_items") or (), 1)]
    if kind != "seller_result" and verdict != "fail":
        raise NoticeError(f"{kind}: only for a failed sample; the verdict is {verdict!r}")
    if verdict == "fail" and not items:
        raise NoticeError(f"{kind}: a failed sample needs its failed items")
    if verdict == "pass" and items:
        raise NoticeError(f"{kind}: a passed sample has no failed items")
    view: dict[str, Any] = {
        "kind": kind,
        "recipient": recipient,
        "verdict": verdict,
        "verdict_label": VERDICT_LABELS[verdict],
        "failed_items": items,
        "has_critical": any(i["defect_class"] == "critical" for i in items),
        "issued_at": _moment(kind, "issued_at", context["issued_at"]),
        "tested_on": _day(kind, "tested_on", context.get("tested_on")),
        "respond_by": _deadline(kind, context.get("respond_by")),
    }
    for name, (needed, optional) in _RECORDS.items():
        view[name] = _record(kind, name, context.get(name), needed, optional)
    view["reference"] = _required_text(kind, "reference", context["reference"])
    for name in _OPTIONAL_TEXT:
        value = context.get(name)
        view[name] = None if _blank(value) else one_line(value)
    view["listing"]["href"] = web_link(view["listing"]["url"])
    shop = context["shop"]
    # An individual's shop is often named after the person; the public never sees it.
    view["shop"]["is_individual"] = bool(shop.get("is_individual"))
    return _public(view) if kind == "public_alert" else view


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and not value)


def _required_text(kind: str, name: str, value: Any) -> str:
    if isinstance(value, Mapping | list | tuple | set):
        raise NoticeError(f"{kind}: {name} must be text, got {type(value).__name__}")
    text = one_line(value)
    if not text:
        raise NoticeError(f"{kind}: {name} is empty")
    return text


def _record(
    kind: str, name: str, value: Any, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise NoticeError(f"{kind}: {name} must be a mapping, got {type(value).__name__}")
    out: dict[str, Any] = {}
    for key in required:
        if _blank(value.get(key)):
            raise NoticeError(f"{kind}: {name}.{key} is missing")
        out[key] = _required_text(kind, f"{name}.{key}", value[key])
    for key in optional:
        out[key] = None if _blank(value.get(key)) else one_line(value[key])
    return out


def _item(kind: str, n: int, item: Any) -> dict[str, Any]:
    where = f"failed_items[{n}]"
    out = _record(kind, where, item, *_ITEM)
    assert out is not None
    defect = out["defect_class"]
    if defect is not None and defect not in DEFECT_LABELS:
        raise NoticeError(
            f"{kind}: {where}.defect_class must be one of {', '.join(DEFECT_LABELS)}, "
            f"got {defect!r}"
        )
    out["defect_label"] = DEFECT_LABELS.get(defect) if defect else None
    return out


def _moment(kind: str, name: str, value: Any) -> dt.datetime:
    """A point in time, in UTC. Naive datetimes are UTC, as the warehouse stores them."""
    if not isinstance(value, dt.datetime):
        raise NoticeError(f"{kind}: {name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _day(kind: str, name: str, value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _moment(kind, name, value).astimezone(SHANGHAI).date()
    if isinstance(value, dt.date):
        return value
    raise NoticeError(f"{kind}: {name} must be a date, got {value!r}")


def _deadline(kind: str, value: Any) -> dt.date | dt.datetime | None:
    """A date (the whole day, Asia/Shanghai) or a datetime (that moment)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _moment(kind, "respond_by", value)
    return _day(kind, "respond_by", value)


# ---------------------------------------------------------------- the payload


def _public(view: dict[str, Any]) -> dict[str, Any]:
    """The view cut to what may be published: no contacts, no addresses, no sample or
    deadline meant for the parties, and no name of a shop run by an individual."""
    shop = view["shop"]
    producer = view["producer"]
    return {
        **view,
        "issuer": {**view["issuer"], "contact": None},
        "shop": {
            **shop,
            "name": None if shop["is_individual"] else shop["name"],
            "region": None,
        },
        "producer": None if producer is None else {**producer, "address": None},
        "regulator": None,
        "sample_number": None,
        "respond_by": None,
    }


def _payload(kind: str, view: Mapping[str, Any]) -> dict[str, Any]:
    """The structured notice for machines: the same fields for every kind (``None``
    where a kind has none), times in UTC, no recipient address."""
    out: dict[str, Any] = {
        "schema": PAYLOAD_SCHEMA,
        "kind": kind,
        "reference": view["reference"],
        "issued_at": _json_value(view["issued_at"]),
        "recipient": {"kind": view["recipient"].kind, "name": view["recipient"].name},
        "verdict": view["verdict"],
        "verdict_label": view["verdict_label"],
        "failed_items": [dict(item) for item in view["failed_items"]],
    }
    for name in (*_RECORDS, *_OPTIONAL_TEXT, "tested_on", "respond_by"):
        value = view[name]
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "href"}
        out[name] = _json_value(value)
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- the environment


def zh_date(value: dt.date | dt.datetime | None) -> str:
    """``2026年12月1日``; a datetime is shown as its day in Asia/Shanghai."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(SHANGHAI).date()
    return f"{value.year}年{value.month}月{value.day}日"


def zh_deadline(value: dt.date | dt.datetime | None) -> str:
    """A deadline, to be followed by 前: a date is the end of that day
    (``2026年11月30日24时``), a datetime that moment (``2026年11月30日 17:00（北京时间）``)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return zh_datetime(value)
    return f"{zh_date(value)}24时"


def zh_datetime(value: dt.date | dt.datetime | None) -> str:
    """``2026年12月1日 17:00（北京时间）`` for a datetime, the day alone for a date."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return zh_date(value)
    local = value.astimezone(SHANGHAI)
    return f"{zh_date(local)} {local:%H:%M}（北京时间）"


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(zh_date=zh_date, zh_datetime=zh_datetime, zh_deadline=zh_deadline)
    return env


def _autoescape(name: str | None) -> bool:
    """Escape everything (``.html``, and any template added later) except plain text:
    an ``&lt;`` in a text mail or a subject would be wrong, and text cannot run script."""
    return not (name or "").endswith(".txt")


def example_context(kind: str) -> dict[str, Any]:
    """A complete, realistic context for ``kind``: for docs, tests and trying templates."""
    recipients = {
        "seller": ("某某数码专营店", "service@shop.example.cn"),
        "producer": ("浙江某某电器有限公司", "quality@producer.example.cn"),
        "platform": ("某电商平台", "https://platform.example.cn/ecqm/hooks"),
        "regulator": ("宁波市市场监督管理局", "zhijian@amr.example.gov.cn"),
        "public": ("公众", "public_alerts"),
    }
    name, address = recipients[KINDS[kind]]
    return {
        "recipient": {"kind": KINDS[kind], "name": name, "address": address},
        "reference": "ECQM-2026-11-0042",
        "issuer": {"name": "某市产品质量监督检验研究院", "contact": "0574-00000000"},
        "issued_at": dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.UTC),
        "product": {
            "name": "电热水壶",
            "brand": "某牌",
            "model": "KT-1702",
            "category": "家用电器",
        },
        "listing": {
            "platform": "某电商平台",
            "external_id": "6623001",
            "url": "https://item.example.cn/6623001",
            "title": "电热水壶 1.7L 304不锈钢 家用",
        },
        "shop": {"name": "某某数码专营店", "region": "浙江省宁波市"},
        "sample_number": "YP-2026-0042",
        "report_number": "BG-2026-0042",
        "lab": "某市产品质量监督检验研究院",
        "tested_on": dt.date(2026, 11, 20),
        "verdict": "fail",
        "failed_items": [
            {
                "test_item": "对触及带电部件的防护",
                "standard_clause": "GB 4706.1-2005 第8章",
                "measured_value": "试验指可触及带电部件",
                "limit_value": "不应触及带电部件",
                "defect_class": "critical",
            },
            {
                "test_item": "标志和说明",
                "standard_clause": "GB 4706.1-2005 第7章",
                "measured_value": "未标注额定功率",
                "limit_value": "应标注额定功率",
                "defect_class": "minor",
            },
        ],
        "respond_by": dt.date(2026, 11, 30),
        "producer": {"name": "浙江某某电器有限公司", "address": "浙江省宁波市某区某路1号"},
        "regulator": {"name": "宁波市市场监督管理局", "region": "浙江省宁波市"},
        "hazard": "使用中可能触及带电部件，存在触电风险。",
    }
