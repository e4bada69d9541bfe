"""Values the sans-IO tar parser hands out: one `TarEntry` per member and the events around it.

This module only defines data; it parses nothing and performs no IO.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class EntryKind(enum.Enum):
    """What a member is, after the typeflag rules (V7 trailing '/', '7' contiguous = file)."""

    FILE = "file"
    HARDLINK = "hardlink"
    SYMLINK = "symlink"
    CHARDEV = "chardev"
    BLOCKDEV = "blockdev"
    DIR = "dir"
    FIFO = "fifo"
    OTHER = "other"  # vendor typeflags (GNU 'D', 'M', 'N', 'V', ...): kept, never interpreted


class TarFormat(enum.Enum):
    """The header encoding of one member, as the bytes show it."""

    V7 = "v7"  # no magic
    USTAR = "ustar"  # "ustar\0" "00", no extended header
    PAX = "pax"  # ustar header preceded by a PAX 'x' header (or under a 'g' header)
    GNU = "gnu"  # "ustar  \0" magic (possibly with 'L'/'K' long names)


@dataclass(frozen=True, slots=True)
class TarEntry:
    """One archive member with every header field, extensions applied.

    `name` and `linkname` are exactly as stored (PAX `path`/`linkpath` or GNU long names applied,
    USTAR prefix joined, a directory's trailing '/' kept), decoded as UTF-8 with surrogateescape so
    that any byte string round-trips. Normalisation is the caller's job.
    """

    name: str
    kind: EntryKind
    typeflag: str  # the raw typeflag character, e.g. "0", "\x00", "5", "S"
    mode: int  # the raw mode field; may carry S_IFMT bits written by old Docker
    uid: int
    gid: int
    uname: str
    gname: str
    size: int  # logical content size (the expanded size for sparse files)
    mtime_ns: int  # nanoseconds since the epoch (PAX fractions kept to the nanosecond)
    atime_ns: int | None
    ctime_ns: int | None
    linkname: str
    devmajor: int
    devminor: int
    # sorted by name; SCHILY (raw) and LIBARCHIVE (base64-decoded)
    xattrs: tuple[tuple[str, bytes], ...]
    # every PAX record that applied (global then local), in order
    pax: tuple[tuple[str, bytes], ...]
    format: TarFormat
    long_name: bool  # a GNU 'L' or 'K' header was used
    # offset of the first header block of the member (its 'x'/'L' headers included)
    header_offset: int
    data_offset: int  # offset of the member's stored data
    stored_size: int  # bytes of data stored in the archive (differs from size for sparse files)
    sparse: tuple[tuple[int, int], ...] | None  # (offset, length) data regions of a sparse file


@dataclass(frozen=True, slots=True)
class EntryHeader:
    """A member begins; its content follows as `EntryData` events, then `EntryEnd`."""

    entry: TarEntry


@dataclass(frozen=True, slots=True)
class EntryData:
    """A piece of a member's logical content, in order (sparse holes arrive as zero bytes).

    `data` may be a view into the parser's buffer: use it before the next `feed`.
    """

    data: memoryview | bytes


@dataclass(frozen=True, slots=True)
class EntryEnd:
    """The current member's content is complete."""

    entry: TarEntry


class Trailer(enum.Enum):
    """How the archive ended."""

    TWO_ZERO_BLOCKS = "two-zero-blocks"  # the POSIX end-of-archive marker
    ONE_ZERO_BLOCK = "one-zero-block"  # a lone zero block, then end of input
    NONE = "none"  # input ended after a member (umoci writes such layers)
    UNPADDED = "unpadded"  # input ended inside the last member's padding (umoci again)


@dataclass(frozen=True, slots=True)
class ArchiveEnd:
    """End of input reached; nothing else follows.

    `end_offset` is where the end marker (or the input) began; `trailing_zero_bytes` and
    `trailing_data_bytes` count what follows the marker (record padding vs. real data such as
    an eStargz footer).
    """

    end_offset: int
    trailer: Trailer
    trailing_zero_bytes: int
    trailing_data_bytes: int
    entries: int


class NeedData:
    """Marker: the parser needs more bytes (or `end_of_input`) to continue."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = NeedData()

TarEvent = EntryHeader | EntryData | EntryEnd | ArchiveEnd
