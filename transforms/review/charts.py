"""Charts for the monthly report, drawn in Python as inline SVG.

Nothing to load and nothing to run: a chart is an ``<svg role="img" aria-label="…">``
with a ``<title>``, sized by its ``viewBox`` so it scales to the page and prints
sharply. The report prints every number a chart draws beside it as text (caption and
table), so it reads without the picture too — in a screen reader, a text-only mail
client or a black-and-white print.

Every piece of text is escaped here (``markupsafe.escape``); the functions return
:class:`~markupsafe.Markup` that the template inserts as it is.

>>> svg = hbar("示例", [Bar("定向", 0.5, "50.0%")], axis_title="检出率", fmt=pct)
>>> svg.startswith('<svg class="chart"') and 'role="img"' in svg
True
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 760
FONT = 13
SMALL = 11
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
AXIS = "#9aa5b1"
# Risk levels: red to green, distinguishable in greyscale by lightness too.
LEVEL_COLORS = {"high": "#b42318", "elevated": "#e8772e", "moderate": "#f2c14e", "low": "#5b9e5b"}
PALETTE = ("#2f5d8a", "#d9822b", "#5b9e5b", "#8e5ea2", "#7b8794", "#b42318")
NO_DATA = "无数据"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str
    color: str = PALETTE[0]


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Interval:
    label: str
    estimate: float | None
    low: float | None
    high: float | None
    text: str
    emphasis: bool = False


def pct(value: float) -> str:
    """A share as a percentage for an axis: whole percents unless the step is finer.

    >>> pct(0.25), pct(0.125), pct(0)
    ('25%', '12.5%', '0%')
    """
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def number(value: float) -> str:
    """A count for an axis.

    >>> number(1500), number(2.5)
    ('1,500', '2.5')
    """
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def nice_ticks(top: float, count: int = 5, *, whole: bool = False) -> list[float]:
    """Round axis ticks from 0 to at least ``top``: steps of 1, 2 or 5 × 10ⁿ (whole
    steps only when ``whole``, for counts).

    >>> nice_ticks(7)
    [0, 2, 4, 6, 8]
    >>> nice_ticks(0.31)
    [0, 0.1, 0.2, 0.30000000000000004, 0.4]
    >>> nice_ticks(2), nice_ticks(2, whole=True)
    ([0, 0.5, 1.0, 1.5, 2.0], [0, 1, 2])
    >>> nice_ticks(0)
    [0, 1]
    """
    if not top or top <= 0:
        return [0, 1]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(1, round(step))
    n = math.ceil(top / step - 1e-9)
    return [0] + [step * i for i in range(1, n + 1)]


def text_width(text: str, size: float = FONT) -> float:
    """Approximate rendered width: CJK and full-width characters are one em, others ~0.6."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in str(text))


def clip(text: str, max_px: float, size: float = FONT) -> str:
    """``text`` cut with … to fit ``max_px``."""
    text = str(text)
    if text_width(text, size) <= max_px:
        return text
    while text and text_width(text + "…", size) > max_px:
        text = text[:-1]
    return text + "…"


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x % 1 else str(int(x))


def _attr(value: str) -> str:
    return str(escape(value))


def _text(x: float, y: float, text: str, *, size: int = FONT, anchor: str = "start", **kw) -> str:
    fill = kw.pop("fill", INK)
    extra = "".join(f' {k.replace("_", "-")}="{_attr(v)}"' for k, v in kw.items())
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size}" fill="{fill}"'
        f' text-anchor="{anchor}"{extra}>{escape(text)}</text>'
    )


