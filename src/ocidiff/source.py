"""Where archive members come from: an un-extracted tarball read by offsets, or a directory.

A source lists its members once and opens any member as a bounded binary reader. Symlinked and
hardlinked members (docker save's shared `layer.tar`) resolve inside the archive's own namespace,
never on the host file system. Nothing is ever extracted or written.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from .errors import ImageFormatError, InputError, MissingBlobError
from .tar.events import EntryKind, TarEntry, Trailer
from .tar.limits import DEFAULT_LIMITS, TarLimits

_MAX_LINK_HOPS = 16


@dataclass(frozen=True, slots=True)
class Member:
    """One member of the outer archive (or one file of a layout directory)."""

    path: str  # normalised: no './' prefix, no leading or trailing '/'
    kind: EntryKind
    size: int
    order: int  # position in the archive (directory sources: sorted order)
    link_target: str | None = None  # normalised archive path for symlinks and hardlinks
    mtime_ns: int = 0
    mode: int = 0
    uid: int = 0
    gid: int = 0
    data_offset: int = 0


class ArchiveSource(Protocol):
    """Random access to the members of an image archive."""

    @property
    def name(self) -> str: ...

    @property
    def trailer(self) -> Trailer | None:
        """How the archive's tar stream ended; None for a directory."""
        ...

    def members(self) -> tuple[Member, ...]: ...

    def locate(self, path: str) -> Member:
        """The regular-file member `path` names, links followed; raises like `open` would
        for a missing member, a link out of the archive or a loop, without reading data."""
        ...

    def open(self, path: str) -> BinaryIO: ...

    def close(self) -> None: ...


