"""The versioned diff report: a difference tree plus a summary, dumped to and loaded from JSON.

`schema` and `schema_version` come first; every collection is a tuple in a fixed order; no
wall-clock data, so the same inputs and options always give byte-identical JSON.
`load_report(dump_report(r)) == r`. docs/report-schema.md documents every key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from .errors import ImageFormatError

SCHEMA = "ocidiff.diff"
# Bumped when a key is renamed or removed, a value changes type or meaning; new keys, node kinds,
# facts and cause codes keep it (readers ignore what they do not know).
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Change:
    """A leaf difference: which cause, where, which field, old and new values."""

    cause: str
    """A cause code (`ocidiff.diff.causes`)."""
    locator: str
    """Stable and path-like: "linux/amd64/layers/1:1/usr/bin/app", "linux/amd64/config/Env"."""
    field: str | None = None
    """Which field differs: "mode", "mtime", "content", an Env variable, a package name..."""
    old: str | None = None
    """The first image's value; None when absent there."""
    new: str | None = None
    """The second image's value; None when absent there."""
    detail: str | None = None
    """One line for people: why, how much, what it is part of."""


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the difference tree: archive, image, config, layers, layer, filesystem or entry
    (a path whose content differs, with the drill-down)."""

    kind: str
    name: str
    """The platform, "config", "i:j" layer indexes, "merged", or an entry's path."""
    status: str
    """"equal" | "changed" | "added" | "removed" | "incomplete"."""
    changes: tuple[Change, ...] = ()
    children: tuple[Node, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    """Context a reader needs: digests, sizes; for binary entries similarity, changed ranges."""
    notes: tuple[str, ...] = ()
    """Remarks: why a comparison degraded, which package upgrade a path belongs to."""
    text_diff: str | None = None
    """For an entry whose contents are text: a bounded unified diff."""


@dataclass(frozen=True, slots=True)
class CauseCount:
    """One cause code found: how often, whether ignored, and the first few changes."""

    code: str
    count: int
    ignored: bool
    meaning: str
    fix: str
    examples: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    """What tools read first: `verdict` and `causes` are the stable contract."""

    verdict: str  # identical | same-image | equivalent | different
    causes: dict[str, int]  # every cause found -> count (ignored ones included), sorted by code
    ignored: tuple[str, ...]
    exit_code: int  # 0 when no cause is left after the ignores, else 1
    incomplete: bool


@dataclass(frozen=True, slots=True)
class Report:
    schema: str
    schema_version: int
    summary: Summary
    inputs: tuple[str, str]
    options: dict[str, Any]
    causes: tuple[CauseCount, ...]  # ranked by impact, then count
    tree: Node


def dump_report(report: Report) -> bytes:
    """The report as deterministic JSON: two-space indent, one final newline."""
    return orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def load_report(data: bytes) -> Report:
    """Load a saved report; raises ImageFormatError when it is not one."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ImageFormatError(f"not a JSON report: {exc}") from None
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        raise ImageFormatError("not an ocidiff diff report (schema mismatch)")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ImageFormatError(f"unsupported report schema_version {raw.get('schema_version')}")
    try:
        summary = raw["summary"]
        return Report(
            schema=SCHEMA,
            schema_version=SCHEMA_VERSION,
            summary=Summary(
                summary["verdict"],
                dict(summary["causes"]),
                tuple(summary["ignored"]),
                summary["exit_code"],
                summary["incomplete"],
            ),
            inputs=(raw["inputs"][0], raw["inputs"][1]),
            options=dict(raw["options"]),
            causes=tuple(
                CauseCount(
                    c["code"],
                    c["count"],
                    c["ignored"],
                    c["meaning"],
                    c["fix"],
                    tuple(_change(e) for e in c["examples"]),
                )
                for c in raw["causes"]
            ),
            tree=_node(raw["tree"]),
        )
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise ImageFormatError(f"malformed report: {type(exc).__name__} {exc}") from None


def _change(raw: dict[str, Any]) -> Change:
    return Change(
        raw["cause"],
        raw["locator"],
        raw.get("field"),
        raw.get("old"),
        raw.get("new"),
        raw.get("detail"),
    )


def _node(raw: dict[str, Any]) -> Node:
    return Node(
        kind=raw["kind"],
        name=raw["name"],
        status=raw["status"],
        changes=tuple(_change(c) for c in raw["changes"]),
        children=tuple(_node(c) for c in raw["children"]),
        facts=tuple((k, v) for k, v in raw["facts"]),
        notes=tuple(raw["notes"]),
        text_diff=raw.get("text_diff"),
    )


def iter_changes(node: Node) -> list[Change]:
    """Every change in the tree, depth first in tree order."""
    found = list(node.changes)
    for child in node.children:
        found.extend(iter_changes(child))
    return found
