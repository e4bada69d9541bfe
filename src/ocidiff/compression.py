"""Compression of blobs: sniffing by magic bytes and push-style decoders with bounded output.

Decoders take compressed bytes and hand decompressed pieces (at most `OUTPUT_PIECE` bytes each) to a
sink, so a small bomb never becomes a large allocation; the sink enforces size limits. The media
type is never trusted: the bytes decide. This module reads no files and computes no digests.
"""

from __future__ import annotations

import bz2
import enum
import lzma
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import CompressionError, LimitExceededError

OUTPUT_PIECE = 1 << 20
DEFAULT_MAX_ZSTD_WINDOW = 1 << 27  # zstd's own default limit without --long

Sink = Callable[[bytes], None]


class Compression(enum.Enum):
    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"
    BZIP2 = "bzip2"
    XZ = "xz"


_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"


def sniff(head: bytes) -> Compression:
    """Compression named by the first bytes of a stream (NONE when no known magic matches)."""
    if head.startswith(_GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(_ZSTD_MAGIC) or _is_zstd_skippable(head):
        return Compression.ZSTD
    if head.startswith(_XZ_MAGIC):
        return Compression.XZ
    if head.startswith(_BZIP2_MAGIC) and len(head) >= 4 and head[3:4].isdigit():
        return Compression.BZIP2
    return Compression.NONE


def _is_zstd_skippable(head: bytes) -> bool:
    return len(head) >= 4 and head[1:4] == b"\x2a\x4d\x18" and (head[0] & 0xF0) == 0x50


def looks_like_tar(head: bytes) -> bool:
    """A POSIX/GNU tar header at the start (magic at offset 257), or an empty (all-zero) tar."""
    if len(head) >= 263 and head[257:262] == b"ustar":
        return True
    return len(head) >= 512 and not any(head[:512])


def looks_like_json(head: bytes) -> bool:
    stripped = head.lstrip(b" \t\r\n")
    return stripped[:1] in (b"{", b"[")


@dataclass(frozen=True, slots=True)
class GzipHeader:
    """The fixed fields of a gzip member header (RFC 1952 §2.3)."""

    flags: int
    mtime: int
    xfl: int
    os: int
    name: str | None


@dataclass(frozen=True, slots=True)
class ZstdFrameInfo:
    """Parameters of a zstd frame header (RFC 8878 §3.1.1.1)."""

    window_size: int
    content_size: int | None
    has_checksum: bool
    dictionary_id: int
    single_segment: bool


@dataclass(frozen=True, slots=True)
class CompressionInfo:
    """What a decoder saw: the kind, header fields and framing of the compressed stream."""

    kind: Compression
    members: int  # gzip members or zstd frames (skippable frames counted separately)
    gzip_header: GzipHeader | None
    zstd_frame: ZstdFrameInfo | None
    skippable_frames: int
    trailing_zero_bytes: int


class Decoder(Protocol):
    def feed(self, data: bytes | memoryview, sink: Sink) -> None: ...
    def finish(self, sink: Sink) -> CompressionInfo: ...


def new_decoder(kind: Compression, *, max_zstd_window: int = DEFAULT_MAX_ZSTD_WINDOW) -> Decoder:
    """A decoder for `kind`; NONE passes bytes through unchanged."""
    if kind is Compression.NONE:
        return _Passthrough()
    if kind is Compression.GZIP:
        return _GzipDecoder()
    if kind is Compression.ZSTD:
        return _ZstdDecoder(max_zstd_window)
    if kind is Compression.BZIP2:
        return _StdlibDecoder(kind, bz2.BZ2Decompressor)
    if kind is Compression.XZ:
        return _StdlibDecoder(kind, lzma.LZMADecompressor)
    raise ValueError(kind)


class _Passthrough:
    def feed(self, data: bytes | memoryview, sink: Sink) -> None:
        if len(data):
            sink(bytes(data) if isinstance(data, memoryview) else data)

    def finish(self, sink: Sink) -> CompressionInfo:
        return CompressionInfo(Compression.NONE, 0, None, None, 0, 0)


def _zlib_module() -> Any:
    """isal's zlib-compatible inflater (about 2x zlib here) or the standard zlib as fallback."""
    try:
        from isal import isal_zlib

        return isal_zlib
    except ImportError:  # pragma: no cover - exercised only where isal is missing
        return zlib


def parse_gzip_header(data: bytes) -> GzipHeader | None:
    """Parse a gzip member header from its first bytes; None when too short to tell."""
    if len(data) < 10 or data[:2] != _GZIP_MAGIC:
        return None
    flags, mtime, xfl, os_byte = data[3], struct.unpack_from("<I", data, 4)[0], data[8], data[9]
    name: str | None = None
    pos = 10
    if flags & 0x04:  # FEXTRA
        if len(data) < 12:
            return GzipHeader(flags, mtime, xfl, os_byte, None)
        pos += 2 + struct.unpack_from("<H", data, 10)[0]
    if flags & 0x08:  # FNAME
        end = data.find(b"\0", pos)
        if end >= 0:
            name = data[pos:end].decode("latin-1")
    return GzipHeader(flags, mtime, xfl, os_byte, name)


class _GzipDecoder:
    """Multi-member gzip (eStargz, pigz, concatenations); trailing zero padding is tolerated."""

    def __init__(self) -> None:
        self._zlib = _zlib_module()
        self._inflater: Any = self._zlib.decompressobj(31)
        self._members = 1
        self._head = b""
        self._header: GzipHeader | None = None
        self._trailing_zeros = 0
        self._in_padding = False

    def feed(self, data: bytes | memoryview, sink: Sink) -> None:
        chunk: bytes | memoryview = data  # the inflater takes views: no copy of the input
        if self._header is None and len(self._head) < 512:
            self._head += bytes(chunk[: 512 - len(self._head)])
            self._header = parse_gzip_header(self._head) if len(self._head) >= 512 else None
        while chunk:
            if self._in_padding:
                self._absorb_padding(bytes(chunk))
                return
            try:
                out = self._inflater.decompress(chunk, OUTPUT_PIECE)
                while out:
                    sink(out)
                    tail = self._inflater.unconsumed_tail
                    out = self._inflater.decompress(tail, OUTPUT_PIECE) if tail else b""
            except self._zlib.error as exc:
                raise CompressionError(f"corrupt gzip data: {exc}") from None
            chunk = self._inflater.unused_data if self._inflater.eof else b""
            if chunk:
                if chunk[:1] == b"\0":
                    self._in_padding = True
                    continue
                self._members += 1
                self._inflater = self._zlib.decompressobj(31)

    def _absorb_padding(self, chunk: bytes) -> None:
        if chunk.count(0) != len(chunk):
            raise CompressionError("data after the end of the gzip stream")
        self._trailing_zeros += len(chunk)

    def finish(self, sink: Sink) -> CompressionInfo:
        if self._header is None:
            self._header = parse_gzip_header(self._head)
        if not self._inflater.eof and not self._in_padding:
            raise CompressionError("truncated gzip stream")
        return CompressionInfo(
            Compression.GZIP, self._members, self._header, None, 0, self._trailing_zeros
        )


class _StdlibDecoder:
    """bzip2 and xz through the standard library (docker load accepts both)."""

    def __init__(self, kind: Compression, factory: Callable[[], Any]) -> None:
        self._kind = kind
        self._factory = factory
        self._obj: Any = factory()
        self._members = 1

    def feed(self, data: bytes | memoryview, sink: Sink) -> None:
        chunk = bytes(data)
        while True:
            try:
                out = self._obj.decompress(chunk, OUTPUT_PIECE)
                while out:
                    sink(out)
                    out = b"" if self._obj.eof else self._obj.decompress(b"", OUTPUT_PIECE)
            except (OSError, EOFError, lzma.LZMAError) as exc:
                raise CompressionError(f"corrupt {self._kind.value} data: {exc}") from None
            if not (self._obj.eof and self._obj.unused_data):
                return
            chunk = self._obj.unused_data
            self._members += 1
            self._obj = self._factory()

    def finish(self, sink: Sink) -> CompressionInfo:
        if not self._obj.eof:
            raise CompressionError(f"truncated {self._kind.value} stream")
        return CompressionInfo(self._kind, self._members, None, None, 0, 0)


class _ZstdDecoder:
    """zstd through zstandard's stream writer (bounded output pieces, every frame, skippable frames
    passed over), with a frame walker alongside to detect truncation and report frame parameters,
    which zstandard does not expose."""

    def __init__(self, max_window: int) -> None:
        import zstandard

        self._zstd: Any = zstandard
        self._walker = ZstdFrameWalker()
        self._max_window = max_window
        dctx = zstandard.ZstdDecompressor(max_window_size=max_window)
        # The target must not refer back to this decoder: zstandard's C writer does not take
        # part in garbage collection, so such a cycle would keep the writer (and its window
        # buffer, megabytes) alive for ever.
        self._target = _SinkWriter()
        target: Any = self._target
        self._writer: Any = dctx.stream_writer(target, write_size=OUTPUT_PIECE, closefd=False)

    def feed(self, data: bytes | memoryview, sink: Sink) -> None:
        self._walker.feed(data)
        self._target.sink = sink
        view = memoryview(data).cast("B")
        try:
            # In slices, so that once the sink has failed (the target keeps the error: see
            # _SinkWriter) little more is decompressed for nothing, even from a bomb.
            for start in range(0, len(view), _ZSTD_SLICE):
                self._writer.write(view[start : start + _ZSTD_SLICE])
                self._target.raise_failure()
        except self._zstd.ZstdError as exc:
            text = str(exc)
            if "too much memory" in text or "Window" in text or "window" in text:
                raise LimitExceededError(
                    "zstd frame needs a larger window than allowed",
                    limit="max-zstd-window",
                    option="--max-zstd-window",
                ) from None
            raise CompressionError(f"corrupt zstd data: {text}") from None
        finally:
            self._target.sink = None  # the sink leads back here: no cycle through the writer

    def finish(self, sink: Sink) -> CompressionInfo:
        self._target.sink = sink
        try:
            self._writer.flush()
            self._target.raise_failure()
        except self._zstd.ZstdError as exc:
            raise CompressionError(f"corrupt zstd data: {exc}") from None
        finally:
            self._target.sink = None
        walker = self._walker
        if not walker.complete:
            raise CompressionError("truncated zstd stream")
        return CompressionInfo(
            Compression.ZSTD, walker.frames, None, walker.first_frame, walker.skippable, 0
        )


_ZSTD_SLICE = 64 << 10  # at most 2 GiB of RLE blocks: a fraction of a second to waste


class _SinkWriter:
    """The file-like target zstandard writes decompressed bytes into (duck-typed: zstandard
    only calls write and flush); `sink` is set before each call into the writer.

    An exception must not travel through zstandard's writer, which then leaks its output
    buffer (a megabyte per failure, measured with zstandard 0.25): the first error is kept,
    later output is dropped, and the decoder raises the error after the writer returns.
    """

    def __init__(self) -> None:
        self.sink: Sink | None = None
        self._failed = False
        self._failure: BaseException | None = None

    def write(self, data: bytes) -> int:
        if not self._failed:
            assert self.sink is not None
            try:
                self.sink(bytes(data))
            except BaseException as exc:  # re-raised by raise_failure, outside the writer
                self._failed = True
                self._failure = exc
        return len(data)

    def raise_failure(self) -> None:
        # Handed over, not kept: its traceback leads back to the writer, and a cycle through
        # the writer is never collected.
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def flush(self) -> None:
        return None


_HEADER_WINDOW = 32


class ZstdFrameWalker:
    """Follows zstd framing (RFC 8878 §3.1) over the compressed bytes without decompressing.

    It reads frame and block headers only and skips block contents arithmetically, so it costs a
    few Python operations per 128 KiB block. It knows whether the stream ends on a frame boundary.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._skip = 0  # content bytes still to pass over
        self._state = "frame"  # "frame" | "block" | "checksum"
        self._checksum = False
        self.frames = 0
        self.skippable = 0
        self.first_frame: ZstdFrameInfo | None = None

    @property
    def complete(self) -> bool:
        return self._state == "frame" and self._skip == 0 and not self._buf

    def feed(self, data: bytes | memoryview) -> None:
        view = memoryview(data).cast("B")
        pos, end = 0, len(view)
        while True:
            if self._skip:
                take = min(self._skip, end - pos)
                self._skip -= take
                pos += take
                if self._skip:
                    return
            if pos >= end:
                return
            # Headers are at most 18 bytes: top the buffer up a little, never copy block content.
            take = min(_HEADER_WINDOW - len(self._buf), end - pos)
            self._buf += view[pos : pos + take]
            pos += take
            if not self._step():
                continue  # consumed everything available into the buffer; loop ends at pos==end
            # Bytes buffered past the header belong to this feed: give them back.
            pos -= len(self._buf)
            self._buf.clear()

    def _step(self) -> bool:
        """Consume one header from the buffer; False when more bytes are needed."""
        buf = self._buf
        if self._state == "frame":
            if len(buf) < 4:
                return False
            magic = bytes(buf[:4])
            if magic[1:4] == b"\x2a\x4d\x18" and (magic[0] & 0xF0) == 0x50:
                if len(buf) < 8:
                    return False
                self._skip = struct.unpack_from("<I", buf, 4)[0]
                del buf[:8]
                self.skippable += 1
                return True
            if magic != _ZSTD_MAGIC:
                raise CompressionError("invalid zstd frame magic")
            header_len = self._frame_header_length()
            if header_len is None or len(buf) < header_len:
                return False
            info = self._parse_frame_header(bytes(buf[:header_len]))
            if self.first_frame is None:
                self.first_frame = info
            self.frames += 1
            self._checksum = info.has_checksum
            del buf[:header_len]
            self._state = "block"
            return True
        if self._state == "block":
            if len(buf) < 3:
                return False
            header = buf[0] | (buf[1] << 8) | (buf[2] << 16)
            del buf[:3]
            last, block_type, size = header & 1, (header >> 1) & 3, header >> 3
            if block_type == 3:
                raise CompressionError("reserved zstd block type")
            self._skip = 1 if block_type == 1 else size
            if last:
                self._state = "checksum" if self._checksum else "frame"
            return True
        # checksum
        self._skip = 4
        self._state = "frame"
        return True

    def _frame_header_length(self) -> int | None:
        if len(self._buf) < 5:
            return None
        fhd = self._buf[4]
        fcs_flag, single, dict_flag = fhd >> 6, (fhd >> 5) & 1, fhd & 3
        fcs_size = (1 if single else 0) if fcs_flag == 0 else (2, 4, 8)[fcs_flag - 1]
        return 5 + (0 if single else 1) + (0, 1, 2, 4)[dict_flag] + fcs_size

    @staticmethod
    def _parse_frame_header(data: bytes) -> ZstdFrameInfo:
        fhd = data[4]
        fcs_flag, single, checksum, dict_flag = fhd >> 6, (fhd >> 5) & 1, (fhd >> 2) & 1, fhd & 3
        pos = 5
        window = 0
        if not single:
            wd = data[pos]
            pos += 1
            window_log = 10 + (wd >> 3)
            base = 1 << window_log
            window = base + (base >> 3) * (wd & 7)
        dict_size = (0, 1, 2, 4)[dict_flag]
        dict_id = int.from_bytes(data[pos : pos + dict_size], "little") if dict_size else 0
        pos += dict_size
        fcs_size = (1 if single else 0) if fcs_flag == 0 else (2, 4, 8)[fcs_flag - 1]
        content: int | None = None
        if fcs_size:
            content = int.from_bytes(data[pos : pos + fcs_size], "little")
            if fcs_size == 2:
                content += 256
        if single:
            window = content or 0
        return ZstdFrameInfo(window, content, bool(checksum), dict_id, bool(single))
