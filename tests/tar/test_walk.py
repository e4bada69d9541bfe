"""The verify-depth walker against the full parser: same end, same error, on every input.

The walker may only be faster: for any bytes, in any chunking, it must return the `ArchiveEnd`
a full parse returns, or raise the error (class, message, offset, member) a full parse raises.
"""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocidiff.errors import OcidiffError
from ocidiff.tar import (
    ArchiveEnd,
    EntryData,
    EntryEnd,
    EntryHeader,
    NeedData,
    TarEntry,
    TarLimits,
    TarParser,
)
from ocidiff.tar.sparse import HOLE_FILL
from ocidiff.tar.walk import TarWalker

from .harness import case_id, chunks_of, corpus_archives
from .samples import built_archives
from .tarbuild import end, header, member, pax_header

LIMITS = TarLimits(max_member_size=1 << 30, max_pax_record=1 << 16, max_long_name=1 << 12)
Outcome = tuple[str, ...]


def _error(exc: OcidiffError) -> Outcome:
    return ("error", type(exc).__name__, str(exc))


def _end(end_event: ArchiveEnd, holes: int) -> Outcome:
    return ("end", repr(end_event), str(holes))


def full_parse(data: bytes, limits: TarLimits = LIMITS) -> Outcome:
    parser = TarParser(limits)
    holes = 0
    try:
        parser.feed(data)
        parser.end_of_input()
        while True:
            event = parser.next_event()
            if isinstance(event, NeedData):  # pragma: no cover - end_of_input was called
                raise AssertionError("parser asked for data after the end of input")
            data = event.data if isinstance(event, EntryData) else None
            if type(data) is memoryview and data.obj is HOLE_FILL:
                holes += len(data)
            if isinstance(event, ArchiveEnd):
                return _end(event, holes)
    except OcidiffError as exc:
        return _error(exc)


def walk(data: bytes, sizes: list[int], limits: TarLimits = LIMITS) -> Outcome:
    holes = [0]

    def on_hole(size: int) -> None:
        holes[0] += size

    walker = TarWalker(limits, on_hole=on_hole)
    try:
        for piece in chunks_of(data, itertools.cycle(sizes)):
            walker.feed(piece)
        return _end(walker.finish(), holes[0])
    except OcidiffError as exc:
        return _error(exc)


class Recorder:
    """An `EntryVisitor` writing down members and their content, as `full_listing` does."""

    def __init__(self) -> None:
        self.members: list[tuple[str, ...]] = []
        self._open: TarEntry | None = None
        self._data: list[bytes] = []

    def begin(self, entry: TarEntry) -> None:
        assert self._open is None, "begin before the previous member ended"
        self._open, self._data = entry, []

    def data(self, piece: memoryview | bytes) -> None:
        assert self._open is not None, "data outside a member"
        self._data.append(bytes(piece))

    def end(self, entry: TarEntry) -> None:
        assert entry == self._open, "end of another member than began"
        self.members.append((repr(entry), repr(b"".join(self._data))))
        self._open = None


def full_listing(data: bytes, limits: TarLimits = LIMITS) -> tuple[Outcome, list[tuple[str, ...]]]:
    recorder = Recorder()
    parser = TarParser(limits)
    try:
        parser.feed(data)
        parser.end_of_input()
        while True:
            event = parser.next_event()
            if isinstance(event, EntryHeader):
                recorder.begin(event.entry)
            elif isinstance(event, EntryData):
                recorder.data(event.data)
            elif isinstance(event, EntryEnd):
                recorder.end(event.entry)
            elif isinstance(event, ArchiveEnd):
                return _end(event, 0), recorder.members
    except OcidiffError as exc:
        return _error(exc), recorder.members


def listing(
    data: bytes, sizes: list[int], limits: TarLimits = LIMITS
) -> tuple[Outcome, list[tuple[str, ...]]]:
    recorder = Recorder()
    walker = TarWalker(limits, visitor=recorder)
    try:
        for piece in chunks_of(data, itertools.cycle(sizes)):
            walker.feed(piece)
        return _end(walker.finish(), 0), recorder.members
    except OcidiffError as exc:
        return _error(exc), recorder.members


CHUNKINGS = [[1 << 20], [512], [511, 513], [1, 7, 300, 4096], [100_000]]
CORPUS = [(name, data) for name, data in corpus_archives() if len(data) < 8 << 20]
BUILT = sorted(built_archives().items())


