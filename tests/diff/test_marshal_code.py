"""The marshal reader agrees with marshal on real bytecode and refuses hostile data."""

from __future__ import annotations

import importlib.util
import marshal
import sys
import types
from pathlib import Path

import pytest

from ocidiff.diff.findings import ContentFormatError, ContentLimitError
from ocidiff.diff.marshal_code import CODE_LAYOUTS, MAX_DEPTH, read_code

RUNNING = int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little")
LAYOUT = CODE_LAYOUTS.get(RUNNING)
pytestmark = pytest.mark.skipif(LAYOUT is None, reason="code layout of this Python not known")

SOURCE = """\
import os
CONSTANTS = (1, -2**80, 1.5, 2j, b"raw", "é", frozenset({"a", "b", "c"}), None, ...)

class Greeter:
    def greet(self, name, *, loud=False):
        def shout(text):
            return text.upper()
        return shout(name) if loud else f"hello {name} from {os.sep}"

square = lambda x: x * x
"""


def _read(data: bytes) -> object:
    assert LAYOUT is not None
    return read_code(data, LAYOUT)


def _qualnames(code: types.CodeType) -> list[str]:
    nested = [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return [name for child in nested for name in _qualnames(child)] + [code.co_qualname]


def test_reads_what_marshal_wrote_and_finds_every_function() -> None:
    assert LAYOUT is not None
    code = compile(SOURCE, "/app/greeter.py", "exec")
    data = marshal.dumps(code)
    result = read_code(data + b"trailing", LAYOUT)
    assert result.length == len(data)
    assert result.filenames == ("/app/greeter.py",)
    assert [name for name, _ in result.functions] == _qualnames(code)


def test_agrees_with_the_standard_library_bytecode() -> None:
    assert LAYOUT is not None
    library = Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    sources = sorted(library.glob("*.py"))[:80]
    assert sources, library
    for source in sources:
        code = compile(source.read_bytes(), str(source), "exec")
        data = marshal.dumps(code)
        result = read_code(data, LAYOUT)
        assert result.length == len(data), source
        assert result.filenames == (str(source),)
        assert len(result.functions) == len(_qualnames(code))


def test_canonical_form_ignores_filename_and_encoding_but_not_code() -> None:
    assert LAYOUT is not None
    code = compile(SOURCE, "/a/greeter.py", "exec")
    moved = compile(SOURCE, "/tmp/pip-xyz/greeter.py", "exec")
    changed = compile(SOURCE.replace("x * x", "x ** 2"), "/a/greeter.py", "exec")
    base = read_code(marshal.dumps(code), LAYOUT).canonical
    assert read_code(marshal.dumps(moved), LAYOUT).canonical == base
    for version in (2, 3):  # no reference flags, other string and tuple type codes
        assert read_code(marshal.dumps(code, version), LAYOUT).canonical == base
    assert read_code(marshal.dumps(changed), LAYOUT).canonical != base


@pytest.mark.parametrize(
    "data",
    [
        b"c" + b"(\xff\xff\xff\x7f",  # ints of a code object missing, then a 2**31 tuple
        b"c" + bytes(20) + b"(\xff\xff\xff\x7f",  # a tuple of 2**31 - 1 elements
        b"c" + bytes(20) + b"[\x00\x00\x00\x10N",  # list count beyond the data
        b"c" + bytes(20) + b"l\xff\xff\xff\x7f",  # a long with 2**31 digits
        b"c" + bytes(20) + b"s\x00\x00\x00\x10ab",  # bytes longer than the data
        b"c" + bytes(20) + b"\xa9\x01r\x00\x00\x00\x00",  # a tuple holding itself
        b"\xe3" + bytes(20) + b"r\x00\x00\x00\x00",  # a code object referring to itself
        b"c" + bytes(20) + b"?",  # unknown type code
        b"c" + bytes(20) + b"0",  # NULL outside a dict
        b"c" + bytes(20) + b"u\x02\x00\x00\x00\xff\xfe",  # not UTF-8
        b"N",  # not a code object
        b"",
    ],
)
def test_refuses_hostile_or_broken_data(data: bytes) -> None:
    with pytest.raises((ContentFormatError, ContentLimitError)):
        _read(data)


def test_refuses_deep_nesting() -> None:
    with pytest.raises(ContentLimitError):
        _read(b"c" + bytes(20) + b")\x01" * (MAX_DEPTH + 5) + b"N")


def test_refuses_exponentially_shared_graphs() -> None:
    # A tuple of levels where level k holds two references to level k-1: 11 bytes per level,
    # 2**k bytes once references are expanded.
    levels = 40
    data = bytearray(b"c" + bytes(20) + b"\xa8" + levels.to_bytes(4, "little"))  # reference 0
    data += b"\xa9\x00"  # level 0: an empty tuple, reference 1
    for level in range(1, levels):
        previous = level.to_bytes(4, "little")  # level k-1 is reference k
        data += b"\xa9\x02r" + previous + b"r" + previous
    assert len(marshal.loads(bytes(data[21:]))) == levels  # marshal itself accepts the tuple
    with pytest.raises(ContentLimitError):
        _read(bytes(data))
