"""Rendering of audit results: the release table, the lint report, query results.

Pure: values in, text or JSON bytes out. Text is plain, fixed-width columns; names from archives
are untrusted, so control characters are escaped before they reach a terminal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..render.formatting import human_size
from ..render.json import to_json
from .lint import Hazard
from .summary import AuditSummary, ReleaseRow

_MAX_CELL = 48
_TOP_CAUSES = 3


def clean(text: str) -> str:
    """Printable text: control characters and lone surrogates become escapes."""
    out = []
    for char in text:
        if char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF:
            out.append(char)
        else:
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
    return "".join(out)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], limit: int = _MAX_CELL) -> str:
    """Left-aligned columns separated by two spaces; long cells are cut with an ellipsis."""

    def cut(cell: str) -> str:
        cell = clean(cell)
        return cell if len(cell) <= limit else cell[: limit - 1] + "…"

    cells = [[cut(c) for c in header], *[[cut(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines) + "\n"


def _layers(release: ReleaseRow) -> str:
    new = sum(p.new_layers for p in release.platforms)
    shared = sum(p.shared_layers for p in release.platforms)
    return f"{new} new, {shared} shared" if release.platforms else "-"


def _causes(release: ReleaseRow) -> str:
    counts: Counter[str] = Counter()
    for platform in release.platforms:
        counts.update({c.code: c.count for c in platform.causes if not c.ignored})
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:_TOP_CAUSES]
    return ", ".join(f"{code} {count}" for code, count in top) or "-"


def _hazards(release: ReleaseRow) -> str:
    codes = sorted({h.code for p in release.platforms for h in p.hazards})
    return f"{len(codes)}: {', '.join(codes)}" if codes else "0"


def render_summary_text(summary: AuditSummary) -> str:
    header = ("#", "release", "status", "size", "layers", "vs previous", "top causes", "hazards")
    rows = [
        (
            str(r.position + 1),
            r.name,
            r.status,
            human_size(r.size),
            _layers(r),
            r.verdict or "-",
            _causes(r),
            _hazards(r),
        )
        for r in summary.releases
    ]
    text = table(header, rows)
    statuses = Counter(r.status for r in summary.releases)
    text += (
        f"\n{len(summary.releases)} release(s): {statuses['ok']} ok, "
        f"{statuses['problems']} with problems, {statuses['unreadable']} unreadable; "
        f"{summary.unique_layers} unique layer(s), {human_size(summary.unique_layer_bytes)} "
        f"in {human_size(summary.archive_bytes)} of archives\n"
    )
    for release in summary.releases:
        if release.error:
            text += f"{clean(release.name)}: {clean(release.error)}\n"
        for problem in release.problems[:5]:
            text += f"{clean(release.name)}: {problem.kind}: {clean(problem.message)}\n"
        if len(release.problems) > 5:
            text += f"{clean(release.name)}: and {len(release.problems) - 5} more problem(s)\n"
    return text


def render_summary_json(summary: AuditSummary) -> bytes:
    return to_json(summary)


def render_lint_text(results: Sequence[tuple[str, Sequence[Hazard]]]) -> str:
    """Per image (platform key): each hazard with its count, bytes and examples."""
    lines: list[str] = []
    for key, hazards in results:
        lines.append(f"{clean(key)}: {len(hazards)} hazard(s)")
        for hazard in hazards:
            size = f", {human_size(hazard.bytes)}" if hazard.bytes else ""
            lines.append(f"  {hazard.code}: {hazard.count}{size}")
            lines.extend(f"    {clean(example)}" for example in hazard.examples)
    return "\n".join(lines) + "\n"


def render_lint_json(source: str, results: Sequence[tuple[str, Sequence[Hazard]]]) -> bytes:
    document: dict[str, Any] = {
        "schema": "ocidiff.lint",
        "schema_version": 1,
        "source": source,
        "images": [{"image": key, "hazards": list(hazards)} for key, hazards in results],
    }
    return to_json(document)


def render_rows_text(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    return table(list(columns), [[_cell(v) for v in row] for row in rows], limit=200)


def render_rows_json(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    return to_json([dict(zip(columns, [_json_value(v) for v in row], strict=True)) for row in rows])


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def _json_value(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return value
