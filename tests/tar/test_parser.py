"""The parser's event protocol: chunking independence, extension scope, trailers, truncation,
skip_data, limits, and the IO helpers."""

from __future__ import annotations

import functools
import io
import tarfile

import pytest

from ocidiff.errors import LimitExceededError, OcidiffError, TarError
from ocidiff.tar import (
    HOLE_FILL,
    HOLE_PIECE,
    NEED_DATA,
    ArchiveEnd,
    EntryData,
    EntryEnd,
    EntryHeader,
    EntryKind,
    TarEntry,
    TarFormat,
    TarLimits,
    TarParser,
    Trailer,
    index_members,
    iter_events,
)

from .compare import assert_matches_gnu, assert_matches_tarfile
from .harness import (
    GNU_TAR,
    Parsed,
    case_id,
    corpus_archives,
    list_with_gnu_tar,
    parse,
    read_with_tarfile,
)
from .samples import LONG, built_archives
from .tarbuild import (
    end,
    gnu_long,
    header,
    member,
    old_gnu_sparse,
    pad,
    pax_header,
    sparse_content,
)

BUILT = built_archives()
ALL = {**{f"built/{key}": value for key, value in BUILT.items()}, **dict(corpus_archives())}


@functools.cache
def _whole(archive_id: str) -> Parsed:
    return parse(ALL[archive_id])


# -- chunking independence --------------------------------------------------------------------


@pytest.mark.parametrize("chunking", ["bytewise", "1MiB", "ragged-reused"])
@pytest.mark.parametrize("archive_id", sorted(ALL), ids=case_id)
def test_every_chunking_gives_the_same_events(archive_id: str, chunking: str) -> None:
    try:
        expected: Parsed | str = _whole(archive_id)
    except OcidiffError as error:
        expected = error.one_line()
    try:
        actual: Parsed | str = parse(ALL[archive_id], chunking)
    except OcidiffError as error:
        actual = error.one_line()
    assert actual == expected


# -- built archives against the references -------------------------------------------------------

# built id -> (tool, reason) where a reference reads a valid archive differently.
BUILT_DEVIATIONS = {
    ("x-after-L", "tarfile"): "tarfile lets the outermost of stacked L and x headers name the "
    "member; GNU tar gives the PAX path precedence whatever the order, as we do",
    ("two-x-headers", "tarfile"): "tarfile merges consecutive x headers, the first winning; GNU "
    "tar and Go keep only the last one, as we do",
    ("pax-g-empty-value", "tarfile"): "tarfile applies an empty 'g' value literally (uname ''); "
    "POSIX pax says it deletes the keyword, so the header field returns, as we do",
    ("pax-g-empty-value", "gnu"): "GNU tar 1.34 drops every earlier global record when a new 'g' "
    "header arrives; POSIX (and tarfile) replace keyword by keyword, as we do",
    ("pax-g-accumulates", "gnu"): "GNU tar 1.34 drops every earlier global record when a new "
    "'g' header arrives; POSIX (and tarfile) replace keyword by keyword, as we do",
    ("unpadded", "tarfile"): "umoci-style unpadded end: tarfile raises 'unexpected end of data'; "
    "we accept it as Trailer.UNPADDED by design",
    ("unpadded", "gnu"): "umoci-style unpadded end: GNU tar says 'Unexpected EOF in archive'; "
    "we accept it as Trailer.UNPADDED by design",
    ("empty", "tarfile"): "0-byte input (docker save <1.10 empty layers): tarfile says 'empty "
    "file'; we read an archive with no members",
    ("empty", "gnu"): "0-byte input (docker save <1.10 empty layers): GNU tar says 'This does "
    "not look like a tar archive'; we read an archive with no members",
}


@pytest.mark.parametrize("archive_id", sorted(BUILT))
def test_built_archives_match_tarfile(archive_id: str) -> None:
    ours = _whole(f"built/{archive_id}")
    reason = BUILT_DEVIATIONS.get((archive_id, "tarfile"))
    try:
        reference = read_with_tarfile(BUILT[archive_id])
    except tarfile.TarError:
        assert reason, "tarfile refuses a valid archive without a documented reason"
        return
    if reason:
        with pytest.raises(AssertionError):
            for (entry, digest, _), info in zip(ours.members, reference, strict=True):
                assert_matches_tarfile(entry, digest, info)
        return
    assert len(reference) == len(ours.members)
    for (entry, digest, _), info in zip(ours.members, reference, strict=True):
        assert_matches_tarfile(entry, digest, info)


