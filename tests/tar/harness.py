"""Test harness: drive the parser with chosen chunkings, digest content, read the references.

`parse` feeds bytes in a given chunking and materialises the events; `ContentDigest` hashes
content so that any chunking gives the same value and sparse holes cost nothing;
`read_with_tarfile` and `list_with_gnu_tar` give the reference views; `corpus_archives` finds
every archive the conformance tests run over.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ocidiff.errors import OcidiffError
from ocidiff.tar import (
    HOLE_FILL,
    NEED_DATA,
    ArchiveEnd,
    EntryData,
    EntryEnd,
    EntryHeader,
    TarEntry,
    TarLimits,
    TarParser,
)

REPO = Path(__file__).resolve().parents[2]
TAR_RS = REPO.parent / "shared" / "corpora" / "tar-rs"
FIXTURES_REAL = REPO.parent / "shared" / "fixtures-real"
REPO_FIXTURES = REPO / "fixtures" / "real"
GNU_TAR = shutil.which("tar")

_DIGEST_BLOCK = 1 << 16
_ZERO_BLOCK = bytes(_DIGEST_BLOCK)


class ContentDigest:
    """A digest of content that does not depend on how it was split, and that skips holes.

    Content is cut into 64 KiB blocks at fixed logical offsets; runs of all-zero blocks are
    counted, other blocks hashed. Views of the parser's HOLE_FILL are known zeros and are
    counted without being scanned, so a 12 GB sparse file digests in milliseconds.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._pending = bytearray()
        self._zero_blocks = 0
        self.length = 0

    def update(self, data: bytes | memoryview) -> None:
        if isinstance(data, memoryview) and data.obj is HOLE_FILL:
            self.update_zeros(len(data))
            return
        self.length += len(data)
        view = memoryview(data)
        if self._pending:
            take = min(len(view), _DIGEST_BLOCK - len(self._pending))
            self._pending += view[:take]
            view = view[take:]
            if len(self._pending) < _DIGEST_BLOCK:
                return
            self._block(bytes(self._pending))
            self._pending.clear()
        whole = len(view) - len(view) % _DIGEST_BLOCK
        for start in range(0, whole, _DIGEST_BLOCK):
            self._block(view[start : start + _DIGEST_BLOCK])
        self._pending += view[whole:]

    def update_zeros(self, count: int) -> None:
        if self._pending:
            take = min(count, _DIGEST_BLOCK - len(self._pending))
            self.update(bytes(take))
            count -= take
        self.length += count - count % _DIGEST_BLOCK
        self._zero_blocks += count // _DIGEST_BLOCK
        if count % _DIGEST_BLOCK:
            self.update(bytes(count % _DIGEST_BLOCK))

    def _block(self, block: bytes | memoryview) -> None:
        if block == _ZERO_BLOCK:
            self._zero_blocks += 1
            return
        self._flush_zeros()
        self._hash.update(block)

    def _flush_zeros(self) -> None:
        if self._zero_blocks:
            self._hash.update(b"<zero blocks %d>" % self._zero_blocks)
            self._zero_blocks = 0

    def hexdigest(self) -> str:
        final = self._hash.copy()
        if self._zero_blocks:
            final.update(b"<zero blocks %d>" % self._zero_blocks)
        final.update(b"<tail>" + bytes(self._pending) + b"<length %d>" % self.length)
        return final.hexdigest()


@dataclass(frozen=True)
class Parsed:
    """Everything the parser said about one archive."""

    members: tuple[tuple[TarEntry, str, int], ...]  # entry, content digest, content length
    end: ArchiveEnd


def drain(parser: TarParser, pieces: Iterable[bytes | memoryview]) -> Parsed:
    """Feed `pieces` then end of input, checking the event grammar as it goes."""
    members: list[tuple[TarEntry, str, int]] = []
    current: TarEntry | None = None
    digest = ContentDigest()
    source = iter(pieces)
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            piece = next(source, None)
            if piece is None:
                parser.end_of_input()
            else:
                parser.feed(piece)
            continue
        if isinstance(event, EntryHeader):
            assert current is None, "header inside a member"
            current, digest = event.entry, ContentDigest()
        elif isinstance(event, EntryData):
            assert current is not None, "data outside a member"
            assert len(event.data) > 0
            digest.update(event.data)
        elif isinstance(event, EntryEnd):
            assert current is not None and event.entry is current
            assert digest.length == current.size, (current.name, digest.length, current.size)
            members.append((current, digest.hexdigest(), digest.length))
            current = None
        else:
            assert isinstance(event, ArchiveEnd)
            assert current is None, "archive ended inside a member"
            assert parser.next_event() is event, "ArchiveEnd must repeat"
            return Parsed(tuple(members), event)


