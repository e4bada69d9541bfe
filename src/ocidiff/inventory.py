"""The per-layer pump: blob -> digest -> decompress -> diff_id -> tar events -> file hashes.

Two push-style stages, so the orchestrator can run them on two threads joined by a queue:
`BlobStage` hashes and decompresses the stored bytes; `TarStage` hashes the tar stream, parses it
and hashes every file (blake3, plus content-defined chunks for large files). The result is a
`LayerInventory`, the compact value that `ls`, `verify` and `diff` share. No threads live here.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .compression import Compression, CompressionInfo, Sink, looks_like_tar, new_decoder, sniff
from .errors import CompressionError, LimitExceededError
from .source import normalize_member_path
from .tar.events import (
    ArchiveEnd,
    EntryKind,
    TarEntry,
    Trailer,
)
from .tar.parser import TarLimits
from .tar.sparse import HOLE_FILL
from .tar.walk import TarWalker

ENGINE_VERSION = "1"


class _NoFiles(Mapping[str, bytes]):
    """No captured file contents: immutable, shared and picklable (Dask ships inventories)."""

    def __getitem__(self, digest: str) -> bytes:
        raise KeyError(digest)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


NO_FILES: Mapping[str, bytes] = _NoFiles()
_SNIFF_BYTES = 512


class Depth(enum.Enum):
    """How much of a layer the pump computes."""

    DIGESTS = "digests"  # blob digest, size, compression, diff_id: what `verify` needs
    INVENTORY = "inventory"  # plus every entry and its content hash: what `ls` and `diff` need


@dataclass(frozen=True, slots=True)
class PumpOptions:
    depth: Depth = Depth.INVENTORY
    chunk_threshold: int = 1 << 20  # files at or above this size get content-defined chunks
    chunk_avg: int = 32 << 10
    max_uncompressed: int = 64 << 30
    max_ratio: int = 1000  # decompressed / compressed, checked once past `_RATIO_GRACE` bytes
    max_entries: int = 2_000_000  # members of one tar stream: a layer, or the outer archive
    max_zstd_window: int = 1 << 27
    max_pax_record: int = 1 << 20  # one PAX extended header's data, or one sparse map
    max_long_name: int = 1 << 16  # one GNU long name or long link name
    capture_max: int = 0  # keep the bytes of files up to this size (for content explainers)
    capture_budget: int = 64 << 20  # total captured bytes per layer

    @property
    def cache_key(self) -> str:
        # Everything that changes what an inventory holds; limits only decide whether one exists.
        return (
            f"e{ENGINE_VERSION}-c{self.chunk_threshold}-a{self.chunk_avg}"
            f"-k{self.capture_max}-b{self.capture_budget}"
        )


_RATIO_GRACE = 64 << 20
_RATIO_SLICE = 64 << 10  # compressed bytes decoded between two looks at the ratio


def tar_limits(options: PumpOptions) -> TarLimits:
    """The tar parser's limits for a stream read under `options` (layers and outer archives):
    a member declaring more bytes than may be decompressed is refused at its header."""
    return TarLimits(
        max_pax_record=options.max_pax_record,
        max_long_name=options.max_long_name,
        max_entries=options.max_entries,
        max_member_size=options.max_uncompressed,
    )


@dataclass(frozen=True, slots=True)
class ChunkRef:
    offset: int
    length: int
    digest: str  # blake3 hex


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One layer entry: every header field, normalised path, and a content digest."""

    path: str  # normalised: no './', no leading '/', no trailing '/'; the root is '.'
    name: str  # as stored in the tar
    kind: EntryKind
    mode: int  # permission bits only (mode & 0o7777)
    raw_mode: int
    uid: int
    gid: int
    uname: str
    gname: str
    size: int
    mtime_ns: int
    atime_ns: int | None
    ctime_ns: int | None
    linkname: str
    devmajor: int
    devminor: int
    xattrs: tuple[tuple[str, str], ...]  # name -> hex of the value
    encoding: str  # tar header encoding: v7, ustar, pax, gnu (+ '+longname')
    pax_keys: tuple[str, ...]  # PAX records present, xattrs excluded
    digest: str | None  # blake3 hex of the content (files; hardlinks carry their target's)
    chunks: tuple[ChunkRef, ...] | None
    offset: int  # header offset inside the uncompressed layer


@dataclass(frozen=True, slots=True)
class BlobFacts:
    digest: str
    size: int
    compression: CompressionInfo


