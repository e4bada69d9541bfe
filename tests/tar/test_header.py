"""Unit tables for one 512-byte header: numbers, checksums, magic, prefix, typeflags."""

from __future__ import annotations

import pytest

from ocidiff.errors import LimitExceededError, TarError
from ocidiff.tar import EntryKind, TarFormat, TarLimits
from ocidiff.tar.header import (
    has_valid_checksum,
    header_checksums,
    parse_header,
    parse_number,
    parse_old_gnu_sparse,
    parse_sparse_extension,
)

from .harness import parse
from .tarbuild import base256, end, header, member, old_gnu_sparse, sparse_content

NUMBERS = [
    # octal ASCII, as writers pad and terminate it
    (b"0000644\x00", 0o644),
    (b"644 \x00\x00\x00\x00", 0o644),
    (b"  644 \x00", 0o644),
    (b"     0 \x00", 0),
    (b"00000000016", 0o16),  # full width, no terminator
    (b"\x00" * 8, 0),
    (b" " * 8, 0),
    (b"12\x0034\x00\x00\x00", 0o12),  # text ends at the first NUL
    (b"\x00123\x00\x00\x00\x00", 0),
    # GNU base-256, positive and negative (two's complement)
    (b"\x80\x00\x00\x00\xff\xff\xff\xfe", 4294967294),
    (base256(1 << 40, 12), 1 << 40),
    (base256(12_626_929_280, 12), 12_626_929_280),
    (b"\xff" * 12, -1),
    (base256(-1000, 12), -1000),
    (base256(-(1 << 60), 12), -(1 << 60)),
    # malformed: int() would accept these, the format does not
    (b"0o644\x00\x00\x00", None),
    (b"+644\x00\x00\x00\x00", None),
    (b"-644\x00\x00\x00\x00", None),
    (b"6_44\x00\x00\x00\x00", None),
    (b"\t644\x00\x00\x00\x00", None),
    (b"12 34\x00\x00\x00", None),
    (b"0000648\x00", None),
    (b"0000900\x00", None),
    (b"\xfe\x00\x00\x00\x00\x00\x00\x01", None),  # high bit set but not 0x80/0xff
    (b"abc\x00\x00\x00\x00\x00", None),
]


@pytest.mark.parametrize(("field", "expected"), NUMBERS)
def test_parse_number(field: bytes, expected: int | None) -> None:
    assert parse_number(field) == expected


def test_checksum_unsigned_and_signed() -> None:
    high = header("caf\xc3\xa9-\xff\xfe".encode("latin-1"))
    signed = header("caf\xc3\xa9-\xff\xfe".encode("latin-1"), signed_checksum=True)
    unsigned_sum, signed_sum = header_checksums(high)
    assert unsigned_sum != signed_sum
    assert has_valid_checksum(high) and has_valid_checksum(signed)
    assert parse_header(signed, 0).name == "caf\xc3\xa9-\xff\xfe".encode("latin-1")


@pytest.mark.parametrize(
    "checksum",
    [b"000000\x00 ", b"999999\x00 ", b"abcdef\x00 ", b"\x00" * 8, b"-12345\x00 "],
)
def test_bad_checksum_is_an_error_with_locator(checksum: bytes) -> None:
    block = header(b"usr/bin/x", checksum=checksum)
    with pytest.raises(TarError) as caught:
        parse_header(block, 1536)
    assert caught.value.message == "header checksum mismatch"
    assert caught.value.locator.offset == 1536
    assert caught.value.locator.member == "usr/bin/x"


def test_checksum_field_variants_are_accepted() -> None:
    plain = header(b"a")
    total = header_checksums(plain)[0]
    for field in (
        b"%06o\x00 " % total,
        b"%07o\x00" % total,
        b"  %o \x00" % total,
        b"%o\x00" % total,
    ):
        block = plain[:148] + field.ljust(8, b"\x00") + plain[156:]
        assert has_valid_checksum(block), field


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("ustar", TarFormat.USTAR), ("gnu", TarFormat.GNU), ("v7", TarFormat.V7)],
)
def test_magic(fmt: str, expected: TarFormat) -> None:
    assert parse_header(header(b"f", fmt=fmt), 0).format is expected


def test_ustar_prefix_is_joined_but_not_for_gnu() -> None:
    ustar = parse_header(header(b"name", prefix=b"some/long/prefix"), 0)
    assert ustar.name == b"some/long/prefix/name"
    gnu = parse_header(header(b"name", prefix=b"00000000000", fmt="gnu"), 0)
    assert gnu.name == b"name"  # GNU keeps atime/ctime there, never a prefix


def test_v7_has_no_owner_names_or_devices() -> None:
    raw = parse_header(header(b"f", fmt="v7", uname=b"ignored"), 0)
    assert (raw.uname, raw.gname, raw.devmajor, raw.devminor) == (b"", b"", 0, 0)


def test_device_numbers_only_for_devices() -> None:
    device = parse_header(header(b"dev/sda", typeflag=b"4", devmajor=8, devminor=1), 0)
    assert (device.devmajor, device.devminor) == (8, 1)
    # garbage in the device fields of a regular file is ignored, as GNU tar does
    regular = parse_header(header(b"f", devmajor=b"garbage!", devminor=b"\xff\xfe"), 0)
    assert (regular.devmajor, regular.devminor) == (0, 0)
    with pytest.raises(TarError, match="devmajor"):
        parse_header(header(b"dev/x", typeflag=b"3", devmajor=b"garbage!"), 0)