@pytest.mark.skipif(GNU_TAR is None, reason="GNU tar is not installed")
@pytest.mark.parametrize("archive_id", sorted(BUILT))
def test_built_archives_match_gnu_tar(archive_id: str) -> None:
    ours = _whole(f"built/{archive_id}")
    status, rows, stderr = list_with_gnu_tar(BUILT[archive_id])
    if BUILT_DEVIATIONS.get((archive_id, "gnu")):
        with pytest.raises(AssertionError):  # the deviation is still real
            assert status == 0
            for (entry, _, _), row in zip(ours.members, rows, strict=True):
                assert_matches_gnu(entry, row)
        return
    assert status == 0, stderr
    assert len(rows) == len(ours.members)
    for (entry, _, _), row in zip(ours.members, rows, strict=True):
        assert_matches_gnu(entry, row)


# -- extension headers --------------------------------------------------------------------------


def _entries(archive: bytes) -> list[TarEntry]:
    return [entry for entry, _, _ in parse(archive).members]


def test_x_applies_to_the_next_member_only_and_g_to_all_following() -> None:
    archive = (
        member(b"before", b"0")
        + pax_header([(b"uname", b"global"), (b"mtime", b"5.25")], typeflag=b"g")
        + pax_header([(b"path", b"renamed"), (b"uname", b"local")])
        + member(b"first", b"1")
        + member(b"second", b"2")
        + pax_header([(b"mtime", b"")], typeflag=b"g")
        + member(b"third", b"3")
        + end()
    )
    before, first, second, third = _entries(archive)
    assert (before.uname, before.format) == ("user", TarFormat.USTAR)
    assert (first.name, first.uname, first.mtime_ns) == ("renamed", "local", 5_250_000_000)
    assert (second.name, second.uname, second.mtime_ns) == ("second", "global", 5_250_000_000)
    assert second.format is TarFormat.PAX and ("uname", b"global") in second.pax
    assert third.mtime_ns == 1_700_000_000 * 10**9 and third.uname == "global"
    # the 'x' header belongs to its member, the 'g' header to none
    # "before" and the 'g' header take two blocks each: the 'x' header starts the member
    assert first.header_offset == 2048
    assert first.data_offset == 2048 + 1024 + 512


def test_pax_records_are_kept_global_then_local() -> None:
    archive = (
        pax_header([(b"comment", b"g")], typeflag=b"g")
        + pax_header([(b"GNU.sparse.offset", b"1"), (b"comment", b"x")])
        + member(b"f")
        + end()
    )
    (entry,) = _entries(archive)
    assert entry.pax == (("comment", b"g"), ("GNU.sparse.offset", b"1"), ("comment", b"x"))


def test_stacked_extensions_precedence() -> None:
    (entry,) = _entries(BUILT["stacked-x-L-K"])
    assert (entry.name, entry.linkname) == ("from-L/" * 20, "link-from-K")
    assert (entry.gname, entry.mtime_ns, entry.long_name) == ("stacked", 1_250_000_000, True)
    assert entry.kind is EntryKind.HARDLINK and entry.header_offset == 0
    (after_long_name,) = _entries(BUILT["x-after-L"])
    assert after_long_name.name == "from-pax"  # a PAX path beats a GNU long name (GNU tar)
    (two,) = _entries(BUILT["two-x-headers"])
    assert (two.name, two.uname, two.pax) == ("header-name", "u2", (("uname", b"u2"),))


def test_global_records_accumulate_and_empty_values_delete() -> None:
    one, two = _entries(BUILT["pax-g-accumulates"])
    assert one.mtime_ns == two.mtime_ns == 5_500_000_000
    owned, restored = _entries(BUILT["pax-g-empty-value"])
    assert (owned.uname, restored.uname) == ("gowner", "user")
    assert restored.mtime_ns == 5_500_000_000


