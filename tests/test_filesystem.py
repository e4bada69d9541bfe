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


def symlink(path: str, target: str) -> FileEntry:
    return entry(path, None, kind=EntryKind.SYMLINK, mode=0o777, linkname=target)


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


def merged_listing(fixture: str) -> dict[str, tuple[str, str | None, str | None, int]]:
    out = subprocess.run(
        [sys.executable, "-m", "ocidiff", "ls", str(REAL_BUILT / fixture), "--merged",
         "--format", "jsonl", "--no-cache"],
        capture_output=True, check=True,
    ).stdout
    return {
        r["path"]: (r["type"], r["linkname"], r["blake3"], r["size"])
        for r in map(json.loads, out.splitlines())
    }


def test_umoci_fixture_merged_view_matches_umoci_unpack() -> None:
    """What `umoci unpack` wrote for this image (inode numbers shown as shared groups)."""
    assert merged_listing("hardlinks-umoci.tar") == {
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


def test_a_member_under_a_symlink_lands_where_the_link_points() -> None:
    lower = [directory("usr"), directory("usr/lib"), symlink("lib", "usr/lib"),
             symlink("abs", "/usr/lib"), symlink("chain", "lib"), directory("d"),
             symlink("d/up", "../usr"), symlink("esc", "../../../usr")]
    upper = [entry("lib/a", b"a"), entry("abs/b", b"b"), entry("chain/c", b"c"),
             entry("d/up/lib/e", b"e"), entry("esc/lib/f", b"f")]
    merged = {m.entry.path: m.entry for m in merge_layers([lower, upper])}
    assert {p for p in merged if p.startswith("usr/lib/")} == {
        "usr/lib/a", "usr/lib/b", "usr/lib/c", "usr/lib/e", "usr/lib/f"}
    assert merged["usr/lib/c"].name == "chain/c"  # the tar's name is kept
    assert not any(p.startswith(("lib/", "abs/", "chain/", "esc/")) for p in merged)


def test_markers_and_links_under_a_symlink() -> None:
    lower = [directory("usr"), directory("usr/lib"), entry("usr/lib/a", b"a"),
             entry("usr/lib/gone", b"gone"), directory("usr/lib/sub"), entry("usr/lib/sub/x", b"x"),
             symlink("lib", "usr/lib")]
    upper = [entry("lib/.wh.gone"), entry("lib/sub/.wh..wh..opq"), link("lib/hl", "lib/a"),
             symlink("lib/rel", "a")]
    merged = view([lower, upper])
    assert "usr/lib/gone" not in merged and "usr/lib/sub/x" not in merged
    assert merged["usr/lib/hl"] == ("hardlink", "usr/lib/a", b3(b"a"))
    assert merged["usr/lib/rel"] == ("symlink", "a", None)  # the last component is not followed


def test_paths_the_runtimes_refuse_keep_their_names() -> None:
    loop = [symlink("a", "b"), symlink("b", "a")]
    assert "a/x" in view([loop, [entry("a/x", b"x")]])
    to_a_file = [entry("f", b"f"), symlink("l", "f")]
    assert "l/x" in view([to_a_file, [entry("l/x", b"x")]])


def test_a_directory_replacing_a_symlink_is_a_directory_again() -> None:
    lower = [directory("usr"), directory("usr/lib"), symlink("lib", "usr/lib")]
    upper = [directory("lib"), entry("lib/own", b"own")]
    merged = view([lower, upper])
    assert merged["lib"][0] == "dir" and "lib/own" in merged and "usr/lib/own" not in merged


def test_umoci_symlinks_fixture_matches_umoci_unpack() -> None:
    """`umoci unpack` of fixtures/real/symlinks-umoci.tar (README there), path by path."""
    got = merged_listing("symlinks-umoci.tar")
    files = {p: v[2] for p, v in got.items() if v[0] in ("file", "hardlink")}
    assert files == {
        "usr/lib/a": b3(b"a\n"), "usr/lib/c": b3(b"c\n"), "usr/lib/e": b3(b"e\n"),
        "usr/lib/hl": b3(b"a\n"), "usr/share/doc/new": b3(b"new\n"), "swap/own": b3(b"own\n"),
    }
    assert got["usr/lib/hl"][:2] == ("hardlink", "usr/lib/a")
    assert got["usr/lib/rel"][:2] == ("symlink", "a")
    assert got["swap"][0] == "dir"
    links = {p for p, v in got.items() if v[0] == "symlink"}
    assert links == {"abs", "chain", "deep/er/up", "esc", "lib", "usr/lib/rel"}


def test_an_opaque_marker_at_the_root_hides_every_lower_path() -> None:
    lower = [directory("."), directory("a"), entry("a/x", b"x"), entry("top", b"t")]
    upper = [entry(".wh..wh..opq"), entry("new", b"n")]
    assert sorted(view([lower, upper])) == [".", "new"]


def test_a_non_directory_over_an_implied_directory_removes_what_was_below() -> None:
    """`b` was never listed, only implied by `b/x`; a symlink written at `b` replaces it and
    everything below, as an unpacker's RemoveAll does (found by random layers against umoci)."""
    lower = [entry("b/x", b"x"), entry("keep", b"k")]
    upper = [symlink("b", "keep")]
    assert view([lower, upper]) == {"b": ("symlink", "keep", None), "keep": ("file", "", b3(b"k"))}


def test_layers_apply_member_by_member() -> None:
    """Within one layer too: a file written over a directory drops what the same layer put in
    it before (umoci applies members in order)."""
    layer = [directory("a"), entry("a/x", b"x"), symlink("a/l", ".."), entry("a", b"now a file")]
    assert view([layer]) == {"a": ("file", "", b3(b"now a file"))}
