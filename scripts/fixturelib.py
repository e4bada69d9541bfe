"""Deterministic, byte-exact writers for small container-image test fixtures.

Owns the emulation of the producers described in /work/shared/FORMATS.md: Go `archive/tar` headers
(§6.1, §3.5) and GNU tar headers, Go `compress/gzip` framing and zstd frames (§3.4), containerd's
OCI archive exporter as used by BuildKit (§3.2-3.4, §3.7), and the `docker save` generations
(§4.2-4.4). Pure stdlib + zstandard: never reads the clock, never shells out, and every "random"
byte comes from a seeded hash, so the same call always returns the same bytes.
"""

from __future__ import annotations

import enum
import hashlib
import json
import posixpath
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

import zstandard

__all__ = [
    "MT_DOCKER_CONFIG", "MT_DOCKER_LAYER", "MT_DOCKER_LAYER_GZIP", "MT_DOCKER_LAYER_ZSTD",
    "MT_DOCKER_LIST", "MT_DOCKER_MANIFEST", "MT_EMPTY", "MT_IN_TOTO", "MT_OCI_CONFIG",
    "MT_OCI_INDEX", "MT_OCI_LAYER", "MT_OCI_LAYER_GZIP", "MT_OCI_LAYER_ZSTD", "MT_OCI_MANIFEST",
    "OCI_LAYOUT_COMPACT", "OCI_LAYOUT_DOCKER", "UNKNOWN_PLATFORM",
    "AttestationStyle", "Blob", "Compression", "EntryType", "HistoryEntry", "Image", "Layer",
    "LayoutFile", "Platform", "RunConfig", "SavedImage", "TarEnd", "TarEntry", "TarFormat",
    "Timestamp",
    "attestation_descriptor", "block_device_entry", "chain_ids", "char_device_entry",
    "compressor_fingerprint", "dir_entry", "docker_archive_manifest", "docker_container_config",
    "encode_end", "encode_entry", "fifo_entry", "file_entry", "go_json", "gzip_member",
    "gzip_members", "hardlink_entry", "index_json", "make_attestation", "make_config",
    "make_estargz_layer", "make_image", "make_index", "make_layer", "normalized_name",
    "oci_layout_files", "opaque_entry", "provenance_statement", "pseudo_random_bytes",
    "rewrite_timestamps", "rfc3339", "sha256_digest", "symlink_entry", "version_pyc_311",
    "whiteout_entry",
    "write_docker_legacy", "write_docker_v25", "write_oci_archive", "write_oci_dir",
    "write_retarred_layout", "write_tar", "write_walk_tar", "zstd_frames",
]

# --------------------------------------------------------------------------------------------------
# Media types and fixed documents (FORMATS.md §1.6, §2)

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
MT_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MT_DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd"
MT_IN_TOTO = "application/vnd.in-toto+json"
MT_EMPTY = "application/vnd.oci.empty.v1+json"
MT_ATTESTATION_ARTIFACT = "application/vnd.docker.attestation.manifest.v1+json"

# containerd/BuildKit write the compact form (30 bytes); Docker 25+ writes it with a space (31
# bytes), FORMATS.md §1.1.
OCI_LAYOUT_COMPACT = b'{"imageLayoutVersion":"1.0.0"}'
OCI_LAYOUT_DOCKER = b'{"imageLayoutVersion": "1.0.0"}'

BUILDKIT_COMMENT = "buildkit.dockerfile.v0"
RECORD_SIZE = 10240  # GNU tar's default record: blocking factor 20 (FORMATS.md §6.1)
BLOCK = 512
GO_DEFAULT_GZIP_LEVEL = 6  # Go's gzip.DefaultCompression maps to flate level 6


# --------------------------------------------------------------------------------------------------
# Small value helpers: JSON as Go writes it, times, digests, seeded bytes

JsonObject = dict[str, object]

