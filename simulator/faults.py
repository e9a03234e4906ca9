"""Injected faults: rate limits, server errors, slowness, broken bodies, loops.

Whether a request faults is decided from ``(seed, path, attempt)`` where
``attempt`` counts earlier requests of the same path, so the same request
sequence always meets the same faults, a retry gets an independent draw,
and over many requests each fault occurs at its configured rate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from .rng import stable_hash

KINDS = ("429", "5xx", "slow", "truncate", "malformed_json", "redirect_loop")
_FIELD = {
    "429": "rate_429",
    "5xx": "rate_5xx",
    "slow": "slow",
    "truncate": "truncate",
    "malformed_json": "malformed_json",
    "redirect_loop": "redirect_loop",
}
NEVER_FAULTED = ("/robots.txt", "/__health")
LOOP_PARAM = "__loop"


@dataclass(frozen=True)
class FaultSpec:
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    slow: float = 0.0
    truncate: float = 0.0
    malformed_json: float = 0.0
    redirect_loop: float = 0.0
    slow_seconds: float = 1.5
    retry_after: int = 1

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("slow_seconds", "retry_after"):
                if v < 0:
                    raise ValueError(f"{f.name}={v}: must not be negative")
            elif not 0.0 <= v <= 1.0:
                raise ValueError(f"{f.name}={v}: rate must be within [0, 1]")
        if self.total > 1.0 + 1e-9:
            raise ValueError(f"fault rates sum to {self.total:.3f}, more than 1")

    @property
    def total(self) -> float:
        return sum(getattr(self, _FIELD[k]) for k in KINDS)

    def rate(self, kind: str) -> float:
        return float(getattr(self, _FIELD[kind]))

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """Parse ``"429=0.05,5xx=0.03,slow=0.01,slow_seconds=1.5"``; empty or "none" means no faults."""
        if text is None or text.strip().lower() in ("", "none", "off", "0"):
            return cls()
        values: dict[str, float | int] = {}
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, raw = part.partition("=")
            key = key.strip()
            if not sep:
                raise ValueError(f"fault spec part {part!r}: expected key=value")
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"fault spec part {part!r}: {raw!r} is not a number") from None
            if key in _FIELD:
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"fault spec part {part!r}: rate must be within [0, 1]")
                values[_FIELD[key]] = value
            elif key == "slow_seconds":
                if value < 0:
                    raise ValueError(f"fault spec part {part!r}: must not be negative")
                values["slow_seconds"] = value
            elif key == "retry_after":
                values["retry_after"] = int(value)
            else:
                raise ValueError(
                    f"fault spec part {part!r}: unknown key {key!r} "
                    f"(known: {', '.join((*KINDS, 'slow_seconds', 'retry_after'))})"
                )
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"fault spec {text!r}: {exc}") from None

    def __str__(self) -> str:
        parts = [f"{k}={self.rate(k):g}" for k in KINDS if self.rate(k)]
        if self.slow:
            parts.append(f"slow_seconds={self.slow_seconds:g}")
        return ",".join(parts) or "none"

    def draw(self, seed: int, target: str, attempt: int) -> str | None:
        """The fault for the ``attempt``-th request (0-based) of ``target``, or None."""
        if (
            self.total == 0
            or target.split("?", 1)[0] in NEVER_FAULTED
            or f"{LOOP_PARAM}=" in target
        ):
            return None
        u = (stable_hash(seed, "fault", target, attempt) % 10**9) / 10**9
        acc = 0.0
        for kind in KINDS:
            acc += self.rate(kind)
            if u < acc:
                return kind
        return None

    def detail(self, seed: int, target: str, attempt: int, n: int) -> int:
        """A second deterministic number for the fault's details (status code, cut point)."""
        return stable_hash(seed, "fault-detail", target, attempt) % n
