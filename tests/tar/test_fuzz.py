"""Fuzzing: random and mutated bytes may only ever raise the ocidiff error family.

Any other exception (IndexError, ValueError, UnicodeError, ...) or a parser that never finishes
is a bug. Valid archives must also give the same events in any chunking.
"""

from __future__ import annotations

import io
import itertools
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocidiff.errors import OcidiffError
from ocidiff.tar import (
    HOLE_PIECE,
    NEED_DATA,
    ArchiveEnd,
    EntryData,
    EntryEnd,
    EntryHeader,
    TarEntry,
    TarLimits,
    TarParser,
    index_members,
)

from .harness import chunks_of, drain, parse
from .samples import built_archives
from .tarbuild import base256, end, header, member, octal, old_gnu_sparse, pax_header, pax_sparse

# Small limits keep hostile sparse sizes from expanding into minutes of zeros.
LIMITS = TarLimits(max_member_size=1 << 22, max_pax_record=1 << 16, max_long_name=1 << 12)
SEEDS = [data for data in built_archives().values() if 0 < len(data) <= 40_000]
SEEDS.append(
    member(b"a", b"x" * 700)
    + pax_header([(b"path", b"p"), (b"size", b"3")])
    + member(b"b", b"yyy")
    + end()
)
# OCIDIFF_FUZZ_EXAMPLES=N: N fresh random examples per test instead of the fixed 150.
_EXAMPLES = os.environ.get("OCIDIFF_FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(_EXAMPLES) if _EXAMPLES else 150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not _EXAMPLES,
    database=None,
)


def run_to_the_end(data: bytes, sizes: list[int]) -> None:
    """Drive a parser over `data` in the given chunk sizes; only OcidiffError may escape."""
    parser = TarParser(LIMITS)
    pieces = chunks_of(data, itertools.cycle(sizes or [len(data) or 1]))
    budget = 4 * len(data) + 10_000  # events; a parser that loops forever trips it
    try:
        for _ in range(budget):
            event = parser.next_event()
            if event is NEED_DATA:
                piece = next(pieces, None)
                if piece is None:
                    parser.end_of_input()
                else:
                    parser.feed(piece)
            elif isinstance(event, ArchiveEnd):
                return
            elif isinstance(event, EntryData):
                assert len(event.data) > 0
        raise AssertionError("the parser did not finish")
    except OcidiffError as error:
        assert error.message and error.message[0].islower()


chunk_sizes = st.lists(st.integers(min_value=1, max_value=2048), min_size=1, max_size=8)


@FUZZ
@given(data=st.binary(max_size=3000), sizes=chunk_sizes)
def test_random_bytes(data: bytes, sizes: list[int]) -> None:
    run_to_the_end(data, sizes)


@FUZZ
@given(
    blocks=st.lists(
        st.one_of(
            st.binary(min_size=512, max_size=512),
            st.just(bytes(512)),
            st.builds(
                lambda name, size, flag, num: header(name, size=size, typeflag=flag, mtime=num),
                st.binary(min_size=0, max_size=100),
                st.one_of(st.integers(0, 5000), st.just(base256(-5, 12))),
                st.sampled_from([b"0", b"x", b"g", b"L", b"K", b"S", b"5", b"1", b"\x00", b"Z"]),
                st.one_of(st.integers(-(2**40), 2**40), st.just(octal(7, 12))),
            ),
        ),
        max_size=8,
    ),
    sizes=chunk_sizes,
)
def test_random_headers(blocks: list[bytes], sizes: list[int]) -> None:
    """Well-formed headers with random sizes and typeflags, random data blocks in between."""
    run_to_the_end(b"".join(blocks), sizes)


KEYWORDS = [
    b"path", b"linkpath", b"size", b"uid", b"gid", b"uname", b"gname", b"mtime", b"atime",
    b"ctime", b"hdrcharset", b"SCHILY.xattr.user.a", b"LIBARCHIVE.xattr.user.%zz",
    b"LIBARCHIVE.xattr.user.b", b"GNU.sparse.size", b"GNU.sparse.numblocks",
    b"GNU.sparse.offset", b"GNU.sparse.numbytes", b"GNU.sparse.map", b"GNU.sparse.name",
    b"GNU.sparse.major", b"GNU.sparse.minor", b"GNU.sparse.realsize",
]  # fmt: skip
VALUES = st.one_of(
    st.binary(max_size=40),
    st.from_regex(rb"\A-?[0-9]{1,25}(\.[0-9]{0,12})?\Z"),
    st.integers(1, 6000).map(lambda count: b"9" * count),
    st.sampled_from([b"", b"0", b"1", b"0,10,50,5", b"1,2,3", b"aGVsbG8", b"-1", b"1.5"]),
)


