"""Package databases and package directories: which packages are installed, at which version.

Owns the parsers for dpkg `status` (and distroless `status.d/`), apk `installed`, Python
`METADATA`/`PKG-INFO`, npm `package.json`, the dist-info/egg-info/node_modules path conventions,
and the `dependency-change` explainer. Stanza formats are parsed leniently, as their own tools do;
only JSON is strict. When no package changed, the difference is handed to the text explainer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from .binary import explain_bytes
from .findings import (
    Cause,
    Change,
    ContentFinding,
    ContentFormatError,
    capped,
    counted,
    name_list,
)
from .text import explain_text, is_text

_NOT_INSTALLED = frozenset(("not-installed", "config-files"))  # dpkg Status third word
_NPM_DEPENDENCIES = (
    ("dependencies", "dep"),
    ("devDependencies", "dev dep"),
    ("peerDependencies", "peer dep"),
    ("optionalDependencies", "optional dep"),
)
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# PEP 427 escapes "-" in the distribution name, so the version is what follows the first "-" that
# precedes a digit; egg-info names may end in "-pyX.Y" (setuptools' egg_info).
_DIST_INFO = re.compile(r"(?P<name>.+?)-(?P<version>[0-9][^/]*)")
_EGG_INFO = re.compile(r"(?P<name>.+?)-(?P<version>[0-9][^-/]*)(?:-py[0-9].*)?")


@dataclass(frozen=True, slots=True)
class Package:
    """An installed package; `ecosystem` is the purl type ("deb", "apk", "pypi", "npm")."""

    ecosystem: str
    name: str
    version: str  # "" when the source does not say


@dataclass(frozen=True, slots=True)
class _Record:
    """A package with the text it was parsed from and what it declares it requires."""

    package: Package | None  # None for a package.json without a name (an application)
    body: str
    requires: tuple[tuple[str, str], ...] = ()  # (label, spec), e.g. ("dep lodash", "^4.17.0")


def _normalised(path: str) -> str:
    while path.startswith("./"):
        path = path[2:]
    return "/" + path.lstrip("/")


def _is_dpkg(path: str) -> bool:
    if path.endswith("/var/lib/dpkg/status"):
        return True
    # distroless: one stanza file per package, next to checksum lists that are not stanzas
    return "/var/lib/dpkg/status.d/" in path and not path.endswith(".md5sums")


def _is_apk(path: str) -> bool:
    return path.endswith("/lib/apk/db/installed")


def _is_python(path: str) -> bool:
    return path.endswith((".dist-info/METADATA", ".egg-info/PKG-INFO"))


def _is_npm(path: str) -> bool:
    return path.endswith("/package.json")


def is_package_database(path: str, old: bytes, new: bytes) -> bool:
    """A path whose content says which packages are installed."""
    return any(matches(_normalised(path)) for matches, _ in _PARSERS)


def parse_packages(path: str, data: bytes) -> tuple[Package, ...]:
    """The packages `data` lists, by the format its path names; () for other paths.

    Raises `ContentFormatError` for a package.json that is not a JSON object.
    """
    return tuple(record.package for record in _records(path, data) if record.package)


def package_from_path(path: str) -> Package | None:
    """The package a path belongs to, from the directory naming conventions alone.

    `.../requests-2.32.0.dist-info/...` and `.../foo-1.0-py3.11.egg-info/...` give name and
    version; `.../node_modules/@scope/name/package.json` gives the name only (version "").
    """
    parts = [part for part in path.split("/") if part and part != "."]
    for part in reversed(parts):
        if part.endswith(".dist-info"):
            return _python_dir(part.removesuffix(".dist-info"), _DIST_INFO)
        if part.endswith(".egg-info"):
            return _python_dir(part.removesuffix(".egg-info"), _EGG_INFO)
    if len(parts) >= 3 and parts[-1] == "package.json" and "node_modules" in parts:
        top = len(parts) - 1 - parts[::-1].index("node_modules")
        name = parts[top + 1 : -1]
        if len(name) == 1 or (len(name) == 2 and name[0].startswith("@")):
            return Package("npm", "/".join(name), "")
    return None


def _python_dir(stem: str, pattern: re.Pattern[str]) -> Package | None:
    if not stem:
        return None
    match = pattern.fullmatch(stem)
    if match is None:
        return Package("pypi", stem, "")
    return Package("pypi", match["name"], match["version"])


def package_changes(old: Sequence[Package], new: Sequence[Package]) -> tuple[Change, ...]:
    """(name, old version, new version) for every package whose version differs, by name; ""
    stands for absent. A name listed twice on one side shows its versions joined by ", "."""
    before, after = _versions(old), _versions(new)
    return tuple(
        (name, before.get(name, ""), after.get(name, ""))
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    )


def _versions(packages: Sequence[Package]) -> dict[str, str]:
    grouped: dict[str, list[str]] = {}
    for package in packages:
        grouped.setdefault(package.name, []).append(package.version)
    return {name: ", ".join(sorted(versions)) for name, versions in grouped.items()}


def explain_packages(path: str, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
    """`dependency-change` with (name, old, new) changes; other differences in the records of
    unchanged packages are `content`. With no package change, the text explainer decides."""
    old_records, new_records = _records(path, old), _records(path, new)
    changes = package_changes(
        [r.package for r in old_records if r.package], [r.package for r in new_records if r.package]
    )
    requires = _requirement_changes(old_records, new_records)
    findings: list[ContentFinding] = []
    if changes:
        detail = _summary(changes, "package")
        findings.append(ContentFinding(Cause.DEPENDENCY_CHANGE, detail, capped(changes)))
    if requires:
        detail = _summary(requires, "declared dependency")
        findings.append(ContentFinding(Cause.DEPENDENCY_CHANGE, detail, capped(requires)))
    if not findings:
        if is_text(old) and is_text(new):
            return explain_text(path, old, new)
        return explain_bytes(path, old, new)
    changed = {name for name, _, _ in changes}
    touched = _unchanged_but_different(old_records, new_records, changed)
    if touched:
        unchanged = counted(len(touched), "unchanged package")
        detail = f"other fields differ in {unchanged}: {name_list(touched)}"
        findings.append(ContentFinding(Cause.CONTENT, detail))
    return tuple(findings)


def _summary(changes: Sequence[Change], noun: str) -> str:
    def one(change: Change) -> str:
        name, before, after = change
        if not before:
            return f"{name} added ({after})" if after else f"{name} added"
        if not after:
            return f"{name} removed ({before})"
        return f"{name} {before} -> {after}"

    shown_changes = ", ".join(one(change) for change in changes[:3])
    more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
    return f"{counted(len(changes), noun)} changed: {shown_changes}{more}"


def _requirement_changes(old: Sequence[_Record], new: Sequence[_Record]) -> tuple[Change, ...]:
    before, after = _requirements(old), _requirements(new)
    return tuple(
        (label, before.get(label, ""), after.get(label, ""))
        for label in sorted(before.keys() | after.keys())
        if before.get(label) != after.get(label)
    )


def _requirements(records: Sequence[_Record]) -> dict[str, str]:
    # One name may be required several times under different markers: keep every spec.
    grouped: dict[str, list[str]] = {}
    for record in records:
        for label, spec in record.requires:
            grouped.setdefault(label, []).append(spec)
    return {label: "; ".join(specs) for label, specs in grouped.items()}


def _unchanged_but_different(
    old: Sequence[_Record], new: Sequence[_Record], changed: set[str]
) -> list[str]:
    before = {record.package.name: record.body for record in old if record.package}
    after = {record.package.name: record.body for record in new if record.package}
    return sorted(
        name
        for name in before.keys() & after.keys()
        if name not in changed and before[name] != after[name]
    )


# --- parsers ------------------------------------------------------------------------------------


def _records(path: str, data: bytes) -> list[_Record]:
    normalised = _normalised(path)
    for matches, parse in _PARSERS:
        if matches(normalised):
            return parse(data)
    return []


def _stanzas(text: str) -> Iterator[list[str]]:
    """Blank-line separated blocks of lines."""
    block: list[str] = []
    for line in text.splitlines():
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def _fields(lines: Sequence[str], *, fold_case: bool) -> dict[str, str]:
    """RFC 822-style "Name: value" fields; continuation lines (leading blank) are skipped, the
    first occurrence of a name wins."""
    fields: dict[str, str] = {}
    for line in lines:
        if line[:1] in (" ", "\t"):
            continue
        name, colon, value = line.partition(":")
        if colon:
            fields.setdefault(name.strip().lower() if fold_case else name.strip(), value.strip())
    return fields


def _parse_dpkg(data: bytes) -> list[_Record]:
    """dpkg status (deb-control(5) stanzas): Package, Version, Architecture, Status."""
    found: list[tuple[dict[str, str], str]] = []
    for block in _stanzas(data.decode("utf-8", "replace")):
        fields = _fields(block, fold_case=True)
        status = fields.get("status", "install ok installed").split()
        if "package" in fields and (len(status) < 3 or status[2] not in _NOT_INSTALLED):
            found.append((fields, "\n".join(block)))
    names = [fields["package"] for fields, _ in found]
    records = []
    for fields, body in found:
        name = fields["package"]
        if names.count(name) > 1 and fields.get("architecture"):  # multi-arch: libc6:i386
            name = f"{name}:{fields['architecture']}"
        records.append(_Record(Package("deb", name, fields.get("version", "")), body))
    return records


def _parse_apk(data: bytes) -> list[_Record]:
    """apk's installed database: stanzas of "X:value" lines, P: the name, V: the version."""
    records = []
    for block in _stanzas(data.decode("utf-8", "replace")):
        fields = _fields(block, fold_case=False)
        if "P" in fields:
            package = Package("apk", fields["P"], fields.get("V", ""))
            records.append(_Record(package, "\n".join(block)))
    return records


