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
from ocidiff.tar.parser import HOLE_FILL, HOLE_PIECE, TarLimits, TarParser
from ocidiff.tar.stream import index_members, iter_events

__all__ = [
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
    "index_members",
    "iter_events",
]
