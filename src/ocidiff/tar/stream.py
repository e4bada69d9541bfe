"""Thin IO around the sans-IO parser: read a binary file object and hand out its tar events.

`iter_events` streams any readable file in 1 MiB `readinto` chunks; `index_members` (and
`index_archive`, which also says how the archive ended) lists a seekable file's members by
reading headers only and seeking over member data. Nothing here parses bytes itself,
decompresses or hashes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Protocol

from ocidiff.tar.events import ArchiveEnd, EntryHeader, NeedData, TarEntry, TarEvent
from ocidiff.tar.header import BLOCK_SIZE
from ocidiff.tar.limits import DEFAULT_LIMITS, TarLimits
from ocidiff.tar.parser import TarParser

READ_CHUNK = 1 << 20
INDEX_READ_CHUNK = 64 << 10  # small members come with their neighbours; big ones are seeked over


class ReadableBinary(Protocol):
    """A blocking binary file object with `readinto` (files, BytesIO, gzip, zstd readers)."""

    def readinto(self, buffer: bytearray | memoryview, /) -> int | None: ...


class SeekableBinary(ReadableBinary, Protocol):
    """A `ReadableBinary` that can also seek and tell."""

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def tell(self) -> int: ...


def _refill(parser: TarParser, source: ReadableBinary, buffer: bytearray) -> None:
    """Feed the parser the next read of `source`, or tell it the input has ended."""
    count = source.readinto(buffer) or 0
    if count:
        parser.feed(memoryview(buffer)[:count])
    else:
        parser.end_of_input()


def iter_events(
    source: ReadableBinary, *, limits: TarLimits = DEFAULT_LIMITS, chunk_size: int = READ_CHUNK
) -> Iterator[TarEvent]:
    """Every event of the tar stream in `source`, ending with `ArchiveEnd`.

    One buffer is reused for all reads, so an `EntryData.data` view is valid only until the
    iterator is advanced: hash or copy it before asking for the next event.
    """
    parser = TarParser(limits)
    buffer = bytearray(chunk_size)
    while True:
        event = parser.next_event()
        if isinstance(event, NeedData):
            _refill(parser, source, buffer)
            continue
        yield event
        if isinstance(event, ArchiveEnd):
            return


def index_members(
    source: SeekableBinary, *, limits: TarLimits = DEFAULT_LIMITS
) -> tuple[TarEntry, ...]:
    """The members of the tar file `source` (from its current position), with data offsets.

    Reads headers and seeks over member data, so its cost follows the member count, not the
    archive size. Truncation and damage are reported exactly as a full read would report them.
    """
    return index_archive(source, limits=limits)[0]


def index_archive(
    source: SeekableBinary, *, limits: TarLimits = DEFAULT_LIMITS
) -> tuple[tuple[TarEntry, ...], ArchiveEnd]:
    """`index_members`, plus how the archive ended (a missing end marker hints at truncation)."""
    start = source.tell()
    end = source.seek(0, io.SEEK_END)
    source.seek(start)
    parser = TarParser(limits, base_offset=start)
    buffer = bytearray(INDEX_READ_CHUNK)
    entries: list[TarEntry] = []
    while True:
        event = parser.next_event()
        if isinstance(event, NeedData):
            _refill(parser, source, buffer)
        elif isinstance(event, EntryHeader):
            entry = event.entry
            entries.append(entry)
            stored_end = entry.data_offset + -(-entry.stored_size // BLOCK_SIZE) * BLOCK_SIZE
            # A member cut short (or left unpadded, as umoci does) is read, not skipped, so
            # the parser sees the real end of input and reports it.
            if stored_end <= end:
                skip = parser.skip_data()
                if skip:
                    source.seek(skip, io.SEEK_CUR)
        elif isinstance(event, ArchiveEnd):
            return tuple(entries), event
