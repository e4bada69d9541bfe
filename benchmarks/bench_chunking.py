"""Throughput of ocidiff.chunking on ~256 MiB of mixed in-memory data (not part of the unit suite).

Prints MB/s (10^6 bytes per second, median of --repeat runs) for find_cut_points and ChunkDigester,
on one thread and on two threads (one buffer each), and for pyfastcdc as the speed reference when it
happens to be importable. Run: python benchmarks/bench_chunking.py [--mib 256] [--avg 32768].
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

import blake3
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ocidiff.chunking import (  # the path above makes the benchmark runnable as is
    ChunkDigester,
    ChunkParams,
    StreamingChunker,
    find_cut_points,
)

MIB = 1024 * 1024
FEED = MIB  # the per-layer pump hands out ~1 MiB pieces


def make_mixed(size: int, seed: int) -> bytes:
    """Random, text-like and zero-padded (ELF-like) segments of 1 MiB, interleaved."""
    rng = np.random.default_rng(seed)
    out = np.empty(size, dtype=np.uint8)
    letters = np.frombuffer(b"etaoinshrdlu cmwfgypbvk\n_()=.,:", dtype=np.uint8)
    weights = np.linspace(3.0, 0.5, letters.size)
    for n, begin in enumerate(range(0, size, MIB)):
        seg = out[begin : begin + MIB]
        kind = n % 3
        if kind == 0:
            seg[:] = rng.integers(0, 256, seg.size, dtype=np.uint8)
        elif kind == 1:
            seg[:] = rng.choice(letters, seg.size, p=weights / weights.sum())
        else:
            # Short records padded with zeros to 64-byte alignment, like ELF tables and sections.
            seg[:] = 0
            pos = 0
            while pos < seg.size:
                length = int(rng.integers(1, 48))
                seg[pos : pos + length] = rng.integers(1, 256, min(length, seg.size - pos))
                pos += 64 * int(rng.integers(1, 4))
    return out.tobytes()


def cut_whole(buf: bytes, params: ChunkParams) -> None:
    find_cut_points(buf, params)


def cut_streamed(buf: bytes, params: ChunkParams) -> None:
    chunker = StreamingChunker(params)
    view = memoryview(buf)
    for begin in range(0, len(view), FEED):
        chunker.feed(view[begin : begin + FEED])
    chunker.finish()


def digest_streamed(buf: bytes, params: ChunkParams) -> None:
    digester = ChunkDigester(params)
    view = memoryview(buf)
    for begin in range(0, len(view), FEED):
        digester.feed(view[begin : begin + FEED])
    digester.finish()


def pyfastcdc_runners() -> list[tuple[str, Callable[[bytes, ChunkParams], None]]]:
    """pyfastcdc (Cython FastCDC 2020, NC1) as the speed reference, when importable."""
    try:
        module = import_module("pyfastcdc")
    except ImportError:
        return []

    def cut(buf: bytes, params: ChunkParams) -> None:
        cdc = module.FastCDC(
            avg_size=params.avg_size, min_size=params.min_size, max_size=params.max_size
        )
        for _ in cdc.cut_buf(buf):
            pass

    def cut_and_digest(buf: bytes, params: ChunkParams) -> None:
        cdc = module.FastCDC(
            avg_size=params.avg_size, min_size=params.min_size, max_size=params.max_size
        )
        for chunk in cdc.cut_buf(buf):
            blake3.blake3(chunk.data).digest()

    return [
        ("pyfastcdc cut_buf (reference)", cut),
        ("pyfastcdc cut_buf + blake3 (reference)", cut_and_digest),
    ]


def timed(
    work: Callable[[bytes, ChunkParams], None],
    bufs: list[bytes],
    params: ChunkParams,
    threads: bool,
) -> float:
    start = time.perf_counter()
    if threads:
        pool = [threading.Thread(target=work, args=(b, params)) for b in bufs]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    else:
        for b in bufs:
            work(b, params)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256, help="total input size in MiB")
    parser.add_argument("--avg", type=int, default=32 * 1024, help="average chunk size")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    params = ChunkParams(min_size=args.avg // 4, avg_size=args.avg, max_size=args.avg * 4)
    half = args.mib * MIB // 2
    bufs = [make_mixed(half, seed) for seed in (1, 2)]
    total = sum(len(b) for b in bufs)
    cuts = find_cut_points(bufs[0], params)
    print(
        f"input {total / 1e6:.0f} MB in 2 buffers; {params.cache_key()}; "
        f"mean chunk {len(bufs[0]) / len(cuts):.0f} B over {len(cuts)} chunks (buffer 1)"
    )
    cases: list[tuple[str, Callable[[bytes, ChunkParams], None]]] = [
        ("find_cut_points (whole buffer)", cut_whole),
        ("StreamingChunker (1 MiB feeds)", cut_streamed),
        ("ChunkDigester (1 MiB feeds, blake3)", digest_streamed),
    ]
    references = pyfastcdc_runners()
    if not references:
        print("pyfastcdc not importable: no reference figure")
    cases += references
    for name, work in cases:
        for threads in (False, True):
            runs = [timed(work, bufs, params, threads) for _ in range(args.repeat)]
            speed = total / statistics.median(runs) / 1e6
            label = "2 threads" if threads else "1 thread "
            print(f"{name:40s} {label} {speed:8.0f} MB/s")


if __name__ == "__main__":
    main()
