"""The drill-down of one path whose content differs: an `entry` node with a bounded unified diff
for text, or changed byte ranges and a similarity for binaries.

Pure. Works from the bytes captured during the layer pass when both sides have them (small
files), else from the content-defined chunk lists of large files; with neither it says only what
the entry headers say (sizes and digests). Never decides a cause: the explainers do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..inventory import FileEntry
from ..report import Change, Node
from .binary import common_ends
from .text import unified_diff

if TYPE_CHECKING:  # chunking imports numpy and blake3: only load it when chunks are compared
    from ..chunking import Chunk

DIFF_LINES = 60  # per file in the report
MAX_RANGES = 8  # changed byte ranges listed per file
MAX_DETAILED = 200  # files per entry list given a drill-down: bounds the report and difflib time


def content_node(
    a: FileEntry,
    b: FileEntry,
    changes: Sequence[Change],
    contents: Mapping[str, bytes],
    *,
    detailed: bool = True,
) -> Node:
    """The `entry` node for a path whose content differs, holding `changes` (its content causes).
    Without `detailed`, only the sizes and digests (the caller bounds how many diffs it makes)."""
    facts: list[tuple[str, str]] = [
        ("old-size", str(a.size)),
        ("new-size", str(b.size)),
        ("old-blake3", a.digest or "-"),
        ("new-blake3", b.digest or "-"),
    ]
    if not detailed:
        notes = ("drill-down left out: too many files differ in this comparison",)
        return Node("entry", a.path, "changed", tuple(changes), (), tuple(facts), notes)
    old = contents.get(a.digest or "")
    new = contents.get(b.digest or "")
    text_diff = None
    if old is not None and new is not None:
        text_diff = unified_diff(old, new, path=a.path, max_lines=DIFF_LINES)
        if text_diff is None:
            facts.extend(byte_facts(old, new))
    elif a.chunks and b.chunks:
        facts.extend(_chunk_facts(a, b))
    return Node("entry", a.path, "changed", tuple(changes), (), tuple(facts), (), text_diff)


def byte_facts(old: bytes, new: bytes) -> list[tuple[str, str]]:
    """Similarity and changed ranges of two byte strings, in vectorised passes.

    Same length: the share of equal bytes at equal offsets, and the runs of differing bytes.
    Other lengths: the share of the longer one covered by the common prefix and suffix, and the
    span between them on each side (an insertion or deletion shifts everything after it, so
    offset-wise runs would mean nothing).
    """
    import numpy as np  # lazy: most diffs never compare binaries

    a = np.frombuffer(old, dtype=np.uint8)
    b = np.frombuffer(new, dtype=np.uint8)
    longest = max(len(a), len(b)) or 1
    if len(a) == len(b):
        differs = a != b
        count = int(np.count_nonzero(differs))
        edges = np.flatnonzero(np.diff(np.concatenate(([0], differs.view(np.int8), [0]))))
        runs = [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)]
        return [
            ("similarity", _percent(1 - count / longest)),
            ("changed-ranges", _ranges(runs)),
        ]
    prefix, suffix = common_ends(a, b)
    span_old = f"old {_span(prefix, len(a) - suffix)}"
    span_new = f"new {_span(prefix, len(b) - suffix)}"
    return [
        ("similarity", _percent((prefix + suffix) / longest)),
        ("changed-ranges", f"{span_old} -> {span_new}"),
    ]


def similarity_note(a: FileEntry, b: FileEntry) -> str:
    """", 93% of chunks shared" when both sides have chunk lists, else ""."""
    if not (a.chunks and b.chunks):
        return ""
    from ..chunking import chunk_similarity

    return f", {chunk_similarity(_chunks(a), _chunks(b)):.0%} of chunks shared"


def _chunk_facts(a: FileEntry, b: FileEntry) -> list[tuple[str, str]]:
    from ..chunking import changed_ranges, chunk_similarity

    old, new = _chunks(a), _chunks(b)
    ranges = changed_ranges(old, new)
    return [
        ("similarity", _percent(chunk_similarity(old, new))),
        ("changed-ranges", "new " + _ranges(list(ranges)) if ranges else "none (chunks moved)"),
    ]


def _chunks(entry: FileEntry) -> list[Chunk]:
    from ..chunking import Chunk

    return [Chunk(c.offset, c.length, bytes.fromhex(c.digest)) for c in entry.chunks or ()]


def _ranges(runs: Sequence[tuple[int, int]]) -> str:
    shown = ", ".join(_span(start, stop) for start, stop in runs[:MAX_RANGES])
    more = len(runs) - MAX_RANGES
    return f"{shown} and {more} more" if more > 0 else shown


def _span(start: int, stop: int) -> str:
    """A half-open byte range as inclusive hex offsets and a length: "0x64-0x6b (8 bytes)",
    "0x4f (1 byte)", or where an insertion goes: "0x5 (nothing)"."""
    if stop <= start:
        return f"0x{start:x} (nothing)"
    if stop == start + 1:
        return f"0x{start:x} (1 byte)"
    return f"0x{start:x}-0x{stop - 1:x} ({stop - start} bytes)"


def _percent(share: float) -> str:
    # Floor, so only equal contents show 100%.
    return f"{int(share * 1000) / 10:g}%"