def test_gnu_long_names() -> None:
    first, second = _entries(BUILT["gnu-long-names"])
    assert (first.name, first.linkname) == (LONG.decode(), "target/" * 30)
    assert first.long_name and first.format is TarFormat.GNU
    assert second.name == LONG.decode() + ".2"


def test_pax_size_overrides_header_size() -> None:
    ((entry, _, length),) = parse(BUILT["pax-size-override"]).members
    assert entry.size == entry.stored_size == length == 1000


def test_xattrs_and_times_from_pax() -> None:
    entries = _entries(BUILT["pax-x-and-g"])
    link = entries[-1]
    assert link.xattrs == (("user.b64", b"hello"), ("user.raw", b"\x00\x01\xff"))
    assert (link.atime_ns, link.ctime_ns) == (-1_500_000_000, 1_700_000_000_000_000_001)
    assert link.linkname == "target/" * 20
    assert entries[0].uid == 4_294_967_294


def test_binary_pax_path_with_hdrcharset() -> None:
    archive = pax_header([(b"hdrcharset", b"BINARY"), (b"path", b"caf\xe9/\xff\x00x")])
    (entry,) = _entries(archive + member(b"placeholder") + end())
    assert entry.name.encode("utf-8", "surrogateescape") == b"caf\xe9/\xff\x00x"
    assert ("hdrcharset", b"BINARY") in entry.pax


def test_non_utf8_names_round_trip() -> None:
    (entry,) = _entries(BUILT["non-utf8"])
    assert entry.name.encode("utf-8", "surrogateescape") == b"bad-\xff\xfe-name"
    assert entry.uname.encode("utf-8", "surrogateescape") == b"\xe9t\xe9"


# -- sparse members ------------------------------------------------------------------------------


def test_sparse_members_expand_with_shared_holes() -> None:
    parser = TarParser()
    parser.feed(BUILT["sparse"])
    parser.end_of_input()
    holes = 0
    while not isinstance(event := parser.next_event(), ArchiveEnd):
        data = event.data if isinstance(event, EntryData) else None
        if isinstance(data, memoryview) and data.obj is HOLE_FILL:
            holes += 1
            assert 0 < len(data) <= HOLE_PIECE
    assert holes > 10
    parsed = parse(BUILT["sparse"])
    names = [entry.name for entry, _, _ in parsed.members]
    assert names == ["sparse-0.0", "sparse-0.1", "sparse-1.0", "old-sparse-ext", "all-hole"]
    sizes = {entry.name: (entry.size, length) for entry, _, length in parsed.members}
    assert sizes["all-hole"] == (3 << 20, 3 << 20)
    digests = {digest for _, digest, _ in parsed.members[:3]}
    assert len(digests) == 3  # different seeds, same map


@pytest.mark.parametrize(
    ("regions", "real_size", "stored_extra", "message"),
    [
        ([(0, 10), (5, 10)], 100, 0, "overlaps"),
        ([(90, 20)], 100, 0, "beyond"),
        ([(0, 10)], 100, 5, "covers 10 bytes but the member stores 15"),
    ],
)
def test_bad_sparse_maps(
    regions: list[tuple[int, int]], real_size: int, stored_extra: int, message: str
) -> None:
    _, stored = sparse_content([(0, sum(length for _, length in regions))], 10**6)
    archive = old_gnu_sparse(b"s", regions, real_size, stored + b"e" * stored_extra) + end()
    with pytest.raises(TarError, match=message):
        parse(archive)


def test_sparse_map_10_must_fit_the_member() -> None:
    text = b"1\n0\n" + b"9" * 600  # no final newline before the data area ends
    archive = pax_header(
        [(b"GNU.sparse.major", b"1"), (b"GNU.sparse.minor", b"0"), (b"GNU.sparse.realsize", b"10")]
    )
    archive += member(b"s", text) + end()
    with pytest.raises(TarError, match="runs past the member data"):
        parse(archive)


