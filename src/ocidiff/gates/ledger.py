"""The release ledger: an append-only JSON Lines file, one record per released image and platform.

Owns the record format and the file discipline. Every access takes an `flock` on the ledger
itself (exclusive to append, shared to read), so concurrent writers never interleave or lose a
record. A line that does not parse is an error naming its line number and byte offset: it is
never skipped and never rewritten, and nothing is appended after it until a person repairs it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import InputError, UsageError
from ..oci.image import ImageArchive, ImageRef

SCHEMA = "ocidiff.ledger"
SCHEMA_VERSION = 1
DEFAULT_LEDGER = "ocidiff-ledger.jsonl"
_HINT = "the ledger is append-only: repair or remove that line by hand"


@dataclass(frozen=True, slots=True)
class LedgerLayer:
    index: int
    digest: str | None
    diff_id: str | None
    size: int | None
    media_type: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerRecord:
    """What shipped: one image of one platform under a release name, to the byte."""

    schema: str = SCHEMA
    schema_version: int = SCHEMA_VERSION
    release: str
    platform: str
    fingerprint: str | None
    image: str  # the archive's file name (no directory: machine-independent)
    archive_sha256: str | None  # of the archive file as recorded; None for a layout directory
    archive_format: str
    producers: tuple[str, ...]
    index_digest: str | None  # the image index this manifest was reached through, if any
    manifest_digest: str | None
    config_digest: str | None
    layers: tuple[LedgerLayer, ...]


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    added: tuple[LedgerRecord, ...]
    already: tuple[LedgerRecord, ...]  # identical records found: recording is idempotent
    conflicts: tuple[tuple[LedgerRecord, LedgerRecord], ...]  # (recorded, refused)


def records_for(
    archive: ImageArchive,
    images: Sequence[ImageRef],
    *,
    release: str,
    fingerprint: str | None,
    image_name: str,
    archive_sha256: str | None,
) -> tuple[LedgerRecord, ...]:
    """One record per image (one per platform) of the archive."""
    if not release.strip() or any(ord(c) < 32 for c in release):
        raise UsageError(f"invalid release name {release!r}")
    records: list[LedgerRecord] = []
    for image in images:
        layers = tuple(
            LedgerLayer(layer.index, layer.digest, layer.diff_id, layer.size, layer.media_type)
            for layer in image.layers
        )
        records.append(LedgerRecord(
            release=release,
            platform=str(image.platform),
            fingerprint=fingerprint,
            image=image_name,
            archive_sha256=archive_sha256,
            archive_format=archive.format.value,
            producers=archive.producers,
            index_digest=image.index_path[-1] if image.index_path else None,
            manifest_digest=image.manifest_digest,
            config_digest=image.config_digest,
            layers=layers,
        ))
    platforms = [r.platform for r in records]
    doubled = sorted({p for p in platforms if platforms.count(p) > 1})
    if doubled:
        raise UsageError(
            f"more than one image for {', '.join(doubled)} in the archive",
            file=archive.source,
            hint="record one archive per image",
        )
    return tuple(records)


def same_image(a: LedgerRecord, b: LedgerRecord) -> bool:
    """Equal manifests (or, for archives without manifest blobs, equal config and layers)."""
    if a.manifest_digest is not None and b.manifest_digest is not None:
        return a.manifest_digest == b.manifest_digest
    return a.config_digest == b.config_digest and [x.digest for x in a.layers] == [
        y.digest for y in b.layers
    ]


def encode_record(record: LedgerRecord) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def decode_records(data: bytes, source: str) -> tuple[LedgerRecord, ...]:
    """Every record of a ledger's bytes; the first bad line raises, naming line and offset."""
    records: list[LedgerRecord] = []
    offset = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        at, offset = offset, offset + len(line) + 1
        if offset > len(data):  # the part after the last newline
            if line:
                raise InputError(f"line {number} is incomplete (no newline: an interrupted "
                                 "write?)", file=source, offset=at, hint=_HINT)
            break
        try:
            records.append(_record(orjson.loads(line)))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            reason = str(exc).split("\n")[0] or type(exc).__name__
            raise InputError(f"line {number} is not a ledger record ({reason})", file=source,
                             offset=at, hint=_HINT) from None
    return tuple(records)


def _record(raw: Any) -> LedgerRecord:
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        raise ValueError(f"schema is not {SCHEMA}")
    if raw["schema_version"] != SCHEMA_VERSION:
        raise ValueError(f"schema_version {raw['schema_version']} is not {SCHEMA_VERSION}")
    layers = tuple(
        LedgerLayer(int(x["index"]), x["digest"], x["diff_id"], x["size"], x["media_type"])
        for x in raw["layers"]
    )
    return LedgerRecord(
        release=_text(raw["release"]),
        platform=_text(raw["platform"]),
        fingerprint=raw["fingerprint"],
        image=_text(raw["image"]),
        archive_sha256=raw["archive_sha256"],
        archive_format=_text(raw["archive_format"]),
        producers=tuple(_text(p) for p in raw["producers"]),
        index_digest=raw["index_digest"],
        manifest_digest=raw["manifest_digest"],
        config_digest=raw["config_digest"],
        layers=layers,
    )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


@contextmanager
def _locked(path: str, *, write: bool) -> Iterator[int | None]:
    flags = os.O_RDWR | os.O_CREAT | os.O_APPEND if write else os.O_RDONLY
    try:
        fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
    except FileNotFoundError:
        if write:
            raise InputError("no such directory", file=path) from None
        yield None
        return
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), file=path) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def read_ledger(path: str) -> tuple[LedgerRecord, ...]:
    """Every record, in the order written; a missing ledger has none."""
    with _locked(path, write=False) as fd:
        if fd is None:
            return ()
        return decode_records(_read_all(fd), path)


def append_records(path: str, records: Sequence[LedgerRecord]) -> RecordOutcome:
    """Append the records not already there, all or nothing: any conflict appends none.

    A record conflicts when its release and platform were recorded with another image or
    another fingerprint; recording the identical record again changes nothing."""
    with _locked(path, write=True) as fd:
        assert fd is not None
        existing = decode_records(_read_all(fd), path)
        by_key = {(r.release, r.platform): r for r in existing}
        added: list[LedgerRecord] = []
        already: list[LedgerRecord] = []
        conflicts: list[tuple[LedgerRecord, LedgerRecord]] = []
        for record in records:
            old = by_key.get((record.release, record.platform))
            if old is None:
                added.append(record)
            elif same_image(old, record) and old.fingerprint == record.fingerprint:
                already.append(old)
            else:
                conflicts.append((old, record))
        if added and not conflicts:
            payload = b"".join(encode_record(r) for r in added)
            _write_all(fd, payload, path)
        return RecordOutcome(
            tuple(added) if not conflicts else (), tuple(already), tuple(conflicts)
        )


def _write_all(fd: int, payload: bytes, path: str) -> None:
    try:
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        raise InputError(f"cannot append: {exc.strerror or exc}", file=path) from None