def chunks_of(data: bytes, sizes: Iterable[int]) -> Iterator[bytes]:
    """`data` cut into consecutive pieces of the given sizes (the last may be shorter)."""
    position = 0
    for size in sizes:
        if position >= len(data):
            return
        yield data[position : position + size]
        position += size


def reused_buffer_chunks(data: bytes, sizes: Iterable[int]) -> Iterator[memoryview]:
    """Like `chunks_of`, but every piece lives in one bytearray overwritten between pieces,
    as `iter_events` does with readinto: the parser must not keep stale views."""
    buffer = bytearray(1 << 16)
    position = 0
    for size in sizes:
        if position >= len(data):
            return
        piece = data[position : position + size]
        if len(piece) > len(buffer):
            buffer = bytearray(len(piece))
        buffer[: len(piece)] = piece
        yield memoryview(buffer)[: len(piece)]
        buffer[: len(piece)] = b"\xee" * len(piece)  # poison after use
        position += size


RAGGED = (1, 7, 511, 512, 513, 3, 4093, 100_000)
BYTEWISE_HEAD = 128 << 10


def bytewise_head(data: bytes) -> Iterator[bytes]:
    """One byte at a time for the first 128 KiB (all of most archives), then 64 KiB pieces.

    Feeding multi-megabyte archives byte by byte costs about 2 s per MB in this harness; the
    head covers every parser state many times over at a bounded cost.
    """
    yield from chunks_of(data[:BYTEWISE_HEAD], itertools.repeat(1))
    yield from chunks_of(data[BYTEWISE_HEAD:], itertools.repeat(64 << 10))


CHUNKINGS: dict[str, Callable[[bytes], Iterable[bytes | memoryview]]] = {
    "whole": lambda data: [data],
    "1MiB": lambda data: chunks_of(data, itertools.repeat(1 << 20)),
    "bytewise": bytewise_head,
    "ragged-reused": lambda data: reused_buffer_chunks(data, itertools.cycle(RAGGED)),
}


def parse(data: bytes, chunking: str = "whole", limits: TarLimits = TarLimits()) -> Parsed:
    """Parse `data` fed in the named chunking."""
    return drain(TarParser(limits), CHUNKINGS[chunking](data))


def parse_or_error(data: bytes, chunking: str = "whole") -> Parsed | OcidiffError:
    try:
        return parse(data, chunking)
    except OcidiffError as error:
        return error


# -- references ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TarfileMember:
    name: str
    type: bytes
    size: int
    mode: int
    uid: int
    gid: int
    uname: str
    gname: str
    mtime: float
    linkname: str
    pax_headers: dict[str, str]
    sparse: tuple[tuple[int, int], ...] | None
    digest: str | None  # content digest for regular files


_HUGE = 64 << 20


def _tarfile_digest(archive: tarfile.TarFile, info: tarfile.TarInfo) -> str:
    digest = ContentDigest()
    handle = archive.extractfile(info)
    assert handle is not None
    if info.sparse is not None and info.size > _HUGE:
        # tarfile would build gigabytes of zeros; walk its own sparse map instead.
        position = 0
        for offset, length in info.sparse:
            if not length:
                continue
            digest.update_zeros(offset - position)
            handle.seek(offset)
            digest.update(handle.read(length))
            position = offset + length
        digest.update_zeros(info.size - position)
        return digest.hexdigest()
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def read_with_tarfile(data: bytes) -> list[TarfileMember]:
    """CPython tarfile's view (raises whatever tarfile raises)."""
    members = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for info in archive:
            members.append(
                TarfileMember(
                    name=info.name,
                    type=info.type,
                    size=info.size,
                    mode=info.mode,
                    uid=info.uid,
                    gid=info.gid,
                    uname=info.uname,
                    gname=info.gname,
                    mtime=info.mtime,
                    linkname=info.linkname,
                    pax_headers=dict(info.pax_headers),
                    sparse=tuple(info.sparse) if info.sparse is not None else None,
                    digest=_tarfile_digest(archive, info) if info.isreg() else None,
                )
            )
    return members


@dataclass(frozen=True)
class GnuRow:
    """One line of `tar --list --verbose --full-time --numeric-owner`."""

    perms: str
    uid: int
    gid: int
    size: str  # bytes, or "major,minor" for devices
    time: str
    name: str
    link: str | None


_ROW = re.compile(
    r"^(?P<perms>\S{10}) (?P<uid>\d+)/(?P<gid>\d+) +(?P<size>\d+|\d+,\d+) "
    r"(?P<time>-?\d+-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) (?P<rest>.*)$"
)


