"""Content-defined chunking of large files: a numpy-vectorised gear hash, then a sequential pass.

Owns the cut rule (FastCDC 2020 style, normalised chunking level 1), chunk digests and chunk-level
similarity. Pure computation: it performs no IO, starts no threads and keeps no global state.
"""

# Strategy.
# - Gear hash over a 32-byte window: h_e = sum_{k<32} G[b_{e-1-k}] << k (mod 2^32), the value a
#   scalar loop h = (h << 1) + G[b] reaches after byte e-1. It depends only on the last 32 bytes, so
#   a whole block is hashed at once with log2(32) = 5 doubling steps
#   S_2m[j] = S_m[j] + (S_m[j - m] << m), each two in-place ufuncs.
# - Lookup-free table G[b] = (1 - C*b) mod 2^32 with C odd. Then h = ~(C * X) with
#   X = sum_k b_{e-1-k} << k, so the table needs no gather: X is built from raw bytes (three steps
#   in uint16, where S_8 <= 255 * 255 fits, then two in uint32) and one multiply mixes it.
# - A position is a candidate when the top N bits of h are zero (top bits: the well-mixed ones of
#   a product), i.e. when C*X >= 2^32 - 2^(32-N): one unsigned compare per byte, then a search for
#   the few flagged positions.
# - Degenerate windows must not be candidates. With the earlier table G[b] = C*b + 2^31, "an odd
#   byte then 31 zeros" hashed to 0, always a cut, so zero-padded ELF files were cut 3x too often.
#   Here that window gives C*X = 2^31 and an all-zero window gives 0, never candidates; C was chosen
#   so that every lone-byte window (one non-zero byte at any depth), every constant run and every
#   sparse periodic run (period 2..16) has at most 8 leading one bits in C*X, so none of them is a
#   candidate for any mask of 9 or more bits (avg_size >= 1 KiB). 8 is the floor: for a mask of
#   N <= 8 bits, some byte b at depth 32-N solves C*b = -1 mod 2^N. C's continued fraction has
#   small partial quotients, and its candidate rates on ELF, text and random data match a random
#   table's.
# - Cut rule for a chunk starting at s: the first strict candidate (mask of log2(avg)+1 bits) with
#   length in [min, avg), else the first loose candidate (log2(avg)-1 bits) in [avg, max), else max.
#   Since min >= 32 every window tested lies inside its chunk, so the result equals a scalar loop
#   that resets h at each chunk start, and it does not depend on block or feed boundaries.
# - Streaming keeps no data: an undecided chunk has, by construction, seen no candidate that can
#   still matter, so only a 31-byte carry and two offsets survive between blocks.

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import blake3
import numpy as np
import numpy.typing as npt

__all__ = [
    "ALGORITHM",
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_PARAMS",
    "GEAR_MULTIPLIER",
    "WINDOW",
    "Chunk",
    "ChunkDigester",
    "ChunkParams",
    "StreamingChunker",
    "changed_ranges",
    "chunk_similarity",
    "find_cut_points",
]

WINDOW = 32
GEAR_MULTIPLIER = 0xD43934FB
# Names everything that decides where cuts fall; bump the version when any of it changes.
ALGORITHM = f"gear{WINDOW}-affine-{GEAR_MULTIPLIER:08x}-nc1-v1"
# Blocks of 128 KiB to 1 MiB all measured ~1.0 GB/s here; 256 KiB keeps the working buffers
# (9 bytes per block byte) at 2.3 MiB and the per-block Python glue under 10% of the time.
# PERFORMANCE.md §6: 4 MiB blocks, which spill L2, were 2x slower.
DEFAULT_BLOCK_SIZE = 256 * 1024

_CARRY = WINDOW - 1
_MIN_AVG_BITS = 6  # avg 64: the loose mask keeps 5 bits
_MAX_AVG_BITS = 30  # avg 1 GiB: the strict mask keeps 31 bits

BytesLike = bytes | bytearray | memoryview


