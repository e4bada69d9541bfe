"""A content-addressed cache of per-layer inventories, so a layer is read once per machine.

Strategy:
- An entry is keyed by the layer blob's digest plus `PumpOptions.cache_key` (engine version,
  chunking and capture parameters), so anything that would change the inventory changes the key.
- Only inventories computed at `Depth.INVENTORY` are stored; `verify` never reads the cache,
  because its job is to read the bytes.
- A file is `MAGIC`, the captured small files (zstd frames of ~16 KiB, read back on demand),
  the document (zstd-compressed JSON) and a footer with the blake3 of both parts; see
  `_write_entry`. Anything that fails a checksum, the decode or the key check is treated as
  absent and removed: a cache entry is never trusted on its name alone.
- Writes go to a unique temporary file in the same directory, then `os.replace`, so concurrent
  processes see a whole entry or none. Readers touch an entry's mtime; pruning drops the least
  recently used entries first.
"""

from __future__ import annotations

import contextlib
import os
import struct
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import blake3
import orjson
import zstandard

from .compression import Compression, CompressionInfo, GzipHeader, ZstdFrameInfo
from .errors import UsageError
from .inventory import ChunkRef, FileEntry, LayerInventory
from .tar.events import EntryKind, Trailer

MAGIC = b"OCIDIFF-LAYER-CACHE 2\n"
DEFAULT_MAX_BYTES = 4 << 30
_SUFFIX = ".inv"
_GROUP_BYTES = 16 << 10  # captured files are compressed in frames of about this much
_FOOTER = struct.Struct("<Q32s32s")  # document length, its blake3, the captured files' blake3


