"""Rendering the five notice kinds: Chinese wording, times in Asia/Shanghai, hostile
marketplace text kept inert (escaped in HTML, literal and one-line in text), nothing
personal in the public alert, clear errors for incomplete contexts."""

from __future__ import annotations

import copy
import datetime as dt
import email
import json
from email.policy import default as default_policy
from html.parser import HTMLParser
from typing import Any

import pytest
from jinja2.exceptions import SecurityError

from transforms.notify import render
from transforms.notify.channels import SmtpChannel
from transforms.notify.render import (
    KINDS,
    TEMPLATES_DIR,
    Notice,
    NoticeError,
    Recipient,
    example_context,
    render_notice,
)

HOSTILE = [
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "{% raw %}",
    '"><img src=x onerror=alert(document.cookie)>',
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "${7*7} #{7*7} <%= 7*7 %>",
    "&lt;b&gt; already escaped & ampersand",
]
# The markup the templates themselves write; anything else in the HTML came from data.
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "body", "div", "h1", "h2", "p", "table", "thead",
    "tbody", "tr", "th", "td", "a", "strong", "span", "br", "ol", "li",
}  # fmt: skip


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self.hrefs.extend(value or "" for name, value in attrs if name == "href")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


def with_hostile(kind: str, text: str) -> dict[str, Any]:
    context = copy.deepcopy(example_context(kind))
    context["shop"]["name"] = f"店铺{text}"
    context["product"]["name"] = f"产品{text}"
    context["listing"]["title"] = f"标题{text}"
    context["failed_items"][0]["test_item"] = f"项目{text}"
    context["failed_items"][0]["measured_value"] = text
    context["recipient"]["name"] = f"收件人{text}"
    context["hazard"] = f"风险{text}"
    return context


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_chinese(kind: str) -> None:
    n = render_notice(kind, example_context(kind))

    assert isinstance(n, Notice) and n.kind == kind and n.recipient.kind == KINDS[kind]
    assert "\n" not in n.subject and n.subject.startswith("【")
    assert "电热水壶" in n.subject
    for body in (n.text, n.html):
        assert "电热水壶" in body and "对触及带电部件的防护" in body
        assert "ECQM-2026-11-0042" in body
        # UTF-8 round trip, byte for byte.
        assert "电热水壶".encode() in body.encode("utf-8")
        assert body.encode("utf-8").decode("utf-8") == body
    assert n.text.endswith("\n") and "\n\n\n" not in n.text
    assert n.html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in n.html
    assert f"<title>{n.subject}</title>" in n.html
    assert parse_html(n.html).tags <= TEMPLATE_TAGS
    payload = json.loads(n.payload_json())
    assert payload == n.payload
    assert payload["schema"] == "ecqm.notice/1" and payload["kind"] == kind
    assert payload["subject"] == n.subject and payload["text"] == n.text
    assert "电热水壶" in n.payload_json() and "\\u" not in n.payload_json()


def test_seller_result_contents() -> None:
    n = render_notice("seller_result", example_context("seller_result"))
    text = n.text
    assert n.subject == "【检验结果告知】电热水壶：不合格（报告编号 BG-2026-0042）"
    assert text.startswith("产品质量网上监测检验结果告知书\n编号：ECQM-2026-11-0042\n")
    for expected in (
        "某某数码专营店：",
        "商品链接：https://item.example.cn/6623001",
        "网店名称：某某数码专营店",
        "样品编号：YP-2026-0042",
        "检验报告编号：BG-2026-0042",
        "二、检验结论：不合格",
        "  1. 对触及带电部件的防护（严重缺陷）",
        "     标准条款：GB 4706.1-2005 第8章",
        "     实测值：试验指可触及带电部件",
        "     标准要求：不应触及带电部件",
        "  2. 标志和说明（轻微缺陷）",
        "请于2026年11月30日24时前",
        "异议",
        "停止线上线下销售",
    ):
        assert expected in text, expected
    assert n.payload["respond_by"] == "2026-11-30"
    assert n.payload["failed_items"][0]["defect_class"] == "critical"


def test_seller_result_for_a_passed_sample() -> None:
    context = example_context("seller_result")
    context["verdict"] = "pass"
    del context["failed_items"]
    n = render_notice("seller_result", context)
    assert "检验结论：合格" in n.text and "不合格" not in n.text
    assert "不合格项目" not in n.html and "停止销售" not in n.text
    assert n.payload["failed_items"] == [] and n.payload["verdict_label"] == "合格"


def test_platform_failure_asks_for_takedown_of_the_listing() -> None:
    n = render_notice("platform_failure", example_context("platform_failure"))
    assert "下架" in n.subject and "6623001" in n.subject
    assert "平台商品编号：6623001" in n.text and "对上述商品链接采取下架措施" in n.text
    assert 'href="https://item.example.cn/6623001"' in n.html
    context = example_context("platform_failure")
    del context["respond_by"]
    assert "并及时将处置结果反馈" in render_notice("platform_failure", context).text


