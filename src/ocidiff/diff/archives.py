"""Archives inside an image: gzip streams, zip (jar, wheel, ...) and tar files, opened from memory.

Owns reading them under hard limits (64 MiB decompressed per side, 10,000 members, deflate or
stored zip members only) and turning their headers into `Member` rows and gzip header findings.
Members' contents go to the injected leaf explainers, never back to these readers, so an archive
inside an archive is compared as bytes: recursion stops one level down.
"""

from __future__ import annotations

import hashlib
import io
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator

from ..compression import Compression, GzipHeader, new_decoder, parse_gzip_header
from ..errors import CompressionError
from .findings import (
    Cause,
    ContentFinding,
    ContentFormatError,
    ContentLimitError,
    shown,
)
from .members import Fields, Member, MemberExplainer, compare_members

MAX_DECOMPRESSED = 64 << 20  # per side, over the gzip payload and every member read
MAX_MEMBERS = 10_000

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local header, or the end record of an empty zip
_GZIP_SUFFIXES = (".gz", ".tgz")
_ZIP_SUFFIXES = (".zip", ".jar", ".war", ".ear", ".aar", ".whl", ".egg", ".nupkg")
_FNAME = 0x08  # gzip FLG bit, RFC 1952 §2.3.1
# What the standard readers raise on damaged input; anything else escaping them is our bug.
_TAR_ERRORS = (tarfile.TarError, EOFError, ValueError, OverflowError, OSError)
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    ValueError,
    OverflowError,
    OSError,
    NotImplementedError,
    RuntimeError,  # encrypted members
    struct.error,
)


class _Budget:
    """Decompressed bytes one side may still produce; shared by every read on that side."""

    def __init__(self) -> None:
        self.left = MAX_DECOMPRESSED

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise ContentLimitError(f"more than {MAX_DECOMPRESSED >> 20} MiB decompressed")


def _has_ustar_magic(data: bytes) -> bool:
    return data[257:262] == b"ustar"  # POSIX ustar and GNU ("ustar  ") alike


def is_gzip(path: str, old: bytes, new: bytes) -> bool:
    """Both sides start with the gzip magic, or the name says gzip."""
    both = old.startswith(_GZIP_MAGIC) and new.startswith(_GZIP_MAGIC)
    return both or path.endswith(_GZIP_SUFFIXES)


def is_zip(path: str, old: bytes, new: bytes) -> bool:
    """Both sides start like a zip (a local header, or an empty zip), or the name says zip."""
    both = old.startswith(_ZIP_MAGICS) and new.startswith(_ZIP_MAGICS)
    return both or path.endswith(_ZIP_SUFFIXES)


def is_tar(path: str, old: bytes, new: bytes) -> bool:
    """Both sides carry the ustar magic at offset 257, or the name says tar."""
    return (_has_ustar_magic(old) and _has_ustar_magic(new)) or path.endswith(".tar")


# --- gzip ---------------------------------------------------------------------------------------


def explain_gzip(
    path: str, old: bytes, new: bytes, *, explain_member: MemberExplainer
) -> tuple[ContentFinding, ...]:
    """Header fields (MTIME, FNAME, OS, XFL), then the decompressed payload one level down."""
    budgets = _Budget(), _Budget()
    header_old, header_new = _gzip_header(old, "old"), _gzip_header(new, "new")
    payload_old = _gunzip(old, "old", budgets[0])
    payload_new = _gunzip(new, "new", budgets[1])
    findings = list(_gzip_header_findings(header_old, header_new))
    if payload_old == payload_new:
        if not findings:
            detail = "the compressed streams differ; the decompressed content is equal"
            findings.append(ContentFinding(Cause.COMPRESSION, detail))
        return tuple(findings)
    inner = path[: -len(".tgz")] + ".tar" if path.endswith(".tgz") else path.removesuffix(".gz")
    if _has_ustar_magic(payload_old) and _has_ustar_magic(payload_new):
        payload = compare_tars(payload_old, payload_new, explain_member, budgets)
    else:
        payload = explain_member(inner, payload_old, payload_new)
    findings.extend(
        ContentFinding(f.cause, f"decompressed: {f.detail}", f.changes) for f in payload
    )
    return tuple(findings)