# -- trailers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("archive_id", "trailer", "end_offset", "zeros", "data"),
    [
        ("ustar-basic", Trailer.TWO_ZERO_BLOCKS, 4608, 0, 0),
        ("trailing-data", Trailer.TWO_ZERO_BLOCKS, 1024, 9216, 54),
        ("one-zero-block", Trailer.ONE_ZERO_BLOCK, 1024, 0, 0),
        ("no-trailer", Trailer.NONE, 2048, 0, 0),
        ("unpadded", Trailer.UNPADDED, 1546, 0, 0),
        ("only-end", Trailer.TWO_ZERO_BLOCKS, 0, 0, 0),
        ("empty", Trailer.NONE, 0, 0, 0),
    ],
)
def test_trailers(
    archive_id: str, trailer: Trailer, end_offset: int, zeros: int, data: int
) -> None:
    result = _whole(f"built/{archive_id}").end
    assert (result.trailer, result.end_offset) == (trailer, end_offset)
    assert (result.trailing_zero_bytes, result.trailing_data_bytes) == (zeros, data)


@pytest.mark.parametrize(
    ("suffix", "trailer", "zeros", "data"),
    [
        (bytes(512) + b"junk", Trailer.ONE_ZERO_BLOCK, 0, 4),  # a lone zero block, then data
        (bytes(512) + bytes(100) + b"\x01" + bytes(10), Trailer.ONE_ZERO_BLOCK, 100, 11),
        (bytes(700), Trailer.ONE_ZERO_BLOCK, 188, 0),  # the second block cut short
        (bytes(1024) + bytes(8192), Trailer.TWO_ZERO_BLOCKS, 8192, 0),  # GNU record padding
        (bytes(300), Trailer.NONE, 300, 0),  # a partial zero block is not a header
    ],
)
def test_after_the_end_marker_nothing_is_parsed(
    suffix: bytes, trailer: Trailer, zeros: int, data: int
) -> None:
    result = parse(member(b"f", b"1") + suffix).end
    assert (result.trailer, result.end_offset) == (trailer, 1024)
    assert (result.trailing_zero_bytes, result.trailing_data_bytes) == (zeros, data)


def test_umoci_style_unpadded_archive_is_accepted() -> None:
    archive = member(b"a", b"first") + member(b"b", b"last file data")[: 512 + 14]
    parsed = parse(archive)
    assert [entry.name for entry, _, _ in parsed.members] == ["a", "b"]
    assert parsed.end.trailer is Trailer.UNPADDED
    partly_padded = parse(archive + bytes(100)).end
    assert (
        partly_padded.trailer is Trailer.UNPADDED and partly_padded.end_offset == len(archive) + 100
    )


# -- truncation ----------------------------------------------------------------------------------

SMALL = (
    member(b"a", b"A" * 600)  # 0: header, 512: data (2 blocks)
    + pax_header([(b"path", b"pax-named")])  # 1536: x header, 2048: its data
    + member(b"b", b"B" * 10)  # 2560: header, 3072: data
    + member(b"c/", typeflag=b"5")  # 3584
    + end()  # 4096
)
# Where a cut leaves a complete archive: after a member (no end marker) or after one zero block.
ACCEPTED_CUTS = {
    0: Trailer.NONE,
    1536: Trailer.NONE,
    3584: Trailer.NONE,
    4096: Trailer.NONE,
    4608: Trailer.ONE_ZERO_BLOCK,
}


@pytest.mark.parametrize("cut", range(0, len(SMALL), 512))
def test_truncated_at_every_block_boundary(cut: int) -> None:
    data = SMALL[:cut]
    if cut in ACCEPTED_CUTS:
        parsed = parse(data)
        assert parsed.end.trailer is ACCEPTED_CUTS[cut] and parsed.end.end_offset == min(cut, 4096)
        return
    with pytest.raises(TarError) as caught:
        parse(data)
    assert caught.value.locator.offset is not None


@pytest.mark.parametrize("cut", [1, 100, 511, 1537, 2047, 2049, 2561, 3000, 3585, 3684, 4095])
def test_truncated_inside_a_header_or_data(cut: int) -> None:
    with pytest.raises(TarError):
        parse(SMALL[:cut])


def test_truncation_names_member_and_offset() -> None:
    with pytest.raises(TarError) as caught:
        parse(SMALL[:700])
    assert caught.value.locator.member == "a"
    assert caught.value.locator.offset == 700
    assert "truncated member data" in caught.value.message
    with pytest.raises(TarError) as header_cut:
        parse(SMALL[: 2560 + 200])
    assert header_cut.value.locator.offset == 2560


