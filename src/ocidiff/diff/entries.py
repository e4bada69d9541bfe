"""Entry-level comparison: two lists of layer entries -> changes tagged with cause codes.

Pure. Entries pair by normalised path; a removed and an added file with identical content are a
move. Content differences are refined by the format-aware explainers when both contents were
captured during the layer pass, and each path whose content differs gets an `entry` node holding
those changes and the drill-down (a bounded unified diff, or changed byte ranges and similarity).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..filesystem import is_whiteout
from ..inventory import FileEntry
from ..leftovers import Leftover, leftover
from ..render.formatting import format_ns
from ..report import Change, Node
from ..tar.events import EntryKind
from .drilldown import MAX_DETAILED, content_node, similarity_note
from .match import order_changed
from .owners import package_notes

ContentExplainer = Callable[[str, bytes, bytes], tuple[tuple[str, str], ...]]

# The causes a content comparison gives; their changes live on the path's `entry` node.
_CONTENT_CAUSES = frozenset(
    (
        *("content", "embedded-timestamp", "embedded-path", "content-order"),
        *("dependency-change", "build-log", "build-cache"),
    )
)
# A log or cache differs with every build whatever it holds: named by what the file is.
_LEFTOVER_CAUSES = {Leftover.LOG: "build-log", Leftover.CACHE: "build-cache"}
_LINKED_KINDS = frozenset((EntryKind.FILE, EntryKind.HARDLINK))


@dataclass(frozen=True, slots=True)
class EntryDiff:
    """What two entry lists differ in: changes that belong to the list as a whole or to a path's
    metadata, and one `entry` node per path whose content differs."""

    changes: tuple[Change, ...]
    entries: tuple[Node, ...]


def _excluded(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase("/" + path, p) for p in patterns)


def compare_entry_lists(
    old: Sequence[FileEntry],
    new: Sequence[FileEntry],
    locator: str,
    *,
    exclude: Sequence[str] = (),
    contents: Mapping[str, bytes] | None = None,
    explain: ContentExplainer | None = None,
    epochs: tuple[int | None, int | None] = (None, None),
    check_order: bool = True,
) -> EntryDiff:
    """Every difference between two entry lists (one layer pair, or two merged filesystems)."""
    old_by = {e.path: e for e in old if not _excluded(e.path, exclude)}
    new_by = {e.path: e for e in new if not _excluded(e.path, exclude)}
    captured = contents or {}
    changes: list[Change] = []
    entries: list[Node] = []
    removed = [p for p in old_by if p not in new_by]
    added = [p for p in new_by if p not in old_by]
    changes.extend(_moves_and_presence(old_by, new_by, removed, added, locator))
    for path in sorted(old_by.keys() & new_by.keys()):
        a, b = old_by[path], new_by[path]
        found = compare_entries(a, b, f"{locator}/{path}", captured, explain, epochs)
        changes.extend(c for c in found if c.cause not in _CONTENT_CAUSES)
        about_content = tuple(c for c in found if c.cause in _CONTENT_CAUSES)
        if about_content:
            detailed = len(entries) < MAX_DETAILED
            entries.append(content_node(a, b, about_content, captured, detailed=detailed))
    if check_order and order_changed([e.path for e in old], [e.path for e in new]):
        changes.append(
            Change(
                "entry-order",
                locator,
                "order",
                None,
                None,
                "entries appear in a different order in the tar stream",
            )
        )
    packages = package_notes(list(old_by.values()), list(new_by.values()), captured, locator)
    return EntryDiff(
        (*packages.changes, *(packages.annotated(c) for c in changes)),
        tuple(packages.annotated_node(n) for n in entries),
    )


def _moves_and_presence(
    old_by: Mapping[str, FileEntry],
    new_by: Mapping[str, FileEntry],
    removed: list[str],
    added: list[str],
    locator: str,
) -> list[Change]:
    changes: list[Change] = []
    added_by_digest: dict[str, list[str]] = {}
    for path in sorted(added):
        entry = new_by[path]
        if entry.kind is EntryKind.FILE and entry.digest and entry.size:
            added_by_digest.setdefault(entry.digest, []).append(path)
    moved_to: set[str] = set()
    for path in sorted(removed):
        entry = old_by[path]
        if path == "." or is_whiteout(path):
            continue
        candidates = added_by_digest.get(entry.digest or "", [])
        if entry.kind is EntryKind.FILE and candidates:
            target = candidates.pop(0)
            moved_to.add(target)
            changes.append(
                Change(
                    "files-moved",
                    f"{locator}/{path}",
                    "path",
                    path,
                    target,
                    "renamed with identical content",
                )
            )
    for path in sorted(removed):
        if any(c.old == path for c in changes):
            continue
        changes.append(_presence_change(old_by[path], f"{locator}/{path}", removed=True))
    for path in sorted(added):
        if path not in moved_to:
            changes.append(_presence_change(new_by[path], f"{locator}/{path}", removed=False))
    return changes


def _presence_change(entry: FileEntry, locator: str, *, removed: bool) -> Change:
    if entry.path == ".":
        return Change(
            "tar-encoding",
            locator,
            "root-entry",
            "present" if removed else None,
            None if removed else "present",
            "root '.' entry in one archive only",
        )
    if is_whiteout(entry.path):
        return Change(
            "whiteouts",
            locator,
            "whiteout",
            entry.path if removed else None,
            None if removed else entry.path,
            "deletion marker only in the " + ("first" if removed else "second") + " image",
        )
    cause = "files-removed" if removed else "files-added"
    value = f"{entry.kind.value} {entry.size} bytes"
    return Change(cause, locator, "path", value if removed else None, None if removed else value)


def compare_entries(
    a: FileEntry,
    b: FileEntry,
    locator: str,
    contents: Mapping[str, bytes],
    explain: ContentExplainer | None,
    epochs: tuple[int | None, int | None],
) -> list[Change]:
    """Field-by-field comparison of one path on both sides; one change per cause."""
    if a.kind is not b.kind and {a.kind, b.kind} != _LINKED_KINDS:
        return [Change("file-type", locator, "type", a.kind.value, b.kind.value)]
    changes: list[Change] = []
    if a.kind is not b.kind:
        # A hard link on one side, a regular file on the other: the same bytes can be reached
        # either way, so this is the link structure (a builder that copies instead of linking).
        changes.append(_link_change(a, b, locator))
    if a.mode != b.mode:
        changes.append(Change("permissions", locator, "mode", f"{a.mode:04o}", f"{b.mode:04o}"))
    elif a.raw_mode != b.raw_mode:
        changes.append(
            Change(
                "tar-encoding",
                locator,
                "mode-field",
                f"{a.raw_mode:o}",
                f"{b.raw_mode:o}",
                "file-type bits in the mode field",
            )
        )
    owner_a = (a.uid, a.gid, a.uname, a.gname)
    owner_b = (b.uid, b.gid, b.uname, b.gname)
    if owner_a != owner_b:
        changes.append(Change("ownership", locator, "owner", _owner(a), _owner(b)))
    changes.extend(_time_changes(a, b, locator, epochs))
    if a.linkname != b.linkname and a.kind is b.kind:
        cause = "symlink-target" if a.kind is EntryKind.SYMLINK else "hardlinks"
        changes.append(Change(cause, locator, "linkname", a.linkname, b.linkname))
    if a.xattrs != b.xattrs:
        changes.append(Change("xattrs", locator, "xattrs", _xattrs(a), _xattrs(b)))
    if (a.devmajor, a.devminor) != (b.devmajor, b.devminor):
        changes.append(
            Change(
                "file-type",
                locator,
                "device",
                f"{a.devmajor},{a.devminor}",
                f"{b.devmajor},{b.devminor}",
            )
        )
    if a.digest != b.digest and a.kind in _LINKED_KINDS and not _same_link(a, b):
        changes.extend(_content_changes(a, b, locator, contents, explain))
    if _header_form(a, b) != _header_form(b, a):
        changes.append(Change("tar-encoding", locator, "header", _encoding(a), _encoding(b)))
    return changes


def _link_change(a: FileEntry, b: FileEntry, locator: str) -> Change:
    def shape(entry: FileEntry) -> str:
        return f"hard link to {entry.linkname}" if entry.linkname else "regular file"

    return Change("hardlinks", locator, "link", shape(a), shape(b))


def _same_link(a: FileEntry, b: FileEntry) -> bool:
    """Both are hard links to the same path: they carry their target's content, and the target's
    own entry reports any change of it."""
    return a.kind is b.kind is EntryKind.HARDLINK and a.linkname == b.linkname


# PAX records that another field's difference accounts for (POSIX pax: a record is written when
# the value does not fit the ustar field, so a changed value may need one where the other did not).
_IMPLIED_BY: tuple[tuple[str, Callable[[FileEntry, FileEntry], bool]], ...] = (
    ("mtime", lambda a, b: a.mtime_ns != b.mtime_ns),
    ("atime", lambda a, b: a.atime_ns != b.atime_ns),
    ("ctime", lambda a, b: a.ctime_ns != b.ctime_ns),
    ("linkpath", lambda a, b: a.linkname != b.linkname),
    ("size", lambda a, b: a.size != b.size),
    ("uid", lambda a, b: a.uid != b.uid),
    ("gid", lambda a, b: a.gid != b.gid),
    ("uname", lambda a, b: a.uname != b.uname),
    ("gname", lambda a, b: a.gname != b.gname),
)


def _header_form(entry: FileEntry, other: FileEntry) -> tuple[str, tuple[str, ...], str]:
    """How `entry`'s header is encoded, minus what differing field values force: a PAX header
    that only carries records for fields that differ anyway (or xattrs, which only PAX can
    store, when they differ) is not an encoding difference of its own."""
    implied = {key for key, differs in _IMPLIED_BY if differs(entry, other)}
    keys = tuple(k for k in entry.pax_keys if k not in implied)
    encoding = entry.encoding
    xattrs_forced = entry.xattrs != other.xattrs and bool(entry.xattrs)
    forced = len(keys) < len(entry.pax_keys) or xattrs_forced
    if encoding == "pax" and not keys and forced:
        encoding = "ustar"
    return encoding, keys, entry.name.rstrip("/")


def _time_changes(
    a: FileEntry, b: FileEntry, locator: str, epochs: tuple[int | None, int | None]
) -> list[Change]:
    fields = [
        (name, x, y)
        for name, x, y in (
            ("mtime", a.mtime_ns, b.mtime_ns),
            ("atime", a.atime_ns, b.atime_ns),
            ("ctime", a.ctime_ns, b.ctime_ns),
        )
        if x != y
    ]
    if not fields:
        return []
    _, x, y = fields[0]
    changes = [
        Change(
            "file-timestamps", locator, "+".join(f[0] for f in fields), format_ns(x), format_ns(y)
        )
    ]
    for side, (entry, epoch) in enumerate(((a, epochs[0]), (b, epochs[1]))):
        if epoch is not None and entry.mtime_ns > epoch * 1_000_000_000:
            changes.append(
                Change(
                    "clamp-violation",
                    locator,
                    "mtime",
                    format_ns(a.mtime_ns),
                    format_ns(b.mtime_ns),
                    f"the {'first' if side == 0 else 'second'} image's mtime is after the "
                    f"SOURCE_DATE_EPOCH it claims, {format_ns(epoch * 1_000_000_000)}",
                )
            )
    return changes


def _content_changes(
    a: FileEntry,
    b: FileEntry,
    locator: str,
    contents: Mapping[str, bytes],
    explain: ContentExplainer | None,
) -> list[Change]:
    old = contents.get(a.digest or "")
    new = contents.get(b.digest or "")
    size_note = f"{a.size} -> {b.size} bytes" if a.size != b.size else f"{a.size} bytes"
    if explain is None or old is None or new is None:
        findings: tuple[tuple[str, str], ...] = (("content", size_note + similarity_note(a, b)),)
    else:
        findings = explain(a.path, old, new)
    kind = leftover(a.path)
    if kind is not None:
        # What the explainer found still describes the bytes: kept as the detail.
        cause = _LEFTOVER_CAUSES[kind]
        findings = ((cause, "; ".join(dict.fromkeys(d for _, d in findings if d))),)
    return [
        Change(cause, locator, "content", (a.digest or "")[:16], (b.digest or "")[:16], detail)
        for cause, detail in findings
    ]


def _owner(entry: FileEntry) -> str:
    text = f"{entry.uid}:{entry.gid}"
    return f"{text} ({entry.uname}:{entry.gname})" if entry.uname or entry.gname else text


def _xattrs(entry: FileEntry) -> str:
    return ",".join(f"{k}={v[:16]}" for k, v in entry.xattrs) or "none"


def _encoding(entry: FileEntry) -> str:
    keys = f" pax[{','.join(entry.pax_keys)}]" if entry.pax_keys else ""
    return f"{entry.encoding}{keys} name={entry.name!r}"