def _gzip_header(data: bytes, side: str) -> GzipHeader:
    header = parse_gzip_header(data)
    if header is None:
        raise ContentFormatError(f"{side}: no gzip header")
    return header


def _gunzip(data: bytes, side: str, budget: _Budget) -> bytes:
    pieces: list[bytes] = []

    def keep(piece: bytes) -> None:
        budget.take(len(piece))
        pieces.append(piece)

    decoder = new_decoder(Compression.GZIP)
    try:
        decoder.feed(data, keep)
        decoder.finish(keep)
    except CompressionError as err:
        raise ContentFormatError(f"{side}: {err.message}") from None
    return b"".join(pieces)


def _gzip_header_findings(a: GzipHeader, b: GzipHeader) -> Iterator[ContentFinding]:
    """RFC 1952 §2.3: MTIME is a time, FNAME a name from the build; OS, XFL and the other FLG bits
    describe the compressor, so they are a `compression` difference, not a timestamp."""
    if a.mtime != b.mtime:
        change = ("MTIME", str(a.mtime), str(b.mtime))
        detail = f"gzip header MTIME {a.mtime} -> {b.mtime}"
        yield ContentFinding(Cause.EMBEDDED_TIMESTAMP, detail, (change,))
    if a.name != b.name:
        before, after = a.name or "", b.name or ""
        detail = f"gzip header FNAME {shown(before)} -> {shown(after)}"
        yield ContentFinding(Cause.EMBEDDED_PATH, detail, (("FNAME", before, after),))
    packing = [
        (field, str(x), str(y))
        for field, x, y in (
            ("OS", a.os, b.os),
            ("XFL", a.xfl, b.xfl),
            ("FLG", a.flags & ~_FNAME, b.flags & ~_FNAME),
        )
        if x != y
    ]
    if packing:
        fields = ", ".join(f"{field} {x} -> {y}" for field, x, y in packing)
        yield ContentFinding(Cause.COMPRESSION, f"gzip header {fields}", tuple(packing))


# --- tar ----------------------------------------------------------------------------------------


def explain_tar(
    path: str, old: bytes, new: bytes, *, explain_member: MemberExplainer
) -> tuple[ContentFinding, ...]:
    """Member times, modes, owners and order, then changed members one level down."""
    return compare_tars(old, new, explain_member, (_Budget(), _Budget()))


def compare_tars(
    old: bytes, new: bytes, explain_member: MemberExplainer, budgets: tuple[_Budget, _Budget]
) -> tuple[ContentFinding, ...]:
    """Findings for two tar streams held in memory (`tar-encoding` when only headers differ)."""
    members_old, contents_old = _read_tar(old, "old", budgets[0])
    members_new, contents_new = _read_tar(new, "new", budgets[1])

    def load(is_new: bool, index: int) -> bytes:
        return (contents_new if is_new else contents_old)[index]

    findings = compare_members("tar member", members_old, members_new, load, explain_member)
    if findings:
        return findings
    detail = "the same members and facts; the tar headers are encoded differently"
    return (ContentFinding(Cause.TAR_ENCODING, detail),)


def _read_tar(data: bytes, side: str, budget: _Budget) -> tuple[list[Member], list[bytes]]:
    members: list[Member] = []
    contents: list[bytes] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for info in tar:
                if len(members) == MAX_MEMBERS:
                    raise ContentLimitError(f"{side}: more than {MAX_MEMBERS} tar members")
                content = _tar_content(tar, info, budget)
                members.append(_tar_member(info, content))
                contents.append(content)
            stop = tar.offset
    except _TAR_ERRORS as exc:
        raise ContentFormatError(f"{side}: {exc}") from None
    # tarfile ends quietly at a damaged header after the first; only a zero block (or the end of
    # the data) is a real end of archive, so say when the reading stopped early.
    if any(data[stop : stop + 512]):
        raise ContentFormatError(f"{side}: unreadable tar header", offset=stop)
    return members, contents


