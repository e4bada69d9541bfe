"""`ocidiff ls` lines: one entry per line as text, or one JSON object per line."""

from __future__ import annotations

from typing import Any

from ..inventory import FileEntry
from .formatting import format_ns, mode_string


def entry_record(entry: FileEntry, layer: int | None) -> dict[str, Any]:
    """The JSON Lines form of one entry: every header field, full-precision times."""
    record: dict[str, Any] = {
        "path": entry.path,
        "type": entry.kind.value,
        "mode": f"{entry.mode:04o}",
        "uid": entry.uid,
        "gid": entry.gid,
        "uname": entry.uname,
        "gname": entry.gname,
        "size": entry.size,
        "mtime_ns": entry.mtime_ns,
        "mtime": format_ns(entry.mtime_ns),
        "atime_ns": entry.atime_ns,
        "ctime_ns": entry.ctime_ns,
        "linkname": entry.linkname or None,
        "xattrs": dict(entry.xattrs),
        "blake3": entry.digest,
        "name": entry.name,
        "encoding": entry.encoding,
    }
    if entry.kind.value in ("chardev", "blockdev"):
        record["device"] = [entry.devmajor, entry.devminor]
    if entry.chunks is not None:
        record["chunks"] = len(entry.chunks)
    if layer is not None:
        record["layer"] = layer
    return record


def entry_line(entry: FileEntry, layer: int | None) -> str:
    link = ""
    if entry.linkname:
        link = (
            f" -> {entry.linkname}"
            if entry.kind.value == "symlink"
            else f" link to {entry.linkname}"
        )
    xattrs = f" xattrs={','.join(k for k, _ in entry.xattrs)}" if entry.xattrs else ""
    origin = f"  [layer {layer}]" if layer is not None else ""
    digest = (entry.digest or "")[:16] or "-"
    owner = f"{entry.uid}/{entry.gid}"
    if entry.uname or entry.gname:
        owner += f"({entry.uname}/{entry.gname})"
    return (
        f"{mode_string(entry.kind, entry.mode)} {owner:>9} {entry.size:>10} "
        f"{format_ns(entry.mtime_ns)} {digest:16} {_printable(entry.path)}"
        f"{_printable(link)}{xattrs}{origin}"
    )


def _printable(text: str) -> str:
    """Names come from untrusted archives: escape control characters and undecodable bytes."""
    if text.isprintable():
        return text
    return (
        text.encode("utf-8", "surrogateescape")
        .decode("ascii", "backslashreplace")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
