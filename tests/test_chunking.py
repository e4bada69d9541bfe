"""Tests for ocidiff.chunking: the vectorised chunker against a scalar reference, and its laws."""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path

import blake3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocidiff.chunking import (
    ALGORITHM,
    DEFAULT_PARAMS,
    GEAR_MULTIPLIER,
    WINDOW,
    Chunk,
    ChunkDigester,
    ChunkParams,
    StreamingChunker,
    changed_ranges,
    chunk_similarity,
    find_cut_points,
)

from .chunking_reference import affine_gear_table, is_candidate, reference_cut_points

TABLE = affine_gear_table(GEAR_MULTIPLIER)
ALPINE = Path("/work/shared/fixtures-real/docker-save-gz-trivy/alpine-310.tar.gz")
PY_LIB = Path("/usr/lib/python3.11")

# Small parameter sets so that chunk logic is exercised on inputs of a few KB.
SMALL = ChunkParams(min_size=64, avg_size=256, max_size=1024)
KIB = ChunkParams(min_size=256, avg_size=1024, max_size=4096)
PARAM_SETS = (
    SMALL,
    KIB,
    ChunkParams(min_size=32, avg_size=64, max_size=256),  # smallest allowed
    ChunkParams(min_size=256, avg_size=256, max_size=512),  # no strict range
    ChunkParams(min_size=100, avg_size=512, max_size=512),  # no loose range, odd min
    ChunkParams(min_size=2048, avg_size=8192, max_size=32768),
)
BLOCK_SIZES = (WINDOW, WINDOW + 1, 100, 4096, 256 * 1024)

FAST = settings(max_examples=60, deadline=None)


def reference(data: bytes, params: ChunkParams) -> tuple[int, ...]:
    cuts = reference_cut_points(data, params.min_size, params.avg_size, params.max_size, TABLE)
    return tuple(cuts)


def streamed(
    data: bytes, params: ChunkParams, pieces: Sequence[int], block_size: int
) -> tuple[int, ...]:
    """Cut points when `data` is fed in pieces of the given sizes (the rest in one last piece)."""
    chunker = StreamingChunker(params, block_size=block_size)
    out: list[int] = []
    pos = 0
    for size in pieces:
        out += chunker.feed(data[pos : pos + size])
        pos += size
    out += chunker.feed(memoryview(data)[pos:])
    out += chunker.finish()
    return tuple(out)


def random_bytes(size: int, seed: int) -> bytes:
    return np.random.default_rng(seed).bytes(size)


def real_bytes(limit: int) -> bytes:
    """A few hundred KB of real files: an uncompressed image tarball, else the Python stdlib."""
    if ALPINE.exists():
        with gzip.open(ALPINE) as f:
            return f.read(limit)
    chunks = bytearray()
    for path in sorted(PY_LIB.rglob("*.py")):
        chunks += path.read_bytes()
        if len(chunks) >= limit:
            break
    if not chunks:
        pytest.skip("no real data on this machine")
    return bytes(chunks[:limit])


def elf_bytes(limit: int) -> bytes:
    """Real zero-padded ELF shared objects, the input that exposed the degenerate-window bug."""
    out = bytearray()
    for path in sorted((PY_LIB / "lib-dynload").glob("*.so")):
        out += path.read_bytes()
        if len(out) >= limit:
            return bytes(out[:limit])
    pytest.skip("no ELF shared objects found")


def iter_structured() -> Iterator[tuple[str, bytes]]:
    rnd = random_bytes(20_000, 5)
    yield "zeros", bytes(30_000)
    yield "ones", b"\xff" * 30_000
    yield "zero runs between random", rnd[:3000] + bytes(9000) + rnd[3000:9000] + bytes(5000)
    yield "period 4 (uint32 ones)", b"\x01\x00\x00\x00" * 6000
    yield "period 3", b"abc" * 9000
    yield "period 1000 random", rnd[:1000] * 25
    yield "text", b"the quick brown fox jumps over the lazy dog\n" * 600
    yield "sparse", bytes(np.where(np.frombuffer(rnd, np.uint8) < 20, 7, 0).astype(np.uint8))


# --- parameters -------------------------------------------------------------------------------


