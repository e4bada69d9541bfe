"""GNU sparse files: reading their maps, checking them, and expanding holes and data.

Owns the rules of the GNU tar manual, "Storing Sparse Files": a map of (offset, length) data
regions in increasing order inside the expanded size, whose lengths add up to the stored bytes.
IO-free: the parser hands it blocks and input views and turns its pieces into events.
"""

from __future__ import annotations

from collections.abc import Iterator

from ocidiff.errors import LimitExceededError, TarError
from ocidiff.tar.buffer import ChunkQueue
from ocidiff.tar.header import BLOCK_SIZE, parse_sparse_extension
from ocidiff.tar.limits import limit_exceeded
from ocidiff.tar.pax import parse_pax_decimal, parse_sparse_numbers

SparseMap = tuple[tuple[int, int], ...]

HOLE_PIECE = 1 << 20
HOLE_FILL = bytes(HOLE_PIECE)
"""Sparse holes are emitted as views of this one immutable zero buffer (`data.obj is HOLE_FILL`),
so a consumer can recognise a hole without scanning it."""

_HOLE_VIEW = memoryview(HOLE_FILL)


def check_sparse_map(
    regions: SparseMap, *, real_size: int, stored: int, offset: int, member: str
) -> None:
    """Reject maps whose regions overlap, go backwards, pass the real size or miscount the data."""
    position = 0
    total = 0
    for region_offset, length in regions:
        if region_offset < position or region_offset + length > real_size:
            raise TarError(
                f"sparse map region ({region_offset}, {length}) overlaps another or lies beyond "
                f"the file size {real_size}",
                offset=offset,
                member=member,
            )
        position = region_offset + length
        total += length
    if total != stored:
        raise TarError(
            f"sparse map covers {total} bytes but the member stores {stored}",
            offset=offset,
            member=member,
        )


def iter_sparse_runs(regions: SparseMap, real_size: int) -> Iterator[tuple[bool, int]]:
    """(is_data, length) runs in logical order: holes between and after the data regions."""
    position = 0
    for region_offset, length in regions:
        if region_offset > position:
            yield False, region_offset - position
        if length:
            yield True, length
        position = region_offset + length
    if real_size > position:
        yield False, real_size - position


def parse_sparse_map_10(text: bytes, *, offset: int, member: str) -> tuple[SparseMap, int] | None:
    """Parse a complete or partial GNU sparse 1.0 map (the text that leads the data area).

    The map is decimal numbers, each ended by a newline: the region count, then offset and
    length per region, padded to a 512-byte boundary (GNU tar manual, "PAX Format, Version 1.0").
    Returns (regions, map bytes up to the last newline), or None while `text` is incomplete.
    """
    first = text.find(b"\n")
    if first < 0:
        return None
    count = parse_pax_decimal(text[:first])
    if count is None:
        raise TarError("malformed sparse map (GNU 1.0)", offset=offset, member=member)
    lines = text.split(b"\n", 2 * count + 1)
    if len(lines) < 2 * count + 2:
        return None
    numbers = lines[1 : 2 * count + 1]
    regions = parse_sparse_numbers(numbers, offset=offset, member=member)
    return regions, first + 1 + sum(len(number) + 1 for number in numbers)


class PaxMapReader:
    """Collects the blocks of a GNU sparse 1.0 map, which leads the member's data area.

    Newlines are counted as blocks arrive, so a long map is parsed once rather than once per
    block; the map may not grow past `limit` bytes (`TarLimits.max_pax_record`).
    """

    __slots__ = ("_lines", "_member", "_needed", "_offset", "_text", "limit")
    inside_data = True  # its blocks are part of the member's stored size

    def __init__(self, *, limit: int, offset: int, member: str) -> None:
        self.limit = limit
        self._offset = offset
        self._member = member
        self._text = bytearray()
        self._lines = 0
        self._needed = 1  # newlines the map needs: 1 until its count line has been read

    @property
    def consumed(self) -> int:
        """Bytes read so far (whole blocks)."""
        return len(self._text)

    def add_block(self, block: bytes | memoryview) -> SparseMap | None:
        """Add the next block; the regions once the map is complete."""
        if len(self._text) + BLOCK_SIZE > self.limit:
            raise _map_too_long(self.limit, self._offset, self._member)
        self._text += block
        self._lines += bytes(block).count(b"\n")
        if self._lines < self._needed:
            return None
        if self._needed == 1:
            count = parse_pax_decimal(bytes(self._text[: self._text.find(b"\n")]))
            if count is None:
                raise TarError(
                    "malformed sparse map (GNU 1.0)", offset=self._offset, member=self._member
                )
            self._needed = 1 + 2 * count
            if self._lines < self._needed:
                return None
        parsed = parse_sparse_map_10(bytes(self._text), offset=self._offset, member=self._member)
        if parsed is None:  # cannot happen once enough newlines arrived; kept for safety
            raise TarError(
                "malformed sparse map (GNU 1.0)", offset=self._offset, member=self._member
            )
        return parsed[0]


class OldGnuMapReader:
    """Collects the extension blocks that follow an old GNU 'S' header (21 regions each)."""

    __slots__ = ("_member", "_offset", "_regions", "consumed", "limit")
    inside_data = False  # the blocks sit between the header and the data

    def __init__(self, first: SparseMap, *, limit: int, offset: int, member: str) -> None:
        self.limit = limit
        self._offset = offset
        self._member = member
        self._regions = list(first)
        self.consumed = 0

    def add_block(self, block: bytes | memoryview) -> SparseMap | None:
        """Add the next extension block; the whole map after the last one."""
        if self.consumed + BLOCK_SIZE > self.limit:
            raise _map_too_long(self.limit, self._offset, self._member)
        extension = parse_sparse_extension(bytes(block), self._offset + self.consumed, self._member)
        self.consumed += BLOCK_SIZE
        self._regions.extend(extension.regions)
        return None if extension.is_extended else tuple(self._regions)


def _map_too_long(limit: int, offset: int, member: str) -> LimitExceededError:
    return limit_exceeded(
        "max_pax_record", f"sparse map of more than {limit} bytes", offset=offset, member=member
    )


class SparseExpander:
    """Turns a sparse member's stored bytes into its content: data runs as views of the input,
    holes as views of HOLE_FILL in pieces of at most HOLE_PIECE bytes."""

    __slots__ = ("_run_is_data", "_run_left", "_runs", "remaining")

    def __init__(self, regions: SparseMap, real_size: int, stored: int) -> None:
        self._runs = iter_sparse_runs(regions, real_size)
        self._run_is_data = False
        self._run_left = 0
        self.remaining = stored  # stored bytes not yet emitted

    def advance(self) -> bool:
        """Make sure a run is under way; False once the content is complete."""
        if not self._run_left:
            run = next(self._runs, None)
            if run is None:
                return False
            self._run_is_data, self._run_left = run
        return True

    @property
    def needs_input(self) -> bool:
        """The current run is data, so the next piece comes from the stored bytes."""
        return self._run_is_data

    def next_piece(self, source: ChunkQueue) -> memoryview:
        """The next piece of the current run (`source` must hold bytes for a data run)."""
        if not self._run_is_data:
            length = min(self._run_left, HOLE_PIECE)
            self._run_left -= length
            return _HOLE_VIEW if length == HOLE_PIECE else _HOLE_VIEW[:length]
        piece = source.take_some(self._run_left)
        self._run_left -= len(piece)
        self.remaining -= len(piece)
        return piece
