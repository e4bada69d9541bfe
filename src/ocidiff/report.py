"""The versioned diff report: a difference tree plus a summary, dumped to and loaded from JSON.

`schema` and `schema_version` come first; every collection is a sorted tuple; no wall-clock data,
so the same inputs and options always give byte-identical JSON. `load_report(dump_report(r)) == r`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from .errors import ImageFormatError

SCHEMA = "ocidiff.diff"
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Change:
    """A leaf difference: which cause, where, which field, old and new values."""

    cause: str
    locator: str  # stable, path-like: "linux/amd64/layers/2/usr/bin/app"
    field: str | None = None
    old: str | None = None
    new: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the difference tree: archive, index, image, config, layers, layer, filesystem,
    entry or content."""

    kind: str
    name: str
    status: str  # "equal" | "changed" | "added" | "removed" | "incomplete"
    changes: tuple[Change, ...] = ()
    children: tuple[Node, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()  # digests, sizes: what a reader needs for context
    notes: tuple[str, ...] = ()
    text_diff: str | None = None


@dataclass(frozen=True, slots=True)
class CauseCount:
    code: str
    count: int
    ignored: bool
    meaning: str
    fix: str
    examples: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    verdict: str  # identical | same-image | equivalent | different
    causes: dict[str, int]  # every cause found -> count (ignored ones included)
    ignored: tuple[str, ...]
    exit_code: int
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
