"""Results as GitHub/GitLab-flavoured Markdown, short enough for a CI job summary.

Pure: values in, str out. Every list is capped with an "... and N more" line (the JSON output
has everything). Names from images and build contexts are untrusted: they are shown in code
spans with a fence longer than any backtick run inside, control characters escaped, and `|`
escaped so a file name cannot break a table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..gates.ledger_check import CheckReport
from ..gates.verify_tree import TreeReport
from ..report import Change, Report, iter_changes
from ..verify import VerifyReport

MAX_ROWS = 20
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")
_VERDICT = {
    "identical": "IDENTICAL: the tarballs are byte-identical",
    "same-image": "SAME IMAGE: only packaging, names or index annotations differ",
    "equivalent": "EQUIVALENT: same files and runtime config; only timestamps, order, "
    "compression, encoding, build logs and caches or metadata differ",
    "different": "DIFFERENT: files or runtime configuration differ",
}


def _visible(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def code(text: str | None) -> str:
    """`text` as an inline code span that no content can escape from."""
    if text is None:
        return "-"
    body = _visible(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or not body.strip() else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def escape(text: str) -> str:
    """Plain text with Markdown and HTML meaning removed."""
    return _SPECIAL.sub(r"\\\1", _visible(text))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], total: int | None = None) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows[:MAX_ROWS])
    hidden = (total if total is not None else len(rows)) - min(len(rows), MAX_ROWS)
    out = "\n".join(lines) + "\n"
    if hidden > 0:
        out += f"\n... and {hidden} more (the JSON output has all of them)\n"
    return out


def _short(digest: str | None) -> str:
    return code(digest.split(":", 1)[-1][:12]) if digest else "-"


# -- diff -------------------------------------------------------------------------------------


def render_diff_markdown(report: Report) -> str:
    summary = report.summary
    lines = [
        f"### ocidiff diff: {escape(_VERDICT.get(summary.verdict, summary.verdict))}",
        "",
        f"{code(report.inputs[0])} → {code(report.inputs[1])}",
        "",
    ]
    left = [c for c in report.causes if not c.ignored]
    lines.append(
        f"**{len(left)} cause(s) left after ignores** (exit code {summary.exit_code})"
        + (
            " — **incomplete**: part of the comparison could not be done"
            if summary.incomplete
            else ""
        )
    )
    lines.append("")
    out = "\n".join(lines) + "\n"
    if report.causes:
        rows = [
            [
                code(c.code) + (" (ignored)" if c.ignored else ""),
                str(c.count),
                escape(c.meaning),
                _change_text(c.examples[0]) if c.examples else "",
                "" if c.ignored else escape(c.fix),
            ]
            for c in report.causes
        ]
        out += _table(["cause", "count", "meaning", "example", "fix"], rows) + "\n"
    changes = [c for c in iter_changes(report.tree) if c.cause not in summary.ignored]
    if changes:
        out += (
            f"<details><summary>Changes ({len(changes)})</summary>\n\n"
            + _table(["cause", "where"], [[code(c.cause), _change_text(c)] for c in changes])
            + "\n</details>\n"
        )
    return out


def _change_text(change: Change) -> str:
    text = code(change.locator)
    if change.field:
        text += " " + escape(change.field)
    if change.old is not None or change.new is not None:
        text += f": {code(_clip(change.old))} → {code(_clip(change.new))}"
    if change.detail:
        text += f" ({escape(_clip(change.detail) or '')})"
    return text


def _clip(text: str | None, limit: int = 60) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


# -- verify -----------------------------------------------------------------------------------


def render_verify_markdown(report: VerifyReport) -> str:
    verdict = "OK" if report.ok else f"FAILED: {len(report.problems)} problem(s)"
    out = (
        f"### ocidiff verify: {verdict}\n\n{code(report.source)} ({escape(report.format)}), "
        f"{report.blobs_checked} blob(s) read, {len(report.layers)} layer(s) checked\n"
    )
    if report.problems:
        rows = [
            [
                code(p.kind.value),
                code(p.subject),
                escape(p.message),
                f"{code(p.expected)} / {code(p.actual)}" if p.expected or p.actual else "",
            ]
            for p in report.problems
        ]
        out += "\n" + _table(["problem", "subject", "what", "expected / actual"], rows)
    return out


# -- verify-tree ------------------------------------------------------------------------------


def render_tree_markdown(report: TreeReport) -> str:
    verdict = "MATCH" if report.ok else f"MISMATCH: {len(report.findings)} difference(s)"
    out = (
        f"### ocidiff verify-tree: {verdict}\n\n{code(report.path)} in {code(report.image)} "
        f"({escape(report.platform)}) against {code(report.source)}: {report.compared} "
        f"path(s) compared, {report.ignored} ignored\n\n"
    )
    for note in report.notes:
        out += f"> {escape(note)}\n\n"
    for layer in (v for v in report.layers if v.stale):
        out += (
            f"- **stale layer #{layer.index}** {_short(layer.digest)} "
            f"{code(_clip(layer.created_by, 80) or '(no history)')}: {layer.differing} of "
            f"the {layer.copied} files it wrote differ from the build context\n"
        )
    created = {v.index: v.created_by for v in report.layers}
    if report.findings:
        rows = [
            [
                escape(f.kind),
                code(f.path),
                f"#{f.layer} {code(_clip(created.get(f.layer), 40))}"
                if f.layer is not None
                else "-",
                code(_clip(f.image, 16)),
                code(_clip(f.source, 16)),
            ]
            for f in report.findings
        ]
        out += "\n" + _table(
            ["difference", "path", "last written by layer", "image", "context"], rows
        )
    label = report.label
    out += f"\n**label** {code(label.key)}: {escape(label.status)} — {escape(label.message)}\n"
    return out


# -- ledger check -----------------------------------------------------------------------------


def render_check_markdown(report: CheckReport) -> str:
    verdict = "PASS" if report.ok else "FAIL"
    meaning = {
        "unrecorded": "these inputs were never recorded",
        "same-image": "these inputs were recorded with this same image",
        "different-image": "these inputs once produced a different image",
    }[report.verdict]
    out = (
        f"### ocidiff ledger check: {verdict}\n\nfingerprint {code(report.fingerprint)}: "
        f"{meaning}\n"
    )
    rows = [
        [
            code(c.release),
            escape(c.platform),
            escape(d.level if d.layer is None else f"layer #{d.layer}"),
            escape(d.detail),
            _short(d.recorded),
            _short(d.image),
        ]
        for c in report.comparisons
        for d in c.differences
    ]
    if rows:
        out += "\n" + _table(
            ["release", "platform", "level", "what", "recorded", "this image"], rows
        )
    if report.diff is not None:
        diff = report.diff
        out += f"\n**diff against {code(diff.against)}: {escape(diff.verdict)}**\n"
        if diff.causes:
            out += "\n" + _table(
                ["cause", "count", "meaning"],
                [[code(c.code), str(c.count), escape(c.meaning)] for c in diff.causes],
            )
    return out