@pytest.mark.parametrize("label", ["mode", "uid", "gid", "size", "mtime"])
def test_invalid_number_names_the_field(label: str) -> None:
    block = header(b"etc/passwd", **{label: b"12x4567\x00"})  # type: ignore[arg-type]
    with pytest.raises(TarError, match=f"header field {label}") as caught:
        parse_header(block, 512)
    assert caught.value.locator.offset == 512
    assert caught.value.locator.member == "etc/passwd"


def test_negative_size_is_refused() -> None:
    with pytest.raises(TarError, match="negative member size"):
        parse_header(header(b"f", size=base256(-512, 12)), 0)


def test_negative_mtime_in_base256() -> None:
    raw = parse_header(header(b"f", mtime=-86400), 0)
    assert raw.mtime == -86400


def test_huge_size_trips_the_limit_early() -> None:
    archive = header(b"huge", size=1 << 50) + end()
    with pytest.raises(LimitExceededError) as caught:
        parse(archive)
    assert caught.value.limit == "max_member_size"
    assert caught.value.locator.member == "huge"


def test_size_within_a_custom_limit() -> None:
    archive = member(b"f", b"x" * 600) + end()
    with pytest.raises(LimitExceededError):
        parse(archive, limits=TarLimits(max_member_size=599))


TYPEFLAGS = [
    (b"0", EntryKind.FILE, True),
    (b"\x00", EntryKind.FILE, True),
    (b"7", EntryKind.FILE, True),  # contiguous
    (b"1", EntryKind.HARDLINK, False),
    (b"2", EntryKind.SYMLINK, False),
    (b"3", EntryKind.CHARDEV, False),
    (b"4", EntryKind.BLOCKDEV, False),
    (b"5", EntryKind.DIR, False),
    (b"6", EntryKind.FIFO, False),
    (b"D", EntryKind.OTHER, True),  # GNU dumpdir
    (b"M", EntryKind.OTHER, True),  # GNU multivolume continuation
    (b"N", EntryKind.OTHER, True),  # old GNU long names
    (b"V", EntryKind.OTHER, True),  # GNU volume label
    (b"A", EntryKind.OTHER, True),  # any other vendor extension
]


@pytest.mark.parametrize(("typeflag", "kind", "carries_data"), TYPEFLAGS)
def test_every_typeflag(typeflag: bytes, kind: EntryKind, carries_data: bool) -> None:
    data = b"payload!" * 100
    archive = header(b"thing", typeflag=typeflag, size=len(data) if carries_data else 0)
    archive += (data + bytes(-len(data) % 512)) if carries_data else b""
    archive += member(b"after", b"ok") + end()
    parsed = parse(archive)
    (entry, _, length), (after, _, _) = parsed.members
    assert entry.kind is kind
    assert entry.typeflag == typeflag.decode("latin-1")
    assert length == entry.size == (len(data) if carries_data else 0)
    assert after.name == "after"


def test_header_only_types_ignore_their_size_field() -> None:
    """Go's archive/tar and tarfile never read data after links, devices, dirs or FIFOs."""
    archive = header(b"dir/", typeflag=b"5", size=4096) + member(b"next", b"x") + end()
    (directory, _, _), (after, _, _) = parse(archive).members
    assert (directory.size, directory.stored_size) == (0, 0)
    assert after.name == "next"


@pytest.mark.parametrize(
    ("name", "typeflag", "kind"),
    [
        (b"olddir/", b"\x00", EntryKind.DIR),  # V7: a regular file with a trailing slash
        (b"file", b"\x00", EntryKind.FILE),
        (b"notdir/", b"0", EntryKind.FILE),  # only the old '\0' typeflag gets the rule
    ],
)
def test_v7_trailing_slash_rule(name: bytes, typeflag: bytes, kind: EntryKind) -> None:
    archive = header(name, typeflag=typeflag, fmt="v7") + end()
    ((entry, _, _),) = parse(archive).members
    assert entry.kind is kind
    assert entry.name == name.decode()


def test_old_gnu_sparse_fields() -> None:
    regions = [(0, 512), (4096, 100), (10000, 0)]
    content, stored = sparse_content(regions, 10000)
    archive = old_gnu_sparse(b"s", regions, len(content), stored)
    sparse = parse_old_gnu_sparse(archive[:512], 0, "s")
    assert sparse.regions == tuple(regions)
    assert (sparse.is_extended, sparse.real_size) == (False, 10000)


def test_old_gnu_sparse_extension_block() -> None:
    regions = [(i * 1024, 10) for i in range(25)]  # 4 in the header, 21 in one block
    content, stored = sparse_content(regions, 40000)
    archive = old_gnu_sparse(b"s", regions, len(content), stored)
    first = parse_old_gnu_sparse(archive[:512], 0, "s")
    extension = parse_sparse_extension(archive[512:1024], 512, "s")
    assert first.is_extended and not extension.is_extended
    assert first.regions + extension.regions == tuple(regions)


def test_old_gnu_sparse_bad_entry() -> None:
    block = bytearray(header(b"s", typeflag=b"S", fmt="gnu"))
    block[386:398] = b"zzzzzzzzzzz\x00"
    with pytest.raises(TarError, match="sparse map entry"):
        parse_old_gnu_sparse(bytes(block), 0, "s")
