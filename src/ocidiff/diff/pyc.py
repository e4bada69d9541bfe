"""Compiled Python (.pyc): the header's source timestamp and the build path in `co_filename`.

Owns the .pyc header layouts (PEP 552 and the older 12- and 8-byte ones) and the comparison of
code objects with their file names set aside: read by `marshal_code` for CPython 3.11 to 3.13
(whichever Python runs ocidiff), compared at byte level with paths masked for the others. It
never unmarshals file content into Python objects.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import InputError
from .binary import describe_byte_difference
from .findings import Cause, ContentFinding, ContentFormatError, capped, name_list, shown
from .marshal_code import CODE_LAYOUTS, MarshalledCode, read_code

# Magic numbers (little-endian 16-bit, then b"\r\n"), importlib/_bootstrap_external.py: 3.7
# (3390) introduced the 16-byte PEP 552 header; 3.3 (3230) added the source size to the 8-byte
# magic + mtime header. Python 2 magics (20121 and up) use the 8-byte header.
_PEP552_MAGIC = 3390
_SOURCE_SIZE_MAGIC = 3230
_PY2_MAGIC = 20000

_MODES = {0b00: "timestamp", 0b01: "unchecked-hash", 0b11: "checked-hash"}  # PEP 552 flags

# A path inside marshalled data: at least one separator between path-ish characters.
_PATH = re.compile(rb"(?:[A-Za-z]:)?[\w.+@~-]*(?:[/\\][\w.+@~-]+)+")
_SHORT_STRING_TYPES = frozenset(b"zZ\xfa\xda")  # short ascii (interned), with or without FLAG_REF
_LONG_STRING_TYPES = frozenset(b"aAut\xe1\xc1\xf5\xf4")


@dataclass(frozen=True, slots=True)
class PycHeader:
    """The fields in front of the marshalled code object."""

    magic: int
    flags: int  # PEP 552 invalidation flags; 0 for the older layouts
    mtime: int | None
    source_size: int | None
    source_hash: bytes | None
    length: int

    @property
    def mode(self) -> str:
        return _MODES[self.flags]


def is_pyc_path(path: str) -> bool:
    """Compiled Python by name (.pyc, or .pyo from Python 2 and 3.4 and older)."""
    return path.endswith((".pyc", ".pyo"))


def parse_pyc_header(data: bytes) -> PycHeader:
    """Parse the header; `ContentFormatError` when it is not one."""
    if len(data) < 8 or data[2:4] != b"\r\n":
        raise ContentFormatError("no .pyc magic number")
    magic = struct.unpack_from("<H", data)[0]
    if _PEP552_MAGIC <= magic < _PY2_MAGIC:
        if len(data) < 16:
            raise ContentFormatError("truncated .pyc header")
        flags = struct.unpack_from("<I", data, 4)[0]
        if flags not in _MODES:
            raise ContentFormatError(f"invalid .pyc flags {flags:#x}")
        if flags:
            return PycHeader(magic, flags, None, None, data[8:16], 16)
        mtime, size = struct.unpack_from("<II", data, 8)
        return PycHeader(magic, 0, mtime, size, None, 16)
    if _SOURCE_SIZE_MAGIC <= magic < _PEP552_MAGIC:
        if len(data) < 12:
            raise ContentFormatError("truncated .pyc header")
        mtime, size = struct.unpack_from("<II", data, 4)
        return PycHeader(magic, 0, mtime, size, None, 12)
    return PycHeader(magic, 0, struct.unpack_from("<I", data, 4)[0], None, None, 8)


def explain_pyc(path: str, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
    """Header timestamps, `co_filename` paths, and whatever else differs in the code."""
    a, b = parse_pyc_header(old), parse_pyc_header(new)
    if a.magic != b.magic:
        detail = f".pyc magic {a.magic} -> {b.magic}: compiled by different Python versions"
        return (ContentFinding(Cause.CONTENT, detail),)
    findings = list(_header_findings(a, b))
    body_old, body_new = old[a.length :], new[b.length :]
    if body_old != body_new:
        findings.extend(_body_findings(a.magic, body_old, body_new))
    return tuple(findings)


def _header_findings(a: PycHeader, b: PycHeader) -> Iterator[ContentFinding]:
    if a.flags != b.flags:
        yield ContentFinding(Cause.CONTENT, f".pyc invalidation mode {a.mode} -> {b.mode}")
        return
    if a.mtime != b.mtime:
        change = ("mtime", str(a.mtime), str(b.mtime))
        detail = f".pyc header mtime {a.mtime} -> {b.mtime}"
        yield ContentFinding(Cause.EMBEDDED_TIMESTAMP, detail, (change,))
    if a.source_size != b.source_size:
        detail = f".pyc header source size {a.source_size} -> {b.source_size}: the source changed"
        yield ContentFinding(Cause.CONTENT, detail)
    if a.source_hash != b.source_hash:
        old_hash, new_hash = (a.source_hash or b"").hex(), (b.source_hash or b"").hex()
        detail = f".pyc header source hash {old_hash} -> {new_hash}: the source changed"
        yield ContentFinding(Cause.CONTENT, detail)


def _body_findings(magic: int, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
    layout = CODE_LAYOUTS.get(magic)
    if layout is None:
        return _byte_level(old, new, f"no code object layout known for magic {magic}")
    try:
        code_old, code_new = read_code(old, layout), read_code(new, layout)
    except InputError as err:
        return _byte_level(old, new, f"code could not be read: {err.one_line()}")
    findings = list(_code_findings(code_old, code_new))
    if old[code_old.length :] != new[code_new.length :]:
        findings.append(ContentFinding(Cause.CONTENT, "bytes after the marshalled code differ"))
    if not findings:
        # Equal code, different bytes: marshal flags the objects it saw shared (FLAG_REF) by
        # reference count at write time and keeps strings' interning, both of which vary
        # between compiler runs.
        detail = "marshal encoding differs (reference flags or interning); the code is equal"
        findings.append(ContentFinding(Cause.CONTENT, detail))
    return tuple(findings)


def _code_findings(old: MarshalledCode, new: MarshalledCode) -> Iterator[ContentFinding]:
    if old.filenames != new.filenames:
        pairs = capped(_filename_changes(old.filenames, new.filenames))
        first = pairs[0] if pairs else ("co_filename", "", "")
        detail = f"co_filename {shown(first[1])} -> {shown(first[2])}"
        yield ContentFinding(Cause.EMBEDDED_PATH, detail, pairs)
    if old.canonical != new.canonical:
        differing = _differing_functions(old.functions, new.functions)
        where = f" in {name_list(differing)}" if differing else ""
        yield ContentFinding(Cause.CONTENT, f"compiled code differs{where}")


def _filename_changes(old: tuple[str, ...], new: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else ""
        after = new[index] if index < len(new) else ""
        if before != after:
            yield "co_filename", before, after


def _differing_functions(
    old: tuple[tuple[str, bytes], ...], new: tuple[tuple[str, bytes], ...]
) -> list[str]:
    """Qualified names whose own code differs (nested functions count in their parent by name
    only, so a change is reported where it is)."""
    before, after = _keyed(old), _keyed(new)
    names = before.keys() | after.keys()
    return sorted(name for name in names if before.get(name) != after.get(name))


def _keyed(functions: tuple[tuple[str, bytes], ...]) -> dict[str, bytes]:
    keyed: dict[str, bytes] = {}
    for name, own in functions:
        key, count = name, 1
        while key in keyed:  # two lambdas in one scope share a qualified name
            count += 1
            key = f"{name} #{count}"
        keyed[key] = own
    return keyed


def _byte_level(old: bytes, new: bytes, why: str) -> tuple[ContentFinding, ...]:
    """Compare with every path-like marshalled string masked out, and say that is what we did."""
    old_paths, old_masked = _mask_paths(old)
    new_paths, new_masked = _mask_paths(new)
    findings: list[ContentFinding] = []
    if old_paths != new_paths:
        pairs = capped(
            ("path", a.decode("utf-8", "replace"), b.decode("utf-8", "replace"))
            for a, b in zip(old_paths, new_paths, strict=False)
            if a != b
        )
        detail = f"embedded paths differ (byte-level comparison, {why})"
        if pairs:
            detail = f"path {shown(pairs[0][1])} -> {shown(pairs[0][2])} ({why}; byte level)"
        findings.append(ContentFinding(Cause.EMBEDDED_PATH, detail, pairs))
    if old_masked != new_masked:
        summary = describe_byte_difference(old_masked, new_masked)
        detail = f"compiled code differs ({why}; byte level): {summary}"
        findings.append(ContentFinding(Cause.CONTENT, detail))
    return tuple(findings)


def _mask_paths(data: bytes) -> tuple[tuple[bytes, ...], bytes]:
    """The path-like strings in marshalled data, and the data with each one (and, when it is a
    whole marshalled string, its type and length prefix) replaced by a fixed marker."""
    paths: list[bytes] = []
    out: list[bytes] = []
    last = 0
    for match in _PATH.finditer(data):
        start, end = match.span()
        start = _string_start(data, start, end)
        if start < last:
            continue
        paths.append(match.group())
        out.append(data[last:start])
        out.append(b"\0<path>\0")
        last = end
    out.append(data[last:])
    return tuple(paths), b"".join(out)


def _string_start(data: bytes, start: int, end: int) -> int:
    """Where the marshalled string holding data[start:end] begins, if it is exactly one."""
    size = end - start
    if start >= 2 and data[start - 2] in _SHORT_STRING_TYPES and data[start - 1] == size:
        return start - 2
    if (
        start >= 5
        and data[start - 5] in _LONG_STRING_TYPES
        and struct.unpack_from("<I", data, start - 4)[0] == size
    ):
        return start - 5
    return start
