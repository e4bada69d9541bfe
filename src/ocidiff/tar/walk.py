"""A lean structural walk of a tar stream: what `verify` checks, at a fraction of a parse's cost.

`verify` needs no entries, only the verdict "this is a well-formed tar" and how it ends. Building
a `TarEntry` per member costs about 18 µs of Python; hopping from header to header costs about 2.
The walker accepts a member only when it can prove the full parser would accept it too: the
usual encodings (octal fields with a NUL or space terminator, an unsigned checksum, PAX records
it knows to be valid, a size it can read). Anything else, from a base-256 number to a sparse
file, a GNU long name, a global header or the end-of-archive marker, is handed to a `TarParser`
resumed at that member's first header, which then gives the same answer, or the same error, as
a full parse of the whole stream would. So the walker can only be faster, never more lenient;
`tests/test_tar_walk.py` checks both against each other on generated, real and damaged archives.

Sans-IO like the parser: bytes go in through `feed`, `finish` returns the `ArchiveEnd`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

from ocidiff.tar.events import ArchiveEnd, EntryData, EntryEnd, EntryHeader, NeedData, Trailer
from ocidiff.tar.header import BLOCK_SIZE
from ocidiff.tar.limits import DEFAULT_LIMITS, TarLimits
from ocidiff.tar.parser import TarParser, truncated_data
from ocidiff.tar.sparse import HOLE_FILL

__all__ = ["TarWalker"]

# mode, uid, gid, size, mtime and chksum as Go, tarfile, GNU tar and BuildKit write them: zero
# padded octal digits and one terminator; then the typeflag. Matched at offset 100 of a header.
_FIELDS = re.compile(
    rb"[0-7]{7}[\0 ][0-7]{7}[\0 ][0-7]{7}[\0 ]([0-7]{11})[\0 ][0-7]{11}[\0 ]"
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
_SPACES = b" " * 8
_ADLER_MODULUS = 65521
_ZERO_BLOCK = bytes(BLOCK_SIZE)


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
    stored = int(checksum[:7].rstrip(b"\0 "), 8)
    block = buf[at : at + BLOCK_SIZE]
    # The sum counts the checksum field as eight spaces (256), whatever it holds.
    field_sum = sum(checksum) - 256
    if stored < _ADLER_MODULUS and block.isascii():
        if ((zlib.adler32(block) & 0xFFFF) - 1 - field_sum - stored) % _ADLER_MODULUS:
            return None
    elif sum(block) - field_sum != stored:
        return None
    return int(size, 8), typeflag[0]


class TarWalker:
    """Checks a tar stream member by member without building entries; see the module doc.

    `on_hole` is told the size of each sparse hole the parser expands, so that the caller's
    limits stop a sparse "bomb" at verify depth as they do when every byte is read.
    """

    __slots__ = (
        "_base",
        "_count",
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
    )

    def __init__(
        self,
        limits: TarLimits = DEFAULT_LIMITS,
        *,
        on_hole: Callable[[int], None] | None = None,
    ) -> None:
        self._limits = limits
        self._on_hole = on_hole
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

    def _consume(self, count: int) -> None:
        """`count` bytes of the current member's data and padding went by."""
        taken = min(count, self._data_left)
        self._data_left -= taken
        self._pad_left -= count - taken

    @staticmethod
    def _pax_size(buf: bytes, start: int, end: int) -> int | None:
        """The size a valid 'x' header's records set (None: none), or `_NEEDS_PARSER` when the
        records need the parser: malformed, sparse, base64 xattrs, a value with a newline."""
        size: int | None = None
        at = start
        while at < end and buf[at] != 0:
            record = _RECORD.match(buf, at, end)
            if record is None:
                return _NEEDS_PARSER
            length, key, value = record.groups()
            if int(length) != record.end() - at:
                return _NEEDS_PARSER
            if key in _TIME_KEYS:
                if _TIME.fullmatch(value) is None:
                    return _NEEDS_PARSER
            elif key in _NUMBER_KEYS:
                if _NUMBER.fullmatch(value) is None:
                    return _NEEDS_PARSER
                if key == b"size":
                    size = int(value) if value else None
            elif key.startswith(_PARSER_PREFIXES):
                return _NEEDS_PARSER
            at = record.end()
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
                if self._on_hole is not None and type(data) is memoryview and data.obj is HOLE_FILL:
                    self._on_hole(len(data))
            elif isinstance(event, EntryEnd):
                if not self._to_end:
                    entry = event.entry
                    self._resume = entry.data_offset + _padded(entry.stored_size)
                    self._count += 1
                    self._parser = None
                    return None
            elif isinstance(event, ArchiveEnd):
                return event
            elif isinstance(event, EntryHeader):
                continue