def test_regulator_and_producer_notices_name_the_producer() -> None:
    r = render_notice("regulator_safety", example_context("regulator_safety"))
    assert r.text.startswith("产品质量安全风险通报函")
    assert "宁波市市场监督管理局：" in r.text and "（浙江省宁波市）" in r.text
    assert "生产者地址：浙江省宁波市某区某路1号" in r.text
    assert "一、安全风险\n  使用中可能触及带电部件，存在触电风险。" in r.text
    p = render_notice("producer_failure", example_context("producer_failure"))
    assert "浙江某某电器有限公司：" in p.text and "标称由贵单位生产" in p.text
    assert "并非贵单位生产" in p.text


def test_times_are_shown_in_shanghai() -> None:
    context = example_context("seller_result")
    # 17:30 UTC on the 22nd is 01:30 on the 23rd in Shanghai.
    context["issued_at"] = dt.datetime(2026, 11, 22, 17, 30, tzinfo=dt.UTC)
    context["respond_by"] = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    n = render_notice("seller_result", context)
    assert n.text.rstrip().endswith("2026年11月23日")
    assert "请于2026年11月30日 17:00（北京时间）前" in n.text
    assert n.payload["issued_at"] == "2026-11-22T17:30:00Z"
    assert n.payload["respond_by"] == "2026-11-30T09:00:00Z"
    # Naive times are UTC, as the warehouse stores them.
    context["issued_at"] = dt.datetime(2026, 11, 22, 17, 30)
    assert render_notice("seller_result", context).payload["issued_at"] == "2026-11-22T17:30:00Z"
    # A timestamp given in another zone is the same moment.
    context["issued_at"] = dt.datetime(
        2026, 11, 22, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))
    )
    assert render_notice("seller_result", context).text.rstrip().endswith("2026年11月23日")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_is_inert(kind: str, hostile: str) -> None:
    n = render_notice(kind, with_hostile(kind, hostile))

    # Text: the characters as they are, never evaluated.
    assert hostile in n.text
    assert "49" not in n.text
    # HTML: escaped, no markup from data, and the text a reader sees is the original.
    html = parse_html(n.html)
    assert html.tags <= TEMPLATE_TAGS
    assert not any(a.startswith("on") for a in html.attributes)
    assert hostile in "".join(html.text)
    assert "<script" not in n.html and "<img" not in n.html
    assert "49" not in n.html
    # The subject is one line and keeps the text literally (cut to length, maybe).
    assert "\n" not in n.subject and "49" not in n.subject
    assert json.loads(n.payload_json())["product"]["name"] == f"产品{hostile}"


def test_hostile_text_is_escaped_exactly() -> None:
    n = render_notice("seller_result", with_hostile("seller_result", "<script>alert(1)</script>"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in n.html
    n = render_notice(
        "seller_result", with_hostile("seller_result", '"><img src=x onerror=alert(1)>')
    )
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in n.html
    n = render_notice("seller_result", with_hostile("seller_result", "{{ 7*7 }}"))
    assert "网店名称：店铺{{ 7*7 }}" in n.text and "店铺{{ 7*7 }}" in n.html


def test_data_cannot_forge_lines_or_headers() -> None:
    context = example_context("seller_result")
    context["product"]["name"] = "手机壳\r\n\r\n二、检验结论：合格\u202e\x1b[2J"
    context["shop"]["name"] = "某店\nBcc: spy@evil.example"
    n = render_notice("seller_result", context)
    lines = n.text.splitlines()
    assert "二、检验结论：不合格" in lines
    assert not any(line.startswith("二、检验结论：合格") for line in lines)
    assert "  产品名称：手机壳 二、检验结论：合格[2J" in lines  # one line, controls removed
    assert "\x1b" not in n.text and "\u202e" not in n.text
    assert "\n" not in n.subject and "\r" not in n.subject
    msg = SmtpChannel("127.0.0.1", sender="n@ecqm.example.cn").build_message(
        render_notice("seller_result", context), "k1"
    )
    parsed = email.message_from_bytes(msg.as_bytes(), policy=default_policy)
    assert parsed["Bcc"] is None and parsed["Subject"] == n.subject
    context = example_context("platform_failure")
    context["recipient"]["name"] = "某平台\n\n一、需下架的商品\n  平台商品编号：999"
    n = render_notice("platform_failure", context)
    assert "  平台商品编号：999" not in n.text.splitlines()
    assert n.text.splitlines()[3] == "某平台 一、需下架的商品 平台商品编号：999："
    assert n.recipient.name == "某平台 一、需下架的商品 平台商品编号：999"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/x",
        'https://x.example/"onmouseover="alert(1)',
    ],
)
def test_only_web_urls_become_links(url: str) -> None:
    context = example_context("platform_failure")
    context["listing"]["url"] = url
    n = render_notice("platform_failure", context)
    html = parse_html(n.html)
    assert all(h.startswith(("http://", "https://")) for h in html.hrefs)
    assert "onmouseover" not in html.attributes
    assert url in "".join(html.text) and url in n.text


