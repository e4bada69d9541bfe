"""The diff report as one self-contained HTML page: the verdict, the causes ranked by impact with
their meaning and their fix at the build, the structure side by side, and a file tree per changed
layer that can be folded, filtered by cause and searched.

Pure: Report -> bytes, the same bytes for the same report. The page shell (`render_page`,
`Section`) lives in html_page and is shared with the other HTML reports (verify, ...).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import PurePath

from ..diff.causes import CAUSES
from ..report import CauseCount, Report, iter_changes
from .html_entries import STATUS_WORDS
from .html_files import HtmlLimits, TreeSpec, build_trees, collect_entries
from .html_page import Section, definition_list, esc, render_page
from .html_places import Place, changes_at, iter_places
from .html_structure import archive_section, image_section
from .html_style import PALETTE, PATTERNS, CauseStyles, style_css
from .text import describe_change

__all__ = ["HtmlLimits", "Section", "render_html", "render_page"]

_VERDICTS = {
    "identical": ("=", "Identical", "The two tarballs are byte for byte the same."),
    "same-image": (
        "=",
        "Same image",
        "Every manifest is equal, so the images are the same; only the packaging, the names or "
        "the index annotations differ.",
    ),
    "equivalent": (
        "≈",
        "Equivalent",
        "Same files and the same runtime configuration: nothing that runs differs. Only "
        "timestamps, order, compression, encoding or metadata do, which still makes the digests "
        "differ.",
    ),
    "different": (
        "≠",
        "Different",
        "Files or runtime configuration differ: the two images can behave differently.",
    ),
}
_WHERE_LINKS = 8


def render_html(report: Report, limits: HtmlLimits = HtmlLimits()) -> bytes:
    """The whole page for one diff report."""
    places = iter_places(report.tree)
    styles = CauseStyles.of(
        (c.code for c in report.causes), {c.cause for c in iter_changes(report.tree)}
    )
    specs = _tree_specs(places)
    built = build_trees(specs, styles, limits)
    images = [c for c in report.tree.children if c.kind == "image"]
    trees = frozenset(spec.anchor for spec in specs)
    sections = [
        _causes_section(report, places, styles),
        archive_section(report.tree, report.inputs, styles, places),
        *(image_section(i, image, places, styles, trees) for i, image in enumerate(images)),
        _files_section(specs, built.static, built.kept, styles, limits),
        _about_section(report, limits),
    ]
    names = " vs ".join(PurePath(name).name or name for name in report.inputs)
    data = {
        "kind": "diff",
        "causes": list(styles.codes),
        "styles": [len(PALETTE), len(PATTERNS)],
        "status": STATUS_WORDS,
        **built.data,
    }
    return render_page(
        f"ocidiff: {names}",
        sections,
        header=_verdict(report, styles),
        data=data,
        extra_css=style_css(),
    )


def _tree_specs(places: Sequence[Place]) -> list[TreeSpec]:
    specs = []
    for place in places:
        if place.files is None or place.prefix is None:
            continue
        _, entries = collect_entries(place.node, place.prefix)
        if entries:
            specs.append(TreeSpec(place.files, place.label, entries))
    return specs


def _verdict(report: Report, styles: CauseStyles) -> str:
    summary = report.summary
    icon, word, text = _VERDICTS.get(
        summary.verdict, ("?", summary.verdict, "See the causes below.")
    )
    parts = [
        f'<div class="verdict v-{esc(summary.verdict)}"><p class="vword">'
        f'<span class="vicon" aria-hidden="true">{esc(icon)}</span> {esc(word)}</p>'
        f'<p class="vtext">{esc(text)}</p>'
    ]
    active = [c for c in report.causes if not c.ignored]
    if active:
        top = active[0]
        parts.append(
            f'<p class="vnext"><strong>Start here:</strong> <a href="#cause-{esc(top.code)}">'
            f"{styles.badge(top.code)}</a> {esc(_sentence(_meaning(top)))} "
            f"<strong>Fix:</strong> {esc(_sentence(_fix(top)))}</p>"
        )
    elif summary.verdict != "identical":
        parts.append('<p class="vnext">Every difference found is of an ignored cause.</p>')
    if summary.incomplete:
        parts.append(
            '<p class="note warn">⚠ Incomplete: part of the comparison could not be done; '
            "see the notes marked ⚠ below.</p>"
        )
    parts.append("</div>")
    facts = [
        ("A (first)", f'<code class="path">{esc(report.inputs[0])}</code>'),
        ("B (second)", f'<code class="path">{esc(report.inputs[1])}</code>'),
        ("causes", f"{len(active)} active, {len(report.causes) - len(active)} ignored"),
        ("exit code", esc(summary.exit_code)),
    ]
    if summary.ignored:
        facts.append(("ignored", esc(", ".join(summary.ignored))))
    return "".join(parts) + definition_list(facts)


def _sentence(text: str) -> str:
    """The table's lowercase phrases as sentences (no doubled stop after "sha256:...")."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _meaning(cause: CauseCount) -> str:
    info = CAUSES.get(cause.code)
    return cause.meaning or (info.meaning if info else "no description")


