"""The diff report as text for a person: verdict first, causes ranked with a count and one
example, then the tree level by level. Fits 80 columns; colour only when asked (the CLI decides,
honouring NO_COLOR and whether stdout is a terminal)."""

from __future__ import annotations

import re
import textwrap

from ..report import Change, Node, Report
from ..safe_text import terminal_safe

_WIDTH = 80
_COMPONENT = re.compile(r"[^/]*/|[^/]+")  # a path component with its '/'
# An OCI digest (image-spec descriptor.md grammar, hex encodings): never cut.
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-f]{32,}")
_VERDICT_TEXT = {
    "identical": "IDENTICAL: the tarballs are byte-identical",
    "same-image": "SAME IMAGE: every manifest is equal; only packaging, names or index "
    "annotations differ",
    "equivalent": "EQUIVALENT: same files and runtime config; only timestamps, order, "
    "compression, encoding, build logs and caches or metadata differ",
    "different": "DIFFERENT: files or runtime configuration differ",
}
_COLOURS = {"identical": "32", "same-image": "32", "equivalent": "33", "different": "31"}


def render_text(report: Report, *, colour: bool = False, max_changes: int = 40) -> str:
    summary = report.summary
    verdict = _VERDICT_TEXT.get(summary.verdict, summary.verdict)
    if colour:
        verdict = f"\x1b[1;{_COLOURS.get(summary.verdict, '0')}m{verdict}\x1b[0m"
    lines = _wrap(verdict)
    lines.append(f"  {terminal_safe(report.inputs[0])}")
    lines.append(f"  {terminal_safe(report.inputs[1])}")
    if summary.incomplete:
        lines.append("  INCOMPLETE: part of the comparison could not be done (see below)")
    if report.causes:
        lines.append("")
        lines.append("Causes (most important first):")
        for cause in report.causes:
            mark = " (ignored)" if cause.ignored else ""
            lines.extend(
                _wrap(
                    f"{cause.code:<20} {cause.count:>6}  {cause.meaning}{mark}",
                    indent="  ",
                    hang=30,
                )
            )
            if cause.examples:
                lines.extend(
                    _wrap(
                        "e.g. " + describe_change(cause.examples[0], example=True),
                        indent=" " * 30,
                        hang=35,
                    )
                )
            if not cause.ignored:
                lines.extend(_wrap("fix: " + cause.fix, indent=" " * 30, hang=35))
    lines.append("")
    lines.append("Details:")
    budget = [max_changes]
    _node_lines(report.tree, 1, lines, budget)
    if budget[0] < 0:
        lines.append(f"  ... {-budget[0]} more changes; use --format json for all of them")
    return "\n".join(lines) + "\n"


def describe_change(change: Change, *, example: bool = False) -> str:
    """One change as text; paths, values and details come from images: made terminal-safe.
    An `example` (the causes summary) shows digests by their first 12 hex digits, as
    `docker images` does; the details show them whole."""
    where = terminal_safe(change.locator)
    what = f" {change.field}" if change.field else ""
    values = ""
    if change.old is not None or change.new is not None:
        values = f": {_short(change.old, brief=example)} -> {_short(change.new, brief=example)}"
    detail = f" ({terminal_safe(change.detail)})" if change.detail else ""
    return f"{where}{what}{values}{detail}"


def _short(value: str | None, limit: int = 60, *, brief: bool = False) -> str:
    """A value cut to `limit` characters, except a digest: whole (wrapped across lines when
    wider than the page), or its short form when `brief`; a digest cut anywhere else names
    nothing."""
    if value is None:
        return "(none)"
    value = terminal_safe(value)
    if _DIGEST.fullmatch(value):
        algorithm, _, encoded = value.partition(":")
        return f"{algorithm}:{encoded[:12]}" if brief else value
    if len(value) <= limit:
        return value
    if "/" in value and " " not in value:
        # A path says most at its end: keep the file name, drop leading components.
        tail = value[-(limit - 3) :]
        slash = tail.find("/")
        return "..." + (tail[slash:] if 0 <= slash < len(tail) - 1 else tail)
    return value[: limit - 3] + "..."


