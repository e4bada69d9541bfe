"""The local side of verify-tree: walk a build context and describe every entry it would send.

The only module of the gates that reads a user's directory. It never follows symbolic links,
never writes, and hashes file content with blake3 exactly as the layer pump does (the whole
content, one digest per file), so the two sides compare digest to digest.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .dockerignore import IgnoreRules, could_match_below

_READ_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """One path of the build context, relative to the compared root (`/`-separated)."""

    path: str
    kind: str  # "file" | "dir" | "symlink" | "other"
    mode: int  # permission bits
    digest: str | None  # blake3 hex of a file's content
    target: str | None  # a symlink's target


@dataclass(frozen=True, slots=True)
class SourceWalk:
    entries: tuple[SourceEntry, ...]  # sorted by path
    ignored: int  # paths left out by the ignore rules (pruned directories count once)


def walk_source(root: Path, rules: IgnoreRules, *, prefix: str = "") -> SourceWalk:
    """Every entry under `root` that the ignore rules keep; `prefix` is `root`'s path inside the
    build context, so that patterns written for the context root apply to a subdirectory."""
    try:
        if not root.is_dir():
            raise InputError("not a directory", file=str(root))
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), file=str(root)) from None
    found: dict[str, SourceEntry] = {}
    # Excluded directories walked for a possible exception: added after all when something
    # inside is re-included, because the copy then creates them (Docker keeps their modes).
    held: dict[str, SourceEntry] = {}
    ignored = 0
    pending = [""]
    while pending:
        relative_dir = pending.pop()
        for name, info in _listing(root, relative_dir):
            relative = f"{relative_dir}/{name}" if relative_dir else name
            in_context = f"{prefix}/{relative}" if prefix else relative
            is_dir = stat.S_ISDIR(info.st_mode)
            if rules.excludes(in_context):
                ignored += 1
                if is_dir and could_match_below(rules, in_context):
                    held[relative] = _describe(root, relative, info)
                    pending.append(relative)
                continue
            found[relative] = _describe(root, relative, info)
            _add_held_parents(relative, held, found)
            if is_dir:
                pending.append(relative)
    ignored -= sum(1 for path in held if path in found)
    return SourceWalk(tuple(found[p] for p in sorted(found)), ignored)


def _add_held_parents(
    relative: str, held: dict[str, SourceEntry], found: dict[str, SourceEntry]
) -> None:
    parent = relative.rpartition("/")[0]
    while parent and parent in held and parent not in found:
        found[parent] = held[parent]
        parent = parent.rpartition("/")[0]


def _listing(root: Path, relative_dir: str) -> list[tuple[str, os.stat_result]]:
    directory = root / relative_dir if relative_dir else root
    try:
        with os.scandir(directory) as scan:
            return sorted((e.name, e.stat(follow_symlinks=False)) for e in scan)
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), file=str(directory)) from None


def _describe(root: Path, relative: str, info: os.stat_result) -> SourceEntry:
    mode = stat.S_IMODE(info.st_mode)
    full = root / relative
    if stat.S_ISREG(info.st_mode):
        return SourceEntry(relative, "file", mode, hash_file(full), None)
    if stat.S_ISDIR(info.st_mode):
        return SourceEntry(relative, "dir", mode, None, None)
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(full)
        except OSError as exc:
            raise InputError(exc.strerror or str(exc), file=str(full)) from None
        return SourceEntry(relative, "symlink", mode, None, target)
    return SourceEntry(relative, "other", mode, None, None)


def hash_file(path: Path) -> str:
    """blake3 hex of a file's bytes, as `inventory` computes it for a layer entry."""
    import blake3

    hasher = blake3.blake3()
    try:
        with open(path, "rb") as handle:
            while data := handle.read(_READ_SIZE):
                hasher.update(data)
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), file=str(path)) from None
    return str(hasher.hexdigest())


def context_prefix(context_root: Path, source: Path) -> str | None:
    """`source`'s path inside the build context rooted at `context_root`, '' for the root
    itself, or None when `source` is not inside it."""
    try:
        relative = source.resolve().relative_to(context_root.resolve())
    except ValueError:
        return None
    text = relative.as_posix()
    return "" if text == "." else text
