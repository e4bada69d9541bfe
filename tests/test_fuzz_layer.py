"""Property-based fuzzing of the per-layer pump and the decoders under it: mutated gzip and zstd
streams, mutated tars inside valid compression, and sparse or oversized members, at both pump
depths. Only the ocidiff error family may escape; a successful pump accounts for every byte.

Also the regressions the coverage-guided fuzzer (scripts/fuzz.py) found in these layers.
"""

from __future__ import annotations

import gc
import io
import tracemalloc
import zlib

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from ocidiff.compression import Compression, new_decoder, sniff
from ocidiff.errors import CompressionError, LimitExceededError
from ocidiff.inventory import Depth, PumpOptions, pump_sequential

from .hostile import bombs
from .hostile.fuzzkit import FUZZ, only_our_errors
from .tar.samples import built_archives
from .tar.tarbuild import end, header, old_gnu_sparse

PUMPS = [
    PumpOptions(depth=depth, max_uncompressed=1 << 22, max_entries=5000, chunk_threshold=4096)
    for depth in Depth
]
TARS = [data for data in built_archives().values() if 0 < len(data) <= 60_000]


def gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(write_checksum=True, write_content_size=False).compress(data)


COMPRESS = {"none": lambda d: d, "gzip": gzip, "zstd": zstd}


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(len(out) - 1, 0)))
        action = draw(st.sampled_from(["flip", "truncate", "insert", "duplicate"]))
        if action == "flip" and out:
            out[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "truncate":
            del out[position:]
        elif action == "insert":
            out[position:position] = draw(st.binary(min_size=1, max_size=64))
        else:  # a second copy: multi-member gzip, concatenated zstd frames, repeated tar blocks
            out += bytes(out)
    return bytes(out)


def pump(data: bytes, options: PumpOptions) -> None:
    inventory = only_our_errors(lambda: pump_sequential(io.BytesIO(data).read, options))
    if inventory is not None:
        assert inventory.size == len(data)
        if inventory.entries is not None:
            assert all(entry.size >= 0 for entry in inventory.entries)


@FUZZ
@given(st.data())
def test_damaged_compressed_layers(data: st.DataObject) -> None:
    """A layer tar compressed, then the compressed bytes damaged."""
    kind = data.draw(st.sampled_from(sorted(COMPRESS)))
    blob = data.draw(damaged(COMPRESS[kind](data.draw(st.sampled_from(TARS)))))
    pump(blob, data.draw(st.sampled_from(PUMPS)))


@FUZZ
@given(st.data())
def test_damaged_tars_in_valid_compression(data: st.DataObject) -> None:
    """The tar damaged first, then compressed properly: the damage reaches the tar parser."""
    kind = data.draw(st.sampled_from(sorted(COMPRESS)))
    tar = data.draw(damaged(data.draw(st.sampled_from(TARS))))
    pump(COMPRESS[kind](tar), data.draw(st.sampled_from(PUMPS)))


@FUZZ
@given(
    magic=st.sampled_from([b"\x1f\x8b\x08\x00", b"\x28\xb5\x2f\xfd", b"\x50\x2a\x4d\x18",
                           b"BZh9", b"\xfd7zXZ\x00"]),
    rest=st.binary(max_size=300),
)
def test_decoders_on_junk_after_magic(magic: bytes, rest: bytes) -> None:
    total = 0

    def sink(piece: bytes) -> None:
        nonlocal total
        total += len(piece)
        if total > 1 << 24:
            raise LimitExceededError("fuzz cap", limit="fuzz", option="none")

    decoder = new_decoder(sniff(magic + rest))
    only_our_errors(lambda: (decoder.feed(magic + rest, sink), decoder.finish(sink)))


@FUZZ
@given(
    real_size=st.integers(0, 2**70),
    stored=st.integers(0, 2000),
    depth=st.sampled_from(list(Depth)),
)
def test_sparse_claims_in_a_layer(real_size: int, stored: int, depth: Depth) -> None:
    """A sparse member may claim any size: the pump ends with a limit or hashes it all."""
    real_size = max(real_size % 8**11, stored)
    layer = old_gnu_sparse(b"s", [(real_size - stored, stored)], real_size, b"d" * stored) + end()
    options = PumpOptions(depth=depth, max_uncompressed=1 << 26)
    inventory = only_our_errors(lambda: pump_sequential(io.BytesIO(layer).read, options))
    if inventory is not None and inventory.entries is not None:
        assert inventory.entries[0].size == real_size


# -- regressions found by scripts/fuzz.py ------------------------------------------------------


def test_failed_zstd_decodes_do_not_leak() -> None:
    """Found by the coverage-guided fuzzer (out of memory after ~40k inputs): an exception
    raised by the sink through zstandard's stream writer leaked the writer's 1 MiB output
    buffer, and a reference cycle through the writer kept whole decoders alive."""
    frame = zstd(bytes(4 << 20))

    def failing_sink(piece: bytes) -> None:
        raise CompressionError("stop here")

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(40):
            decoder = new_decoder(Compression.ZSTD)
            with pytest.raises(CompressionError):
                decoder.feed(frame, failing_sink)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 4 << 20, grown  # it was 40 MiB: one output buffer per failure


def test_huge_sparse_layer_ends_quickly() -> None:
    """Found by the coverage-guided fuzzer (slow units from the tar-rs `sparse-large` sample):
    a 10 KiB layer whose sparse member claims 12 GB kept the pump hashing zeros. Holes now
    count against --max-ratio and a member's claim against --max-uncompressed."""
    layer = old_gnu_sparse(b"huge", [(12_626_929_270, 10)], 12_626_929_280, b"x" * 10) + end()
    with pytest.raises(LimitExceededError) as caught:
        pump_sequential(io.BytesIO(layer).read, PumpOptions())
    assert caught.value.option == "--max-ratio"
    with pytest.raises(LimitExceededError) as caught:
        pump_sequential(io.BytesIO(layer).read, PumpOptions(max_uncompressed=1 << 30))
    assert caught.value.option == "--max-uncompressed"


def test_zstd_bomb_stops_near_the_grace() -> None:
    """A zstd bomb stops after about 64 MiB of output (input is fed in 64 KiB slices, each
    counted before it expands), not after all that one 1 MiB read expands to (32 GiB)."""
    blob = bombs.zstd_bomb(8 << 30)
    with pytest.raises(LimitExceededError) as caught:
        pump_sequential(io.BytesIO(blob).read, PumpOptions(depth=Depth.DIGESTS))
    assert caught.value.option == "--max-ratio"
    assert "1000x" in caught.value.message


def test_member_size_past_the_limit_fails_at_its_header() -> None:
    layer = header(b"big", size=(1 << 40)) + end()
    with pytest.raises(LimitExceededError) as caught:
        pump_sequential(io.BytesIO(layer).read, PumpOptions(max_uncompressed=1 << 30))
    assert caught.value.option == "--max-uncompressed" and caught.value.locator.offset == 0

