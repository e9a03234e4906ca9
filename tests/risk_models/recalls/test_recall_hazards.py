"""Hazard texts of the recall sources, English and Chinese, → hazard classes."""

from __future__ import annotations

import pytest

from risk_models.recalls.hazards import HAZARD_CLASSES, hazard_class, hazard_class_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fire and burn hazards", "fire"),
        ("The heaters can overheat, posing fire and burn hazards.", "fire"),
        ("The battery can ignite.", "fire"),
        ("Fire", "fire"),
        ("起火", "fire"),
        ("可能引发火灾，造成财产损失和人身伤害", "fire"),
        ("电池存在自燃风险", "fire"),
        ("electric shock", "electric_shock"),
        ("Electric shock", "electric_shock"),
        ("The product's insulation can fail, posing an electric shock hazard.", "electric_shock"),
        ("触电", "electric_shock"),
        ("存在漏电隐患，可能导致使用者触电", "electric_shock"),
        ("The surface can become excessively hot, posing a burn hazard.", "burn"),
        ("Burns", "burn"),
        ("可能导致使用者烫伤", "burn"),
        ("chemical: formaldehyde", "chemical_odour"),
        ("Chemical", "chemical_odour"),
        ("The product contains phthalates (DEHP) above the limit.", "chemical_odour"),
        ("The product contains levels of harmful substances that exceed limits.", "chemical_odour"),
        ("甲醛含量超标", "chemical_odour"),
        ("产品有刺鼻异味", "chemical_odour"),
        ("choking hazard", "choking_small_parts"),
        (
            "Small parts can detach, posing a choking hazard to young children.",
            "choking_small_parts",
        ),
        ("儿童可能误吞导致窒息", "choking_small_parts"),
        ("Strangulation", "choking_small_parts"),
        ("The product can break during use, posing laceration and fall hazards.", "cut_breakage"),
        ("The stroller can collapse.", "cut_breakage"),
        ("可能造成使用者划伤或摔伤", "cut_breakage"),
        ("The product contains allergens that can cause skin reactions.", "allergy_skin"),
        ("可能导致皮肤过敏或刺激", "allergy_skin"),
        ("Nickel release", "allergy_skin"),
        ("The product can fail during use, posing an injury hazard.", "performance"),
        ("Injuries", "performance"),
        ("可能导致产品无法正常使用并引发安全事故", "performance"),
        ("The charger can overheat.", "fire"),
        ("", "none"),
        (None, "none"),
        ("   ", "none"),
        ("See the notice for details.", "none"),
    ],
)
def test_hazard_class(text, expected):
    assert hazard_class(text) == expected
    assert expected in HAZARD_CLASSES


def test_lead_as_a_verb_is_not_lead_the_metal():
    assert hazard_class("Defects can lead to injuries.") == "performance"
    assert hazard_class("The paint contains lead.") == "chemical_odour"


def test_reach_regulation_but_not_out_of_reach():
    assert hazard_class("Keep out of reach of children") == "none"
    assert (
        hazard_class("The product does not comply with the REACH Regulation.") == "chemical_odour"
    )


def test_first_text_that_names_a_class_wins():
    # SAMR: the consequence names no mechanism; the defect text does
    assert (
        hazard_class_of(["可能对人体健康造成危害", None, "产品材料中有害物质含量超出标准要求"])
        == "chemical_odour"
    )
    assert hazard_class_of([None, "", "   "]) == "none"