@dataclass(frozen=True, slots=True)
class TarFacts:
    diff_id: str
    uncompressed_size: int
    entries: tuple[FileEntry, ...] | None  # None at Depth.DIGESTS
    trailer: Trailer | None
    trailing_data_bytes: int
    is_tar: bool
    captured: Mapping[str, bytes] = field(default_factory=lambda: NO_FILES)


@dataclass(frozen=True, slots=True)
class LayerInventory:
    """Everything ocidiff knows about one layer blob after one streaming pass."""

    digest: str
    size: int
    diff_id: str
    uncompressed_size: int
    compression: CompressionInfo
    entries: tuple[FileEntry, ...] | None
    trailer: Trailer | None
    trailing_data_bytes: int
    is_tar: bool
    cache_key: str
    # blake3 -> content of small files, if asked (a cached layer reads them on demand)
    captured: Mapping[str, bytes] = field(default_factory=lambda: NO_FILES)


def normalize_entry_path(name: str) -> str:
    """Layer entry paths normalise like archive members, except that the root is '.'."""
    return normalize_member_path(name) or "."


class BlobStage:
    """Stage one: sha256 of the stored bytes, compression sniffed from them, decompression."""

    def __init__(
        self,
        sink: Sink,
        options: PumpOptions,
        *,
        on_kind: Callable[[Compression], None] | None = None,
    ) -> None:
        self._sink = sink
        self._options = options
        self._on_kind = on_kind
        self._sha = hashlib.sha256()
        self.size = 0
        self.consumed = 0  # stored bytes handed to the decoder: what the ratio limit divides by
        self._pending = bytearray()
        self._decoder: Any = None
        self.kind = Compression.NONE

    def feed(self, data: bytes | memoryview) -> None:
        self._sha.update(data)
        self.size += len(data)
        if self._decoder is not None:
            self._decode(data)
            return
        self._pending += data
        if len(self._pending) >= _SNIFF_BYTES:
            self._start()

    def _decode(self, data: bytes | memoryview) -> None:
        if self.kind is Compression.NONE:
            self.consumed += len(data)
            self._decoder.feed(data, self._sink)
            return
        # Compressed input goes in slices, each counted before it is expanded: the ratio limit
        # then stops a bomb after about 64 MiB of output, not after all one read expands to.
        view = memoryview(data)
        for start in range(0, len(view), _RATIO_SLICE):
            piece = view[start : start + _RATIO_SLICE]
            offset = self.consumed
            self.consumed += len(piece)
            try:
                self._decoder.feed(piece, self._sink)
            except CompressionError as exc:  # damage lies in this slice of the stored blob
                raise exc.located(offset=offset) from None

    def _start(self) -> None:
        self.kind = sniff(bytes(self._pending[:16]))
        if self._on_kind is not None:
            self._on_kind(self.kind)
        self._decoder = new_decoder(self.kind, max_zstd_window=self._options.max_zstd_window)
        pending, self._pending = bytes(self._pending), bytearray()
        if pending:
            self._decode(pending)

    def finish(self) -> BlobFacts:
        if self._decoder is None:
            self._start()
        try:
            info: CompressionInfo = self._decoder.finish(self._sink)
        except CompressionError as exc:  # a stream cut short: it ends at the blob's end
            raise exc.located(offset=self.size) from None
        return BlobFacts("sha256:" + self._sha.hexdigest(), self.size, info)