def test_default_params() -> None:
    assert (DEFAULT_PARAMS.min_size, DEFAULT_PARAMS.avg_size, DEFAULT_PARAMS.max_size) == (
        8 * 1024,
        32 * 1024,
        128 * 1024,
    )
    assert (DEFAULT_PARAMS.strict_bits, DEFAULT_PARAMS.loose_bits) == (16, 14)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"avg_size": 3000}, ValueError),  # not a power of two
        ({"min_size": 16, "avg_size": 64, "max_size": 256}, ValueError),  # min below the window
        ({"min_size": 512, "avg_size": 256, "max_size": 1024}, ValueError),  # min above avg
        ({"min_size": 64, "avg_size": 256, "max_size": 128}, ValueError),  # max below avg
        ({"min_size": 32, "avg_size": 32, "max_size": 64}, ValueError),  # avg too small
        ({"avg_size": 1 << 31, "max_size": 1 << 32}, ValueError),  # avg too large
        ({"min_size": 8192.0}, TypeError),
        ({"avg_size": True}, TypeError),
    ],
)
def test_params_rejected(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        ChunkParams(**kwargs)  # type: ignore[arg-type]


def test_cache_key_names_version_and_params() -> None:
    key = KIB.cache_key()
    assert key.startswith(ALGORITHM)
    assert all(str(v) in key for v in (256, 1024, 4096))
    assert len({p.cache_key() for p in PARAM_SETS}) == len(PARAM_SETS)
    assert ChunkParams(256, 1024, 4096).cache_key() == key


def test_bad_block_size_and_misuse() -> None:
    with pytest.raises(ValueError):
        StreamingChunker(block_size=WINDOW - 1)
    chunker = StreamingChunker(SMALL)
    chunker.feed(b"x" * 10)
    assert chunker.finish() == (10,)
    with pytest.raises(ValueError):
        chunker.feed(b"more")
    with pytest.raises(ValueError):
        chunker.finish()


# --- equality with the scalar reference -------------------------------------------------------


@FAST
@given(
    data=st.binary(max_size=6000),
    params=st.sampled_from(PARAM_SETS[:5]),
    block_size=st.sampled_from(BLOCK_SIZES),
)
def test_equals_reference_on_hypothesis_bytes(
    data: bytes, params: ChunkParams, block_size: int
) -> None:
    assert streamed(data, params, (), block_size) == reference(data, params)


@pytest.mark.parametrize("params", PARAM_SETS, ids=lambda p: p.cache_key().split(":", 1)[1])
def test_equals_reference_on_random_data(params: ChunkParams) -> None:
    data = random_bytes(150_000, params.avg_size)
    expected = reference(data, params)
    assert find_cut_points(data, params) == expected
    assert streamed(data, params, (1, 30, 31, 32, 999), 100) == expected


@pytest.mark.parametrize("params", [SMALL, KIB, ChunkParams(2048, 8192, 32768)])
def test_equals_reference_on_real_data(params: ChunkParams) -> None:
    data = real_bytes(400_000)
    expected = reference(data, params)
    assert find_cut_points(data, params) == expected
    assert streamed(data, params, (65_536, 3, 100_000), 4096) == expected


@pytest.mark.parametrize(("name", "data"), list(iter_structured()))
@pytest.mark.parametrize("params", [SMALL, KIB])
def test_equals_reference_on_structured_data(name: str, data: bytes, params: ChunkParams) -> None:
    assert find_cut_points(data, params) == reference(data, params), name


def test_empty_and_tiny_inputs() -> None:
    assert find_cut_points(b"") == ()
    assert find_cut_points(b"a") == (1,)
    assert find_cut_points(bytearray(100), SMALL) == (100,)
    assert ChunkDigester().finish() == ()


# --- properties -------------------------------------------------------------------------------


@FAST
@given(
    seed=st.integers(0, 2**32 - 1), size=st.integers(0, 40_000), params=st.sampled_from(PARAM_SETS)
)
def test_chunk_sizes_respect_bounds(seed: int, size: int, params: ChunkParams) -> None:
    rng = np.random.default_rng(seed)
    # Mix random bytes with zero runs so that max-size cuts occur too.
    data = bytearray(rng.bytes(size))
    for _ in range(3):
        start = int(rng.integers(0, size + 1))
        stop = start + int(rng.integers(0, 3 * params.max_size))
        data[start:stop] = bytes(len(data[start:stop]))
    cuts = find_cut_points(bytes(data), params)
    assert (cuts[-1] if cuts else 0) == len(data)
    sizes = np.diff((0, *cuts))
    assert (sizes > 0).all()
    assert (sizes <= params.max_size).all()
    assert (sizes[:-1] >= params.min_size).all()


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    pieces=st.lists(st.integers(0, 3000), max_size=20),
    params=st.sampled_from(PARAM_SETS[:3]),
    block_size=st.sampled_from(BLOCK_SIZES),
)
def test_cuts_do_not_depend_on_feed_splits(
    seed: int, pieces: list[int], params: ChunkParams, block_size: int
) -> None:
    data = random_bytes(20_000, seed) + bytes(3000) + random_bytes(5_000, seed + 1)
    assert streamed(data, params, pieces, block_size) == find_cut_points(data, params)


