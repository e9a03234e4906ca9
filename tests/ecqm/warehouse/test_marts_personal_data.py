"""No mart shows personal data (GB/T 37538 monitoring publishes nothing about people).

Read statically from every file in sql/marts/, so a new mart is checked before it has
any rows. Three kinds of source column, listed here on purpose rather than guessed:

- NEVER: personal data or its pseudonym; a mart does not even read it.
- NOT_AS_IS: free text or documents that may carry personal data; a mart may test them
  (``last_error is not null``, a JSON flag) but never show them.
- PERSON_NAMES: names that are a person's when the shop is run by an individual
  (个人网店, 个体工商户); a mart shows them only through a CASE that withholds them for
  individuals. A flag (``is_…``, ``has_…``: booleans by the house naming) may be
  computed from them. The masking itself is checked with rows in each mart's own tests
  (for example tests/transforms/credit/test_credit_mart.py).
"""

from __future__ import annotations

import re

import pytest

from ecqm.warehouse.dictionary import column_lineage, direct_source
from ecqm.warehouse.marts import mart_files, parse_mart, tokenize
from ecqm.warehouse.schema import metadata

NEVER = {
    ("shops", "contact_hash"): "pseudonym of the licence's contact person",
    ("shops", "phone_hash"): "pseudonym of a phone number",
    ("shops", "address_hash"): "pseudonym of an address",
    ("reviews", "author_hash"): "pseudonym of the reviewer",
    ("complaints", "complainant_hash"): "pseudonym of the complainant",
    ("risk_decisions", "decided_by"): "name of the staff member who decided",
    ("notifications", "address"): "a recipient's e-mail or endpoint",
    ("purchases", "tracking_number"): "a waybill number finds the buyer's name and address",
    ("ref_labs", "contact_email"): "a mailbox that may be a person's",
    ("ref_regions", "notify_email"): "a mailbox that may be a person's",
}
NOT_AS_IS = {
    ("notifications", "subject"): "an escalation's subject names the original recipient",
    ("notifications", "body_text"): "the notice, with names and addresses",
    ("notifications", "body_html"): "the notice, with names and addresses",
    ("notifications", "payload"): "everything the notice was rendered from",
    ("notifications", "last_error"): "a delivery error quotes the address",
    ("notifications", "ack_note"): "what a recipient wrote back",
    ("notifications", "receipt"): "a delivery receipt quotes the address",
    ("notification_events", "detail"): "delivery details quote the address",
    ("reviews", "text"): "what a consumer wrote",
    ("complaints", "problem"): "what a complainant wrote",
    ("complaints", "demand"): "what a complainant wrote",
    ("complaints", "steps"): "the complaint's correspondence",
    ("purchases", "evidence"): "screenshots of the buyer's order",
    ("shops", "attributes"): "the licence as the shop page shows it",
    ("quarantine", "value"): "a refused value, possibly before masking",
    ("quarantine", "payload"): "a refused record, possibly before masking",
}
PERSON_NAMES = {
    ("shops", "name"),
    ("shops", "company_name"),
    ("merchant_credit", "shop_name"),
    ("purchases", "shop_name"),
    ("notifications", "recipient_name"),
    ("complaints", "respondent"),
}
# Parts of a column name or JSON key that say "this is about a person".
PERSONAL_WORDS = {
    "hash",
    "phone",
    "mobile",
    "tel",
    "telephone",
    "address",
    "email",
    "mail",
    "contact",
    "author",
    "complainant",
    "reviewer",
    "buyer",
    "person",
    "identity",
    "idcard",
    "tracking",
    "password",
}
PERSONAL_PAIRS = {("id", "number"), ("id", "card"), ("decided", "by")}
# Marts known to break a rule, with why; strict, so the mark must go once fixed.
KNOWN: dict[str, str] = {}  # mart → why it is known to show personal data
MARTS = mart_files()


def _known(name: str):
    if name in KNOWN:
        return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN[name]))
    return name


def _personal(name: str) -> bool:
    parts = re.split(r"[_\W]+", name.lower())
    pairs = set(zip(parts, parts[1:], strict=False))
    return bool(PERSONAL_WORDS & set(parts)) or bool(PERSONAL_PAIRS & pairs)


def test_the_lists_name_real_columns():
    for table, column in [*NEVER, *NOT_AS_IS, *PERSON_NAMES]:
        assert column in metadata.tables[table].c, f"{table}.{column} is not in the schema"


def test_the_name_check_can_tell():
    assert _personal("contact_hash") and _personal("buyer_phone") and _personal("id_number")
    assert _personal("reviewer") and _personal("notify_email") and _personal("decided_by")
    assert not _personal("shop_name") and not _personal("is_individual_shop")
    assert not _personal("listing_url") and not _personal("hotel_id")


@pytest.mark.parametrize("name", sorted(MARTS))
def test_no_column_name_looks_personal(name):
    columns = [c.name for c in parse_mart(MARTS[name]).columns]
    assert not [c for c in columns if _personal(c)], name


@pytest.mark.parametrize("name", sorted(MARTS))
def test_no_mart_reads_staging_or_personal_columns(name):
    mart = parse_mart(MARTS[name])
    assert not {t for t in mart.tables if t.startswith("stg_")}, "staging holds raw personal data"
    words = {
        t.text.strip('"').lower()
        for t in tokenize(MARTS[name].read_text(encoding="utf-8"))
        if t.kind in ("word", "ident")
    }
    read = [
        f"{table}.{column} ({why})"
        for (table, column), why in NEVER.items()
        if table in mart.tables and column in words
    ]
    assert not read, f"{name} reads personal data: " + "; ".join(read)


@pytest.mark.parametrize("name", sorted(MARTS))
def test_no_json_key_looks_personal(name):
    tokens = [t for t in tokenize(MARTS[name].read_text(encoding="utf-8")) if t.kind != "comment"]
    keys = [
        t.text.strip("'")
        for i, t in enumerate(tokens)
        if t.kind == "string" and i and tokens[i - 1].text == ">"  # after -> or ->>
    ]
    assert not [k for k in keys if _personal(k)], f"{name}: {keys}"


@pytest.mark.parametrize("name", sorted(MARTS))
def test_free_text_is_never_shown_as_is(name):
    mart = parse_mart(MARTS[name])
    shown = {c.name: direct_source(mart, c.name) for c in mart.columns}
    bad = [f"{c} = {s[0]}.{s[1]} ({NOT_AS_IS[s]})" for c, s in shown.items() if s in NOT_AS_IS]
    assert not bad, f"{name} shows text that may carry personal data: " + "; ".join(bad)


@pytest.mark.parametrize("name", [_known(n) for n in sorted(MARTS)])
def test_names_that_may_be_a_persons_are_withheld_for_individuals(name):
    mart = parse_mart(MARTS[name])
    lineage = column_lineage(mart)
    bad = []
    for column in mart.columns:
        names = sorted(lineage[column.name] & PERSON_NAMES)
        masked = column.expression.lower().startswith("case") and re.search(
            r"\bis_individual\w*", column.expression
        )
        flag = column.name.startswith(("is_", "has_"))
        if names and not masked and not flag:
            bad.append(f"{column.name} ← " + ", ".join(f"{t}.{c}" for t, c in names))
    assert not bad, (
        f"{name} shows names that are a person's for a shop run by an individual; show "
        "them through `case when <is individual> then '个人网店（名称不公开）' else … end`: "
        + "; ".join(bad)
    )