def _fix(cause: CauseCount) -> str:
    info = CAUSES.get(cause.code)
    return cause.fix or (info.fix if info else "no fix known")


def _causes_section(report: Report, places: Sequence[Place], styles: CauseStyles) -> Section:
    where: dict[str, Counter[str]] = {}
    labels: dict[str, str] = {}
    for place in places:
        labels[place.anchor] = place.label
        if place.files:
            labels[place.files] = place.label + " files"
        for change in changes_at(place):
            where.setdefault(change.cause, Counter())[place.anchor_for(change)] += 1
    active = [c for c in report.causes if not c.ignored]
    ignored = [c for c in report.causes if c.ignored]
    if not report.causes:
        body = '<p class="quiet">No difference was found.</p>'
    else:
        body = (
            '<p class="quiet">Ranked by impact: causes that can change what a container runs come '
            "first, then by count. Each says what it means and how to remove it at the build."
            "</p>"
        )
        items = "".join(
            _cause_item(c, where.get(c.code, Counter()), labels, styles) for c in active
        )
        body += f'<ol class="causes">{items}</ol>' if active else ""
        if ignored:
            items = "".join(
                _cause_item(c, where.get(c.code, Counter()), labels, styles) for c in ignored
            )
            body += (
                f'<details class="ignored"><summary>Ignored causes ({len(ignored)}): counted, '
                f'but they do not change the exit code</summary><ol class="causes">{items}</ol>'
                "</details>"
            )
    return Section("causes", "Causes, most important first", body)


def _cause_item(
    cause: CauseCount, where: Counter[str], labels: dict[str, str], styles: CauseStyles
) -> str:
    info = CAUSES.get(cause.code)
    semantic = info.semantic if info else True
    tag = (
        '<span class="tag sem">can change what runs</span>'
        if semantic
        else '<span class="tag">does not change what runs</span>'
    )
    noun = "difference" if cause.count == 1 else "differences"
    ignored = ' <span class="tag">ignored</span>' if cause.ignored else ""
    example = ""
    if cause.examples:
        example = (
            f'<p class="eg"><span class="lbl">Example</span> '
            f"<code>{esc(describe_change(cause.examples[0], example=True))}</code></p>"
        )
    links = [
        f'<a href="#{esc(anchor)}" data-filter="{esc(cause.code)}">'
        f"{esc(labels.get(anchor, anchor))}</a> ({count})"
        for anchor, count in where.items()
    ]
    more = len(links) - _WHERE_LINKS
    shown = ", ".join(links[:_WHERE_LINKS]) + (f" and {more} more places" if more > 0 else "")
    where_html = f'<p class="where"><span class="lbl">Where</span> {shown}</p>' if links else ""
    return (
        f'<li class="cause" id="cause-{esc(cause.code)}"><h3>{styles.badge(cause.code)} '
        f'<span class="count">{cause.count} {noun}</span> {tag}{ignored}</h3>'
        f'<p class="meaning">{esc(_sentence(_meaning(cause)))}</p>'
        f'<p class="fix"><span class="lbl">Fix at the build</span> {esc(_fix(cause))}</p>'
        f"{example}{where_html}</li>"
    )


