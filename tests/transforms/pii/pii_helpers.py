"""Builders of valid and invalid personal numbers for the masking tests."""

from __future__ import annotations

from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SALT = b"test-salt-0123456789abcdef0123456789"


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2, computed here independently of the code under test."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(area: str, birth: date, seq: int) -> str:
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + check_digit(body)


def wrong_check(id18: str) -> str:
    """The same 17 digits with a check character that is wrong (a digit)."""
    good = id18[-1]
    for d in "0123456789":
        if d != good:
            return id18[:17] + d
    raise AssertionError("unreachable")


def luhn_complete(body: str) -> str:
    """``body`` plus the Luhn check digit."""
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("unreachable")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def luhn_break(digits: str) -> str:
    """``digits`` with its last digit changed so that the Luhn check fails."""
    last = (int(digits[-1]) + 1) % 10
    out = digits[:-1] + str(last)
    assert not luhn_ok(out)
    return out


def fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)