def test_corrupt_header_is_an_error_not_the_end() -> None:
    """tarfile treats a bad header after the first member as the end of the archive."""
    broken = bytearray(SMALL)
    broken[3584 + 120] ^= 0x01  # inside the size field of member "c/"
    with pytest.raises(TarError, match="checksum") as caught:
        parse(bytes(broken))
    assert (caught.value.locator.offset, caught.value.locator.member) == (3584, "c/")
    names = [info.name for info in read_with_tarfile(bytes(broken))]
    assert names == ["a", "pax-named"]  # FORMATS.md 6.2: the corruption passes silently there


@pytest.mark.parametrize(("data", "zeros"), [(b"", 0), (bytes(300), 300)])
def test_input_without_any_header_is_an_empty_archive(data: bytes, zeros: int) -> None:
    parsed = parse(data)
    assert parsed.members == () and parsed.end.trailer is Trailer.NONE
    assert (parsed.end.end_offset, parsed.end.trailing_zero_bytes) == (0, zeros)


def test_extension_header_without_member() -> None:
    with pytest.raises(TarError, match="extension header"):
        parse(pax_header([(b"path", b"x")]) + end())
    with pytest.raises(TarError, match="extension header"):
        parse(gnu_long(b"x"))


# -- limits --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("archive", "limits", "limit"),
    [
        (
            pax_header([(b"comment", b"x" * 2000)]) + member(b"f") + end(),
            TarLimits(max_pax_record=1024),
            "max_pax_record",
        ),
        (
            gnu_long(b"n" * 600) + member(b"f") + end(),
            TarLimits(max_long_name=512),
            "max_long_name",
        ),
        (
            member(b"a") + member(b"b") + member(b"c") + end(),
            TarLimits(max_entries=2),
            "max_entries",
        ),
        (
            pax_header([(b"size", b"99999999")]) + member(b"f") + end(),
            TarLimits(max_member_size=1 << 20),
            "max_member_size",
        ),
    ],
)
def test_limits(archive: bytes, limits: TarLimits, limit: str) -> None:
    with pytest.raises(LimitExceededError) as caught:
        parse(archive, limits=limits)
    assert caught.value.limit == limit and caught.value.hint


def test_sparse_real_size_limit() -> None:
    regions = [(10**9, 10)]
    archive = BUILT["sparse"]
    with pytest.raises(LimitExceededError):
        parse(archive, limits=TarLimits(max_member_size=100_000))
    huge = old_gnu_sparse(b"s", regions, 1 << 50, b"x" * 10) + end()
    with pytest.raises(LimitExceededError):
        parse(huge)


# -- the API contract ----------------------------------------------------------------------------


def test_event_sequence_and_offsets() -> None:
    parser = TarParser(base_offset=1000)
    assert parser.next_event() is NEED_DATA
    parser.feed(SMALL)
    parser.end_of_input()
    kinds = []
    while not isinstance(event := parser.next_event(), ArchiveEnd):
        kinds.append(type(event).__name__)
    assert kinds == ["EntryHeader", "EntryData", "EntryEnd"] * 2 + ["EntryHeader", "EntryEnd"]
    assert parser.offset == 1000 + len(SMALL)
    assert event.end_offset == 1000 + 4096 and event.entries == 3


def test_data_is_a_view_of_fed_bytes() -> None:
    data = member(b"f", b"z" * 5000) + end()
    parser = TarParser()
    parser.feed(data)
    parser.end_of_input()
    parser.next_event()
    piece = parser.next_event()
    assert isinstance(piece, EntryData) and isinstance(piece.data, memoryview)
    assert piece.data.obj is data and len(piece.data) == 5000


def test_feed_after_end_and_misuse_are_programmer_errors() -> None:
    parser = TarParser()
    parser.end_of_input()
    with pytest.raises(ValueError):
        parser.feed(b"x")
    with pytest.raises(ValueError):
        parser.skip_data()


def test_skip_data_with_everything_fed() -> None:
    parser = TarParser()
    parser.feed(SMALL)
    parser.end_of_input()
    first = parser.next_event()
    assert isinstance(first, EntryHeader)
    assert parser.skip_data() == 0  # all stored bytes are already buffered
    assert isinstance(parser.next_event(), EntryEnd)
    second = parser.next_event()
    assert isinstance(second, EntryHeader) and second.entry.name == "pax-named"
    with pytest.raises(ValueError):
        parser.next_event()  # EntryData
        parser.skip_data()