def normalize_member_path(name: str) -> str:
    """Archive member names without './', leading '/', trailing '/' or '.' segments."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts)


def resolve_link(target: str, link_dir: str, *, hardlink: bool) -> str | None:
    """Resolve a link target inside the archive namespace; None when it escapes the root."""
    if hardlink:
        joined = target  # hardlink names are archive paths already
    elif target.startswith("/"):
        return None  # an absolute host path is never followed
    else:
        joined = posixpath.join(link_dir, target)
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


class _MemberTable:
    """Lookup of members by normalised path, following links within the archive."""

    def __init__(self, archive: str, members: tuple[Member, ...]) -> None:
        self.archive = archive
        self.by_path: dict[str, Member] = {}
        self.duplicates: list[str] = []
        for member in members:
            if member.path in self.by_path:
                self.duplicates.append(member.path)
            self.by_path[member.path] = member  # a later entry wins, as tar extraction would

    def resolve(self, path: str) -> Member:
        member = self.by_path.get(normalize_member_path(path))
        for _ in range(_MAX_LINK_HOPS):
            if member is None:
                raise MissingBlobError("member not found in the archive", member=path)
            if member.kind not in (EntryKind.SYMLINK, EntryKind.HARDLINK):
                if member.kind is not EntryKind.FILE:
                    raise ImageFormatError("member is not a regular file", member=path)
                return member
            if member.link_target is None:
                raise ImageFormatError("link member points outside the archive", member=member.path)
            member = self.by_path.get(member.link_target)
        raise ImageFormatError("link member forms a loop or chain too long", member=path)


class RangeReader(io.RawIOBase):
    """A read-only view of `length` bytes of a file starting at `start`; owns no file handle."""

    def __init__(self, fd: int, start: int, length: int) -> None:
        super().__init__()
        self._fd = fd
        self._pos = start
        self._end = start + length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._end - self._pos)
        if want <= 0:
            return 0
        view = memoryview(buffer)[:want]
        got = os.preadv(self._fd, [view], self._pos)
        if got == 0:
            raise InputError("file ended before the member's data", offset=self._pos)
        self._pos += got
        return got

    def read(self, size: int = -1) -> bytes:
        remaining = self._end - self._pos
        want = remaining if size is None or size < 0 else min(size, remaining)
        if want <= 0:
            return b""
        data = os.pread(self._fd, want, self._pos)
        if not data:
            raise InputError("file ended before the member's data", offset=self._pos)
        self._pos += len(data)
        return data


class TarballSource:
    """An uncompressed, seekable outer tarball: indexed once, members read by offset."""

    def __init__(self, path: Path, limits: TarLimits = DEFAULT_LIMITS) -> None:
        from .tar.stream import index_archive

        self._path = path
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            entries, end = index_archive(self._file, limits=limits)
            self._members = tuple(_member_from_entry(e, i) for i, e in enumerate(entries))
        except BaseException:
            self._file.close()
            raise
        self.trailer: Trailer | None = end.trailer
        self._table = _MemberTable(str(path), self._members)
        self._fd = self._file.fileno()
        self._file_size = os.fstat(self._fd).st_size

    @property
    def name(self) -> str:
        return str(self._path)

    def members(self) -> tuple[Member, ...]:
        return self._members

    def locate(self, path: str) -> Member:
        return self._table.resolve(path)

    def open(self, path: str) -> BinaryIO:
        member = self._table.resolve(path)
        if member.data_offset + member.size > self._file_size:
            raise InputError(
                "member data extends past the end of the file (truncated archive)",
                member=member.path,
                offset=member.data_offset,
            )
        return io.BufferedReader(RangeReader(self._fd, member.data_offset, member.size), 1 << 20)

    def close(self) -> None:
        self._file.close()


def _member_from_entry(entry: TarEntry, order: int) -> Member:
    path = normalize_member_path(entry.name)
    target: str | None = None
    if entry.kind is EntryKind.SYMLINK:
        target = resolve_link(entry.linkname, posixpath.dirname(path), hardlink=False)
    elif entry.kind is EntryKind.HARDLINK:
        target = resolve_link(normalize_member_path(entry.linkname), "", hardlink=True)
    return Member(
        path=path,
        kind=entry.kind,
        size=entry.size,
        order=order,
        link_target=target,
        mtime_ns=entry.mtime_ns,
        mode=entry.mode & 0o7777,
        uid=entry.uid,
        gid=entry.gid,
        data_offset=entry.data_offset,
    )


class DirectorySource:
    """An OCI layout directory on disk; links never lead outside the directory."""

    trailer: Trailer | None = None

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._members = tuple(self._walk())
        self._table = _MemberTable(str(root), self._members)

    def _walk(self) -> Iterator[Member]:
        found: list[tuple[str, os.stat_result, str | None]] = []
        for dirpath, dirnames, filenames in os.walk(self._root, followlinks=False):
            dirnames.sort()
            for name in sorted(
                filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
            ):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, self._root).replace(os.sep, "/")
                info = os.lstat(full)
                target = None
                if stat.S_ISLNK(info.st_mode):
                    target = resolve_link(os.readlink(full), posixpath.dirname(rel), hardlink=False)
                found.append((rel, info, target))
        for order, (rel, info, target) in enumerate(sorted(found)):
            kind = (
                EntryKind.SYMLINK
                if stat.S_ISLNK(info.st_mode)
                else (EntryKind.FILE if stat.S_ISREG(info.st_mode) else EntryKind.OTHER)
            )
            yield Member(
                rel,
                kind,
                info.st_size,
                order,
                target,
                info.st_mtime_ns,
                info.st_mode & 0o7777,
                info.st_uid,
                info.st_gid,
            )

    @property
    def name(self) -> str:
        return str(self._root)

    def members(self) -> tuple[Member, ...]:
        return self._members

    def locate(self, path: str) -> Member:
        return self._table.resolve(path)

    def open(self, path: str) -> BinaryIO:
        member = self._table.resolve(path)
        return open(self._root / member.path, "rb")

    def close(self) -> None:
        return None


class MemorySource:
    """Members held in memory: what a streamed (non-seekable) archive retains for its documents."""

    def __init__(
        self,
        name: str,
        members: tuple[Member, ...],
        data: dict[str, bytes],
        trailer: Trailer | None = None,
    ) -> None:
        self.trailer = trailer
        self._name = name
        self._members = members
        self._data = data
        self._table = _MemberTable(name, members)

    @property
    def name(self) -> str:
        return self._name

    def members(self) -> tuple[Member, ...]:
        return self._members

    def locate(self, path: str) -> Member:
        return self._table.resolve(path)

    def open(self, path: str) -> BinaryIO:
        member = self._table.resolve(path)
        data = self._data.get(member.path)
        if data is None:
            raise MissingBlobError("member was streamed past and not retained", member=member.path)
        return io.BytesIO(data)

    def close(self) -> None:
        return None