@FUZZ
@given(
    records=st.lists(st.tuples(st.sampled_from(KEYWORDS), VALUES), max_size=8),
    typeflag=st.sampled_from([b"x", b"g"]),
    data=st.binary(max_size=1500),
    sizes=chunk_sizes,
)
def test_random_pax_records(
    records: list[tuple[bytes, bytes]], typeflag: bytes, data: bytes, sizes: list[int]
) -> None:
    archive = pax_header(records, typeflag=typeflag) + member(b"m", data) + end()
    run_to_the_end(archive, sizes)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "digits"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "set" and data:
            data[position] = draw(st.integers(0, 255))
        elif action == "truncate":
            del data[position:]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=600))
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 600))]
        elif action == "digits":  # plausible but wrong numbers where numbers live
            data[position : position + 12] = draw(
                st.sampled_from(
                    [b"777777777777", b"-1", b"9" * 11 + b"\x00", b"\x80" + b"\xff" * 11]
                )
            )
    return bytes(data)


@FUZZ
@given(data=mutated(), sizes=chunk_sizes)
def test_mutated_archives(data: bytes, sizes: list[int]) -> None:
    run_to_the_end(data, sizes)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.sampled_from(SEEDS), sizes=chunk_sizes)
def test_valid_archives_in_any_chunking(seed: bytes, sizes: list[int]) -> None:
    expected = parse(seed)
    assert drain(TarParser(), chunks_of(seed, itertools.cycle(sizes))) == expected


# -- the seekable reader, sparse claims ---------------------------------------------------------


def streamed_or_error(data: bytes) -> list[TarEntry] | str:
    """Every member as the streaming parser reads them, or the name of the error class."""
    parser = TarParser(LIMITS)
    parser.feed(data)
    parser.end_of_input()
    entries: list[TarEntry] = []
    try:
        for _ in range(4 * len(data) + 10_000):
            event = parser.next_event()
            if isinstance(event, EntryHeader):
                entries.append(event.entry)
            elif isinstance(event, ArchiveEnd):
                return entries
    except OcidiffError as error:
        return type(error).__name__
    raise AssertionError("the parser did not finish")


@FUZZ
@given(data=mutated())
def test_seeking_index_agrees_with_streaming(data: bytes) -> None:
    """`index_members` seeks over member data instead of reading it: on damaged input it must
    fail exactly when a full read fails, and list the same members when it succeeds."""
    streamed = streamed_or_error(data)
    try:
        indexed: list[TarEntry] | str = list(index_members(io.BytesIO(data), limits=LIMITS))
    except OcidiffError as error:
        indexed = type(error).__name__
    assert indexed == streamed


@FUZZ
@given(
    regions=st.lists(
        st.tuples(st.integers(0, 2**62), st.integers(0, 3000)), min_size=0, max_size=30
    ),
    real_size=st.one_of(st.integers(0, 1 << 24), st.integers(0, 2**80)),
    encoding=st.sampled_from(["old", "0.0", "0.1", "1.0"]),
)
def test_sparse_claims_are_bounded(
    regions: list[tuple[int, int]], real_size: int, encoding: str
) -> None:
    """Any sparse map and claimed size: a limit or a map error, or content of exactly the
    claimed size, emitted in bounded pieces, without reading past what is stored."""
    regions = sorted(regions)
    stored = b"".join(bytes([65 + i % 26]) * length for i, (_, length) in enumerate(regions))
    if encoding == "old":
        if real_size >= 8**11 * 8:  # beyond what the 12-byte field holds in octal or base-256
            real_size %= 8**11
        archive = old_gnu_sparse(b"s", regions, real_size, stored) + end()
    else:
        archive = pax_sparse(encoding, b"s", regions, real_size, stored) + end()
    parser = TarParser(LIMITS)
    parser.feed(archive)
    parser.end_of_input()
    emitted = 0
    try:
        for _ in range(LIMITS.max_member_size // HOLE_PIECE + 10_000):
            event = parser.next_event()
            if isinstance(event, EntryData):
                assert 0 < len(event.data) <= HOLE_PIECE
                emitted += len(event.data)
            elif isinstance(event, EntryEnd):
                assert emitted == event.entry.size <= LIMITS.max_member_size
            elif isinstance(event, ArchiveEnd):
                return
        raise AssertionError("the parser did not finish")
    except OcidiffError as error:
        assert error.message[0].islower()
