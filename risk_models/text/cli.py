"""``ecqm score-reviews``: score the reviews of a CSV file with the review text models.

::

    ecqm score-reviews reviews.csv --text-column 评价内容 --out scored.csv
    ecqm score-reviews export.csv --text-column content --encoding gbk > scored.csv

The file is read as a stream and written as one, a batch of rows at a time, so its
size is not limited by memory. Every row is written back with all of its columns in
their order, followed by ``negative_probability``, ``defect_probability`` (rounded to
four decimals) and ``hazard``. Output is UTF-8 (no byte-order mark) with ``\\n`` line
ends, to ``--out`` (replaced only when the whole file was scored) or standard output.

Encodings: ``auto`` (the default) takes UTF-8 when the file starts with a byte-order
mark or its first line with non-ASCII bytes is valid UTF-8, and GB18030 (a superset of
GBK and GB2312, what Chinese Excel saves as "CSV") otherwise. Bytes that do not decode
stop the run with the line number; so does a row with more fields than the header.

A row whose text is missing or empty gets empty scores; such rows are counted and
reported on standard error at the end. Blank lines are not rows and are skipped.

Exit status: 0 on success, 2 for a problem with the arguments or the input (missing
column, undecodable bytes, malformed CSV, unreadable model).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "OUTPUT_COLUMNS",
    "ColumnNotFoundError",
    "CsvInputError",
    "ScoreReport",
    "add_arguments",
    "main",
    "register",
    "run",
    "score_csv",
]

OUTPUT_COLUMNS = ("negative_probability", "defect_probability", "hazard")
USAGE_ERROR = 2
DEFAULT_BATCH = 5_000
ENCODINGS = ("auto", "utf-8", "gbk", "gb18030")
_BOM = b"\xef\xbb\xbf"
_MAX_LINES_LISTED = 20


class CsvInputError(ValueError):
    """The input cannot be scored as it is (the message names the line or column)."""


class ColumnNotFoundError(CsvInputError):
    """The text column is not in the header."""

    def __init__(self, column: str, found: list[str]) -> None:
        self.column = column
        self.found = found
        shown = ", ".join(repr(c) for c in found) if found else "none"
        super().__init__(f"no column {column!r} in the header; the columns are: {shown}")


@dataclass
class ScoreReport:
    """What :func:`score_csv` did."""

    rows: int = 0
    scored: int = 0
    empty_text: int = 0
    empty_text_lines: list[int] = field(default_factory=list)
    blank_lines: int = 0
    encoding: str = ""
    model_version: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for people."""
        rate = f", {self.rows / self.seconds:,.0f} rows/s" if self.seconds > 0 else ""
        return (
            f"scored {self.scored:,} of {self.rows:,} rows with model {self.model_version} "
            f"(input {self.encoding or 'empty'}, {self.seconds:.1f} s{rate})"
        )


class _Lines:
    """Decoded physical lines of a byte stream, with the encoding decided as it goes."""

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        if encoding not in ENCODINGS:
            raise CsvInputError(f"unknown encoding {encoding!r}; use one of {ENCODINGS}")
        self.raw = raw
        self.requested = encoding
        self.encoding: str | None = None if encoding == "auto" else encoding
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for line in self.raw:
            self.number += 1
            if self.number == 1 and line.startswith(_BOM):
                if self.requested not in ("auto", "utf-8"):
                    raise CsvInputError(
                        f"line 1: the file starts with a UTF-8 byte-order mark but "
                        f"--encoding {self.requested} was given"
                    )
                self.encoding = "utf-8"
                line = line[len(_BOM) :]
            yield self._decode(line)

    def _decode(self, line: bytes) -> str:
        if self.encoding is None:
            if line.isascii():
                return line.decode("ascii")
            for candidate in ("utf-8", "gb18030"):
                try:
                    text = line.decode(candidate)
                except UnicodeDecodeError:
                    continue
                self.encoding = candidate
                return text
            self.encoding = "utf-8"  # neither: report it as UTF-8, the usual intent
        try:
            return line.decode(self.encoding)
        except UnicodeDecodeError as exc:
            bad = line[exc.start : exc.start + 4]
            hint = (
                ""
                if self.requested != "auto"
                else "; give --encoding if auto-detection chose wrong"
            )
            raise CsvInputError(
                f"line {self.number}: bytes {bad!r} at byte {exc.start + 1} of the line are "
                f"not valid {self.encoding}{hint}"
            ) from None


def _format(value: float) -> str:
    return "" if value != value else f"{value:.4f}"  # NaN: no text, no score


