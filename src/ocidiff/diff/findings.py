"""What a content explainer says: `ContentFinding` values, their cause codes and the errors
explainers raise when a format cannot be read.

Owns ordering, per-member summaries and one-line display of untrusted text. It never looks at
file contents and holds no explainer.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import InputError

Change = tuple[str, str, str]  # (what, old, new); "" for a side where it is absent

MAX_CHANGES = 1000  # per finding; a hostile archive must not make a report of unbounded size
MAX_NAMES_SHOWN = 5
_SHOWN_TEXT_LIMIT = 160


class Cause(enum.StrEnum):
    """The cause codes explainers use; each is also a code in `ocidiff.diff.causes`."""

    EMBEDDED_TIMESTAMP = "embedded-timestamp"
    EMBEDDED_PATH = "embedded-path"
    CONTENT_ORDER = "content-order"
    DEPENDENCY_CHANGE = "dependency-change"
    COMPRESSION = "compression"
    TAR_ENCODING = "tar-encoding"
    PERMISSIONS = "permissions"
    OWNERSHIP = "ownership"
    CONTENT = "content"


# Reported in this order: the explained (non-semantic) causes first, then the ones that need a
# person to look, with `content` last because it is the residue nothing else accounts for.
_RANK: dict[str, int] = {cause.value: rank for rank, cause in enumerate(Cause)}


@dataclass(frozen=True, slots=True)
class ContentFinding:
    """One reason two contents of the same path differ."""

    cause: str
    """A cause code (`Cause`), kebab-case."""
    detail: str
    """One line a person reads, e.g. ".pyc header mtime 1700000000 -> 1700000123"."""
    changes: tuple[Change, ...] = ()
    """Structured (what, old, new) triples, e.g. ("requests", "2.31.0", "2.32.0")."""


class ContentFormatError(InputError):
    """A file's content does not follow the format its explainer expected."""


class ContentLimitError(InputError):
    """Comparing a file's content would exceed a safety limit (size, members, nesting)."""


def ordered(findings: Iterable[ContentFinding]) -> tuple[ContentFinding, ...]:
    """Findings in report order (by cause, stable within a cause), exact duplicates dropped."""
    unique = dict.fromkeys(findings)
    return tuple(sorted(unique, key=lambda f: _RANK.get(f.cause, len(_RANK))))


def shown(text: str) -> str:
    """Untrusted text (a file name, a line) as a quoted, escaped, bounded one-line fragment."""
    quoted = repr(text)
    if len(quoted) <= _SHOWN_TEXT_LIMIT:
        return quoted
    return quoted[: _SHOWN_TEXT_LIMIT - 4] + "...'"


def shown_value(text: str) -> str:
    """A field value as is when it is short and printable (a time, a number), else `shown`."""
    return text if text.isprintable() and 0 < len(text) <= 80 else shown(text)


def counted(count: int, noun: str) -> str:
    """"1 entry", "2 entries", "3 lines"."""
    if count == 1:
        return f"1 {noun}"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return f"{count} {noun[:-1]}ies"
    return f"{count} {noun}s"


def shown_bytes(data: bytes) -> str:
    """`shown` for raw bytes (UTF-8, invalid bytes escaped)."""
    return shown(data.decode("utf-8", "backslashreplace"))


def name_list(names: Sequence[str]) -> str:
    """At most a few names, quoted, with a count of the rest."""
    head = ", ".join(shown(name) for name in names[:MAX_NAMES_SHOWN])
    rest = len(names) - MAX_NAMES_SHOWN
    return f"{head} and {rest} more" if rest > 0 else head


def capped(changes: Iterable[Change]) -> tuple[Change, ...]:
    """The first `MAX_CHANGES` changes (the iterable is not consumed past them)."""
    out: list[Change] = []
    for change in changes:
        if len(out) == MAX_CHANGES:
            break
        out.append(change)
    return tuple(out)


def summarize_members(
    per_member: Sequence[tuple[str, tuple[ContentFinding, ...]]], noun: str = "member"
) -> tuple[ContentFinding, ...]:
    """One finding per cause over the findings of several archive members.

    The detail quotes the first member's own detail and counts the others; changes are kept,
    their `what` prefixed with the member name except for package changes, whose `what` is the
    package name a reader looks up.
    """
    by_cause: dict[str, list[tuple[str, ContentFinding]]] = {}
    for member, findings in per_member:
        for finding in findings:
            by_cause.setdefault(finding.cause, []).append((member, finding))
    summary: list[ContentFinding] = []
    for cause, items in by_cause.items():
        member, first = items[0]
        others = sorted({name for name, _ in items[1:] if name != member})
        detail = f"{noun} {shown(member)}: {first.detail}"
        if others:
            detail += f" (also in {len(others)} more: {name_list(others)})"
        keep_what = cause == Cause.DEPENDENCY_CHANGE
        changes = (
            change if keep_what else (f"{name}: {change[0]}", change[1], change[2])
            for name, finding in items
            for change in finding.changes
        )
        summary.append(ContentFinding(cause, detail, capped(changes)))
    return ordered(summary)