class TarStage:
    """Stage two: sha256 of the uncompressed stream (diff_id), tar parse, per-file hashing."""

    def __init__(self, options: PumpOptions, *, compressed_size: Callable[[], int]) -> None:
        self._options = options
        self._compressed_size = compressed_size
        self._sha: Any = hashlib.sha256()
        self._size = 0
        # Sparse holes cost no input but are hashed like data: count them against the limits
        # too, or a 10 KiB layer claiming a 64 TiB sparse file would keep us hashing for hours.
        self._holes = 0
        self._deep = options.depth is Depth.INVENTORY
        # The tar's structure is checked at every depth: at DIGESTS by a walk from header to
        # header that builds nothing (verify), at INVENTORY by a walk that lists every member
        # to this stage (`begin`, `data`, `end`), which hashes every file.
        self._walker: TarWalker | None = TarWalker(
            tar_limits(options),
            on_hole=self._count_hole,
            visitor=self if self._deep else None,
        )
        self._entries: list[FileEntry] = []
        self._by_path: dict[str, str | None] = {}
        self._current: _FileHasher | None = None
        self._chunker: Any = None
        self._end: ArchiveEnd | None = None
        self._is_tar = True
        self._head: bytearray | None = bytearray()
        self._captured: dict[str, bytes] = {}
        # Values most entries repeat (modes, owner names, PAX keyword lists), kept once per layer:
        # about 200 of the ~850 bytes an entry costs otherwise.
        self._shared: dict[object, Any] = {}
        self._capture_left = options.capture_budget
        self._capture: list[bytes] | None = None

    def _count_hole(self, size: int) -> None:
        self._holes += size
        self._check_limits()

    def reuse_blob_digest(self) -> None:
        """The blob is stored uncompressed, so its digest is the diff_id: hash once, not twice."""
        self._sha = None

    def feed(self, data: bytes | memoryview) -> None:
        if self._sha is not None:
            self._sha.update(data)
        self._size += len(data)
        self._check_limits()
        if self._walker is None:
            return
        if self._head is not None:
            # Decide tar or not from a whole first block: in-toto statements, artifacts and
            # other opaque blobs are hashed only.
            self._head += data
            if len(self._head) < 512:
                return
            head, self._head = bytes(self._head), None
            if not looks_like_tar(head):
                self._is_tar = False
                self._walker = None
                return
            data = head
        self._walker.feed(data)

    def _check_limits(self) -> None:
        options = self._options
        expanded = self._size + self._holes
        what = "layer content (sparse holes included)" if self._holes else "layer"
        if expanded > options.max_uncompressed:
            raise LimitExceededError(
                f"{what} decompresses to more than {options.max_uncompressed} bytes",
                limit="max-uncompressed",
                option="--max-uncompressed",
            )
        if expanded > _RATIO_GRACE:
            compressed = max(self._compressed_size(), 1)
            if expanded > compressed * options.max_ratio:
                raise LimitExceededError(
                    f"{what} expands more than {options.max_ratio}x its stored size "
                    "(a decompression bomb?)",
                    limit="max-ratio",
                    option="--max-ratio",
                )

    # -- the walker's visitor: one member at a time -----------------------------------------

    def begin(self, entry: TarEntry) -> None:
        self._capture = None
        if entry.kind is EntryKind.FILE and self._deep:
            chunked = entry.size >= self._options.chunk_threshold
            self._current = _FileHasher(self._shared_chunker() if chunked else None)
            if 0 < entry.size <= min(self._options.capture_max, self._capture_left):
                self._capture = []
                self._capture_left -= entry.size
        else:
            self._current = None

    def data(self, piece: memoryview | bytes) -> None:
        if type(piece) is memoryview and piece.obj is HOLE_FILL:
            self._count_hole(len(piece))
        if self._current is not None:
            self._current.update(piece)
        if self._capture is not None:
            self._capture.append(bytes(piece))

    def _shared_chunker(self) -> Any:
        if self._chunker is None:
            from .chunking import ChunkDigester, ChunkParams

            avg = self._options.chunk_avg
            self._chunker = ChunkDigester(ChunkParams(avg // 4, avg, avg * 4))
        return self._chunker

    def end(self, entry: TarEntry) -> None:
        path = normalize_entry_path(entry.name)
        if path == entry.name:
            path = entry.name  # one string for both fields: most names need no normalising
        digest: str | None = None
        chunks: tuple[ChunkRef, ...] | None = None
        if self._current is not None:
            digest, chunks = self._current.finish()
            self._current = None
            if self._capture is not None:
                self._captured[digest] = b"".join(self._capture)
                self._capture = None
        elif entry.kind is EntryKind.HARDLINK:
            digest = self._by_path.get(normalize_entry_path(entry.linkname))
        if self._deep:
            self._by_path[path] = digest
            self._entries.append(_file_entry(entry, path, digest, chunks, self._shared))

    def finish(self, blob_digest: str) -> TarFacts:
        entries: tuple[FileEntry, ...] | None = None
        if self._walker is not None and self._head is not None:
            head, self._head = bytes(self._head), None
            if head.strip(b"\0"):  # a short blob that is not an (empty) tar
                self._is_tar = False
                self._walker = None
            else:
                self._walker.feed(head)
        if self._walker is not None:
            self._end = self._walker.finish()
        if self._deep:
            entries = tuple(self._entries)
        end = self._end
        return TarFacts(
            diff_id=blob_digest if self._sha is None else "sha256:" + self._sha.hexdigest(),
            uncompressed_size=self._size,
            entries=entries if self._is_tar else None,
            trailer=end.trailer if end else None,
            trailing_data_bytes=end.trailing_data_bytes if end else 0,
            is_tar=self._is_tar,
            captured=dict(sorted(self._captured.items())),
        )


class _FileHasher:
    """blake3 of one file's content, plus content-defined chunks when the file is large.

    The chunk digester is shared by every file of a layer and reset between files: a fresh one
    allocates its block buffers anew, which costs about a millisecond per file."""

    def __init__(self, chunker: Any | None) -> None:
        import blake3

        self._hasher: Any = blake3.blake3()
        self._chunker = chunker
        self._chunks: list[ChunkRef] = []
        if chunker is not None:
            chunker.reset()

    def update(self, data: bytes | memoryview) -> None:
        self._hasher.update(data)
        if self._chunker is not None:
            self._chunks.extend(_refs(self._chunker.feed(data)))

    def finish(self) -> tuple[str, tuple[ChunkRef, ...] | None]:
        digest: str = self._hasher.hexdigest()
        if self._chunker is None:
            return digest, None
        self._chunks.extend(_refs(self._chunker.finish()))
        return digest, tuple(self._chunks)


def _refs(chunks: Any) -> list[ChunkRef]:
    return [ChunkRef(c.offset, c.length, c.digest.hex()) for c in chunks]


_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")


def _file_entry(
    entry: TarEntry,
    path: str,
    digest: str | None,
    chunks: tuple[ChunkRef, ...] | None,
    shared: dict[object, Any],
) -> FileEntry:
    keep = shared.setdefault
    encoding = entry.format.value + ("+longname" if entry.long_name else "")
    pax_keys = tuple(sorted({k for k, _ in entry.pax if not k.startswith(_XATTR_PREFIXES)}))
    return FileEntry(
        path=path,
        name=entry.name,
        kind=entry.kind,
        mode=keep(entry.mode & 0o7777, entry.mode & 0o7777),
        raw_mode=keep(entry.mode, entry.mode),
        uid=entry.uid,
        gid=entry.gid,
        uname=keep(entry.uname, entry.uname),
        gname=keep(entry.gname, entry.gname),
        size=entry.size,
        mtime_ns=entry.mtime_ns,
        atime_ns=entry.atime_ns,
        ctime_ns=entry.ctime_ns,
        linkname=entry.linkname,
        devmajor=entry.devmajor,
        devminor=entry.devminor,
        xattrs=tuple((k, v.hex()) for k, v in entry.xattrs),
        encoding=encoding,
        pax_keys=keep(pax_keys, pax_keys),
        digest=digest,
        chunks=chunks,
        offset=entry.header_offset,
    )


def combine(blob: BlobFacts, tar: TarFacts, options: PumpOptions) -> LayerInventory:
    return LayerInventory(
        digest=blob.digest,
        size=blob.size,
        diff_id=tar.diff_id,
        uncompressed_size=tar.uncompressed_size,
        compression=blob.compression,
        entries=tar.entries,
        trailer=tar.trailer,
        trailing_data_bytes=tar.trailing_data_bytes,
        is_tar=tar.is_tar,
        cache_key=options.cache_key,
        captured=tar.captured,
    )


def new_stages(
    options: PumpOptions, sink_to_tar: Callable[[TarStage], Sink]
) -> tuple[BlobStage, TarStage]:
    """Both stages wired for one blob; `sink_to_tar` decides how pieces travel between them."""
    holder: list[BlobStage] = []
    tar = TarStage(options, compressed_size=lambda: holder[0].consumed)

    def on_kind(kind: Compression) -> None:
        if kind is Compression.NONE:
            tar.reuse_blob_digest()

    blob = BlobStage(sink_to_tar(tar), options, on_kind=on_kind)
    holder.append(blob)
    return blob, tar


def pump_sequential(read: Callable[[int], bytes], options: PumpOptions) -> LayerInventory:
    """Run both stages on the calling thread (small blobs; the orchestrator pipelines big ones)."""
    blob, tar = new_stages(options, lambda stage: stage.feed)
    while data := read(1 << 20):
        blob.feed(data)
    blob_facts = blob.finish()
    return combine(blob_facts, tar.finish(blob_facts.digest), options)
