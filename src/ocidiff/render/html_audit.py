"""`ocidiff audit` as one self-contained HTML page: the releases with their status, layers,
verdict against the previous release, causes and hazards, and a release-by-layer matrix that
shows which layers each release shares with the others.

Pure: the audit summary and each release's layer digests in, bytes out, on the shared page
shell (html_page). The matrix is a plain table with symbols, so it needs no script.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..audit.summary import AuditSummary, ReleaseRow
from .formatting import human_size
from .html_page import Row, Section, definition_list, digest_code, esc, render_page, table
from .html_style import CauseStyles, style_css

MAX_MATRIX_COLUMNS = 200
_TOP_CAUSES = 3
_STATUS_MARK = {"ok": "✓ ok", "problems": "✗ problems", "unreadable": "✗ unreadable"}
_VERDICT_MARK = {"identical": "=", "same-image": "=", "equivalent": "≈", "different": "≠"}

# Matrix cells: a symbol and a word for each state, so colour is never the only signal.
_NEW, _SHARED, _ABSENT = "new", "shared", "absent"
_CELL = {_NEW: "✚", _SHARED: "●", _ABSENT: "·"}

# Only the matrix needs its own rules: narrow, centred cells and a distinct look per state.
_MATRIX_CSS = (
    "table.matrix td.mx{text-align:center;padding:0 .2em;min-width:1.4em}"
    "table.matrix td.mx-new{background:#dbeafe;font-weight:bold}"
    "table.matrix td.mx-shared{background:#e5e7eb}"
    "table.matrix td.mx-absent{color:#9ca3af}"
    "table.matrix thead th{font-size:.8em;padding:0 .2em}"
)


@dataclass(frozen=True, slots=True)
class ReleaseLayers:
    """The layer digests of one release, in image order, over its platforms (sorted by key);
    one entry per release of the summary, in the same order."""

    name: str
    digests: tuple[str, ...]


def render_audit_html(
    summary: AuditSummary,
    layers: Sequence[ReleaseLayers],
    sizes: Mapping[str, int],
) -> bytes:
    """The audit page; `sizes` holds the stored size of each layer digest it knows."""
    releases = summary.releases
    statuses = Counter(r.status for r in releases)
    bad = statuses["problems"] + statuses["unreadable"]
    verdict = (
        '<div class="verdict v-ok"><p class="vword"><span class="vicon" aria-hidden="true">✓'
        f"</span> {len(releases)} release{_s(len(releases))} intact</p></div>"
        if not bad
        else '<div class="verdict v-failed"><p class="vword"><span class="vicon" '
        f'aria-hidden="true">✗</span> {bad} of {len(releases)} release{_s(len(releases))} '
        'with problems</p><p class="vnext"><a href="#problems">See the problems</a></p></div>'
    )
    header = verdict + definition_list(
        [
            ("releases", esc(f"{statuses['ok']} ok, {statuses['problems']} with problems, "
                             f"{statuses['unreadable']} unreadable")),
            ("unique layers", esc(f"{summary.unique_layers}, "
                                  f"{human_size(summary.unique_layer_bytes)}")),
            ("archives", esc(human_size(summary.archive_bytes))),
        ]
    )
    codes = Counter(
        c.code for r in releases for p in r.platforms for c in p.causes if not c.ignored
    )
    styles = CauseStyles.of(code for code, _ in sorted(codes.items(), key=lambda i: (-i[1], i[0])))
    sections = [_releases(releases, styles), _matrix(layers, sizes)]
    if bad:
        sections.append(_problems(releases))
    return render_page("ocidiff audit: releases", sections, header=header,
                       extra_css=style_css() + _MATRIX_CSS)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _releases(releases: Sequence[ReleaseRow], styles: CauseStyles) -> Section:
    rows = []
    for release in releases:
        new = sum(p.new_layers for p in release.platforms)
        shared = sum(p.shared_layers for p in release.platforms)
        counts: Counter[str] = Counter()
        for platform in release.platforms:
            counts.update({c.code: c.count for c in platform.causes if not c.ignored})
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:_TOP_CAUSES]
        hazards = sorted({h.code for p in release.platforms for h in p.hazards})
        previous = sorted({p.previous for p in release.platforms if p.previous})
        verdict = release.verdict
        status = "ok" if release.status == "ok" else "bad"
        cells = (
            esc(release.position + 1),
            f'<span class="val">{esc(release.name)}</span>',
            f'<span class="stat s-{status}">'
            f"{esc(_STATUS_MARK.get(release.status, release.status))}</span>",
            esc(human_size(release.size)),
            esc(f"{new} new, {shared} shared") if release.platforms else _none(),
            (esc(f"{_VERDICT_MARK.get(verdict, '?')} {verdict}")
             + "".join(f' <span class="quiet">vs {esc(p)}</span>' for p in previous))
            if verdict else _none(),
            " ".join(styles.badge(code, n) for code, n in top) or _none(),
            esc(f"{len(hazards)}: {', '.join(hazards)}") if hazards else esc("0"),
        )
        rows.append(Row(cells, "" if release.status == "ok" else "hl", heads=1))
    columns = ("#", "release", "status", "size", "layers", "vs previous", "top causes",
               "hazards")
    body = table("Every release, in audit order", columns, rows, cls="releases")
    return Section("releases", "Releases", body)


def _none() -> str:
    return '<span class="none">none</span>'


def matrix_columns(layers: Sequence[ReleaseLayers]) -> list[str]:
    """Every unique layer digest, in the order the releases first use it."""
    return list(dict.fromkeys(d for release in layers for d in release.digests))


def _matrix(layers: Sequence[ReleaseLayers], sizes: Mapping[str, int]) -> Section:
    columns = matrix_columns(layers)
    if not columns:
        return Section("matrix", "Release by layer", '<p class="quiet">No layer was read.</p>')
    shown = columns[:MAX_MATRIX_COLUMNS]
    note = ""
    if len(columns) > len(shown):
        note = (f'<p class="note warn">⚠ Only the first {len(shown)} of {len(columns)} unique '
                "layers are shown; the catalog (ocidiff query) has them all.</p>")
    legend = (
        f'<p class="legend">{_CELL[_NEW]} first seen in this release, {_CELL[_SHARED]} shared '
        f"with an earlier release, {_CELL[_ABSENT]} not in this release. Column L<i>n</i> is "
        "layer <i>n</i> of the list below.</p>"
    )
    seen: set[str] = set()
    rows = []
    for release in layers:
        has = set(release.digests)
        cells: list[str | tuple[str, str]] = [f'<span class="val">{esc(release.name)}</span>']
        for number, digest in enumerate(shown, 1):
            state = _ABSENT if digest not in has else _SHARED if digest in seen else _NEW
            cells.append((f"mx mx-{state}", f'<span title="L{number} {state}" aria-label='
                          f'"L{number} {state}">{_CELL[state]}</span>'))
        seen.update(has)
        rows.append(Row(tuple(cells), heads=1))
    heads = ("release", *(f"L{n}" for n in range(1, len(shown) + 1)))
    grid = table("Which layers each release holds", heads, rows, cls="matrix")
    uses = Counter(d for release in layers for d in set(release.digests))
    key_rows = [
        Row((esc(f"L{n}"), digest_code(digest),
             esc(human_size(sizes[digest])) if digest in sizes else _none(),
             esc(uses[digest])), heads=1)
        for n, digest in enumerate(shown, 1)
    ]
    key = table("The layers of the matrix", ("layer", "digest", "size", "releases"), key_rows,
                cls="layers")
    return Section("matrix", "Release by layer", note + legend + grid + key)


def _problems(releases: Sequence[ReleaseRow]) -> Section:
    rows = []
    for release in releases:
        name = f'<span class="val">{esc(release.name)}</span>'
        if release.error:
            rows.append(Row((name, esc("unreadable"), "", esc(release.error)), "hl", heads=1))
        for problem in release.problems:
            rows.append(Row((name, esc(problem.kind), f"<code>{esc(problem.subject)}</code>",
                             esc(problem.message)), "hl", heads=1))
    columns = ("release", "problem", "blob or member", "what was found")
    return Section("problems", "Problems", table("Every defect found", columns, rows))
