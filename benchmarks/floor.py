"""The floor: the least work any tool must do to check a set of layer blobs, best libraries.

Reads each blob from its image tarball, sha256 of the stored bytes, decompresses (isal's igzip
for gzip, zstandard's stream reader for zstd: the fastest here, ../shared/PERFORMANCE.md), sha256
of the tar stream. Two threads take blobs largest first, so both cores are busy; nothing else is
done. Run by suite.py as a child process, like the ocidiff commands it is compared with:

    python benchmarks/floor.py BLOBS.json   # [[path, offset, size, "gzip"|"zstd"|"none"], ...]

Prints {"compressed": bytes, "uncompressed": bytes, "blobs": n} on stdout.
"""

from __future__ import annotations

import hashlib
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

PIECE = 1 << 20


class _Slice:
    """The stored bytes of one blob inside its tarball, hashed as the decompressor pulls them."""

    def __init__(self, path: str, offset: int, size: int) -> None:
        self._handle = open(path, "rb")  # noqa: SIM115  (closed in close())
        self._handle.seek(offset)
        self._left = size
        self.sha = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._handle.read(n)
        self._left -= len(data)
        self.sha.update(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._handle.close()


def _open_decompressed(kind: str, source: _Slice) -> Any:
    if kind == "gzip":
        from isal import igzip

        gzip_module: Any = igzip  # untyped
        return gzip_module.IGzipFile(fileobj=source, mode="rb")
    if kind == "zstd":
        import zstandard

        reader: Any = source  # file-like enough: read() is all zstandard calls
        return zstandard.ZstdDecompressor().stream_reader(reader, read_size=PIECE)
    return source


def check_blob(path: str, offset: int, size: int, kind: str) -> int:
    """sha256 of the stored bytes and of the decompressed stream; returns the stream's length."""
    source = _Slice(path, offset, size)
    tar_sha = hashlib.sha256()
    total = 0
    try:
        stream = _open_decompressed(kind, source)
        if kind == "none":  # the stored bytes are the tar: one hash serves both digests
            while source.read(PIECE):
                pass
            return size
        while data := stream.read(PIECE):
            tar_sha.update(data)
            total += len(data)
    finally:
        source.close()
    source.sha.hexdigest()
    tar_sha.hexdigest()
    return total


def main() -> None:
    with open(sys.argv[1]) as handle:
        blobs = [tuple(b) for b in json.load(handle)]
    blobs.sort(key=lambda b: -b[2])
    with ThreadPoolExecutor(2) as pool:
        sizes = list(pool.map(lambda b: check_blob(*b), blobs))
    json.dump(
        {"compressed": sum(b[2] for b in blobs), "uncompressed": sum(sizes), "blobs": len(blobs)},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
