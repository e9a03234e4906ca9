"""Broken copies of the reference files: every kind of mistake is reported with the
file, the entry and the field, and all mistakes are reported at once."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from transforms.reference.load import DATA_DIR, ReferenceDataError, main, read_reference

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A writable copy of the shipped data files."""
    for f in DATA_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def edit(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def errors_of(folder: Path) -> list[str]:
    with pytest.raises(ReferenceDataError) as info:
        read_reference(folder)
    return info.value.errors


RICE = "  - code: rice_cooker\n"
RICE_LABEL = "categories.yaml: entry 6 (code 'rice_cooker')"


def _in_rice_cooker(folder: Path, old: str, new: str) -> None:
    """Replace the first ``old`` inside the rice_cooker entry."""
    path = folder / "categories.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index(RICE)
    end = text.index("  - code:", start + len(RICE))
    block = text[start:end]
    assert old in block, old
    path.write_text(text[:start] + block.replace(old, new, 1) + text[end:], encoding="utf-8")


CATEGORY_CASES = [
    (
        "    sample_units: 2\n",
        "    sample_units: 0\n",
        f"{RICE_LABEL}: sample_units must be a positive integer, got 0",
    ),
    (
        "    backup_units: 1\n",
        "    backup_units: -1\n",
        f"{RICE_LABEL}: backup_units must be a non-negative integer, got -1",
    ),
    ("    name_en: Rice cooker\n", "", f"{RICE_LABEL}: name_en is required"),
    (
        "    unit_zh: 台\n",
        "    unit_zh: 台\n    colour: white\n",
        f"{RICE_LABEL}: unknown field 'colour'",
    ),
    (
        "    severity_weight: 0.75\n",
        "    severity_weight: 1.5\n",
        f"{RICE_LABEL}: severity_weight must be a number in (0, 1], got 1.5",
    ),
    (
        "    severity_weight: 0.75\n",
        "    severity_weight: high\n",
        f"{RICE_LABEL}: severity_weight must be a number in (0, 1], got 'high'",
    ),
    (
        "    max_severity: 3\n",
        "    max_severity: 5\n",
        f"{RICE_LABEL}: max_severity must be an integer from 1 (微弱) to 4 (非常严重), got 5",
    ),
    (
        "    is_ccc_required: true\n",
        "    is_ccc_required: yes please\n",
        f"{RICE_LABEL}: is_ccc_required must be true or false, got 'yes please'",
    ),
    (
        "    group_code: household_appliances\n",
        "    group_code: kitchen\n",
        f"{RICE_LABEL}: group_code must be one of household_appliances",
    ),
    (
        "    group_zh: 家用电器\n",
        "    group_zh: 厨房电器\n",
        f"{RICE_LABEL}: group_zh must be '家用电器' for group_code 'household_appliances', got '厨房电器'",
    ),
    (
        "    ccc_required_from: null\n",
        "    ccc_required_from: 2024-13-01\n",
        f"{RICE_LABEL}: ccc_required_from must be a date like 2024-08-01 or null, got '2024-13-01'",
    ),
    (
        "    ccc_catalogue_item: 家用和类似用途设备：电饭锅\n",
        "    ccc_catalogue_item: null\n",
        f"{RICE_LABEL}: ccc_catalogue_item is required, got null",
    ),
    (
        "    hazards: [burn, ",
        "    hazards: [scald, ",
        f"{RICE_LABEL}: hazards: 'scald' is not one of fire, electric_shock",
    ),
    (
        "{name: 非正常工作, standard: GB 4706.19}",
        "{name: 非正常工作, standard: GB 4706.99}",
        f"{RICE_LABEL}: test_items[6].standard 'GB 4706.99' is not one of this entry's standards",
    ),
    (
        "{name: 非正常工作, standard: GB 4706.19}",
        "{name: 非正常工作}",
        f"{RICE_LABEL}: test_items[6].standard must be a non-empty string, got None",
    ),
    (
        "{code: GB 12021.6, title: 自动电饭锅能效限定值及能效等级}",
        "{code: GB 12021.6, title: 自动电饭锅能效限定值及能效等级, year: 2017}",
        f"{RICE_LABEL}: standards[4] has unknown field(s) 'year'",
    ),
    (
        "keywords: [电饭煲, 电饭锅, 迷你电饭煲, 电压力锅, 电高压锅, rice cooker]",
        "keywords: [电饭煲, 电饭锅]",
        f"{RICE_LABEL}: keywords must have at least 3 item(s), got 2",
    ),
    (
        "keywords: [电饭煲, ",
        "keywords: [电饭煲, 电饭煲, ",
        f"{RICE_LABEL}: keywords lists '电饭煲' more than once",
    ),
    (
        "keywords: [电饭煲, ",
        "keywords: [电饭煲, 烧水壶, ",
        f"{RICE_LABEL}: keyword '烧水壶' already belongs to entry 1 (code 'electric_kettle')",
    ),
    (
        "  - code: rice_cooker\n",
        "  - code: Rice Cooker\n",
        "categories.yaml: entry 6 (code 'Rice Cooker'): code must be lower_snake_case, got 'Rice Cooker'",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    CATEGORY_CASES,
    ids=[c[2].split(": ", 2)[2][:40] for c in CATEGORY_CASES],
)
def test_category_mistakes_are_named(data: Path, old: str, new: str, message: str) -> None:
    if old.startswith("  - code: rice_cooker"):
        edit(data, "categories.yaml", old, new)
    else:
        _in_rice_cooker(data, old, new)
    errors = errors_of(data)
    assert any(e.startswith(message) for e in errors), errors


def test_keywords_compare_by_normalised_form(data: Path) -> None:
    _in_rice_cooker(data, "keywords: [电饭煲, ", "keywords: [电饭煲, Electric  Kettle, ")
    assert any(
        "keyword 'Electric  Kettle' already belongs to entry 1" in e for e in errors_of(data)
    )


def test_non_ccc_category_cannot_name_a_catalogue_item(data: Path) -> None:
    edit(
        data,
        "categories.yaml",
        "    is_ccc_required: false\n    ccc_catalogue_item: null\n    ccc_required_from: null\n"
        "    standards:\n      - {code: GB 31701-2015",
        "    is_ccc_required: false\n    ccc_catalogue_item: 玩具：童装\n    ccc_required_from: null\n"
        "    standards:\n      - {code: GB 31701-2015",
    )
    assert any(
        e == "categories.yaml: entry 16 (code 'children_clothing'): ccc_catalogue_item and "
        "ccc_required_from must be null when is_ccc_required is false"
        for e in errors_of(data)
    )


def test_duplicate_keys_name_both_entries(data: Path) -> None:
    edit(data, "categories.yaml", "  - code: hair_dryer\n", "  - code: electric_kettle\n")
    errors = errors_of(data)
    assert (
        "categories.yaml: entry 2 (code 'electric_kettle'): duplicate code, first used by entry 1"
        in errors
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'version: "2025.1"\n',
            "version: 2025.1\n",
            'categories.yaml: version must be a quoted string such as "2025.1", got 2025.1',
        ),
        (
            'version: "2025.1"\n',
            "",
            "categories.yaml: 'version' is required at the top of the file",
        ),
        (
            'version: "2025.1"\n',
            'version: "2025.1"\nowner: ecqm\n',
            "categories.yaml: unknown top-level key 'owner'",
        ),
        ("categories:\n", "category:\n", "categories.yaml: unknown top-level key 'category'"),
        (
            "  - code: hair_dryer\n",
            "  - code: hair_dryer\n   name_zh: [\n",
            "categories.yaml: not valid YAML:",
        ),
    ],
)
def test_file_level_mistakes(data: Path, old: str, new: str, message: str) -> None:
    edit(data, "categories.yaml", old, new)
    errors = errors_of(data)
    assert any(e.startswith(message) for e in errors), errors