def _files_section(
    specs: Sequence[TreeSpec],
    static: dict[str, str],
    kept: dict[str, int],
    styles: CauseStyles,
    limits: HtmlLimits,
) -> Section:
    if not specs:
        return Section("files", "Changed files", '<p class="quiet">No file differs.</p>')
    in_trees: Counter[str] = Counter()
    for spec in specs:
        for entry in spec.entries:
            in_trees.update({c.cause for c in entry.changes})
    buttons = "".join(
        f'<button type="button" class="cf" aria-pressed="false" data-cause="{styles.index(code)}">'
        f"{styles.badge(code, in_trees[code])}</button>"
        for code in sorted(in_trees, key=styles.index)
    )
    controls = (
        '<div class="controls" hidden data-controls>'
        '<div class="search"><label for="q">Search paths</label> '
        '<input type="search" id="q" autocomplete="off" spellcheck="false" '
        'placeholder="e.g. usr/lib or .pyc" aria-describedby="q-hint">'
        '<span id="q-hint" class="quiet"> press / to search</span></div>'
        f'<div class="cause-filter" role="group" aria-label="Show only entries with these causes">'
        f'<span class="lbl">Show only</span> {buttons}'
        '<button type="button" class="plain" data-clear>All causes</button></div>'
        '<div class="tree-actions"><button type="button" class="plain" data-expand>Expand all'
        '</button> <button type="button" class="plain" data-collapse>Collapse all</button></div>'
        '<p class="fstatus" aria-live="polite" data-status></p></div>'
    )
    legend = (
        '<p class="legend">Rows: <span class="st">~</span> changed, <span class="st">+</span> '
        'only in B, <span class="st">−</span> only in A, <span class="st">→</span> moved. Open a '
        "row for its changed header fields, text diff or changed bytes.</p>"
    )
    blocks = []
    for spec in specs:
        total = len(spec.entries)
        note = ""
        if kept[spec.anchor] < total:
            note = (
                f'<p class="note warn">⚠ This page holds {kept[spec.anchor]} of the {total} '
                f"changed entries here (at most {limits.max_entries} in all); every one is in "
                "the JSON report (ocidiff diff --format json).</p>"
            )
        blocks.append(
            f'<section class="tree-block" id="{esc(spec.anchor)}" '
            f'aria-labelledby="{esc(spec.anchor)}-h"><h3 id="{esc(spec.anchor)}-h">'
            f'{esc(spec.title)}</h3><p class="tree-count" data-count="{esc(spec.anchor)}">'
            f"{total} changed entries</p>{note}"
            f'<div class="tree-host" data-tree="{esc(spec.anchor)}">{static[spec.anchor]}</div>'
            "</section>"
        )
    return Section("files", "Changed files", controls + legend + "".join(blocks))


def _about_section(report: Report, limits: HtmlLimits) -> Section:
    options = report.options
    pairs = [
        ("report", f"{esc(report.schema)} version {esc(report.schema_version)}"),
        ("ignored causes", esc(", ".join(options.get("ignore") or ()) or "none")),
        ("excluded paths", esc(", ".join(options.get("exclude") or ()) or "none")),
        ("platform", esc(options.get("platform") or "all")),
        (
            "page limits",
            f"{limits.max_entries} changed entries, values cut at "
            f"{limits.max_value_chars} characters",
        ),
    ]
    return Section("about", "About this report", definition_list(pairs), in_toc=False)
