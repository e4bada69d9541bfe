"""The sans-IO tar parser: bytes go in through `feed`, events come out of `next_event`.

Strategy, after h11: the parser never reads a file, decompresses or hashes; it never copies
member data (content leaves as views of fed chunks, sparse holes as views of one shared zero
buffer) and holds no caller memory once it has asked for more; only `TarError`,
`LimitExceededError` and `UnsupportedError` may escape it, on any input (anything else is a bug).
The current state is a bound method returning an event, NEED_DATA, or None after moving on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ocidiff.errors import TarError
from ocidiff.tar.buffer import ChunkQueue
from ocidiff.tar.events import (
    NEED_DATA,
    ArchiveEnd,
    EntryData,
    EntryEnd,
    EntryHeader,
    NeedData,
    TarEntry,
    TarEvent,
    Trailer,
)
from ocidiff.tar.extensions import EXTENSION_TYPES, ExtensionType, PendingExtensions
from ocidiff.tar.header import (
    BLOCK_SIZE,
    ZERO_BLOCK,
    RawHeader,
    parse_header,
    parse_old_gnu_sparse,
)
from ocidiff.tar.limits import DEFAULT_LIMITS, TarLimits, limit_exceeded
from ocidiff.tar.member import check_member_size, plain_entry
from ocidiff.tar.pax import decode_name
from ocidiff.tar.sparse import (
    HOLE_FILL,
    HOLE_PIECE,
    OldGnuMapReader,
    PaxMapReader,
    SparseExpander,
    check_sparse_map,
)

__all__ = ["DEFAULT_LIMITS", "HOLE_FILL", "HOLE_PIECE", "TarLimits", "TarParser"]

_State = Callable[[], TarEvent | NeedData | None]


def _padded(size: int) -> int:
    return -(-size // BLOCK_SIZE) * BLOCK_SIZE


def truncated_data(entry: TarEntry, missing: int, offset: int) -> TarError:
    """The input ended `missing` bytes short of `entry`'s stored data, at `offset`."""
    return TarError(
        f"truncated member data: {missing} of {entry.stored_size} stored bytes missing",
        offset=offset,
        member=entry.name,
    )