def test_a_missing_file_is_reported(data: Path) -> None:
    (data / "labs.yaml").unlink()
    assert f"labs.yaml: file not found in {data}" in errors_of(data)


def _term_entry(folder: Path, term: str) -> int:
    """The entry number (from 1) of ``term`` in banned_terms.yaml."""
    lines = (folder / "banned_terms.yaml").read_text(encoding="utf-8").splitlines()
    starts = [line for line in lines if line.startswith("  - term:")]
    return starts.index(f"  - term: {term}") + 1


TERM_CASES = [
    (
        "    pattern: '最(?![后近初终迟晚早])'\n",
        "    pattern: '最(?![后近'\n",
        "banned_terms.yaml: entry {最} (term '最'): pattern is not a valid regular expression",
    ),
    (
        "    pattern: '绝对(?!值|零度|湿度|误差|坐标|压力)'\n",
        "    pattern: '绝不'\n",
        "banned_terms.yaml: entry {绝对} (term '绝对'): pattern '绝不' does not match the term itself",
    ),
    (
        "      - '特效(?:灯|光|镜头|滤镜|妆|化妆|模式|道具)'\n",
        "      - '特效(?:灯|光'\n",
        "banned_terms.yaml: entry {特效} (term '特效'): exemption_patterns[8] is not a valid regular expression",
    ),
    (
        "  - term: 根治\n    term_class: medical_claim\n",
        "  - term: 根治\n    term_class: medicine\n",
        "banned_terms.yaml: entry {根治} (term '根治'): term_class must be one of absolute, national_authority",
    ),
    (
        "  - term: 根治\n    term_class: medical_claim\n    legal_basis: 《广告法》第十七条\n    severity: high\n",
        "  - term: 根治\n    term_class: medical_claim\n    legal_basis: 《广告法》第十七条\n    severity: severe\n",
        "banned_terms.yaml: entry {根治} (term '根治'): severity must be one of high, medium, low, got 'severe'",
    ),
    (
        "  - term: 特级\n",
        "  - term: BEST\n",
        "banned_terms.yaml: entry {特级} (term 'BEST'): duplicate term, first used by entry {best}",
    ),
    (
        "    note: 疾病治疗功效\n",
        "    note: |\n      疾病治疗功效\n      第二行\n",
        "banned_terms.yaml: entry {根治} (term '根治'): note must be one line",
    ),
    (
        "  standard_refs: &standard_refs\n    - '最新(?:版)?(?:国家标准|国标|行业标准|标准)'\n",
        "  standard_refs: &standard_refs\n    - '最新(?:版'\n",
        "banned_terms.yaml: exemption_sets.standard_refs[1] is not a valid regular expression",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "message"), TERM_CASES, ids=[c[2].split(": ", 2)[-1][:40] for c in TERM_CASES]
)
def test_banned_term_mistakes_are_named(data: Path, old: str, new: str, message: str) -> None:
    entries = {t: _term_entry(data, t) for t in ("最", "绝对", "特效", "根治", "特级", "best")}
    message = message.format(**entries)
    edit(data, "banned_terms.yaml", old, new)
    errors = errors_of(data)
    assert any(e.startswith(message) for e in errors), errors


