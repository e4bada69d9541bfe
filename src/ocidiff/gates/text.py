"""The gates' results as text for a terminal or a CI log: verdict first, then what to look at.

Pure functions from result values to str; no IO. Paths from images are untrusted: control
characters are shown escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..digest import short
from .fingerprint import BUILD_ARG, Fingerprint
from .ledger import LedgerRecord, RecordOutcome
from .ledger_check import CheckReport
from .pinning import Advice
from .verify_tree import CONTENT, MODE, TreeFinding, TreeReport


def safe(text: str | None) -> str:
    """A name with control characters escaped, so a hostile path cannot drive the terminal."""
    if text is None:
        return "-"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# -- verify-tree ------------------------------------------------------------------------------


def render_tree(report: TreeReport) -> str:
    where = f"{report.path} in {safe(report.image)} ({report.platform})"
    if report.ok:
        lines = [f"MATCH: {where} matches {safe(report.source)} "
                 f"({report.compared} paths compared, {report.ignored} ignored)"]
    else:
        lines = [f"MISMATCH: {where} does not match {safe(report.source)}: "
                 f"{len(report.findings)} difference(s)"]
    lines.extend(f"  note: {note}" for note in report.notes)
    stale = [v for v in report.layers if v.stale]
    if stale:
        lines.append("Stale layers (stale-layer):")
        for verdict in stale:
            lines.append(f"  layer #{verdict.index} {short(verdict.digest)}  "
                         f"{safe(verdict.created_by) if verdict.created_by else '(no history)'}")
            lines.append(f"      {verdict.differing} of the {verdict.copied} files it wrote under "
                         f"{report.path} differ from the build context; {verdict.findings} "
                         "difference(s) in the image trace to it")
    if report.findings:
        lines.append("Differences (image vs build context):")
        lines.extend("  " + finding_line(f, report) for f in report.findings)
    label = report.label
    lines.append(f"Label: {label.status}: {safe(label.message)}")
    return "\n".join(lines) + "\n"


def finding_line(finding: TreeFinding, report: TreeReport) -> str:
    where = _layer_text(finding.layer, report)
    if finding.kind == MODE:
        values = f"  {finding.image} in the image, {finding.source} in the context"
    elif finding.kind == CONTENT:
        values = f"  blake3 {short(finding.image)} in the image, {short(finding.source)} here"
    elif finding.image is not None or finding.source is not None:
        values = f"  image: {safe(finding.image)}, context: {safe(finding.source)}"
    else:
        values = ""
    return f"{finding.kind:<14} {safe(finding.path)}  [{where}]{values}"


def _layer_text(index: int | None, report: TreeReport) -> str:
    if index is None:
        return "no layer"
    for verdict in report.layers:
        if verdict.index == index and verdict.created_by:
            return f"layer #{index}: {_clip(safe(verdict.created_by))}"
    return f"layer #{index}"


def _clip(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- fingerprint ------------------------------------------------------------------------------


def render_fingerprint(result: Fingerprint, *, explain: bool) -> str:
    lines = [result.fingerprint]
    if explain:
        for item in result.inputs:
            hidden = "  (value not shown)" if item.kind == BUILD_ARG else ""
            lines.append(f"  {item.kind:<10} {item.digest}  {safe(item.name)}{hidden}")
    return "\n".join(lines) + "\n"


def advice_line(advice: Advice) -> str:
    where = ""
    if advice.file is not None:
        where = f"{safe(advice.file)}:{advice.line}: " if advice.line else f"{safe(advice.file)}: "
    return f"{where}{safe(advice.message)} [{advice.code}]"


# -- ledger -----------------------------------------------------------------------------------


def render_outcome(outcome: RecordOutcome, ledger: str) -> str:
    lines: list[str] = []
    for record in outcome.added:
        lines.append(f"recorded {_who(record)} {record.manifest_digest or record.config_digest} "
                     f"in {safe(ledger)}")
    for record in outcome.already:
        lines.append(f"already recorded (nothing written): {_who(record)}")
    for old, new in outcome.conflicts:
        lines.append(f"CONFLICT: {_who(old)} is already recorded with "
                     f"{old.manifest_digest or old.config_digest} (fingerprint "
                     f"{old.fingerprint or '-'}); this image is "
                     f"{new.manifest_digest or new.config_digest} (fingerprint "
                     f"{new.fingerprint or '-'})")
    if outcome.conflicts:
        lines.append("nothing was written: the ledger is append-only")
    return "\n".join(lines) + "\n"


def _who(record: LedgerRecord) -> str:
    return f"release {safe(record.release)} {record.platform}"


def render_check(report: CheckReport) -> str:
    fp = report.fingerprint
    if report.verdict == "unrecorded":
        lines = [f"PASS: fingerprint {fp} was never recorded for "
                 f"{', '.join(report.unrecorded_platforms) or 'these platforms'}"]
    elif report.ok:
        releases = ", ".join(sorted({safe(c.release) for c in report.comparisons}))
        lines = [f"PASS: fingerprint {fp} was recorded with this same image "
                 f"(release {releases})"]
    else:
        lines = [f"FAIL: the inputs with fingerprint {fp} once produced a different image"]
    for comparison in report.comparisons:
        if comparison.same_image and not comparison.differences:
            continue
        state = "same image" if comparison.same_image else "DIFFERENT image"
        lines.append(f"  release {safe(comparison.release)} {comparison.platform}: {state}")
        for d in comparison.differences:
            name = f"layer #{d.layer}" if d.layer is not None else d.level
            lines.append(f"    {name:<10} {d.detail}: {d.recorded or '-'} -> {d.image or '-'}")
    if report.ok and report.unrecorded_platforms and report.verdict != "unrecorded":
        lines.append(f"  not recorded before: {', '.join(report.unrecorded_platforms)}")
    if report.diff is not None:
        diff = report.diff
        lines.append(f"Diff against {safe(diff.against)}: {diff.verdict.upper()}")
        lines.extend(f"  {c.code:<20} {c.count:>6}  {c.meaning}" for c in diff.causes)
    return "\n".join(lines) + "\n"


def render_records(records: Sequence[LedgerRecord]) -> str:
    """`ledger show`: every field of every record, to the byte."""
    lines: list[str] = []
    for record in records:
        lines.append(f"release {safe(record.release)} {record.platform}")
        for label, value in (
            ("image", safe(record.image)),
            ("archive sha256", record.archive_sha256),
            ("format", record.archive_format),
            ("producers", ", ".join(record.producers) or "-"),
            ("fingerprint", record.fingerprint),
            ("index", record.index_digest),
            ("manifest", record.manifest_digest),
            ("config", record.config_digest),
        ):
            lines.append(f"  {label:<15} {value or '-'}")
        for layer in record.layers:
            lines.append(f"  layer #{layer.index:<7} {layer.digest or '-'}  diff_id "
                         f"{layer.diff_id or '-'}  {layer.size if layer.size is not None else '?'}"
                         f" bytes  {layer.media_type or '-'}")
    return "\n".join(lines) + "\n"


def render_list(records: Sequence[LedgerRecord]) -> str:
    """`ledger list`: one line per record, in the order recorded."""
    if not records:
        return "(the ledger is empty)\n"
    width = max(len(safe(r.release)) for r in records)
    return "".join(
        f"{safe(r.release):<{width}}  {r.platform:<14} "
        f"{short(r.manifest_digest or r.config_digest)}  fingerprint {short(r.fingerprint)}  "
        f"{safe(r.image)}\n"
        for r in records
    )