class TarParser:
    """Feed it tar bytes; it yields `EntryHeader`, `EntryData`*, `EntryEnd` per member, then
    `ArchiveEnd` once `end_of_input` was called and every byte is accounted for."""

    __slots__ = (
        "_archive_end",
        "_base_offset",
        "_draft",
        "_end_offset",
        "_entries",
        "_entry",
        "_eof",
        "_expander",
        "_extension",
        "_header_just_emitted",
        "_input",
        "_limits",
        "_map_reader",
        "_padding",
        "_pending",
        "_remaining",
        "_state",
        "_trailer",
        "_trailing_data",
        "_trailing_zero",
    )

    def __init__(
        self, limits: TarLimits = DEFAULT_LIMITS, *, base_offset: int = 0, entries: int = 0
    ) -> None:
        """`base_offset` and `entries` resume a stream another reader began: where this parser's
        first byte lies, and how many members came before (counted against `max_entries`)."""
        self._limits = limits
        self._base_offset = base_offset
        self._input = ChunkQueue()
        self._eof = False
        self._state: _State = self._read_header
        self._header_just_emitted = False
        # Extension headers waiting for their member.
        self._pending = PendingExtensions()
        self._extension: tuple[ExtensionType, RawHeader, int] | None = None
        # The current member.
        self._entries = entries
        self._entry: TarEntry | None = None
        self._remaining = 0  # stored data bytes still to consume
        self._padding = 0  # then this many padding bytes
        self._draft: TarEntry | None = None  # a sparse member whose map is still being read
        self._map_reader: PaxMapReader | OldGnuMapReader | None = None
        self._expander: SparseExpander | None = None
        # The end.
        self._end_offset = 0
        self._trailer = Trailer.NONE
        self._trailing_zero = 0
        self._trailing_data = 0
        self._archive_end: ArchiveEnd | None = None

    # -- public API -------------------------------------------------------------------------

    @property
    def offset(self) -> int:
        """Absolute stream offset of the bytes consumed so far (not merely buffered)."""
        return self._base_offset + self._input.consumed

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append input. The parser may keep a view of `data` until `next_event` returns
        NEED_DATA: do not modify that memory before then."""
        if self._eof:
            raise ValueError("feed() called after end_of_input()")
        self._input.append(data)

    def end_of_input(self) -> None:
        """No more bytes will come: the parser finishes the archive or reports truncation."""
        self._eof = True

    def next_event(self) -> TarEvent | NeedData:
        """The next event, or NEED_DATA when more input (or `end_of_input`) is required.

        `EntryData.data` may be a view of fed memory: use it before feeding more.
        """
        event = self._state()
        while event is None:
            event = self._state()
        if event is NEED_DATA:
            self._input.own_leftovers()
        return event

    def skip_data(self) -> int:
        """Drop the current member's stored data without emitting it.

        Valid only right after an `EntryHeader`. The caller promises not to feed the member's
        remaining stored bytes (data and padding); the result is how many of them lie beyond
        what was already fed, i.e. how far the caller must seek. The next event is the member's
        `EntryEnd`. The parser cannot know whether the skipped bytes exist: checking that the
        input is long enough is the caller's job.
        """
        if not self._header_just_emitted:
            raise ValueError("skip_data() is valid only right after an EntryHeader event")
        self._header_just_emitted = False
        owed = self._remaining + self._padding
        if self._expander is not None:
            owed = self._expander.remaining + self._padding
            self._expander = None
        unfed = owed - self._input.discard(owed)
        self._input.skip_unfed(unfed)
        self._remaining = self._padding = 0
        self._state = self._end_member
        return unfed

    # -- headers ----------------------------------------------------------------------------

    def _read_header(self) -> TarEvent | NeedData | None:
        header_offset = self._base_offset + self._input.consumed
        taken = self._input.take(BLOCK_SIZE)
        if taken is None:
            return self._end_between_members()
        block = bytes(taken)
        if block == ZERO_BLOCK:
            if self._pending.member_start is not None:
                raise TarError(
                    "end-of-archive marker right after an extension header", offset=header_offset
                )
            self._end_offset = header_offset
            self._state = self._read_second_zero_block
            return None
        raw = parse_header(block, header_offset)
        extension = EXTENSION_TYPES.get(raw.typeflag)
        if extension is None and self._pending.is_idle and raw.typeflag != "S":
            # The common case (most layer members): no extension header applies.
            self._count_entry(header_offset)
            return self._start_data(plain_entry(raw, header_offset, self._limits.max_member_size))
        self._pending.note_header(header_offset)
        if extension is None:
            return self._begin_member(raw, block, header_offset)
        limit: int = getattr(self._limits, extension.limit_name)
        if raw.size > limit:
            raise limit_exceeded(
                extension.limit_name,
                f"data of {extension.label} ({raw.size} bytes) exceeds the limit of {limit}",
                offset=header_offset,
                member=decode_name(raw.name),
            )
        self._extension = (extension, raw, header_offset)
        self._state = self._read_extension
        return None

    def _read_extension(self) -> TarEvent | NeedData | None:
        assert self._extension is not None
        extension, raw, header_offset = self._extension
        data = self._input.take(_padded(raw.size))
        if data is None:
            if self._eof:
                raise TarError(
                    f"truncated {extension.label}",
                    offset=header_offset,
                    member=decode_name(raw.name),
                )
            return NEED_DATA
        self._extension = None
        extension.apply(
            self._pending, bytes(data[: raw.size]), header_offset, decode_name(raw.name)
        )
        self._state = self._read_header
        return None

    # -- members ----------------------------------------------------------------------------

    def _count_entry(self, header_offset: int) -> None:
        if self._entries >= self._limits.max_entries:
            raise limit_exceeded(
                "max_entries", f"more than {self._limits.max_entries} entries", offset=header_offset
            )
        self._entries += 1

    def _begin_member(self, raw: RawHeader, block: bytes, header_offset: int) -> TarEvent | None:
        limits = self._limits
        self._count_entry(header_offset)
        entry, pax_sparse = self._pending.build_member(raw, header_offset, limits.max_member_size)
        if raw.typeflag == "S":
            return self._begin_old_gnu_sparse(entry, block, header_offset)
        if pax_sparse is None:
            return self._start_data(entry)
        if pax_sparse.regions is not None:  # 0.0 and 0.1 carry the map in the records
            return self._start_sparse(replace(entry, sparse=pax_sparse.regions), entry.stored_size)
        # 1.0: the map leads the data area.
        self._draft = entry
        self._map_reader = PaxMapReader(
            limit=limits.max_pax_record, offset=entry.data_offset, member=entry.name
        )
        self._state = self._read_sparse_map
        return None

    def _start_data(self, entry: TarEntry) -> EntryHeader:
        self._entry = entry
        self._remaining = entry.stored_size
        self._padding = -entry.stored_size % BLOCK_SIZE
        self._state = self._read_data
        self._header_just_emitted = True
        return EntryHeader(entry)

    def _read_data(self) -> TarEvent | NeedData | None:
        self._header_just_emitted = False
        if self._remaining:
            if not self._input.buffered:
                return self._starve()
            piece = self._input.take_some(self._remaining)
            self._remaining -= len(piece)
            return EntryData(piece)
        return self._end_member()

    def _end_member(self) -> EntryEnd:
        assert self._entry is not None
        self._header_just_emitted = False
        padding = self._padding
        if padding and self._input.buffered >= padding:
            self._input.discard(padding)  # the usual case: skip the padding right away
            self._padding = 0
            self._state = self._read_header
        else:
            self._state = self._read_padding
        return EntryEnd(self._entry)

    def _starve(self) -> NeedData:
        """No member data buffered: wait for more, or report the truncation."""
        if not self._eof:
            return NEED_DATA
        assert self._entry is not None
        raise truncated_data(self._entry, self._remaining, self.offset)

    def _read_padding(self) -> TarEvent | NeedData | None:
        if self._padding:
            self._padding -= self._input.discard(self._padding)
            if self._padding:
                if self._eof:  # umoci ends layers right after the last member's data
                    return self._finish(Trailer.UNPADDED, self.offset)
                return NEED_DATA
        self._state = self._read_header
        return None

    # -- sparse members (GNU tar manual, "Storing Sparse Files") -----------------------------

    def _begin_old_gnu_sparse(
        self, entry: TarEntry, block: bytes, header_offset: int
    ) -> TarEvent | None:
        sparse = parse_old_gnu_sparse(block, header_offset, entry.name)
        check_member_size(sparse.real_size, self._limits.max_member_size, header_offset, entry.name)
        entry = replace(entry, size=sparse.real_size)
        if not sparse.is_extended:
            return self._start_sparse(replace(entry, sparse=sparse.regions), entry.stored_size)
        self._draft = entry
        self._map_reader = OldGnuMapReader(
            sparse.regions,
            limit=self._limits.max_pax_record,
            offset=entry.data_offset,
            member=entry.name,
        )
        self._state = self._read_sparse_map
        return None

    def _read_sparse_map(self) -> TarEvent | NeedData | None:
        """One more block of a sparse map: old GNU extension blocks or the GNU 1.0 map."""
        draft, reader = self._draft, self._map_reader
        assert draft is not None and reader is not None
        block = self._input.take(BLOCK_SIZE)
        if block is None:
            if self._eof:
                raise TarError("truncated sparse map", offset=self.offset, member=draft.name)
            return NEED_DATA
        if reader.inside_data and reader.consumed + BLOCK_SIZE > _padded(draft.stored_size):
            raise TarError(
                "sparse map runs past the member data", offset=self.offset, member=draft.name
            )
        regions = reader.add_block(block)
        if regions is None:
            return None
        self._draft = self._map_reader = None
        if reader.inside_data:
            stored_data = max(0, draft.stored_size - reader.consumed)
            return self._start_sparse(replace(draft, sparse=regions), stored_data)
        entry = replace(draft, sparse=regions, data_offset=self.offset)
        return self._start_sparse(entry, entry.stored_size)

    def _start_sparse(self, entry: TarEntry, stored_data: int) -> EntryHeader:
        """Check the map, then expand the next `stored_data` stored bytes into the content."""
        assert entry.sparse is not None
        check_sparse_map(
            entry.sparse,
            real_size=entry.size,
            stored=stored_data,
            offset=entry.header_offset,
            member=entry.name,
        )
        self._entry = entry
        self._remaining = 0
        self._padding = entry.data_offset + _padded(entry.stored_size) - self.offset - stored_data
        self._expander = SparseExpander(entry.sparse, entry.size, stored_data)
        self._state = self._read_sparse_data
        self._header_just_emitted = True
        return EntryHeader(entry)

    def _read_sparse_data(self) -> TarEvent | NeedData | None:
        self._header_just_emitted = False
        expander = self._expander
        assert expander is not None
        if not expander.advance():
            self._expander = None
            return self._end_member()
        if expander.needs_input and not self._input.buffered:
            self._remaining = expander.remaining
            return self._starve()
        return EntryData(expander.next_piece(self._input))

    # -- the end ----------------------------------------------------------------------------

    def _end_between_members(self) -> ArchiveEnd | NeedData:
        """Fewer than 512 bytes are left where a header should start."""
        if not self._eof:
            return NEED_DATA
        end_offset = self.offset
        rest = bytes(self._input.take(self._input.buffered) or b"")
        if rest.strip(b"\x00"):
            name = rest[:100].partition(b"\x00")[0] if len(rest) >= 100 else b""
            raise TarError(
                f"truncated header: {len(rest)} of {BLOCK_SIZE} bytes",
                offset=end_offset,
                member=decode_name(name) if name else None,
            )
        if self._pending.member_start is not None:
            raise TarError(
                "archive ends after an extension header, before its member",
                offset=self._pending.member_start,
            )
        # Input with no header at all is an empty archive: docker save before 1.10 wrote empty
        # layers as 0-byte layer.tar files (GNU tar and tarfile refuse such input).
        self._trailing_zero = len(rest)
        return self._finish(Trailer.NONE, end_offset)

    def _read_second_zero_block(self) -> TarEvent | NeedData | None:
        if self._input.buffered < BLOCK_SIZE and not self._eof:
            return NEED_DATA
        block = self._input.take(min(BLOCK_SIZE, self._input.buffered))
        assert block is not None
        if len(block) == BLOCK_SIZE and block == ZERO_BLOCK:
            self._trailer = Trailer.TWO_ZERO_BLOCKS
        else:
            # GNU tar stops at a lone zero block too ("A lone zero block at N"): whatever
            # follows is trailing bytes, never parsed.
            self._trailer = Trailer.ONE_ZERO_BLOCK
            self._count_trailing(block)
        self._state = self._read_trailing
        return None

    def _read_trailing(self) -> TarEvent | NeedData | None:
        while self._input.buffered:
            self._count_trailing(self._input.take_some(self._input.buffered))
        if not self._eof:
            return NEED_DATA
        return self._finish(self._trailer, self._end_offset)

    def _count_trailing(self, piece: memoryview | bytes) -> None:
        """Zero bytes up to the first non-zero byte are record padding; the rest is data."""
        if self._trailing_data:
            self._trailing_data += len(piece)
            return
        content = bytes(piece).lstrip(b"\x00")
        self._trailing_zero += len(piece) - len(content)
        self._trailing_data += len(content)

    def _finish(self, trailer: Trailer, end_offset: int) -> ArchiveEnd:
        self._archive_end = ArchiveEnd(
            end_offset=end_offset,
            trailer=trailer,
            trailing_zero_bytes=self._trailing_zero,
            trailing_data_bytes=self._trailing_data,
            entries=self._entries,
        )
        self._state = self._done
        return self._archive_end

    def _done(self) -> ArchiveEnd:
        assert self._archive_end is not None
        return self._archive_end