# Go's encoding/json escapes these even inside otherwise plain strings (HTML safety), so a
# BuildKit config holding `a && b` carries `a \u0026\u0026 b`. They can only occur inside JSON
# strings, so replacing them in the serialised text is exact.
_GO_JSON_ESCAPES = (
    ("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
    ("\u2028", "\\u2028"), ("\u2029", "\\u2029"),
)


def go_json(value: object, *, indent: bool = False, newline: bool = False) -> bytes:
    """Serialise like Go: `json.Marshal` (compact) or `json.MarshalIndent(v, "", "  ")`.

    Key order is the caller's (dicts are built in Go struct-field order; Go sorts map keys, so
    callers sort maps). `newline` adds the "\\n" that `json.NewEncoder(w).Encode` appends.
    """
    if indent:
        text = json.dumps(value, ensure_ascii=False, indent=2, separators=(",", ": "))
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _go_escape(text).encode("utf-8") + (b"\n" if newline else b"")


def _go_escape(text: str) -> str:
    for char, escape in _GO_JSON_ESCAPES:
        text = text.replace(char, escape)
    return text


class Timestamp(NamedTuple):
    """A point in time as tar stores it: Unix seconds plus nanoseconds (0 <= nanos < 1e9)."""

    seconds: int
    nanos: int = 0


def _as_timestamp(value: int | Timestamp) -> Timestamp:
    return value if isinstance(value, Timestamp) else Timestamp(value)


def rfc3339(seconds: int, nanos: int = 0, *, offset_minutes: int = 0) -> str:
    """Go's `time.RFC3339Nano` (trailing zeros of the fraction trimmed; "Z" for UTC)."""
    zone = timezone(timedelta(minutes=offset_minutes))
    moment = datetime.fromtimestamp(seconds, tz=zone)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    if offset_minutes == 0:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def sha256_digest(data: bytes) -> str:
    """`sha256:<hex>` of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def pseudo_random_bytes(seed: str, size: int) -> bytes:
    """`size` reproducible bytes: SHA-256 in counter mode over `seed` (no `random` module)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


# --------------------------------------------------------------------------------------------------
# Tar entries (FORMATS.md §1.6 whiteouts, §3.5 BuildKit layer entries, §6.1 wire format)


class EntryType(enum.Enum):
    """Typeflags of the members we write (POSIX ustar, FORMATS.md §6.1)."""

    FILE = b"0"
    HARDLINK = b"1"
    SYMLINK = b"2"
    CHAR = b"3"
    BLOCK = b"4"
    DIR = b"5"
    FIFO = b"6"


# S_IFMT bits that old Docker wrote into the mode field (FORMATS.md §0.6, §4.2).
_TYPE_BITS = {
    EntryType.FILE: 0o100000, EntryType.HARDLINK: 0o100000, EntryType.SYMLINK: 0o120000,
    EntryType.CHAR: 0o020000, EntryType.BLOCK: 0o060000, EntryType.DIR: 0o040000,
    EntryType.FIFO: 0o010000,
}


class TarFormat(enum.Enum):
    """How headers are encoded.

    USTAR: Go `tar.Writer` with `Header.Format` unset: USTAR whenever representable (sub-second
    mtimes silently truncated), PAX `x` records only when required.
    PAX: Go with `Format = tar.FormatPAX`, as BuildKit's ChangeWriter sets it (§3.5): as USTAR,
    plus a PAX `mtime` record for sub-second mtimes.
    GNU: GNU tar's default `--format=gnu`: magic "ustar  \\0", `././@LongLink` `L`/`K` members
    for long names, base-256 numbers, empty device fields on non-device members.
    """

    USTAR = "ustar"
    PAX = "pax"
    GNU = "gnu"


class TarEnd(enum.Enum):
    """What follows the last member."""

    BLOCKS = "blocks"  # two zero blocks, nothing else: Go's tar.Writer.Close (§3.2)
    NONE = "none"  # no end-of-archive marker at all (umoci insert; crafted tars)
    RECORD = "record"  # two zero blocks, then zeros up to a whole record (GNU tar, §4.1, §6.1)


Pairs = tuple[tuple[str, str], ...]
BytePairs = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class TarEntry:
    """One tar member, before encoding. Build with `file_entry`, `dir_entry`, ... ."""

    name: str
    type: EntryType
    data: bytes = b""
    linkname: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    uname: str = ""
    gname: str = ""
    mtime: Timestamp = Timestamp(0)
    atime: Timestamp | None = None
    ctime: Timestamp | None = None
    devmajor: int = 0
    devminor: int = 0
    xattrs: BytePairs = ()  # written as PAX `SCHILY.xattr.<name>` records (binary values)
    pax: BytePairs = ()  # further PAX records written verbatim (e.g. LIBARCHIVE.*)
    typeflag: bytes | None = None  # overrides `type` on the wire, e.g. b"\0" (AREGTYPE)
    format: TarFormat | None = None  # overrides the archive's format for this member


def _entry(
    name: str, kind: EntryType, *, data: bytes = b"", linkname: str = "", mode: int,
    mtime: int | Timestamp = 0, uid: int = 0, gid: int = 0, uname: str = "", gname: str = "",
    xattrs: Mapping[str, bytes] | None = None, pax: Mapping[str, bytes] | None = None,
    atime: int | Timestamp | None = None, ctime: int | Timestamp | None = None,
    devmajor: int = 0, devminor: int = 0,
) -> TarEntry:
    return TarEntry(
        name=name, type=kind, data=data, linkname=linkname, mode=mode, uid=uid, gid=gid,
        uname=uname, gname=gname, mtime=_as_timestamp(mtime),
        atime=None if atime is None else _as_timestamp(atime),
        ctime=None if ctime is None else _as_timestamp(ctime),
        devmajor=devmajor, devminor=devminor,
        xattrs=tuple(sorted((xattrs or {}).items())), pax=tuple(sorted((pax or {}).items())),
    )


def file_entry(
    name: str, data: bytes, *, mode: int = 0o644, mtime: int | Timestamp = 0, uid: int = 0,
    gid: int = 0, uname: str = "", gname: str = "", xattrs: Mapping[str, bytes] | None = None,
    pax: Mapping[str, bytes] | None = None, atime: int | Timestamp | None = None,
    ctime: int | Timestamp | None = None,
) -> TarEntry:
    """A regular file (typeflag `0`)."""
    return _entry(name, EntryType.FILE, data=data, mode=mode, mtime=mtime, uid=uid, gid=gid,
                  uname=uname, gname=gname, xattrs=xattrs, pax=pax, atime=atime, ctime=ctime)


def dir_entry(
    name: str, *, mode: int = 0o755, mtime: int | Timestamp = 0, uid: int = 0, gid: int = 0,
    uname: str = "", gname: str = "", xattrs: Mapping[str, bytes] | None = None,
) -> TarEntry:
    """A directory; the name gets the trailing `/` that Go and GNU tar write (§3.5)."""
    name = name if name.endswith("/") else name + "/"
    return _entry(name, EntryType.DIR, mode=mode, mtime=mtime, uid=uid, gid=gid, uname=uname,
                  gname=gname, xattrs=xattrs)


def symlink_entry(
    name: str, target: str, *, mtime: int | Timestamp = 0, uid: int = 0, gid: int = 0,
    mode: int = 0o777,
) -> TarEntry:
    """A symbolic link; `target` is stored verbatim (relative, absolute or hostile)."""
    return _entry(name, EntryType.SYMLINK, linkname=target, mode=mode, mtime=mtime, uid=uid,
                  gid=gid)


def hardlink_entry(
    name: str, target: str, *, mode: int = 0o644, mtime: int | Timestamp = 0, uid: int = 0,
    gid: int = 0,
) -> TarEntry:
    """A hard link to an earlier member `target` of the same layer (size 0, §1.6)."""
    return _entry(name, EntryType.HARDLINK, linkname=target, mode=mode, mtime=mtime, uid=uid,
                  gid=gid)


def whiteout_entry(path: str, *, legacy: bool = False) -> TarEntry:
    """`<dir>/.wh.<base>` deleting `path` from lower layers.

    As containerd writes it (§3.5): a regular file, size 0, mode 0, all times 1970. `legacy`
    gives the Docker <= 18 form: typeflag `\\0` (AREGTYPE), also mode 0 (§1.6).
    """
    parent, base = posixpath.split(path.rstrip("/"))
    name = posixpath.join(parent, ".wh." + base)
    entry = _entry(name, EntryType.FILE, mode=0)
    return replace(entry, typeflag=b"\0") if legacy else entry


def opaque_entry(directory: str, *, mode: int = 0o644, mtime: int | Timestamp = 0) -> TarEntry:
    """`<dir>/.wh..wh..opq`: hides every lower child of `directory` (§1.6; classic builder)."""
    name = posixpath.join(directory.rstrip("/"), ".wh..wh..opq")
    return _entry(name, EntryType.FILE, mode=mode, mtime=mtime)


def char_device_entry(
    name: str, major: int, minor: int, *, mode: int = 0o666, mtime: int | Timestamp = 0,
) -> TarEntry:
    """A character device node (typeflag `3`)."""
    return _entry(name, EntryType.CHAR, mode=mode, mtime=mtime, devmajor=major, devminor=minor)


def block_device_entry(
    name: str, major: int, minor: int, *, mode: int = 0o660, mtime: int | Timestamp = 0,
) -> TarEntry:
    """A block device node (typeflag `4`)."""
    return _entry(name, EntryType.BLOCK, mode=mode, mtime=mtime, devmajor=major, devminor=minor)


def fifo_entry(name: str, *, mode: int = 0o644, mtime: int | Timestamp = 0) -> TarEntry:
    """A named pipe (typeflag `6`)."""
    return _entry(name, EntryType.FIFO, mode=mode, mtime=mtime)


def rewrite_timestamps(entries: Iterable[TarEntry], epoch: int) -> tuple[TarEntry, ...]:
    """BuildKit `rewrite-timestamp`: clamp (never set) mtime, atime and ctime to `epoch` (§3.7)."""
    limit = Timestamp(epoch)

    def clamp(value: Timestamp) -> Timestamp:
        return min(value, limit)

    return tuple(
        replace(e, mtime=clamp(e.mtime), atime=e.atime and clamp(e.atime),
                ctime=e.ctime and clamp(e.ctime))
        for e in entries
    )


# --------------------------------------------------------------------------------------------------
# Tar encoding. Field offsets: FORMATS.md §6.1. Number formatting follows Go's formatter
# (`formatOctal`: zero-padded, NUL-terminated; `formatNumeric`: base-256 when octal overflows).

_MAGIC_USTAR = b"ustar\x0000"
_MAGIC_GNU = b"ustar  \x00"


def _fits_octal(value: int, width: int) -> bool:
    return 0 <= value < 1 << (3 * (width - 1))


def _octal(value: int, width: int) -> bytes:
    if not _fits_octal(value, width):
        raise ValueError(f"{value} does not fit a {width}-byte octal field")
    return format(value, "o").rjust(width - 1, "0").encode("ascii") + b"\0"


def _numeric(value: int, width: int) -> bytes:
    """GNU number: octal if it fits, else base-256 with the top bit set (negatives: 0xff...)."""
    if _fits_octal(value, width):
        return _octal(value, width)
    if not -(1 << (8 * width - 2)) <= value < 1 << (8 * width - 2):
        raise ValueError(f"{value} does not fit a {width}-byte base-256 field")
    raw = bytearray((value & ((1 << (8 * width)) - 1)).to_bytes(width, "big"))
    raw[0] |= 0x80
    return bytes(raw)


def _field(value: bytes, width: int) -> bytes:
    """Go `formatString`: truncate to the field, NUL-terminate when shorter."""
    return value[:width].ljust(width, b"\0")


def _to_ascii(text: str) -> bytes:
    """Go `toASCII`: what the fixed-width fields get when the real value is in a PAX record."""
    return "".join(c for c in text if ord(c) < 0x80 and c != "\0").encode("ascii")


def _checksummed(header: bytearray) -> bytes:
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}".encode("ascii") + b"\0 "
    return bytes(header)


