"""The monthly report on a small month counted by hand, on SQLite and PostgreSQL: the
files, every chart with its numbers, an empty month, hostile names, the same bytes on a
second run, and no personal data in the report or in any mart."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import lxml.html
import pytest
from openpyxl import load_workbook
from review_world import (
    FORMULA,
    NOW,
    SCRIPT,
    TEMPLATE,
    add_report_world,
    build_month,
    plant_hostile_names,
    plant_personal_data,
)
from sqlalchemy import inspect, select, text, update

from ecqm.warehouse.schema import evaluations, kpi_snapshots
from transforms.review.charts import PALETTE
from transforms.review.report import check_month, report_paths, write_report

CHARTS = {
    "risk-level",
    "risk-category",
    "signals-channel",
    "plan-execution",
    "hit-rate",
    "market-estimate",
    "fail-by-level",
    "regions",
    "timeliness",
    "notifications",
    "data-quality",
    "trend-detection",
    "trend-loop",
    "trend-risk",
}
SHAPES = ".//rect | .//circle | .//line | .//polyline | .//path"


@pytest.fixture
def world(warehouse_engine):
    return add_report_world(build_month(warehouse_engine))


def _figures(html: str) -> dict[str, lxml.html.HtmlElement]:
    doc = lxml.html.document_fromstring(html)
    figures = doc.xpath("//figure[@data-chart]")
    ids = [f.get("data-chart") for f in figures]
    assert len(ids) == len(set(ids)), ids
    return dict(zip(ids, figures, strict=True))


def _caption(figure) -> str:
    return figure.find("figcaption").text_content()


def _rows(figure) -> list[tuple[str, ...]]:
    return [
        tuple(c.text_content().strip() for c in tr.xpath("./th | ./td"))
        for tr in figure.xpath(".//table/tbody/tr")
    ]


def _xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def test_the_files_and_every_chart(world, tmp_path):
    files = write_report(world, "2026-11", tmp_path / "outbox", NOW)
    assert files == report_paths(tmp_path / "outbox", "2026-11")
    assert files.html == tmp_path / "outbox" / "reports" / "2026-11" / "监测月报_2026-11.html"
    assert files.xlsx.name == "监测月报_2026-11.xlsx" and files.xlsx.exists()
    html = files.html.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in html
    # Self-contained: nothing to fetch and nothing to run.
    for needle in ("http://", "https://", "<script", "<link", "src=", "url(", "@import"):
        assert needle not in html, needle
    figures = _figures(html)
    assert set(figures) == CHARTS
    for chart_id, figure in figures.items():
        assert figure.getchildren()[0].tag == "figcaption", chart_id
        (svg,) = figure.xpath(".//svg")
        assert svg.get("role") == "img" and svg.get("aria-label"), chart_id
        assert svg.xpath(SHAPES), chart_id
        assert not figure.xpath(".//span[@class='nodata']"), chart_id
    assert "2026年11月" in html
    # The only time: when the month's indicators were computed, in Beijing time.
    assert "2026-12-01 10:00" in html
    assert "含模拟数据" not in html
    # The snapshot was computed because the month had none.
    with world.connect() as conn:
        stamps = set(
            conn.execute(
                select(kpi_snapshots.c.computed_at).where(
                    kpi_snapshots.c.period_start == dt.date(2026, 11, 1)
                )
            ).scalars()
        )
    assert stamps == {NOW}


def test_the_numbers_in_captions_and_tables(world, tmp_path):
    html = write_report(world, "2026-11", tmp_path, NOW).html.read_text(encoding="utf-8")
    f = _figures(html)
    assert "共 5 个" in _caption(f["risk-level"])
    assert _rows(f["risk-level"]) == [
        ("高风险", "2", "40.0%"),
        ("较高风险", "0", "0.0%"),
        ("一般风险", "1", "20.0%"),
        ("低风险", "2", "40.0%"),
    ]
    assert _rows(f["risk-category"]) == [
        ("充电宝", "1", "0", "1", "2", "4"),
        ("毛绒玩具", "1", "0", "0", "0", "1"),
    ]
    assert "共 3 条" in _caption(f["signals-channel"])
    assert ("主动监测", "2") in _rows(f["signals-channel"])
    assert "计划执行率 80.0%（4/5）" in _caption(f["plan-execution"])
    assert _rows(f["plan-execution"]) == [
        ("plan-2026-11", "定向监测", "2", "2", "100.0%", "1", "50.0%"),
        ("plan-2026-11", "随机监测（审计）", "3", "2", "66.7%", "1", "50.0%"),
    ]
    hit = _caption(f["hit-rate"])
    assert "定向监测检出率 50.0%（1/2）" in hit and "定向提升倍数 1.00 倍" in hit
    assert "全部品类估计 31.0%（5.0%–70.0%）" in _caption(f["market-estimate"])
    assert _rows(f["market-estimate"]) == [
        ("全部品类", "3", "1", "31.0%（5.0%–70.0%）", "2", "1"),
        ("充电宝", "2", "1", "45.0%（10.0%–90.0%）", "1", "0"),
        ("毛绒玩具", "1", "0", "0.0%（0.0%–60.0%）", "1", "0"),
    ]
    # One whisker (line and two caps) and one dot per category.
    assert len(f["market-estimate"].xpath(".//svg//circle")) == 3
    assert "Brier 分数 0.3481" in _caption(f["fail-by-level"])
    assert _rows(f["fail-by-level"])[1] == ("较高风险", "0", "0", "—")
    # Most risky products and failures first (a tie: more results first); unknown last.
    assert _rows(f["regions"]) == [
        ("浙江省", "1", "2", "1"),
        ("广东省", "2", "1", "0"),
        ("未知地区", "0", "1", "1"),
    ]
    timing = _caption(f["timeliness"])
    assert "风险信号到检验结果 中位数 23.0 天（2 批）" in timing
    assert "中位数 3.0 天（1 批）" in timing and "处置率 50.0%（1/2）" in timing
    assert "通知回执率 50.0%（1/2）" in _caption(f["notifications"])
    assert _rows(f["notifications"]) == [
        ("检验结果告知书", "3", "2", "0", "0", "1", "0", "0", "—"),
        ("不合格产品下架处置通知", "2", "2", "0", "0", "0", "2", "1", "50.0%"),
    ]
    assert "通过率 75.0%（3/4）" in _caption(f["data-quality"])
    assert ("reviews", "2", "1", "50.0%") in _rows(f["data-quality"])
    assert "多次抽检不合格" in html  # the credit section, counts by rule


def test_trends_leave_months_without_a_snapshot_empty(world, tmp_path):
    html = write_report(world, "2026-11", tmp_path, NOW).html.read_text(encoding="utf-8")
    figure = _figures(html)["trend-detection"]
    rows = {r[0]: r[1:] for r in _rows(figure)}
    # From the first month with a snapshot (August), but at least six months.
    assert list(rows) == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert rows["2026-08"] == ("40.0%", "10.0%", "—", "有")
    assert rows["2026-09"] == ("—", "—", "—", "无")
    assert rows["2026-11"] == ("50.0%", "50.0%", "31.0%", "有")
    # The targeted line is broken at September: August is a lone dot, October–November
    # one line. A zero would have joined them.
    targeted = [
        p.get("points").split()
        for p in figure.xpath(".//polyline")
        if p.get("stroke") == PALETTE[0]
    ]
    assert [len(points) for points in targeted] == [2]
    dots = [c for c in figure.xpath(".//circle") if c.get("stroke") == PALETTE[0]]
    assert len(dots) == 3


def test_the_workbook(world, tmp_path):
    files = write_report(world, "2026-11", tmp_path, NOW)
    wb = load_workbook(files.xlsx)
    assert wb.sheetnames == [
        "指标",
        "风险级别×品类",
        "计划执行与检出",
        "市场不合格率估计",
        "通知状态",
        "地区分布",
        "趋势",
        "诚信名单",
    ]
    rows = {r[0]: r for r in wb["指标"].iter_rows(min_row=2, values_only=True) if r[2] == "总体"}
    assert rows["plan_execution"][1] == "监测计划执行率"
    assert rows["plan_execution"][4:7] == (pytest.approx(0.8), 4, 5)
    assert wb["指标"]["A1"].value == "指标代码"
    market = list(wb["市场不合格率估计"].iter_rows(min_row=2, max_row=2, values_only=True))[0]
    assert market[:8] == ("plan-2026-11", "*", "全部品类", 3, 1, 0.31, 0.05, 0.7)
    assert wb["市场不合格率估计"]["F2"].number_format == "0.0%"
    regions = list(wb["地区分布"].iter_rows(min_row=2, values_only=True))
    assert regions[0] == ("330000", "浙江省", 1, 2, 1)
    assert regions[-1] == (None, "未知地区", 0, 1, 1)
    credit = list(wb["诚信名单"].iter_rows(min_row=2, values_only=True))
    assert ("黑名单", "repeat_failure", "多次抽检不合格", 1, 1) in credit
    assert wb.properties.created == wb.properties.modified == dt.datetime(2026, 12, 1, 2, 0)


def test_an_empty_month_still_renders(warehouse_engine, tmp_path):
    files = write_report(warehouse_engine, "2026-11", tmp_path, NOW)
    html = files.html.read_text(encoding="utf-8")
    figures = _figures(html)
    assert set(figures) == CHARTS
    for chart_id, figure in figures.items():
        assert figure.xpath(".//span[@class='nodata']"), chart_id
        (svg,) = figure.xpath(".//svg")
        assert svg.get("role") == "img" and "无数据" in svg.get("aria-label"), chart_id
    assert "本月无监测计划" in html and 'id="credit"' not in html
    wb = load_workbook(files.xlsx)
    assert "诚信名单" not in wb.sheetnames
    assert wb["计划执行与检出"].max_row == 1


def test_hostile_names_are_escaped(world, tmp_path):
    plant_hostile_names(world)
    files = write_report(world, "2026-11", tmp_path, NOW)
    html = files.html.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Text, never template source: the braces come out as they went in.
    assert TEMPLATE in html and "{{ 7*7 }}" in html
    doc = lxml.html.document_fromstring(html)
    assert not doc.xpath("//script")
    labels = [c.text_content() for c in _figures(html)["risk-category"].xpath(".//tbody/tr/th")]
    assert SCRIPT in labels and FORMULA in labels
    # In the workbook the formula-looking name is a plain string.
    ws = load_workbook(files.xlsx)["风险级别×品类"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value == FORMULA]
    assert cells and all(c.data_type == "s" for c in cells)


def test_the_same_month_and_data_give_the_same_bytes(world, tmp_path, monkeypatch):
    first = write_report(world, "2026-11", tmp_path, NOW)
    html, xlsx = first.html.read_bytes(), first.xlsx.read_bytes()
    # Later, with another clock: the snapshot exists, nothing in the files moves.
    import time

    later = time.time() + 3 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    again = write_report(world, "2026-11", tmp_path, NOW + dt.timedelta(days=3))
    assert again.html.read_bytes() == html
    assert again.xlsx.read_bytes() == xlsx
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 12, 1, 10, 0, 0)}
    # Written whole: nothing else is left in the folder.
    assert sorted(p.name for p in first.html.parent.iterdir()) == [
        "监测月报_2026-11.html",
        "监测月报_2026-11.xlsx",
    ]


def test_simulated_results_are_marked(world, tmp_path):
    with world.begin() as conn:
        conn.execute(
            update(evaluations)
            .where(evaluations.c.report_number == "R2")
            .values(report_number="SIM-LAB1-0000000001")
        )
    html = write_report(world, "2026-11", tmp_path, NOW).html.read_text(encoding="utf-8")
    assert "含模拟数据" in html and "1 份检验报告来自模拟实验室" in html


def test_no_personal_data_in_the_report_or_the_marts(world, tmp_path):
    planted = plant_personal_data(world)
    files = write_report(world, "2026-11", tmp_path, NOW)
    html = files.html.read_text(encoding="utf-8")
    workbook = _xlsx_text(files.xlsx)
    # The planted data is there to be found: the shop counts in 浙江省, the notice and
    # the black listing are counted.
    assert "浙江省" in html and "unremedied_safety" in workbook
    for value in planted:
        assert value not in html, value
        assert value not in workbook, value
    views = [v for v in inspect(world).get_view_names() if v.startswith("mart_")]
    assert {"mart_risk_current", "mart_kpi_monthly"} <= set(views)
    with world.connect() as conn:
        for view in views:
            rows = conn.execute(text(f"select * from {view}")).all()
            dump = "\n".join(repr(tuple(r)) for r in rows)
            for value in planted:
                assert value not in dump, (view, value)


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "202611", "", "November"])
def test_a_bad_month_is_refused(bad, world, tmp_path):
    with pytest.raises(ValueError, match="YYYY-MM"):
        check_month(bad)
    with pytest.raises(ValueError, match="YYYY-MM"):
        write_report(world, bad, tmp_path, NOW)
    assert not (tmp_path / "reports").exists()


def test_the_command_prints_the_paths(world, tmp_path, monkeypatch, capsys):
    from ecqm.cli import main

    monkeypatch.setenv("ECQM_HOME", str(tmp_path / "home"))
    url = world.url.render_as_string(hide_password=False)
    assert main(["report", "--month", "2026-11", "--url", url]) == 0
    out = capsys.readouterr().out.split()
    outbox = tmp_path / "home" / "outbox" / "reports" / "2026-11"
    assert out == [str(outbox / "监测月报_2026-11.html"), str(outbox / "监测月报_2026-11.xlsx")]
    with pytest.raises(SystemExit) as exc:
        main(["report", "--month", "2026-13", "--url", url])
    assert exc.value.code == 2
