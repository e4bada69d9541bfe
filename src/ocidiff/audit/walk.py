"""Finding releases: image tarballs and OCI layout directories under the paths given, in order.

Walks files and folders (shell-style globs allowed), never descends into a layout directory, and
orders releases by a natural version sort of their names, by a list in a file, or by the image
config's `created` time. Reads only directory listings and file metadata, except for
`--order created`, which the caller resolves by opening each archive.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, UsageError

# Suffixes of image archives in a folder walk; a path named on the command line is taken as is.
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".oci", ".docker")
_LAYOUT_MARKERS = ("oci-layout", "index.json")
_NUMBER = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class AuditInput:
    """One release to audit: an archive file or a layout directory."""

    path: str  # absolute, resolved: the release's identity in the catalog
    name: str  # shown to people and sorted on: the path relative to the walked root
    size: int  # bytes of the file, or of every file of a directory
    fingerprint: str  # changes when the file(s) change; an audited release is then redone


def is_layout_dir(path: Path) -> bool:
    return path.is_dir() and all((path / marker).is_file() for marker in _LAYOUT_MARKERS)


def find_inputs(paths: Sequence[str]) -> tuple[AuditInput, ...]:
    """Every release under `paths`, each once; raises InputError for a path that is not there."""
    found: dict[str, AuditInput] = {}
    for text in paths:
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else [text]
        if not matches:
            raise InputError("no file matches this pattern", file=text)
        for match in matches:
            path = Path(match)
            if not path.exists():
                raise InputError("no such file or directory", file=match)
            if path.is_dir() and not is_layout_dir(path):
                for item in _walk(path):
                    found.setdefault(str(item.resolve()), _input(item, item.relative_to(path)))
            else:
                found.setdefault(str(path.resolve()), _input(path, Path(path.name)))
    return tuple(found.values())


def _walk(root: Path) -> Iterable[Path]:
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        subdirs.sort()
        for name in list(subdirs):
            if is_layout_dir(here / name):
                subdirs.remove(name)
                yield here / name
        for name in sorted(files):
            if name.endswith(ARCHIVE_SUFFIXES) and (here / name).is_file():
                yield here / name


def _input(path: Path, name: Path) -> AuditInput:
    if path.is_dir():
        size, stamp = 0, 0
        for directory, _, files in os.walk(path):
            for file_name in files:
                info = os.stat(os.path.join(directory, file_name))
                size += info.st_size
                stamp = max(stamp, info.st_mtime_ns)
        count = sum(len(files) for _, _, files in os.walk(path))
        fingerprint = f"dir:{count}:{size}:{stamp}"
    else:
        info = path.stat()
        size = info.st_size
        fingerprint = f"file:{size}:{info.st_mtime_ns}"
    return AuditInput(str(path.resolve()), name.as_posix(), size, fingerprint)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Digit runs compare as numbers: v1.9 < v1.10, app-2 < app-10."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _NUMBER.split(text) if part
    )


class Order:
    """How releases are ordered: by name (default), by creation time, or by a list file."""

    NAME = "name"
    CREATED = "created"


def order_by_file(path_text: str) -> Callable[[str, str], tuple[int, ...]]:
    """A key from a file listing release names or paths, one a line; unlisted ones go last."""
    try:
        lines = Path(path_text).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(
            f"cannot read the order file: {exc.strerror or exc}", file=path_text
        ) from None
    rank: dict[str, int] = {}
    for line in lines:
        entry = line.strip()
        if entry and not entry.startswith("#"):
            rank.setdefault(entry, len(rank))
            rank.setdefault(str(Path(entry).resolve()), rank[entry])

    def key(path: str, name: str) -> tuple[int, ...]:
        for candidate in (path, name, Path(name).name):
            if candidate in rank:
                return (0, rank[candidate])
        return (1,)

    return key


def ordered(
    releases: Iterable[tuple[str, str]],
    order: str,
    created: Mapping[str, str | None] | None = None,
) -> list[str]:
    """Paths of (path, name) releases in audit order; ties fall back to the natural name sort.

    `order` is "name", "created" (needs `created` by path; unknown times go last) or a file."""
    items = list(releases)

    def by_name(item: tuple[str, str]) -> tuple[object, ...]:
        return (natural_key(item[1]), item[0])

    if order == Order.NAME:
        items.sort(key=by_name)
    elif order == Order.CREATED:
        times = created or {}
        items.sort(key=lambda i: (times.get(i[0]) is None, times.get(i[0]) or "", *by_name(i)))
    else:
        file_key = order_by_file(order)
        items.sort(key=lambda i: (file_key(*i), *by_name(i)))
    return [path for path, _ in items]
