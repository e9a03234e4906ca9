"""The category-mapping lexicon (``data/lexicon.yaml``), read and checked.

The reference categories (``transforms/reference/data/categories.yaml``) say what each
category is called; this file holds what the rules need on top of that: aliases, phrases
that contain a keyword but name something else, and the small closed word lists for
breadcrumb noise, giveaways, compatibility notes, accessories and children's garments.
See the comments in the YAML file for each section.

Every phrase is stored in matching form (:func:`transforms.categories.text.normalise`).
:func:`load_lexicon` rejects a file that would make the rules ambiguous: an alias or
exclusion that repeats a reference keyword or another entry, a code that is not a
reference category, an exclusion that contains no keyword (it could never win).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transforms.categories.text import normalise
from transforms.reference.model import Category

__all__ = ["DATA_DIR", "LEXICON_FILE", "Lexicon", "LexiconError", "load_lexicon"]

DATA_DIR = Path(__file__).resolve().parent / "data"
LEXICON_FILE = DATA_DIR / "lexicon.yaml"


class LexiconError(ValueError):
    """The lexicon file is invalid; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid category lexicon:\n" + "\n".join(f"  {e}" for e in errors))


@dataclass(frozen=True)
class Lexicon:
    """The lexicon in matching form. ``sha256`` is of the file's bytes, so that models
    built from it can tell when it changed."""

    version: str
    sha256: str
    aliases: Mapping[str, tuple[str, ...]]
    exclusions: tuple[str, ...]
    noise_crumbs: frozenset[str]
    gift_markers: tuple[str, ...]
    gift_not_after: tuple[str, ...]
    gift_not_before: tuple[str, ...]
    compat_prefixes: tuple[str, ...]
    compat_suffixes: tuple[str, ...]
    compat_not_after: tuple[str, ...]
    accessory_spaced: tuple[str, ...]
    accessory_adjacent: tuple[str, ...]
    accessory_adjacent_not_before: tuple[str, ...]
    child_markers: tuple[str, ...]
    child_promotes: frozenset[str]
    marketing: tuple[str, ...]

    @property
    def source_version(self) -> str:
        """``<version>+<12 hex of sha256>``, the form the reference loader uses."""
        return f"{self.version}+{self.sha256[:12]}"


def load_lexicon(categories: Iterable[Category], path: Path | str | None = None) -> Lexicon:
    """Read ``path`` (default: the shipped ``data/lexicon.yaml``) and check it against
    ``categories``. Raises :class:`LexiconError` listing every problem."""
    import yaml

    file = Path(path) if path is not None else LEXICON_FILE
    raw_bytes = file.read_bytes()
    doc = yaml.safe_load(raw_bytes.decode("utf-8"))
    errors: list[str] = []
    if not isinstance(doc, dict):
        raise LexiconError([f"{file.name}: expected a mapping at the top level"])

    cats = list(categories)
    codes = {c.code for c in cats}
    owner: dict[str, str] = {}  # normalised keyword -> code
    for c in cats:
        for word in (*c.keywords, c.name_zh):
            owner.setdefault(normalise(word), c.code)

    def words(value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(f"{where}: expected a list of strings")
            return ()
        out = []
        for v in value:
            n = normalise(v)
            if not n:
                errors.append(f"{where}: blank entry {v!r}")
            else:
                out.append(n)
        return tuple(out)

    def section(key: str) -> Any:
        if key not in doc:
            errors.append(f"{file.name}: missing section {key!r}")
        return doc.get(key)

    aliases: dict[str, tuple[str, ...]] = {}
    raw_aliases = section("aliases") or {}
    if not isinstance(raw_aliases, dict):
        errors.append("aliases: expected a mapping of code to list")
        raw_aliases = {}
    for code, value in raw_aliases.items():
        if code not in codes:
            errors.append(f"aliases: {code!r} is not a reference category")
            continue
        found = words(value, f"aliases.{code}")
        for word in found:
            if word in owner:
                errors.append(f"aliases.{code}: {word!r} is already a keyword of {owner[word]!r}")
            else:
                owner[word] = code
        aliases[code] = found

    exclusions = words(section("exclusions"), "exclusions")
    seen: set[str] = set()
    for word in exclusions:
        if word in owner:
            errors.append(f"exclusions: {word!r} is a keyword or alias of {owner[word]!r}")
        if word in seen:
            errors.append(f"exclusions: {word!r} is listed twice")
        seen.add(word)
        if not any(k in word for k in owner):
            errors.append(f"exclusions: {word!r} contains no keyword, so it can never apply")

    gift = section("gift_markers") or {}
    accessory = section("accessory_nouns") or {}
    if not isinstance(gift, dict) or not isinstance(accessory, dict):
        errors.append("gift_markers and accessory_nouns must be mappings")
        gift, accessory = {}, {}
    child_promotes = section("child_promotes") or []
    if not isinstance(child_promotes, list):
        errors.append("child_promotes: expected a list of codes")
        child_promotes = []
    for code in child_promotes:
        if code not in codes:
            errors.append(f"child_promotes: {code!r} is not a reference category")
    if "children_clothing" not in codes and child_promotes:
        errors.append("child_promotes needs the reference category 'children_clothing'")

    lexicon = Lexicon(
        version=str(doc.get("version") or ""),
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        aliases=aliases,
        exclusions=exclusions,
        noise_crumbs=frozenset(words(section("noise_crumbs"), "noise_crumbs")),
        gift_markers=words(gift.get("markers"), "gift_markers.markers"),
        gift_not_after=words(gift.get("not_after"), "gift_markers.not_after"),
        gift_not_before=words(gift.get("not_before"), "gift_markers.not_before"),
        compat_prefixes=words(section("compat_prefixes"), "compat_prefixes"),
        compat_suffixes=words(section("compat_suffixes"), "compat_suffixes"),
        compat_not_after=words(section("compat_not_after"), "compat_not_after"),
        accessory_spaced=words(accessory.get("spaced"), "accessory_nouns.spaced"),
        accessory_adjacent=words(accessory.get("adjacent"), "accessory_nouns.adjacent"),
        accessory_adjacent_not_before=words(
            accessory.get("adjacent_not_before"), "accessory_nouns.adjacent_not_before"
        ),
        child_markers=words(section("child_markers"), "child_markers"),
        child_promotes=frozenset(child_promotes),
        marketing=words(section("marketing"), "marketing"),
    )
    if not lexicon.version:
        errors.append(f"{file.name}: 'version' is required")
    if errors:
        raise LexiconError(errors)
    return lexicon
