"""Complaint pages of the live simulated portal: no complainant's phone, ID number or
e-mail from the planted truth survives scrubbing, and the complaint facts do."""

from __future__ import annotations

import html
import json
import re
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from pii_helpers import SALT

from simulator.server import SimulatorServer
from simulator.truth import iter_truth
from simulator.world import World
from transforms.pii import assert_no_pii, mask_address, pseudonymise, scrub_text


class _Text(HTMLParser):
    """Visible text of a page, one line per element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(body: str) -> str:
    parser = _Text()
    parser.feed(body)
    parser.close()
    return re.sub(r"\n\s*\n+", "\n", "".join(parser.parts)).strip()


@pytest.fixture(scope="module")
def portal() -> Iterator[tuple[list[dict[str, Any]], dict[str, str]]]:
    world = World(products=100, seed=3)
    truth = json.loads("".join(iter_truth(world, reviews=False)))
    complaints = truth["complaints"]
    pages = {}
    with SimulatorServer(world) as srv:
        for c in complaints:
            with urllib.request.urlopen(srv.base_url + c["url"], timeout=10) as resp:
                assert resp.status == 200
                pages[c["number"]] = resp.read().decode("utf-8")
    yield complaints, pages


def _forms(value: str) -> list[str]:
    """The value and the ways a page could spell it."""
    forms = [value, value.lower(), value.upper()]
    if re.fullmatch(r"1\d{10}", value):
        forms += [f"{value[:3]} {value[3:7]} {value[7:]}", f"{value[:3]}-{value[3:7]}-{value[7:]}"]
    return forms


def test_portal_truth_has_personal_data(
    portal: tuple[list[dict[str, Any]], dict[str, str]],
) -> None:
    complaints, pages = portal
    assert len(complaints) >= 60
    assert sum(1 for c in complaints if c["id_number"]) >= 5
    assert sum(1 for c in complaints if c["email"]) >= 5
    for c in complaints:  # the raw pages do show it, so the checks below can fail
        text = page_text(pages[c["number"]])
        assert c["phone"] in text
        assert c["id_number"] is None or c["id_number"] in text
        assert c["email"] is None or html.unescape(c["email"]) in text
        assert set(assert_no_pii(text)) >= {"mobile"}


def test_scrubbed_complaint_text_keeps_no_personal_data(
    portal: tuple[list[dict[str, Any]], dict[str, str]],
) -> None:
    complaints, pages = portal
    scrubbed = {n: scrub_text(page_text(body), salt=SALT) for n, body in pages.items()}
    everything = "\n".join(r.text for r in scrubbed.values())
    for c in complaints:
        result = scrubbed[c["number"]]
        for key in ("phone", "id_number", "email"):
            if c[key]:
                for form in _forms(c[key]):
                    assert form not in everything, (c["number"], key)
        assert c["complainant"] not in result.text
        assert result.counts.get("mobile") == 1
        assert result.counts.get("name") == 1
        assert result.counts.get("address") == 1
        assert result.counts.get("id_number", 0) == (1 if c["id_number"] else 0)
        assert result.counts.get("email", 0) == (1 if c["email"] else 0)
        assert pseudonymise(c["phone"], kind="phone", salt=SALT) in result.pseudonyms
        if c["id_number"]:
            assert pseudonymise(c["id_number"], kind="id_number", salt=SALT) in result.pseudonyms
        assert assert_no_pii(result.text) == []


def test_scrubbing_keeps_the_complaint_facts(
    portal: tuple[list[dict[str, Any]], dict[str, str]],
) -> None:
    complaints, pages = portal
    for c in complaints:
        text = page_text(pages[c["number"]])
        result = scrub_text(text, salt=SALT)
        assert f"投诉编号：\n{c['number']}" in result.text
        order = re.search(r"订单号(\d{18})", text)
        assert order and f"订单号{order.group(1)}" in result.text
        assert f"¥{c['amount_fen'] // 100:,}.{c['amount_fen'] % 100:02d}" in result.text
        assert c["status"] in result.text
        title = re.search(r"<h1 class=\"article\">(.*?)</h1>", pages[c["number"]])
        assert title and html.unescape(title.group(1)) in result.text
        # the region of the complainant's address stays (jurisdiction), the street goes
        address = re.search(r"联系地址：(.*)", text)
        assert address
        region = mask_address(address.group(1)).removesuffix("****")
        assert len(region) >= 5
        assert f"联系地址：{region}[地址]" in result.text
        # everything that is not personal data is untouched
        personal = re.compile(r"联系电话|联系地址|身份证|邮箱")
        lines = [
            ln for ln in text.splitlines() if ln != c["complainant"] and not personal.search(ln)
        ]
        kept = result.text.splitlines()
        assert [ln for ln in lines if ln not in kept] == [], c["number"]


def test_scrubbing_raw_pages_removes_personal_data(
    portal: tuple[list[dict[str, Any]], dict[str, str]],
) -> None:
    complaints, pages = portal
    for c in complaints:
        result = scrub_text(pages[c["number"]], salt=SALT)
        for key in ("phone", "id_number", "email"):
            if c[key]:
                assert c[key] not in result.text
        assert "mobile" not in assert_no_pii(result.text.replace(c["number"], ""))
