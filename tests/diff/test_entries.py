"""Entry comparison: link structure, header encodings a field change forces, the package view of
path changes, and the drill-down of content differences."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from ocidiff.diff.drilldown import MAX_DETAILED, byte_facts, content_node
from ocidiff.diff.entries import compare_entries, compare_entry_lists
from ocidiff.diff.owners import package_notes
from ocidiff.inventory import ChunkRef, FileEntry
from ocidiff.tar.events import EntryKind


def entry(path: str, data: bytes = b"", **fields: object) -> FileEntry:
    base = FileEntry(
        path=path, name=path, kind=EntryKind.FILE, mode=0o644, raw_mode=0o644, uid=0, gid=0,
        uname="", gname="", size=len(data), mtime_ns=1_700_000_000 * 10**9, atime_ns=None,
        ctime_ns=None, linkname="", devmajor=0, devminor=0, xattrs=(), encoding="ustar",
        pax_keys=(), digest=hashlib.sha256(data).hexdigest() if data else None, chunks=None,
        offset=0,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def causes(a: FileEntry, b: FileEntry) -> list[str]:
    return [c.cause for c in compare_entries(a, b, f"l/{a.path}", {}, None, (None, None))]


def test_hard_link_or_copy_is_link_structure_not_type() -> None:
    copy = entry("app/serve.py", b"print()\n")
    link = replace(copy, kind=EntryKind.HARDLINK, linkname="app/main.py")
    assert causes(link, copy) == ["hardlinks"]
    (change,) = compare_entries(link, copy, "l", {}, None, (None, None))
    assert (change.old, change.new) == ("hard link to app/main.py", "regular file")
    assert causes(copy, replace(copy, kind=EntryKind.SYMLINK, linkname="x")) == ["file-type"]


def test_hard_links_to_the_same_target_leave_content_to_the_target() -> None:
    old = entry("b", b"one", kind=EntryKind.HARDLINK, linkname="a")
    assert causes(old, replace(old, digest="f" * 64)) == []
    assert causes(old, replace(old, linkname="c", digest="f" * 64)) == ["hardlinks", "content"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # xattrs need PAX records; the header form that follows is not a difference of its own
        ({"xattrs": (("user.a", "31"),), "encoding": "pax"}, ["xattrs"]),
        # a sub-second mtime needs a PAX mtime record
        ({"mtime_ns": 1_700_000_000 * 10**9 + 5, "encoding": "pax", "pax_keys": ("mtime",)},
         ["file-timestamps"]),
        # a PAX record no field change explains is an encoding difference
        ({"encoding": "pax", "pax_keys": ("LIBARCHIVE.creationtime",)}, ["tar-encoding"]),
        ({"encoding": "gnu"}, ["tar-encoding"]),
        ({"xattrs": (("user.a", "31"),), "encoding": "gnu"}, ["xattrs", "tar-encoding"]),
    ],
)
def test_header_encoding_forced_by_a_field(change: dict[str, object], expected: list[str]) -> None:
    old = entry("f", b"x")
    assert causes(old, replace(old, **change)) == expected  # type: ignore[arg-type]


SITE = "usr/lib/python3.11/site-packages"


def dist(version: str, module: bytes) -> tuple[list[FileEntry], dict[str, bytes]]:
    record = (f"demo/__init__.py,sha256=x,{len(module)}\n"
              f"demo-{version}.dist-info/RECORD,,\n../../../bin/demo,sha256=y,3\n").encode()
    entries = [
        entry(f"{SITE}/demo-{version}.dist-info", kind=EntryKind.DIR),
        entry(f"{SITE}/demo-{version}.dist-info/RECORD", record),
        entry(f"{SITE}/demo/__init__.py", module),
        entry("usr/bin/demo", module + b"!"),
        entry("etc/other", b"unrelated" + module),
    ]
    contents = {e.digest: d for e, d in ((entries[1], record), (entries[2], module)) if e.digest}
    return entries, contents


def test_upgraded_distribution_is_one_dependency_change() -> None:
    old, old_contents = dist("1.0", b"v = 1\n")
    new, new_contents = dist("1.1", b"v = 2\n")
    found = compare_entry_lists(old, new, "img/layers/0:0",
                                contents={**old_contents, **new_contents})
    (bump,) = [c for c in found.changes if c.cause == "dependency-change"]
    assert (bump.field, bump.old, bump.new) == ("demo", "1.0", "1.1")
    assert bump.locator == f"img/layers/0:0/{SITE}/demo-1.1.dist-info"
    noted = {c.locator.rsplit("/", 1)[-1]: c.detail for c in found.changes}
    assert "part of demo 1.0 -> 1.1" in (noted["demo-1.0.dist-info"] or "")
    # RECORD lists the module and the script (by a path relative to site-packages) ...
    assert {n.name: n.notes for n in found.entries} == {
        f"{SITE}/demo/__init__.py": ("part of demo 1.0 -> 1.1",),
        "usr/bin/demo": ("part of demo 1.0 -> 1.1",),
        "etc/other": (),
    }


def test_installed_removed_and_renamed_spelling() -> None:
    old = [entry(f"{SITE}/Foo_Bar-2.0.dist-info/METADATA", b"m")]
    new = [entry(f"{SITE}/foo.bar-2.0.dist-info/METADATA", b"m"),
           entry(f"{SITE}/zope.interface-6.0-py3.11.egg-info", b"pkg-info")]
    notes = package_notes(old, new, {}, "l")
    assert [(c.field, c.old, c.new, c.detail) for c in notes.changes] == [
        ("foo.bar", "2.0", "2.0", "Python distribution: version changed"),
        ("zope.interface", None, "6.0", "Python distribution: installed"),
    ]
    assert package_notes(new, old, {}, "l").changes[1].detail == "Python distribution: removed"
    assert package_notes(old, old, {}, "l").changes == ()
    # a whiteout deleting a distribution's directory is not a distribution
    gone = [entry(f"{SITE}/.wh.demo-1.0.dist-info")]
    assert package_notes([], gone, {}, "l").changes == ()


def test_drill_down_is_bounded_per_list() -> None:
    old = [entry(f"f{i:04d}.txt", b"a\n") for i in range(MAX_DETAILED + 5)]
    new = [replace(e, digest="0" * 64, size=3) for e in old]
    found = compare_entry_lists(old, new, "l")
    assert len(found.entries) == MAX_DETAILED + 5
    assert [bool(n.notes) for n in found.entries].count(True) == 5


def test_hostile_record_stays_inside_the_image() -> None:
    record = b"../../../../../etc/passwd,,\n\0bad\n" + b"x" * 10
    old = [entry(f"{SITE}/d-1.dist-info/RECORD", record)]
    new = [entry(f"{SITE}/d-2.dist-info/RECORD", b"")]
    notes = package_notes(old, new, {old[0].digest or "": record}, "l")
    assert all(not path.startswith("..") for path in notes.owners)


def test_byte_facts() -> None:
    old = bytes(range(256))
    new = bytearray(old)
    new[16:20] = b"ABCD"
    new[200] ^= 1
    assert byte_facts(old, bytes(new)) == [
        ("similarity", "98%"), ("changed-ranges", "0x10-0x13 (4 bytes), 0xc8 (1 byte)"),
    ]
    assert byte_facts(b"head-tail", b"head-more-tail") == [
        ("similarity", "64.2%"),
        ("changed-ranges", "old 0x5 (nothing) -> new 0x5-0x9 (5 bytes)"),
    ]


def test_drill_down_from_chunks_when_content_was_not_kept() -> None:
    chunks_a = (ChunkRef(0, 100, "aa"), ChunkRef(100, 50, "bb"))
    chunks_b = (ChunkRef(0, 100, "aa"), ChunkRef(100, 60, "cc"))
    a = entry("big", size=150, digest="1" * 64, chunks=chunks_a)
    b = entry("big", size=160, digest="2" * 64, chunks=chunks_b)
    node = content_node(a, b, (), {})
    facts = dict(node.facts)
    assert facts["similarity"] == "64.5%"
    assert facts["changed-ranges"] == "new 0x64-0x9f (60 bytes)"
    assert node.text_diff is None


def test_drill_down_of_text_is_a_unified_diff() -> None:
    a, b = entry("t.txt", b"one\ntwo\n"), entry("t.txt", b"one\nthree\n")
    node = content_node(a, b, (), {a.digest or "": b"one\ntwo\n", b.digest or "": b"one\nthree\n"})
    assert node.text_diff == "--- a/t.txt\n+++ b/t.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n"
    assert "similarity" not in dict(node.facts)


def explain(path: str, old: bytes, new: bytes) -> tuple[tuple[str, str], ...]:
    from ocidiff.diff.content import explain_content

    return tuple((f.cause, f.detail) for f in explain_content(path, old, new))


@pytest.mark.parametrize(
    ("path", "old", "new", "detail"),
    [
        ("var/lib/dpkg/status",
         b"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n",
         b"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\n",
         "1 package changed: libc6 2.36-9 -> 2.36-9+deb12u4"),
        ("lib/apk/db/installed", b"P:musl\nV:1.2.4-r1\n", b"P:musl\nV:1.2.4-r2\n",
         "1 package changed: musl 1.2.4-r1 -> 1.2.4-r2"),
        ("app/node_modules/lodash/package.json", b'{"name": "lodash", "version": "4.17.20"}',
         b'{"name": "lodash", "version": "4.17.21"}',
         "1 package changed: lodash 4.17.20 -> 4.17.21"),
    ],
)
def test_package_databases_through_the_entry_comparison(
    path: str, old: bytes, new: bytes, detail: str
) -> None:
    a, b = entry(path, old), entry(path, new)
    found = compare_entry_lists([a], [b], "l", contents={a.digest or "": old, b.digest or "": new},
                                explain=explain)
    assert found.changes == ()
    (node,) = found.entries
    assert [(c.cause, c.detail) for c in node.changes] == [("dependency-change", detail)]
    assert node.text_diff is not None