# Drill-down facts of an `entry` node shown under it (sizes and digests stay in the JSON).
_ENTRY_FACTS = ("similarity", "changed-ranges")


def _node_lines(node: Node, depth: int, lines: list[str], budget: list[int]) -> None:
    indent = "  " * depth
    if node.status == "equal" and node.kind in ("layer", "config"):
        return
    if node.kind == "entry" and budget[0] <= 0:
        budget[0] -= len(node.changes)  # counted in the "... more changes" line, not shown
        return
    facts = ""
    if node.kind == "layer":
        facts = " " + " ".join(
            f"{k}={v.split(':')[-1][:12]}" for k, v in node.facts if k.endswith("digest")
        )
    lines.extend(_wrap(f"{indent}{node.kind} {_short(node.name, 200)}: {node.status}{facts}",
                       hang=len(indent) + 4))
    for note in node.notes:
        lines.extend(_wrap(f"{indent}  note: {terminal_safe(note)}", hang=len(indent) + 8))
    for change in node.changes:
        budget[0] -= 1
        if budget[0] >= 0:
            lines.extend(
                _wrap(
                    f"[{change.cause}] {describe_change(change)}",
                    indent=indent + "  ",
                    hang=len(indent) + 6,
                )
            )
    if node.kind == "entry":
        for key, value in node.facts:
            if key in _ENTRY_FACTS:
                lines.extend(
                    _wrap(f"{indent}  {key}: {terminal_safe(value)}", hang=len(indent) + 6)
                )
    if node.text_diff:
        for line in node.text_diff.splitlines():
            lines.extend(_diff_line(indent + "  ", line))
    for child in node.children:
        _node_lines(child, depth + 1, lines, budget)


def _diff_line(prefix: str, line: str) -> list[str]:
    """One unified diff line cut to the width, not re-flowed: code keeps its spacing, and the
    pieces after the first are indented past the +/- column so they never read as diff lines.
    Trailing blanks are dropped (an empty context line is just its marker)."""
    room = max(_WIDTH - len(prefix), 20)
    pieces = [prefix + line[:room]]
    rest = line[room:]
    while rest:
        pieces.append(prefix + "   " + rest[: room - 3])
        rest = rest[room - 3 :]
    return [piece.rstrip() for piece in pieces]


class _PathWrapper(textwrap.TextWrapper):
    """Wraps at spaces, and a path longer than a line between its components; a component
    longer than a line is cut at the width. A digest breaks after its algorithm, so the hex
    stays whole on the next line."""

    def _split_chunks(self, text: str) -> list[str]:
        # A path longer than a continuation line will be cut anyway: offer every '/' as a break,
        # so it fills the line it starts on instead of leaving that line short.
        room = self.width - len(self.subsequent_indent)
        chunks: list[str] = []
        for chunk in super()._split_chunks(text):
            if len(chunk) > room and "/" in chunk and not _DIGEST.fullmatch(chunk):
                chunks.extend(_COMPONENT.findall(chunk))
            else:
                chunks.append(chunk)
        return chunks

    def _handle_long_word(
        self, reversed_chunks: list[str], cur_line: list[str], cur_len: int, width: int
    ) -> None:
        room = max(width - cur_len, 1)
        chunk = reversed_chunks[-1]
        if _DIGEST.fullmatch(chunk):
            cut = chunk.index(":") + 1  # after the algorithm, wherever it fits
            fits = cut <= room
            if not fits and cur_line:
                return  # the line ends here; the digest starts the next one
        else:
            cut = chunk.rfind("/", 0, room) + 1
            fits = cut > room // 2
        if self.break_long_words and fits:
            cur_line.append(chunk[:cut])
            reversed_chunks[-1] = chunk[cut:]
            return
        super()._handle_long_word(reversed_chunks, cur_line, cur_len, width)


def _wrap(text: str, *, indent: str = "", hang: int | None = None) -> list[str]:
    subsequent = " " * (hang if hang is not None else len(indent))
    wrapper = _PathWrapper(
        _WIDTH,
        initial_indent=indent,
        subsequent_indent=subsequent,
        break_long_words=True,  # a word longer than a line (a digest) still has to be cut
        break_on_hyphens=False,
    )
    return wrapper.wrap(text) or [indent]
