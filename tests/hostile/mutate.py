"""Damage to existing archives: truncation points, seeded byte flips, and where members lie.

Member positions come from the standard library's `tarfile`, an independent reader, so the
damage is placed by a second opinion rather than by the parser under test.
"""

from __future__ import annotations

import io
import random
import tarfile
from dataclasses import dataclass

BLOCK = 512


@dataclass(frozen=True, slots=True)
class Span:
    """Where one member of an uncompressed tar lies."""

    name: str
    header: int  # offset of its (first) header block
    data: int  # offset of its data
    size: int
    is_file: bool

    @property
    def data_end(self) -> int:
        return self.data + self.size


def spans(archive: bytes) -> list[Span]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        return [
            Span(info.name, info.offset, info.offset_data, info.size, info.isfile())
            for info in tar.getmembers()
        ]


def span_of(archive: bytes, name: str) -> Span:
    return next(span for span in spans(archive) if span.name.rstrip("/") == name.rstrip("/"))


def content_end(archive: bytes) -> int:
    """The offset where the end-of-archive marker starts (all member data and padding before)."""
    last = spans(archive)[-1]
    return last.data + -(-last.size // BLOCK) * BLOCK


def cut_points(archive: bytes, *, limit: int) -> list[int]:
    """Where to truncate: every 512-byte boundary before the end marker, sampled evenly down to
    `limit` when there are more, plus, for every member, a cut inside its header (in the name
    and in the magic) and one inside its data (the middle, and the last byte)."""
    end = content_end(archive)
    boundaries = list(range(BLOCK, end, BLOCK))
    if len(boundaries) > limit:
        step = len(boundaries) / limit
        boundaries = [boundaries[int(i * step)] for i in range(limit)]
    inside: set[int] = set()
    for span in spans(archive):
        inside.update({span.header + 60, span.header + 260})
        if span.size:
            inside.update({span.data + span.size // 2, span.data_end - 1})
    return sorted({*boundaries, *inside} - {0})


def flip_bytes(data: bytes, start: int, stop: int, *, count: int, seed: int) -> bytes:
    """`count` seeded single-bit flips at distinct positions in [start, stop)."""
    chooser = random.Random(seed)
    out = bytearray(data)
    positions = chooser.sample(range(start, stop), min(count, stop - start))
    for position in positions:
        out[position] ^= 1 << chooser.randrange(8)
    return bytes(out)


def patch(data: bytes, offset: int, new: bytes) -> bytes:
    """`data` with the bytes at `offset` overwritten by `new` (same length overall)."""
    return data[:offset] + new + data[offset + len(new) :]
