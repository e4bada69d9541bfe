"""Reads the marshalled code object of a .pyc into canonical bytes that compare equal exactly when
the code is equal apart from `co_filename`, without building a single Python object from the data.

Owns the marshal format (Python/marshal.c) and the code object layouts of CPython 3.11 to 3.13.
`marshal.loads` is not used on file content for two reasons: it trusts counts (a five-byte tuple
header makes it allocate and clear gigabytes), and code objects built from hostile bytecode are not
memory-safe to handle afterwards (3.11's `deopt_code`, run by `code.replace` and `marshal.dumps`,
writes past its buffer when the last instruction claims inline caches).

Canonical means: reference flags dropped and references expanded; interned and plain, ASCII and
general strings alike; small and large tuples alike; set elements sorted; co_filename blanked.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .findings import ContentFormatError, ContentLimitError

MAX_DEPTH = 100  # nesting of containers and code objects; real modules stay far below
_FLAG_REF = 0x80

# Code object fields after the 'c' byte (Python/marshal.c, r_object, TYPE_CODE): "i" a 4-byte
# integer, "o" an object, "F" the co_filename object, "Q" the co_qualname object. In order:
# argcount, posonlyargcount, kwonlyargcount, stacksize, flags, code, consts, names,
# localsplusnames, localspluskinds, filename, name, qualname, firstlineno, linetable,
# exceptiontable. Keyed by the release magic number (importlib/_bootstrap_external.py).
_LAYOUT_311_TO_313 = "iiiiioooooFoQioo"
CODE_LAYOUTS: dict[int, str] = {
    3495: _LAYOUT_311_TO_313,  # 3.11
    3531: _LAYOUT_311_TO_313,  # 3.12
    3571: _LAYOUT_311_TO_313,  # 3.13
}

_SINGLETONS = frozenset(b"NFTS.")  # None, False, True, StopIteration, Ellipsis: never registered
_FIXED = {ord("i"): 4, ord("I"): 8, ord("g"): 8, ord("y"): 16}
_STR_LONG = frozenset(b"aAut")  # ascii, ascii interned, unicode, interned: 4-byte length
_STR_SHORT = frozenset(b"zZ")  # short ascii (interned): 1-byte length
_LATIN1_STRS = frozenset(b"aAzZ")  # ascii types are read as one byte per character
_SETS = frozenset(b"<>")
_NULL = ord("0")
_BLANK_STR = b"u\x00\x00\x00\x00"


@dataclass(frozen=True, slots=True)
class MarshalledCode:
    """What a code object holds, in comparable form."""

    canonical: bytes  # the whole object, co_filename blanked everywhere
    filenames: tuple[str, ...]  # distinct co_filename values, in order of appearance
    functions: tuple[tuple[str, bytes], ...]  # (co_qualname, own code with nested code by name)
    length: int  # bytes the object took; marshal ignores what follows


@dataclass(frozen=True, slots=True)
class _Piece:
    full: bytes  # canonical bytes
    shallow: bytes  # the same, with each code object replaced by a reference to its qualname
    text: str | None = None  # the value, for strings


def read_code(data: bytes, layout: str) -> MarshalledCode:
    """Read the code object `data` starts with.

    Raises `ContentFormatError` for data marshal would reject or that is not a code object, and
    `ContentLimitError` when nesting or expanded references exceed bounds proportional to the
    input (which is what keeps time and memory bounded for hostile input).
    """
    reader = _Reader(data, layout)
    if data[:1] and data[0] & ~_FLAG_REF != ord("c"):
        raise ContentFormatError("the marshalled object is not a code object")
    root = reader.object(0)
    return MarshalledCode(
        root.full, tuple(reader.filenames), tuple(reader.functions), reader.position
    )


class _Reader:
    """Cursor, reference table and output budget of one `read_code` call."""

    def __init__(self, data: bytes, layout: str) -> None:
        self._data = data
        self._layout = layout
        self.position = 0
        self._refs: list[_Piece | None] = []  # None while the object is still being read
        # Canonical bytes we may still produce, copies included: bounds work and memory when
        # references are expanded (a shared-reference graph can grow exponentially).
        self._budget = 32 * len(data) + (1 << 20)
        self.filenames: dict[str, None] = {}
        self.functions: list[tuple[str, bytes]] = []

    def object(self, depth: int) -> _Piece:
        if depth > MAX_DEPTH:
            raise ContentLimitError(f"marshal data nests deeper than {MAX_DEPTH}")
        code = self._byte()
        kind = code & ~_FLAG_REF
        if kind in _SINGLETONS:
            single = bytes((kind,))
            return _Piece(single, single)
        if kind == ord("r"):
            index = self._int32()
            piece = self._refs[index] if 0 <= index < len(self._refs) else None
            if piece is None:
                raise ContentFormatError("marshal reference to an unfinished or missing object")
            return self._spent(piece)
        slot = len(self._refs) if code & _FLAG_REF else None
        if slot is not None:
            self._refs.append(None)  # reserved before the children, as marshal.c does
        piece = self._spent(self._payload(kind, depth))
        if slot is not None:
            self._refs[slot] = piece
        return piece

    def _spent(self, piece: _Piece) -> _Piece:
        extra = 0 if piece.shallow is piece.full else len(piece.shallow)
        self._budget -= len(piece.full) + extra
        if self._budget < 0:
            raise ContentLimitError("marshal references expand to too large an object graph")
        return piece

    def _payload(self, kind: int, depth: int) -> _Piece:
        tag = bytes((kind,))
        if kind in _FIXED:
            return _leaf(tag + self._take(_FIXED[kind]))
        if kind in (ord("f"), ord("x")):  # floats and complexes as 1-byte-length decimal strings
            parts = [self._short_string() for _ in range(1 if kind == ord("f") else 2)]
            return _leaf(tag + b"".join(parts))
        if kind == ord("l"):
            count = self._int32()
            return _leaf(tag + struct.pack("<i", count) + self._take(2 * abs(count)))
        if kind == ord("s"):
            raw = self._take(self._count32())
            return _leaf(tag + struct.pack("<I", len(raw)) + raw)
        if kind in _STR_LONG or kind in _STR_SHORT:
            return self._string(kind)
        if kind in (ord("("), ord(")"), ord("[")) or kind in _SETS:
            count = self._count(self._byte() if kind == ord(")") else self._int32())
            children = [self.object(depth + 1) for _ in range(count)]
            head = (b"(" if kind == ord(")") else tag) + struct.pack("<I", count)
            return _joined(head, children, sort=kind in _SETS)
        if kind == ord("{"):
            return _joined(b"{", self._dict_items(depth), tail=b"0")
        if kind == ord("c"):
            return self._code(depth)
        raise ContentFormatError(f"unknown marshal type code {kind:#04x}", offset=self.position - 1)

    def _string(self, kind: int) -> _Piece:
        raw = self._take(self._byte() if kind in _STR_SHORT else self._count32())
        try:
            text = raw.decode("latin-1" if kind in _LATIN1_STRS else "utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise ContentFormatError("marshalled string is not UTF-8") from None
        full = b"u" + struct.pack("<I", len(raw)) + raw
        return _Piece(full, full, text)

    def _dict_items(self, depth: int) -> list[_Piece]:
        items: list[_Piece] = []
        while True:
            # marshal.c reads pairs until r_object gives NULL, for a key or for a value
            for _ in range(2):
                if self.position < len(self._data) and self._data[self.position] & 0x7F == _NULL:
                    self.position += 1
                    return items
                items.append(self.object(depth + 1))

    def _code(self, depth: int) -> _Piece:
        full, own = [b"c"], [b"c"]
        qualname = ""
        for field in self._layout:
            if field == "i":
                raw = self._take(4)
                full.append(raw)
                own.append(raw)
                continue
            child = self.object(depth + 1)
            if field == "F":
                name = child.text if child.text is not None else repr(child.full)
                self.filenames.setdefault(name)
                full.append(_BLANK_STR)
                own.append(_BLANK_STR)
                continue
            if field == "Q" and child.text is not None:
                qualname = child.text
            full.append(child.full)
            own.append(child.shallow)
        own_bytes = b"".join(own)
        self.functions.append((qualname, own_bytes))
        return _Piece(b"".join(full), b"C" + qualname.encode("utf-8", "surrogatepass") + b"\0")

    # --- primitive reads ---

    def _byte(self) -> int:
        if self.position >= len(self._data):
            raise ContentFormatError("marshal data ends early", offset=self.position)
        value = self._data[self.position]
        self.position += 1
        return value

    def _take(self, size: int) -> bytes:
        end = self.position + size
        if size < 0 or end > len(self._data):
            raise ContentFormatError("marshal size runs past the end", offset=self.position)
        raw = self._data[self.position : end]
        self.position = end
        return raw

    def _int32(self) -> int:
        return int(struct.unpack("<i", self._take(4))[0])

    def _count32(self) -> int:
        count = self._int32()
        if count < 0:
            raise ContentFormatError("negative marshal size", offset=self.position - 4)
        return count

    def _count(self, count: int) -> int:
        # Every element takes at least one byte, so a larger count is a lie.
        if count < 0 or count > len(self._data) - self.position:
            raise ContentFormatError("marshal element count out of range", offset=self.position)
        return count

    def _short_string(self) -> bytes:
        size = self._byte()
        return bytes((size,)) + self._take(size)


def _leaf(full: bytes) -> _Piece:
    return _Piece(full, full)


def _joined(
    head: bytes, children: list[_Piece], *, sort: bool = False, tail: bytes = b""
) -> _Piece:
    fulls = [child.full for child in children]
    shallows = [child.shallow for child in children]
    if sort:  # set iteration order follows string hashes, which are randomised per process
        fulls.sort()
        shallows.sort()
    full = head + b"".join(fulls) + tail
    if all(child.shallow is child.full for child in children):
        return _Piece(full, full)
    return _Piece(full, head + b"".join(shallows) + tail)