def test_exemption_sets_are_flattened_into_each_term() -> None:
    terms = {t.term: t for t in read_reference().banned_terms}
    exemptions = terms["最佳"].exemption_patterns
    assert all(isinstance(p, str) for p in exemptions)
    assert any(p.startswith("最佳(?:食用") for p in exemptions)
    assert len(set(exemptions)) == len(exemptions)


REGION_CASES = [
    (
        '  - {code: "330782", name: 义乌市, level: county, parent_code: "330700",',
        '  - {code: "330782", name: 义乌市, level: county, parent_code: "339900",',
        "regions.yaml: entry {i} (code '330782'): parent_code '339900' is not a region in this file",
    ),
    (
        '  - {code: "330782", name: 义乌市, level: county, parent_code: "330700",',
        '  - {code: "330782", name: 义乌市, level: county, parent_code: "330100",',
        "regions.yaml: entry {i} (code '330782'): code does not start with its parent's '3301'",
    ),
    (
        '  - {code: "330782", name: 义乌市, level: county, parent_code: "330700",',
        '  - {code: "330782", name: 义乌市, level: county, parent_code: null,',
        "regions.yaml: entry {i} (code '330782'): parent_code is required, got null",
    ),
    (
        '  - {code: "330782", name: 义乌市, level: county,',
        '  - {code: "330782", name: 义乌市, level: town,',
        "regions.yaml: entry {i} (code '330782'): level must be one of province, city, county, got 'town'",
    ),
    (
        '  - {code: "330782", name: 义乌市,',
        '  - {code: "33078", name: 义乌市,',
        "regions.yaml: entry {i} (code '33078'): code must be a 6-digit administrative code",
    ),
    (
        "notify_email: yiwu.regulator@notify.example}",
        "notify_email: yiwu.regulator}",
        "regions.yaml: entry {i} (code '330782'): notify_email must be an e-mail address, got 'yiwu.regulator'",
    ),
    (
        '  - {code: "330000", name: 浙江省, level: province, parent_code: null,',
        '  - {code: "330000", name: 浙江省, level: province, parent_code: "110000",',
        "regions.yaml: entry 11 (code '330000'): parent_code must be null for a province",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    REGION_CASES,
    ids=[c[2].split(": ", 2)[-1][:40] for c in REGION_CASES],
)
def test_region_mistakes_are_named(data: Path, old: str, new: str, message: str) -> None:
    entry = _entry_number(data / "regions.yaml", '"330782"')
    edit(data, "regions.yaml", old, new)
    errors = errors_of(data)
    assert any(e.startswith(message.format(i=entry)) for e in errors), errors


def _entry_number(path: Path, needle: str) -> int:
    """The entry number (from 1) of the one-line entry that contains ``needle``."""
    lines = [
        line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("  - ")
    ]
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


LAB_CASES = [
    (
        '    region_code: "330782"\n',
        '    region_code: "330799"\n',
        "labs.yaml: entry 3 (code 'lab_yw_chouling'): region_code '330799' is not a region in regions.yaml",
    ),
    (
        "    category_codes: [ceramic_tableware, stainless_cookware, thermos_cup, plastic_food_container]\n",
        "    category_codes: [ceramic_tableware, glassware]\n",
        "labs.yaml: entry 11 (code 'lab_cz_cilan'): category_codes: 'glassware' is not a category in categories.yaml",
    ),
    (
        "    accreditation_no: CNAS L90105\n",
        "    accreditation_no: L90105\n",
        "labs.yaml: entry 5 (code 'lab_sz_penglan'): accreditation_no must be a CNAS number like 'CNAS L1234', got 'L90105'",
    ),
    (
        "    accreditation_no: CNAS L90105\n",
        "    accreditation_no: CNAS L90104\n",
        "labs.yaml: entry 5 (accreditation_no 'CNAS L90104'): duplicate accreditation_no, first used by entry 4",
    ),
    (
        "    monthly_capacity: 60\n",
        "    monthly_capacity: 0\n",
        "labs.yaml: entry 6 (code 'lab_nj_zhongcen'): monthly_capacity must be a positive integer, got 0",
    ),
    (
        "    category_codes: [skin_cream, sunscreen, hair_dye, lipstick]\n",
        "    category_codes: []\n",
        "labs.yaml: entry 7 (code 'lab_gz_suiyan'): category_codes must have at least 1 item(s), got 0",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "message"), LAB_CASES, ids=[c[2].split(": ", 2)[-1][:40] for c in LAB_CASES]
)
def test_lab_mistakes_are_named(data: Path, old: str, new: str, message: str) -> None:
    edit(data, "labs.yaml", old, new)
    errors = errors_of(data)
    assert any(e.startswith(message) for e in errors), errors


def test_all_problems_of_all_files_are_reported_together(data: Path) -> None:
    _in_rice_cooker(data, "    sample_units: 2\n", "    sample_units: 0\n")
    edit(data, "labs.yaml", "    monthly_capacity: 60\n", "    monthly_capacity: 0\n")
    edit(data, "banned_terms.yaml", "  - term: 特级\n", "  - term: BEST\n")
    errors = errors_of(data)
    assert [e.split(":")[0] for e in errors] == [
        "categories.yaml",
        "banned_terms.yaml",
        "labs.yaml",
    ]


def test_broken_regions_do_not_flood_labs_with_reference_errors(data: Path) -> None:
    edit(
        data,
        "regions.yaml",
        '  - {code: "330000", name: 浙江省, level: province, parent_code: null,',
        '  - {code: "330000", name: 浙江省, level: state, parent_code: null,',
    )
    errors = errors_of(data)
    assert all(not e.startswith("labs.yaml") for e in errors), errors


def test_a_category_without_a_lab_is_a_warning(data: Path) -> None:
    edit(
        data,
        "labs.yaml",
        "    category_codes: [skin_cream, sunscreen, hair_dye, lipstick]\n",
        "    category_codes: [skin_cream, sunscreen, hair_dye]\n",
    )
    edit(
        data,
        "labs.yaml",
        "    category_codes: [skin_cream, sunscreen, hair_dye, lipstick, baby_bottle,\n",
        "    category_codes: [skin_cream, sunscreen, hair_dye, baby_bottle,\n",
    )
    reference = read_reference(data)
    assert reference.warnings == ("labs.yaml: no lab tests category 'lipstick' (口红)",)


def test_check_command_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0
    out = capsys.readouterr().out
    for name in ("categories.yaml", "banned_terms.yaml", "regions.yaml", "labs.yaml"):
        assert name in out
    assert "41 categories" in out and "31 provinces" in out and "covering 41/41 categories" in out


def test_check_command_fails_with_the_errors(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _in_rice_cooker(data, "    sample_units: 2\n", "    sample_units: 0\n")
    assert main(["--check", "--data-dir", str(data)]) == 1
    err = capsys.readouterr().err
    assert f"{RICE_LABEL}: sample_units must be a positive integer, got 0" in err


def test_check_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "transforms.reference.load", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
    assert "RuntimeWarning" not in result.stderr
