"""Small, shared text formatting rules: sizes, times, modes, file types."""

from __future__ import annotations

import datetime as dt
import stat

from ..tar.events import EntryKind

_KIND_LETTER = {
    EntryKind.FILE: "-",
    EntryKind.HARDLINK: "h",
    EntryKind.SYMLINK: "l",
    EntryKind.CHARDEV: "c",
    EntryKind.BLOCKDEV: "b",
    EntryKind.DIR: "d",
    EntryKind.FIFO: "p",
    EntryKind.OTHER: "?",
}


def human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def format_ns(ns: int | None) -> str:
    """UTC time with nanoseconds when there are any: full precision, never rounded."""
    if ns is None:
        return "-"
    seconds, fraction = divmod(ns, 1_000_000_000)
    try:
        text = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return f"@{seconds}.{fraction:09d}" if fraction else f"@{seconds}"
    return f"{text}.{fraction:09d}Z" if fraction else f"{text}Z"


def mode_string(kind: EntryKind, mode: int) -> str:
    letters = stat.filemode(mode & 0o7777)[1:]
    return _KIND_LETTER[kind] + letters
