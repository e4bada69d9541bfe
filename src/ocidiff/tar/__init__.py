"""Tar reading for ocidiff: one sans-IO parser for the outer image archive and every layer.

Re-exports only; see `parser` for the event protocol and `stream` for file-object helpers.
"""

from ocidiff.tar.events import (
    NEED_DATA,
    ArchiveEnd,
    EntryData,
    EntryEnd,
    EntryHeader,
    EntryKind,
    NeedData,
    TarEntry,
    TarEvent,
    TarFormat,
    Trailer,
)
from ocidiff.tar.limits import DEFAULT_LIMITS, TarLimits
from ocidiff.tar.parser import TarParser
from ocidiff.tar.sparse import HOLE_FILL, HOLE_PIECE
from ocidiff.tar.stream import index_archive, index_members, iter_events

__all__ = [
    "DEFAULT_LIMITS",
    "HOLE_FILL",
    "HOLE_PIECE",
    "NEED_DATA",
    "ArchiveEnd",
    "EntryData",
    "EntryEnd",
    "EntryHeader",
    "EntryKind",
    "NeedData",
    "TarEntry",
    "TarEvent",
    "TarFormat",
    "TarLimits",
    "TarParser",
    "Trailer",
    "index_archive",
    "index_members",
    "iter_events",
]
