"""Compiled Python (.pyc): the header's source timestamp and the build path in `co_filename`.

Owns the .pyc header layouts (PEP 552 and the older 12- and 8-byte ones) and the comparison of
code objects with their file names set aside. It unmarshals only data written by this very
interpreter (same magic) and only after `marshal_bounds` has vetted it; anything else is compared
at byte level. Code objects are built, never executed.
"""

from __future__ import annotations

import importlib.util
import marshal
import re
import struct
import types
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import InputError
from .binary import describe_byte_difference
from .findings import Cause, ContentFinding, ContentFormatError, capped, name_list, shown
from .marshal_bounds import check_marshal_bounds, running_code_fields

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
    running = struct.unpack_from("<H", importlib.util.MAGIC_NUMBER)[0]
    fields = running_code_fields()
    if magic != running or fields is None:
        return _byte_level(old, new, "written by another Python version")
    try:
        code_old, used_old = _load_code(old, fields)
        code_new, used_new = _load_code(new, fields)
    except InputError as err:
        return _byte_level(old, new, f"code could not be unmarshalled: {err.message}")
    findings = _code_findings(code_old, code_new)
    if old[used_old:] != new[used_new:]:
        extra = ContentFinding(Cause.CONTENT, "bytes after the marshalled code object differ")
        findings = (*findings, extra)
    return findings


def _load_code(body: bytes, fields: str) -> tuple[types.CodeType, int]:
    """The code object and the number of bytes it took."""
    used = check_marshal_bounds(body, fields)
    try:
        code = marshal.loads(body)
    except (ValueError, EOFError, TypeError) as exc:
        raise ContentFormatError(f"bad marshal data: {exc}") from None
    if not isinstance(code, types.CodeType):
        raise ContentFormatError(f"marshalled {type(code).__name__}, not a code object")
    return code, used


def _code_findings(old: types.CodeType, new: types.CodeType) -> tuple[ContentFinding, ...]:
    old_names, new_names = _filenames(old), _filenames(new)
    findings: list[ContentFinding] = []
    if old_names != new_names:
        pairs = capped(_filename_changes(old_names, new_names))
        first = pairs[0] if pairs else ("co_filename", "", "")
        detail = f"co_filename {shown(first[1])} -> {shown(first[2])}"
        findings.append(ContentFinding(Cause.EMBEDDED_PATH, detail, pairs))
    try:
        difference = _code_difference(old, new)
    except (ValueError, TypeError) as exc:  # code.replace revalidates; hostile fields fail here
        difference = f"code objects could not be compared: {exc}"
    if difference:
        findings.append(ContentFinding(Cause.CONTENT, difference))
    return tuple(findings)


def _code_difference(old: types.CodeType, new: types.CodeType) -> str | None:
    """None when the code objects are equal once their file names are set aside."""
    if marshal.dumps(_without_filenames(old, {})) == marshal.dumps(_without_filenames(new, {})):
        return None
    differing = _differing_functions(old, new)
    if differing:
        return f"compiled code differs in {name_list(differing)}"
    # Equal objects, different bytes: marshal flags the objects it saw shared (FLAG_REF) by
    # their reference count at write time, which varies between compiler runs.
    return "marshal encoding differs (reference flags); the code objects are equal"


def _nested(code: types.CodeType) -> Iterator[types.CodeType]:
    return (const for const in code.co_consts if isinstance(const, types.CodeType))


def _walk(code: types.CodeType) -> Iterator[types.CodeType]:
    """Every code object once, parents first (shared ones are visited once)."""
    seen: set[int] = set()
    stack = [code]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(reversed(list(_nested(current))))


def _filenames(code: types.CodeType) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.co_filename for c in _walk(code)))


def _filename_changes(old: tuple[str, ...], new: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else ""
        after = new[index] if index < len(new) else ""
        if before != after:
            yield "co_filename", before, after


def _without_filenames(
    code: types.CodeType, done: dict[int, types.CodeType]
) -> types.CodeType:
    """`code` with co_filename emptied in it and every nested code object (memoised by id)."""
    if id(code) in done:
        return done[id(code)]
    consts = tuple(
        _without_filenames(c, done) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    result = code.replace(co_filename="", co_consts=consts)
    done[id(code)] = result
    return result


def _differing_functions(old: types.CodeType, new: types.CodeType) -> list[str]:
    """Qualified names whose own code differs (nested functions stand in by name only)."""
    old_own, new_own = _own_parts(old), _own_parts(new)
    names = sorted(old_own.keys() | new_own.keys())
    return [name for name in names if old_own.get(name) != new_own.get(name)]


def _own_parts(code: types.CodeType) -> dict[str, types.CodeType]:
    # Code equality ignores co_filename and co_qualname but follows nested code objects; replace
    # those by their names so a change is reported in the function it is in, not in its parents.
    parts: dict[str, types.CodeType] = {}
    for current in _walk(code):
        consts = tuple(
            f"<code {c.co_qualname}>" if isinstance(c, types.CodeType) else c
            for c in current.co_consts
        )
        key, count = current.co_qualname, 1
        while key in parts:  # two lambdas in one scope share a qualified name
            count += 1
            key = f"{current.co_qualname} #{count}"
        parts[key] = current.replace(co_consts=consts)
    return parts


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
