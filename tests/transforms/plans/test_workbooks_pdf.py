"""The plan workbooks open in LibreOffice (what many monitoring centres use instead of
Excel) and print: each converts headless to a PDF with a page for every sheet and the
Chinese headers and task ids in its text.

Needs ``soffice`` (libreoffice-calc) and ``pdftotext`` (poppler-utils), which
``scripts/ensure-system-packages`` installs. Without them the test is skipped, except
where CI or ``ECQM_TEST_POSTGRES_REQUIRED`` is set: there it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from plans_world import HOSTILE_TITLE, build
from test_plans_make import PLAN

from transforms.plans import make_plan
from transforms.plans.workbooks import BUYER_COLUMNS, BUYERS_FILE, LAB_COLUMNS

SOFFICE_TIMEOUT = 240


def _tool(name: str, package: str) -> str:
    """The path of command ``name``; skips, or in CI fails, when it is missing."""
    found = shutil.which(name)
    if found:
        return found
    reason = f"{name} not found: install {package} (scripts/ensure-system-packages)"
    if os.environ.get("CI") or os.environ.get("ECQM_TEST_POSTGRES_REQUIRED"):
        pytest.fail(f"{reason}; it is required here (CI or ECQM_TEST_POSTGRES_REQUIRED is set)")
    pytest.skip(reason)


def _to_pdf(soffice: str, files: list[Path], tmp_path: Path) -> Path:
    """Convert ``files`` in one headless LibreOffice run with a profile of its own, so
    that parallel runs and a desktop LibreOffice of the same user do not clash."""
    outdir = tmp_path / "pdf"
    outdir.mkdir()
    profile = (tmp_path / "lo-profile").as_uri()
    command = [
        soffice,
        f"-env:UserInstallation={profile}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        "pdf",
        "--outdir",
        str(outdir),
        *map(str, files),
    ]
    env = {**os.environ, "HOME": str(tmp_path), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    # soffice is a launcher script: a session of its own lets a timeout end the office
    # process it starts too.
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=SOFFICE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"soffice did not finish in {SOFFICE_TIMEOUT} s:\n{out}\n{err}")
    assert proc.returncode == 0, f"soffice exited {proc.returncode}:\n{out}\n{err}"
    return outdir


def _pages(pdftotext: str, pdf: Path) -> list[str]:
    """The text of each page, whitespace removed (cells wrap and columns are spaced)."""
    result = subprocess.run(
        [pdftotext, "-enc", "UTF-8", "-layout", str(pdf), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    pages = result.stdout.decode("utf-8").split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return ["".join(page.split()) for page in pages]


@pytest.fixture
def world(warehouse_engine):
    with warehouse_engine.begin() as conn:
        return build(conn)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the files, not the SQL
def test_workbooks_convert_to_pdf_in_libreoffice(warehouse_engine, world, tmp_path):
    soffice = _tool("soffice", "libreoffice-calc")
    pdftotext = _tool("pdftotext", "poppler-utils")
    report = make_plan(warehouse_engine, home=tmp_path, **PLAN)
    files = sorted(Path(f) for f in report.files)
    assert any(f.name == BUYERS_FILE for f in files) and len(files) > 1

    outdir = _to_pdf(soffice, files, tmp_path)

    assert sorted(p.name for p in outdir.iterdir()) == sorted(f.stem + ".pdf" for f in files)
    for xlsx in files:
        pdf = outdir / f"{xlsx.stem}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF-"), pdf.name
        pages = _pages(pdftotext, pdf)
        wb = load_workbook(xlsx, read_only=True)
        sheets = {ws.title: [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] for ws in wb}
        wb.close()
        headers = BUYER_COLUMNS if xlsx.name == BUYERS_FILE else LAB_COLUMNS
        assert len(pages) >= len(sheets), (pdf.name, len(pages), list(sheets))
        # Landscape, fitted to the page width, the header row repeated: every page shows
        # every column's header, so no column is cut off onto a page of its own.
        for page in pages:
            assert all("".join(h.split()) in page for h in headers), (pdf.name, page[:80])
        text = "".join(pages)
        # The Chinese headers survive as text (fonts embedded with their Unicode map).
        for header in headers:
            assert "".join(header.split()) in text, (pdf.name, header)
        # Each sheet starts a page of its own, headed, with its first task on it.
        for title, task_ids in sheets.items():
            assert task_ids, (pdf.name, title)
            assert any("任务编号" in page and task_ids[0] in page for page in pages), (
                pdf.name,
                title,
            )
            for task_id in task_ids:
                assert task_id in text, (pdf.name, title, task_id)
        if xlsx.name == BUYERS_FILE:
            # Formula-like marketplace text prints as the text it is.
            assert "".join(HOSTILE_TITLE.split()) in text
