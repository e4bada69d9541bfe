"""Unit tables for PAX records, times, xattrs, precedence and GNU sparse descriptions."""

from __future__ import annotations

import base64

import pytest

from ocidiff.errors import TarError, UnsupportedError
from ocidiff.tar.pax import (
    decode_xattr,
    gnu_long_value,
    parse_pax_records,
    parse_pax_time,
    resolve_pax,
)
from ocidiff.tar.sparse import parse_sparse_map_10

from .tarbuild import pax_data, pax_record


def test_records_in_order_with_binary_values() -> None:
    data = pax_data(
        [
            (b"path", b"a=b/c"),
            (b"SCHILY.xattr.security.capability", b"\x01\x00\n\xff="),
            (b"GNU.sparse.offset", b"1"),
            (b"GNU.sparse.offset", b"2"),
        ]
    )
    assert parse_pax_records(data, offset=0) == (
        ("path", b"a=b/c"),
        ("SCHILY.xattr.security.capability", b"\x01\x00\n\xff="),
        ("GNU.sparse.offset", b"1"),
        ("GNU.sparse.offset", b"2"),
    )


def test_record_length_counts_its_own_digits() -> None:
    assert pax_record(b"k", b"v" * 4) == b"9 k=vvvv\n"
    assert pax_record(b"k", b"v" * 5) == b"11 k=vvvvv\n"  # "10" would not count its 2nd digit
    assert parse_pax_records(b"11 k=vvvvv\n", offset=0) == (("k", b"vvvvv"),)


def test_trailing_nul_padding_is_tolerated() -> None:
    data = pax_record(b"uid", b"7") + b"\x00" * 100
    assert parse_pax_records(data, offset=0) == (("uid", b"7"),)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"path=x\n", "no valid length"),
        (b"x9 path=x\n", "no valid length"),
        (b" 9 path=x\n", "no valid length"),
        (b"-9 path=x\n", "no valid length"),
        (b"99999999999999999999999 path=x\n", "no valid length"),
        (b"0 path=x\n", "inconsistent"),
        (b"4 k=\n", "inconsistent"),
        (b"12 path=x\n", "inconsistent"),  # runs past the data
        (b"99999999999 path=x\n", "inconsistent"),  # a huge length
        (b"9 path=xx", "newline"),
        (b"10 path=xy\n", "newline"),  # length too short by one
        (b"8 pathx\n", "no keyword"),
        (b"6 =xy\n", "no keyword"),
        (pax_record(b"uid", b"7") + b"garbage\n", "no valid length"),
    ],
)
def test_malformed_records(data: bytes, message: str) -> None:
    with pytest.raises(TarError, match=message) as caught:
        parse_pax_records(data, offset=1024, member="PaxHeader")
    assert caught.value.locator.offset == 1024


TIMES = [
    (b"1234.5", 1_234_500_000_000),
    (b"1234", 1_234_000_000_000),
    (b"1453146164.953123768", 1_453_146_164_953_123_768),
    (b"0.000000001", 1),
    (b"1.1234567899", 1_123_456_789),  # beyond nanoseconds: truncated
    (b"1.", 1_000_000_000),
    (b"-1.5", -1_500_000_000),  # the whole value is negative
    (b"-0.25", -250_000_000),
    (b"-86400", -86_400_000_000_000),
    (b"", None),
    (b".5", None),
    (b"1.2.3", None),
    (b"1e5", None),
    (b"+5", None),
    (b"--5", None),
    (b"5 ", None),
    (b"abc", None),
    (b"9" * 5000, None),  # int() would raise on more than 4300 decimal digits
    (b"1." + b"9" * 5000, 1_999_999_999),
]


@pytest.mark.parametrize(("value", "expected"), TIMES)
def test_pax_time(value: bytes, expected: int | None) -> None:
    assert parse_pax_time(value) == expected


def test_xattr_records() -> None:
    assert decode_xattr("SCHILY.xattr.user.a", b"\x00\xff") == ("user.a", b"\x00\xff")
    value = base64.b64encode(b"\x01\x02\x03\x04").rstrip(b"=")  # bsdtar writes no padding
    assert decode_xattr("LIBARCHIVE.xattr.user.%E2%82%AC%3D", value) == (
        "user.€=",
        b"\x01\x02\x03\x04",
    )
    assert decode_xattr("LIBARCHIVE.xattr.user.b", b"aGk=") == ("user.b", b"hi")
    assert decode_xattr("mtime", b"1") is None
    with pytest.raises(TarError, match="base64"):
        decode_xattr("LIBARCHIVE.xattr.user.c", b"!!!!", offset=0, member="f")


def test_gnu_long_value_stops_at_nul() -> None:
    assert gnu_long_value(b"long/name\x00garbage") == b"long/name"
    assert gnu_long_value(b"no-terminator") == b"no-terminator"


def test_local_records_override_global_and_empty_values_cancel() -> None:
    overrides = resolve_pax(
        {"uname": b"global", "gname": b"g", "uid": b"5"},
        (("uname", b"local"), ("gname", b""), ("uid", b"6"), ("uid", b"7")),
        offset=0,
        member="m",
    )
    assert overrides.uname == b"local"
    assert overrides.gname is None  # an empty value restores the header field
    assert overrides.uid == 7  # the last record wins


