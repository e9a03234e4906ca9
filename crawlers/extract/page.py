"""A parsed page: its lxml tree, its visible text as lines, and where each piece came from.

The visible text of the body is laid out once, the way a browser would show it: block
elements start a new line, table cells and definition descriptions are separated by a
tab, inline elements run on (so ``¥<em>89</em>`` reads ``¥89``). Every character
offset maps back to the element that holds it, so a price found in the text can be
asked "are you inside a ``<del>``? in the footer? in a ``.price`` box?".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from functools import cached_property
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

__all__ = ["Page", "class_parts", "parse_tree"]

_BLOCK = frozenset(
    "address article aside blockquote body br center details dialog div dl fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre "
    "section summary table tbody thead tfoot tr ul".split()
)
_CELL = frozenset(("td", "th", "dd"))
_SKIP = frozenset(
    "script style noscript template svg head select option iframe object textarea title".split()
)
_VISIBLE_TEXT = etree.XPath(
    ".//text()[not(ancestor::script or ancestor::style or ancestor::template)]"
)
_PARTS = re.compile(r"[^a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Regions that hold other products, reviews or site chrome, not the listing itself.
_OFF_MAIN_TAGS = frozenset(("header", "footer", "nav", "aside"))
_OFF_MAIN_PARTS = frozenset(
    "header footer nav navbar topbar menu sidebar recommend recommendation related similar "
    "guess comment comments review reviews cmt reply ads advert banner toolbar".split()
)


def parse_tree(text: str) -> HtmlElement | None:
    """Parse HTML text with lxml; ``None`` when there is no document at all."""
    text = _CONTROL.sub("", text)
    if not text.strip():
        return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def class_parts(el: HtmlElement) -> frozenset[str]:
    """Lower-case words of an element's ``class`` and ``id`` (``g-price cur`` → g, price, cur)."""
    attrs = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    if not attrs.strip():
        return frozenset()
    return frozenset(p for p in _PARTS.split(attrs) if p)


class Page:
    """One HTML document, parsed, with its base URL and laid-out visible text."""

    def __init__(self, tree: HtmlElement, url: str) -> None:
        self.tree = tree
        self.url = url
        base = tree.xpath("//base/@href")
        self.base_url = urljoin(url, base[0].strip()) if base else url
        self._off_main: dict[HtmlElement, bool] = {}
        self._parts: dict[HtmlElement, frozenset[str]] = {}
        self._build_text()

    # ------------------------------------------------------------------ text
    def _build_text(self) -> None:
        pieces: list[str] = []
        starts: list[int] = []
        owners: list[HtmlElement] = []
        pos = 0

        def emit(text: str, owner: HtmlElement) -> None:
            nonlocal pos
            starts.append(pos)
            owners.append(owner)
            pieces.append(text)
            pos += len(text)

        body = self.tree.find("body")
        root = body if body is not None else self.tree
        stack: list[tuple[HtmlElement, bool]] = [(root, False)]
        while stack:
            el, closing = stack.pop()
            tag = el.tag if isinstance(el.tag, str) else ""
            if closing:
                if tag in _BLOCK:
                    emit("\n", el)
                if el.tail and el is not root:
                    parent = el.getparent()
                    emit(el.tail, parent if parent is not None else el)
                continue
            if not tag or tag in _SKIP:
                if el.tail and el is not root:
                    parent = el.getparent()
                    emit(el.tail, parent if parent is not None else el)
                continue
            if tag in _BLOCK or tag == "dt":
                emit("\n", el)  # a <dt> starts a line; its <dd> follows on it after a tab
            elif tag in _CELL:
                emit("\t", el)
            if tag == "img" and el.get("alt"):
                emit(" ", el)
            if el.text:
                emit(el.text, el)
            stack.append((el, True))
            stack.extend((child, False) for child in reversed(el))
        self.text = "".join(pieces)
        self._starts = starts
        self._owners = owners

    def owner(self, offset: int) -> HtmlElement:
        """The element whose own text holds the character at ``offset``."""
        i = bisect_right(self._starts, offset) - 1
        return self._owners[max(i, 0)] if self._owners else self.tree

    @cached_property
    def lines(self) -> list[tuple[int, str]]:
        """Non-empty visible lines with their start offsets (whitespace kept inside)."""
        out = []
        pos = 0
        for line in self.text.split("\n"):
            if line.strip():
                out.append((pos, line))
            pos += len(line) + 1
        return out

    # ------------------------------------------------------------------ context
    def ancestors(self, el: HtmlElement, limit: int = 40) -> Iterator[HtmlElement]:
        """``el`` and its ancestors, innermost first."""
        n = 0
        while el is not None and n < limit:
            yield el
            el = el.getparent()
            n += 1

    def parts(self, el: HtmlElement) -> frozenset[str]:
        """:func:`class_parts` of ``el``, computed once per element."""
        found = self._parts.get(el)
        if found is None:
            found = self._parts[el] = class_parts(el)
        return found

    def off_main(self, el: HtmlElement) -> bool:
        """True inside site chrome, reviews or lists of other products."""
        chain = []
        result = False
        for a in self.ancestors(el):
            if a in self._off_main:
                result = self._off_main[a]
                break
            chain.append(a)
            tag = a.tag if isinstance(a.tag, str) else ""
            if tag in _OFF_MAIN_TAGS or (self.parts(a) & _OFF_MAIN_PARTS):
                result = True
                break
        for a in chain:
            self._off_main[a] = result
        return result

    def text_of(self, el: HtmlElement) -> str:
        """Visible text of an element, whitespace collapsed (scripts and styles left out)."""
        return " ".join("".join(_VISIBLE_TEXT(el)).split())

    def absolute(self, href: str | None) -> str | None:
        if not href or not href.strip():
            return None
        href = href.strip()
        if href.startswith(("javascript:", "data:", "#", "mailto:")):
            return None
        return urljoin(self.base_url, href)