def test_one_byte_feeds_match_whole_buffer() -> None:
    data = real_bytes(6000)
    assert streamed(data, SMALL, [1] * len(data), WINDOW) == find_cut_points(data, SMALL)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("params", [SMALL, KIB])
def test_insertion_moves_only_nearby_cuts(seed: int, params: ChunkParams) -> None:
    rng = np.random.default_rng(seed)
    data = rng.bytes(120_000)
    where = int(rng.integers(40_000, 80_000))
    inserted = rng.bytes(int(rng.integers(1, 8)))
    edited = data[:where] + inserted + data[where:]
    old = find_cut_points(data, params)
    new = find_cut_points(edited, params)
    # Every cut up to the edit depends only on bytes before it.
    assert [c for c in old if c <= where] == [c for c in new if c <= where]
    # After a few chunks the cut points re-synchronise, shifted by the insertion length.
    horizon = where + 8 * params.max_size
    assert [c + len(inserted) for c in old if c > horizon] == [
        c for c in new if c > horizon + len(inserted)
    ]
    kept = {c for c in old if c <= where} | {c + len(inserted) for c in old if c > where}
    assert len(set(new) - kept) <= 8


def test_streaming_memory_is_bounded_by_the_block() -> None:
    data = bytes(8 * 1024 * 1024)  # zeros: no candidates, every chunk runs to max_size
    chunker = StreamingChunker(DEFAULT_PARAMS, block_size=64 * 1024)
    cuts: list[int] = []
    tracemalloc.start()
    try:
        for begin in range(0, len(data), 1024 * 1024):
            cuts += chunker.feed(memoryview(data)[begin : begin + 1024 * 1024])
        cuts += chunker.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(cuts) == len(data) // DEFAULT_PARAMS.max_size
    assert peak < 2 * 1024 * 1024


# --- degenerate windows (the zero-padded ELF regression) --------------------------------------


def naive_affine_table(multiplier: int) -> tuple[int, ...]:
    """The first affine table tried, G[b] = C*b + 2^31: "odd byte then 31 zeros" hashes to 0."""
    return tuple((multiplier * b + (1 << 31)) & 0xFFFFFFFF for b in range(256))


def test_naive_table_would_fail_this_check() -> None:
    window = b"\x01" + bytes(WINDOW - 1)
    assert is_candidate(window, 16, naive_affine_table(GEAR_MULTIPLIER))
    # Here C*X = 2^31 has a single leading one, and every mask has at least 5 bits.
    assert not is_candidate(window, 2, TABLE)


