"""The layers of one image in an HTML diff report: the bar chart, the table of layers aligned by
diff_id (blob digests, diff_ids, sizes when the report has them, causes), and the differences in
the layer blobs themselves (compression, tar encoding).

Pure.
"""

from __future__ import annotations

from collections import Counter

from ..report import Change, Node
from .formatting import human_size
from .html_chart import Bar, ChartRow, Part, render_layer_chart
from .html_page import digest_code, esc
from .html_places import Place, changes_at, layer_label, notes_mark, status_mark, value_mark
from .html_style import CauseStyles


def layers_block(index: int, place: Place, styles: CauseStyles, trees: frozenset[str]) -> str:
    node = place.node
    image = place.image
    parts = [f'<h3 id="{place.anchor}">Layers</h3>']
    parts.extend(
        f'<p class="callout">{styles.badge(c.cause)} {esc(c.detail or c.field or "")}'
        + (f" ({esc(c.old)} → {esc(c.new)})" if c.old or c.new else "")
        + "</p>"
        for c in node.changes
    )
    rows: list[ChartRow] = []
    table_rows: list[str] = []
    level: list[tuple[str, Change]] = []
    sized = any(size is not None for layer in node.children for size in _sizes(layer))
    for j, layer in enumerate(node.children):
        anchor = f"i{index}-l{j}"
        prefix = f"{image}/layers/{layer.name}"
        below = Place(anchor, "", layer, "layer", image, prefix, anchor + "-files")
        changes = changes_at(below)
        counts = Counter(c.cause for c in changes)
        level.extend((layer_label(layer.name), c) for c in changes if below.anchor_for(c) == anchor)
        ordered = sorted(counts.items(), key=lambda kv: (styles.index(kv[0]), kv[0]))
        rows.append(_chart_row(layer, ordered, styles))
        tree = below.files if below.files in trees else None
        table_rows.append(_layer_row(anchor, layer, ordered, tree, sized, styles))
    parts.append(
        render_layer_chart(
            f"i{index}-chart",
            f"Layers of {image}: one row per aligned layer pair, bar A above bar B; "
            "changed layers are split by cause in proportion to their number of changes.",
            rows,
        )
    )
    parts.append(
        '<div class="table-wrap"><table class="layers"><caption>Layers aligned by diff_id'
        '</caption><thead><tr><th scope="col">layer</th><th scope="col">result</th>'
        '<th scope="col">A blob / diff_id</th><th scope="col">B blob / diff_id</th>'
        + ('<th scope="col">size A / B</th>' if sized else "")
        + '<th scope="col">causes</th></tr></thead>'
        f"<tbody>{''.join(table_rows)}</tbody></table></div>"
    )
    if level:
        rows_html = "".join(
            f'<tr><th scope="row">{esc(where)}</th><td>{styles.badge(c.cause)}</td>'
            f'<td>{esc(c.field or "")}</td><td class="old">{value_mark(c.old)}</td>'
            f'<td class="new">{value_mark(c.new)}</td><td>{esc(c.detail or "")}</td></tr>'
            for where, c in level
        )
        parts.append(
            '<div class="table-wrap"><table><caption>Differences in the layer blobs themselves'
            '</caption><thead><tr><th scope="col">layer</th><th scope="col">cause</th>'
            '<th scope="col">field</th><th scope="col">A</th><th scope="col">B</th>'
            f'<th scope="col">detail</th></tr></thead><tbody>{rows_html}</tbody></table></div>'
        )
    return "".join(parts) + notes_mark(node)


def _sizes(layer: Node) -> tuple[int | None, int | None]:
    facts = dict(layer.facts)
    found = []
    for side in ("old", "new"):
        raw = facts.get(f"{side}-size", "")
        found.append(int(raw) if raw.isdigit() else None)
    return found[0], found[1]


def _changes(count: int) -> str:
    return f"{count} change" if count == 1 else f"{count} changes"


def _chart_row(layer: Node, ordered: list[tuple[str, int]], styles: CauseStyles) -> ChartRow:
    old, _, new = layer.name.partition(":")
    size_a, size_b = _sizes(layer)
    label = old if old == new else f"{old} → {new}"
    return ChartRow(
        label=label,
        status=layer.status,
        bars=(Bar("A", size_a, old != "-"), Bar("B", size_b, new != "-")),
        parts=tuple(Part(styles.index(code), code, count) for code, count in ordered),
        note=_changes(sum(n for _, n in ordered)) if ordered else "",
    )


def _layer_row(
    anchor: str,
    layer: Node,
    ordered: list[tuple[str, int]],
    tree: str | None,
    sized: bool,
    styles: CauseStyles,
) -> str:
    facts = dict(layer.facts)
    size_a, size_b = _sizes(layer)
    sizes = f"<td>{esc(human_size(size_a))} / {esc(human_size(size_b))}</td>" if sized else ""
    badges = " ".join(styles.badge(code, count) for code, count in ordered)
    link = f' <a href="#{tree}">files ↓</a>' if tree else ""

    def side(which: str) -> str:
        blob = facts.get(f"{which}-digest")
        diff_id = facts.get(f"{which}-diff-id")
        if (blob in (None, "-")) and (diff_id in (None, "-")):
            return '<span class="none">absent</span>'
        return (
            f'<span class="k">blob</span> {digest_code(blob)}<br>'
            f'<span class="k">diff_id</span> {digest_code(diff_id)}'
        )

    return (
        f'<tr id="{anchor}" class="r-{esc(layer.status)}"><th scope="row">'
        f"{esc(layer_label(layer.name))}</th><td>{status_mark(layer.status)}</td>"
        f'<td class="dgs">{side("old")}</td><td class="dgs">{side("new")}</td>{sizes}'
        f"<td>{badges}{link}{notes_mark(layer)}</td></tr>"
    )
