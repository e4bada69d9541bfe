"""`ocidiff verify` as text: a verdict line, then every defect with its blob."""

from __future__ import annotations

from ..digest import short
from ..safe_text import terminal_safe
from ..verify import VerifyReport
from .formatting import human_size


def render_verify(report: VerifyReport) -> str:
    verdict = "OK" if report.ok else f"FAILED: {len(report.problems)} problem(s)"
    source = terminal_safe(report.source)
    lines = [f"{verdict}  {source} ({report.format}), {report.blobs_checked} blob(s) read"]
    for problem in report.problems:
        # Subjects and messages may quote names and values from the archive.
        line = f"  {problem.kind.value}: {problem.subject}: {problem.message}"
        if problem.expected is not None or problem.actual is not None:
            line += f" (expected {problem.expected}, got {problem.actual})"
        lines.append(terminal_safe(line))
    for verdict_ in report.layers:
        status = "ok" if not verdict_.problems else "BAD"
        lines.append(
            f"  {status:3} {verdict_.platform} layer #{verdict_.index} "
            f"{short(verdict_.digest)} {verdict_.compression} "
            f"{human_size(verdict_.size)} diff_id {short(verdict_.diff_id)}"
        )
        for note in verdict_.notes:
            lines.append(f"      note: {terminal_safe(note)}")
    if report.absent:
        lines.append(
            f"  absent (referenced, not in the archive; not an error): {len(report.absent)}"
        )
    if report.unreferenced:
        lines.append(
            "  unreferenced blobs (allowed by the layout spec): "
            + terminal_safe(", ".join(report.unreferenced))
        )
    return "\n".join(lines) + "\n"
