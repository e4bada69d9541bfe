"""Archives written by GNU tar itself, in every format it offers, read back three ways.

A file tree with long names and link targets, hard and symbolic links, a FIFO, devices (as root),
non-UTF-8 and non-ASCII names, xattrs, extreme times and owners, and a sparse file is archived
as v7, ustar, oldgnu, gnu and posix, and with each sparse encoding (old GNU, PAX 0.0, 0.1, 1.0).
Each archive must parse identically in every chunking and agree with tarfile and GNU tar.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocidiff.tar import EntryKind

from .compare import assert_matches_gnu, assert_matches_tarfile
from .harness import GNU_TAR, list_with_gnu_tar, parse, read_with_tarfile

pytestmark = pytest.mark.skipif(GNU_TAR is None, reason="GNU tar is not installed")

_IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

# format -> extra GNU tar options; "simple" trees avoid what v7 and ustar cannot store.
FORMATS: dict[str, tuple[str, list[str]]] = {
    "v7": ("simple", ["--format=v7"]),
    "ustar": ("simple", ["--format=ustar"]),
    "oldgnu": ("rich", ["--format=oldgnu"]),
    "gnu": ("rich", ["--format=gnu"]),
    "posix": ("rich", ["--format=posix", "--xattrs", "--xattrs-include=*"]),
    "sparse-oldgnu": ("sparse", ["--format=gnu", "--sparse"]),
    "sparse-0.0": ("sparse", ["--format=posix", "--sparse", "--sparse-version=0.0"]),
    "sparse-0.1": ("sparse", ["--format=posix", "--sparse", "--sparse-version=0.1"]),
    "sparse-1.0": ("sparse", ["--format=posix", "--sparse", "--sparse-version=1.0"]),
}


def _write(path: Path, data: bytes, mtime: float = 1_700_000_000.25) -> None:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def _simple_tree(root: Path) -> bool:
    (root / "dir" / "sub").mkdir(parents=True)
    for size in (0, 1, 511, 512, 513, 100_000):
        _write(root / "dir" / f"size-{size}", bytes((i * 7 + size) % 256 for i in range(size)))
    os.symlink("size-1", root / "dir" / "symlink")
    os.link(root / "dir" / "size-513", root / "dir" / "hardlink")
    (root / "dir" / "exec").write_bytes(b"#!/bin/sh\n")
    os.chmod(root / "dir" / "exec", 0o4755)
    os.chmod(root / "dir" / "sub", 0o1777)
    return False


def _rich_tree(root: Path) -> bool:
    """The simple tree and more; True if the file system kept the xattrs."""
    _simple_tree(root)
    os.mkfifo(root / "dir" / "fifo")  # v7 cannot store one
    deep = root / ("long-directory-name-" * 6) / ("nested-" * 12)
    deep.mkdir(parents=True)
    _write(deep / ("file-with-a-long-name-" * 3), b"deep content")
    os.symlink("target/" * 30 + "end", root / "long-link")
    os.link(deep / ("file-with-a-long-name-" * 3), root / "hardlink-to-long-name")
    _write(root / "café-ünïcode-名前", b"unicode")
    _write(Path(os.fsdecode(bytes(root) + b"/latin1-\xe9\xff")), b"not utf-8")
    _write(root / "before-1970", b"old", mtime=-1_000_000.5)
    _write(root / "far-future", b"new", mtime=2**34)
    big_ids = root / "big-ids"
    _write(big_ids, b"ids")
    if _IS_ROOT:
        os.chown(big_ids, 4_294_967_294, 3_000_000)
        os.mknod(root / "char-device", 0o620 | stat.S_IFCHR, os.makedev(1, 3))
        os.mknod(root / "block-device", 0o660 | stat.S_IFBLK, os.makedev(259, 70_000))
    try:  # xattrs need a file system that keeps user.*
        os.setxattr(root / "dir" / "size-1", "user.binary", b"\x00\x01\xfe\xff")
        os.setxattr(root / "dir" / "size-1", "user.text", b"hello")
    except OSError:
        return False
    return True


def _sparse_tree(root: Path) -> bool:
    with open(root / "sparse.bin", "wb") as handle:
        handle.seek(100_000)
        handle.write(b"island one")
        handle.seek(3 << 20)
        handle.write(b"island two" * 1000)
        handle.truncate(5 << 20)
    os.utime(root / "sparse.bin", (1_700_000_000, 1_700_000_000))
    _write(root / "dense", b"d" * 5000)
    return False


_TREES = {"simple": _simple_tree, "rich": _rich_tree, "sparse": _sparse_tree}


@dataclass(frozen=True)
class Written:
    archives: dict[str, bytes]
    has_xattrs: bool


@pytest.fixture(scope="module")
def gnu_archives(tmp_path_factory: pytest.TempPathFactory) -> Written:
    base = tmp_path_factory.mktemp("gnu-written")
    trees: dict[str, Path] = {}
    has_xattrs = False
    for name, build in _TREES.items():
        trees[name] = base / name
        trees[name].mkdir()
        has_xattrs |= build(trees[name])
    archives = {}
    for fmt, (tree, options) in FORMATS.items():
        target = base / f"{fmt}.tar"
        assert GNU_TAR is not None
        subprocess.run(
            [GNU_TAR, "-c", "-f", str(target), "-C", str(trees[tree]), *options, "."],
            check=True,
            capture_output=True,
            env=dict(os.environ, LC_ALL="C"),
        )
        archives[fmt] = target.read_bytes()
    return Written(archives, has_xattrs)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_gnu_written_archive(gnu_archives: Written, fmt: str) -> None:
    data = gnu_archives.archives[fmt]
    parsed = parse(data)
    assert parse(data, "bytewise") == parsed
    assert parse(data, "ragged-reused") == parsed
    reference = read_with_tarfile(data)
    assert len(reference) == len(parsed.members)
    for (entry, digest, _), info in zip(parsed.members, reference, strict=True):
        assert_matches_tarfile(entry, digest, info)
    status, rows, stderr = list_with_gnu_tar(data)
    assert status == 0, stderr
    for (entry, _, _), row in zip(parsed.members, rows, strict=True):
        assert_matches_gnu(entry, row)
    kinds = {entry.kind for entry, _, _ in parsed.members}
    if FORMATS[fmt][0] == "rich":
        assert {EntryKind.FIFO, EntryKind.HARDLINK, EntryKind.SYMLINK, EntryKind.DIR} <= kinds
        if _IS_ROOT:
            assert {EntryKind.CHARDEV, EntryKind.BLOCKDEV} <= kinds
        if fmt == "posix" and gnu_archives.has_xattrs:
            xattrs = {name for entry, _, _ in parsed.members for name, _ in entry.xattrs}
            assert {"user.binary", "user.text"} <= xattrs
    if FORMATS[fmt][0] == "sparse":
        sparse = [entry for entry, _, _ in parsed.members if entry.name.endswith("sparse.bin")]
        assert len(sparse) == 1 and sparse[0].size == 5 << 20
        assert sparse[0].sparse and sparse[0].stored_size < 1 << 20
