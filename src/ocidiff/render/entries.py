"""`ocidiff ls` lines: one entry per line as text, or one JSON object per line."""

from __future__ import annotations

from typing import Any

from ..inventory import FileEntry
from ..safe_text import terminal_safe
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
    """One `ls` text line; every name from the image goes through `terminal_safe`."""
    link = ""
    if entry.linkname:
        target = terminal_safe(entry.linkname)
        link = f" -> {target}" if entry.kind.value == "symlink" else f" link to {target}"
    xattrs = ""
    if entry.xattrs:
        xattrs = f" xattrs={','.join(terminal_safe(k) for k, _ in entry.xattrs)}"
    origin = f"  [layer {layer}]" if layer is not None else ""
    digest = (entry.digest or "")[:16] or "-"
    owner = f"{entry.uid}/{entry.gid}"
    if entry.uname or entry.gname:
        owner += f"({terminal_safe(entry.uname)}/{terminal_safe(entry.gname)})"
    return (
        f"{mode_string(entry.kind, entry.mode)} {owner:>9} {entry.size:>10} "
        f"{format_ns(entry.mtime_ns)} {digest:16} {terminal_safe(entry.path)}"
        f"{link}{xattrs}{origin}"
    )
