"""Deterministic JSON for every result value: orjson over frozen dataclasses, enums and tuples.

The same value always gives the same bytes: no wall-clock data is ever put into a value, and
dictionaries built for output are inserted in a fixed order.

Names read from tar headers that are not UTF-8 are held as surrogate escapes, which JSON cannot
carry; only for such a value, strings are rewritten with backslash escapes of the raw bytes
(e.g. a byte 0xff becomes the text `\\xff`), so the output stays valid UTF-8 and deterministic.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import orjson

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


def to_json(value: Any) -> bytes:
    return _dumps(value, _OPTIONS)


def to_json_line(value: Any) -> bytes:
    return _dumps(value, orjson.OPT_APPEND_NEWLINE)


def _dumps(value: Any, option: int) -> bytes:
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:
        return orjson.dumps(_escaped(value), option=option)


def printable_text(text: str) -> str:
    """`text` with surrogate-escaped bytes (undecodable names) spelled as backslash escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _escaped(value: Any) -> Any:
    """A plain copy of `value` in which every string is printable UTF-8."""
    if isinstance(value, str):
        return printable_text(value)
    if isinstance(value, enum.Enum):
        return _escaped(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _escaped(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(item) for item in value]
    return value
