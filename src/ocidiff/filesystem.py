"""The merged filesystem: layers applied in order with whiteouts, as a container runtime would.

Pure: takes per-layer entry tuples, returns the final entries with the layer each came from.
Rules (image-spec layer.md): an opaque marker `.wh..wh..opq` hides the lower children of its
directory and applies before the layer's other entries; `.wh.<name>` deletes `<name>` (and its
subtree) from lower layers only; other `.wh..wh.*` names are AUFS metadata and are ignored; a
directory over a directory merges attributes, anything else replaces the path and its subtree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .inventory import FileEntry
from .tar.events import EntryKind

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


@dataclass(frozen=True, slots=True)
class MergedEntry:
    entry: FileEntry
    layer: int  # index of the layer that last wrote this path


def split_path(path: str) -> tuple[str, str]:
    head, _, tail = path.rpartition("/")
    return head, tail


def is_whiteout(path: str) -> bool:
    return split_path(path)[1].startswith(WHITEOUT_PREFIX)


def whiteout_target(path: str) -> str | None:
    """The path a `.wh.` entry deletes; None for the opaque marker and AUFS metadata."""
    head, tail = split_path(path)
    if not tail.startswith(WHITEOUT_PREFIX) or tail.startswith(".wh..wh."):
        return None
    name = tail[len(WHITEOUT_PREFIX) :]
    if not name:
        return None
    return f"{head}/{name}" if head else name


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _remove_subtrees(state: dict[str, MergedEntry], roots: set[str], *, keep_roots: bool) -> None:
    if not roots:
        return
    doomed = [
        path
        for path in state
        if (path in roots and not keep_roots) or any(a in roots for a in _ancestors(path))
    ]
    for path in doomed:
        del state[path]


def merge_layers(layers: Sequence[Sequence[FileEntry]]) -> tuple[MergedEntry, ...]:
    """Apply `layers` bottom-up and return the visible entries sorted by path."""
    state: dict[str, MergedEntry] = {}
    for index, entries in enumerate(layers):
        opaque = {split_path(e.path)[0] for e in entries if split_path(e.path)[1] == OPAQUE_MARKER}
        _remove_subtrees(state, opaque, keep_roots=True)
        deleted = {t for e in entries if (t := whiteout_target(e.path)) is not None}
        _remove_subtrees(state, deleted, keep_roots=False)
        replaced: set[str] = set()
        for entry in entries:
            if is_whiteout(entry.path):
                continue
            existing = state.get(entry.path)
            if (
                existing is not None
                and existing.layer != index
                and not (existing.entry.kind is EntryKind.DIR and entry.kind is EntryKind.DIR)
            ):
                replaced.add(entry.path)
            state[entry.path] = MergedEntry(entry, index)
        if replaced:
            # A non-directory replacing a lower directory drops that directory's lower children.
            lower_children = {p for p in replaced if state[p].entry.kind is not EntryKind.DIR}
            doomed = [
                p
                for p, m in state.items()
                if m.layer != index and any(a in lower_children for a in _ancestors(p))
            ]
            for path in doomed:
                del state[path]
    return tuple(state[p] for p in sorted(state))