def _split_ustar_path(name: str) -> tuple[str, str] | None:
    """Go `splitUSTARPath`: prefix (<=155) + "/" + name (<=100), split at a slash."""
    if len(name) <= 100 or not name.isascii():
        return None
    length = len(name)
    if length > 156:
        length = 156
    elif name[length - 1] == "/":
        length -= 1
    cut = name.rfind("/", 0, length)
    suffix_len = len(name) - cut - 1
    if cut <= 0 or suffix_len > 100 or suffix_len == 0 or cut > 155:
        return None
    return name[:cut], name[cut + 1:]


def _pax_time(ts: Timestamp) -> bytes:
    """Go `formatPAXTime`: decimal seconds, fraction without trailing zeros."""
    secs, nanos = ts
    if nanos == 0:
        return str(secs).encode("ascii")
    sign = ""
    if secs < 0:
        sign, secs, nanos = "-", -(secs + 1), 1_000_000_000 - nanos
    return f"{sign}{secs}.{nanos:09d}".rstrip("0").encode("ascii")


def _pax_record(key: str, value: bytes) -> bytes:
    """`"%d %s=%s\\n"` where the length counts itself (POSIX pax, Go `formatPAXRecord`)."""
    body = b" " + key.encode("utf-8") + b"=" + value + b"\n"
    size = len(body) + len(str(len(body)))
    if len(str(size)) + len(body) != size:
        size += 1
    return str(size).encode("ascii") + body


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % BLOCK)


def _header(
    *, name: bytes, mode: int, uid: int, gid: int, size: int, mtime: int, typeflag: bytes,
    linkname: bytes, magic: bytes, uname: bytes, gname: bytes, dev: tuple[int, int] | None,
    prefix: bytes = b"", numeric: bool = False, gnu_times: tuple[int, int] = (0, 0),
) -> bytes:
    num = _numeric if numeric else _octal
    h = bytearray(BLOCK)
    h[0:100] = _field(name, 100)
    h[100:108] = num(mode, 8)
    h[108:116] = num(uid, 8)
    h[116:124] = num(gid, 8)
    h[124:136] = num(size, 12)
    h[136:148] = num(mtime, 12)
    h[156:157] = typeflag
    h[157:257] = _field(linkname, 100)
    h[257:265] = magic
    h[265:297] = _field(uname, 32)
    h[297:329] = _field(gname, 32)
    if dev is not None:
        h[329:337] = num(dev[0], 8)
        h[337:345] = num(dev[1], 8)
    if magic == _MAGIC_GNU:
        # GNU atime/ctime live where USTAR keeps the prefix; written only when set (Go does too).
        if gnu_times[0]:
            h[345:357] = num(gnu_times[0], 12)
        if gnu_times[1]:
            h[357:369] = num(gnu_times[1], 12)
    else:
        h[345:500] = _field(prefix, 155)
    return _checksummed(h)


def _wire_mode(entry: TarEntry, type_bits: bool) -> int:
    # Legacy whiteouts keep mode 0 even in archives that carry type bits (sample
    # docker-save-legacy-dive, FORMATS.md §1.6).
    if type_bits and entry.mode != 0:
        return entry.mode | _TYPE_BITS[entry.type]
    return entry.mode


def _encode_go(entry: TarEntry, fmt: TarFormat, type_bits: bool) -> bytes:
    """Go `tar.Writer.WriteHeader` + data: USTAR when allowed, else a PAX `x` member first."""
    typeflag = entry.typeflag if entry.typeflag is not None else entry.type.value
    size = len(entry.data) if entry.type is EntryType.FILE else 0
    mode = _wire_mode(entry, type_bits)
    records: dict[str, bytes] = {}
    ustar_ok = True

    def check_string(value: str, width: int, key: str, splittable: bool = False) -> None:
        nonlocal ustar_ok
        if value.isascii() and "\0" not in value and len(value) <= width:
            return
        if not (splittable and _split_ustar_path(value)):
            ustar_ok = False
        records[key] = value.encode("utf-8")

    def check_number(value: int, width: int, key: str) -> None:
        nonlocal ustar_ok
        if not _fits_octal(value, width):
            ustar_ok = False
            records[key] = str(value).encode("ascii")

    check_string(entry.name, 100, "path", splittable=True)
    check_string(entry.linkname, 100, "linkpath")
    check_string(entry.uname, 32, "uname")
    check_string(entry.gname, 32, "gname")
    check_number(entry.uid, 8, "uid")
    check_number(entry.gid, 8, "gid")
    check_number(size, 12, "size")
    # Go `verifyTime`: an mtime that does not fit octal forbids USTAR; a sub-second one only
    # prefers PAX, which wins when the caller asked for FormatPAX (BuildKit does, §3.5).
    if not _fits_octal(entry.mtime.seconds, 12):
        ustar_ok = False
        records["mtime"] = _pax_time(entry.mtime)
    elif entry.mtime.nanos:
        records["mtime"] = _pax_time(entry.mtime)
        if fmt is TarFormat.PAX:
            ustar_ok = False
    for key, stamp in (("atime", entry.atime), ("ctime", entry.ctime)):
        if stamp is not None:
            ustar_ok = False
            records[key] = _pax_time(stamp)
    for xattr, value in entry.xattrs:
        ustar_ok = False
        records["SCHILY.xattr." + xattr] = value
    for key, value in entry.pax:
        ustar_ok = False
        records[key] = value

    dev = (entry.devmajor, entry.devminor)
    if ustar_ok:
        prefix, short = _split_ustar_path(entry.name) or ("", entry.name)
        head = _header(
            name=short.encode("ascii"), mode=mode, uid=entry.uid, gid=entry.gid, size=size,
            mtime=entry.mtime.seconds, typeflag=typeflag, linkname=entry.linkname.encode("ascii"),
            magic=_MAGIC_USTAR, uname=entry.uname.encode("ascii"),
            gname=entry.gname.encode("ascii"), dev=dev, prefix=prefix.encode("ascii"),
        )
        return head + _pad(entry.data if size else b"")

    # Go `writePAXHeader`: records sorted by key; the `x` member is named
    # `<dir>/PaxHeaders.0/<file>` with mode/uid/gid/mtime 0 and no device fields.
    payload = b"".join(_pax_record(k, records[k]) for k in sorted(records))
    parent, base = entry.name[: entry.name.rfind("/") + 1], entry.name[entry.name.rfind("/") + 1:]
    pax_name = posixpath.normpath("/".join(p for p in (parent, "PaxHeaders.0", base) if p))
    pax_head = _header(
        name=_to_ascii(pax_name)[:100].rstrip(b"/"), mode=0, uid=0, gid=0, size=len(payload),
        mtime=0, typeflag=b"x", linkname=b"", magic=_MAGIC_USTAR, uname=b"", gname=b"", dev=None,
    )

    def fit(value: int, width: int) -> int:  # Go writes 0 when the real value is in PAX
        return value if _fits_octal(value, width) else 0

    head = _header(
        name=_to_ascii(entry.name), mode=mode, uid=fit(entry.uid, 8), gid=fit(entry.gid, 8),
        size=fit(size, 12), mtime=fit(entry.mtime.seconds, 12), typeflag=typeflag,
        linkname=_to_ascii(entry.linkname), magic=_MAGIC_USTAR, uname=_to_ascii(entry.uname),
        gname=_to_ascii(entry.gname), dev=dev,
    )
    return pax_head + _pad(payload) + head + _pad(entry.data if size else b"")


