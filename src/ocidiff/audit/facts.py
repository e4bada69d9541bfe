"""Per-layer content facts for the audit: installed packages, .pyc headers, gzip headers.

Pure: turns one layer's entries plus the bytes of the few files that matter (package databases,
compiled Python, gzip files) into small frozen values that the catalog stores and the lint reads.
It never reads a blob; `analysis.py` decides where the bytes come from.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..diff.findings import ContentFormatError, ContentLimitError
from ..diff.marshal_code import CODE_LAYOUTS, read_code
from ..diff.packages import is_package_database, parse_packages
from ..diff.pyc import is_pyc_path, parse_pyc_header
from ..inventory import FileEntry
from ..tar.events import EntryKind

GZIP_SUFFIXES = (".gz", ".tgz")
_GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass(frozen=True, slots=True)
class PackageFact:
    """One installed package named by a package database (or package.json) in a layer."""

    path: str  # the database file it was read from
    ecosystem: str  # purl type: deb, apk, pypi, npm
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class ContentFact:
    """A header fact of one file: a .pyc's invalidation mode, or a gzip member's MTIME."""

    path: str
    kind: str  # "pyc" | "gzip"
    mode: str  # pyc: timestamp | unchecked-hash | checked-hash; gzip: ""
    mtime: int | None  # pyc: source mtime in a timestamp header; gzip: header MTIME
    source_path: str | None  # pyc: co_filename of the module, when the code could be read


@dataclass(frozen=True, slots=True)
class LayerFacts:
    packages: tuple[PackageFact, ...] = ()
    contents: tuple[ContentFact, ...] = ()


def is_wanted(path: str) -> bool:
    """Files whose bytes the audit needs: package databases, compiled Python, gzip files."""
    return (
        is_pyc_path(path)
        or path.endswith(GZIP_SUFFIXES)
        or is_package_database("/" + path, b"", b"")
    )


def wanted_entries(entries: Iterable[FileEntry]) -> list[FileEntry]:
    return [e for e in entries if e.kind is EntryKind.FILE and e.size > 0 and is_wanted(e.path)]


def extract_facts(entries: Iterable[FileEntry], contents: Mapping[str, bytes]) -> LayerFacts:
    """Facts from the wanted files whose bytes are in `contents` (keyed by entry path)."""
    packages: set[PackageFact] = set()
    facts: list[ContentFact] = []
    for entry in wanted_entries(entries):
        data = contents.get(entry.path)
        if data is None:
            continue
        if is_pyc_path(entry.path):
            fact = pyc_fact(entry.path, data)
            if fact is not None:
                facts.append(fact)
        elif entry.path.endswith(GZIP_SUFFIXES):
            if data[:3] == _GZIP_MAGIC and len(data) >= 10:
                mtime = struct.unpack_from("<I", data, 4)[0]
                facts.append(ContentFact(entry.path, "gzip", "", mtime, None))
        else:
            packages.update(_packages(entry.path, data))
    return LayerFacts(
        tuple(sorted(packages, key=_package_order)),
        tuple(sorted(facts, key=lambda f: (f.path, f.kind))),
    )


def _package_order(fact: PackageFact) -> tuple[str, str, str, str]:
    return (fact.path, fact.ecosystem, fact.name, fact.version)


def _packages(path: str, data: bytes) -> list[PackageFact]:
    try:
        found = parse_packages("/" + path, data)
    except ContentFormatError:  # a package.json that is not JSON: no package, not an error
        return []
    if path.endswith("/package.json") and "node_modules/" not in path:
        return []  # an application's own manifest, not an installed package
    return [PackageFact(path, p.ecosystem, p.name, p.version) for p in found]


def pyc_fact(path: str, data: bytes) -> ContentFact | None:
    """The header mode and source mtime, and the module's co_filename when readable."""
    try:
        header = parse_pyc_header(data)
    except ContentFormatError:
        return None
    source: str | None = None
    layout = CODE_LAYOUTS.get(header.magic)
    if layout is not None:
        try:
            code = read_code(data[header.length :], layout)
        except (ContentFormatError, ContentLimitError):
            code = None
        if code is not None and code.filenames:
            source = code.filenames[0]
    mtime = header.mtime if header.mode == "timestamp" else None
    return ContentFact(path, "pyc", header.mode, mtime, source)


def expected_source(pyc_path: str) -> str:
    """Where the interpreter looks for the source of a .pyc (PEP 3147 `__pycache__` or beside)."""
    head, _, name = pyc_path.rpartition("/")
    if head.endswith("__pycache__") or head == "__pycache__":
        head = head.rpartition("/")[0] if "/" in head else ""
        name = name.split(".", 1)[0] + ".py"
    else:
        name = name.rsplit(".", 1)[0] + ".py"
    return "/" + (f"{head}/{name}" if head else name)