@dataclass(frozen=True, slots=True)
class ChunkParams:
    """Chunk size bounds in bytes; `avg_size` is a power of two and sets the two masks.

    The defaults (min = avg/4 and max = 4*avg, as in FastCDC 2020) suit the large files we chunk:
    an edit is located to within a chunk or two (mean chunk ~1.2x avg on random data, more on
    zero-padded files), a 100 MiB file yields ~2,500 chunks for reports and caches, and per-chunk
    overhead stays small (blake3 per chunk runs ~3.2 GB/s at 64 KiB, ~2.0 GB/s at 8 KiB).
    """

    min_size: int = 8 * 1024
    avg_size: int = 32 * 1024
    max_size: int = 128 * 1024

    def __post_init__(self) -> None:
        for name in ("min_size", "avg_size", "max_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        avg = self.avg_size
        if avg & (avg - 1) or not _MIN_AVG_BITS <= avg.bit_length() - 1 <= _MAX_AVG_BITS:
            raise ValueError(
                f"avg_size must be a power of two in [2**{_MIN_AVG_BITS}, 2**{_MAX_AVG_BITS}], "
                f"not {avg}"
            )
        # min >= WINDOW makes every tested window lie inside its chunk (see the strategy note).
        if not WINDOW <= self.min_size <= avg <= self.max_size:
            raise ValueError(
                f"need {WINDOW} <= min_size <= avg_size <= max_size, "
                f"not {self.min_size}, {avg}, {self.max_size}"
            )

    @property
    def strict_bits(self) -> int:
        """Mask width for chunk lengths below avg_size (normalised chunking, level 1)."""
        return self.avg_size.bit_length()

    @property
    def loose_bits(self) -> int:
        """Mask width for chunk lengths from avg_size up to max_size."""
        return self.avg_size.bit_length() - 2

    def cache_key(self) -> str:
        """A string naming the algorithm version and these parameters, for keying cached cuts."""
        return f"{ALGORITHM}:min={self.min_size}:avg={self.avg_size}:max={self.max_size}"


DEFAULT_PARAMS = ChunkParams()


_U16_2 = np.uint16(2)
_U16_4 = np.uint16(4)
_U16_16 = np.uint16(16)
_U32_256 = np.uint32(256)
_U32_65536 = np.uint32(65536)
_U32_GEAR = np.uint32(GEAR_MULTIPLIER)


def _threshold(bits: int) -> np.uint32:
    # The top `bits` of C*X are all ones exactly when C*X >= 2^32 - 2^(32-bits).
    return np.uint32((1 << 32) - (1 << (32 - bits)))


class _BlockHasher:
    """Working buffers for hashing one block; reused so the hot loop allocates nothing large."""

    __slots__ = (
        "_a16",
        "_a32",
        "_b16",
        "_b32",
        "_block_size",
        "_busy",
        "_flags",
        "_loose",
        "_strict",
    )

    def __init__(self, params: ChunkParams, block_size: int) -> None:
        self._block_size = block_size
        self._loose = _threshold(params.loose_bits)
        self._strict = _threshold(params.strict_bits)
        self._allocate(0)

    def _allocate(self, capacity: int) -> None:
        # Buffers grow with the blocks actually seen, so chunking a small file does not pay for
        # faulting in megabytes of block-sized buffers.
        size = capacity + _CARRY
        self._a32 = np.empty(size, dtype=np.uint32)
        self._b32 = np.empty(size, dtype=np.uint32)
        # The uint16 stages live inside the uint32 buffers: each is dead before that buffer is
        # written, and sharing keeps the working set smaller.
        self._a16 = self._a32.view(np.uint16)[:size]
        self._b16 = self._b32.view(np.uint16)[:size]
        # Padded to whole 8-byte words so candidates can be found word by word (see _flagged).
        self._flags = np.zeros(-(-capacity // 8) * 8, dtype=np.bool_)
        self._busy = np.empty(self._flags.shape[0] // 8, dtype=np.bool_)

    def candidates(
        self, context: npt.NDArray[np.uint8], block: npt.NDArray[np.uint8], base: int
    ) -> tuple[list[int], list[int]]:
        """Loose and strict candidate end offsets for the windows ending inside `block`.

        `context` holds the 31 bytes before the block, `base` is the absolute offset of the
        block's first byte, so the window ending with block[i] gives the end offset base+i+1.
        """
        n = _CARRY + block.shape[0]
        if n > self._a32.shape[0]:
            self._allocate(min(self._block_size, max(block.shape[0], 2 * self._flags.shape[0])))
        a16, b16 = self._a16[:n], self._b16[:n]
        a32, b32 = self._a32[:n], self._b32[:n]
        # Same-dtype ufuncs only: mixed-dtype ones go through numpy's casting buffers and run
        # about 2x slower than an explicit cast followed by same-dtype work. Multiplying by 2^m
        # is faster than left_shift in numpy 2.x. Entries below index 2m-1 of stage S_2m are
        # garbage that no later valid entry reads.
        np.copyto(a16[:_CARRY], context)
        np.copyto(a16[_CARRY:], block)
        np.multiply(a16[:-1], _U16_2, out=b16[1:])
        np.add(b16[1:], a16[1:], out=b16[1:])  # S_2
        np.multiply(b16[:-2], _U16_4, out=a16[2:])
        np.add(a16[2:], b16[2:], out=a16[2:])  # S_4
        np.multiply(a16[:-4], _U16_16, out=b16[4:])
        np.add(b16[4:], a16[4:], out=b16[4:])  # S_8 <= 255 * 255
        np.copyto(a32, b16)
        np.multiply(a32[:-8], _U32_256, out=b32[8:])
        np.add(b32[8:], a32[8:], out=b32[8:])  # S_16
        np.multiply(b32[:-16], _U32_65536, out=a32[16:])
        np.add(a32[16:], b32[16:], out=a32[16:])  # S_32 = X
        mixed = a32[_CARRY:]
        np.multiply(mixed, _U32_GEAR, out=mixed)
        loose = self._flagged(mixed)
        # Strict candidates are a subset of loose ones (more top bits must be ones).
        strict = loose[mixed[loose] >= self._strict]
        offset = base + 1
        return (loose + offset).tolist(), (strict + offset).tolist()

    def _flagged(self, mixed: npt.NDArray[np.uint32]) -> npt.NDArray[np.intp]:
        """Indices where mixed >= the loose threshold, in order."""
        m = mixed.shape[0]
        flags = self._flags[: -(-m // 8) * 8]
        np.greater_equal(mixed, self._loose, out=flags[:m])
        flags[m:] = False
        # Candidates are rare, so finding the non-zero 8-byte words first is ~3x faster than
        # flatnonzero over the bytes (flatnonzero over uint64 is slow itself, hence the compare);
        # the few flagged words are then resolved byte by byte.
        busy = self._busy[: flags.shape[0] // 8]
        np.not_equal(flags.view(np.uint64), 0, out=busy)
        words = np.flatnonzero(busy)
        rows, cols = np.nonzero(flags.reshape(-1, 8)[words])
        return words[rows] * 8 + cols


def _select_cuts(
    start: int, seen: int, loose: list[int], strict: list[int], params: ChunkParams
) -> tuple[list[int], int]:
    """Apply min/avg/max to sorted candidate ends up to offset `seen`; return cuts and new start.

    Candidates before this block never matter: a chunk is left undecided only when no candidate
    seen so far could end it.
    """
    cuts: list[int] = []
    while True:
        low = start + params.min_size
        mid = start + params.avg_size
        high = start + params.max_size
        if low > seen:
            break
        i = bisect_left(strict, low)
        if i < len(strict) and strict[i] < mid:
            cut = strict[i]
        elif mid - 1 > seen:  # part of [low, mid) is still unseen
            break
        else:
            i = bisect_left(loose, mid)
            if i < len(loose) and loose[i] < high:
                cut = loose[i]
            elif high <= seen:
                cut = high
            else:
                break
        cuts.append(cut)
        start = cut
    return cuts, start


class StreamingChunker:
    """Incremental cut-point finder: the same cuts as `find_cut_points` however input is split.

    Holds no input data (only a 31-byte carry and block-sized working buffers), so memory does not
    grow with chunk or file size. One instance serves one stream at a time; when chunking many
    files, keep one per thread and `reset()` it between files.
    """

    __slots__ = ("_block_size", "_carry", "_finished", "_hasher", "_params", "_pos", "_start")

    def __init__(
        self, params: ChunkParams = DEFAULT_PARAMS, *, block_size: int = DEFAULT_BLOCK_SIZE
    ) -> None:
        if block_size < WINDOW:  # a block's context must come from the carry or one earlier block
            raise ValueError(f"block_size must be at least {WINDOW}, not {block_size}")
        self._params = params
        self._block_size = block_size
        self._hasher = _BlockHasher(params, block_size)
        self.reset()

    def reset(self) -> None:
        """Start a new stream at offset 0, keeping the working buffers.

        Reusing one chunker per thread across files avoids faulting in fresh buffers for each
        one, which costs about as much as chunking a MiB.
        """
        # Windows before offset 32 are never tested (min_size >= 32), so zero context is harmless.
        self._carry = np.zeros(_CARRY, dtype=np.uint8)
        self._start = 0  # offset where the open chunk begins
        self._pos = 0  # bytes consumed
        self._finished = False

    @property
    def position(self) -> int:
        """Number of bytes fed so far."""
        return self._pos

    def feed(self, data: BytesLike) -> tuple[int, ...]:
        """Consume `data`; return the absolute end offsets of chunks it completed, in order."""
        if self._finished:
            raise ValueError("feed() after finish()")
        arr = np.frombuffer(data, dtype=np.uint8)
        size = arr.shape[0]
        if size == 0:
            return ()
        cuts: list[int] = []
        block = self._block_size
        for begin in range(0, size, block):
            end = min(begin + block, size)
            # The first block of a feed takes its context from the carry, later ones from the
            # feed itself; either way it is cast straight into the hasher's buffers, uncopied.
            context = self._carry if begin == 0 else arr[begin - _CARRY : begin]
            loose, strict = self._hasher.candidates(context, arr[begin:end], self._pos + begin)
            done, self._start = _select_cuts(
                self._start, self._pos + end, loose, strict, self._params
            )
            cuts.extend(done)
        if size >= _CARRY:
            self._carry = arr[size - _CARRY :].copy()
        else:
            self._carry = np.concatenate((self._carry[size:], arr))
        self._pos += size
        return tuple(cuts)

    def finish(self) -> tuple[int, ...]:
        """End the stream; return the end of the last, possibly short, chunk (if any)."""
        if self._finished:
            raise ValueError("finish() called twice")
        self._finished = True
        return (self._pos,) if self._pos > self._start else ()


def find_cut_points(data: BytesLike, params: ChunkParams = DEFAULT_PARAMS) -> tuple[int, ...]:
    """End offsets of the chunks of `data`; the last is len(data), and empty data has none."""
    chunker = StreamingChunker(params)
    return chunker.feed(data) + chunker.finish()


@dataclass(frozen=True, slots=True)
class Chunk:
    """One content-defined chunk: where it lies in its file and the blake3 digest of its bytes."""

    offset: int
    length: int
    digest: bytes  # blake3, 32 bytes


class ChunkDigester:
    """Streams a file into chunks with digests, hashing each chunk incrementally as bytes arrive.

    Never buffers chunk bytes. Like `StreamingChunker`, reuse one per thread with `reset()`.
    """

    __slots__ = ("_chunk_start", "_chunker", "_hash")

    def __init__(
        self, params: ChunkParams = DEFAULT_PARAMS, *, block_size: int = DEFAULT_BLOCK_SIZE
    ) -> None:
        self._chunker = StreamingChunker(params, block_size=block_size)
        self._hash = blake3.blake3()
        self._chunk_start = 0

    def reset(self) -> None:
        """Start a new stream at offset 0, keeping the chunker's working buffers."""
        self._chunker.reset()
        self._hash = blake3.blake3()
        self._chunk_start = 0

    def feed(self, data: BytesLike) -> tuple[Chunk, ...]:
        """Consume `data`; return the chunks it completed, in order."""
        view = memoryview(data).cast("B")
        base = self._chunker.position
        cuts = self._chunker.feed(view)
        return self._close_chunks(view, base, cuts)

    def finish(self) -> tuple[Chunk, ...]:
        """End the stream; return the last chunk (if any)."""
        return self._close_chunks(memoryview(b""), self._chunker.position, self._chunker.finish())

    def _close_chunks(
        self, view: memoryview, base: int, cuts: tuple[int, ...]
    ) -> tuple[Chunk, ...]:
        chunks: list[Chunk] = []
        used = 0
        for cut in cuts:
            self._hash.update(view[used : cut - base])
            used = cut - base
            chunks.append(Chunk(self._chunk_start, cut - self._chunk_start, self._hash.digest()))
            self._hash = blake3.blake3()
            self._chunk_start = cut
        if used < len(view):
            self._hash.update(view[used:])
        return tuple(chunks)


def chunk_similarity(a: Sequence[Chunk], b: Sequence[Chunk]) -> float:
    """Fraction of all bytes of `a` and `b` lying in chunks whose digest both sides contain.

    Symmetric; 1.0 for equal lists (including two empty ones), 0.0 when nothing is shared.
    """
    total = sum(c.length for c in a) + sum(c.length for c in b)
    if total == 0:
        return 1.0  # two empty files hold the same (no) bytes
    shared = {c.digest for c in a} & {c.digest for c in b}
    common = sum(c.length for c in a if c.digest in shared)
    common += sum(c.length for c in b if c.digest in shared)
    return common / total


def changed_ranges(a: Sequence[Chunk], b: Sequence[Chunk]) -> tuple[tuple[int, int], ...]:
    """Half-open byte ranges (start, stop) of `b` in chunks whose digest `a` lacks, merged.

    `b` must be in offset order, as `ChunkDigester` produces it.
    """
    known = {c.digest for c in a}
    ranges: list[tuple[int, int]] = []
    for chunk in b:
        if chunk.digest in known or chunk.length == 0:
            continue
        stop = chunk.offset + chunk.length
        if ranges and ranges[-1][1] == chunk.offset:
            ranges[-1] = (ranges[-1][0], stop)
        else:
            ranges.append((chunk.offset, stop))
    return tuple(ranges)
