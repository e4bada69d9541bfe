"""Deterministic JSON for every result value: orjson over frozen dataclasses, enums and tuples.

The same value always gives the same bytes: no wall-clock data is ever put into a value, and
dictionaries built for output are inserted in a fixed order.
"""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


def to_json(value: Any) -> bytes:
    return orjson.dumps(value, option=_OPTIONS)


def to_json_line(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)