def test_times_and_sizes_resolve() -> None:
    overrides = resolve_pax(
        {},
        (
            ("mtime", b"1234.5"),
            ("atime", b"-1.5"),
            ("size", b"99999999999"),
            ("gid", b"4294967294"),
        ),
        offset=0,
        member="m",
    )
    assert (overrides.mtime_ns, overrides.atime_ns, overrides.ctime_ns) == (
        1_234_500_000_000,
        -1_500_000_000,
        None,
    )
    assert (overrides.size, overrides.gid) == (99_999_999_999, 4_294_967_294)


@pytest.mark.parametrize(
    "record",
    [("size", b"-1"), ("size", b"12a"), ("uid", b"1.5"), ("mtime", b"soon"), ("gid", b" 5")],
)
def test_invalid_values_are_errors(record: tuple[str, bytes]) -> None:
    with pytest.raises(TarError, match=f"invalid pax {record[0]}"):
        resolve_pax({}, (record,), offset=0, member="m")


def test_xattrs_sorted_and_both_flavours() -> None:
    overrides = resolve_pax(
        {"SCHILY.xattr.user.z": b"1"},
        (("LIBARCHIVE.xattr.user.a", b"Mg"), ("SCHILY.xattr.security.selinux", b"ctx\x00")),
        offset=0,
        member="m",
    )
    assert overrides.xattrs == (
        ("security.selinux", b"ctx\x00"),
        ("user.a", b"2"),
        ("user.z", b"1"),
    )


def test_sparse_descriptions() -> None:
    v00 = resolve_pax(
        {},
        (
            ("GNU.sparse.size", b"100"),
            ("GNU.sparse.numblocks", b"2"),
            ("GNU.sparse.offset", b"0"),
            ("GNU.sparse.numbytes", b"10"),
            ("GNU.sparse.offset", b"50"),
            ("GNU.sparse.numbytes", b"5"),
        ),
        offset=0,
        member="m",
    ).sparse
    assert v00 is not None and (v00.version, v00.real_size, v00.regions) == (
        "0.0",
        100,
        ((0, 10), (50, 5)),
    )
    v01 = resolve_pax(
        {},
        (
            ("GNU.sparse.size", b"100"),
            ("GNU.sparse.map", b"0,10,50,5"),
            ("GNU.sparse.name", b"real"),
        ),
        offset=0,
        member="m",
    ).sparse
    assert v01 is not None and (v01.version, v01.regions, v01.name) == (
        "0.1",
        ((0, 10), (50, 5)),
        b"real",
    )
    v10 = resolve_pax(
        {},
        (("GNU.sparse.major", b"1"), ("GNU.sparse.minor", b"0"), ("GNU.sparse.realsize", b"7")),
        offset=0,
        member="m",
    ).sparse
    assert v10 is not None and (v10.version, v10.real_size, v10.regions) == ("1.0", 7, None)
    assert resolve_pax({}, (("path", b"x"),), offset=0, member="m").sparse is None


@pytest.mark.parametrize(
    ("records", "error", "message"),
    [
        ((("GNU.sparse.major", b"2"), ("GNU.sparse.minor", b"0")), UnsupportedError, "unsupported"),
        ((("GNU.sparse.major", b"1"), ("GNU.sparse.minor", b"0")), TarError, "realsize"),
        ((("GNU.sparse.map", b"1,2,3"), ("GNU.sparse.size", b"9")), TarError, "odd count"),
        ((("GNU.sparse.map", b"1,x"), ("GNU.sparse.size", b"9")), TarError, "number"),
        ((("GNU.sparse.map", b"1,2"),), TarError, "without size"),
        (
            (
                ("GNU.sparse.size", b"9"),
                ("GNU.sparse.numblocks", b"2"),
                ("GNU.sparse.offset", b"1"),
                ("GNU.sparse.numbytes", b"1"),
            ),
            TarError,
            "numblocks",
        ),
        (
            (("GNU.sparse.size", b"9"), ("GNU.sparse.numbytes", b"1"), ("GNU.sparse.offset", b"1")),
            TarError,
            "out of order",
        ),
    ],
)
def test_bad_sparse_descriptions(
    records: tuple[tuple[str, bytes], ...], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        resolve_pax({}, records, offset=0, member="m")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"2\n0\n10\n50\n5\n" + b"\x00" * 500, (((0, 10), (50, 5)), 12)),
        (b"0\n", ((), 2)),
        (b"2\n0\n10\n50\n", None),  # incomplete
        (b"2", None),
    ],
)
def test_sparse_map_10(text: bytes, expected: object) -> None:
    assert parse_sparse_map_10(text, offset=0, member="m") == expected


@pytest.mark.parametrize("text", [b"x\n", b"2\n0\nten\n50\n5\n"])
def test_sparse_map_10_malformed(text: bytes) -> None:
    with pytest.raises(TarError):
        parse_sparse_map_10(text, offset=0, member="m")
