"""``ecqm score-reviews``: encodings, quoting, errors, row counts and streaming."""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from risk_models.text.cli import (
    OUTPUT_COLUMNS,
    ColumnNotFoundError,
    CsvInputError,
    main,
    register,
    score_csv,
)

ROWS = [
    ["id", "商品", "评价内容", "星级"],
    ["1", "电水壶", "用了三天就冒烟了，\n吓死我了", "1"],  # quoted, two lines
    ["2", "电水壶", "", "5"],  # no text
    ["3", "插线板", '快递太慢了，"包装"都压坏了', "1"],  # quotes inside
    ["4", "毛绒玩具", "不漏电，没有异味，孩子很喜欢", "5"],
    ["5", "吹风机", "電線漏電，太危險", "1"],  # Traditional
]


def write_csv(path: Path, rows: list[list[str]], encoding: str, bom: bool = False) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def read_out(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize(
    ("encoding", "bom", "detected"),
    [("utf-8", True, "utf-8"), ("utf-8", False, "utf-8"), ("gbk", False, "gb18030")],
)
def test_scores_every_row_keeping_the_columns(
    tmp_path: Path, scorer, encoding: str, bom: bool, detected: str
) -> None:
    src = write_csv(tmp_path / "in.csv", ROWS, encoding, bom)
    out = tmp_path / "out.csv"
    report = score_csv(src, out, "评价内容", scorer=scorer, batch_size=2)
    rows = read_out(out)
    assert rows[0] == [*ROWS[0], *OUTPUT_COLUMNS]
    assert len(rows) == len(ROWS)
    for original, scored in zip(ROWS[1:], rows[1:]):
        assert scored[:4] == original  # the multi-line field and the quotes survive
    assert rows[1][6] == "fire"
    assert rows[2][4:] == ["", "", ""]  # no text: empty scores, row kept
    assert rows[3][6] == "none" and float(rows[3][5]) < 0.1  # delivery only
    assert rows[4][6] == "none"
    assert rows[5][6] == "electric_shock"
    for row in (rows[1], rows[3], rows[4], rows[5]):
        assert len(row[4].split(".")[1]) == 4 and 0 <= float(row[4]) <= 1
    assert (report.rows, report.scored, report.empty_text) == (5, 4, 1)
    assert report.empty_text_lines == [4]  # row 1 takes lines 2 and 3
    assert report.encoding == detected
    assert report.model_version == scorer.version


def test_command_line_gbk_to_stdout(tmp_path: Path, model_path: Path, capsys) -> None:
    src = write_csv(tmp_path / "gbk.csv", ROWS, "gbk")
    code = main([str(src), "--text-column", "评价内容", "--model", str(model_path)])
    captured = capsys.readouterr()
    assert code == 0
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert len(rows) == len(ROWS)
    assert rows[0][-3:] == list(OUTPUT_COLUMNS)
    assert "1 row(s) had no text" in captured.err and "line 4" in captured.err
    assert "gb18030" in captured.err


def test_missing_column(tmp_path: Path, model_path: Path, capsys) -> None:
    src = write_csv(tmp_path / "in.csv", ROWS, "utf-8")
    code = main([str(src), "--text-column", "content", "--model", str(model_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "'content'" in err and "'评价内容'" in err and "'星级'" in err
    with pytest.raises(ColumnNotFoundError) as info:
        score_csv(src, io.StringIO(), "content")  # fails before any model is needed
    assert info.value.found == ROWS[0]


def test_a_header_name_with_spaces_still_matches(tmp_path: Path, scorer) -> None:
    src = write_csv(tmp_path / "in.csv", [["id", " text "], ["1", "漏电"]], "utf-8")
    out = io.StringIO()
    score_csv(src, out, "text", scorer=scorer)
    assert out.getvalue().splitlines()[1].endswith("electric_shock")


def test_undecodable_bytes_name_the_line(tmp_path: Path, model_path: Path, capsys) -> None:
    good = "id,text\n1,很好用\n2,不错\n".encode()
    bad = "3,漏电了\n".encode("gbk")
    src = tmp_path / "mixed.csv"
    src.write_bytes(good + bad)  # UTF-8 chosen from line 2, GBK bytes on line 4
    code = main([str(src), "--text-column", "text", "--model", str(model_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "line 4" in err and "not valid utf-8" in err


def test_ascii_lines_leave_the_encoding_open(tmp_path: Path, scorer) -> None:
    rows = [["id", "text"]] + [[str(i), "ok"] for i in range(50)] + [["51", "漏电了"]]
    src = write_csv(tmp_path / "late.csv", rows, "gbk")
    out = io.StringIO()
    report = score_csv(src, out, "text", scorer=scorer)
    assert report.encoding == "gb18030"
    assert out.getvalue().splitlines()[-1].endswith("electric_shock")


def test_explicit_encoding_against_a_bom(tmp_path: Path, scorer) -> None:
    src = write_csv(tmp_path / "bom.csv", ROWS, "utf-8", bom=True)
    with pytest.raises(CsvInputError, match="byte-order mark"):
        score_csv(src, io.StringIO(), "评价内容", encoding="gbk", scorer=scorer)
    out = io.StringIO()
    score_csv(src, out, "评价内容", encoding="utf-8", scorer=scorer)
    assert out.getvalue().startswith("id,")  # no BOM carried into the header


def test_short_rows_are_padded_and_long_rows_refused(tmp_path: Path, scorer) -> None:
    src = tmp_path / "ragged.csv"
    src.write_text("id,text,stars\n1,漏电了\n\n2,很好用,5\n", encoding="utf-8")
    out = io.StringIO()
    report = score_csv(src, out, "text", scorer=scorer)
    lines = out.getvalue().splitlines()
    assert lines[1] == f"1,漏电了,,{lines[1].split(',', 3)[3]}"
    assert lines[1].endswith("electric_shock")
    assert (report.rows, report.blank_lines) == (2, 1)
    src.write_text("id,text\n1,漏电了,extra,fields\n", encoding="utf-8")
    with pytest.raises(CsvInputError, match="line 2: 4 fields but the header has 2"):
        score_csv(src, io.StringIO(), "text", scorer=scorer)


def test_empty_input_and_existing_output_columns(tmp_path: Path, scorer) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CsvInputError, match="no header"):
        score_csv(empty, io.StringIO(), "text", scorer=scorer)
    scored = tmp_path / "scored.csv"
    scored.write_text("text,hazard\n漏电,fire\n", encoding="utf-8")
    with pytest.raises(CsvInputError, match="already has the output column"):
        score_csv(scored, io.StringIO(), "text", scorer=scorer)


def test_a_failed_run_leaves_the_old_output(tmp_path: Path, scorer) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous\n", encoding="utf-8")
    src = tmp_path / "bad.csv"
    src.write_bytes(b"id,text\n1,\xff\xfe\n")
    with pytest.raises(CsvInputError):
        score_csv(src, out, "text", scorer=scorer)
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "out.csv"]


def test_usage_errors(tmp_path: Path, model_path: Path, capsys) -> None:
    assert main([str(tmp_path / "nope.csv"), "--text-column", "t"]) == 2
    assert "no such file" in capsys.readouterr().err
    src = write_csv(tmp_path / "in.csv", ROWS, "utf-8")
    bad_model = tmp_path / "model.joblib"
    bad_model.write_bytes(b"junk")
    assert main([str(src), "--text-column", "评价内容", "--model", str(bad_model)]) == 2
    assert "cannot load the model" in capsys.readouterr().err
    assert main([str(src), "--text-column", "评价内容", "--batch-size", "0"]) == 2


def test_registers_as_an_ecqm_subcommand(tmp_path: Path, model_path: Path) -> None:
    parser = argparse.ArgumentParser(prog="ecqm")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    src = write_csv(tmp_path / "in.csv", ROWS, "gbk")
    out = tmp_path / "out.csv"
    args = parser.parse_args(
        [
            "score-reviews",
            str(src),
            "--text-column",
            "评价内容",
            "--out",
            str(out),
            "--encoding",
            "gbk",
            "--model",
            str(model_path),
            "--batch-size",
            "3",
        ]
    )
    assert args.func(args) == 0
    assert len(read_out(out)) == len(ROWS)


def _peak_mib_scoring(model_path: Path, src: Path, out: Path) -> tuple[int, float]:
    """Rows scored and the peak resident memory (MiB) of a child process scoring ``src``."""
    script = textwrap.dedent(
        f"""
        import resource
        from risk_models.text.cli import score_csv
        from risk_models.text.model import ReviewScorer
        scorer = ReviewScorer.load({str(model_path)!r})
        report = score_csv({str(src)!r}, {str(out)!r}, "text", scorer=scorer)
        print(report.scored, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=True
    )
    scored, peak_kib = map(int, result.stdout.split())
    return scored, peak_kib / 1024


def test_streams_a_large_file_in_bounded_memory(tmp_path: Path, model_path: Path, heldout) -> None:
    """10,000 and 200,000 rows in child processes: the peak memory must not grow with the
    file. Measured: both peaks within 1 MiB of each other, while reading the 200,000 rows
    whole and scoring them at once peaks about 1 GiB higher than for 20,000."""
    texts = [t.replace("\n", " ") for t in heldout.texts[:997]]
    peaks = {}
    for n in (10_000, 200_000):
        src = tmp_path / f"rows{n}.csv"
        with open(src, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "text", "rating"])
            writer.writerows([i, texts[i % len(texts)], 1 + i % 5] for i in range(n))
        out = tmp_path / f"out{n}.csv"
        scored, peaks[n] = _peak_mib_scoring(model_path, src, out)
        assert scored == n
        with open(out, encoding="utf-8", newline="") as fh:
            assert sum(1 for _ in csv.reader(fh)) == n + 1
    growth = peaks[200_000] - peaks[10_000]
    assert growth < 40, f"peak memory {peaks}: grows with the file"