def _gnu_longlink(kind: bytes, value: str) -> bytes:
    """GNU tar's `././@LongLink` member (`L` name / `K` linkname): mode 0644, owner root."""
    data = value.encode("utf-8") + b"\0"
    head = _header(
        name=b"././@LongLink", mode=0o644, uid=0, gid=0, size=len(data), mtime=0, typeflag=kind,
        linkname=b"", magic=_MAGIC_GNU, uname=b"root", gname=b"root", dev=None, numeric=True,
    )
    return head + _pad(data)


def _encode_gnu(entry: TarEntry, type_bits: bool) -> bytes:
    if entry.xattrs or entry.pax:
        raise ValueError(f"{entry.name}: xattrs and PAX records need TarFormat.PAX")
    typeflag = entry.typeflag if entry.typeflag is not None else entry.type.value
    size = len(entry.data) if entry.type is EntryType.FILE else 0
    name, link = entry.name.encode("utf-8"), entry.linkname.encode("utf-8")
    out = b""
    if len(name) > 100:
        out += _gnu_longlink(b"L", entry.name)
    if len(link) > 100:
        out += _gnu_longlink(b"K", entry.linkname)
    devices = (EntryType.CHAR, EntryType.BLOCK)
    out += _header(
        name=name, mode=_wire_mode(entry, type_bits), uid=entry.uid, gid=entry.gid, size=size,
        mtime=entry.mtime.seconds, typeflag=typeflag, linkname=link, magic=_MAGIC_GNU,
        uname=entry.uname.encode("utf-8"), gname=entry.gname.encode("utf-8"),
        dev=(entry.devmajor, entry.devminor) if entry.type in devices else None, numeric=True,
        gnu_times=(
            entry.atime.seconds if entry.atime else 0, entry.ctime.seconds if entry.ctime else 0
        ),
    )
    return out + _pad(entry.data if size else b"")


def encode_entry(
    entry: TarEntry, *, format: TarFormat = TarFormat.PAX, type_bits: bool = False,
) -> bytes:
    """The header block(s), data and padding of one member (no end-of-archive marker)."""
    fmt = entry.format or format
    if fmt is TarFormat.GNU:
        return _encode_gnu(entry, type_bits)
    return _encode_go(entry, fmt, type_bits)


def encode_end(end: TarEnd, written: int, *, record_size: int = RECORD_SIZE) -> bytes:
    """The end-of-archive bytes to append after `written` bytes of members."""
    if end is TarEnd.NONE:
        return b""
    trailer = b"\0" * (2 * BLOCK)
    if end is TarEnd.RECORD:
        trailer += b"\0" * (-(written + len(trailer)) % record_size)
    return trailer


def write_tar(
    entries: Iterable[TarEntry], *, format: TarFormat = TarFormat.PAX, dot_prefix: bool = False,
    root_entry: TarEntry | None = None, type_bits: bool = False, end: TarEnd = TarEnd.BLOCKS,
    record_size: int = RECORD_SIZE,
) -> bytes:
    """A whole tar stream, members in the given order.

    `dot_prefix` writes names (and hard-link targets) as `./name`, as `tar -cf x.tar -C dir .`
    does; `root_entry` goes first, unprefixed (that command's `dir_entry(".")` member).
    `type_bits` adds S_IFMT bits to non-zero modes, as old Docker did (§4.2).
    """
    chunks: list[bytes] = []
    if root_entry is not None:
        chunks.append(encode_entry(root_entry, format=format, type_bits=type_bits))
    for entry in entries:
        if dot_prefix:
            linkname = entry.linkname
            if entry.type is EntryType.HARDLINK:
                linkname = "./" + linkname
            entry = replace(entry, name="./" + entry.name, linkname=linkname)
        chunks.append(encode_entry(entry, format=format, type_bits=type_bits))
    body = b"".join(chunks)
    return body + encode_end(end, len(body), record_size=record_size)


def _walk_key(path: str) -> tuple[str, ...]:
    # Go filepath.Walk visits each directory's names in lexical order and descends before
    # moving on, so "abc/x" precedes "abc.json": comparing component tuples gives that order.
    return tuple(path.strip("/").split("/"))


# --------------------------------------------------------------------------------------------------
# Compression (FORMATS.md §3.4: Go gzip header bytes; zstd single frame with size and checksum)


def gzip_member(
    data: bytes, *, level: int = GO_DEFAULT_GZIP_LEVEL, mtime: int = 0, os: int = 255,
    xfl: int | None = None, extra: bytes | None = None,
) -> bytes:
    """One gzip member framed like Go's `compress/gzip` (RFC 1952).

    Default header `1f8b 0800 00000000 00ff`: no flags, MTIME 0, XFL 0, OS 255 "unknown". Go
    sets XFL 2 for BestCompression and 4 for BestSpeed, which `xfl=None` reproduces; `extra` sets
    FEXTRA (the eStargz footer uses it). The deflate body comes from zlib, so it differs from Go's
    own encoder and depends on the zlib build (see `compressor_fingerprint`).
    """
    if xfl is None:
        xfl = 2 if level == 9 else 4 if level == 1 else 0
    flags = 0x04 if extra is not None else 0
    head = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", mtime) + bytes([xfl, os])
    if extra is not None:
        head += struct.pack("<H", len(extra)) + extra
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = deflate.compress(data) + deflate.flush()
    return head + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def gzip_members(
    chunks: Iterable[bytes], *, level: int = GO_DEFAULT_GZIP_LEVEL, mtime: int = 0, os: int = 255,
    xfl: int | None = None,
) -> bytes:
    """Several gzip members back to back (multi-member gzip, as eStargz writes, §3.4)."""
    return b"".join(gzip_member(c, level=level, mtime=mtime, os=os, xfl=xfl) for c in chunks)


def zstd_frames(
    chunks: Iterable[bytes], *, level: int = 3, content_size: bool = True, checksum: bool = True,
) -> bytes:
    """One zstd frame per chunk. BuildKit writes one frame with content size and checksum (§3.4);
    the `zstd` CLI reading stdin writes no content size."""
    compressor = zstandard.ZstdCompressor(
        level=level, write_checksum=checksum, write_content_size=content_size
    )
    return b"".join(compressor.compress(chunk) for chunk in chunks)


def compressor_fingerprint() -> str:
    """Identifies the zlib and libzstd behaviour the compressed fixture bytes depend on.

    Fixtures are only byte-reproducible with compressors that produce identical output; this
    string (library versions plus a digest of sample output) tells that case apart.
    """
    probe = b"".join(
        pseudo_random_bytes("probe", 4096)[i : i + 64] * (1 + i % 5) for i in range(0, 4096, 64)
    )
    outputs = [gzip_member(probe, level=level) for level in (0, 1, 6, 9)]
    outputs.append(zstd_frames([probe]))
    outputs.append(zstd_frames([probe], content_size=False))
    probe_hex = hashlib.sha256(b"".join(outputs)).hexdigest()[:16]
    zstd_version = ".".join(str(part) for part in zstandard.ZSTD_VERSION)
    return f"zlib {zlib.ZLIB_RUNTIME_VERSION}, zstd {zstd_version}, probe {probe_hex}"


