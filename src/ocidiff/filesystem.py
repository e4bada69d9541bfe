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


class _Tree:
    """The merged state with who is below whom, implied directories included, so that a subtree
    goes in time proportional to its size, not to the whole filesystem (a hostile layer can
    replace directories at will)."""

    def __init__(self, state: dict[str, MergedEntry]) -> None:
        self.state = state
        self._below: dict[str, set[str]] = {}  # directory ("" is the root) -> paths right in it
        self._known: set[str] = set()  # every path in `_below`'s sets

    def put(self, path: str, merged: MergedEntry) -> None:
        self.state[path] = merged
        child = path
        while child not in self._known:  # link it, and any directory it implies, to its parent
            self._known.add(child)
            parent = child.rpartition("/")[0]
            self._below.setdefault(parent, set()).add(child)
            if not parent:
                break
            child = parent

    def remove_below(self, path: str) -> bool:
        """Remove every path inside `path` (listed or implied); the root's own '.' entry stays.
        Whether anything was removed."""
        pending = list(self._below.pop(path, ()))
        removed = False
        while pending:
            inside = pending.pop()
            if inside == ".":
                self._below.setdefault("", set()).add(inside)
                continue
            self._known.discard(inside)
            removed = self.state.pop(inside, None) is not None or removed
            pending.extend(self._below.pop(inside, ()))
        return removed

    def remove(self, path: str) -> bool:
        """Remove `path` and everything inside it."""
        removed = self.state.pop(path, None) is not None
        if path in self._known:
            self._known.discard(path)
            self._below.get(path.rpartition("/")[0], set()).discard(path)
        return self.remove_below(path) or removed


_MAX_SYMLINKS = 40  # followed while resolving one path, as Linux's ELOOP limit
# Components walked while resolving one parent, and the longest name resolved: far past any real
# path (Linux's PATH_MAX is 4096 bytes), and a bound on what a hostile layer can make us do.
_MAX_STEPS = 256
_MAX_RESOLVED = 1024


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
        """`path` with its parent directory resolved; the last component is not followed.
        '..' in a hostile name is kept inside the root, as umoci does."""
        head, _, tail = path.rpartition("/")
        if not head or not (self.active or ".." in head) or len(head) > _MAX_RESOLVED:
            return path
        parent = self._parents.get(head)
        if parent is None:
            parent, lasting = self._directory(head)
            if lasting:
                self._parents[head] = parent
        return f"{parent}/{tail}" if parent else tail

    def _directory(self, path: str) -> tuple[str, bool]:
        """The resolved directory, and whether that answer lasts until `changed()`: not when
        it lands nowhere yet, since a later member may put a file there."""
        pending = path.split("/")[::-1]
        done: list[str] = []
        followed = steps = 0
        while pending:
            steps += 1
            if steps > _MAX_STEPS:
                return path, True  # beyond any real layout: keep the path the tar names
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
                return path, True  # a loop: runtimes refuse it; keep the path the tar names
            target = found.entry.linkname
            done.pop()
            if target.startswith("/"):
                done = []
            pending.extend(target.split("/")[::-1])
        resolved = "/".join(done)
        if not resolved:
            return resolved, True
        landing = self._state.get(resolved)
        if landing is None:
            return resolved, False
        if landing.entry.kind is not EntryKind.DIR:
            return path, True  # through a link to a file: runtimes fail; keep the tar's name
        return resolved, True


@dataclass(frozen=True, slots=True)
class _Link:
    """A hard link as it was applied: where its target was, and the regular file entry whose
    bytes that inode holds (None when the target was no file: the link is broken). Links with
    the same `content` object share one inode."""

    merged: MergedEntry
    target_path: str
    content: FileEntry | None