def _parse_python(data: bytes) -> list[_Record]:
    """Core metadata (METADATA, PKG-INFO): the header block before the first blank line."""
    text = data.decode("utf-8", "replace")
    header = next(_stanzas(text), [])
    fields = _fields(header, fold_case=True)
    if "name" not in fields:
        return []
    requires: list[tuple[str, str]] = []
    for line in header:
        name, _, value = line.partition(":")
        if name.strip().lower() == "requires-dist":
            match = _REQUIREMENT_NAME.match(value.strip())
            if match:
                requires.append((f"requires {match.group().lower()}", value.strip()))
    package = Package("pypi", fields["name"], fields.get("version", ""))
    return [_Record(package, text, tuple(requires))]


def _parse_npm(data: bytes) -> list[_Record]:
    """package.json: the package's own name and version, and its declared dependency ranges."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile nesting depth
        raise ContentFormatError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ContentFormatError("package.json is not a JSON object")
    name, version = document.get("name"), document.get("version")
    requires: list[tuple[str, str]] = []
    for key, label in _NPM_DEPENDENCIES:
        declared = document.get(key)
        if isinstance(declared, dict):
            requires.extend((f"{label} {dep}", str(spec)) for dep, spec in declared.items())
    package = None
    if isinstance(name, str) and name:  # an application's package.json may have no name
        package = Package("npm", name, version if isinstance(version, str) else "")
    return [_Record(package, "", tuple(requires))]


_PARSERS: tuple[tuple[Callable[[str], bool], Callable[[bytes], list[_Record]]], ...] = (
    (_is_dpkg, _parse_dpkg),
    (_is_apk, _parse_apk),
    (_is_python, _parse_python),
    (_is_npm, _parse_npm),
)