# --------------------------------------------------------------------------------------------------
# Compiled Python (PEP 552 header + marshal format, CPython Python/marshal.c)

_PYC_MAGIC_311 = struct.pack("<H", 3495) + b"\r\n"  # importlib's MAGIC_NUMBER for 3.11
# What CPython 3.11 compiles `VERSION = "1.0"` (one line) to: RESUME, LOAD_CONST, STORE_NAME,
# LOAD_CONST, RETURN_VALUE, and its location table. Fixed bytes rather than compile(), so the
# fixture does not depend on the Python that regenerates it.
_VERSION_311_CODE = bytes.fromhex("970064005a0064015300")
_VERSION_311_LINES = bytes.fromhex("f003010101d80a0f800780078007")


def _marshal_str(text: str) -> bytes:
    raw = text.encode("ascii")
    head = b"z" + bytes([len(raw)]) if len(raw) < 256 else b"a" + struct.pack("<I", len(raw))
    return head + raw


def _marshal_bytes(data: bytes) -> bytes:
    return b"s" + struct.pack("<I", len(data)) + data


def version_pyc_311(filename: str, *, mtime: int, source_size: int = 16) -> bytes:
    """The .pyc CPython 3.11 writes for a module `VERSION = "1.0"` compiled as `filename`
    (`co_filename`), timestamp-invalidated with the source's `mtime` and size.

    The marshal stream never sets FLAG_REF: marshal decides that flag by reference counts at
    write time, which would make the bytes depend on the interpreter's state; loads() accepts
    both forms.
    """
    header = _PYC_MAGIC_311 + struct.pack("<III", 0, mtime & 0xFFFFFFFF, source_size)
    fields = [
        struct.pack("<iiiii", 0, 0, 0, 1, 0),  # argcounts, stacksize 1, flags 0
        _marshal_bytes(_VERSION_311_CODE),
        b")\x02" + _marshal_str("1.0") + b"N",  # co_consts
        b")\x01" + b"Z\x07VERSION",  # co_names (interned)
        b")\x00",  # co_localsplusnames
        _marshal_bytes(b""),  # co_localspluskinds
        _marshal_str(filename),
        _marshal_str("<module>"),  # co_name
        _marshal_str("<module>"),  # co_qualname
        struct.pack("<i", 1),  # co_firstlineno
        _marshal_bytes(_VERSION_311_LINES),
        _marshal_bytes(b""),  # co_exceptiontable
    ]
    return header + b"c" + b"".join(fields)


# --------------------------------------------------------------------------------------------------
# Blobs, descriptors, layers (FORMATS.md §1.2-§1.6)


@dataclass(frozen=True, slots=True)
class Platform:
    """An OCI platform; serialised in Go field order (architecture, os, os.version, variant)."""

    architecture: str
    os: str = "linux"
    variant: str | None = None
    os_version: str | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.variant:
            out["variant"] = self.variant
        return out


UNKNOWN_PLATFORM = Platform("unknown", "unknown")