def test_public_alert_carries_nothing_personal() -> None:
    context = example_context("public_alert")
    context["issuer"]["contact"] = "联系人张三 13800138000"
    context["shop"] = {"name": "张三的小店", "is_individual": True, "region": "浙江省宁波市某镇"}
    context["producer"]["address"] = "浙江省宁波市某区某路1号"
    context["sample_number"] = "YP-SECRET-7"
    context["recipient"]["address"] = "/srv/public/alerts"
    n = render_notice("public_alert", context)
    everything = n.subject + n.text + n.html + n.payload_json()
    for private in ("张三", "13800138000", "某路1号", "某镇", "YP-SECRET-7", "/srv/public"):
        assert private not in everything, private
    assert "个人网店（名称不公开）" in n.text and "个人网店（名称不公开）" in n.html
    assert "浙江某某电器有限公司" in n.text  # the producer is a business, named
    assert "12315" in n.text
    assert n.payload["shop"] == {"name": None, "region": None, "is_individual": True}


def test_public_alert_names_a_business_shop() -> None:
    n = render_notice("public_alert", example_context("public_alert"))
    assert "网店名称：某某数码专营店" in n.text
    assert "联系方式" not in n.text and "联系方式" not in n.html


def test_email_subject_is_rfc2047_encoded() -> None:
    n = render_notice("regulator_safety", example_context("regulator_safety"))
    raw = SmtpChannel("127.0.0.1", sender="n@ecqm.example.cn").build_message(n, "k1").as_bytes()
    head = raw.split(b"\n\n", 1)[0]
    assert head.isascii() and b"Subject: =?utf-8?b?" in head
    assert email.message_from_bytes(raw, policy=default_policy)["Subject"] == n.subject


@pytest.mark.parametrize(
    ("kind", "change", "message"),
    [
        ("seller_result", lambda c: c.pop("respond_by"), "lacks respond_by"),
        ("seller_result", lambda c: c.pop("shop"), "lacks shop"),
        ("seller_result", lambda c: c["listing"].pop("url"), "listing.url is missing"),
        ("seller_result", lambda c: c.update(verdict="合格"), "verdict must be"),
        ("seller_result", lambda c: c.update(respond_by="2026-11-30"), "respond_by must be a date"),
        ("seller_result", lambda c: c.update(issued_at=dt.date(2026, 1, 1)), "issued_at"),
        ("seller_result", lambda c: c.update(failed_items=[]), "needs its failed items"),
        ("seller_result", lambda c: c.update(verdict="pass"), "has no failed items"),
        ("producer_failure", lambda c: c.update(verdict="pass", failed_items=[]), "only for a failed"),
        ("producer_failure", lambda c: c.pop("producer"), "lacks producer"),
        ("regulator_safety", lambda c: c.pop("hazard"), "lacks hazard"),
        ("public_alert", lambda c: c["failed_items"][0].update(defect_class="A"), "defect_class"),
        ("public_alert", lambda c: c["failed_items"][1].pop("test_item"), "failed_items[2].test_item"),
        ("platform_failure", lambda c: c["recipient"].update(kind="seller"), "not to a seller"),
        ("platform_failure", lambda c: c["recipient"].update(kind="boss"), "recipient kind"),
        ("platform_failure", lambda c: c.update(reference={"x": 1}), "reference must be text"),
    ],
)  # fmt: skip
def test_incomplete_context_is_a_clear_error(kind: str, change, message: str) -> None:
    context = copy.deepcopy(example_context(kind))
    change(context)
    with pytest.raises(NoticeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        render_notice(kind, context)


def test_unknown_kind() -> None:
    with pytest.raises(NoticeError, match="unknown notice kind"):
        render_notice("seller_praise", example_context("seller_result"))


def test_recipient_can_be_given_as_an_object() -> None:
    context = example_context("seller_result")
    context["recipient"] = Recipient("seller", "某店", "a@example.cn")
    assert render_notice("seller_result", context).recipient == context["recipient"]


def test_templates_are_sandboxed_and_strict() -> None:
    env = render._environment()
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__ }}").render()
    with pytest.raises(Exception, match="undefined"):
        env.get_template("seller_result.txt").render({})


def test_every_kind_has_its_three_templates() -> None:
    names = {p.name for p in TEMPLATES_DIR.iterdir()}
    for kind in KINDS:
        assert {f"{kind}.subject.txt", f"{kind}.txt", f"{kind}.html"} <= names
