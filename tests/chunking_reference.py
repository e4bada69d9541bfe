"""A slow, obviously-correct scalar chunker that the vectorised one in ocidiff.chunking must equal.

Written from the definition, not from the vectorised code: a per-chunk gear loop with an explicit
256-entry table, reset at every chunk start, FastCDC 2020 cut rule with normalised chunking level 1.
"""

from __future__ import annotations

from collections.abc import Sequence

_MASK32 = (1 << 32) - 1


def affine_gear_table(multiplier: int) -> tuple[int, ...]:
    """The lookup-free table G[b] = (1 - C*b) mod 2^32, materialised."""
    return tuple((1 - multiplier * b) & _MASK32 for b in range(256))


def top_mask(bits: int) -> int:
    """A mask selecting the top `bits` bits of a 32-bit hash."""
    return ((1 << bits) - 1) << (32 - bits)


def reference_cut_points(
    data: bytes,
    min_size: int,
    avg_size: int,
    max_size: int,
    table: Sequence[int],
) -> list[int]:
    """Chunk end offsets; the hash restarts at 0 at every chunk start."""
    avg_bits = avg_size.bit_length() - 1
    strict = top_mask(avg_bits + 1)
    loose = top_mask(avg_bits - 1)
    cuts: list[int] = []
    start = 0
    n = len(data)
    while start < n:
        end = min(start + max_size, n)
        cut = end
        h = 0
        for i in range(start, end):
            h = ((h << 1) + table[data[i]]) & _MASK32
            length = i + 1 - start
            if length < min_size:
                continue
            mask = strict if length < avg_size else loose
            if h & mask == 0:
                cut = i + 1
                break
        cuts.append(cut)
        start = cut
    return cuts


def is_candidate(window: bytes, bits: int, table: Sequence[int]) -> bool:
    """Whether the gear hash after `window` (fed from h = 0) has its top `bits` bits zero."""
    h = 0
    for byte in window:
        h = ((h << 1) + table[byte]) & _MASK32
    return h & top_mask(bits) == 0