def _svg(label: str, height: float, body: Sequence[str]) -> Markup:
    h = _f(math.ceil(height))
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {h}"'
        f' width="{WIDTH}" height="{h}" role="img" aria-label="{_attr(label)}">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def empty(label: str, note: str = NO_DATA) -> Markup:
    """A placeholder chart that says there is nothing to draw."""
    body = [
        f'<rect x="1" y="1" width="{WIDTH - 2}" height="70" rx="6" fill="#f8f9fa"'
        f' stroke="{AXIS}" stroke-dasharray="6 4"/>',
        _text(WIDTH / 2, 42, note, size=15, anchor="middle", fill=MUTED),
    ]
    return _svg(f"{label}：{note}", 72, body)


def _legend(series: Sequence[tuple[str, str]], y: float, x0: float) -> list[str]:
    out, x = [], x0
    for name, color in series:
        out.append(f'<rect x="{_f(x)}" y="{_f(y - 10)}" width="12" height="12" fill="{color}"/>')
        out.append(_text(x + 17, y, name, size=SMALL + 1))
        x += 17 + text_width(name, SMALL + 1) + 18
    return out


def _x_axis(x0: float, x1: float, y0: float, y1: float, ticks, top, fmt, title) -> list[str]:
    """Vertical grid lines at ``ticks``, their labels under ``y1``, and the axis title."""
    out = []
    for t in ticks:
        x = x0 + (x1 - x0) * t / top
        out.append(f'<line x1="{_f(x)}" y1="{_f(y0)}" x2="{_f(x)}" y2="{_f(y1)}" stroke="{GRID}"/>')
        out.append(_text(x, y1 + 15, fmt(t), size=SMALL, anchor="middle", fill=MUTED))
    out.append(f'<line x1="{_f(x0)}" y1="{_f(y1)}" x2="{_f(x1)}" y2="{_f(y1)}" stroke="{AXIS}"/>')
    out.append(_text((x0 + x1) / 2, y1 + 32, title, size=SMALL + 1, anchor="middle", fill=MUTED))
    return out


def _label_width(labels: Sequence[str]) -> float:
    return min(240.0, max([text_width(x) for x in labels] + [40.0]) + 14)


