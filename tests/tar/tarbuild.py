"""Builders for tar archives byte by byte, so tests can make any header, valid or hostile.

Written from the format descriptions (POSIX ustar/pax, GNU tar manual), independently of the
parser under test: numbers, checksums, PAX records and sparse maps are encoded here from scratch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

BLOCK = 512


def pad(data: bytes) -> bytes:
    """`data` padded with NULs to a whole number of blocks."""
    return data + bytes(-len(data) % BLOCK)


def octal(value: int, width: int) -> bytes:
    """A NUL-terminated zero-padded octal field of `width` bytes."""
    text = b"%0*o" % (width - 1, value)
    if len(text) > width - 1:
        raise ValueError(f"{value} does not fit {width} octal bytes")
    return text + b"\x00"


def base256(value: int, width: int) -> bytes:
    """GNU base-256: 0x80 then big-endian for >= 0, two's complement (leading 0xff) for < 0."""
    if value >= 0:
        return b"\x80" + value.to_bytes(width - 1, "big")
    encoded = value.to_bytes(width, "big", signed=True)
    if encoded[0] != 0xFF:
        raise ValueError(f"{value} does not fit {width} base-256 bytes")
    return encoded


def number(value: int | bytes, width: int) -> bytes:
    """Octal when it fits (and is not negative), else base-256; bytes are used verbatim."""
    if isinstance(value, bytes):
        return value.ljust(width, b"\x00")[:width]
    if 0 <= value < 8 ** (width - 1):
        return octal(value, width)
    return base256(value, width)


def field(text: bytes, width: int) -> bytes:
    if len(text) > width:
        raise ValueError(f"{text!r} longer than {width}")
    return text.ljust(width, b"\x00")


MAGIC = {
    "ustar": b"ustar\x0000",
    "gnu": b"ustar  \x00",
    "v7": bytes(8),
}


def header(
    name: bytes = b"file",
    *,
    typeflag: bytes = b"0",
    mode: int | bytes = 0o644,
    uid: int | bytes = 1000,
    gid: int | bytes = 1000,
    size: int | bytes = 0,
    mtime: int | bytes = 1_700_000_000,
    linkname: bytes = b"",
    uname: bytes = b"user",
    gname: bytes = b"group",
    devmajor: int | bytes = 0,
    devminor: int | bytes = 0,
    prefix: bytes = b"",
    fmt: str = "ustar",
    signed_checksum: bool = False,
    tail: bytes | None = None,
    checksum: bytes | None = None,
) -> bytes:
    """One 512-byte header block. `tail` replaces bytes 345..512 (GNU sparse area, prefix)."""
    block = bytearray(BLOCK)
    block[0:100] = field(name, 100)
    block[100:108] = number(mode, 8)
    block[108:116] = number(uid, 8)
    block[116:124] = number(gid, 8)
    block[124:136] = number(size, 12)
    block[136:148] = number(mtime, 12)
    block[148:156] = b" " * 8
    block[156:157] = typeflag
    block[157:257] = field(linkname, 100)
    block[257:265] = MAGIC[fmt]
    if fmt != "v7":
        block[265:297] = field(uname, 32)
        block[297:329] = field(gname, 32)
        block[329:337] = number(devmajor, 8)
        block[337:345] = number(devminor, 8)
        block[345:500] = field(prefix, 155)
    if tail is not None:
        block[345 : 345 + len(tail)] = tail
    if checksum is None:
        total = sum(block)
        if signed_checksum:
            total -= 256 * sum(1 for byte in block if byte >= 128)
        checksum = b"%06o\x00 " % (total & 0o777777)
    block[148:156] = checksum
    return bytes(block)


def member(name: bytes, data: bytes = b"", **fields: object) -> bytes:
    """A header plus its padded data (`size` defaults to len(data))."""
    fields.setdefault("size", len(data))
    return header(name, **fields) + pad(data)  # type: ignore[arg-type]


def pax_record(key: bytes, value: bytes) -> bytes:
    """One "%d key=value\\n" record; the length counts its own digits."""
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def pax_data(records: Iterable[tuple[bytes, bytes]]) -> bytes:
    return b"".join(pax_record(key, value) for key, value in records)


