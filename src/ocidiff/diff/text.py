"""Text files: lines in another order, lines that differ only by a timestamp, and a bounded
unified diff for people.

Owns line-multiset comparison and the timestamp patterns. Explaining is linear in the input
(multisets of lines, never an alignment); only `unified_diff` runs difflib, and only on inputs
small enough that its worst case stays cheap.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TypeVar

from ..safe_text import CONTENT_ESCAPES, terminal_safe
from .findings import Cause, ContentFinding, capped, counted, shown_bytes

TEXT_SNIFF_BYTES = 8192
DIFF_MAX_BYTES = 2 << 20  # difflib is quadratic in the worst case: above these, summarise
DIFF_MAX_LINES = 20_000

_MONTH = rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_WEEKDAY = rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_CLOCK = rb"\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?"
# Longest forms first, so a ctime date is masked whole rather than as a clock plus a year.
_TIMESTAMP = re.compile(
    rb"|".join(
        (
            # asctime/ctime and date(1): "Mon Jan  1 00:00:00 2024", "Mon Jan  1 00:00:00 UTC 2024"
            _WEEKDAY + rb",? +" + _MONTH + rb" +\d{1,2} +" + _CLOCK + rb"(?: +[A-Z]{3,5})? +\d{4}",
            # RFC 5322 dates: "Mon, 01 Jan 2024 00:00:00 +0000"
            _WEEKDAY + rb", +\d{1,2} +" + _MONTH + rb" +\d{4} +" + _CLOCK
            + rb"(?: +(?:[+-]\d{4}|[A-Z]{2,5}))?",
            # ISO 8601 / RFC 3339 date, optionally with a time and a zone
            rb"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?"
            rb"(?:Z|[+-]\d{2}:?\d{2})?)?",
            # C's __DATE__ ("May  1 2024") and a bare __TIME__-like clock
            _MONTH + rb" +\d{1,2} +\d{4}",
            rb"(?<![\d:])" + _CLOCK + rb"(?![\d:])",
            # Unix epoch seconds (2001..2033) or milliseconds, with an optional fraction
            rb"(?<![\d.])1\d{9}(?:\d{3})?(?:\.\d+)?(?!\d)",
        )
    )
)
_MASK = b"<timestamp>"
_Line = TypeVar("_Line", bytes, str)

# Control characters are shown escaped so a diff can never drive a terminal.
def is_text(data: bytes) -> bool:
    """Text by the usual heuristic: no NUL in the first 8 KiB (every byte decodes as latin-1)."""
    return b"\0" not in data[:TEXT_SNIFF_BYTES]


def decode_text(data: bytes) -> str:
    """UTF-8 when valid, else latin-1, which maps every byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def mask_timestamps(line: bytes) -> bytes:
    """`line` with every timestamp-like token replaced by one marker."""
    return _TIMESTAMP.sub(_MASK, line)