def _gnu_unescape(text: str) -> str:
    """Undo GNU tar's default 'escape' quoting (backslash sequences, octal bytes)."""
    if "\\" not in text:
        return text
    raw = text.encode("utf-8", "surrogateescape")
    out = bytearray()
    index = 0
    simple = {
        ord("\\"): 0x5C,
        ord("n"): 0x0A,
        ord("t"): 0x09,
        ord("r"): 0x0D,
        ord("f"): 0x0C,
        ord("v"): 0x0B,
        ord("a"): 0x07,
        ord("b"): 0x08,
        ord("?"): 0x3F,
        ord(" "): 0x20,
    }
    while index < len(raw):
        byte = raw[index]
        if byte == 0x5C and index + 1 < len(raw):
            following = raw[index + 1]
            if following in simple:
                out.append(simple[following])
                index += 2
                continue
            octal = raw[index + 1 : index + 4]
            if len(octal) == 3 and all(0x30 <= b <= 0x37 for b in octal):
                out.append(int(octal, 8))
                index += 4
                continue
        out.append(byte)
        index += 1
    return out.decode("utf-8", "surrogateescape")


def list_with_gnu_tar(data: bytes) -> tuple[int, list[GnuRow], str]:
    """(exit status, rows, stderr) of GNU tar's verbose listing of `data`, in UTC."""
    assert GNU_TAR is not None
    environment = dict(os.environ, TZ="UTC", LC_ALL="C")
    done = subprocess.run(
        [GNU_TAR, "--list", "--verbose", "--full-time", "--numeric-owner", "-f", "-"],
        input=data,
        capture_output=True,
        env=environment,
        check=False,
        timeout=60,
    )
    rows = []
    time_width = 0  # GNU tar pads the time column to the widest time printed so far
    for line in done.stdout.decode("utf-8", "surrogateescape").splitlines():
        match = _ROW.match(line)
        assert match, f"unexpected GNU tar line {line!r}"
        time_width = max(time_width, len(match["time"]))
        rest = match["rest"][time_width - len(match["time"]) :]
        link = None
        if match["perms"][0] == "l" and " -> " in rest:
            rest, link = rest.split(" -> ", 1)
        elif match["perms"][0] == "h" and " link to " in rest:
            rest, link = rest.split(" link to ", 1)
        rows.append(
            GnuRow(
                perms=match["perms"],
                uid=int(match["uid"]),
                gid=int(match["gid"]),
                size=match["size"],
                time=match["time"],
                name=_gnu_unescape(rest),
                link=None if link is None else _gnu_unescape(link),
            )
        )
    return done.returncode, rows, done.stderr.decode("utf-8", "replace")


# -- the archives ------------------------------------------------------------------------------

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"


def _decompress(data: bytes) -> bytes | None:
    """The tar inside a (possibly gzip- or zstd-compressed) blob, or None if it is no tar."""
    if data.startswith(_GZIP):
        data = gzip.decompress(data)
    elif data.startswith(_ZSTD):
        import zstandard

        data = (
            zstandard.ZstdDecompressor()
            .stream_reader(io.BytesIO(data), read_across_frames=True)
            .read()
        )
    if len(data) >= 512 and (data[257:262] == b"ustar" or not any(data[:512])):
        return data
    return None


def _nested_layers(label: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """Every member of an outer image archive that holds a tar (a layer)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for info in archive:
            if not info.isreg():
                continue
            handle = archive.extractfile(info)
            assert handle is not None
            data = handle.read()
            layer = _decompress(data) if data else (b"" if info.name.endswith(".tar") else None)
            if layer is not None:  # an empty *.tar member is an empty layer (docker save <1.10)
                yield f"{label}::{info.name}", layer


def case_id(archive_id: str) -> str:
    """A pytest-friendly id: '::' (outer archive :: member) would clash with node ids."""
    return archive_id.replace("::", ">")


def corpus_archives() -> list[tuple[str, bytes]]:
    """(id, bytes) for every archive the conformance tests cover; absent folders are skipped.

    The tar-rs corpus (every file), the real samples (outer archives and the layers inside them),
    and the repository's own real-tool fixtures.
    """
    found: list[tuple[str, bytes]] = []
    if TAR_RS.is_dir():
        for path in sorted(TAR_RS.iterdir()):
            if path.suffix == ".tar":
                found.append((f"tar-rs/{path.name}", path.read_bytes()))
    for root, label in ((FIXTURES_REAL, "fixtures-real"), (REPO_FIXTURES, "repo-fixtures")):
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.tar*")):
            if not path.name.endswith((".tar", ".tar.gz")):
                continue
            name = f"{label}/{path.relative_to(root)}"
            data = path.read_bytes()
            if path.name.endswith(".gz"):
                data = gzip.decompress(data)
            found.append((name, data))
            found.extend(_nested_layers(name, data))
    return found
