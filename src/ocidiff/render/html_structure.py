"""The structure part of an HTML diff report, side by side: platforms, manifests, config fields
and (through html_layers) the aligned layers of each image.

Pure. Tolerant of the tree's shape: node kinds it does not know are listed, not dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..report import Change, Node
from .html_layers import layers_block
from .html_page import Section, digest_code, esc
from .html_places import Place, changes_at, notes_mark, status_mark, value_mark
from .html_style import CauseStyles


def archive_section(
    tree: Node, inputs: tuple[str, str], styles: CauseStyles, places: Sequence[Place] = ()
) -> Section:
    """Both inputs, the platforms paired, archive-level differences, and any top-level node that
    is not an image."""
    images = [c for c in tree.children if c.kind == "image"]
    only = {c.old or c.new or "": c for c in tree.changes if c.cause == "platforms"}
    rows = [
        f'<tr><th scope="row">{esc(image.name)}</th><td>✓ in A</td><td>✓ in B</td>'
        f"<td>{status_mark(image.status)}</td></tr>"
        for image in images
    ]
    for name, change in sorted(only.items()):
        in_a, in_b = ("✓ in A", "✗ absent") if change.old else ("✗ absent", "✓ in B")
        rows.append(
            f'<tr class="hl"><th scope="row">{esc(name)}</th><td>{in_a}</td><td>{in_b}</td>'
            f"<td>{styles.badge('platforms')}</td></tr>"
        )
    platforms = (
        '<div class="table-wrap"><table><caption>Platforms</caption><thead><tr>'
        '<th scope="col">platform</th><th scope="col">A</th><th scope="col">B</th>'
        f'<th scope="col">result</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )
    others = [c for c in tree.changes if c.cause != "platforms"]
    body = (
        f'<p class="quiet">A is <code class="path">{esc(inputs[0])}</code>, B is '
        f'<code class="path">{esc(inputs[1])}</code>. Images are paired by platform.</p>'
        f"{platforms}{notes_mark(tree)}"
        + (
            field_table("Archive and index differences", others, ("archive",), styles)
            if others
            else ""
        )
    )
    body += "".join(_other_block(p, styles) for p in places if p.role == "extra")
    return Section("archive", "Archives and platforms", body)


def field_table(
    caption: str,
    changes: Sequence[Change],
    strip: tuple[str, ...],
    styles: CauseStyles,
    *,
    lead: str = "",
) -> str:
    """Changed fields side by side: field, A, B, cause (every listed row differs). A field is
    named by its locator without the first of the `strip` prefixes it has, then its field name;
    `lead` is markup for rows to put first."""
    rows = [lead]
    for change in changes:
        where = change.locator
        for prefix in strip:
            if where == prefix or where.startswith(prefix + "/"):
                where = where[len(prefix) :].strip("/")
                break
        name = " › ".join(p for p in (*where.split("/"), change.field or "") if p)
        detail = f'<div class="detail">{esc(change.detail)}</div>' if change.detail else ""
        rows.append(
            f'<tr class="hl"><th scope="row"><span class="ne" aria-hidden="true">≠</span> '
            f'{esc(name or change.cause)}</th><td class="old">{value_mark(change.old)}</td>'
            f'<td class="new">{value_mark(change.new)}{detail}</td>'
            f"<td>{styles.badge(change.cause)}</td></tr>"
        )
    return (
        f'<div class="table-wrap"><table class="fields"><caption>{esc(caption)}</caption><thead>'
        '<tr><th scope="col">field</th><th scope="col">A</th><th scope="col">B</th>'
        f'<th scope="col">cause</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def image_section(
    index: int,
    image: Node,
    places: Sequence[Place],
    styles: CauseStyles,
    trees: frozenset[str] = frozenset(),
) -> Section:
    """One image side by side; `trees` are the anchors of the file trees the page has."""
    key = image.name
    facts = dict(image.facts)
    old_m, new_m = facts.get("old-manifest"), facts.get("new-manifest")
    same = old_m == new_m
    mark = "=" if same else '<span class="ne" aria-hidden="true">≠</span>'
    digest_row = (
        f'<tr class="{"" if same else "hl"}"><th scope="row">{mark} manifest digest</th>'
        f'<td class="old">{digest_code(old_m)}</td><td class="new">{digest_code(new_m)}</td>'
        f"<td>{'equal' if same else 'differs'}</td></tr>"
    )
    body = [
        f'<p>{status_mark(image.status)}</p><h3 id="i{index}-manifest">Manifest</h3>',
        notes_mark(image),
        field_table(
            "Manifest digest and the fields that differ",
            image.changes,
            (key + "/manifest", key),
            styles,
            lead=digest_row,
        ),
    ]
    if image.status == "equal":
        body.append('<p class="quiet">Same manifest digest: nothing below it differs.</p>')
    for place in places:
        if place.role == "child" and place.anchor.startswith(f"i{index}-"):
            body.append(_child_block(index, place, styles, trees))
    return Section(f"i{index}", f"Image {key}", "".join(body))


def _child_block(index: int, place: Place, styles: CauseStyles, trees: frozenset[str]) -> str:
    node = place.node
    if node.kind == "config":
        head = f'<h3 id="{place.anchor}">Config</h3>'
        if not node.changes:
            return head + '<p class="quiet">= Every config field is equal.</p>' + notes_mark(node)
        prefix = place.image + "/config"
        return (
            head
            + '<p class="quiet">Only the fields that differ are listed; all others are equal.</p>'
            + field_table("Config fields that differ", node.changes, (prefix,), styles)
            + notes_mark(node)
        )
    if node.kind == "layers":
        return layers_block(index, place, styles, trees)
    if node.kind == "filesystem":
        count = len(changes_at(place))
        link = (
            f' <a href="#{place.files}">{count} changes in the file tree ↓</a>'
            if place.files in trees
            else ""
        )
        return (
            f'<h3 id="{place.anchor}">Merged filesystem</h3><p>{status_mark(node.status)} '
            "The layer boundaries differ, so files are compared on the merged filesystem."
            f"{link}</p>{notes_mark(node)}"
        )
    return _other_block(place, styles)


def _other_block(place: Place, styles: CauseStyles) -> str:
    """A node kind this page does not know: its status, notes and every change below it."""
    node = place.node
    changes = changes_at(place)
    strip = (place.image,) if place.image else ()
    return (
        f'<h3 id="{place.anchor}">{esc(node.kind)} {esc(node.name)}</h3>'
        f"<p>{status_mark(node.status)}</p>{notes_mark(node)}"
        + (field_table("Differences", changes, strip, styles) if changes else "")
    )