def explain_text(path: str, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
    """Order-only, timestamp-only, or `content` with line counts (JSON: compared as documents)."""
    if path.endswith(".json"):
        same_document = _json_finding(old, new)
        if same_document is not None:
            return (same_document,)
    old_lines, new_lines = _lines(old), _lines(new)
    if old_lines == new_lines:
        return (ContentFinding(Cause.CONTENT, "only the newline at the end of the file differs"),)
    if [line.rstrip(b"\r\n") for line in old_lines] == [line.rstrip(b"\r\n") for line in new_lines]:
        detail = f"line endings differ ({_line_ending(old)} -> {_line_ending(new)})"
        return (ContentFinding(Cause.CONTENT, detail),)
    old_count, new_count = Counter(old_lines), Counter(new_lines)
    if old_count == new_count:
        detail = f"the same {len(old_lines)} lines in another order"
        return (ContentFinding(Cause.CONTENT_ORDER, detail),)
    removed = _numbered(old_lines, old_count - new_count)
    added = _numbered(new_lines, new_count - old_count)
    pairs = _timestamp_pairs(removed, added)
    findings: list[ContentFinding] = []
    if pairs:
        findings.append(_timestamp_finding(pairs))
    other_removed = len(removed) - len(pairs)
    other_added = len(added) - len(pairs)
    if other_removed or other_added:
        findings.append(_content_finding(removed, added, pairs, other_removed, other_added))
    elif [mask_timestamps(line) for line in old_lines] != [
        mask_timestamps(line) for line in new_lines
    ]:
        detail = "apart from the timestamps, the same lines in another order"
        findings.append(ContentFinding(Cause.CONTENT_ORDER, detail))
    return tuple(findings)


def _json_finding(old: bytes, new: bytes) -> ContentFinding | None:
    """A finding when both are the same JSON document up to key order or formatting."""
    try:
        documents = _json_literal(old), _json_literal(new)
        if documents[0] == documents[1]:
            detail = "the JSON documents are equal; only formatting (whitespace, escapes) differs"
            return ContentFinding(Cause.CONTENT, detail)
        if _unordered(documents[0]) == _unordered(documents[1]):
            detail = "the same JSON document, keys in another order"
            return ContentFinding(Cause.CONTENT_ORDER, detail)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than we follow
        return None
    return None


def _json_literal(data: bytes) -> object:
    # Numbers stay their literal text (1 and 1.0 are different bytes in a build), objects stay
    # ordered pairs, so equality here means "same document, same key order".
    return json.loads(
        data,
        object_pairs_hook=lambda pairs: ("object", tuple(pairs)),
        parse_float=lambda text: ("number", text),
        parse_int=lambda text: ("number", text),
        parse_constant=lambda text: ("number", text),
    )


def _unordered(value: object) -> object:
    if isinstance(value, list):
        return [_unordered(item) for item in value]
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "object":
        pairs = sorted(value[1], key=lambda pair: pair[0])
        return ("object", tuple((key, _unordered(item)) for key, item in pairs))
    return value


def _lines(data: bytes) -> list[bytes]:
    # A missing final newline would make the last line unequal to its moved copy; give it one
    # and let the caller see the (rare) case where nothing but that newline differs.
    lines = data.splitlines(keepends=True)
    if lines and not lines[-1].endswith((b"\n", b"\r")):
        lines[-1] += b"\n"
    return lines


def _line_ending(data: bytes) -> str:
    crlf = data.count(b"\r\n")
    lf = data.count(b"\n") - crlf
    if crlf and lf:
        return "mixed"
    return "CRLF" if crlf else "LF" if lf else "CR"


def _numbered(lines: Sequence[_Line], surplus: Counter[_Line]) -> list[tuple[int, _Line]]:
    """(1-based line number, line) of the lines in `surplus`, earliest occurrences first."""
    left = surplus.copy()
    out: list[tuple[int, _Line]] = []
    for number, line in enumerate(lines, 1):
        if left[line] > 0:
            left[line] -= 1
            out.append((number, line))
    return out


Pair = tuple[tuple[int, bytes], tuple[int, bytes]]


def _timestamp_pairs(
    removed: Sequence[tuple[int, bytes]], added: Sequence[tuple[int, bytes]]
) -> list[Pair]:
    """Removed and added lines that become equal once their timestamps are masked."""
    waiting: dict[bytes, list[tuple[int, bytes]]] = {}
    for item in reversed(added):  # reversed, so pop() hands them out in file order
        masked = mask_timestamps(item[1])
        if masked != item[1]:
            waiting.setdefault(masked, []).append(item)
    pairs: list[Pair] = []
    for item in removed:
        partners = waiting.get(mask_timestamps(item[1]))
        if partners:
            pairs.append((item, partners.pop()))
    return pairs


def _timestamp_finding(pairs: Sequence[Pair]) -> ContentFinding:
    changes = capped(_token_changes(pairs))
    (number, _), _ = pairs[0]
    example = f"line {number}"
    if changes:
        example += f": {changes[0][1]} -> {changes[0][2]}"
    verb = "differs" if len(pairs) == 1 else "differ"
    detail = f"{counted(len(pairs), 'line')} {verb} only by a timestamp, e.g. {example}"
    return ContentFinding(Cause.EMBEDDED_TIMESTAMP, detail, changes)


def _token_changes(pairs: Sequence[Pair]) -> Iterator[tuple[str, str, str]]:
    for (number, old_line), (_, new_line) in pairs:
        old_tokens = _TIMESTAMP.findall(old_line)
        new_tokens = _TIMESTAMP.findall(new_line)
        for old_token, new_token in zip(old_tokens, new_tokens, strict=False):
            if old_token != new_token:
                yield f"line {number}", decode_text(old_token), decode_text(new_token)


def _content_finding(
    removed: Sequence[tuple[int, bytes]],
    added: Sequence[tuple[int, bytes]],
    pairs: Sequence[Pair],
    other_removed: int,
    other_added: int,
) -> ContentFinding:
    explained = {number for (number, _), _ in pairs}
    first = next(((n, line) for n, line in removed if n not in explained), None)
    where = f"first removed: line {first[0]} {shown_bytes(first[1].rstrip())}" if first else ""
    if not where:
        explained_new = {number for _, (number, _) in pairs}
        first = next(((n, line) for n, line in added if n not in explained_new), None)
        where = f"first added: line {first[0]} {shown_bytes(first[1].rstrip())}" if first else ""
    noun = "other line" if pairs else "line"
    detail = f"{counted(other_removed, noun)} removed and {other_added} added"
    return ContentFinding(Cause.CONTENT, f"{detail}; {where}" if where else detail)


def unified_diff(old: bytes, new: bytes, *, path: str, max_lines: int = 200) -> str | None:
    """A unified diff for people, at most `max_lines` lines plus a "... N more lines" marker.

    None when either side is binary. Inputs over 2 MiB or 20,000 lines get a summary built from
    line multisets (which lines left, which arrived) instead of difflib's alignment.
    """
    if not (is_text(old) and is_text(new)):
        return None
    a = decode_text(old).splitlines()
    b = decode_text(new).splitlines()
    name = path.lstrip("/")
    header = [f"--- a/{name}", f"+++ b/{name}"]
    too_big = max(len(old), len(new)) > DIFF_MAX_BYTES or max(len(a), len(b)) > DIFF_MAX_LINES
    body = _summary_lines(a, b) if too_big else _difflib_lines(a, b)
    out = [terminal_safe(line) for line in header]
    extra = 0
    for line in body:
        if len(out) < max_lines:
            out.append(_printable(line))
        else:
            extra += 1
    if extra:
        out.append(f"... {extra} more lines")
    return "\n".join(out) + "\n"


def _difflib_lines(a: list[str], b: list[str]) -> Iterator[str]:
    diff = difflib.unified_diff(a, b, lineterm="", n=3)
    next(diff, None)  # difflib's own ---/+++ header; ours carries the a/ b/ prefixes
    next(diff, None)
    yield from diff


def _summary_lines(a: list[str], b: list[str]) -> Iterator[str]:
    a_count, b_count = Counter(a), Counter(b)
    removed = [line for _, line in _numbered(a, a_count - b_count)]
    added = [line for _, line in _numbered(b, b_count - a_count)]
    yield (
        f"@@ too large for a line diff ({len(a)} and {len(b)} lines): "
        f"{counted(len(removed), 'line')} removed, {len(added)} added @@"
    )
    yield from (f"-{line}" for line in removed)
    yield from (f"+{line}" for line in added)


def _printable(line: str) -> str:
    return line.translate(CONTENT_ESCAPES)