def default_cache_dir() -> Path:
    """`$OCIDIFF_CACHE_DIR`, else `$XDG_CACHE_HOME/ocidiff`, else `~/.cache/ocidiff`."""
    explicit = os.environ.get("OCIDIFF_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "ocidiff"


@dataclass(frozen=True, slots=True)
class CacheStats:
    root: str
    entries: int
    total_bytes: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class LayerCache:
    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES

    # -- lookup and store ---------------------------------------------------------------------

    def get(self, digest: str, cache_key: str) -> LayerInventory | None:
        try:
            # A digest an archive merely claims may be malformed: that is a miss, not an error.
            path = self._path(digest, cache_key)
            handle = path.open("rb")
        except (OSError, UsageError):
            return None
        try:
            inventory = _read_entry(handle, digest, cache_key)
        except OSError:
            inventory = None
        if inventory is None:
            handle.close()
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        if not inventory.captured:
            handle.close()
        with contextlib.suppress(OSError):
            os.utime(path)
        return inventory

    def put(self, inventory: LayerInventory) -> None:
        """Store an inventory; a cache that cannot be written is skipped, never fatal."""
        if inventory.entries is None:
            return
        path = self._path(inventory.digest, inventory.cache_key)
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                _write_entry(inventory, handle)
            os.replace(temporary, path)
        except (OSError, TypeError, ValueError):
            # TypeError: orjson refuses names that are not UTF-8; such a layer is not cached.
            with contextlib.suppress(OSError):
                temporary.unlink()

    # -- housekeeping -------------------------------------------------------------------------

    def stats(self) -> CacheStats:
        files = list(self._entries())
        return CacheStats(
            str(self.root), len(files), sum(size for _, size, _ in files), self.max_bytes
        )

    def prune(self, max_bytes: int | None = None) -> tuple[int, int]:
        """Remove least recently used entries until the total fits; returns (files, bytes) freed."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        files = sorted(self._entries(), key=lambda item: (item[2], item[0].name))
        total = sum(size for _, size, _ in files)
        removed = freed = 0
        for path, size, _ in files:
            if total <= limit:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
                freed += size
            total -= size
        return removed, freed

    def _entries(self) -> Iterator[tuple[Path, int, float]]:
        if not self.root.is_dir():
            return
        for shard in sorted(self.root.iterdir()):
            if not shard.is_dir():
                continue
            for path in sorted(shard.iterdir()):
                if path.suffix != _SUFFIX:
                    continue
                with contextlib.suppress(OSError):
                    info = path.stat()
                    yield path, info.st_size, info.st_mtime

    def _path(self, digest: str, cache_key: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        if not (algorithm.isalnum() and hexdigest.isalnum() and len(hexdigest) >= 8):
            raise UsageError(f"not a cacheable digest: {digest!r}")
        if not all(c.isalnum() or c in "-_." for c in cache_key):
            raise UsageError(f"not a cache key: {cache_key!r}")
        return self.root / hexdigest[:2] / f"{algorithm}-{hexdigest}.{cache_key}{_SUFFIX}"


def open_cache(directory: str | None, enabled: bool = True) -> LayerCache | None:
    """The cache a command should use: none when disabled, else `directory` or the default."""
    if not enabled:
        return None
    return LayerCache(Path(directory) if directory else default_cache_dir())


# -- the file format ----------------------------------------------------------------------------
#
# MAGIC, then the captured files in zstd frames of about 16 KiB each, then the document
# (zstd-compressed JSON: the facts, the entries, and where each captured file lies), then a
# footer: the document's length, its blake3, and the blake3 of everything between MAGIC and the
# document.
#
# Captured files are written a frame at a time and read back one at a time, when an explainer
# asks for one: a warm diff holds the few it compares, not a layer's worth (up to 64 MiB).


def _write_entry(inventory: LayerInventory, handle: BinaryIO) -> None:
    handle.write(MAGIC)
    area = blake3.blake3()
    compressor = zstandard.ZstdCompressor(level=3)
    index: list[list[Any]] = []  # [digest, frame offset, frame length, offset in frame, length]
    frame_at = 0
    group: list[bytes] = []
    grouped = 0

    def close_group() -> None:
        nonlocal frame_at, grouped
        if not group:
            return
        frame = compressor.compress(b"".join(group))
        handle.write(frame)
        area.update(frame)
        for record in index[len(index) - len(group) :]:
            record[2] = len(frame)
        frame_at += len(frame)
        group.clear()
        grouped = 0

    for digest, data in sorted(inventory.captured.items()):
        index.append([digest, frame_at, 0, grouped, len(data)])
        group.append(data)
        grouped += len(data)
        if grouped >= _GROUP_BYTES:
            close_group()
    close_group()
    document = {
        "digest": inventory.digest,
        "cache_key": inventory.cache_key,
        "size": inventory.size,
        "diff_id": inventory.diff_id,
        "uncompressed_size": inventory.uncompressed_size,
        "compression": _compression_record(inventory.compression),
        "trailer": inventory.trailer.value if inventory.trailer else None,
        "trailing_data_bytes": inventory.trailing_data_bytes,
        "is_tar": inventory.is_tar,
        "entries": [_entry_record(e) for e in inventory.entries or ()],
        "captured": index,
    }
    meta = compressor.compress(orjson.dumps(document))
    handle.write(meta)
    handle.write(_FOOTER.pack(len(meta), blake3.blake3(meta).digest(), area.digest()))


def _read_entry(handle: BinaryIO, digest: str, cache_key: str) -> LayerInventory | None:
    """The stored inventory, or None for anything damaged, foreign or for another key. Every
    byte is checked against the footer's hashes before anything is trusted; the captured files
    stay in the file, served through `handle`, which the caller must keep open."""
    size = os.fstat(handle.fileno()).st_size
    if size < len(MAGIC) + _FOOTER.size or handle.read(len(MAGIC)) != MAGIC:
        return None
    handle.seek(size - _FOOTER.size)
    meta_length, meta_hash, area_hash = _FOOTER.unpack(handle.read(_FOOTER.size))
    area_end = size - _FOOTER.size - meta_length
    if area_end < len(MAGIC):
        return None
    handle.seek(area_end)
    meta = handle.read(meta_length)
    if blake3.blake3(meta).digest() != meta_hash or _area_hash(handle, area_end) != area_hash:
        return None
    try:
        document = orjson.loads(zstandard.ZstdDecompressor().decompress(meta))
        if document["digest"] != digest or document["cache_key"] != cache_key:
            return None
        index: dict[str, tuple[int, int, int, int]] = {}
        for name, offset, length, inner, size in document["captured"]:
            start, stop = len(MAGIC) + int(offset), len(MAGIC) + int(offset) + int(length)
            if not len(MAGIC) <= start <= stop <= area_end or int(inner) < 0 or int(size) < 0:
                return None
            index[str(name)] = (start, int(length), int(inner), int(size))
        return _inventory(document, CachedFiles(handle, index))
    except (zstandard.ZstdError, KeyError, TypeError, ValueError, IndexError):
        return None


def _area_hash(handle: BinaryIO, end: int) -> bytes:
    hasher = blake3.blake3()
    handle.seek(len(MAGIC))
    left = end - len(MAGIC)
    while left > 0:
        piece = handle.read(min(left, 1 << 20))
        if not piece:
            break
        hasher.update(piece)
        left -= len(piece)
    return hasher.digest()


class CachedFiles(Mapping[str, bytes]):
    """Captured files of a cached layer, blake3 -> bytes, each read from the entry on demand.

    Holds the entry open, so pruning or replacing the file meanwhile changes nothing here."""

    def __init__(self, handle: BinaryIO, index: dict[str, tuple[int, int, int, int]]) -> None:
        self._handle = handle
        self._index = index  # digest -> frame offset, frame length, offset in frame, length

    def __getitem__(self, digest: str) -> bytes:
        offset, length, inner, size = self._index[digest]
        frame = os.pread(self._handle.fileno(), length, offset)
        try:
            data: bytes = zstandard.ZstdDecompressor().decompress(frame)[inner : inner + size]
        except zstandard.ZstdError:
            raise KeyError(digest) from None
        if blake3.blake3(data).hexdigest() != digest:  # checked at open; this is belt and braces
            raise KeyError(digest)
        return data

    def __contains__(self, digest: object) -> bool:
        return digest in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def _inventory(document: dict[str, Any], captured: Mapping[str, bytes]) -> LayerInventory:
    trailer = document["trailer"]
    shared: dict[object, Any] = {}
    return LayerInventory(
        digest=str(document["digest"]),
        size=int(document["size"]),
        diff_id=str(document["diff_id"]),
        uncompressed_size=int(document["uncompressed_size"]),
        compression=_compression(document["compression"]),
        entries=tuple(_entry(record, shared) for record in document["entries"]),
        trailer=Trailer(trailer) if trailer is not None else None,
        trailing_data_bytes=int(document["trailing_data_bytes"]),
        is_tar=bool(document["is_tar"]),
        cache_key=str(document["cache_key"]),
        captured=captured,
    )


# Entries are stored as positional lists: a layer can hold a million of them.
def _entry_record(entry: FileEntry) -> list[Any]:
    return [
        entry.path,
        entry.name,
        entry.kind.value,
        entry.mode,
        entry.raw_mode,
        entry.uid,
        entry.gid,
        entry.uname,
        entry.gname,
        entry.size,
        entry.mtime_ns,
        entry.atime_ns,
        entry.ctime_ns,
        entry.linkname,
        entry.devmajor,
        entry.devminor,
        [list(pair) for pair in entry.xattrs],
        entry.encoding,
        list(entry.pax_keys),
        entry.digest,
        None if entry.chunks is None else [[c.offset, c.length, c.digest] for c in entry.chunks],
        entry.offset,
    ]


_KINDS = {kind.value: kind for kind in EntryKind}


def _entry(record: list[Any], shared: dict[object, Any]) -> FileEntry:
    """One entry from its record; `shared` keeps one copy of values entries repeat."""
    if len(record) != len(FileEntry.__slots__):
        raise ValueError("entry record of the wrong length")
    fields = record
    fields[2] = _KINDS[fields[2]]
    xattrs = fields[16]
    fields[16] = tuple((str(name), str(value)) for name, value in xattrs) if xattrs else ()
    pax_keys = tuple(fields[18])
    fields[18] = shared.setdefault(pax_keys, pax_keys)
    if fields[1] == fields[0]:
        fields[1] = fields[0]  # name and path: one string when equal, as the pump keeps them
    for index in (3, 4, 7, 8, 17):  # mode, raw mode, uname, gname, encoding
        fields[index] = shared.setdefault(fields[index], fields[index])
    chunks = fields[20]
    if chunks is not None:
        fields[20] = tuple(ChunkRef(o, n, d) for o, n, d in chunks)
    return FileEntry(*fields)


def _compression_record(info: CompressionInfo) -> dict[str, Any]:
    gzip = info.gzip_header
    frame = info.zstd_frame
    return {
        "kind": info.kind.value,
        "members": info.members,
        "gzip": None if gzip is None else [gzip.flags, gzip.mtime, gzip.xfl, gzip.os, gzip.name],
        "zstd": None
        if frame is None
        else [
            frame.window_size,
            frame.content_size,
            frame.has_checksum,
            frame.dictionary_id,
            frame.single_segment,
        ],
        "skippable_frames": info.skippable_frames,
        "trailing_zero_bytes": info.trailing_zero_bytes,
    }


def _compression(record: dict[str, Any]) -> CompressionInfo:
    gzip = record["gzip"]
    frame = record["zstd"]
    return CompressionInfo(
        kind=Compression(record["kind"]),
        members=int(record["members"]),
        gzip_header=None if gzip is None else GzipHeader(*gzip),
        zstd_frame=None if frame is None else ZstdFrameInfo(*frame),
        skippable_frames=int(record["skippable_frames"]),
        trailing_zero_bytes=int(record["trailing_zero_bytes"]),
    )
