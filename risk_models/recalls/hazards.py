"""A recall's hazard text → one hazard class of the risk model.

Recall sources describe hazards in prose, in English or Chinese: CPSC "The heaters can
overheat, posing fire and burn hazards", Safety Gate "Electric shock" with a risk
description, SAMR 可能导致使用者触电. :func:`hazard_class` maps such a text to one of
:data:`HAZARD_CLASSES`, the classes the simulator plants and the risk model scores:

==========================  ===========================================================
``fire``                    fire, flames, ignition, explosion, 起火 火灾 自燃 冒烟 爆炸
``electric_shock``          electric shock, electrocution, leakage, 触电 漏电 电击
``burn``                    burns, scalding, hot surfaces, 烫伤 灼伤
``chemical_odour``          chemical, formaldehyde, phthalates, lead, heavy metals,
                            harmful substances, odour, 甲醛 有害物质 超标 异味
``choking_small_parts``     choking, small parts, swallowing, suffocation,
                            strangulation, 窒息 误吞 小零件
``cut_breakage``            laceration, cuts, breakage, falls, tip-over, entrapment,
                            划伤 断裂 破裂 摔伤 夹伤
``allergy_skin``            allergens, skin irritation or sensitisation, nickel, 过敏
``performance``             failure, malfunction, injury without a named mechanism,
                            无法正常使用 失效 性能
``none``                    no hazard text, or none of the above
==========================  ===========================================================

When a text names several hazards the first class in the table wins, so "fire and
burn hazards" is ``fire`` and "the surface can become hot, posing a burn hazard" is
``burn``. "Overheating" alone, without fire or burns, counts as ``fire``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["HAZARD_CLASSES", "hazard_class", "hazard_class_of"]

HAZARD_CLASSES = (
    "fire",
    "electric_shock",
    "burn",
    "chemical_odour",
    "choking_small_parts",
    "cut_breakage",
    "allergy_skin",
    "performance",
    "none",
)

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.I))
    for name, pattern in (
        (
            "fire",
            r"\bfires?\b|flame|ignit|combust|explo(?:de|sion|sive)|\bsmok(?:e|ing)\b|"
            r"起火|着火|火灾|燃烧|自燃|冒烟|爆炸|火情|阴燃",
        ),
        (
            "electric_shock",
            r"electric(?:al)?\s+shock|\bshock\b|electrocut|leakage\s+current|"
            r"触电|漏电|电击|带电",
        ),
        ("burn", r"\bburns?\b|\bburning\b|scald|hot\s+surface|烫伤|灼伤|烧伤|烫手"),
        (
            "chemical_odour",
            r"chemical|formaldehyde|phthalate|\blead\b(?!\s+to)|cadmium|mercury|benzene|"
            r"azo\s+dye|toxic|harmful\s+substance|heavy\s+metal|\bodou?r|(?-i:\bREACH\b)|"
            r"甲醛|邻苯|重金属|有害物质|有毒|化学|异味|气味|超标|迁移量",
        ),
        (
            "choking_small_parts",
            r"chok|small\s+parts?|swallow|ingest|aspirat|suffocat|strangulat|"
            r"窒息|误吞|吞食|吞咽|小零件|小部件|小配件|噎|勒颈",
        ),
        (
            "cut_breakage",
            r"lacerat|\bcuts?\b|sharp|break|broke|crack|shatter|\bfalls?\b|fall\s+hazard|"
            r"tip[\s-]?over|collapse|entrap|pinch|detach|"
            r"划伤|割伤|断裂|破裂|碎裂|摔伤|跌落|倾倒|夹伤|锋利|脱落",
        ),
        (
            "allergy_skin",
            r"allerg|skin\s+(?:irritation|reaction|sensiti[sz])|dermatitis|\brash|nickel|"
            r"irritat|过敏|致敏|皮肤刺激|刺激皮肤|皮疹|红肿",
        ),
        (
            "performance",
            r"fail|malfunction|not\s+work|does\s+not\s+operate|performance|injur|"
            r"无法正常|不能正常|失效|性能|故障|安全事故|伤害",
        ),
    )
)
# Weaker cues, read only when nothing above matched.
_FALLBACK: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("fire", re.compile(r"overheat|过热|发热异常|温度过高", re.I)),
    ("electric_shock", re.compile(r"insulat|绝缘|接地", re.I)),
)


@lru_cache(maxsize=4096)
def hazard_class(text: str | None) -> str:
    """The hazard class a hazard text names, ``none`` when it names none.

    >>> hazard_class("The heaters can overheat, posing fire and burn hazards.")
    'fire'
    >>> [hazard_class(t) for t in ("electric shock", "choking hazard", "chemical: formaldehyde")]
    ['electric_shock', 'choking_small_parts', 'chemical_odour']
    >>> [hazard_class(t) for t in ("触电", "起火", "", None)]
    ['electric_shock', 'fire', 'none', 'none']
    """
    if not text or not text.strip():
        return "none"
    for name, pattern in _RULES:
        if pattern.search(text):
            return name
    for name, pattern in _FALLBACK:
        if pattern.search(text):
            return name
    return "none"


def hazard_class_of(texts: Iterable[str | None]) -> str:
    """The class of the first text that names one: a recall's hazard, then its hazard
    type, then its description (SAMR's 可能对人体健康造成危害 names no mechanism; the
    defect text, 有害物质含量超出标准要求, does)."""
    for text in texts:
        found = hazard_class(text)
        if found != "none":
            return found
    return "none"
