"""`ocidiff verify` as one self-contained HTML page: the verdict, every defect with what it means
and what to do, and every layer blob with its size on a bar chart.

Pure: VerifyReport -> bytes, built on the shared page shell (html_page) and chart (html_chart).
"""

from __future__ import annotations

from collections import Counter
from pathlib import PurePath

from ..oci.image import ProblemKind
from ..verify import VerifyReport
from .formatting import human_size
from .html_chart import Bar, ChartRow, Part, render_layer_chart
from .html_page import (
    Row,
    Section,
    definition_list,
    digest_code,
    esc,
    render_page,
    table,
    value_code,
)
from .html_style import CauseStyles, style_css

# What each defect means for a reader, and what to do about it.
_ADVICE = {
    ProblemKind.DIGEST_MISMATCH: "the bytes changed after the digest was computed (damage or "
    "tampering): fetch or export the image again",
    ProblemKind.SIZE_MISMATCH: "the blob is not as long as its descriptor says (truncated or "
    "replaced): fetch or export the image again",
    ProblemKind.DIFF_ID_MISMATCH: "the uncompressed layer does not match the config's diff_id, so "
    "runtimes will reject it: rebuild or re-export the image",
    ProblemKind.MEDIA_TYPE_MISMATCH: "the media type promises another compression than the bytes "
    "have: export with a tool that sets media types correctly",
    ProblemKind.MISSING_BLOB: "a referenced blob is not in the archive: export it again with all "
    "layers (not a partial or deduplicated save)",
    ProblemKind.LAYER_COUNT_MISMATCH: "the manifest and the config disagree on the number of "
    "layers: the image was assembled wrongly",
    ProblemKind.UNREADABLE: "part of the archive could not be read: check the file's transfer",
    ProblemKind.DUPLICATE_MEMBER: "the archive holds two members with the same name; tools may "
    "pick different ones: re-create the archive",
    ProblemKind.TAR_DEFECT: "the tar data is malformed: re-create the archive",
}


def render_verify_html(report: VerifyReport) -> bytes:
    styles = CauseStyles.of(kind.value for kind in ProblemKind)
    ok = report.ok
    count = len(report.problems)
    verdict = (
        '<div class="verdict v-ok"><p class="vword"><span class="vicon" aria-hidden="true">✓'
        '</span> Intact</p><p class="vtext">Every blob matches its digest and size, every layer '
        "its diff_id, and every media type the bytes.</p></div>"
        if ok
        else '<div class="verdict v-failed"><p class="vword"><span class="vicon" '
        f'aria-hidden="true">✗</span> {count} problem{"s" if count != 1 else ""}</p>'
        '<p class="vtext">The archive does not match what its own manifests and configs claim. '
        'Each problem is listed below with what to do.</p><p class="vnext"><a href="#problems">'
        "See the problems</a></p></div>"
    )
    header = verdict + definition_list(
        [
            ("archive", f'<code class="path">{esc(report.source)}</code>'),
            ("format", esc(report.format)),
            ("blobs read", esc(report.blobs_checked)),
        ]
    )
    sections = []
    if not ok:
        sections.append(_problems(report, styles))
    sections.append(_layers(report, styles))
    sections.append(_archive(report))
    title = f"ocidiff verify: {PurePath(report.source).name or report.source}"
    return render_page(title, sections, header=header, extra_css=style_css())


def _problems(report: VerifyReport, styles: CauseStyles) -> Section:
    rows = []
    for problem in report.problems:
        claims = ""
        if problem.expected is not None or problem.actual is not None:
            claims = (
                f'<div class="old">expected {value_code(problem.expected, "nothing")}</div>'
                f'<div class="new">found {value_code(problem.actual, "nothing")}</div>'
            )
        cells = (
            styles.badge(problem.kind.value),
            value_code(problem.subject),
            esc(problem.message) + claims,
            esc(_ADVICE.get(problem.kind, "")),
        )
        rows.append(Row(cells, "hl"))
    columns = ("problem", "blob or member", "what was found", "what to do")
    return Section(
        "problems", "Problems", table("Every defect found", columns, rows, cls="problems")
    )


def _layers(report: VerifyReport, styles: CauseStyles) -> Section:
    bars: list[ChartRow] = []
    rows: list[Row] = []
    for layer in report.layers:
        kinds = sorted(Counter(p.kind.value for p in layer.problems).items())
        status = "bad" if layer.problems else "ok"
        bars.append(
            ChartRow(
                f"#{layer.index}",
                status,
                (Bar("", layer.size),),
                tuple(Part(styles.index(k), k, n) for k, n in kinds),
                f"{layer.platform}, {layer.compression}",
            )
        )
        problems = " ".join(styles.badge(k, n) for k, n in kinds)
        notes = "".join(f'<p class="note warn">⚠ {esc(note)}</p>' for note in layer.notes)
        mark = "✗ problems" if layer.problems else "✓ intact"
        cells = (
            esc(layer.index),
            esc(layer.platform),
            f'<span class="stat s-{status}">{mark}</span>',
            digest_code(layer.digest),
            digest_code(layer.diff_id),
            esc(layer.compression),
            esc(human_size(layer.size)),
            problems + notes,
        )
        rows.append(Row(cells, "hl" if layer.problems else "", heads=1))
    if not rows:
        return Section("layers", "Layers", '<p class="quiet">No layer was checked.</p>')
    chart = render_layer_chart(
        "verify-chart", "Layer blobs by size (bytes as stored); problems are labelled.", bars
    )
    columns = (
        "layer",
        "platform",
        "result",
        "digest",
        "diff_id",
        "compression",
        "size",
        "problems",
    )
    return Section(
        "layers", "Layers", chart + table("Every layer blob", columns, rows, cls="layers")
    )


def _archive(report: VerifyReport) -> Section:
    def listing(items: tuple[str, ...]) -> str:
        if not items:
            return '<span class="none">none</span>'
        return "<ul>" + "".join(f"<li>{digest_code(item)}</li>" for item in items) + "</ul>"

    body = definition_list(
        [
            ("absent blobs", listing(report.absent) + " (referenced, not in the archive; allowed)"),
            ("unreferenced blobs", listing(report.unreferenced) + " (allowed by the layout spec)"),
        ]
    )
    return Section("archive", "Archive", body)