@dataclass(frozen=True, slots=True)
class Blob:
    """Content-addressed bytes with the media type its parent descriptor will name."""

    media_type: str
    data: bytes

    @property
    def hex(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def digest(self) -> str:
        return "sha256:" + self.hex

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(
        self, *, annotations: Mapping[str, str] | None = None, platform: Platform | None = None,
        artifact_type: str | None = None,
    ) -> JsonObject:
        """An OCI descriptor in Go field order; annotation keys sorted as Go marshals maps."""
        out: JsonObject = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if annotations:
            out["annotations"] = dict(sorted(annotations.items()))
        if platform is not None:
            out["platform"] = platform.to_json()
        if artifact_type:
            out["artifactType"] = artifact_type
        return out


class Compression(enum.Enum):
    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


_LAYER_TYPES = {
    (Compression.NONE, False): MT_OCI_LAYER, (Compression.GZIP, False): MT_OCI_LAYER_GZIP,
    (Compression.ZSTD, False): MT_OCI_LAYER_ZSTD, (Compression.NONE, True): MT_DOCKER_LAYER,
    (Compression.GZIP, True): MT_DOCKER_LAYER_GZIP, (Compression.ZSTD, True): MT_DOCKER_LAYER_ZSTD,
}


@dataclass(frozen=True, slots=True)
class Layer:
    """A layer blob as stored plus the full stream it decompresses to (whose sha256 is the diffID,
    FORMATS.md §0.2: including the end-of-archive zeros and anything after them)."""

    blob: Blob
    uncompressed: bytes
    annotations: Pairs = ()

    @property
    def diff_id(self) -> str:
        return sha256_digest(self.uncompressed)

    def descriptor(self) -> JsonObject:
        return self.blob.descriptor(annotations=dict(self.annotations))


def make_layer(
    tar: bytes, compression: Compression = Compression.GZIP, *, gzip_mtime: int = 0,
    gzip_level: int = GO_DEFAULT_GZIP_LEVEL, zstd_level: int = 3, docker_media_types: bool = False,
    annotations: Mapping[str, str] | None = None,
) -> Layer:
    """Compress a layer tar like BuildKit (Go gzip framing, one zstd frame) and type it.

    Docker media types carry no layer annotations (BuildKit drops them, FORMATS.md §2).
    """
    if compression is Compression.GZIP:
        data = gzip_member(tar, level=gzip_level, mtime=gzip_mtime)
    elif compression is Compression.ZSTD:
        data = zstd_frames([tar], level=zstd_level)
    else:
        data = tar
    media_type = _LAYER_TYPES[(compression, docker_media_types)]
    notes = () if docker_media_types else tuple(sorted((annotations or {}).items()))
    return Layer(Blob(media_type, data), tar, notes)


_ESTARGZ_TYPES = {
    EntryType.FILE: "reg", EntryType.HARDLINK: "hardlink", EntryType.SYMLINK: "symlink",
    EntryType.CHAR: "char", EntryType.BLOCK: "block", EntryType.DIR: "dir",
    EntryType.FIFO: "fifo",
}


def make_estargz_layer(entries: Sequence[TarEntry], *, format: TarFormat = TarFormat.PAX) -> Layer:
    """An eStargz-like layer, shaped like BuildKit's `compression=estargz` sample (§3.4).

    A new gzip member starts at each non-empty regular file's payload; the tar end marker closes
    the last payload member; then one member holds a `stargz.index.json` entry (mode 0, mtime 0)
    and a second end marker (so the diffID covers data *after* the first EOF); then an empty
    FEXTRA footer member pointing at the TOC member. TOC layout is a simplified eStargz TOC.
    """
    closed: list[bytes] = []  # uncompressed content of each finished member
    compressed: list[bytes] = []
    current = b""
    toc_entries: list[JsonObject] = []

    def close_member(next_content: bytes) -> int:
        """Finish the current member; return the compressed offset where the next one starts."""
        nonlocal current
        closed.append(current)
        compressed.append(gzip_member(current))
        current = next_content
        return sum(len(c) for c in compressed)

    for entry in entries:
        encoded = encode_entry(entry, format=format)
        has_payload = entry.type is EntryType.FILE and bool(entry.data)
        name = entry.name.rstrip("/") if entry.type is EntryType.DIR else entry.name
        record: JsonObject = {"name": name, "type": _ESTARGZ_TYPES[entry.type]}
        if has_payload:
            record["size"] = len(entry.data)
        record["modtime"] = rfc3339(entry.mtime.seconds)
        if entry.linkname:
            record["linkName"] = entry.linkname
        if entry.mode & 0o7777:
            record["mode"] = entry.mode & 0o7777
        if entry.uid:
            record["uid"] = entry.uid
        if entry.gid:
            record["gid"] = entry.gid
        if has_payload:
            header_len = len(encoded) - len(_pad(entry.data))
            current += encoded[:header_len]
            record["offset"] = close_member(encoded[header_len:])
            record["digest"] = sha256_digest(entry.data)
            record["chunkDigest"] = sha256_digest(entry.data)
        else:
            current += encoded
        toc_entries.append(record)
    current += encode_end(TarEnd.BLOCKS, 0)
    # eStargz writes its TOC with Go's json.MarshalIndent(toc, "", "\t").
    toc = _go_escape(json.dumps({"version": 1, "entries": toc_entries}, ensure_ascii=False,
                                indent="\t", separators=(",", ": "))).encode("utf-8")
    toc_member = encode_entry(file_entry("stargz.index.json", toc, mode=0))
    toc_offset = close_member(toc_member + encode_end(TarEnd.BLOCKS, 0))
    close_member(b"")
    footer_extra = b"SG" + struct.pack("<H", 22) + f"{toc_offset:016x}STARGZ".encode("ascii")
    data = b"".join(compressed) + gzip_member(b"", level=0, extra=footer_extra)
    stream = b"".join(closed)
    annotations = {
        "containerd.io/snapshot/stargz/toc.digest": sha256_digest(toc),
        "io.containers.estargz.uncompressed-size": str(len(stream)),
    }
    return Layer(Blob(MT_OCI_LAYER_GZIP, data), stream, tuple(sorted(annotations.items())))


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """ChainID(L0) = DiffID(L0); ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln))."""
    out: list[str] = []
    for diff_id in diff_ids:
        out.append(diff_id if not out else sha256_digest(f"{out[-1]} {diff_id}".encode()))
    return out


# --------------------------------------------------------------------------------------------------
# Image config (FORMATS.md §1.5) as BuildKit writes it: top-level keys sorted (it patches the
# config as a map), nested structs in Go field order, compact.


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created: str
    created_by: str
    comment: str | None = BUILDKIT_COMMENT
    empty_layer: bool = False

    def to_json(self) -> JsonObject:
        out: JsonObject = {"created": self.created, "created_by": self.created_by}
        if self.comment:
            out["comment"] = self.comment
        if self.empty_layer:
            out["empty_layer"] = True
        return out


@dataclass(frozen=True, slots=True)
class RunConfig:
    """The `config` object of an image config (OCI ImageConfig field order)."""

    user: str | None = None
    exposed_ports: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    working_dir: str | None = None
    labels: Pairs = ()

    def to_json(self) -> JsonObject:
        out: JsonObject = {}
        if self.user:
            out["User"] = self.user
        if self.exposed_ports:
            out["ExposedPorts"] = {port: {} for port in sorted(self.exposed_ports)}
        if self.env:
            out["Env"] = list(self.env)
        if self.entrypoint is not None:
            out["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            out["Cmd"] = list(self.cmd)
        if self.working_dir:
            out["WorkingDir"] = self.working_dir
        if self.labels:
            out["Labels"] = dict(sorted(self.labels))
        return out


def make_config(
    *, platform: Platform, diff_ids: Sequence[str], history: Sequence[HistoryEntry],
    created: str, run: RunConfig,
) -> bytes:
    """Compact config JSON; `rootfs.diff_ids` must be the layers' diffIDs in stack order."""
    if sum(not h.empty_layer for h in history) != len(diff_ids):
        raise ValueError("non-empty history entries must match the layers one to one")
    doc: JsonObject = {
        "architecture": platform.architecture,
        "config": run.to_json(),
        "created": created,
        "history": [h.to_json() for h in history],
        "os": platform.os,
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }
    if platform.variant:
        doc["variant"] = platform.variant
    return go_json(dict(sorted(doc.items())))


# --------------------------------------------------------------------------------------------------
# Manifests, indexes, attestations (FORMATS.md §1.3, §1.4, §3.3, §3.4)


@dataclass(frozen=True, slots=True)
class Image:
    """A runnable (or attestation) manifest with its config and layers."""

    manifest: Blob
    config: Blob
    layers: tuple[Layer, ...]
    platform: Platform | None

    def blobs(self) -> tuple[Blob, ...]:
        return (self.manifest, self.config, *(layer.blob for layer in self.layers))

    def descriptor(self, *, annotations: Mapping[str, str] | None = None) -> JsonObject:
        return self.manifest.descriptor(annotations=annotations, platform=self.platform)


def make_image(
    config: bytes, layers: Sequence[Layer], *, platform: Platform | None,
    docker_media_types: bool = False, indent: bool = True,
    annotations: Mapping[str, str] | None = None,
) -> Image:
    """An image manifest; BuildKit indents manifests with two spaces, Docker 25 does not."""
    config_blob = Blob(MT_DOCKER_CONFIG if docker_media_types else MT_OCI_CONFIG, config)
    doc: JsonObject = {
        "schemaVersion": 2,
        "mediaType": MT_DOCKER_MANIFEST if docker_media_types else MT_OCI_MANIFEST,
        "config": config_blob.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    if annotations:
        doc["annotations"] = dict(sorted(annotations.items()))
    manifest = Blob(str(doc["mediaType"]), go_json(doc, indent=indent))
    return Image(manifest, config_blob, tuple(layers), platform)


def make_index(
    manifests: Sequence[JsonObject], *, annotations: Mapping[str, str] | None = None,
    indent: bool = True,
) -> Blob:
    """An OCI image index blob listing `manifests` (descriptors) in the given order."""
    doc: JsonObject = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": list(manifests)}
    if annotations:
        doc["annotations"] = dict(sorted(annotations.items()))
    return Blob(MT_OCI_INDEX, go_json(doc, indent=indent))


def index_json(manifests: Sequence[JsonObject] | None) -> bytes:
    """The layout's `index.json`: compact (Go json.Marshal). `None` gives `"manifests":null`,
    as Docker 25.0.0 wrote (FORMATS.md §4.3)."""
    return go_json({"schemaVersion": 2, "mediaType": MT_OCI_INDEX,
                    "manifests": None if manifests is None else list(manifests)})


class AttestationStyle(enum.Enum):
    """LEGACY: real config with unknown/unknown platform (BuildKit <= v0.31, the common case);
    ARTIFACT: `artifactType`, empty config and `subject` (BuildKit v0.32 default), §3.4."""

    LEGACY = "legacy"
    ARTIFACT = "artifact"


def provenance_statement(
    subject: Image, *, name: str, platform: Platform, build_id: str, started: str, finished: str,
    materials: Sequence[tuple[str, str]] = (),
) -> Layer:
    """A minimal SLSA v0.2 provenance statement (mode=min) about `subject`'s manifest."""
    statement: JsonObject = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": name, "digest": {"sha256": subject.manifest.hex}}],
        "predicate": {
            "builder": {"id": ""},
            "buildType": "https://mobyproject.org/buildkit@v1",
            "materials": [{"uri": uri, "digest": {"sha256": hex_}} for uri, hex_ in materials],
            "invocation": {
                "configSource": {"entryPoint": "Dockerfile"},
                "parameters": {"frontend": "dockerfile.v0",
                               "locals": [{"name": "context"}, {"name": "dockerfile"}]},
                "environment": {"platform": f"{platform.os}/{platform.architecture}"
                                + (f"/{platform.variant}" if platform.variant else "")},
            },
            "metadata": {
                "buildInvocationID": build_id, "buildStartedOn": started,
                "buildFinishedOn": finished,
                "completeness": {"parameters": False, "environment": True, "materials": False},
                "reproducible": False,
            },
        },
    }
    data = go_json(statement)
    return Layer(Blob(MT_IN_TOTO, data), data,
                 (("in-toto.io/predicate-type", "https://slsa.dev/provenance/v0.2"),))


def make_attestation(
    subject: Image, statements: Sequence[Layer], *,
    style: AttestationStyle = AttestationStyle.LEGACY,
) -> Image:
    """The attestation manifest for `subject` (one in-toto layer per statement)."""
    if style is AttestationStyle.LEGACY:
        config = go_json({
            "architecture": "unknown", "os": "unknown", "config": {},
            "rootfs": {"type": "layers", "diff_ids": [s.diff_id for s in statements]},
        })
        return make_image(config, statements, platform=UNKNOWN_PLATFORM)
    empty = Blob(MT_EMPTY, b"{}")
    doc: JsonObject = {
        "schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
        "artifactType": MT_ATTESTATION_ARTIFACT, "config": empty.descriptor(),
        "layers": [s.descriptor() for s in statements],
        "subject": subject.manifest.descriptor(),
    }
    return Image(Blob(MT_OCI_MANIFEST, go_json(doc, indent=True)), empty, tuple(statements),
                 UNKNOWN_PLATFORM)


def attestation_descriptor(attestation: Image, subject: Image) -> JsonObject:
    """The index entry for an attestation manifest: unknown/unknown plus reference annotations."""
    return attestation.descriptor(annotations={
        "vnd.docker.reference.type": "attestation-manifest",
        "vnd.docker.reference.digest": subject.manifest.digest,
    })


# --------------------------------------------------------------------------------------------------
# OCI layouts: containerd's archive exporter (FORMATS.md §3.2) and plain directories


@dataclass(frozen=True, slots=True)
class LayoutFile:
    name: str  # directories end with "/"
    data: bytes
    mode: int
    mtime: int = 0


def oci_layout_files(
    blobs: Iterable[Blob], index: bytes, *, oci_layout: bytes = OCI_LAYOUT_COMPACT,
    extra: Mapping[str, bytes] | None = None,
) -> list[LayoutFile]:
    """The records containerd's exporter writes, sorted bytewise by name, duplicates dropped:
    `blobs/` and `blobs/sha256/` (0755), blobs (0444), `index.json` and extras such as
    `manifest.json` (0644), `oci-layout` (0444)."""
    records = {b.hex: b.data for b in blobs}
    files = [LayoutFile("blobs/", b"", 0o755), LayoutFile("blobs/sha256/", b"", 0o755)]
    files += [LayoutFile(f"blobs/sha256/{h}", data, 0o444) for h, data in records.items()]
    files.append(LayoutFile("index.json", index, 0o644))
    files += [LayoutFile(name, data, 0o644) for name, data in (extra or {}).items()]
    files.append(LayoutFile("oci-layout", oci_layout, 0o444))
    return sorted(files, key=lambda f: f.name.encode("utf-8"))


def _layout_entries(
    files: Iterable[LayoutFile], *, uid: int = 0, gid: int = 0, uname: str = "", gname: str = "",
) -> list[TarEntry]:
    entries = []
    for f in files:
        if f.name.endswith("/"):
            entry = dir_entry(f.name, mode=f.mode, mtime=f.mtime)
        else:
            entry = file_entry(f.name, f.data, mode=f.mode, mtime=f.mtime)
        entries.append(replace(entry, uid=uid, gid=gid, uname=uname, gname=gname))
    return entries


def write_oci_archive(
    blobs: Iterable[Blob], index: bytes, *, docker_manifest: bytes | None = None,
) -> bytes:
    """An OCI layout tarball byte-for-byte as BuildKit/containerd export it (§3.2): sorted
    records, Go USTAR headers, mtime 0, uid/gid 0, empty owner names, exactly 1024 zero bytes at
    the end. `docker_manifest` adds `manifest.json` (type=docker, containerd-store docker save)."""
    extra = {"manifest.json": docker_manifest} if docker_manifest is not None else None
    files = oci_layout_files(blobs, index, extra=extra)
    return write_tar(_layout_entries(files), format=TarFormat.USTAR)


def write_retarred_layout(
    files: Iterable[LayoutFile], *, uid: int, gid: int, uname: str, gname: str, root_mtime: int,
    root_mode: int = 0o755,
) -> bytes:
    """A layout re-packed with `tar -cf x.tar -C dir .` (GNU tar, §4.5): `./` names, a `./` root
    member, GNU magic, the packer's owner, padding to a 10 KiB record."""
    root = replace(dir_entry(".", mode=root_mode, mtime=root_mtime), uid=uid, gid=gid,
                   uname=uname, gname=gname)
    entries = _layout_entries(files, uid=uid, gid=gid, uname=uname, gname=gname)
    return write_tar(entries, format=TarFormat.GNU, dot_prefix=True, root_entry=root,
                     end=TarEnd.RECORD)


def write_oci_dir(root: Path, blobs: Iterable[Blob], index: bytes) -> list[Path]:
    """An OCI layout directory with the same content (file modes are left to the umask, since
    git keeps no read-only bits). Returns the files written."""
    written = []
    for f in oci_layout_files(blobs, index):
        path = root / f.name
        if f.name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.data)
        written.append(path)
    return written


def docker_archive_manifest(images: Sequence[tuple[Image, Sequence[str]]]) -> bytes:
    """containerd's `manifest.json` for the docker variant (§4.4): compact, no trailing newline,
    `Config`/`Layers` pointing into `blobs/sha256/` (layers compressed as stored)."""
    return go_json([
        {"Config": f"blobs/sha256/{image.config.hex}", "RepoTags": list(tags),
         "Layers": [f"blobs/sha256/{layer.blob.hex}" for layer in image.layers]}
        for image, tags in images
    ])


# --------------------------------------------------------------------------------------------------
# docker save (FORMATS.md §4.2, §4.3): a temp directory tarred by moby's archive.Tar, walked in
# lexical order, directories included, no root member.


@dataclass(frozen=True, slots=True)
class SavedImage:
    """An image as the Docker daemon holds it: raw config bytes and uncompressed layer tars."""

    config: bytes
    layers: tuple[bytes, ...]
    repo_tags: tuple[str, ...]
    created: int  # docker save stamps the image's files with its `created` time


_ZERO_CONTAINER_CONFIG: JsonObject = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
    "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None,
    "OnBuild": None, "Labels": None,
}