@pytest.mark.parametrize(("name", "data"), CORPUS, ids=[case_id(n) for n, _ in CORPUS])
def test_real_and_corpus_archives_end_alike(name: str, data: bytes) -> None:
    expected = full_parse(data)
    for sizes in CHUNKINGS:
        assert walk(data, sizes) == expected, (name, sizes)


@pytest.mark.parametrize(("name", "data"), CORPUS + BUILT, ids=lambda v: str(v)[:40])
def test_listing_gives_the_parsers_members_and_content(name: str, data: bytes) -> None:
    expected = full_listing(data)
    for sizes in CHUNKINGS:
        assert listing(data, sizes) == expected, (name, sizes)


@pytest.mark.parametrize(("name", "data"), BUILT, ids=[n for n, _ in BUILT])
def test_built_archives_end_alike(name: str, data: bytes) -> None:
    expected = full_parse(data)
    for sizes in CHUNKINGS:
        assert walk(data, sizes) == expected, (name, sizes)


@pytest.mark.parametrize(("name", "data"), BUILT + CORPUS[:40], ids=lambda v: str(v)[:40])
def test_every_truncation_of_the_head_ends_alike(name: str, data: bytes) -> None:
    rng = random.Random(name)
    cuts = set(range(0, min(len(data), 4096), 97)) | {
        rng.randrange(len(data) + 1) for _ in range(30)
    }
    for cut in sorted(cuts):
        piece = data[:cut]
        sizes = [rng.choice([64, 512, 1000, 1 << 20])]
        assert walk(piece, sizes) == full_parse(piece), (name, cut)
        assert listing(piece, sizes) == full_listing(piece), (name, cut)


def test_limits_trip_alike() -> None:
    data = b"".join(member(f"f{i}".encode(), b"x" * i) for i in range(20)) + end()
    for limits in (
        TarLimits(max_entries=5),
        TarLimits(max_member_size=10),
        TarLimits(max_pax_record=8),
    ):
        assert walk(data, [700], limits) == full_parse(data, limits)
        assert listing(data, [700], limits) == full_listing(data, limits)
    paxed = pax_header([(b"mtime", b"1.5")]) + member(b"a", b"1") + end()
    assert walk(paxed, [512], TarLimits(max_pax_record=8))[0] == "error"


def test_pax_records_the_walker_must_not_accept_alone() -> None:
    for records in (
        [(b"mtime", b"nonsense")],
        [(b"size", b"-3")],
        [(b"uid", b"1e5")],
        [(b"GNU.sparse.major", b"7")],
        [(b"LIBARCHIVE.xattr.user.x", b"!!!")],
        [(b"path", b"with\nnewline")],
        [(b"size", b"700")],
        [(b"size", b"")],
        [(b"mtime", b"")],
        [(b"comment", b"anything at all")],
    ):
        data = pax_header(records) + member(b"f", b"y" * 700) + member(b"g", b"z") + end()
        assert walk(data, [1 << 20]) == full_parse(data), records
        assert walk(data, [513]) == full_parse(data), records
        assert listing(data, [513]) == full_listing(data), records


def test_global_header_hands_the_rest_to_the_parser() -> None:
    data = (
        member(b"a", b"1")
        + pax_header([(b"size", b"2")], typeflag=b"g")
        + member(b"b", b"22")
        + member(b"c", b"33")
        + end()
    )
    assert walk(data, [1 << 20]) == full_parse(data)


def test_header_variants_the_fast_path_skips() -> None:
    data = (
        header(b"dev", typeflag=b"3", devmajor=1, devminor=3)
        + member(b"v7dir/", typeflag=b"\x00", fmt="v7")
        + member(b"vendor", b"data", typeflag=b"D")
        + end()
    )
    assert walk(data, [1 << 20]) == full_parse(data)


FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    database=None,
)
SEEDS = [data for _, data in BUILT if 0 < len(data) <= 40_000]


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(1, 255)), max_size=4),
    cut=st.integers(0, 1 << 20),
    sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=4),
)
def test_damaged_archives_end_alike(
    seed: bytes, flips: list[tuple[int, int]], cut: int, sizes: list[int]
) -> None:
    data = bytearray(seed)
    for at, xor in flips:
        data[at % len(data)] ^= xor
    damaged = bytes(data[: cut % (len(data) + 1)])
    assert walk(damaged, sizes) == full_parse(damaged)
    assert listing(damaged, sizes) == full_listing(damaged)
