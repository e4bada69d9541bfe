"""`ocidiff verify-tree` as one self-contained HTML page: the verdict, the stale layers with the
build step that wrote them, every difference between the image and the build context, and the
build-commit label.

Pure: TreeReport -> bytes, on the shared page shell (html_page).
"""

from __future__ import annotations

from collections import Counter
from pathlib import PurePath

from ..gates.verify_tree import CONTENT, LayerVerdict, TreeFinding, TreeReport
from .html_page import Row, Section, definition_list, digest_code, esc, render_page, table
from .html_style import CauseStyles, style_css

# A page with a hundred thousand rows is unreadable; the JSON output keeps every finding.
MAX_FINDINGS = 5000

# What each kind of difference says about the build, in the order a person reads them.
_MEANING = {
    "content": "the file's bytes differ: the image was built from another version of it",
    "missing": "in the build context, not in the image: added after the build, or ignored "
    "by the build",
    "extra": "in the image, not in the build context: deleted since, or written by a RUN step",
    "type": "a file in one, a directory or link in the other",
    "symlink-target": "the link points elsewhere",
    "mode": "the permission bits differ",
}
_LABEL_OK = frozenset({"match", "present", "absent"})


def render_tree_html(report: TreeReport) -> bytes:
    styles = CauseStyles.of(kind for kind, _ in Counter(f.kind for f in report.findings)
                            .most_common())
    where = f"{report.path} in {report.image} ({report.platform})"
    if report.ok:
        verdict = (
            '<div class="verdict v-ok"><p class="vword"><span class="vicon" aria-hidden="true">'
            f'✓</span> Match</p><p class="vtext">{esc(where)} matches {esc(report.source)}.</p>'
            "</div>"
        )
    else:
        count = len(report.findings)
        verdict = (
            '<div class="verdict v-failed"><p class="vword"><span class="vicon" '
            f'aria-hidden="true">✗</span> Mismatch: {count} difference{"" if count == 1 else "s"}'
            f'</p><p class="vtext">{esc(where)} does not match {esc(report.source)}.</p>'
            + ('<p class="vnext"><a href="#stale">See the stale layers</a></p>'
               if any(v.stale for v in report.layers) else "")
            + "</div>"
        )
    header = verdict + definition_list(
        [
            ("image", f'<code class="path">{esc(report.image)}</code>'),
            ("platform", esc(report.platform)),
            ("path in the image", f'<code class="path">{esc(report.path)}</code>'),
            ("build context", f'<code class="path">{esc(report.source)}</code>'),
            ("ignore file", f'<code class="path">{esc(report.ignore_file)}</code>'
             if report.ignore_file else '<span class="none">none</span>'),
            ("paths compared", esc(f"{report.compared} ({report.ignored} ignored)")),
        ]
    )
    header += "".join(f'<p class="note warn">⚠ {esc(note)}</p>' for note in report.notes)
    sections = []
    stale = [v for v in report.layers if v.stale]
    if stale:
        sections.append(_stale(stale, report.path))
    sections.append(_differences(report, styles))
    sections.append(_layers(report))
    sections.append(_label(report))
    title = f"ocidiff verify-tree: {PurePath(report.image).name or report.image}"
    return render_page(title, sections, header=header, extra_css=style_css())


def _created_by(verdict: LayerVerdict) -> str:
    if not verdict.created_by:
        return '<span class="none">no history</span>'
    return f"<code>{esc(verdict.created_by)}</code>"


def _stale(stale: list[LayerVerdict], path: str) -> Section:
    rows = [
        Row((esc(f"#{v.index}"), _created_by(v), digest_code(v.digest),
             esc(f"{v.differing} of the {v.copied} files it wrote under {path}"),
             esc(v.findings)), "hl", heads=1)
        for v in stale
    ]
    columns = ("layer", "build step", "digest", "differ from the build context",
               "differences in the image")
    body = ('<p>These COPY or ADD steps copied files that are not what the build context holds '
            "now (stale-layer): rebuild from the current source, without a cached layer.</p>"
            + table("Stale layers", columns, rows, cls="layers"))
    return Section("stale", "Stale layers", body)


def _differences(report: TreeReport, styles: CauseStyles) -> Section:
    if not report.findings:
        return Section("differences", "Differences",
                       '<p class="quiet">No difference: every compared path matches.</p>')
    counts = Counter(f.kind for f in report.findings)
    summary = "".join(
        f"<li>{styles.badge(kind, n)} {esc(_MEANING.get(kind, ''))}</li>"
        for kind, n in counts.most_common()
    )
    shown = report.findings[:MAX_FINDINGS]
    note = ""
    if len(report.findings) > len(shown):
        note = (f'<p class="note warn">⚠ Only the first {len(shown)} of '
                f"{len(report.findings)} differences are shown; --format json has them all.</p>")
    rows = [_finding_row(f, report, styles) for f in shown]
    columns = ("difference", "path", "written by", "in the image", "in the build context")
    return Section("differences", "Differences",
                   f'<ul class="kinds">{summary}</ul>{note}'
                   + table("Image against build context", columns, rows, cls="findings"))


def _finding_row(finding: TreeFinding, report: TreeReport, styles: CauseStyles) -> Row:
    def side(value: str | None) -> str:
        if value is None:
            return '<span class="none">absent</span>'
        if finding.kind == CONTENT:
            return "blake3 " + digest_code(value)
        return f'<code class="val">{esc(value)}</code>'

    where = '<span class="none">no layer</span>'
    if finding.layer is not None:
        step = next((v.created_by for v in report.layers
                     if v.index == finding.layer and v.created_by), None)
        where = esc(f"#{finding.layer}") + (f" <code>{esc(step)}</code>" if step else "")
    return Row((styles.badge(finding.kind), f'<code class="path">{esc(finding.path)}</code>',
                where, ("old", side(finding.image)), ("new", side(finding.source))), "hl")


def _layers(report: TreeReport) -> Section:
    rows = [
        Row((esc(f"#{v.index}"),
             '<span class="stat s-bad">✗ stale</span>' if v.stale
             else '<span class="stat s-ok">✓ fine</span>',
             _created_by(v), digest_code(v.digest), esc(v.copied), esc(v.differing),
             esc(v.findings)), "hl" if v.stale else "", heads=1)
        for v in report.layers
    ]
    if not rows:
        return Section("layers", "Layers", '<p class="quiet">The image has no layer.</p>')
    columns = ("layer", "result", "build step", "digest", f"wrote under {report.path}",
               "of those, differ", "differences traced to it")
    return Section("layers", "Layers", table("Every layer", columns, rows, cls="layers"))


def _label(report: TreeReport) -> Section:
    label = report.label
    mark = "✓" if label.status in _LABEL_OK else "✗"
    body = definition_list(
        [
            ("label", f"<code>{esc(label.key)}</code>"),
            ("status", esc(f"{mark} {label.status}")),
            ("value", esc(label.value) if label.value is not None
             else '<span class="none">none</span>'),
            ("expected", esc(label.expected) if label.expected is not None
             else '<span class="none">not given</span>'),
            ("meaning", esc(label.message)),
        ]
    )
    return Section("label", "Build-commit label", body)