def docker_container_config(run: Mapping[str, object]) -> JsonObject:
    """Docker's container.Config in its field order (no omitempty on most fields), from an OCI
    `config` object such as `RunConfig.to_json()`."""
    out: JsonObject = {
        "Hostname": "", "Domainname": "", "User": run.get("User", ""), "AttachStdin": False,
        "AttachStdout": False, "AttachStderr": False,
    }
    if run.get("ExposedPorts"):
        out["ExposedPorts"] = run["ExposedPorts"]
    out.update({"Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": run.get("Env"),
                "Cmd": run.get("Cmd"), "Image": "", "Volumes": None,
                "WorkingDir": run.get("WorkingDir", ""), "Entrypoint": run.get("Entrypoint"),
                "OnBuild": None, "Labels": run.get("Labels")})
    return out


def _v1_layers(image: SavedImage) -> list[tuple[str, bytes]]:
    """(v1 ID, `<v1id>/json` bytes) per layer, following moby's `v1.CreateID`: the v1 JSON
    without `id`, plus `layer_id` (chain ID) and `parent`, re-marshalled with sorted keys."""
    config = json.loads(image.config)
    diff_ids = [sha256_digest(tar) for tar in image.layers]
    out: list[tuple[str, bytes]] = []
    parent = ""
    for i, chain_id in enumerate(chain_ids(diff_ids)):
        body: JsonObject
        if i == len(diff_ids) - 1:
            body = {"created": config["created"],
                    "container_config": _ZERO_CONTAINER_CONFIG,
                    "config": docker_container_config(config.get("config") or {}),
                    "architecture": config["architecture"], "os": config["os"]}
        else:
            body = {"created": "1970-01-01T00:00:00Z", "container_config": _ZERO_CONTAINER_CONFIG,
                    "os": config["os"]}
        keyed: JsonObject = {**body, "layer_id": chain_id}
        if parent:
            keyed["parent"] = "sha256:" + parent
        v1_id = hashlib.sha256(go_json(dict(sorted(keyed.items())))).hexdigest()
        head: JsonObject = {"id": v1_id}
        if parent:
            head["parent"] = parent
        out.append((v1_id, go_json({**head, **body})))
        parent = v1_id
    return out


