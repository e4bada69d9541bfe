"""The merged filesystem: whiteouts, opaque directories, replaced paths and hard links, checked
against what `umoci unpack` leaves on disk (fixtures/real/hardlinks-umoci.tar, README there)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import blake3

from ocidiff.diff.entries import compare_entry_lists
from ocidiff.filesystem import merge_layers
from ocidiff.inventory import FileEntry
from ocidiff.tar.events import EntryKind

from .conftest import REAL_BUILT


def entry(path: str, data: bytes | None = b"", **fields: object) -> FileEntry:
    base = FileEntry(
        path=path, name=path, kind=EntryKind.FILE, mode=0o644, raw_mode=0o644, uid=0, gid=0,
        uname="", gname="", size=len(data or b""), mtime_ns=1_700_000_000 * 10**9,
        atime_ns=None, ctime_ns=None, linkname="", devmajor=0, devminor=0, xattrs=(),
        encoding="ustar", pax_keys=(),
        digest=blake3.blake3(data).hexdigest() if data is not None else None, chunks=None,
        offset=0,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def directory(path: str) -> FileEntry:
    return entry(path, None, kind=EntryKind.DIR, mode=0o755)


def link(path: str, target: str, digest: str | None = None) -> FileEntry:
    # As a layer lists it: size 0, and the target's digest only when the target is in that layer.
    return entry(path, None, kind=EntryKind.HARDLINK, linkname=target, digest=digest)


def view(layers: list[list[FileEntry]]) -> dict[str, tuple[str, str, str | None]]:
    """path -> (kind, link target, digest) of the merged filesystem."""
    return {
        m.entry.path: (m.entry.kind.value, m.entry.linkname, m.entry.digest)
        for m in merge_layers(layers)
    }


def b3(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def test_whiteouts_opaque_directories_and_replaced_paths() -> None:
    lower = [directory("a"), entry("a/one", b"1"), entry("a/two", b"2"), directory("d"),
             entry("d/x", b"x"), entry("f", b"f"), directory("keep"), entry("keep/k", b"k")]
    upper = [entry("a/.wh..wh..opq"), entry("a/three", b"3"), entry(".wh.f"),
             entry("d", b"now a file"), entry("keep/.wh.gone")]
    assert sorted(view([lower, upper])) == ["a", "a/three", "d", "keep", "keep/k"]
    assert view([lower, upper])["d"][0] == "file"


def test_a_link_to_a_lower_layer_carries_that_content() -> None:
    lower = [entry("x/keep", b"keep\n")]
    upper = [link("x/c", "x/keep")]
    assert view([lower, upper])["x/c"] == ("hardlink", "x/keep", b3(b"keep\n"))


def test_a_rewritten_target_leaves_the_link_with_the_old_bytes() -> None:
    # umoci (and any unpacker that unlinks before writing) keeps the link on the old inode.
    layers = [[entry("x/a", b"one\n")], [link("x/b", "x/a")], [entry("x/a", b"two!!\n")]]
    merged = {m.entry.path: m.entry for m in merge_layers(layers)}
    assert (merged["x/b"].kind, merged["x/b"].linkname) == (EntryKind.FILE, "")
    assert (merged["x/b"].size, merged["x/b"].digest) == (4, b3(b"one\n"))
    assert merged["x/a"].digest == b3(b"two!!\n")


def test_links_to_a_deleted_target_stay_linked_to_each_other() -> None:
    layers = [[entry("x/gone", b"gone\n")], [link("x/d", "x/gone"), link("x/e", "x/gone")],
              [entry("x/.wh.gone")]]
    assert view(layers) == {
        "x/d": ("file", "", b3(b"gone\n")),
        "x/e": ("hardlink", "x/d", b3(b"gone\n")),
    }


def test_a_chain_of_links_follows_the_inode() -> None:
    same_layer = [entry("y/t", b"tee\n"), link("y/h1", "y/t", digest=b3(b"tee\n"))]
    layers = [same_layer, [link("y/h2", "y/h1")], [entry("y/t", b"TEE\n")]]
    assert view(layers) == {
        "y/t": ("file", "", b3(b"TEE\n")),
        "y/h1": ("file", "", b3(b"tee\n")),
        "y/h2": ("hardlink", "y/h1", b3(b"tee\n")),
    }


def test_a_link_replaced_or_broken_is_left_as_listed() -> None:
    replaced = [[entry("a", b"a")], [link("b", "a")], [entry("b", b"own")]]
    assert view(replaced)["b"] == ("file", "", b3(b"own"))
    broken = [[link("b", "nowhere")]]
    assert view(broken) == {"b": ("hardlink", "nowhere", None)}
    to_a_directory = [[directory("d")], [link("b", "d")]]
    assert view(to_a_directory)["b"] == ("hardlink", "d", None)


def test_the_old_bytes_behind_a_link_are_compared() -> None:
    """Both images rewrite x/a identically, but the link made before kept different bytes: the
    merged filesystems differ at x/b, and the diff must say so (it used to see two equal links)."""
    def image(first: bytes) -> list[FileEntry]:
        layers = [[entry("x/a", first)], [link("x/b", "x/a")], [entry("x/a", b"same now\n")]]
        return [m.entry for m in merge_layers(layers)]

    found = compare_entry_lists(image(b"one\n"), image(b"uno\n"), "merged")
    assert [node.name for node in found.entries] == ["x/b"]
    assert {c.cause for node in found.entries for c in node.changes} == {"content"}


def test_umoci_fixture_merged_view_matches_umoci_unpack() -> None:
    """What `umoci unpack` wrote for this image (inode numbers shown as shared groups)."""
    out = subprocess.run(
        [sys.executable, "-m", "ocidiff", "ls", str(REAL_BUILT / "hardlinks-umoci.tar"),
         "--merged", "--format", "jsonl", "--no-cache"],
        capture_output=True, check=True,
    ).stdout
    got = {
        r["path"]: (r["type"], r["linkname"], r["blake3"], r["size"])
        for r in map(json.loads, out.splitlines())
    }
    assert got == {
        "x": ("dir", None, None, 0),
        "x/a": ("file", None, b3(b"two!!\n"), 6),
        "x/b": ("file", None, b3(b"one\n"), 4),  # its own inode: a was rewritten
        "x/c": ("hardlink", "x/keep", b3(b"keep\n"), 0),  # shares keep's inode
        "x/d": ("file", None, b3(b"gone\n"), 5),  # d and e share gone's old inode
        "x/e": ("hardlink", "x/d", b3(b"gone\n"), 0),
        "x/keep": ("file", None, b3(b"keep\n"), 5),
        "y": ("dir", None, None, 0),
        "y/h1": ("file", None, b3(b"tee\n"), 4),  # h1 and h2 share t's old inode
        "y/h2": ("hardlink", "y/h1", b3(b"tee\n"), 0),
        "y/t": ("file", None, b3(b"TEE\n"), 4),
    }