def _on(color: str) -> str:
    """Ink that reads on ``color`` (white on dark fills, dark on light ones)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 150 else INK


def hbar(
    label: str,
    bars: Sequence[Bar],
    *,
    axis_title: str,
    fmt: Callable[[float], str],
    top: float | None = None,
) -> Markup:
    """Horizontal bars, one per row, the value written at the end of each."""
    if not bars or all(not b.value for b in bars):
        return empty(label)
    left = _label_width([b.label for b in bars])
    x0, x1, row, y0 = left, WIDTH - 120, 28, 6
    ticks = nice_ticks(top or max(b.value or 0 for b in bars), whole=fmt is number)
    scale = ticks[-1]
    y1 = y0 + row * len(bars)
    body = _x_axis(x0, x1, y0, y1, ticks, scale, fmt, axis_title)
    for i, b in enumerate(bars):
        y = y0 + i * row
        body.append(_text(x0 - 8, y + 18, clip(b.label, left - 14), anchor="end"))
        w = (x1 - x0) * (b.value or 0) / scale
        if b.value:
            body.append(
                f'<rect x="{_f(x0)}" y="{_f(y + 5)}" width="{_f(max(w, 1.5))}" height="18"'
                f' rx="2" fill="{b.color}"><title>{escape(b.label)}：{escape(b.text)}</title></rect>'
            )
        body.append(_text(x0 + w + 6, y + 18, b.text, size=SMALL + 1))
    return _svg(label, y1 + 40, body)


def stacked(
    label: str,
    rows: Sequence[str],
    series: Sequence[Series],
    *,
    axis_title: str,
    fmt: Callable[[float], str] = number,
    totals: Sequence[str] | None = None,
) -> Markup:
    """Horizontal stacked bars: one row per ``rows`` entry, one segment per series."""
    sums = [sum(s.values[i] or 0 for s in series) for i in range(len(rows))]
    if not rows or not any(sums):
        return empty(label)
    left = _label_width(rows)
    x0, x1, row, y0 = left, WIDTH - 90, 28, 30
    ticks = nice_ticks(max(sums), whole=fmt is number)
    scale = ticks[-1]
    y1 = y0 + row * len(rows)
    body = _legend([(s.name, s.color) for s in series], 14, x0)
    body += _x_axis(x0, x1, y0, y1, ticks, scale, fmt, axis_title)
    for i, name in enumerate(rows):
        y = y0 + i * row
        body.append(_text(x0 - 8, y + 18, clip(name, left - 14), anchor="end"))
        x = x0
        for s in series:
            v = s.values[i] or 0
            if not v:
                continue
            w = (x1 - x0) * v / scale
            body.append(
                f'<rect x="{_f(x)}" y="{_f(y + 5)}" width="{_f(w)}" height="18" fill="{s.color}">'
                f"<title>{escape(name)} {escape(s.name)}：{escape(fmt(v))}</title></rect>"
            )
            if w >= text_width(fmt(v), SMALL) + 6:
                body.append(
                    _text(x + w / 2, y + 18, fmt(v), size=SMALL, anchor="middle", fill=_on(s.color))
                )
            x += w
        total = totals[i] if totals else fmt(sums[i])
        body.append(_text(x + 6, y + 18, total, size=SMALL + 1))
    return _svg(label, y1 + 40, body)


def grouped(
    label: str,
    rows: Sequence[str],
    series: Sequence[Series],
    *,
    axis_title: str,
    fmt: Callable[[float], str] = number,
) -> Markup:
    """Horizontal bars in groups: one group per ``rows`` entry, one bar per series."""
    if not rows or not any(v for s in series for v in s.values):
        return empty(label)
    left = _label_width(rows)
    bar, gap = 14, 12
    row = bar * len(series) + gap
    x0, x1, y0 = left, WIDTH - 80, 30
    ticks = nice_ticks(max(v or 0 for s in series for v in s.values), whole=fmt is number)
    scale = ticks[-1]
    y1 = y0 + row * len(rows)
    body = _legend([(s.name, s.color) for s in series], 14, x0)
    body += _x_axis(x0, x1, y0, y1, ticks, scale, fmt, axis_title)
    for i, name in enumerate(rows):
        y = y0 + i * row + gap / 2
        body.append(
            _text(x0 - 8, y + bar * len(series) / 2 + 4, clip(name, left - 14), anchor="end")
        )
        for j, s in enumerate(series):
            v = s.values[i] or 0
            w = (x1 - x0) * v / scale
            yy = y + j * bar
            if v:
                body.append(
                    f'<rect x="{_f(x0)}" y="{_f(yy + 1)}" width="{_f(w)}" height="{bar - 2}"'
                    f' fill="{s.color}"><title>{escape(name)} {escape(s.name)}：'
                    f"{escape(fmt(v))}</title></rect>"
                )
            body.append(_text(x0 + w + 4, yy + bar - 2, fmt(v), size=SMALL - 1, fill=MUTED))
    return _svg(label, y1 + 40, body)


def line(
    label: str,
    months: Sequence[str],
    series: Sequence[Series],
    *,
    axis_title: str,
    fmt: Callable[[float], str],
    top: float | None = None,
) -> Markup:
    """Lines over months (``YYYY-MM``). A month without a value is a gap in its line,
    never a zero: the line stops before it and starts again after it."""
    values = [v for s in series for v in s.values if v is not None]
    if not months or not values:
        return empty(label)
    x0, x1, y0, y1 = 64, WIDTH - 24, 34, 234
    ticks = nice_ticks(top if top is not None else max(values), whole=fmt is number)
    scale = ticks[-1]
    body = _legend([(s.name, s.color) for s in series], 14, x0)
    for t in ticks:
        y = y1 - (y1 - y0) * t / scale
        body.append(
            f'<line x1="{_f(x0)}" y1="{_f(y)}" x2="{_f(x1)}" y2="{_f(y)}" stroke="{GRID}"/>'
        )
        body.append(_text(x0 - 8, y + 4, fmt(t), size=SMALL, anchor="end", fill=MUTED))
    body.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{AXIS}"/>')
    body.append(
        _text(
            16,
            (y0 + y1) / 2,
            axis_title,
            size=SMALL + 1,
            anchor="middle",
            fill=MUTED,
            transform=f"rotate(-90 16 {_f((y0 + y1) / 2)})",
        )
    )
    step = (x1 - x0 - 30) / max(1, len(months) - 1)
    xs = [x0 + 15 + i * step for i in range(len(months))]
    for i, (x, m) in enumerate(zip(xs, months, strict=True)):
        year, month = m.split("-")
        body.append(_text(x, y1 + 16, f"{int(month)}月", size=SMALL, anchor="middle", fill=MUTED))
        if i == 0 or month == "01":
            body.append(_text(x, y1 + 30, f"{year}年", size=SMALL, anchor="middle", fill=MUTED))
    for s in series:
        points = [
            (x, y1 - (y1 - y0) * v / scale, v)
            for x, v in zip(xs, s.values, strict=True)
            if v is not None
        ]
        run: list[str] = []
        for i, v in enumerate(s.values):
            if v is not None:
                run.append(f"{_f(xs[i])},{_f(y1 - (y1 - y0) * v / scale)}")
            if (v is None or i == len(s.values) - 1) and run:
                if len(run) > 1:
                    body.append(
                        f'<polyline points="{" ".join(run)}" fill="none" stroke="{s.color}"'
                        ' stroke-width="2.2" stroke-linejoin="round"/>'
                    )
                run = []
        for x, y, v in points:
            body.append(
                f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.6" fill="#ffffff" stroke="{s.color}"'
                f' stroke-width="2"><title>{escape(s.name)}：{escape(fmt(v))}</title></circle>'
            )
    return _svg(label, y1 + 40, body)


def intervals(
    label: str,
    rows: Sequence[Interval],
    *,
    axis_title: str,
    fmt: Callable[[float], str] = pct,
) -> Markup:
    """Point estimates with their confidence intervals (a dot and a whisker per row)."""
    drawn = [r for r in rows if r.estimate is not None]
    if not drawn:
        return empty(label)
    left = _label_width([r.label for r in drawn])
    x0, x1, row, y0 = left, WIDTH - 170, 28, 6
    ticks = nice_ticks(max(max(r.high or 0, r.estimate or 0) for r in drawn))
    scale = ticks[-1]
    y1 = y0 + row * len(drawn)
    body = _x_axis(x0, x1, y0, y1, ticks, scale, fmt, axis_title)
    for i, r in enumerate(drawn):
        y = y0 + i * row + 14
        color = PALETTE[5] if r.emphasis else PALETTE[0]
        weight = {"font_weight": "bold"} if r.emphasis else {}
        body.append(_text(x0 - 8, y + 4, clip(r.label, left - 14), anchor="end", **weight))
        if r.low is not None and r.high is not None:
            a, b = (x0 + (x1 - x0) * v / scale for v in (r.low, r.high))
            body.append(
                f'<line x1="{_f(a)}" y1="{y}" x2="{_f(b)}" y2="{y}" stroke="{color}"'
                ' stroke-width="2"/>'
            )
            for x in (a, b):
                body.append(
                    f'<line x1="{_f(x)}" y1="{y - 6}" x2="{_f(x)}" y2="{y + 6}"'
                    f' stroke="{color}" stroke-width="2"/>'
                )
        cx = x0 + (x1 - x0) * (r.estimate or 0) / scale
        body.append(
            f'<circle cx="{_f(cx)}" cy="{y}" r="5" fill="{color}">'
            f"<title>{escape(r.label)}：{escape(r.text)}</title></circle>"
        )
        body.append(_text(x1 + 10, y + 4, r.text, size=SMALL + 1, **weight))
    return _svg(label, y1 + 40, body)
