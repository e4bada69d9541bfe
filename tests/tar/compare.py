"""How our entries are compared with tarfile's members and GNU tar's listing lines.

Every normalisation here is a documented difference of presentation, not of content: tarfile
strips a directory's trailing slash and keeps a float mtime, GNU tar prints modes as letters.
"""

from __future__ import annotations

import base64
import stat
import tarfile
from datetime import UTC, datetime
from urllib.parse import unquote_to_bytes

from ocidiff.tar import EntryKind, TarEntry

from .harness import GnuRow, TarfileMember

_TARFILE_KIND = {
    tarfile.REGTYPE: EntryKind.FILE,
    tarfile.AREGTYPE: EntryKind.FILE,
    tarfile.CONTTYPE: EntryKind.FILE,
    tarfile.GNUTYPE_SPARSE: EntryKind.FILE,
    tarfile.LNKTYPE: EntryKind.HARDLINK,
    tarfile.SYMTYPE: EntryKind.SYMLINK,
    tarfile.CHRTYPE: EntryKind.CHARDEV,
    tarfile.BLKTYPE: EntryKind.BLOCKDEV,
    tarfile.DIRTYPE: EntryKind.DIR,
    tarfile.FIFOTYPE: EntryKind.FIFO,
}


def _xattrs_from_tarfile(pax: dict[str, str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for key, value in pax.items():
        raw = value.encode("utf-8", "surrogateescape")
        if key.startswith("SCHILY.xattr."):
            found[key.removeprefix("SCHILY.xattr.")] = raw
        elif key.startswith("LIBARCHIVE.xattr."):
            name = unquote_to_bytes(key.removeprefix("LIBARCHIVE.xattr.")).decode(
                "utf-8", "surrogateescape"
            )
            found[name] = base64.b64decode(raw + b"=" * (-len(raw) % 4))
    return found


def _nonempty(regions: tuple[tuple[int, int], ...] | None) -> list[tuple[int, int]] | None:
    # tarfile keeps the terminating (0, 0) and zero-length entries of a GNU map; both views
    # agree once zero-length regions are dropped.
    return None if regions is None else [region for region in regions if region[1]]


def assert_matches_tarfile(entry: TarEntry, digest: str, reference: TarfileMember) -> None:
    # tarfile strips a directory's trailing slashes; we keep names exactly as stored.
    name = entry.name.rstrip("/") if entry.kind is EntryKind.DIR else entry.name
    assert name == reference.name
    assert entry.kind is _TARFILE_KIND.get(reference.type, EntryKind.OTHER)
    if entry.kind is EntryKind.FILE:
        assert entry.size == reference.size
        assert digest == reference.digest
    else:  # header-only types carry no data for us (nor for tarfile, whatever the size field)
        assert entry.size == 0
    assert entry.mode == reference.mode
    assert (entry.uid, entry.gid) == (reference.uid, reference.gid)
    assert (entry.uname, entry.gname) == (reference.uname, reference.gname)
    # tarfile turns a PAX mtime into a float: equal to within its precision.
    assert abs(entry.mtime_ns - reference.mtime * 1e9) < 1000
    if float(reference.mtime).is_integer():
        assert entry.mtime_ns == int(reference.mtime) * 1_000_000_000
    assert entry.linkname == reference.linkname
    assert dict(entry.xattrs) == _xattrs_from_tarfile(reference.pax_headers)
    ours_pax = {key: value.decode("utf-8", "surrogateescape") for key, value in entry.pax}
    assert ours_pax == reference.pax_headers
    assert _nonempty(entry.sparse) == _nonempty(reference.sparse)


_GNU_TYPE_CHAR = {
    EntryKind.FILE: "-",
    EntryKind.HARDLINK: "h",
    EntryKind.SYMLINK: "l",
    EntryKind.CHARDEV: "c",
    EntryKind.BLOCKDEV: "b",
    EntryKind.DIR: "d",
    EntryKind.FIFO: "p",
}


def _gnu_time(mtime_ns: int) -> str:
    """The time as GNU tar 1.34 lists it (TZ=UTC).

    Known GNU display quirk: a negative time with a fraction, such as PAX mtime=-1000000.5, is
    listed as its integer part rounded toward zero plus the fraction (10:13:20.5 instead of
    10:13:19.5). GNU tar extracts the right value; we, tarfile and POSIX read -1000000.5.
    """
    seconds, nanoseconds = divmod(abs(mtime_ns), 1_000_000_000)
    if mtime_ns < 0:
        seconds = -seconds
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
    fraction = f"{nanoseconds:09d}".rstrip("0")
    return f"{text}.{fraction}" if fraction else text


def assert_matches_gnu(entry: TarEntry, row: GnuRow) -> None:
    assert row.name == entry.name
    type_char = "C" if entry.typeflag == "7" else _GNU_TYPE_CHAR.get(entry.kind, row.perms[0])
    expected_perms = type_char + stat.filemode(entry.mode & 0o7777)[1:]
    assert row.perms == expected_perms
    assert (row.uid, row.gid) == (entry.uid, entry.gid)
    if entry.kind in (EntryKind.CHARDEV, EntryKind.BLOCKDEV):
        assert row.size == f"{entry.devmajor},{entry.devminor}"
    else:
        assert int(row.size) == entry.size
    assert row.time == _gnu_time(entry.mtime_ns)
    if entry.kind in (EntryKind.SYMLINK, EntryKind.HARDLINK):
        assert row.link == entry.linkname
