"""PAX extended-header records and GNU long names: bytes in, validated values out.

Owns the POSIX pax record syntax ("%d %s=%s\\n", the length counting itself), the meaning of the
keywords ocidiff uses (path, linkpath, size, uid, gid, uname, gname, m/a/ctime, SCHILY.xattr.*,
LIBARCHIVE.xattr.*, GNU.sparse.*, hdrcharset) and GNU 'L'/'K' long-name data. It performs no IO
and knows nothing about the parser's state; every input problem is a `TarError`.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from ocidiff.errors import TarError, UnsupportedError

PaxRecord = tuple[str, bytes]

_MAX_LENGTH_DIGITS = 20  # a record longer than 10**20 bytes cannot fit any size limit
_MAX_INT64 = (1 << 63) - 1
_MAX_UINT64 = (1 << 64) - 1
_NS_PER_SECOND = 1_000_000_000
_SCHILY_XATTR = "SCHILY.xattr."
_LIBARCHIVE_XATTR = "LIBARCHIVE.xattr."


def decode_name(raw: bytes) -> str:
    """Bytes from an archive as text that round-trips: UTF-8, undecodable bytes as surrogates."""
    return raw.decode("utf-8", "surrogateescape")


def gnu_long_value(data: bytes) -> bytes:
    """The name carried by a GNU 'L' or 'K' member: its data up to the first NUL."""
    end = data.find(0)
    return data if end < 0 else data[:end]


def parse_pax_records(
    data: bytes, *, offset: int, member: str | None = None
) -> tuple[PaxRecord, ...]:
    """Split the data of an 'x' or 'g' header into (keyword, raw value) records, in order.

    POSIX pax, "pax Extended Header": each record is "<length> <keyword>=<value>\\n" where length
    is the decimal byte count of the whole record. Values are binary-safe (xattrs), so they stay
    bytes. Trailing NUL padding after the last record is tolerated, as GNU tar and tarfile do.
    """
    records: list[PaxRecord] = []
    position = 0
    end = len(data)
    while position < end and data[position] != 0:
        space = data.find(b" ", position, position + _MAX_LENGTH_DIGITS + 1)
        digits = data[position:space] if space > position else b""
        if not digits.isdigit():
            raise TarError("pax record has no valid length", offset=offset, member=member)
        length = int(digits)
        record_end = position + length
        if length <= len(digits) + 3 or record_end > end:
            raise TarError(
                f"pax record length {length} is inconsistent with the header data",
                offset=offset,
                member=member,
            )
        if data[record_end - 1] != 0x0A:
            raise TarError("pax record does not end with a newline", offset=offset, member=member)
        equals = data.find(b"=", space + 1, record_end - 1)
        if equals <= space + 1:
            raise TarError("pax record has no keyword", offset=offset, member=member)
        records.append((decode_name(data[space + 1 : equals]), data[equals + 1 : record_end - 1]))
        position = record_end
    return tuple(records)


def parse_pax_time(value: bytes) -> int | None:
    """A pax time ("-?digits[.digits]", seconds since the epoch) in nanoseconds, or None if invalid.

    Digits past the ninth fractional digit are dropped (truncated toward zero); a negative value
    is negative as a whole: "-1.5" is 1.5 seconds before the epoch.
    """
    negative = value.startswith(b"-")
    text = value[1:] if negative else value
    whole, _, fraction = text.partition(b".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        return None
    if len(whole) > _MAX_LENGTH_DIGITS:  # beyond any real time, and int() caps decimal digits
        return None
    nanoseconds = int(whole) * _NS_PER_SECOND + int((fraction[:9] or b"0").ljust(9, b"0"))
    if nanoseconds > (_MAX_INT64 if negative else _MAX_UINT64):  # as header.MAX_SECONDS
        return None
    return -nanoseconds if negative else nanoseconds


def parse_pax_decimal(value: bytes) -> int | None:
    """A non-negative decimal pax value (size, uid, gid, sparse numbers) that fits a signed
    64-bit integer, or None if invalid."""
    if not value.isdigit() or len(value) > _MAX_LENGTH_DIGITS:
        return None
    number = int(value)
    return number if number <= _MAX_INT64 else None


def decode_xattr(
    key: str, value: bytes, *, offset: int | None = None, member: str | None = None
) -> tuple[str, bytes] | None:
    """(name, value) of an xattr record, or None if `key` is not one.

    SCHILY.xattr.<name> (star, GNU tar) carries the raw value. LIBARCHIVE.xattr.<name> (bsdtar)
    carries a URL-encoded name and a base64 value, written without '=' padding.
    """
    if key.startswith(_SCHILY_XATTR):
        return key[len(_SCHILY_XATTR) :], value
    if key.startswith(_LIBARCHIVE_XATTR):
        encoded = key[len(_LIBARCHIVE_XATTR) :].encode("utf-8", "surrogateescape")
        name = decode_name(unquote_to_bytes(encoded))
        try:
            decoded = binascii.a2b_base64(value + b"=" * (-len(value) % 4), strict_mode=True)
        except binascii.Error:
            raise TarError(
                f"invalid base64 in pax record {key}", offset=offset, member=member
            ) from None
        return name, decoded
    return None


@dataclass(frozen=True, slots=True)
class PaxSparse:
    """A GNU sparse file described by PAX records (GNU tar manual, "Storing Sparse Files")."""

    version: str  # "0.0", "0.1" or "1.0"
    real_size: int  # the expanded size
    regions: tuple[tuple[int, int], ...] | None  # None for 1.0: the map leads the data area
    name: bytes | None  # GNU.sparse.name, the real name (the header holds a placeholder)


@dataclass(frozen=True, slots=True)
class PaxOverrides:
    """What the records in force for one member change; None means 'keep the header value'."""

    path: bytes | None
    linkpath: bytes | None
    size: int | None
    uid: int | None
    gid: int | None
    uname: bytes | None
    gname: bytes | None
    mtime_ns: int | None
    atime_ns: int | None
    ctime_ns: int | None
    xattrs: tuple[tuple[str, bytes], ...]
    sparse: PaxSparse | None


def _decimal(effective: Mapping[str, bytes], key: str, offset: int, member: str) -> int | None:
    raw = effective.get(key)
    if raw is None:
        return None
    value = parse_pax_decimal(raw)
    if value is None:
        raise TarError(f"invalid pax {key} value {raw[:40]!r}", offset=offset, member=member)
    return value


def _time(effective: Mapping[str, bytes], key: str, offset: int, member: str) -> int | None:
    raw = effective.get(key)
    if raw is None:
        return None
    value = parse_pax_time(raw)
    if value is None:
        raise TarError(f"invalid pax {key} value {raw[:40]!r}", offset=offset, member=member)
    return value


def parse_sparse_numbers(
    raw: Iterable[bytes], *, offset: int, member: str
) -> tuple[tuple[int, int], ...]:
    """Decimal numbers taken two by two as GNU sparse (offset, length) regions."""
    numbers: list[int] = []
    for item in raw:
        value = parse_pax_decimal(item)
        if value is None:
            raise TarError(
                f"invalid sparse map number (GNU) {item[:40]!r}", offset=offset, member=member
            )
        numbers.append(value)
    if len(numbers) % 2:
        raise TarError("sparse map (GNU) has an odd count of numbers", offset=offset, member=member)
    return tuple(zip(numbers[::2], numbers[1::2], strict=True))


def _sparse(
    effective: Mapping[str, bytes], local: Iterable[PaxRecord], offset: int, member: str
) -> PaxSparse | None:
    """Which GNU sparse encoding (if any) the records describe, as GNU tar and tarfile detect it."""
    major = effective.get("GNU.sparse.major")
    minor = effective.get("GNU.sparse.minor")
    name = effective.get("GNU.sparse.name")
    if major is not None and major != b"0":
        if (major, minor) != (b"1", b"0"):
            raise UnsupportedError(
                f"unsupported GNU sparse format {decode_name(major)}.{decode_name(minor or b'')}",
                offset=offset,
                member=member,
            )
        real_size = _decimal(effective, "GNU.sparse.realsize", offset, member)
        if real_size is None:
            raise TarError("sparse member (GNU 1.0) without realsize", offset=offset, member=member)
        return PaxSparse("1.0", real_size, None, name)
    if "GNU.sparse.map" in effective:
        text = effective["GNU.sparse.map"]
        regions = parse_sparse_numbers(
            text.split(b",") if text else (), offset=offset, member=member
        )
        version = "0.1"
    elif "GNU.sparse.size" in effective or "GNU.sparse.numblocks" in effective:
        # 0.0 repeats GNU.sparse.offset / GNU.sparse.numbytes pairs, so only the ordered local
        # records (not the last-wins mapping) hold the map.
        wanted = ("GNU.sparse.offset", "GNU.sparse.numbytes")
        raw = [value for key, value in local if key in wanted]
        keys = [key for key, _ in local if key in wanted]
        if keys != [wanted[i % 2] for i in range(len(keys))]:
            raise TarError(
                "sparse map records (GNU 0.0) out of order", offset=offset, member=member
            )
        regions = parse_sparse_numbers(raw, offset=offset, member=member)
        version = "0.0"
    else:
        return None
    blocks = _decimal(effective, "GNU.sparse.numblocks", offset, member)
    if blocks is not None and blocks != len(regions):
        raise TarError(
            f"sparse map (GNU) has {len(regions)} regions, numblocks says {blocks}",
            offset=offset,
            member=member,
        )
    real_size = _decimal(effective, "GNU.sparse.size", offset, member)
    if real_size is None:
        raise TarError(f"sparse member (GNU {version}) without size", offset=offset, member=member)
    return PaxSparse(version, real_size, regions, name)


def resolve_pax(
    global_records: Mapping[str, bytes],
    local_records: tuple[PaxRecord, ...],
    *,
    offset: int,
    member: str,
) -> PaxOverrides:
    """Combine the global ('g') and per-member ('x') records in force into field overrides.

    Local records override global ones; within each, the last record for a keyword wins. An empty
    value cancels the keyword (POSIX pax: "the field ... shall be deleted"/default restored).
    `hdrcharset` needs no handling: every value is kept as bytes and decoded with surrogateescape,
    which is exact for both UTF-8 and BINARY.
    """
    effective = dict(global_records)
    effective.update(local_records)
    for key in [key for key, value in effective.items() if not value]:
        del effective[key]
    xattrs: dict[str, bytes] = {}
    for key, value in effective.items():
        pair = decode_xattr(key, value, offset=offset, member=member)
        if pair is not None:
            xattrs[pair[0]] = pair[1]
    return PaxOverrides(
        path=effective.get("path"),
        linkpath=effective.get("linkpath"),
        size=_decimal(effective, "size", offset, member),
        uid=_decimal(effective, "uid", offset, member),
        gid=_decimal(effective, "gid", offset, member),
        uname=effective.get("uname"),
        gname=effective.get("gname"),
        mtime_ns=_time(effective, "mtime", offset, member),
        atime_ns=_time(effective, "atime", offset, member),
        ctime_ns=_time(effective, "ctime", offset, member),
        xattrs=tuple(sorted(xattrs.items())),
        sparse=_sparse(effective, local_records, offset, member),
    )