@pytest.mark.parametrize("bits", [KIB.loose_bits, DEFAULT_PARAMS.loose_bits])
def test_no_degenerate_window_is_a_candidate(bits: int) -> None:
    windows = [bytes(WINDOW)]
    for b in range(1, 256):
        windows.append(bytes([b]) * WINDOW)  # constant runs
        for depth in range(WINDOW):  # one non-zero byte among zeros, at every position
            windows.append(bytes(WINDOW - 1 - depth) + bytes([b]) + bytes(depth))
        for period in (2, 4, 8, 16):  # sparse periodic data such as arrays of small integers
            for phase in range(period):
                record = bytes(phase) + bytes([b]) + bytes(period - phase - 1)
                windows.append(record * (WINDOW // period))
    assert not [w for w in windows if is_candidate(w, bits, TABLE)]


def test_zero_padded_records_are_not_cut_at_every_record() -> None:
    rng = np.random.default_rng(3)
    records = bytearray()
    for _ in range(600):  # an odd byte then zero padding, like ELF tables and aligned sections
        records += bytes([int(rng.integers(0, 128)) * 2 + 1]) + bytes(int(rng.integers(31, 100)))
    data = bytes(records)
    cuts = find_cut_points(data, KIB)
    assert (np.diff((0, *cuts))[:-1] == KIB.max_size).all()
    naive = reference_cut_points(
        data, KIB.min_size, KIB.avg_size, KIB.max_size, naive_affine_table(GEAR_MULTIPLIER)
    )
    assert len(naive) > 3 * len(cuts)  # what the bug looked like


@pytest.mark.parametrize("params", [KIB, ChunkParams(2048, 8192, 32768)])
def test_real_elf_chunks_are_not_too_small(params: ChunkParams) -> None:
    data = elf_bytes(2 * 1024 * 1024)
    mean = len(data) / len(find_cut_points(data, params))
    # Random data gives ~1.2x avg with these bounds; the degenerate-window bug gave ~avg / 3.
    assert 0.8 * params.avg_size < mean < 2.5 * params.avg_size


# --- digests and similarity -------------------------------------------------------------------


@FAST
@given(seed=st.integers(0, 2**32 - 1), pieces=st.lists(st.integers(0, 5000), max_size=12))
def test_digester_digests_the_slices(seed: int, pieces: list[int]) -> None:
    data = random_bytes(25_000, seed) + bytes(4000)
    digester = ChunkDigester(SMALL, block_size=1000)
    chunks: list[Chunk] = []
    pos = 0
    for size in pieces:
        chunks += digester.feed(data[pos : pos + size])
        pos += size
    chunks += digester.feed(data[pos:])
    chunks += digester.finish()
    assert tuple(c.offset + c.length for c in chunks) == find_cut_points(data, SMALL)
    assert [c.offset for c in chunks] == [0, *(c.offset + c.length for c in chunks[:-1])]
    for c in chunks:
        assert c.digest == blake3.blake3(data[c.offset : c.offset + c.length]).digest()


def test_reset_reuses_a_chunker_for_a_new_stream() -> None:
    a, b = random_bytes(30_000, 1), random_bytes(20_000, 2)
    digester = ChunkDigester(SMALL)
    first = digester.feed(a) + digester.finish()
    digester.reset()
    second = digester.feed(b) + digester.finish()
    assert second == chunks_of(b, SMALL)
    assert first == chunks_of(a, SMALL)


def chunks_of(data: bytes, params: ChunkParams) -> tuple[Chunk, ...]:
    digester = ChunkDigester(params)
    return digester.feed(data) + digester.finish()


def chunk(offset: int, length: int, name: bytes) -> Chunk:
    return Chunk(offset, length, name.ljust(32, b"."))


def test_similarity_simple_cases() -> None:
    a = (chunk(0, 100, b"x"), chunk(100, 50, b"y"))
    b = (chunk(0, 100, b"x"), chunk(100, 30, b"z"))
    assert chunk_similarity(a, a) == 1.0
    assert chunk_similarity((), ()) == 1.0
    assert chunk_similarity(a, ()) == 0.0
    assert chunk_similarity(a, (chunk(0, 10, b"q"),)) == 0.0
    assert chunk_similarity(a, b) == chunk_similarity(b, a) == pytest.approx(200 / 280)


def test_changed_ranges_simple_cases() -> None:
    a = (chunk(0, 100, b"x"), chunk(100, 50, b"y"))
    b = (chunk(0, 10, b"n"), chunk(10, 20, b"m"), chunk(30, 100, b"x"), chunk(130, 5, b"o"))
    assert changed_ranges(a, a) == ()
    assert changed_ranges(a, b) == ((0, 30), (130, 135))
    assert changed_ranges((), a) == ((0, 150),)


def test_edit_in_real_data_is_localised() -> None:
    data = real_bytes(300_000)
    where = 150_000
    edited = data[:where] + b"PATCHED" + data[where + 7 :]
    old, new = chunks_of(data, KIB), chunks_of(edited, KIB)
    ranges = changed_ranges(old, new)
    assert len(ranges) == 1
    start, stop = ranges[0]
    assert start <= where < where + 7 <= stop
    assert stop - start <= 3 * KIB.max_size
    assert 0.95 < chunk_similarity(old, new) < 1.0
