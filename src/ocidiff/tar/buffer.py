"""The parser's input queue: fed chunks held as byte views and consumed from the front.

It owns the copy rules: member data leaves as views of fed memory; bytes are copied only to
assemble a unit that spans chunks, to stop referencing caller memory, or to gather tiny fed
pieces; nothing is ever compacted, so each byte is copied a bounded number of times. No parsing.
"""

from __future__ import annotations

from collections import deque

# Pieces smaller than this are copied into a private tail instead of being queued as views, so
# a caller feeding a few bytes at a time costs neither a view object per byte nor a long deque.
_SMALL_PIECE = 512
_TAIL_LIMIT = 64 << 10


class ChunkQueue:
    """A FIFO of byte views with exact-size and up-to-size takes."""

    __slots__ = ("_buffered", "_chunks", "_consumed", "_tail", "_unchecked")

    def __init__(self) -> None:
        self._chunks: deque[memoryview] = deque()
        self._tail = bytearray()  # small pieces fed after the last chunk; never handed out
        self._buffered = 0  # chunks and tail
        self._consumed = 0
        self._unchecked = 0  # newest chunks not yet checked for caller-owned mutable memory

    @property
    def buffered(self) -> int:
        """Bytes fed and not yet consumed."""
        return self._buffered

    @property
    def consumed(self) -> int:
        """Bytes consumed (taken, discarded or skipped) since the start."""
        return self._consumed

    def append(self, data: bytes | bytearray | memoryview) -> None:
        """Queue `data`: a view of it, or a copy of it when it is tiny."""
        view = memoryview(data)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        size = view.nbytes
        if not size:
            return
        self._buffered += size
        if size < _SMALL_PIECE:
            self._tail += view
            if len(self._tail) >= _TAIL_LIMIT:
                self._seal()
            return
        self._seal()  # keep the order of the input
        self._chunks.append(view)
        self._unchecked += 1

    def _seal(self) -> None:
        """Move the tail into the queue as an immutable chunk."""
        if self._tail:
            self._chunks.append(memoryview(bytes(self._tail)))
            self._tail.clear()

    def take(self, size: int) -> memoryview | bytes | None:
        """Exactly `size` bytes (a view when one chunk holds them), or None if not yet fed."""
        if self._buffered < size:
            return None
        if not size:
            return b""
        if self._tail:
            self._seal()
        chunks = self._chunks
        front = chunks[0]
        if len(front) > size:
            piece: memoryview | bytes = front[:size]
            chunks[0] = front[size:]
        elif len(front) == size:
            piece = chunks.popleft()
        else:
            parts: list[memoryview] = []
            missing = size
            while missing:
                front = chunks[0]
                if len(front) <= missing:
                    parts.append(chunks.popleft())
                    missing -= len(front)
                else:
                    parts.append(front[:missing])
                    chunks[0] = front[missing:]
                    missing = 0
            piece = b"".join(parts)
        self._buffered -= size
        self._consumed += size
        return piece

    def take_some(self, limit: int) -> memoryview:
        """Up to `limit` (> 0) bytes from the first chunk, never copied; needs `buffered` > 0."""
        if self._tail:
            self._seal()
        chunks = self._chunks
        front = chunks[0]
        if len(front) <= limit:
            chunks.popleft()
        else:
            chunks[0] = front[limit:]
            front = front[:limit]
        self._buffered -= len(front)
        self._consumed += len(front)
        return front

    def discard(self, size: int) -> int:
        """Drop up to `size` buffered bytes; return how many were dropped."""
        dropped = 0
        while dropped < size and self._buffered:
            dropped += len(self.take_some(size - dropped))
        return dropped

    def skip_unfed(self, size: int) -> None:
        """Count `size` bytes the caller skips without feeding them (after a seek)."""
        self._consumed += size

    def own_leftovers(self) -> None:
        """Copy unconsumed bytes out of caller memory that may be reused once more data is asked.

        Only chunks fed since the last call are checked, so each byte is copied at most once
        here; views of immutable `bytes` (and the private tail) need no copy.
        """
        chunks = self._chunks
        count = len(chunks)
        for index in range(count - min(self._unchecked, count), count):
            chunk = chunks[index]
            if type(chunk.obj) is not bytes:
                chunks[index] = memoryview(chunk.tobytes())
        self._unchecked = 0
