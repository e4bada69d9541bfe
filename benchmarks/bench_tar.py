"""Throughput of the sans-IO tar parser on generated archives: members/s and MB/s (10^6 B/s).

Run: python benchmarks/bench_tar.py [--members N] [--megabytes M] (not part of the unit suite).
Feeds the parser 1 MiB chunks of an in-memory archive (and, separately, reads it through
`iter_events`) and drains the events; the consumer only counts bytes, so the figures are the
parser's own cost. Best of three runs.
"""

from __future__ import annotations

import argparse
import io
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ocidiff.tar import (  # the path above makes the benchmark runnable as is
    NEED_DATA,
    EntryData,
    EntryEnd,
    EntryHeader,
    TarParser,
    iter_events,
)

CHUNK = 1 << 20


def make_many_members(count: int) -> bytes:
    """`count` small files (0-700 bytes) in a PAX-free ustar archive, like a typical layer."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for index in range(count):
            info = tarfile.TarInfo(f"usr/lib/pkg{index // 1000}/file{index}.py")
            data = b"x" * (index % 701)
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def make_pax_members(count: int) -> bytes:
    """`count` small files, each with a PAX header (fractional mtime, an xattr), as BuildKit and
    `tar --format=posix` write them."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for index in range(count):
            info = tarfile.TarInfo(f"usr/lib/pkg{index // 1000}/file{index}.py")
            data = b"x" * (index % 701)
            info.size = len(data)
            info.mtime = 1_700_000_000.123456789
            info.pax_headers = {"SCHILY.xattr.user.tag": "v"}
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def make_large_files(megabytes: int, files: int = 4) -> bytes:
    """`files` members totalling `megabytes` MiB of data."""
    out = io.BytesIO()
    size = megabytes * (1 << 20) // files
    payload = bytes(range(256)) * (size // 256)
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for index in range(files):
            info = tarfile.TarInfo(f"blob{index}")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return out.getvalue()


def parse_chunks(archive: bytes) -> tuple[int, int]:
    """Feed 1 MiB views of `archive`; return (members, content bytes)."""
    parser = TarParser()
    view = memoryview(archive)
    position = 0
    members = content = 0
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            if position < len(view):
                parser.feed(view[position : position + CHUNK])
                position += CHUNK
            else:
                parser.end_of_input()
        elif type(event) is EntryHeader:
            members += 1
        elif type(event) is EntryData:
            content += len(event.data)
        elif type(event) is not EntryEnd:
            return members, content


def parse_stream(archive: bytes) -> tuple[int, int]:
    """Same through `iter_events` over a BytesIO (adds the readinto copy)."""
    members = content = 0
    for event in iter_events(io.BytesIO(archive)):
        if type(event) is EntryHeader:
            members += 1
        elif type(event) is EntryData:
            content += len(event.data)
    return members, content


def report(label: str, archive: bytes, run: Callable[[bytes], tuple[int, int]]) -> None:
    best = float("inf")
    result = (0, 0)
    for _ in range(3):
        started = time.perf_counter()
        result = run(archive)
        best = min(best, time.perf_counter() - started)
    members, _content_bytes = result
    print(
        f"{label:<28} {members / best:>12,.0f} members/s {len(archive) / best / 1e6:>10,.0f} MB/s"
        f"   ({members} members, {len(archive) / 1e6:,.1f} MB in {best * 1000:.0f} ms)"
    )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--members", type=int, default=200_000)
    options.add_argument("--megabytes", type=int, default=1024)
    args = options.parse_args()
    small = make_many_members(args.members)
    report("many small: feed 1 MiB", small, parse_chunks)
    report("many small: iter_events", small, parse_stream)
    report("pax small: feed 1 MiB", make_pax_members(args.members // 4), parse_chunks)
    large = make_large_files(args.megabytes)
    report("large files: feed 1 MiB", large, parse_chunks)
    report("large files: iter_events", large, parse_stream)


if __name__ == "__main__":
    main()
