"""GNU sparse files: checking a sparse map, reading the 1.0 map, and walking holes and data.

Owns the rules of the GNU tar manual, "Storing Sparse Files": a map of (offset, length) data
regions in increasing order inside the expanded size, whose lengths add up to the stored bytes.
Pure and IO-free; the parser feeds it blocks and turns its runs into events.
"""

from __future__ import annotations

from collections.abc import Iterator

from ocidiff.errors import LimitExceededError, TarError
from ocidiff.tar.header import BLOCK_SIZE
from ocidiff.tar.pax import parse_pax_decimal, parse_sparse_numbers

SparseMap = tuple[tuple[int, int], ...]


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
        raise TarError("malformed GNU sparse 1.0 map", offset=offset, member=member)
    lines = text.split(b"\n", 2 * count + 1)
    if len(lines) < 2 * count + 2:
        return None
    numbers = lines[1 : 2 * count + 1]
    regions = parse_sparse_numbers(numbers, offset=offset, member=member)
    return regions, first + 1 + sum(len(number) + 1 for number in numbers)


class SparseMapReader:
    """Collects the 512-byte blocks of a GNU sparse 1.0 map until the map is complete.

    Newlines are counted as blocks arrive, so a long map is parsed once rather than once per
    block; the map may not grow past `limit` bytes (`TarLimits.max_pax_record`).
    """

    __slots__ = ("_lines", "_member", "_needed", "_offset", "_text", "limit")

    def __init__(self, *, limit: int, offset: int, member: str) -> None:
        self.limit = limit
        self._offset = offset
        self._member = member
        self._text = bytearray()
        self._lines = 0
        self._needed = 1  # newlines the map needs: 1 until its count line has been read

    @property
    def consumed(self) -> int:
        """Bytes of the data area read so far (whole blocks)."""
        return len(self._text)

    def add_block(self, block: bytes | memoryview) -> SparseMap | None:
        """Add the next block of the data area; the regions once the map is complete."""
        if len(self._text) + BLOCK_SIZE > self.limit:
            raise LimitExceededError(
                f"GNU sparse 1.0 map of more than {self.limit} bytes",
                limit="max_pax_record",
                option="TarLimits.max_pax_record",
                offset=self._offset,
                member=self._member,
            )
        self._text += block
        self._lines += bytes(block).count(b"\n")
        if self._lines < self._needed:
            return None
        if self._needed == 1:
            count = parse_pax_decimal(bytes(self._text[: self._text.find(b"\n")]))
            if count is None:
                raise TarError(
                    "malformed GNU sparse 1.0 map", offset=self._offset, member=self._member
                )
            self._needed = 1 + 2 * count
            if self._lines < self._needed:
                return None
        parsed = parse_sparse_map_10(bytes(self._text), offset=self._offset, member=self._member)
        if parsed is None:  # cannot happen once enough newlines arrived; kept for safety
            raise TarError("malformed GNU sparse 1.0 map", offset=self._offset, member=self._member)
        return parsed[0]
