"""Turns one header block and the extension headers in force into a `TarEntry`; pure.

Owns the precedence rules (PAX records over GNU long names over the ustar header; local 'x'
over global 'g'), the typeflag table and the size rules per kind. It reads no bytes beyond the
values it is given and keeps no state.
"""

from __future__ import annotations

from collections.abc import Mapping

from ocidiff.tar.events import EntryKind, TarEntry, TarFormat
from ocidiff.tar.header import BLOCK_SIZE, RawHeader
from ocidiff.tar.limits import limit_exceeded
from ocidiff.tar.pax import PaxRecord, PaxSparse, decode_name, resolve_pax

_NS_PER_SECOND = 1_000_000_000

KIND_BY_TYPEFLAG: Mapping[str, EntryKind] = {
    "0": EntryKind.FILE,
    "\x00": EntryKind.FILE,
    "7": EntryKind.FILE,  # contiguous file: a regular file to every reader (POSIX ustar)
    "S": EntryKind.FILE,  # old GNU sparse file
    "1": EntryKind.HARDLINK,
    "2": EntryKind.SYMLINK,
    "3": EntryKind.CHARDEV,
    "4": EntryKind.BLOCKDEV,
    "5": EntryKind.DIR,
    "6": EntryKind.FIFO,
}
"""Member typeflags; any other (vendor 'D', 'M', 'N', 'V', ...) is EntryKind.OTHER."""

# Kinds whose size field never announces stored data, as Go's archive/tar and CPython's tarfile
# read them (POSIX ustar: "no data logical records are stored for types 1, 2, or 5").
_HEADER_ONLY_KINDS = frozenset(
    {
        EntryKind.HARDLINK,
        EntryKind.SYMLINK,
        EntryKind.CHARDEV,
        EntryKind.BLOCKDEV,
        EntryKind.DIR,
        EntryKind.FIFO,
    }
)


def check_member_size(size: int, limit: int, offset: int, member: str) -> None:
    """Refuse a stored or expanded size above `TarLimits.max_member_size`."""
    if size > limit:
        raise limit_exceeded(
            "max_member_size",
            f"member size {size} exceeds the limit of {limit}",
            offset=offset,
            member=member,
        )


def plain_entry(raw: RawHeader, header_offset: int, max_member_size: int) -> TarEntry:
    """`build_entry` for a member no extension header applies to, kept lean: it runs once per
    member of most layers."""
    (name_raw, mode, uid, gid, size, mtime, typeflag, linkname, uname, gname, major, minor, fmt) = (
        raw
    )
    name = name_raw.decode("utf-8", "surrogateescape")
    kind = KIND_BY_TYPEFLAG.get(typeflag, EntryKind.OTHER)
    if typeflag == "\x00" and name.endswith("/"):
        kind = EntryKind.DIR
    if size > max_member_size:
        check_member_size(size, max_member_size, header_offset, name)
    if kind in _HEADER_ONLY_KINDS:
        size = 0
    return TarEntry(
        name=name,
        kind=kind,
        typeflag=typeflag,
        mode=mode,
        uid=uid,
        gid=gid,
        uname=uname.decode("utf-8", "surrogateescape"),
        gname=gname.decode("utf-8", "surrogateescape"),
        size=size,
        mtime_ns=mtime * _NS_PER_SECOND,
        atime_ns=None,
        ctime_ns=None,
        linkname=linkname.decode("utf-8", "surrogateescape"),
        devmajor=major,
        devminor=minor,
        xattrs=(),
        pax=(),
        format=fmt,
        long_name=False,
        header_offset=header_offset,
        data_offset=header_offset + BLOCK_SIZE,
        stored_size=size,
        sparse=None,
    )


def build_entry(
    raw: RawHeader,
    *,
    long_name: bytes | None,
    long_link: bytes | None,
    global_pax: Mapping[str, bytes],
    local_pax: tuple[PaxRecord, ...] | None,
    header_offset: int,
    member_start: int,
    max_member_size: int,
) -> tuple[TarEntry, PaxSparse | None]:
    """The member described by `raw` at `header_offset`, with extensions applied.

    `local_pax` is None when no 'x' header precedes the member (an empty one still makes it a
    PAX member). `member_start` is the offset of the member's first extension header. For sparse
    members the
    entry's `size` is already the expanded size but `sparse` is left for the caller to fill
    in (the map may still be unread); the PAX sparse description is returned alongside.
    """
    has_pax = local_pax is not None or bool(global_pax)
    if not has_pax and long_name is None and long_link is None and member_start == header_offset:
        return plain_entry(raw, header_offset, max_member_size), None
    name_raw = raw.name if long_name is None else long_name
    link_raw = raw.linkname if long_link is None else long_link
    size, uid, gid = raw.size, raw.uid, raw.gid
    uname_raw, gname_raw = raw.uname, raw.gname
    mtime_ns = raw.mtime * _NS_PER_SECOND
    atime_ns: int | None = None
    ctime_ns: int | None = None
    xattrs: tuple[tuple[str, bytes], ...] = ()
    pax: tuple[PaxRecord, ...] = ()
    fmt = raw.format
    sparse: PaxSparse | None = None
    if has_pax:
        local_pax = local_pax or ()
        # POSIX pax: extended header records override the ustar fields and, as in GNU tar,
        # GNU long names too.
        pax = (*global_pax.items(), *local_pax)
        fmt = TarFormat.PAX
        over = resolve_pax(
            global_pax, local_pax, offset=header_offset, member=decode_name(name_raw)
        )
        name_raw = name_raw if over.path is None else over.path
        link_raw = link_raw if over.linkpath is None else over.linkpath
        size = size if over.size is None else over.size
        uid = uid if over.uid is None else over.uid
        gid = gid if over.gid is None else over.gid
        uname_raw = uname_raw if over.uname is None else over.uname
        gname_raw = gname_raw if over.gname is None else over.gname
        mtime_ns = mtime_ns if over.mtime_ns is None else over.mtime_ns
        atime_ns, ctime_ns, xattrs = over.atime_ns, over.ctime_ns, over.xattrs
        sparse = over.sparse
        if sparse is not None and sparse.name is not None:
            name_raw = sparse.name
    name = name_raw.decode("utf-8", "surrogateescape")
    kind = KIND_BY_TYPEFLAG.get(raw.typeflag, EntryKind.OTHER)
    if raw.typeflag == "\x00" and name.endswith("/"):
        kind = EntryKind.DIR  # V7 wrote directories as regular files with a trailing slash
    check_member_size(size, max_member_size, header_offset, name)
    if kind in _HEADER_ONLY_KINDS:
        size = 0
    if kind is not EntryKind.FILE:
        sparse = None
    logical_size = size if sparse is None else sparse.real_size
    check_member_size(logical_size, max_member_size, header_offset, name)
    entry = TarEntry(
        name=name,
        kind=kind,
        typeflag=raw.typeflag,
        mode=raw.mode,
        uid=uid,
        gid=gid,
        uname=uname_raw.decode("utf-8", "surrogateescape"),
        gname=gname_raw.decode("utf-8", "surrogateescape"),
        size=logical_size,
        mtime_ns=mtime_ns,
        atime_ns=atime_ns,
        ctime_ns=ctime_ns,
        linkname=link_raw.decode("utf-8", "surrogateescape"),
        devmajor=raw.devmajor,
        devminor=raw.devminor,
        xattrs=xattrs,
        pax=pax,
        format=fmt,
        long_name=long_name is not None or long_link is not None,
        header_offset=member_start,
        data_offset=header_offset + BLOCK_SIZE,
        stored_size=size,
        sparse=None,
    )
    return entry, sparse
