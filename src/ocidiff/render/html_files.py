"""File trees of an HTML diff report: the changed entries of each layer (or merged filesystem) as
a foldable directory tree, embedded as JSON for the script and, within a row budget, as plain
nested <details> for readers without JavaScript (markup in html_entries).

Pure. The JSON is flat (one record per tree node in pre-order, with its parent's index) so neither
the serialiser nor the browser ever recurses over untrusted depth; long values are cut and the
number of embedded entries is capped, each time with a note saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..report import Change, Node
from .html_entries import static_tree
from .html_page import printable
from .html_style import CauseStyles

_DIGITS = re.compile(r"(\d+)")
_MAX_DEPTH = 100  # deeper path components are kept, joined, in one row
_STATUS = {"files-added": "a", "files-removed": "r", "files-moved": "m", "file-type": "t"}


@dataclass(frozen=True, slots=True)
class HtmlLimits:
    """What an HTML page holds at most; the rest stays in the JSON report, and the page says so."""

    max_entries: int = 100_000  # changed entries embedded, over all trees
    max_value_chars: int = 2_000  # per old/new/detail value
    max_text_diff_chars: int = 100_000  # per text diff
    static_rows: int = 1_500  # tree rows written as plain HTML for readers without JavaScript


@dataclass(frozen=True, slots=True)
class Entry:
    """One changed path with every change found on it, and a text diff when one was made."""

    path: str
    changes: tuple[Change, ...]
    text_diff: str | None = None
    facts: tuple[tuple[str, str], ...] = ()  # sizes, similarity, changed byte ranges, ...


@dataclass(frozen=True, slots=True)
class TreeSpec:
    anchor: str
    title: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class BuiltTrees:
    data: dict[str, Any]  # JSON for the script: strings table and one flat node list per tree
    static: dict[str, str]  # anchor -> fallback markup
    kept: dict[str, int]  # anchor -> entries embedded


def collect_entries(node: Node, prefix: str) -> tuple[tuple[Change, ...], tuple[Entry, ...]]:
    """Split the changes under a layer or filesystem node into the node's own changes and the
    changed paths below it (`prefix/` + path); descendant nodes may add changes and text diffs."""
    own: list[Change] = []
    grouped: dict[str, list[Change]] = {}
    diffs: dict[str, str] = {}
    facts: dict[str, tuple[tuple[str, str], ...]] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        for change in current.changes:
            path = _path_of(change.locator, prefix)
            if path is None:
                own.append(change)
            else:
                grouped.setdefault(path, []).append(change)
        if current is not node and (current.text_diff or current.facts):
            # A drill-down node: its path is where its changes point, else its name.
            located = [p for c in current.changes if (p := _path_of(c.locator, prefix))]
            path = located[0] if located else current.name
            grouped.setdefault(path, [])
            if current.text_diff:
                diffs.setdefault(path, current.text_diff)
            facts[path] = facts.get(path, ()) + current.facts
        stack.extend(reversed(current.children))
    entries = tuple(
        Entry(path, tuple(changes), diffs.get(path), facts.get(path, ()))
        for path, changes in sorted(grouped.items())
    )
    return tuple(own), entries


def _path_of(locator: str, prefix: str) -> str | None:
    if locator.startswith(prefix + "/") and len(locator) > len(prefix) + 1:
        return locator[len(prefix) + 1 :]
    return None


@dataclass(slots=True)
class _Dir:
    """Builder of one tree level; mutable, local to this module."""

    name: str
    children: dict[str, _Dir] = field(default_factory=dict)
    entry: Entry | None = None


def build_trees(specs: Sequence[TreeSpec], styles: CauseStyles, limits: HtmlLimits) -> BuiltTrees:
    strings: dict[str, int] = {}
    trees: dict[str, Any] = {}
    static: dict[str, str] = {}
    kept: dict[str, int] = {}
    budget = limits.max_entries
    for spec in specs:
        entries = spec.entries[: max(budget, 0)]
        budget -= len(entries)
        kept[spec.anchor] = len(entries)
        nodes = _flatten(_grow(entries), styles, strings, limits)
        trees[spec.anchor] = {
            "title": printable(spec.title),
            "total": len(spec.entries),
            "nodes": nodes,
        }
        static[spec.anchor] = static_tree(nodes, list(strings), styles, limits.static_rows)
    table = sorted(strings, key=strings.__getitem__)
    return BuiltTrees({"strings": table, "trees": trees}, static, kept)


def _grow(entries: Iterable[Entry]) -> _Dir:
    root = _Dir("")
    for entry in entries:
        parts = [p for p in entry.path.split("/") if p] or ["/"]
        if len(parts) > _MAX_DEPTH:
            parts = [*parts[: _MAX_DEPTH - 1], "/".join(parts[_MAX_DEPTH - 1 :])]
        here = root
        for part in parts:
            here = here.children.setdefault(part, _Dir(part))
        here.entry = entry
    return root


def _flatten(
    root: _Dir, styles: CauseStyles, strings: dict[str, int], limits: HtmlLimits
) -> list[dict[str, Any]]:
    """Pre-order records: p (parent index, -1 at the top), n (name), e (entries in the subtree),
    c (cause styles in the subtree), s (status letter), x (changes), d (text diff)."""
    nodes: list[dict[str, Any]] = []
    stack: list[tuple[_Dir, int]] = [(child, -1) for child in reversed(_ordered(root))]
    while stack:
        current, parent = stack.pop()
        name = current.name
        while current.entry is None and len(current.children) == 1:
            only = next(iter(current.children.values()))
            if not only.children:
                break
            name, current = f"{name}/{only.name}", only  # one row for a chain of directories
        record: dict[str, Any] = {"p": parent, "n": printable(name)}
        if current.entry is not None:
            _describe(record, current.entry, styles, strings, limits)
        nodes.append(record)
        index = len(nodes) - 1
        stack.extend((child, index) for child in reversed(_ordered(current)))
    for index in range(len(nodes) - 1, -1, -1):  # children come after parents: sum bottom-up
        record = nodes[index]
        record["e"] = record.get("e", 0) + (1 if "x" in record else 0)
        record["c"] = sorted(set(record.get("c", ())) | {x[0] for x in record.get("x", ())})
        parent = record["p"]
        if parent >= 0:
            above = nodes[parent]
            above["e"] = above.get("e", 0) + record["e"]
            above["c"] = sorted(set(above.get("c", ())) | set(record["c"]))
    return nodes


def _ordered(directory: _Dir) -> list[_Dir]:
    """Directories first, then files, each in natural order (pkg2 before pkg10), ties broken by
    code point order: the same on every machine."""
    return sorted(directory.children.values(), key=lambda d: (not d.children, *_natural(d.name)))


def _natural(name: str) -> tuple[list[str | tuple[int, str]], str]:
    # re.split with a group alternates text and digits, so equal positions hold equal types.
    # A digit run compares by length, then text: numeric order without int() (unbounded runs).
    parts: list[str | tuple[int, str]] = []
    for i, part in enumerate(_DIGITS.split(name)):
        digits = part.lstrip("0")
        parts.append((len(digits), digits) if i % 2 else part)
    return parts, name


def _describe(
    record: dict[str, Any],
    entry: Entry,
    styles: CauseStyles,
    strings: dict[str, int],
    limits: HtmlLimits,
) -> None:
    def intern(value: str | None) -> int | None:
        if value is None:
            return None
        if len(value) > limits.max_value_chars:
            cut = len(value) - limits.max_value_chars
            value = value[: limits.max_value_chars] + f"… [{cut} more characters]"
        return strings.setdefault(printable(value), len(strings))

    record["x"] = [
        [styles.index(c.cause), intern(c.field), intern(c.old), intern(c.new), intern(c.detail)]
        for c in entry.changes
    ]
    record["s"] = next((_STATUS[c.cause] for c in entry.changes if c.cause in _STATUS), "c")
    if entry.facts:
        record["f"] = [[intern(k), intern(v)] for k, v in entry.facts]
    if entry.text_diff:
        text = entry.text_diff
        if len(text) > limits.max_text_diff_chars:
            cut = len(text) - limits.max_text_diff_chars
            text = text[: limits.max_text_diff_chars] + f"\n… [{cut} more characters]\n"
        record["d"] = printable(text)