def pax_header(
    records: Iterable[tuple[bytes, bytes]] | bytes,
    *,
    typeflag: bytes = b"x",
    name: bytes = b"PaxHeader",
) -> bytes:
    """An 'x' (or 'g') header with its data; raw bytes are used verbatim as the data."""
    data = records if isinstance(records, bytes) else pax_data(records)
    return member(name, data, typeflag=typeflag, mode=0o644, uid=0, gid=0)


def gnu_long(value: bytes, *, typeflag: bytes = b"L") -> bytes:
    """A GNU 'L' (long name) or 'K' (long link name) member; the value is NUL-terminated."""
    return member(b"././@LongLink", value + b"\x00", typeflag=typeflag, fmt="gnu", uid=0, gid=0)


def end(blocks: int = 2) -> bytes:
    return bytes(BLOCK * blocks)


def sparse_content(
    regions: Sequence[tuple[int, int]], real_size: int, seed: int = 1
) -> tuple[bytes, bytes]:
    """(expanded content, stored data) for a sparse map, with non-zero data in every region."""
    content = bytearray(real_size)
    stored = bytearray()
    for index, (offset, length) in enumerate(regions):
        data = bytes((seed + index + i) % 251 + 1 for i in range(length))
        content[offset : offset + length] = data
        stored += data
    return bytes(content), bytes(stored)


def _sparse_entries(regions: Sequence[tuple[int, int]]) -> bytes:
    return b"".join(number(offset, 12) + number(length, 12) for offset, length in regions)


def old_gnu_sparse(
    name: bytes, regions: Sequence[tuple[int, int]], real_size: int, stored: bytes, **fields: object
) -> bytes:
    """An old GNU 'S' member: 4 map entries in the header, 21 per extension block."""
    head, rest = list(regions[:4]), list(regions[4:])
    tail = bytearray(167)  # bytes 345..512
    area = _sparse_entries(head)
    tail[386 - 345 : 386 - 345 + len(area)] = area
    tail[482 - 345] = 1 if rest else 0
    tail[483 - 345 : 495 - 345] = number(real_size, 12)
    fields.setdefault("fmt", "gnu")
    out = header(name, typeflag=b"S", size=len(stored), tail=bytes(tail), **fields)  # type: ignore[arg-type]
    while rest:
        chunk, rest = rest[:21], rest[21:]
        block = bytearray(BLOCK)
        entries = _sparse_entries(chunk)
        block[: len(entries)] = entries
        block[504] = 1 if rest else 0
        out += bytes(block)
    return out + pad(stored)


def pax_sparse(
    version: str,
    name: bytes,
    regions: Sequence[tuple[int, int]],
    real_size: int,
    stored: bytes,
) -> bytes:
    """A member in GNU PAX sparse format 0.0, 0.1 or 1.0, as GNU tar --sparse-version writes."""
    records: list[tuple[bytes, bytes]]
    data = stored
    header_name = name
    if version == "0.0":
        records = [
            (b"GNU.sparse.size", b"%d" % real_size),
            (b"GNU.sparse.numblocks", b"%d" % len(regions)),
        ]
        for offset, length in regions:
            records += [
                (b"GNU.sparse.offset", b"%d" % offset),
                (b"GNU.sparse.numbytes", b"%d" % length),
            ]
    elif version == "0.1":
        flat = b",".join(b"%d,%d" % region for region in regions)
        records = [
            (b"GNU.sparse.size", b"%d" % real_size),
            (b"GNU.sparse.numblocks", b"%d" % len(regions)),
            (b"GNU.sparse.name", name),
            (b"GNU.sparse.map", flat),
        ]
        header_name = b"GNUSparseFile.0/" + name
    elif version == "1.0":
        records = [
            (b"GNU.sparse.major", b"1"),
            (b"GNU.sparse.minor", b"0"),
            (b"GNU.sparse.name", name),
            (b"GNU.sparse.realsize", b"%d" % real_size),
        ]
        text = b"%d\n" % len(regions) + b"".join(b"%d\n%d\n" % region for region in regions)
        data = pad(text) + stored
        header_name = b"GNUSparseFile.0/" + name
    else:
        raise ValueError(version)
    return pax_header(records) + member(header_name, data)