def _apply_link(entry: FileEntry, index: int, state: dict[str, MergedEntry],
                links: dict[str, _Link], resolver: _Resolver) -> MergedEntry:
    """The merged entry of a hard link, its target resolved once: a link to a symlink is that
    symlink again (link(2) does not follow it); a link to a file (or through another link) is
    recorded in `links` with the file whose bytes the inode holds."""
    named = normalize_entry_path(entry.linkname)
    target_path = resolver.place(named)
    target = state.get(target_path)
    if target is not None and target.entry.kind is EntryKind.SYMLINK:
        return MergedEntry(replace(entry, kind=EntryKind.SYMLINK,
                                   linkname=target.entry.linkname), index)
    content: FileEntry | None = None
    if target is not None:
        if target.entry.kind is EntryKind.FILE:
            content = target.entry
        elif target.entry.kind is EntryKind.HARDLINK:
            through = links.get(target.entry.path)
            if through is not None and through.merged is target:
                content = through.content
    if target_path != named:
        # Named through a symlink: the merged view names the file it links to.
        entry = replace(entry, linkname=target_path)
    merged = MergedEntry(entry, index)
    links.pop(entry.path, None)  # re-applied: it now comes after the links made since
    links[entry.path] = _Link(merged, target_path, content)
    return merged


def _reaches(path: str, home: str, sharing: set[str], links: dict[str, _Link]) -> bool:
    """Whether following link targets from `path` through the visible links of one inode
    (`sharing`) ends at `home`, with no cycle."""
    seen = {path}
    while path != home:
        path = links[path].target_path
        if path in seen or path not in sharing:
            return False
        seen.add(path)
    return True


def _settle_links(state: dict[str, MergedEntry], links: dict[str, _Link]) -> None:
    """Give every visible hard link its inode's content. When the file that made the inode was
    rewritten or deleted, the first link made to it becomes that file and the others link to it
    (see the module doc)."""
    inodes: dict[int, list[str]] = {}  # id of the file entry that made it -> its visible links
    for path, link in links.items():
        if state.get(path) is link.merged and link.content is not None:
            inodes.setdefault(id(link.content), []).append(path)
    settled: dict[str, MergedEntry] = {}
    for paths in inodes.values():
        content = links[paths[0]].content
        assert content is not None
        maker = state.get(content.path)
        home = content.path if maker is not None and maker.entry is content else paths[0]
        sharing = {home, *paths}
        for path in paths:
            merged = links[path].merged
            entry = merged.entry
            if path == home:
                entry = replace(entry, kind=EntryKind.FILE, linkname="", size=content.size,
                                digest=content.digest, chunks=content.chunks)
            else:
                # A link lists its inode's digest (as a layer does for a link within it).
                entry = replace(entry, digest=content.digest)
                if not _reaches(path, home, sharing, links):
                    entry = replace(entry, linkname=home)
            if entry != merged.entry:
                settled[path] = MergedEntry(entry, merged.layer)
    state.update(settled)


def merge_layers(layers: Sequence[Sequence[FileEntry]]) -> tuple[MergedEntry, ...]:
    """Apply `layers` bottom-up and return the visible entries sorted by path."""
    state: dict[str, MergedEntry] = {}
    tree = _Tree(state)
    links: dict[str, _Link] = {}  # hard links in the order applied
    resolver = _Resolver(state)
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
            for directory in opaque:
                tree.remove_below(directory)
            for target in deleted:
                tree.remove(target)
            if resolver.active:
                resolver.changed()
        for entry in entries:
            if is_whiteout(entry.path):
                continue
            path = resolver.place(entry.path)
            if path != entry.path:
                entry = replace(entry, path=path)
            existing = state.get(path)
            if (
                resolver.active
                and existing is not None
                and existing.entry.kind is EntryKind.DIR
                and entry.kind is not EntryKind.DIR
            ):
                resolver.changed()  # a directory some resolution may have landed in is gone
            # Written over a directory (listed or only implied by its members), a non-directory
            # removes it with everything below, whichever layer put that there.
            if entry.kind is not EntryKind.DIR and tree.remove_below(path) and resolver.active:
                resolver.changed()
            if entry.kind is EntryKind.HARDLINK:
                merged = _apply_link(entry, index, state, links, resolver)
                entry = merged.entry
            else:
                merged = MergedEntry(entry, index)
            tree.put(path, merged)
            if entry.kind is EntryKind.SYMLINK or (
                existing is not None and existing.entry.kind is EntryKind.SYMLINK
            ):
                resolver.changed()
    if links:
        _settle_links(state, links)
    return tuple(state[p] for p in sorted(state))
