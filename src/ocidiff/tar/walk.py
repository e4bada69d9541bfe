"""A lean walk of a tar stream: what `verify` checks, and what `ls` and `diff` list, at a
fraction of a parse's cost.

Hopping from header to header costs about 2 µs per header block; a parse with its events and a
`TarEntry` per member costs about 18 µs per member. The walker accepts a member only when it can
prove the full parser would accept it too: the usual encodings (octal fields with a NUL or space
terminator, an unsigned checksum, PAX records it knows to be valid, a size it can read). Anything
else, from a base-256 number to a sparse file, a GNU long name, a global header or the
end-of-archive marker, is handed to a `TarParser` resumed at that member's first header, which
then gives the same answer, or the same error, as a full parse of the whole stream would. So the
walker can only be faster, never more lenient; `tests/tar/test_walk.py` and the `tar` fuzz
target check both against each other on generated, real and damaged archives.

Two modes: without a visitor it only checks (verify); with an `EntryVisitor` it also builds each
member's `TarEntry` from the header bytes and hands it and its data on, as a parse would (ls,
diff). Sans-IO like the parser: bytes go in through `feed`, `finish` returns the `ArchiveEnd`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from typing import Protocol

from ocidiff.tar.events import (
    ArchiveEnd,
    EntryData,
    EntryEnd,
    EntryHeader,
    EntryKind,
    NeedData,
    TarEntry,
    TarFormat,
    Trailer,
)
from ocidiff.tar.header import BLOCK_SIZE, detect_format
from ocidiff.tar.limits import DEFAULT_LIMITS, TarLimits
from ocidiff.tar.parser import TarParser, truncated_data
from ocidiff.tar.pax import decode_name, parse_pax_decimal, parse_pax_time
from ocidiff.tar.sparse import HOLE_FILL

__all__ = ["EntryVisitor", "TarWalker"]


class EntryVisitor(Protocol):
    """Receives members as a parse would emit them: `begin`, `data`* (views of fed bytes, valid
    until the next `feed`; sparse holes as views of the shared zero buffer), `end`."""

    def begin(self, entry: TarEntry) -> None: ...

    def data(self, piece: memoryview | bytes) -> None: ...

    def end(self, entry: TarEntry) -> None: ...


# mode, uid, gid, size, mtime and chksum as Go, tarfile, GNU tar and BuildKit write them: zero
# padded octal digits and one terminator; then the typeflag. Matched at offset 100 of a header.
_FIELDS = re.compile(
    rb"[0-7]{7}[\0 ][0-7]{7}[\0 ][0-7]{7}[\0 ]([0-7]{11})[\0 ][0-7]{11}[\0 ]"
    rb"([0-7]{6}\0 |[0-7]{7}\0)(.)",
    re.DOTALL,
)
_ALL_FIELDS = re.compile(
    rb"([0-7]{7})[\0 ]([0-7]{7})[\0 ]([0-7]{7})[\0 ]([0-7]{11})[\0 ]([0-7]{11})[\0 ]"
    rb"([0-7]{6}\0 |[0-7]{7}\0)(.)",
    re.DOTALL,
)
# One PAX record, "<length> <keyword>=<value>\n", value free of newlines (others: the parser).
_RECORD = re.compile(rb"([0-9]{1,20}) ([^=\n]+)=([^\n]*)\n")
_TIME = re.compile(rb"(?:[0-9]{1,11}(?:\.[0-9]*)?)?")  # well inside parse_pax_time's range
_NUMBER = re.compile(rb"[0-9]{0,18}")  # well inside parse_pax_decimal's range
_TIME_KEYS = frozenset({b"mtime", b"atime", b"ctime"})
_NUMBER_KEYS = frozenset({b"uid", b"gid", b"size"})
# Keywords whose values the parser interprets beyond "keep the bytes": sparse maps, base64
# xattrs. Members carrying them are read by the parser itself.
_PARSER_PREFIXES = (b"GNU.sparse.", b"LIBARCHIVE.xattr.")
_WITH_DATA = frozenset(b"07")  # regular files ('7' = contiguous): their size is stored data
_HEADER_ONLY = frozenset(b"1256")  # hard link, symlink, directory, FIFO: no data whatever the size
_PAX_LOCAL = ord("x")
_PAX_GLOBAL = ord("g")  # its records hold for every later member: the parser reads the rest
_NEEDS_PARSER = -1
_ADLER_MODULUS = 65521
_ZERO_BLOCK = bytes(BLOCK_SIZE)
_NS_PER_SECOND = 1_000_000_000
_SCHILY_XATTR = "SCHILY.xattr."
# Member kinds the fast path lists itself (see `_WITH_DATA` and `_HEADER_ONLY`).
_FAST_KINDS = {
    ord("0"): EntryKind.FILE,
    ord("7"): EntryKind.FILE,
    ord("1"): EntryKind.HARDLINK,
    ord("2"): EntryKind.SYMLINK,
    ord("5"): EntryKind.DIR,
    ord("6"): EntryKind.FIFO,
}
_HAS_DATA = frozenset({EntryKind.FILE})


def _is_hole(data: memoryview | bytes) -> bool:
    return type(data) is memoryview and data.obj is HOLE_FILL


def _padded(size: int) -> int:
    return -(-size // BLOCK_SIZE) * BLOCK_SIZE


def _header(buf: bytes, at: int) -> tuple[int, int] | None:
    """(size field, typeflag) of the header at `buf[at:at+512]` when its fields have the usual
    encoding and its unsigned checksum is right; None sends the member to the parser.

    The checksum: adler32's low half is (1 + sum of bytes) mod 65521, computed in C. It settles
    the question exactly when both sums lie below 65521, which holds for every ASCII header
    (at most 127 x 512); other headers have their bytes summed one by one."""
    fields = _FIELDS.match(buf, at + 100)
    if fields is None:
        return None
    size, checksum, typeflag = fields.groups()
    if not _checksum_ok(buf, at, checksum):
        return None
    return int(size, 8), typeflag[0]


def _header_fields(buf: bytes, at: int) -> tuple[int, int, int, int, int, int] | None:
    """`_header` with mode, uid, gid, size, mtime and typeflag, for listing."""
    fields = _ALL_FIELDS.match(buf, at + 100)
    if fields is None:
        return None
    mode, uid, gid, size, mtime, checksum, typeflag = fields.groups()
    if not _checksum_ok(buf, at, checksum):
        return None
    return int(mode, 8), int(uid, 8), int(gid, 8), int(size, 8), int(mtime, 8), typeflag[0]


def _checksum_ok(buf: bytes, at: int, checksum: bytes) -> bool:
    stored = int(checksum[:7].rstrip(b"\0 "), 8)
    block = buf[at : at + BLOCK_SIZE]
    # The sum counts the checksum field as eight spaces (256), whatever it holds.
    field_sum = sum(checksum) - 256
    if stored < _ADLER_MODULUS and block.isascii():
        return not ((zlib.adler32(block) & 0xFFFF) - 1 - field_sum - stored) % _ADLER_MODULUS
    return sum(block) - field_sum == stored


def _text(buf: bytes, start: int, stop: int) -> bytes:
    """A NUL-terminated header field."""
    end = buf.find(0, start, stop)
    return buf[start : stop if end < 0 else end]


def _pax_records(buf: bytes, start: int, end: int) -> list[tuple[bytes, bytes]] | None:
    """The records of an 'x' header, in order, when the fast path can apply them; None when
    they need the parser: malformed, sparse, base64 xattrs, a value with a newline in it."""
    records: list[tuple[bytes, bytes]] = []
    at = start
    while at < end and buf[at] != 0:
        record = _RECORD.match(buf, at, end)
        if record is None:
            return None
        length, key, value = record.groups()
        if int(length) != record.end() - at:
            return None
        if key in _TIME_KEYS:
            if _TIME.fullmatch(value) is None:
                return None
        elif key in _NUMBER_KEYS:
            if _NUMBER.fullmatch(value) is None:
                return None
        elif key.startswith(_PARSER_PREFIXES):
            return None
        records.append((key, value))
        at = record.end()
    return records


def _listed_entry(
    buf: bytes,
    at: int,
    fields: tuple[int, int, int, int, int, int],
    records: list[tuple[bytes, bytes]] | None,
    member_start: int,
    header_offset: int,
    max_member: int,
) -> TarEntry | None:
    """The entry for the header at `buf[at]` (stream offset `member_start` for its first
    header), as `build_entry` makes it; None when the parser must judge it (too large)."""
    mode, uid, gid, size, mtime, flag = fields
    kind = _FAST_KINDS[flag]
    fmt = detect_format(buf[at : at + BLOCK_SIZE])
    name = _text(buf, at, at + 100)
    uname = gname = b""
    if fmt is not TarFormat.V7:
        uname = _text(buf, at + 265, at + 297)
        gname = _text(buf, at + 297, at + 329)
        if fmt is TarFormat.USTAR and buf[at + 345]:
            name = _text(buf, at + 345, at + 500) + b"/" + name
    linkname = _text(buf, at + 157, at + 257)
    mtime_ns = mtime * _NS_PER_SECOND
    atime_ns: int | None = None
    ctime_ns: int | None = None
    xattrs: tuple[tuple[str, bytes], ...] = ()
    pax: tuple[tuple[str, bytes], ...] = ()
    if records is not None:
        fmt = TarFormat.PAX
        pax = tuple((decode_name(key), value) for key, value in records)
        effective: dict[str, bytes] = {}
        for key, value in pax:  # the last record wins; an empty value deletes the keyword
            if value:
                effective[key] = value
            else:
                effective.pop(key, None)
        if effective:
            name = effective.get("path", name)
            linkname = effective.get("linkpath", linkname)
            uname = effective.get("uname", uname)
            gname = effective.get("gname", gname)
            if "size" in effective:
                size = parse_pax_decimal(effective["size"]) or 0
            if "uid" in effective:
                uid = parse_pax_decimal(effective["uid"]) or 0
            if "gid" in effective:
                gid = parse_pax_decimal(effective["gid"]) or 0
            if "mtime" in effective:
                mtime_ns = parse_pax_time(effective["mtime"]) or 0
            if "atime" in effective:
                atime_ns = parse_pax_time(effective["atime"])
            if "ctime" in effective:
                ctime_ns = parse_pax_time(effective["ctime"])
            xattrs = tuple(
                sorted(
                    (key[len(_SCHILY_XATTR) :], value)
                    for key, value in effective.items()
                    if key.startswith(_SCHILY_XATTR)
                )
            )
    if size > max_member:
        return None
    if kind not in _HAS_DATA:
        size = 0
    return TarEntry(
        name=name.decode("utf-8", "surrogateescape"),
        kind=kind,
        typeflag=chr(flag),
        mode=mode,
        uid=uid,
        gid=gid,
        uname=uname.decode("utf-8", "surrogateescape"),
        gname=gname.decode("utf-8", "surrogateescape"),
        size=size,
        mtime_ns=mtime_ns,
        atime_ns=atime_ns,
        ctime_ns=ctime_ns,
        linkname=linkname.decode("utf-8", "surrogateescape"),
        devmajor=0,
        devminor=0,
        xattrs=xattrs,
        pax=pax,
        format=fmt,
        long_name=False,
        header_offset=member_start,
        data_offset=header_offset + BLOCK_SIZE,
        stored_size=size,
        sparse=None,
    )


class TarWalker:
    """Checks a tar stream member by member without building entries; see the module doc.

    `on_hole` is told the size of each sparse hole the parser expands, so that the caller's
    limits stop a sparse "bomb" at verify depth as they do when every byte is read.
    """

    __slots__ = (
        "_base",
        "_count",
        "_current",
        "_data_left",
        "_last_head",
        "_limits",
        "_need",
        "_on_hole",
        "_pad_left",
        "_parser",
        "_pending",
        "_pending_start",
        "_resume",
        "_to_end",
        "_visitor",
    )

    def __init__(
        self,
        limits: TarLimits = DEFAULT_LIMITS,
        *,
        on_hole: Callable[[int], None] | None = None,
        visitor: EntryVisitor | None = None,
    ) -> None:
        self._limits = limits
        self._on_hole = on_hole
        # With a visitor the walker lists: every member and its data, as a parse emits them.
        self._visitor = visitor
        self._current: TarEntry | None = None  # the listed member whose data is flowing
        self._count = 0  # members seen
        self._base = 0  # stream offset of the next byte fed
        self._data_left = 0  # stored data of the current member still to come
        self._pad_left = 0  # then its padding
        # A member's headers split across feeds, gathered until `_need` bytes are there.
        self._pending = bytearray()
        self._pending_start = 0
        self._need = 0
        # The header bytes of the member whose data is being skipped, and where they start:
        # replayed through the parser only to name the member if the input stops short.
        self._last_head: tuple[bytes, int] = (b"", 0)
        # Set while the parser reads for us: one member, or (`_to_end`) all the rest.
        self._parser: TarParser | None = None
        self._to_end = False
        self._resume = 0  # where the walk goes on once the parser has read its member

    # -- input ------------------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        buf = data if type(data) is bytes else bytes(data)
        start = 0
        while start < len(buf):
            if self._parser is not None:
                start = self._feed_parser(buf, start)
            elif self._pending:
                start = self._grow_pending(buf, start)
            elif self._visitor is not None:
                start = self._list(buf, start, self._base)
            else:
                start = self._walk(buf, start, self._base)
        self._base += len(buf)

    def finish(self) -> ArchiveEnd:
        """The input is complete: how the archive ended, or the error a full parse reports."""
        if self._parser is not None:
            self._parser.end_of_input()
            end = self._drain(self._parser)
            assert end is not None, "the parser ends every archive it is told has ended"
            return end
        if self._pending:  # headers cut short, or a short final block: the parser's call
            parser = TarParser(self._limits, base_offset=self._pending_start, entries=self._count)
            parser.feed(bytes(self._pending))
            parser.end_of_input()
            end = self._drain(parser)
            assert end is not None
            return end
        if self._current is not None:
            raise truncated_data(self._current, self._data_left, self._base)
        if self._data_left:
            head, start = self._last_head
            parser = TarParser(self._limits, base_offset=start, entries=self._count - 1)
            parser.feed(head)
            event = parser.next_event()
            assert isinstance(event, EntryHeader), "the walker accepted these headers"
            raise truncated_data(event.entry, self._data_left, self._base)
        trailer = Trailer.UNPADDED if self._pad_left else Trailer.NONE
        return ArchiveEnd(self._base, trailer, 0, 0, self._count)

    # -- the fast path ----------------------------------------------------------------------

    def _walk(self, buf: bytes, at: int, base: int) -> int:
        """Skip data and check headers from `buf[at]` on (stream offset `base + at`) until the
        buffer ends, a member's headers are cut by its end, or the parser takes over."""
        end = len(buf)
        limits = self._limits
        max_member = limits.max_member_size
        while True:
            left = self._data_left + self._pad_left
            if left:
                if at + left > end:
                    self._consume(end - at)
                    return end
                at += left
                self._data_left = self._pad_left = 0
            if at == end:
                return end
            member_start = at
            if end - at < BLOCK_SIZE:
                return self._stash(buf, member_start, base, BLOCK_SIZE)
            first = _header(buf, at)
            if first is None:
                if buf[at] == 0 and buf[at : at + BLOCK_SIZE] == _ZERO_BLOCK:
                    return self._to_parser(buf, member_start, base, to_end=True)
                return self._to_parser(buf, member_start, base)
            size, flag = first
            override: int | None = None
            if flag == _PAX_LOCAL:
                if size > limits.max_pax_record:
                    return self._to_parser(buf, member_start, base)
                header = at + BLOCK_SIZE + -(-size // BLOCK_SIZE) * BLOCK_SIZE
                if header + BLOCK_SIZE > end:
                    return self._stash(buf, member_start, base, header + BLOCK_SIZE - at)
                override = self._pax_size(buf, at + BLOCK_SIZE, at + BLOCK_SIZE + size)
                if override == _NEEDS_PARSER:
                    return self._to_parser(buf, member_start, base)
                at = header
                second = _header(buf, at)
                if second is None:
                    return self._to_parser(buf, member_start, base)
                size, flag = second
            if override is not None:
                size = override
            if flag in _HEADER_ONLY:
                data = 0
            elif flag in _WITH_DATA:
                data = size
            else:  # '\0' (V7 directories by name), devices, vendor and extension types
                return self._to_parser(buf, member_start, base, to_end=flag == _PAX_GLOBAL)
            if size > max_member or self._count >= limits.max_entries:
                return self._to_parser(buf, member_start, base)
            self._count += 1
            at += BLOCK_SIZE
            if at + data > end:
                self._last_head = (buf[member_start:at], base + member_start)
            self._data_left = data
            self._pad_left = -data % BLOCK_SIZE

    def _list(self, buf: bytes, at: int, base: int) -> int:
        """`_walk` that builds each member's entry and hands it and its data to the visitor."""
        visitor = self._visitor
        assert visitor is not None
        end = len(buf)
        view = memoryview(buf)
        limits = self._limits
        while True:
            current = self._current
            if current is not None:
                left = self._data_left
                if left:
                    piece = min(left, end - at)
                    visitor.data(view[at : at + piece])
                    at += piece
                    self._data_left = left - piece
                    if left > piece:
                        return end
                self._current = None
                visitor.end(current)
            if self._pad_left:
                step = min(self._pad_left, end - at)
                at += step
                self._pad_left -= step
                if self._pad_left:
                    return end
            if at == end:
                return end
            member_start = at
            if end - at < BLOCK_SIZE:
                return self._stash(buf, member_start, base, BLOCK_SIZE)
            fields = _header_fields(buf, at)
            if fields is None:
                if buf[at] == 0 and buf[at : at + BLOCK_SIZE] == _ZERO_BLOCK:
                    return self._to_parser(buf, member_start, base, to_end=True)
                return self._to_parser(buf, member_start, base)
            records: list[tuple[bytes, bytes]] | None = None
            if fields[5] == _PAX_LOCAL:
                size = fields[3]
                if size > limits.max_pax_record:
                    return self._to_parser(buf, member_start, base)
                header = at + BLOCK_SIZE + -(-size // BLOCK_SIZE) * BLOCK_SIZE
                if header + BLOCK_SIZE > end:
                    return self._stash(buf, member_start, base, header + BLOCK_SIZE - at)
                records = _pax_records(buf, at + BLOCK_SIZE, at + BLOCK_SIZE + size)
                if records is None:
                    return self._to_parser(buf, member_start, base)
                at = header
                fields = _header_fields(buf, at)
                if fields is None:
                    return self._to_parser(buf, member_start, base)
            flag = fields[5]
            if flag not in _FAST_KINDS:
                return self._to_parser(buf, member_start, base, to_end=flag == _PAX_GLOBAL)
            entry = _listed_entry(
                buf, at, fields, records, base + member_start, base + at, limits.max_member_size
            )
            if entry is None or self._count >= limits.max_entries:
                return self._to_parser(buf, member_start, base)
            self._count += 1
            at += BLOCK_SIZE
            visitor.begin(entry)
            self._current = entry
            self._data_left = entry.stored_size
            self._pad_left = -entry.stored_size % BLOCK_SIZE

    def _consume(self, count: int) -> None:
        """`count` bytes of the current member's data and padding went by."""
        taken = min(count, self._data_left)
        self._data_left -= taken
        self._pad_left -= count - taken

    @staticmethod
    def _pax_size(buf: bytes, start: int, end: int) -> int | None:
        """The size a valid 'x' header's records set (None: none), or `_NEEDS_PARSER` when the
        records need the parser (see `_pax_records`)."""
        records = _pax_records(buf, start, end)
        if records is None:
            return _NEEDS_PARSER
        size: int | None = None
        for key, value in records:
            if key == b"size":  # the last record wins; an empty one restores the header's
                size = int(value) if value else None
        return size

    def _stash(self, buf: bytes, member_start: int, base: int, need: int) -> int:
        """Keep a member's first bytes until `need` of them are there."""
        self._pending = bytearray(buf[member_start:])
        self._pending_start = base + member_start
        self._need = need
        return len(buf)

    def _grow_pending(self, buf: bytes, start: int) -> int:
        take = self._need - len(self._pending)
        if take > len(buf) - start:
            self._pending += buf[start:]
            return len(buf)
        self._pending += buf[start : start + take]
        head, head_start = bytes(self._pending), self._pending_start
        self._pending = bytearray()
        # Walk the gathered headers alone: they end exactly where the member's data begins,
        # so the walk either sets up the data skip or stashes again, asking for more.
        if self._visitor is not None:
            self._list(head, 0, head_start)
        else:
            self._walk(head, 0, head_start)
        return start + take

    # -- the parser's turn ------------------------------------------------------------------

    def _to_parser(self, buf: bytes, member_start: int, base: int, *, to_end: bool = False) -> int:
        """Let a parser read from the member at `member_start` on: that member alone, or (at
        the end-of-archive marker) everything that is left."""
        self._parser = TarParser(self._limits, base_offset=base + member_start, entries=self._count)
        self._to_end = to_end
        return self._feed_parser(buf, member_start, base)

    def _feed_parser(self, buf: bytes, start: int, base: int | None = None) -> int:
        parser = self._parser
        assert parser is not None
        base = self._base if base is None else base
        parser.feed(buf[start:] if start else buf)
        if self._drain(parser) is not None or self._parser is not None:
            return len(buf)
        # The member is complete: walk on from the header after its padding.
        resume = self._resume - base
        if resume >= len(buf):
            self._pad_left = resume - len(buf)
            return len(buf)
        return resume

    def _drain(self, parser: TarParser) -> ArchiveEnd | None:
        while True:
            event = parser.next_event()
            if isinstance(event, NeedData):
                return None
            if isinstance(event, EntryData):
                data = event.data
                if self._visitor is not None:
                    self._visitor.data(data)
                elif self._on_hole is not None and _is_hole(data):
                    self._on_hole(len(data))
            elif isinstance(event, EntryEnd):
                if self._visitor is not None:
                    self._visitor.end(event.entry)
                if not self._to_end:
                    entry = event.entry
                    self._resume = entry.data_offset + _padded(entry.stored_size)
                    self._count += 1
                    self._parser = None
                    return None
            elif isinstance(event, ArchiveEnd):
                return event
            elif isinstance(event, EntryHeader) and self._visitor is not None:
                self._visitor.begin(event.entry)