def _tar_content(tar: tarfile.TarFile, info: tarfile.TarInfo, budget: _Budget) -> bytes:
    if not info.isreg():
        return b""
    handle = tar.extractfile(info)
    if handle is None:
        return b""
    # Bounded read: a sparse member's declared size can be far larger than the archive.
    content = handle.read(max(budget.left, 0) + 1)
    budget.take(len(content))
    return content


_PAX_REFLECTED = frozenset(
    ("path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "atime", "ctime")
)
_TAR_TYPES = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.LNKTYPE: "hardlink",
    tarfile.SYMTYPE: "symlink",
    tarfile.CHRTYPE: "char device",
    tarfile.BLKTYPE: "block device",
    tarfile.DIRTYPE: "directory",
    tarfile.FIFOTYPE: "fifo",
    tarfile.CONTTYPE: "file",
}


def _tar_member(info: tarfile.TarInfo, content: bytes) -> Member:
    pax = info.pax_headers
    times: Fields = (
        ("mtime", _number(info.mtime)),
        *((key, pax[key]) for key in ("atime", "ctime") if key in pax),
    )
    other: list[tuple[str, str]] = [("type", _TAR_TYPES.get(info.type, repr(info.type)))]
    if info.islnk() or info.issym():
        other.append(("link target", info.linkname))
    if info.ischr() or info.isblk():
        other.append(("device", f"{info.devmajor},{info.devminor}"))
    other.extend(
        (f"pax {key}", value)
        for key, value in sorted(pax.items())
        if key not in _PAX_REFLECTED and not key.startswith("GNU.sparse.")
    )
    return Member(
        name=info.name,
        digest=hashlib.blake2b(content, digest_size=16).hexdigest(),
        times=times,
        # Permission bits only: some writers (Go's archive/tar) also store the file type bits
        # here, which is header encoding, not a permission change.
        modes=(("mode", f"{info.mode & 0o7777:04o}"),),
        owners=(
            ("uid", str(info.uid)),
            ("gid", str(info.gid)),
            ("uname", info.uname),
            ("gname", info.gname),
        ),
        other=tuple(other),
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


# --- zip ----------------------------------------------------------------------------------------


def explain_zip(
    path: str, old: bytes, new: bytes, *, explain_member: MemberExplainer
) -> tuple[ContentFinding, ...]:
    """Entry timestamps and order, storage and metadata, then changed entries one level down."""
    zip_old, zip_new = _open_zip(old, "old"), _open_zip(new, "new")
    infos_old, infos_new = zip_old.infolist(), zip_new.infolist()
    budgets = _Budget(), _Budget()

    def load(is_new: bool, index: int) -> bytes:
        if is_new:
            return _zip_content(zip_new, infos_new[index], "new", budgets[1])
        return _zip_content(zip_old, infos_old[index], "old", budgets[0])

    findings = list(
        compare_members(
            "zip entry",
            [_zip_member(info) for info in infos_old],
            [_zip_member(info) for info in infos_new],
            load,
            explain_member,
        )
    )
    if zip_old.comment != zip_new.comment:
        before, after = _text(zip_old.comment), _text(zip_new.comment)
        detail = f"zip comment {shown(before)} -> {shown(after)}"
        findings.append(ContentFinding(Cause.CONTENT, detail, (("comment", before, after),)))
    if not findings:
        detail = "the bytes differ outside the compared fields (local headers, padding)"
        findings.append(ContentFinding(Cause.CONTENT, detail))
    return tuple(findings)


def _open_zip(data: bytes, side: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        raise ContentFormatError(f"{side}: {exc}") from None
    if len(archive.infolist()) > MAX_MEMBERS:
        raise ContentLimitError(f"{side}: more than {MAX_MEMBERS} zip entries")
    return archive


def _zip_content(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, side: str, budget: _Budget
) -> bytes:
    # zipfile bounds deflate output per read, but not bzip2 or lzma output: never feed those.
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ContentLimitError(
            f"{side}: entry {shown(info.filename)} uses compression method {info.compress_type}, "
            "which is not decompressed"
        )
    try:
        with archive.open(info) as handle:
            content = handle.read(max(budget.left, 0) + 1)
    except _ZIP_ERRORS as exc:
        raise ContentFormatError(f"{side}: entry {shown(info.filename)}: {exc}") from None
    budget.take(len(content))
    return content


def _zip_member(info: zipfile.ZipInfo) -> Member:
    times, owners, packing, other = _zip_extras(info.extra)
    year, month, day, hour, minute, second = info.date_time
    dos_time = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
    modes: list[tuple[str, str]] = [("dos attributes", f"{info.external_attr & 0xFFFF:#06x}")]
    file_type: Fields = ()
    if info.create_system == 3:  # Unix: st_mode in the high 16 bits (APPNOTE 4.4.15)
        modes.append(("unix mode", f"{(info.external_attr >> 16) & 0o7777:04o}"))
        file_type = (("unix file type", f"{info.external_attr >> 28:o}"),)
    return Member(
        name=info.filename,
        digest=f"crc32 {info.CRC:08x}, {info.file_size} bytes",
        times=(("date_time", dos_time), *times),
        modes=tuple(modes),
        owners=owners,
        packing=(
            ("method", str(info.compress_type)),
            ("compressed size", str(info.compress_size)),
            ("flags", f"{info.flag_bits:#06x}"),
            ("made by", f"{info.create_system}/{info.create_version}"),
            ("needs version", str(info.extract_version)),
            *packing,
        ),
        other=(
            ("comment", _text(info.comment)),
            ("internal attributes", str(info.internal_attr)),
            *file_type,
            *other,
        ),
    )


# Extra field header IDs, APPNOTE 4.5 and Info-ZIP's extra field list.
_UT, _NTFS, _UX_OLD, _UX_NEW = 0x5455, 0x000A, 0x5855, 0x7875
_STORAGE_EXTRAS = frozenset((0x0001, 0xCAFE, 0xD935))  # ZIP64 sizes, jar marker, zipalign padding


def _zip_extras(extra: bytes) -> tuple[Fields, Fields, Fields, Fields]:
    """(times, owners, packing, other) from a central directory extra field."""
    rows: dict[str, list[tuple[str, str]]] = {"times": [], "owners": [], "packing": [], "other": []}
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
        for group, name, value in _extra_rows(tag, body):
            rows[group].append((name, value))
    if pos < len(extra):
        rows["other"].append(("extra (unparsed tail)", extra[pos:].hex()))
    times, owners, packing, other = (tuple(_unique(rows[group])) for group in rows)
    return times, owners, packing, other


def _extra_rows(tag: int, body: bytes) -> Iterator[tuple[str, str, str]]:
    """(group, field, value) rows of one extra field block."""
    if tag == _UT:
        # Info-ZIP extended timestamp: a flags byte, then the 32-bit times its bits announce (the
        # central directory copy carries only mtime, whatever the flags say).
        flags = body[0] if body else 0
        pos = 1
        for bit, name in ((1, "UT mtime"), (2, "UT atime"), (4, "UT ctime")):
            if flags & bit and pos + 4 <= len(body):
                yield "times", name, str(struct.unpack_from("<i", body, pos)[0])
                pos += 4
        yield "other", "UT flags", f"{flags:#04x} {body[pos:].hex()}".strip()
    elif tag == _NTFS:
        yield "times", "NTFS times", body.hex()
    elif tag == _UX_OLD:
        yield "times", "UX atime/mtime", body[:8].hex()
        yield "owners", "UX uid/gid", body[8:].hex()
    elif tag == _UX_NEW:
        yield "owners", "ux uid/gid", body.hex()
    elif tag in _STORAGE_EXTRAS:
        yield "packing", f"extra {tag:#06x}", body.hex()
    else:
        yield "other", f"extra {tag:#06x}", body.hex()


def _unique(fields: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Field names made unique (a repeated extra becomes "name #2"), so rows compare as dicts."""
    seen: dict[str, int] = {}
    for name, value in fields:
        seen[name] = seen.get(name, 0) + 1
        yield (name if seen[name] == 1 else f"{name} #{seen[name]}"), value


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")
