"""Frozen values to JSON text and back, for the catalog's document columns.

The catalog keeps each image's resolved view (`ImageRef`) and each layer's compression facts as
JSON, so that later runs diff releases without reopening their archives. Decoding follows the
dataclass field types (tuples, optionals, enums, nested dataclasses) and refuses anything else
with `ImageFormatError`: the catalog is input like any other. Never pickle.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from typing import Any, TypeVar, get_args, get_origin

from ..errors import ImageFormatError

T = TypeVar("T")


def encode(value: object) -> str:
    """Canonical JSON (sorted keys, ASCII: names decoded with surrogateescape survive)."""
    return json.dumps(_plain(value), ensure_ascii=True, sort_keys=True, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def decode(cls: type[T], text: str) -> T:
    try:
        raw = json.loads(text)
        value = _build(cls, raw)
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        raise ImageFormatError(f"malformed catalog document for {cls.__name__}: {exc}") from None
    return typing.cast(T, value)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(kind: Any, raw: Any) -> Any:
    origin = get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        options = get_args(kind)
        if raw is None and type(None) in options:
            return None
        inner = [o for o in options if o is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"ambiguous union {kind}")
        return _build(inner[0], raw)
    if origin is tuple:
        args = get_args(kind)
        if not isinstance(raw, list):
            raise TypeError(f"expected a list for {kind}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], item) for item in raw)
        if len(args) != len(raw):
            raise TypeError(f"expected {len(args)} items for {kind}")
        return tuple(_build(a, item) for a, item in zip(args, raw, strict=True))
    if origin is dict:
        key_type, value_type = get_args(kind)
        if not isinstance(raw, dict):
            raise TypeError(f"expected an object for {kind}")
        return {_build(key_type, k): _build(value_type, v) for k, v in raw.items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(raw, dict):
            raise TypeError(f"expected an object for {kind.__name__}")
        hints = _hints(kind)
        fields = {f.name: _build(hints[f.name], raw[f.name]) for f in dataclasses.fields(kind)}
        return kind(**fields)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(raw)
    if kind is Any:
        return raw
    if kind in (str, int, bool, float):
        if kind is int and isinstance(raw, bool):
            raise TypeError("expected an integer")
        if kind is float and isinstance(raw, int):
            return float(raw)
        if not isinstance(raw, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(raw).__name__}")
        return raw
    raise TypeError(f"unsupported field type {kind}")
