"""Inputs that expand: decompression bombs, a huge zstd window, deep and large JSON, and tars
of very many entries. Each is made cheaply from a small repeated unit; none of the expanded
bytes are ever written or held.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator
from functools import cache

import numpy as np
import zstandard

GIB = 1 << 30

# RFC 8878 §3.1.1: frame magic; a frame header descriptor with no content size, no checksum and
# no dictionary; a window descriptor whose exponent gives 2**(10 + exponent) bytes.
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_BLOCK = 128 << 10  # Block_Maximum_Size


def _zstd_frame_header(window_log: int) -> bytes:
    return _ZSTD_MAGIC + bytes([0x00, (window_log - 10) << 3])


def _rle_block(size: int, *, last: bool, byte: int = 0) -> bytes:
    """An RLE block (type 1): `size` copies of one byte, stored in four bytes."""
    header = (size << 3) | (1 << 1) | int(last)
    return struct.pack("<I", header)[:3] + bytes([byte])


def zstd_zero_frame(size: int) -> bytes:
    """One zstd frame decompressing to `size` zero bytes, 4 bytes per 128 KiB (RLE blocks)."""
    full, rest = divmod(size, _ZSTD_BLOCK)
    blocks = [_rle_block(_ZSTD_BLOCK, last=False)] * full
    blocks.append(_rle_block(rest, last=True))
    return _zstd_frame_header(17) + b"".join(blocks)


def zstd_bomb(total: int, *, frame: int = GIB) -> bytes:
    """Identical frames of zeros, concatenated: `total` bytes out of about total/32768 in."""
    unit = zstd_zero_frame(frame)
    return unit * (total // frame)


def zstd_huge_window(window_log: int = 31) -> bytes:
    """A valid frame that asks for a 2**window_log byte window (zstd refuses above 2**27
    unless told otherwise) and holds one small RLE block."""
    return _zstd_frame_header(window_log) + _rle_block(1000, last=True)


@cache
def gzip_zero_member(size: int) -> bytes:
    """One gzip member of `size` zero bytes (about 1/1000 of it), compressed in 16 MiB steps."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    piece = bytes(16 << 20)
    out = []
    for _ in range(size // len(piece)):
        out.append(packer.compress(piece))
    out.append(packer.compress(bytes(size % len(piece))))
    out.append(packer.flush())
    return b"".join(out)


def gzip_bomb(total: int, *, member: int = 256 << 20) -> bytes:
    """Identical gzip members of zeros, concatenated (a valid multi-member gzip stream)."""
    return gzip_zero_member(member) * (total // member)


def deep_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def large_json(size: int) -> bytes:
    """A valid JSON object of about `size` bytes (one long string value)."""
    return b'{"schemaVersion":2,"manifests":[],"pad":"' + b"x" * size + b'"}'


# -- many entries ------------------------------------------------------------------------------

_NAME_DIGITS = 8


def _header_template(prefix: bytes) -> np.ndarray:
    block = bytearray(512)
    name = prefix + b"0" * _NAME_DIGITS
    block[: len(name)] = name
    block[100:108] = b"0000644\x00"
    block[108:116] = b"0000000\x00"
    block[116:124] = b"0000000\x00"
    block[124:136] = b"00000000000\x00"
    block[136:148] = b"00000000001\x00"
    block[148:156] = b" " * 8
    block[156:157] = b"0"
    block[257:265] = b"ustar\x0000"
    return np.frombuffer(bytes(block), dtype=np.uint8)


def iter_empty_file_headers(
    count: int, *, prefix: bytes = b"f/", batch: int = 1 << 16
) -> Iterator[bytes]:
    """Headers of `count` empty regular files named prefix + 8 decimal digits, in batches;
    numpy fills names and checksums so a million headers take well under a second."""
    template = _header_template(prefix)
    start = len(prefix)
    powers = 10 ** np.arange(_NAME_DIGITS - 1, -1, -1, dtype=np.int64)
    for first in range(0, count, batch):
        numbers = np.arange(first, min(first + batch, count), dtype=np.int64)
        blocks = np.tile(template, (len(numbers), 1))
        digits = (numbers[:, None] // powers[None, :]) % 10
        blocks[:, start : start + _NAME_DIGITS] = (digits + 0x30).astype(np.uint8)
        checksums = blocks.sum(axis=1, dtype=np.int64)
        for position in range(6):  # six octal digits, then NUL and space (ustar)
            shift = 3 * (5 - position)
            blocks[:, 148 + position] = ((checksums >> shift) & 7) + 0x30
        blocks[:, 154] = 0
        blocks[:, 155] = 0x20
        yield blocks.tobytes()


def many_entries_zstd(count: int, *, prefix: bytes = b"f/") -> bytes:
    """A zstd-compressed tar of `count` empty files plus the end marker."""
    return many_entries_layer(count, prefix=prefix)[0]


def many_entries_layer(count: int, *, prefix: bytes = b"f/") -> tuple[bytes, str]:
    """`many_entries_zstd` and the tar's diff_id, hashed on the way (the tar is never held)."""
    packer = zstandard.ZstdCompressor(level=1).compressobj()
    hasher = hashlib.sha256()
    out = []
    for chunk in [*iter_empty_file_headers(count, prefix=prefix), bytes(1024)]:
        hasher.update(chunk)
        out.append(packer.compress(chunk))
    out.append(packer.flush())
    return b"".join(out), "sha256:" + hasher.hexdigest()
