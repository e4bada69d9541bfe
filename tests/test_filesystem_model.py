"""`merge_layers` against a slow, obvious unpacker: random layer stacks over a crowded namespace.

The model applies members one by one to a dict the way `umoci unpack` does on disk (the rules were
checked against umoci with scripts/random_layers_vs_umoci.py), resolving every parent through the
symlinks of the moment with no cache, removing subtrees by full scans, and sharing inodes between
hard links. `merge_layers` keeps caches, filters and link bookkeeping to be fast; this test holds
it to the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import blake3
from hypothesis import given, settings
from hypothesis import strategies as st

from ocidiff.filesystem import OPAQUE_MARKER, merge_layers
from ocidiff.inventory import FileEntry
from ocidiff.tar.events import EntryKind

from .test_filesystem import directory, entry, link, symlink

NAMES = ("a", "b", "c", "a/x", "a/y", "b/x", "c/z", "a/x/q", "b/x/q", "l", "l/x", "m/n")
TARGETS = ("a", "b", "/a", "../a", "c/z", "/b/x", "x", "..", "/", "a/x")


@dataclass(eq=False)
class Inode:
    digest: str | None


@dataclass
class Node:
    kind: str  # "dir", "symlink", "regular", "broken" (a hard link to no file)
    target: str = ""
    inode: Inode | None = None


@dataclass
class Model:
    nodes: dict[str, Node] = field(default_factory=dict)

    def resolve_parent(self, path: str) -> str:
        head, _, tail = path.rpartition("/")
        if not head:
            return path
        pending, done, followed = head.split("/")[::-1], [], 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            done.append(part)
            node = self.nodes.get("/".join(done))
            if node is None or node.kind != "symlink":
                continue
            followed += 1
            if followed > 40:
                return path
            done.pop()
            if node.target.startswith("/"):
                done = []
            pending.extend(node.target.split("/")[::-1])
        parent = "/".join(done)
        landing = self.nodes.get(parent) if parent else None
        if landing is not None and landing.kind != "dir":
            return path
        return f"{parent}/{tail}" if parent else tail

    def remove_below(self, path: str, *, itself: bool) -> None:
        for name in list(self.nodes):
            if (path == "" and name != ".") or name.startswith(f"{path}/") or (
                itself and name == path
            ):
                del self.nodes[name]

    def apply(self, layer: list[FileEntry]) -> None:
        opaque, deleted = [], []
        for member in layer:
            head, _, tail = member.path.rpartition("/")
            if tail == OPAQUE_MARKER:
                opaque.append(self.resolve_parent(head) if head else "")
            elif tail.startswith(".wh.") and not tail.startswith(".wh..wh.") and tail != ".wh.":
                deleted.append(self.resolve_parent(f"{head}/{tail[4:]}" if head else tail[4:]))
        for path in opaque:
            self.remove_below(path, itself=False)
        for path in deleted:
            self.remove_below(path, itself=True)
        for member in layer:
            if member.path.rpartition("/")[2].startswith(".wh."):
                continue
            path = self.resolve_parent(member.path)
            if member.kind is not EntryKind.DIR:
                self.remove_below(path, itself=False)
            if member.kind is EntryKind.DIR:
                node = Node("dir")
            elif member.kind is EntryKind.SYMLINK:
                node = Node("symlink", member.linkname)
            elif member.kind is EntryKind.HARDLINK:
                target = self.nodes.get(self.resolve_parent(member.linkname.strip("/")))
                if target is not None and target.kind == "regular":
                    node = Node("regular", inode=target.inode)
                elif target is not None and target.kind == "symlink":
                    node = Node("symlink", target.target)  # link(2) does not follow it
                else:
                    node = Node("broken")
            else:
                node = Node("regular", inode=Inode(member.digest))
            self.nodes[path] = node

    def view(self) -> tuple[dict[str, tuple[str, str | None]], set[frozenset[str]]]:
        """path -> (kind, digest or symlink target), and the groups of paths sharing an inode."""
        shown: dict[str, tuple[str, str | None]] = {}
        groups: dict[int, set[str]] = {}
        for path, node in self.nodes.items():
            if node.kind == "regular":
                assert node.inode is not None
                shown[path] = ("regular", node.inode.digest)
                groups.setdefault(id(node.inode), set()).add(path)
            else:
                shown[path] = (node.kind, node.target or None)
        return shown, {frozenset(g) for g in groups.values()}


def ours(layers: list[list[FileEntry]]) -> tuple[dict[str, tuple[str, str | None]],
                                                 set[frozenset[str]]]:
    merged = {m.entry.path: m.entry for m in merge_layers(layers)}
    shown: dict[str, tuple[str, str | None]] = {}
    group_of: dict[str, str] = {}

    def root(path: str) -> str | None:
        seen = set()
        while path in merged and merged[path].kind is EntryKind.HARDLINK:
            if path in seen:
                return None
            seen.add(path)
            path = merged[path].linkname
        return path if path in merged and merged[path].kind is EntryKind.FILE else None

    for path, found in merged.items():
        if found.kind is EntryKind.FILE:
            shown[path], group_of[path] = ("regular", found.digest), path
        elif (found.kind is EntryKind.HARDLINK and found.digest is not None
              and (home := root(path)) is not None):
            shown[path], group_of[path] = ("regular", found.digest), home
        elif found.kind is EntryKind.HARDLINK:  # to nothing that was a file when it was made
            shown[path] = ("broken", None)
        elif found.kind is EntryKind.SYMLINK:
            shown[path] = ("symlink", found.linkname)
        else:
            shown[path] = ("dir", None)
    groups: dict[str, set[str]] = {}
    for path, home in group_of.items():
        groups.setdefault(home, set()).add(path)
    return shown, {frozenset(g) for g in groups.values()}


def _member(kind: str, path: str, data: bytes, target: str) -> FileEntry:
    head, _, tail = path.rpartition("/")
    where = f"{head}/" if head else ""
    if kind == "file":
        return entry(path, data)
    if kind == "dir":
        return directory(path)
    if kind == "symlink":
        return symlink(path, target)
    if kind == "hardlink":
        return link(path, target.strip("/") or "a")
    if kind == "whiteout":
        return entry(f"{where}.wh.{tail}")
    return entry(f"{where}{OPAQUE_MARKER}")


MEMBERS = st.builds(
    _member,
    st.sampled_from(("file", "file", "dir", "symlink", "hardlink", "whiteout", "opaque")),
    st.sampled_from(NAMES),
    st.sampled_from((b"1", b"22", b"333")),
    st.sampled_from(TARGETS + NAMES),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(MEMBERS, min_size=1, max_size=8), min_size=1, max_size=4))
def test_merge_layers_matches_the_model(layers: list[list[FileEntry]]) -> None:
    model = Model()
    for layer in layers:
        model.apply(layer)
    assert ours(layers) == model.view()


def test_the_model_sees_what_the_umoci_fixture_shows() -> None:
    """The model itself, on the hard-link stack of fixtures/real/hardlinks-umoci.tar."""
    stack = [[entry("x/a", b"one\n"), entry("x/gone", b"gone\n")],
             [link("x/b", "x/a"), link("x/d", "x/gone"), link("x/e", "x/gone")],
             [entry("x/a", b"two!!\n"), entry("x/.wh.gone")]]
    model = Model()
    for layer in stack:
        model.apply(layer)
    shown, groups = model.view()
    assert shown["x/b"] == ("regular", blake3.blake3(b"one\n").hexdigest())
    assert frozenset(("x/d", "x/e")) in groups
    assert ours(stack) == model.view()


def test_a_symlink_removed_with_its_directory_no_longer_redirects() -> None:
    """A resolution remembered through `a/l` must be forgotten once a file replaces `a`."""
    stack = [[directory("c"), symlink("a/l", "/c"), entry("a/l/f", b"f"), entry("a", b"file"),
              entry("a/l/g", b"g")]]
    model = Model()
    model.apply(stack[0])
    assert "c/g" not in model.view()[0]
    assert ours(stack) == model.view()
