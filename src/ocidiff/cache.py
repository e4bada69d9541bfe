"""A content-addressed cache of per-layer inventories, so a layer is read once per machine.

Strategy:
- An entry is keyed by the layer blob's digest plus `PumpOptions.cache_key` (engine version,
  chunking and capture parameters), so anything that would change the inventory changes the key.
- Only inventories computed at `Depth.INVENTORY` are stored; `verify` never reads the cache,
  because its job is to read the bytes.
- A file is `MAGIC`, the blake3 of the payload, then the payload (zstd-compressed JSON plus the
  captured small-file bytes). Anything that fails the checksum, the decode or the key check is
  treated as absent and removed: a cache entry is never trusted on its name alone.
- Writes go to a unique temporary file in the same directory, then `os.replace`, so concurrent
  processes see a whole entry or none. Readers touch an entry's mtime; pruning drops the least
  recently used entries first.
"""

from __future__ import annotations

import contextlib
import os
import struct
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3
import orjson
import zstandard

from .compression import Compression, CompressionInfo, GzipHeader, ZstdFrameInfo
from .errors import UsageError
from .inventory import ChunkRef, FileEntry, LayerInventory
from .tar.events import EntryKind, Trailer

MAGIC = b"OCIDIFF-LAYER-CACHE 1\n"
DEFAULT_MAX_BYTES = 4 << 30
_SUFFIX = ".inv"
_LENGTH = struct.Struct("<Q")


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
            raw = self._path(digest, cache_key).read_bytes()
        except (OSError, UsageError):
            return None
        path = self._path(digest, cache_key)
        inventory = _decode(raw, digest, cache_key)
        if inventory is None:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
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
            temporary.write_bytes(_encode(inventory))
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


def _encode(inventory: LayerInventory) -> bytes:
    captured = inventory.captured
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
        "captured": [[digest, len(data)] for digest, data in captured],
    }
    head = orjson.dumps(document)
    body = _LENGTH.pack(len(head)) + head + b"".join(data for _, data in captured)
    payload = zstandard.ZstdCompressor(level=3).compress(body)
    return MAGIC + blake3.blake3(payload).digest() + payload


def _decode(raw: bytes, digest: str, cache_key: str) -> LayerInventory | None:
    """The stored inventory, or None for anything damaged, foreign or for another key."""
    start = len(MAGIC) + 32
    if len(raw) < start or not raw.startswith(MAGIC):
        return None
    payload = raw[start:]
    if blake3.blake3(payload).digest() != raw[len(MAGIC) : start]:
        return None
    try:
        body = zstandard.ZstdDecompressor().decompress(payload)
        (length,) = _LENGTH.unpack_from(body)
        document = orjson.loads(body[_LENGTH.size : _LENGTH.size + length])
        if document["digest"] != digest or document["cache_key"] != cache_key:
            return None
        return _inventory(document, body[_LENGTH.size + length :])
    except (zstandard.ZstdError, struct.error, KeyError, TypeError, ValueError, IndexError):
        return None


def _inventory(document: dict[str, Any], blobs: bytes) -> LayerInventory | None:
    captured: list[tuple[str, bytes]] = []
    offset = 0
    for digest, length in document["captured"]:
        captured.append((str(digest), blobs[offset : offset + int(length)]))
        offset += int(length)
    if offset != len(blobs):
        return None
    trailer = document["trailer"]
    return LayerInventory(
        digest=str(document["digest"]),
        size=int(document["size"]),
        diff_id=str(document["diff_id"]),
        uncompressed_size=int(document["uncompressed_size"]),
        compression=_compression(document["compression"]),
        entries=tuple(_entry(record) for record in document["entries"]),
        trailer=Trailer(trailer) if trailer is not None else None,
        trailing_data_bytes=int(document["trailing_data_bytes"]),
        is_tar=bool(document["is_tar"]),
        cache_key=str(document["cache_key"]),
        captured=tuple(captured),
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


def _entry(record: list[Any]) -> FileEntry:
    if len(record) != len(FileEntry.__slots__):
        raise ValueError("entry record of the wrong length")
    fields = list(record)
    fields[2] = EntryKind(fields[2])
    fields[16] = tuple((str(name), str(value)) for name, value in fields[16])
    fields[18] = tuple(fields[18])
    chunks = fields[20]
    fields[20] = None if chunks is None else tuple(ChunkRef(o, n, d) for o, n, d in chunks)
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
