"""A pre-flight walk over marshal data, so `marshal.loads` only ever sees bounded input.

CPython's loader trusts the counts it reads: a five-byte tuple header can make it allocate and
clear gigabytes, and references can build cycles or exponentially shared graphs that later
comparisons would walk forever. This module reads the format (Python/marshal.c, version 4) without
building objects and refuses anything a C-level consumer could not handle in time and memory
proportional to the input. It never creates Python objects from the data.
"""

from __future__ import annotations

import struct
import sys

from .findings import ContentFormatError, ContentLimitError

MAX_DEPTH = 100  # nesting of containers and code objects; real modules stay far below
_FLAG_REF = 0x80

# The fields of a code object after its 'c' byte, by interpreter version: "i" a 4-byte integer,
# "o" a nested object. Python/marshal.c r_object TYPE_CODE: argcount, posonlyargcount,
# kwonlyargcount, stacksize, flags, code, consts, names, localsplusnames, localspluskinds,
# filename, name, qualname, firstlineno, linetable, exceptiontable.
CODE_FIELDS: dict[tuple[int, int], str] = {
    (3, 11): "iiiiiooooooooioo",
    (3, 12): "iiiiiooooooooioo",
    (3, 13): "iiiiiooooooooioo",
}

_SINGLETONS = frozenset(b"NFTS.")  # None, False, True, StopIteration, Ellipsis: never registered
_FIXED = {ord("i"): 4, ord("I"): 8, ord("g"): 8, ord("y"): 16}
_SIZED32 = frozenset(b"staAu")  # bytes, interned, ascii, ascii interned, unicode
_SIZED8 = frozenset(b"zZ")  # short ascii, short ascii interned
_COUNTED32 = frozenset(b"([<>")  # tuple, list, set, frozenset
_NULL = ord("0")


def running_code_fields() -> str | None:
    """The code object layout of this interpreter, or None when this module does not know it."""
    return CODE_FIELDS.get(sys.version_info[:2])


def check_marshal_bounds(data: bytes, code_fields: str) -> int:
    """The length of the one object `data` starts with, after checking it is safe to unmarshal.

    Raises `ContentFormatError` or `ContentLimitError` otherwise.
    Safe means: every count fits in the bytes that remain, nesting stays under `MAX_DEPTH`,
    references point at objects already complete (so no cycles), and the object graph with
    references expanded stays within a small multiple of the input size.
    """
    return _Walk(data, code_fields).run()


class _Walk:
    """The walk's cursor and reference table; lives for one `check_marshal_bounds` call."""

    def __init__(self, data: bytes, code_fields: str) -> None:
        self._data = data
        self._code_fields = code_fields
        self._pos = 0
        # Expanded size of each registered object; None while it is still being read.
        self._refs: list[int | None] = []
        self._budget = 8 * len(data) + 10_000

    def run(self) -> int:
        self._object(0)
        return self._pos

    def _byte(self) -> int:
        if self._pos >= len(self._data):
            raise ContentFormatError("marshal data ends early", offset=self._pos)
        value = self._data[self._pos]
        self._pos += 1
        return value

    def _int32(self) -> int:
        if self._pos + 4 > len(self._data):
            raise ContentFormatError("marshal data ends early", offset=self._pos)
        (value,) = struct.unpack_from("<i", self._data, self._pos)
        self._pos += 4
        return int(value)

    def _skip(self, count: int) -> None:
        if count < 0 or self._pos + count > len(self._data):
            raise ContentFormatError("marshal size runs past the end", offset=self._pos)
        self._pos += count

    def _count(self, count: int) -> int:
        # Every element takes at least one byte, so a larger count is a lie.
        if count < 0 or count > len(self._data) - self._pos:
            raise ContentFormatError("marshal element count out of range", offset=self._pos)
        return count

    def _object(self, depth: int) -> int:
        """Walk one object; return its size with references expanded."""
        if depth > MAX_DEPTH:
            raise ContentLimitError(f"marshal data nests deeper than {MAX_DEPTH}")
        code = self._byte()
        kind = code & ~_FLAG_REF
        if kind in _SINGLETONS:
            return 1
        if kind == ord("r"):
            index = self._int32()
            size = self._refs[index] if 0 <= index < len(self._refs) else None
            if size is None:
                raise ContentFormatError("marshal reference to an unfinished object")
            return self._spend(size)
        slot = len(self._refs) if code & _FLAG_REF else None
        if slot is not None:
            self._refs.append(None)  # reserved before the children, as marshal.c does
        size = self._spend(1 + self._payload(kind, depth))
        if slot is not None:
            self._refs[slot] = size
        return size

    def _spend(self, size: int) -> int:
        self._budget -= size
        if self._budget < 0:
            raise ContentLimitError("marshal references expand to too large an object graph")
        return size

    def _payload(self, kind: int, depth: int) -> int:
        if kind in _FIXED:
            self._skip(_FIXED[kind])
            return 0
        if kind in _SIZED32:
            self._skip(self._int32())
            return 0
        if kind in _SIZED8 or kind == ord("f"):
            self._skip(self._byte())
            return 0
        if kind == ord("x"):  # complex as two decimal strings
            self._skip(self._byte())
            self._skip(self._byte())
            return 0
        if kind == ord("l"):
            self._skip(2 * abs(self._int32()))  # 15-bit digits stored as 16-bit shorts
            return 0
        if kind == ord(")"):
            return self._children(self._count(self._byte()), depth)
        if kind in _COUNTED32:
            return self._children(self._count(self._int32()), depth)
        if kind == ord("{"):
            return self._dict(depth)
        if kind == ord("c"):
            return self._code(depth)
        raise ContentFormatError(f"unknown marshal type code {kind:#04x}", offset=self._pos - 1)

    def _children(self, count: int, depth: int) -> int:
        return sum(self._object(depth + 1) for _ in range(count))

    def _dict(self, depth: int) -> int:
        total = 0
        while True:
            # A NULL key or value ends the dict (marshal.c reads pairs until r_object gives NULL).
            for _ in range(2):
                if self._pos < len(self._data) and self._data[self._pos] & ~_FLAG_REF == _NULL:
                    self._pos += 1
                    return total
                total += self._object(depth + 1)

    def _code(self, depth: int) -> int:
        total = 0
        for field in self._code_fields:
            if field == "i":
                self._skip(4)
            else:
                total += self._object(depth + 1)
        return total
