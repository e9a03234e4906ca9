"""The risk matrix as data: likelihood and severity scales and the level they give.

The file ``risk_models/data/risk_matrix.yaml`` is the single place the scales and the
matrix are defined; :class:`RiskMatrix` reads and checks it, and every assessment
records ``matrix.version``.

>>> m = RiskMatrix.load()
>>> m.likelihood(0.72), m.severity("fire", severity_weight=0.8, max_severity=3)
(5, 4)
>>> m.level(5, 4), m.level_zh("high")
('high', '高风险')
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).with_name("data") / "risk_matrix.yaml"
LEVELS = ("high", "elevated", "moderate", "low")
LEVEL_RANK = {"low": 0, "moderate": 1, "elevated": 2, "high": 3}


class MatrixError(ValueError):
    """The matrix file is not usable; the message names the file and the field."""


@dataclass(frozen=True)
class RiskMatrix:
    version: str
    thresholds: tuple[float, ...]
    likelihood_labels: tuple[str, ...]
    severity_labels: tuple[str, ...]
    hazard_severity: Mapping[str, int]
    raise_at_weight: float
    no_hazard_step_down: int
    level_labels: Mapping[str, str]
    matrix: tuple[tuple[str, ...], ...]

    @classmethod
    def load(cls, path: Path | str | None = None) -> RiskMatrix:
        path = Path(path or DEFAULT_PATH)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise MatrixError(f"{path}: cannot read the risk matrix: {exc}") from exc
        return cls.from_dict(doc, str(path))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], where: str = "risk matrix") -> RiskMatrix:
        def need(mapping: Any, key: str, ctx: str) -> Any:
            if not isinstance(mapping, Mapping) or key not in mapping:
                raise MatrixError(f"{where}: missing `{ctx}{key}`")
            return mapping[key]

        version = str(need(doc, "version", ""))
        lk = need(doc, "likelihood", "")
        thresholds = tuple(float(t) for t in need(lk, "thresholds", "likelihood."))
        if len(thresholds) != 4 or list(thresholds) != sorted(set(thresholds)):
            raise MatrixError(f"{where}: likelihood.thresholds must be 4 increasing numbers")
        if not all(0 < t < 1 for t in thresholds):
            raise MatrixError(f"{where}: likelihood.thresholds must lie between 0 and 1")
        sv = need(doc, "severity", "")
        hazards = {str(k): int(v) for k, v in dict(need(sv, "hazards", "severity.")).items()}
        bad = {k: v for k, v in hazards.items() if not 1 <= v <= 4}
        if bad:
            raise MatrixError(f"{where}: severity.hazards outside 1..4: {bad}")
        lv = need(doc, "levels", "")
        codes = dict(need(lv, "codes", "levels."))
        if set(codes) != set(LEVELS):
            raise MatrixError(f"{where}: levels.codes must be exactly {', '.join(LEVELS)}")
        rows = need(lv, "matrix", "levels.")
        if len(rows) != 5 or any(len(r) != 4 for r in rows):
            raise MatrixError(f"{where}: levels.matrix must have 5 rows of 4 levels")
        for i, row in enumerate(rows, 1):
            for j, code in enumerate(row, 1):
                if code not in codes:
                    raise MatrixError(f"{where}: levels.matrix L{i} S{j}: unknown level {code!r}")
        # A matrix where more likelihood or more severity gives a lower level is a typo.
        for i in range(5):
            for j in range(4):
                here = LEVEL_RANK[rows[i][j]]
                if (i and LEVEL_RANK[rows[i - 1][j]] > here) or (
                    j and LEVEL_RANK[rows[i][j - 1]] > here
                ):
                    raise MatrixError(
                        f"{where}: levels.matrix L{i + 1} S{j + 1} is lower than a cell "
                        "with less likelihood or less severity"
                    )
        return cls(
            version=version,
            thresholds=thresholds,
            likelihood_labels=tuple(need(lk, "labels", "likelihood.")),
            severity_labels=tuple(need(sv, "labels", "severity.")),
            hazard_severity=hazards,
            raise_at_weight=float(sv.get("raise_at_weight", 0.9)),
            no_hazard_step_down=int(sv.get("no_hazard_step_down", 1)),
            level_labels=codes,
            matrix=tuple(tuple(r) for r in rows),
        )

    def likelihood(self, probability: float) -> int:
        """1..5 from the probability that a sample fails."""
        return 1 + bisect.bisect_right(self.thresholds, float(probability))

    def severity(
        self, hazard: str | None, *, severity_weight: float | None, max_severity: int | None
    ) -> int:
        """1..4 from the hazard in sight and the category."""
        if hazard and hazard in self.hazard_severity:
            s = self.hazard_severity[hazard]
            if severity_weight is not None and severity_weight >= self.raise_at_weight:
                s += 1
            return max(1, min(4, s))
        base = int(max_severity or 2) - self.no_hazard_step_down
        return max(1, min(4, base))

    def level(self, likelihood: int, severity: int) -> str:
        return self.matrix[likelihood - 1][severity - 1]

    def level_zh(self, level: str) -> str:
        return self.level_labels[level]