def normalized_name(repo: str) -> str:
    """Docker's familiar name to the full one: `app` -> `docker.io/library/app`,
    `ocidiff/app` -> `docker.io/ocidiff/app`; names with a registry host stay as they are."""
    first = repo.split("/")[0]
    if "/" in repo and ("." in first or ":" in first or first == "localhost"):
        return repo
    return "docker.io/" + (repo if "/" in repo else "library/" + repo)


def _repositories(images: Sequence[SavedImage], top_ids: Sequence[str]) -> bytes:
    repos: dict[str, dict[str, str]] = {}
    for image, top in zip(images, top_ids, strict=True):
        for tag in image.repo_tags:
            repo, _, version = tag.rpartition(":")
            repos.setdefault(repo, {})[version] = top
    return go_json({repo: dict(sorted(tags.items())) for repo, tags in sorted(repos.items())},
                   newline=True)


def write_walk_tar(entries: Iterable[TarEntry], *, type_bits: bool = False) -> bytes:
    """A directory tree as moby's `archive.Tar` writes it: Go USTAR headers, members in
    `filepath.Walk` order (each directory's names sorted, children right after their directory,
    so `abc/x` precedes `abc.json`), no root member, 1024-byte end marker (§4.2)."""
    ordered = sorted(entries, key=lambda e: _walk_key(e.name))
    return write_tar(ordered, format=TarFormat.USTAR, type_bits=type_bits)


def write_docker_legacy(images: Sequence[SavedImage]) -> bytes:
    """`docker save` of Docker 1.10-24 (§4.2): `<v1id>/{VERSION,json,layer.tar}`, `<id>.json`,
    `manifest.json`, `repositories`; uncompressed layers; a layer already saved for an earlier
    image becomes a `../<v1id>/layer.tar` symlink; modes carry S_IFMT bits."""
    nodes: list[tuple[str, TarEntry]] = []
    saved: dict[str, str] = {}  # diffID -> v1 ID whose directory holds the real layer.tar
    manifest: list[JsonObject] = []
    top_ids: list[str] = []
    for image in images:
        ts = image.created
        layer_paths = []
        for tar, (v1_id, v1_json) in zip(image.layers, _v1_layers(image), strict=True):
            nodes += [(v1_id, dir_entry(v1_id, mtime=ts)),
                      (f"{v1_id}/VERSION", file_entry(f"{v1_id}/VERSION", b"1.0", mtime=ts)),
                      (f"{v1_id}/json", file_entry(f"{v1_id}/json", v1_json, mtime=ts))]
            diff_id = sha256_digest(tar)
            name = f"{v1_id}/layer.tar"
            if diff_id in saved:
                target = f"../{saved[diff_id]}/layer.tar"
                nodes.append((name, symlink_entry(name, target, mtime=ts)))
            else:
                saved[diff_id] = v1_id
                nodes.append((name, file_entry(name, tar, mtime=ts)))
            layer_paths.append(name)
        config_name = hashlib.sha256(image.config).hexdigest() + ".json"
        nodes.append((config_name, file_entry(config_name, image.config, mtime=ts)))
        manifest.append({"Config": config_name, "RepoTags": list(image.repo_tags) or None,
                         "Layers": layer_paths})
        top_ids.append(layer_paths[-1].split("/")[0])
    nodes.append(("manifest.json", file_entry("manifest.json", go_json(manifest, newline=True))))
    nodes.append(("repositories", file_entry("repositories", _repositories(images, top_ids))))
    return write_walk_tar([entry for _, entry in nodes], type_bits=True)


def write_docker_v25(images: Sequence[SavedImage], *, save_time: int) -> bytes:
    """`docker save` of Docker 25+ with the graphdriver store (§4.3): an OCI layout whose layer
    blobs are the uncompressed tars (digest = diffID), a compact synthesized manifest, legacy v1
    JSON blobs nobody references, `manifest.json` with `LayerSources`, the 31-byte `oci-layout`,
    and `repositories`. mtimes: image blobs carry `created`, `blobs/sha256/` the save time (the
    manifest write touches it last), the manifest blob and top-level files 0."""
    blobs: dict[str, tuple[bytes, int]] = {}
    descriptors: list[JsonObject] = []
    manifest: list[JsonObject] = []
    repos: list[str] = []
    blobs_mtime = 0
    for image in images:
        ts = image.created
        blobs_mtime = ts
        for _, v1_json in _v1_layers(image):
            blobs.setdefault(hashlib.sha256(v1_json).hexdigest(), (v1_json, ts))
        layers = [Blob(MT_OCI_LAYER, tar) for tar in image.layers]
        for blob in layers:
            blobs.setdefault(blob.hex, (blob.data, ts))
        config = Blob(MT_OCI_CONFIG, image.config)
        blobs[config.hex] = (config.data, ts)
        doc = {"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST, "config": config.descriptor(),
               "layers": [b.descriptor() for b in layers]}
        manifest_blob = Blob(MT_OCI_MANIFEST, go_json(doc))
        blobs[manifest_blob.hex] = (manifest_blob.data, 0)
        for tag in image.repo_tags:
            repo, _, version = tag.rpartition(":")
            descriptors.append(manifest_blob.descriptor(annotations={
                "io.containerd.image.name": f"{normalized_name(repo)}:{version}",
                "org.opencontainers.image.ref.name": version}))
        if not image.repo_tags:
            descriptors.append(manifest_blob.descriptor())
        sources = {b.hex: {"mediaType": MT_OCI_LAYER, "size": b.size, "digest": b.digest}
                   for b in layers}
        manifest.append({
            "Config": f"blobs/sha256/{config.hex}", "RepoTags": list(image.repo_tags) or None,
            "Layers": [f"blobs/sha256/{b.hex}" for b in layers],
            "LayerSources": {"sha256:" + h: sources[h] for h in sorted(sources)},
        })
        repos.append(layers[-1].hex)
    nodes: list[tuple[str, TarEntry]] = [
        ("blobs", dir_entry("blobs", mtime=blobs_mtime)),
        ("blobs/sha256", dir_entry("blobs/sha256", mtime=save_time)),
    ]
    for hex_, (data, mtime) in blobs.items():
        name = f"blobs/sha256/{hex_}"
        nodes.append((name, file_entry(name, data, mtime=mtime)))
    top = [("index.json", index_json(descriptors)),
           ("manifest.json", go_json(manifest, newline=True)),
           ("oci-layout", OCI_LAYOUT_DOCKER)]
    if any(image.repo_tags for image in images):
        top.append(("repositories", _repositories(images, repos)))
    nodes += [(name, file_entry(name, data)) for name, data in top]
    return write_walk_tar([entry for _, entry in nodes], type_bits=False)

