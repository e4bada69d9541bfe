"""Python distributions seen from their directories: which were upgraded, installed or removed
between two entry lists, and which paths belong to them.

Owns the package-level view of path changes. A wheel install names its metadata directory
`<name>-<version>.dist-info` (PEP 427, PEP 376; setuptools' `.egg-info` likewise), so an upgrade
shows up as one directory removed and another added: that is one `dependency-change`, and every
path-level change of the distribution's files (the directory itself, and what its RECORD lists)
says which upgrade it belongs to. Pure; reads no content but a captured RECORD. Package databases
(dpkg status, apk installed, npm package.json) are compared by content in packages.py instead.
"""

from __future__ import annotations

import csv
import posixpath
import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..filesystem import is_whiteout
from ..inventory import FileEntry
from ..report import Change, Node
from .packages import package_from_path

_METADATA_SUFFIXES = (".dist-info", ".egg-info")
# The path-level causes a package change accounts for.
_NOTED = frozenset(
    (
        "files-added",
        "files-removed",
        "files-moved",
        "content",
        "embedded-timestamp",
        "embedded-path",
        "content-order",
    )
)
_RECORD_LIMIT = 100_000  # lines read from one RECORD; a hostile one must not cost more


@dataclass(frozen=True, slots=True)
class _Dist:
    site: str  # the directory holding the metadata directory (site-packages)
    name: str  # as the directory spells it
    version: str
    directory: str  # the metadata directory's path


@dataclass(frozen=True, slots=True)
class PackageNotes:
    """One `dependency-change` per distribution whose version changed, and which paths belong
    to those distributions (path -> "part of demo 1.0 -> 1.1")."""

    changes: tuple[Change, ...]
    owners: Mapping[str, str]
    locator: str

    def annotated(self, change: Change) -> Change:
        """`change` with the upgrade it belongs to appended to its detail, if any."""
        if change.cause not in _NOTED or not self.owners:
            return change
        path = change.locator.removeprefix(self.locator + "/")
        note = self.owners.get(path) or (self.owners.get(change.new or "") if change.new else None)
        if note is None:
            return change
        return replace(change, detail=f"{change.detail}; {note}" if change.detail else note)

    def annotated_node(self, node: Node) -> Node:
        note = self.owners.get(node.name)
        return node if note is None else replace(node, notes=(*node.notes, note))


def package_notes(
    old: Sequence[FileEntry], new: Sequence[FileEntry], contents: Mapping[str, bytes], locator: str
) -> PackageNotes:
    """Distributions whose metadata directory differs between `old` and `new`."""
    before, after = _dists(old), _dists(new)
    listings = (_Listing(old), _Listing(new)) if before or after else ()
    changes: list[Change] = []
    owners: dict[str, str] = {}
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key, []), after.get(key, [])
        old_versions = ", ".join(sorted({d.version for d in was}))
        new_versions = ", ".join(sorted({d.version for d in now}))
        if {d.directory for d in was} == {d.directory for d in now}:
            continue
        name = (now or was)[0].name
        note = _describe(name, old_versions, new_versions)
        where = (now or was)[0].directory
        what = "version changed" if was and now else "installed" if now else "removed"
        changes.append(
            Change(
                "dependency-change",
                f"{locator}/{where}",
                name,
                old_versions if was else None,
                new_versions if now else None,
                f"Python distribution: {what}",
            )
        )
        part_of = f"part of {note}"
        for dist, side in [*((d, 0) for d in was), *((d, 1) for d in now)]:
            for path in _owned(dist, listings[side], contents):
                owners.setdefault(path, part_of)
    return PackageNotes(tuple(changes), owners, locator)


def _describe(name: str, old: str, new: str) -> str:
    if not old:
        return f"{name} {new} installed"
    if not new:
        return f"{name} {old} removed"
    return f"{name} {old} -> {new}"


def _dists(entries: Sequence[FileEntry]) -> dict[tuple[str, str], list[_Dist]]:
    """(site directory, normalised name) -> the metadata directories found there."""
    found: dict[tuple[str, str], dict[str, _Dist]] = {}
    for entry in entries:
        if is_whiteout(entry.path):  # `.wh.demo-1.0.dist-info` deletes a distribution, is none
            continue
        parts = entry.path.split("/")
        for index, part in enumerate(parts):
            if not part.endswith(_METADATA_SUFFIXES):
                continue
            directory = "/".join(parts[: index + 1])
            package = package_from_path(directory)
            if package is not None and package.version:
                site = "/".join(parts[:index])
                dist = _Dist(site, package.name, package.version, directory)
                found.setdefault((site, _normalised(package.name)), {})[directory] = dist
            break
    return {key: sorted(dists.values(), key=lambda d: d.directory) for key, dists in found.items()}


def _normalised(name: str) -> str:
    """PEP 503 name normalisation: `Foo_Bar` and `foo-bar` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


class _Listing:
    """One side's paths, sorted, so a directory's contents are one bisected range (a layer may
    upgrade hundreds of distributions among a hundred thousand paths)."""

    def __init__(self, entries: Sequence[FileEntry]) -> None:
        self.by_path = {entry.path: entry for entry in entries}
        self.paths = sorted(self.by_path)

    def under(self, directory: str) -> list[str]:
        prefix = directory + "/"
        start = bisect_left(self.paths, prefix)
        stop = bisect_left(self.paths, directory + "0")  # "0" follows "/" in code point order
        inside = self.paths[start:stop]
        return [directory, *inside] if directory in self.by_path else inside


def _owned(dist: _Dist, listing: _Listing, contents: Mapping[str, bytes]) -> list[str]:
    """The metadata directory, everything under it, and every path its RECORD lists."""
    paths = listing.under(dist.directory)
    record = listing.by_path.get(dist.directory + "/RECORD")
    data = contents.get(record.digest or "") if record is not None else None
    if data is not None:
        paths.extend(_record_paths(dist.site, data))
    return paths


def _record_paths(site: str, data: bytes) -> list[str]:
    """Paths a RECORD (PEP 376: CSV, path first, relative to the site directory) lists."""
    lines = data.decode("utf-8", "replace").splitlines()[:_RECORD_LIMIT]
    paths: list[str] = []
    try:
        for row in csv.reader(lines):
            if row and row[0]:
                path = posixpath.normpath(posixpath.join(site, row[0])).lstrip("/")
                if path != ".." and not path.startswith("../"):
                    paths.append(path)
    except csv.Error:  # a NUL byte or an over-long field: keep what was read before it
        pass
    return paths
