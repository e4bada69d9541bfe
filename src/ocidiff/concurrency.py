"""The one place with threads: a worker pool over layers and a two-stage pipe inside one layer.

zlib/isal, zstandard, hashlib and blake3 release the GIL on large buffers, so threads use both
cores for the heavy stages (measured ~2x here) without the pickling costs of processes. Everything
passed between threads is immutable bytes or a frozen value.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_END = object()
_QUEUE_DEPTH = 8  # ~8 MiB of 1 MiB pieces in flight between the stages


class _Cancelled(Exception):
    """Raised inside the producer when the consumer has failed."""


def worker_count() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def run_two_stage(
    produce: Callable[[Callable[[bytes], None]], T], consume: Callable[[bytes], None]
) -> T:
    """Run `produce(put)` on a helper thread and `consume(piece)` on this one, joined by a queue.

    Either side's exception propagates to the caller; the other side stops promptly.
    """
    pieces: queue.Queue[object] = queue.Queue(_QUEUE_DEPTH)
    outcome: list[T] = []
    failure: list[BaseException] = []
    cancelled = threading.Event()

    def put(piece: bytes) -> None:
        while True:
            if cancelled.is_set():
                raise _Cancelled
            try:
                pieces.put(piece, timeout=0.1)
                return
            except queue.Full:
                continue

    def producer() -> None:
        try:
            outcome.append(produce(put))
        except _Cancelled:
            pass
        except BaseException as exc:  # handed to the consumer thread, re-raised there
            failure.append(exc)
        finally:
            while True:
                try:
                    pieces.put(_END, timeout=0.1)
                    break
                except queue.Full:
                    if cancelled.is_set():
                        break

    thread = threading.Thread(target=producer, name="ocidiff-decompress", daemon=True)
    thread.start()
    try:
        while True:
            piece = pieces.get()
            if piece is _END:
                break
            consume(piece)  # type: ignore[arg-type]
    except BaseException:
        cancelled.set()
        _drain(pieces, thread)
        raise
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def _drain(pieces: queue.Queue[object], thread: threading.Thread) -> None:
    while thread.is_alive():
        try:
            pieces.get(timeout=0.1)
        except queue.Empty:
            continue
    thread.join()


def map_parallel(
    function: Callable[[T], R], items: Sequence[T] | Iterable[T], workers: int | None = None
) -> list[R]:
    """`[function(x) for x in items]` on a thread pool; the first exception cancels the rest."""
    items = list(items)
    count = min(workers or worker_count(), len(items))
    if count <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="ocidiff-layer") as pool:
        futures: list[Future[R]] = [pool.submit(function, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                for other in futures:
                    other.cancel()
                raise future.exception()  # type: ignore[misc]
        return [future.result() for future in futures]