def score_csv(
    src: Path | str | IO[bytes],
    dst: Path | str | IO[str],
    text_column: str,
    *,
    encoding: str = "auto",
    scorer: Any = None,
    batch_size: int = DEFAULT_BATCH,
) -> ScoreReport:
    """Score the ``text_column`` of the CSV ``src`` and write it with the scores to ``dst``.

    Parameters
    ----------
    src
        A path, or a binary file object (read as a stream).
    dst
        A path (written to a temporary file beside it and moved into place at the
        end, so a failed run leaves no half file), or a text file object.
    text_column
        Name of the column holding the review text (exact, or equal after stripping
        spaces).
    encoding
        ``auto``, ``utf-8``, ``gbk`` or ``gb18030``.
    scorer
        A :class:`~risk_models.text.model.ReviewScorer`; default
        :func:`~risk_models.text.train.default_scorer`.
    batch_size
        Rows scored at a time.

    Raises
    ------
    ColumnNotFoundError, CsvInputError
        For a missing column, undecodable bytes, a row with more fields than the header,
        or an input with no header.
    """
    if batch_size < 1:
        raise CsvInputError("batch size must be at least 1")
    started = time.perf_counter()
    if isinstance(dst, str | Path):
        target = Path(dst)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                report = score_csv(
                    src, out, text_column, encoding=encoding, scorer=scorer, batch_size=batch_size
                )
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return report
    if isinstance(src, str | Path):
        with open(src, "rb") as raw:
            return score_csv(
                raw, dst, text_column, encoding=encoding, scorer=scorer, batch_size=batch_size
            )

    lines = _Lines(src, encoding)
    reader = csv.reader(iter(lines))
    writer = csv.writer(dst, lineterminator="\n")
    try:
        header = next(reader)
    except StopIteration:
        raise CsvInputError("the input is empty: no header row") from None
    except csv.Error as exc:
        raise CsvInputError(f"line {reader.line_num}: {exc}") from None
    index = _column_index(header, text_column)
    clash = [c for c in OUTPUT_COLUMNS if c in header]
    if clash:
        raise CsvInputError(
            f"the input already has the output column(s) {clash}; rename them first"
        )
    if scorer is None:  # only now: the default model may have to be trained first
        from risk_models.text.train import default_scorer

        scorer = default_scorer()
    report = ScoreReport(model_version=scorer.version)
    writer.writerow([*header, *OUTPUT_COLUMNS])
    width = len(header)
    batch: list[list[str]] = []
    starts: list[int] = []

    def flush() -> None:
        texts = [row[index] for row in batch]
        scores = scorer.score(texts)
        neg = scores.negative_probability
        dfc = scores.defect_probability
        for i, row in enumerate(batch):
            if scores.has_text[i]:
                writer.writerow([*row, _format(neg[i]), _format(dfc[i]), scores.hazard[i]])
                report.scored += 1
            else:
                writer.writerow([*row, "", "", ""])
                report.empty_text += 1
                if len(report.empty_text_lines) < _MAX_LINES_LISTED:
                    report.empty_text_lines.append(starts[i])
        batch.clear()
        starts.clear()

    last_line = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CsvInputError(f"line {reader.line_num}: {exc}") from None
        start, last_line = last_line + 1, reader.line_num
        if not row:
            report.blank_lines += 1
            continue
        if len(row) > width:
            raise CsvInputError(
                f"line {start}: {len(row)} fields but the header has {width}; "
                "is a field with a comma or a line break missing its quotes?"
            )
        if len(row) < width:
            row.extend([""] * (width - len(row)))
        report.rows += 1
        batch.append(row)
        starts.append(start)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    report.encoding = lines.encoding or "ascii"
    report.seconds = time.perf_counter() - started
    return report


def _column_index(header: list[str], column: str) -> int:
    if column in header:
        return header.index(column)
    stripped = [h.strip() for h in header]
    if column.strip() in stripped:
        return stripped.index(column.strip())
    raise ColumnNotFoundError(column, header)


# ---------------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``score-reviews``."""
    parser.add_argument("file", metavar="FILE.csv", help="the CSV to score ('-' for stdin)")
    parser.add_argument(
        "--text-column", required=True, metavar="COL", help="the column with the review text"
    )
    parser.add_argument("--out", type=Path, help="write here instead of standard output")
    parser.add_argument(
        "--encoding", choices=ENCODINGS, default="auto", help="input encoding (default: auto)"
    )
    parser.add_argument("--model", type=Path, help="a saved review model (default: the default)")
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH, metavar="N", help="rows scored at a time"
    )


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``score-reviews`` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "score-reviews",
        help="score review texts in a CSV (negative, defect, hazard)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def _error(message: str) -> int:
    print(f"ecqm score-reviews: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def run(args: argparse.Namespace) -> int:
    """Run ``score-reviews`` for parsed arguments; returns the exit status."""
    from risk_models.text.model import ModelFormatError, ReviewScorer

    if args.batch_size < 1:
        return _error("--batch-size must be at least 1")
    if args.file != "-" and not Path(args.file).is_file():
        return _error(f"no such file: {args.file}")
    try:
        scorer = ReviewScorer.load(args.model) if args.model else None
    except (OSError, ModelFormatError) as exc:
        return _error(f"cannot load the model {args.model}: {exc}")
    stdout: io.TextIOWrapper | None = None
    try:
        src: Any = sys.stdin.buffer if args.file == "-" else Path(args.file)
        if args.out is not None:
            dst: Any = args.out
        else:
            stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
            dst = stdout
        report = score_csv(
            src,
            dst,
            args.text_column,
            encoding=args.encoding,
            scorer=scorer,
            batch_size=args.batch_size,
        )
    except CsvInputError as exc:
        return _error(f"{args.file}: {exc}")
    except OSError as exc:
        return _error(str(exc))
    finally:
        if stdout is not None:
            stdout.flush()
            stdout.detach()
    if report.empty_text:
        lines = ", ".join(str(n) for n in report.empty_text_lines)
        more = " …" if report.empty_text > len(report.empty_text_lines) else ""
        print(
            f"ecqm score-reviews: {report.empty_text:,} row(s) had no text in column "
            f"{args.text_column!r} and got empty scores (line {lines}{more})",
            file=sys.stderr,
        )
    print(f"ecqm score-reviews: {report.summary()}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m risk_models.text.cli FILE.csv --text-column COL``."""
    parser = argparse.ArgumentParser(prog="python -m risk_models.text.cli", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
