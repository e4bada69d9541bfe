"""The merged filesystem: layers applied in order with whiteouts, as a container runtime would.

Pure: takes per-layer entry tuples, returns the final entries with the layer each came from.
Rules (image-spec layer.md): an opaque marker `.wh..wh..opq` hides the lower children of its
directory and applies before the layer's other entries; `.wh.<name>` deletes `<name>` (and its
subtree) from lower layers only; other `.wh..wh.*` names are AUFS metadata and are ignored; a
directory over a directory merges attributes, anything else replaces the path and its subtree,
whichever layer put it there and whether a member listed the directory or only implied it.
Members apply one by one, in tar order. Directories only implied by members are not listed.

Hard links follow what an unpacker leaves on disk (checked against `umoci unpack`): a link made in
layer i shares the inode its target had then, so when a later layer rewrites or deletes the target
the link keeps the old bytes as a file of its own; links that shared that inode stay linked to it.
A link's content is its target's, across layers too.

A member whose parent directory is a symlink in the filesystem so far is written through it, and
kept inside the root (`abs -> /usr/lib` then `abs/c` lands at `usr/lib/c`), as umoci, containerd
and Docker apply layers; the entry's last component is never followed (nor an opaque marker's
directory). Its `name` keeps what the tar says; its `path` is where the file lands.
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


def _below(roots: set[str]) -> tuple[str, ...]:
    """Prefixes every path inside one of `roots` starts with ("" is the root directory)."""
    return ("",) if "" in roots else tuple(f"{root}/" for root in roots)


def _remove_subtrees(state: dict[str, MergedEntry], roots: set[str], *, keep_roots: bool) -> None:
    if not roots:
        return
    inside = _below(roots)
    doomed = [
        path
        for path in state
        if (path.startswith(inside) and path != ".") or (not keep_roots and path in roots)
    ]
    for path in doomed:
        del state[path]


_MAX_SYMLINKS = 40  # followed while resolving one path, as Linux's ELOOP limit


class _Resolver:
    """Where a path's parent directory really is, through the symlinks of `state` so far."""

    def __init__(self, state: dict[str, MergedEntry]) -> None:
        self._state = state
        self._parents: dict[str, str] = {}  # lexical parent -> resolved parent ("" is the root)
        self.active = False  # no symlink applied yet: every path is where its name says

    def changed(self) -> None:
        """A symlink was added, replaced or removed: resolutions made so far may be stale."""
        self.active = True
        self._parents.clear()

    def place(self, path: str) -> str:
        """`path` with its parent directory resolved; the last component is not followed."""
        if not self.active:
            return path
        head, _, tail = path.rpartition("/")
        if not head:
            return path
        parent = self._parents.get(head)
        if parent is None:
            parent = self._parents[head] = self._directory(head)
        return f"{parent}/{tail}" if parent else tail

    def _directory(self, path: str) -> str:
        pending = path.split("/")[::-1]
        done: list[str] = []
        followed = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()  # never above the root
                continue
            done.append(part)
            found = self._state.get("/".join(done))
            if found is None or found.entry.kind is not EntryKind.SYMLINK:
                continue
            followed += 1
            if followed > _MAX_SYMLINKS:
                return path  # a loop: runtimes refuse it; keep the path the tar names
            target = found.entry.linkname
            done.pop()
            if target.startswith("/"):
                done = []
            pending.extend(target.split("/")[::-1])
        resolved = "/".join(done)
        landing = self._state.get(resolved) if resolved else None
        if landing is not None and landing.entry.kind is not EntryKind.DIR:
            return path  # through a link to a file: the write fails in runtimes; keep the name
        return resolved


@dataclass(frozen=True, slots=True)
class _Link:
    """A hard link as it was applied: where its target was, the target's merged entry at that
    moment, and the regular file whose bytes that inode holds (None when the target is no file:
    the link is broken)."""

    merged: MergedEntry
    target_path: str
    target: MergedEntry | None
    content: FileEntry | None


def _link(entry: FileEntry, merged: MergedEntry, state: dict[str, MergedEntry],
          links: dict[str, _Link], resolver: _Resolver) -> _Link:
    target_path = resolver.place(normalize_entry_path(entry.linkname))
    target = state.get(target_path)
    content: FileEntry | None = None
    if target is not None:
        if target.entry.kind is EntryKind.FILE:
            content = target.entry
        elif target.entry.kind is EntryKind.HARDLINK:
            through = links.get(target.entry.path)
            if through is not None and through.merged is target:
                content = through.content
    return _Link(merged, target_path, target, content)


def _settle_links(state: dict[str, MergedEntry], links: dict[str, _Link]) -> None:
    """Give every visible hard link its content, and turn the first link to a rewritten or
    deleted target into the file the others now link to (see the module doc)."""
    orphans: dict[int, str] = {}  # id of the target entry a link was made to -> the new file
    settled: dict[str, MergedEntry] = {}
    for path, link in links.items():
        if state.get(path) is not link.merged or link.content is None:
            continue  # replaced or deleted since, or a broken link: left as the tar says
        entry = link.merged.entry
        if state.get(link.target_path) is link.target:
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
    resolver = _Resolver(state)
    parents: set[str] = set()  # directories some applied path was under: a filter, a superset
    for index, entries in enumerate(layers):
        # Markers apply before the layer's other entries, through the filesystem below it.
        opaque = {
            resolver.place(split_path(e.path)[0])
            for e in entries
            if split_path(e.path)[1] == OPAQUE_MARKER
        }
        deleted = {
            resolver.place(t) for e in entries if (t := whiteout_target(e.path)) is not None
        }
        if opaque or deleted:
            _remove_subtrees(state, opaque, keep_roots=True)
            _remove_subtrees(state, deleted, keep_roots=False)
            if resolver.active:
                resolver.changed()
        for entry in entries:
            if is_whiteout(entry.path):
                continue
            path = resolver.place(entry.path)
            if path != entry.path:
                entry = replace(entry, path=path)
            existing = state.get(path)
            if entry.kind is not EntryKind.DIR and path in parents:
                # Written over a directory (listed or only implied by its members): the
                # unpacker removes it with everything below, whichever layer put that there.
                inside = f"{path}/"
                doomed = [p for p in state if p.startswith(inside)]
                for below in doomed:
                    del state[below]
                if doomed and resolver.active:
                    resolver.changed()
            merged = MergedEntry(entry, index)
            if entry.kind is EntryKind.HARDLINK:
                links.pop(path, None)  # re-applied: it now comes after the links made since
                link = _link(entry, merged, state, links, resolver)
                if link.target_path != normalize_entry_path(entry.linkname):
                    # Named through a symlink: the merged view names the file it links to.
                    entry = replace(entry, linkname=link.target_path)
                    merged = MergedEntry(entry, index)
                    link = replace(link, merged=merged)
                links[path] = link
            state[path] = merged
            head = path
            while "/" in head:
                head = head.rpartition("/")[0]
                if head in parents:
                    break  # and so are its own parents
                parents.add(head)
            if entry.kind is EntryKind.SYMLINK or (
                existing is not None and existing.entry.kind is EntryKind.SYMLINK
            ):
                resolver.changed()
    if links:
        _settle_links(state, links)
    return tuple(state[p] for p in sorted(state))
