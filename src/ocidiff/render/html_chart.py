"""The layer bar chart: one row per layer (or aligned layer pair), one bar per side, bar length
proportional to the layer's bytes, the bar of a changed layer split into parts by cause.

Pure inline SVG with a <title> and <desc>; every part is labelled in text beside the bar, and each
cause has its own fill pattern as well as its own colour. Reusable by any report with layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .formatting import human_size
from .html_page import esc
from .html_style import svg_patterns

_BAR_X = 124  # bars start here (after the side letter)
_BAR_W = 400
_TEXT_X = _BAR_X + _BAR_W + 80  # the row's explanation
_BAR_H = 14
_ROW_GAP = 12
_WIDTH = 900
_TEXT_CHARS = 44


@dataclass(frozen=True, slots=True)
class Bar:
    """One side of one row: its name ("A", "B"), its bytes (None: unknown), whether it exists."""

    side: str
    size: int | None
    present: bool = True


@dataclass(frozen=True, slots=True)
class Part:
    """A share of a changed bar: a cause (style index and name) and its weight (a count)."""

    style: int
    label: str
    weight: int


@dataclass(frozen=True, slots=True)
class ChartRow:
    label: str
    status: str  # equal | changed | added | removed | incomplete | ok | bad
    bars: tuple[Bar, ...]
    parts: tuple[Part, ...] = ()
    note: str = ""


def render_layer_chart(chart_id: str, caption: str, rows: Sequence[ChartRow]) -> str:
    """A <figure> with the SVG chart; `caption` (plain text) says what the bars mean."""
    if not rows:
        return ""
    sizes = [bar.size for row in rows for bar in row.bars if bar.present]
    known = bool(sizes) and all(size is not None for size in sizes)
    largest = max((size or 0 for size in sizes), default=0) if known else 0
    body: list[str] = []
    y = 8
    styles: list[int] = []
    for row in rows:
        height = len(row.bars) * (_BAR_H + 4) - 4
        body.append(
            f'<text x="0" y="{y + height / 2 + 4:.0f}" class="ch-label">{esc(row.label)}</text>'
        )
        for line, bar in enumerate(row.bars):
            top = y + line * (_BAR_H + 4)
            body.append(_bar(chart_id, row, bar, top, largest if known else 0))
        styles.extend(part.style for part in row.parts)
        for line, text in enumerate(_explain(row)[:3]):
            body.append(
                f'<text x="{_TEXT_X}" y="{y + 11 + line * 15}" class="ch-note">{esc(text)}</text>'
            )
        y += max(height, 15 * len(_explain(row)[:3]) - 4) + _ROW_GAP
    scale = "" if known else " Sizes are not in this report, so every bar has the same length."
    description = "; ".join(f"{row.label}: {' '.join(_explain(row))}" for row in rows)
    svg = (
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {y}" width="{_WIDTH}" height="{y}" '
        f'role="img" aria-labelledby="{esc(chart_id)}-t {esc(chart_id)}-d" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{esc(chart_id)}-t">{esc(caption)}</title>'
        f'<desc id="{esc(chart_id)}-d">{esc(description)}</desc>'
        f"<defs>{svg_patterns(chart_id, styles)}{_hatch(chart_id)}</defs>"
        f"{''.join(body)}</svg>"
    )
    return (
        f'<figure class="chart-fig"><div class="chart-scroll">{svg}</div>'
        f"<figcaption>{esc(caption + scale)}</figcaption></figure>"
    )


def _bar(chart_id: str, row: ChartRow, bar: Bar, top: int, largest: int) -> str:
    side = f'<text x="{_BAR_X - 8}" y="{top + 11}" class="ch-side">{esc(bar.side)}</text>'
    if not bar.present:
        return side + (
            f'<rect x="{_BAR_X}" y="{top}" width="{_BAR_W}" height="{_BAR_H}" class="ch-absent"/>'
            f'<text x="{_BAR_X + 6}" y="{top + 11}" class="ch-in">not in {esc(bar.side)}</text>'
        )
    width = _BAR_W if not largest else max(3.0, _BAR_W * (bar.size or 0) / largest)
    parts = row.parts if row.status not in ("equal", "ok") else ()
    total = sum(part.weight for part in parts)
    pieces = []
    if total:
        x = float(_BAR_X)
        for part in parts:
            share = width * part.weight / total
            pieces.append(
                f'<rect x="{x:.1f}" y="{top}" width="{share:.1f}" height="{_BAR_H}" '
                f'fill="url(#{esc(chart_id)}-s{part.style})" class="ch-part">'
                f"<title>{esc(part.label)}: {part.weight}</title></rect>"
            )
            x += share
    else:
        fill = f"url(#{esc(chart_id)}-hatch)" if row.status in ("incomplete", "bad") else "#d5d9de"
        pieces.append(
            f'<rect x="{_BAR_X}" y="{top}" width="{width:.1f}" height="{_BAR_H}" fill="{fill}"/>'
        )
    outline = (
        f'<rect x="{_BAR_X}" y="{top}" width="{width:.1f}" height="{_BAR_H}" class="ch-outline"/>'
    )
    size = f'<text x="{_BAR_X + width + 6:.1f}" y="{top + 11}" class="ch-size">' + (
        f"{esc(human_size(bar.size))}</text>" if bar.size is not None else "</text>"
    )
    return side + "".join(pieces) + outline + size


def _hatch(chart_id: str) -> str:
    return (
        f'<pattern id="{esc(chart_id)}-hatch" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" fill="#eee"/><path d="M0,6 l6,-6" stroke="#888"/></pattern>'
    )


def _explain(row: ChartRow) -> list[str]:
    """The row's text: status, then each part with its count (the chart's words, not colours)."""
    words = {
        "equal": "= equal",
        "changed": "≠ changed",
        "added": "+ only in B",
        "removed": "− only in A",
        "incomplete": "? not compared",
        "ok": "✓ intact",
        "bad": "✗ problems",
    }
    first = words.get(row.status, row.status)
    if row.note:
        first += f" · {row.note}"
    lines = [first]
    for part in row.parts:
        text = f"{part.label} {part.weight}"
        if len(lines) > 1 and len(lines[-1]) + len(text) + 2 <= _TEXT_CHARS:
            lines[-1] += ", " + text
        else:
            lines.append(text)
    if len(lines) > 3:
        lines[2] += " …"
    return lines
