"""Layer records to catalog rows and back: `layers`, `files`, `layer_packages`, `layer_contents`.

Lossless for everything the diff engine and the lint read: `load_layer(store_layer(r)) == r`
for any record in stored form. Pure row mapping plus the SQL that reads and writes these tables;
the transaction belongs to the caller.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from ..compression import CompressionInfo
from ..inventory import FileEntry, LayerInventory
from ..tar.events import EntryKind, Trailer
from .analysis import LayerRecord
from .facts import ContentFact, LayerFacts, PackageFact
from .values import decode, encode

_FILE_COLUMNS = (
    "layer_digest, cache_key, seq, path, name, kind, mode, raw_mode, uid, gid, uname, gname, "
    "size, mtime_ns, atime_ns, ctime_ns, linkname, devmajor, devminor, xattrs, encoding, "
    "pax_keys, digest, offset"
)


def store_layer(db: sqlite3.Connection, record: LayerRecord) -> bool:
    """Insert a layer and its files and facts unless the (digest, cache key) row exists;
    True when this call inserted it."""
    inv = record.inventory
    key = (inv.digest, inv.cache_key)
    entries = inv.entries
    file_bytes = sum(e.size for e in entries or () if e.kind is EntryKind.FILE)
    cursor = db.execute(
        "INSERT OR IGNORE INTO layers (digest, cache_key, diff_id, size, uncompressed_size, "
        "compression, compression_info, is_tar, trailer, trailing_data_bytes, entries, "
        "file_bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            *key,
            inv.diff_id,
            inv.size,
            inv.uncompressed_size,
            inv.compression.kind.value,
            encode(inv.compression),
            int(inv.is_tar),
            inv.trailer.value if inv.trailer else None,
            inv.trailing_data_bytes,
            None if entries is None else len(entries),
            file_bytes,
        ),
    )
    if cursor.rowcount == 0:
        return False
    db.executemany(
        f"INSERT INTO files ({_FILE_COLUMNS}) VALUES ({','.join('?' * 24)})",
        (_file_row(key, seq, e) for seq, e in enumerate(entries or ())),
    )
    db.executemany(
        "INSERT OR IGNORE INTO layer_packages VALUES (?,?,?,?,?,?)",
        (
            (*key, sql_text(p.path), p.ecosystem, sql_text(p.name), sql_text(p.version))
            for p in record.facts.packages
        ),
    )
    db.executemany(
        "INSERT OR IGNORE INTO layer_contents VALUES (?,?,?,?,?,?,?)",
        (
            (*key, sql_text(c.path), c.kind, c.mode, c.mtime, _opt_text(c.source_path))
            for c in record.facts.contents
        ),
    )
    return True


def sql_text(text: str) -> str | bytes:
    """Names from tars are decoded with surrogateescape; SQLite text must be UTF-8, so such a
    name is stored as its original bytes (a BLOB) and decoded back on load."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")
    return text


def py_text(value: str | bytes) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


_INT64 = (-(1 << 63), (1 << 63) - 1)


def sql_int(value: int | None) -> int | str | None:
    """Header numbers past SQLite's 64 bits (base-256 fields can hold them) stay exact as text."""
    if value is None or _INT64[0] <= value <= _INT64[1]:
        return value
    return f"int:{value}"


def py_int(value: int | str | None) -> int | None:
    return int(value[4:]) if isinstance(value, str) else value


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=True)  # escapes surrogates, which orjson refuses


def _file_row(key: tuple[str, str], seq: int, e: FileEntry) -> tuple[object, ...]:
    return (
        *key,
        seq,
        sql_text(e.path),
        sql_text(e.name),
        e.kind.value,
        e.mode,
        e.raw_mode,
        sql_int(e.uid),
        sql_int(e.gid),
        sql_text(e.uname),
        sql_text(e.gname),
        sql_int(e.size),
        sql_int(e.mtime_ns),
        sql_int(e.atime_ns),
        sql_int(e.ctime_ns),
        sql_text(e.linkname),
        sql_int(e.devmajor),
        sql_int(e.devminor),
        _json(e.xattrs),
        e.encoding,
        _json(e.pax_keys),
        e.digest,
        e.offset,
    )


def _opt_text(text: str | None) -> str | bytes | None:
    return None if text is None else sql_text(text)


def has_layer(db: sqlite3.Connection, digest: str, cache_key: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM layers WHERE digest = ? AND cache_key = ?", (digest, cache_key)
    ).fetchone()
    return row is not None


def load_layer(db: sqlite3.Connection, digest: str, cache_key: str) -> LayerRecord | None:
    row = db.execute(
        "SELECT diff_id, size, uncompressed_size, compression_info, is_tar, trailer, "
        "trailing_data_bytes, entries FROM layers WHERE digest = ? AND cache_key = ?",
        (digest, cache_key),
    ).fetchone()
    if row is None:
        return None
    diff_id, size, uncompressed, info, is_tar, trailer, trailing, count = row
    key = (digest, cache_key)
    entries = None if count is None else tuple(_files(db, key))
    inventory = LayerInventory(
        digest=digest,
        size=size,
        diff_id=diff_id,
        uncompressed_size=uncompressed,
        compression=decode(CompressionInfo, info),
        entries=entries,
        trailer=Trailer(trailer) if trailer else None,
        trailing_data_bytes=trailing,
        is_tar=bool(is_tar),
        cache_key=cache_key,
    )
    packages = tuple(
        PackageFact(py_text(r[0]), r[1], py_text(r[2]), py_text(r[3]))
        for r in db.execute(
            "SELECT path, ecosystem, name, version FROM layer_packages "
            "WHERE layer_digest = ? AND cache_key = ? ORDER BY path, ecosystem, name, version",
            key,
        )
    )
    contents = tuple(
        ContentFact(py_text(r[0]), r[1], r[2], r[3], None if r[4] is None else py_text(r[4]))
        for r in db.execute(
            "SELECT path, kind, mode, mtime, source_path FROM layer_contents "
            "WHERE layer_digest = ? AND cache_key = ? ORDER BY path, kind",
            key,
        )
    )
    return LayerRecord(inventory, LayerFacts(packages, contents))


def _files(db: sqlite3.Connection, key: tuple[str, str]) -> Iterator[FileEntry]:
    rows = db.execute(
        f"SELECT {_FILE_COLUMNS} FROM files WHERE layer_digest = ? AND cache_key = ? ORDER BY seq",
        key,
    )
    for row in rows:
        (_, _, _, path, name, kind, mode, raw_mode, uid, gid, uname, gname, size, mtime_ns,
         atime_ns, ctime_ns, linkname, devmajor, devminor, xattrs, encoding, pax_keys, digest,
         offset) = row  # fmt: skip
        yield FileEntry(
            path=py_text(path),
            name=py_text(name),
            kind=EntryKind(kind),
            mode=mode,
            raw_mode=raw_mode,
            uid=_int(uid),
            gid=_int(gid),
            uname=py_text(uname),
            gname=py_text(gname),
            size=_int(size),
            mtime_ns=_int(mtime_ns),
            atime_ns=py_int(atime_ns),
            ctime_ns=py_int(ctime_ns),
            linkname=py_text(linkname),
            devmajor=_int(devmajor),
            devminor=_int(devminor),
            xattrs=tuple((str(k), str(v)) for k, v in json.loads(xattrs)),
            encoding=encoding,
            pax_keys=tuple(str(k) for k in json.loads(pax_keys)),
            digest=digest,
            chunks=None,
            offset=offset,
        )


def _int(value: int | str) -> int:
    number = py_int(value)
    assert number is not None
    return number
