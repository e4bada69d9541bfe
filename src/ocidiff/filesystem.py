"""The merged filesystem: layers applied in order with whiteouts, as a container runtime would.

Pure: takes per-layer entry tuples, returns the final entries with the layer each came from.
Rules (image-spec layer.md): an opaque marker `.wh..wh..opq` hides the lower children of its
directory and applies before the layer's other entries; `.wh.<name>` deletes `<name>` (and its
subtree) from lower layers only; other `.wh..wh.*` names are AUFS metadata and are ignored; a
directory over a directory merges attributes, anything else replaces the path and its subtree.

Hard links follow what an unpacker leaves on disk (checked against `umoci unpack`): a link made in
layer i shares the inode its target had then, so when a later layer rewrites or deletes the target
the link keeps the old bytes as a file of its own; links that shared that inode stay linked to it.
A link's content is its target's, across layers too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .inventory import FileEntry, normalize_entry_path
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


@dataclass(frozen=True, slots=True)
class _Link:
    """A hard link as it was applied: the target's merged entry at that moment, and the regular
    file whose bytes that inode holds (None when the target is no file: the link is broken)."""

    merged: MergedEntry
    target: MergedEntry | None
    content: FileEntry | None


def _link(entry: FileEntry, merged: MergedEntry, state: dict[str, MergedEntry],
          links: dict[str, _Link]) -> _Link:
    target = state.get(normalize_entry_path(entry.linkname))
    content: FileEntry | None = None
    if target is not None:
        if target.entry.kind is EntryKind.FILE:
            content = target.entry
        elif target.entry.kind is EntryKind.HARDLINK:
            through = links.get(target.entry.path)
            if through is not None and through.merged is target:
                content = through.content
    return _Link(merged, target, content)


def _settle_links(state: dict[str, MergedEntry], links: dict[str, _Link]) -> None:
    """Give every visible hard link its content, and turn the first link to a rewritten or
    deleted target into the file the others now link to (see the module doc)."""
    orphans: dict[int, str] = {}  # id of the target entry a link was made to -> the new file
    settled: dict[str, MergedEntry] = {}
    for path, link in links.items():
        if state.get(path) is not link.merged or link.content is None:
            continue  # replaced or deleted since, or a broken link: left as the tar says
        entry = link.merged.entry
        if state.get(normalize_entry_path(entry.linkname)) is link.target:
            if entry.digest != link.content.digest:
                entry = replace(entry, digest=link.content.digest, chunks=link.content.chunks)
        else:
            key = id(link.target)
            first = orphans.setdefault(key, path)
            if first == path:
                entry = replace(
                    entry,
                    kind=EntryKind.FILE,
                    linkname="",
                    size=link.content.size,
                    digest=link.content.digest,
                    chunks=link.content.chunks,
                )
            else:
                entry = replace(
                    entry, linkname=first, digest=link.content.digest, chunks=link.content.chunks
                )
        if entry is not link.merged.entry:
            settled[path] = MergedEntry(entry, link.merged.layer)
    state.update(settled)


def merge_layers(layers: Sequence[Sequence[FileEntry]]) -> tuple[MergedEntry, ...]:
    """Apply `layers` bottom-up and return the visible entries sorted by path."""
    state: dict[str, MergedEntry] = {}
    links: dict[str, _Link] = {}  # hard links in the order applied
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
            merged = MergedEntry(entry, index)
            if entry.kind is EntryKind.HARDLINK:
                links.pop(entry.path, None)  # re-applied: it now comes after the links made since
                links[entry.path] = _link(entry, merged, state, links)
            state[entry.path] = merged
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
    if links:
        _settle_links(state, links)
    return tuple(state[p] for p in sorted(state))