def test_skip_data_tells_how_far_to_seek() -> None:
    parser = TarParser()
    parser.feed(SMALL[: 512 + 100])  # the header and 100 bytes of "a"'s 600 (+424 padding)
    first = parser.next_event()
    assert isinstance(first, EntryHeader)
    assert parser.skip_data() == 1024 - 100
    assert parser.offset == 1536
    assert isinstance(parser.next_event(), EntryEnd)
    assert parser.next_event() is NEED_DATA
    parser.feed(SMALL[1536:])
    parser.end_of_input()
    names = []
    while not isinstance(event := parser.next_event(), ArchiveEnd):
        if isinstance(event, EntryHeader):
            names.append(event.entry.name)
    assert names == ["pax-named", "c/"] and event.end_offset == 4096


def test_skip_data_on_sparse_member() -> None:
    archive = BUILT["sparse"]
    parser = TarParser()
    parser.feed(archive)
    parser.end_of_input()
    skipped = 0
    while not isinstance(event := parser.next_event(), ArchiveEnd):
        if isinstance(event, EntryHeader):
            assert parser.skip_data() == 0
            skipped += 1
        assert not isinstance(event, EntryData)
    assert skipped == 5


@pytest.mark.parametrize("piece_size", [300, 700])  # tiny pieces are copied, others viewed
def test_caller_buffer_may_be_reused_after_need_data(piece_size: int) -> None:
    data = SMALL
    buffer = bytearray(piece_size)
    parser = TarParser()
    names = []
    position = 0
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            piece = data[position : position + piece_size]
            position += piece_size
            if not piece:
                parser.end_of_input()
                continue
            buffer[:] = b"\xaa" * piece_size  # whatever was left in the buffer is gone
            buffer[: len(piece)] = piece
            parser.feed(memoryview(buffer)[: len(piece)])
        elif isinstance(event, EntryHeader):
            names.append(event.entry.name)
        elif isinstance(event, ArchiveEnd):
            break
    assert names == ["a", "pax-named", "c/"]


def test_iter_events_and_index_members_agree_with_a_full_parse() -> None:
    for archive_id in (
        "built/pax-x-and-g",
        "built/sparse",
        "built/unpadded",
        "built/trailing-data",
    ):
        data = ALL[archive_id]
        parsed = _whole(archive_id)
        events = list(iter_events(io.BytesIO(data), chunk_size=4096))
        assert isinstance(events[-1], ArchiveEnd) and events[-1] == parsed.end
        headers = [event.entry for event in events if isinstance(event, EntryHeader)]
        assert headers == [entry for entry, _, _ in parsed.members]
        assert index_members(io.BytesIO(data)) == tuple(headers)


def test_index_members_seeks_over_data_and_reads_at_offsets() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    data = member(b"big", payload) + member(b"small", b"tail") + end()
    source = io.BytesIO(data)
    entries = index_members(source)
    assert [entry.name for entry in entries] == ["big", "small"]
    assert data[entries[0].data_offset : entries[0].data_offset + (1 << 20)] == payload
    assert data[entries[1].data_offset : entries[1].data_offset + 4] == b"tail"


def test_index_members_reports_truncation() -> None:
    data = member(b"big", b"x" * 100_000)[:50_000]
    with pytest.raises(TarError, match="truncated member data"):
        index_members(io.BytesIO(data))


def test_index_members_from_a_file_position() -> None:
    data = b"prefix!!" + SMALL
    source = io.BytesIO(data)
    source.seek(8)
    entries = index_members(source)
    assert entries[0].header_offset == 8 and entries[0].data_offset == 520


def test_pad_helper() -> None:
    assert len(pad(b"x")) == 512 and pad(b"") == b""
    assert header(b"x")[257:263] == b"ustar\x00"


def test_an_empty_x_header_still_belongs_to_its_member() -> None:
    archive = member(b"first", b"1") + pax_header(b"") + member(b"second", b"2") + end()
    _, second = _entries(archive)
    assert (second.header_offset, second.data_offset) == (1024, 2048)
    assert second.format is TarFormat.PAX and second.pax == ()
