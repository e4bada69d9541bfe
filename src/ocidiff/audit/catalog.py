"""The audit catalog: one SQLite database (WAL mode), migrated on open, written per release.

Every release is written in one `BEGIN IMMEDIATE` transaction, so an interrupted audit leaves
whole releases or nothing, and two audits of one catalog serialise on the write lock (with a busy
timeout) instead of failing. Writes are idempotent: a release already there with the same
fingerprint is skipped, layers are keyed by (digest, cache key). Wall-clock times appear only in
`runs`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from .. import __version__
from ..compression import CompressionInfo
from ..errors import InputError, UsageError
from .analysis import LayerRecord
from .records import has_layer, load_layer, sql_text, store_layer
from .release import PlatformAudit, ReleaseAudit
from .schema import MIGRATIONS, SCHEMA_VERSION
from .values import decode

BUSY_TIMEOUT_S = 120.0
MEMORY = ":memory:"


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (IMMEDIATE) so that concurrent writers queue on the
    busy timeout instead of failing when a read lock is upgraded."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _retry_while_locked(step: Callable[[], None]) -> None:
    """Run `step`, again while another process holds the lock it needs.

    Switching a new catalog to WAL while a second process opens it can fail at once with
    "database is locked" (SQLite gives up without calling the busy handler when the other side
    is setting up the WAL index), so opening retries for up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


class Catalog:
    """A read-write connection to one catalog file (or an in-memory one)."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = ON")
            _retry_while_locked(lambda: self._prepare(path))
        except sqlite3.DatabaseError as exc:
            raise InputError(f"not a usable catalog: {exc}", file=path) from None

    def _prepare(self, path: str) -> None:
        if path != MEMORY:
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
        migrate(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self.db)

    # -- runs -------------------------------------------------------------------------------

    def begin_run(self, arguments: dict[str, object], cache_key: str) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (started_at, status, ocidiff_version, cache_key, arguments) "
                "VALUES (?, 'running', ?, ?, ?)",
                (_now(), __version__, cache_key, json.dumps(arguments, sort_keys=True)),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(self, run_id: int, counts: dict[str, int]) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, status = 'complete', releases = ?, "
                "audited = ?, layers_read = ?, bytes_read = ? WHERE run_id = ?",
                (
                    _now(),
                    counts.get("releases", 0),
                    counts.get("audited", 0),
                    counts.get("layers_read", 0),
                    counts.get("bytes_read", 0),
                    run_id,
                ),
            )

    # -- releases ---------------------------------------------------------------------------

    def fingerprint(self, path: str) -> str | None:
        row = self.db.execute(
            "SELECT fingerprint FROM images WHERE path = ?", (sql_text(path),)
        ).fetchone()
        return None if row is None else str(row[0])

    def has_layer(self, digest: str, cache_key: str) -> bool:
        return has_layer(self.db, digest, cache_key)

    def load_layer(self, digest: str, cache_key: str) -> LayerRecord | None:
        return load_layer(self.db, digest, cache_key)

    def load_compression(self, digest: str, cache_key: str) -> CompressionInfo | None:
        row = self.db.execute(
            "SELECT compression_info FROM layers WHERE digest = ? AND cache_key = ?",
            (digest, cache_key),
        ).fetchone()
        return None if row is None else decode(CompressionInfo, row[0])

    def write_release(
        self, release: ReleaseAudit, layers: Sequence[LayerRecord], run_id: int
    ) -> bool:
        """Write a release and the layers first read for it; False when another audit wrote
        the same release (same path and fingerprint) meanwhile."""
        source = release.source
        with self.transaction() as db:
            row = db.execute(
                "SELECT image_id, fingerprint FROM images WHERE path = ?", (sql_text(source.path),)
            ).fetchone()
            if row is not None and row[1] == source.fingerprint:
                return False
            if row is not None:  # the file changed since it was audited: start over
                db.execute("DELETE FROM images WHERE image_id = ?", (row[0],))
            for record in layers:
                store_layer(db, record)
            db.executemany(
                "INSERT OR IGNORE INTO blobs (digest, size, media_type, kind) VALUES (?,?,?,?)",
                ((b.digest, b.size, b.media_type, b.kind) for b in release.blobs),
            )
            cursor = db.execute(
                "INSERT INTO images (path, name, fingerprint, size, format, outer_compression, "
                "created, status, error, problems, producers, run_id) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    sql_text(source.path),
                    sql_text(source.name),
                    source.fingerprint,
                    source.size,
                    release.format,
                    release.outer_compression,
                    release.created,
                    release.status,
                    _display(release.error),
                    len(release.problems),
                    json.dumps(list(release.producers)),
                    run_id,
                ),
            )
            image_id = cursor.lastrowid
            db.executemany(
                "INSERT INTO problems VALUES (?,?,?,?,?,?,?)",
                (
                    (
                        image_id,
                        seq,
                        p.kind.value,
                        _display(p.subject),
                        _display(p.message),
                        p.expected,
                        p.actual,
                    )
                    for seq, p in enumerate(release.problems)
                ),
            )
            for platform in release.platforms:
                _write_platform(db, image_id, platform)
        return True


def _write_platform(db: sqlite3.Connection, image_id: int | None, p: PlatformAudit) -> None:
    cursor = db.execute(
        "INSERT INTO platforms (image_id, key, platform, names, manifest_digest, config_digest, "
        "created, layer_count, size, uncompressed_size, epoch, base_name, base_digest, document) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            image_id,
            _display(p.key),
            p.platform,
            json.dumps(list(p.names)),
            p.manifest_digest,
            p.config_digest,
            p.created,
            len(p.layers),
            p.size,
            p.uncompressed_size,
            p.epoch,
            p.base_name,
            p.base_digest,
            p.document,
        ),
    )
    platform_id = cursor.lastrowid
    db.executemany(
        "INSERT INTO image_layers VALUES (?,?,?,?,?,?,?,?)",
        (
            (
                platform_id,
                u.index,
                u.digest,
                u.diff_id,
                u.media_type,
                u.size,
                _display(u.created_by),
                u.status,
            )
            for u in p.layers
        ),
    )
    db.executemany(
        "INSERT OR IGNORE INTO packages VALUES (?,?,?,?,?,?)",
        (
            (
                platform_id,
                k.ecosystem,
                sql_text(k.name),
                sql_text(k.version),
                sql_text(k.path),
                k.layer_index,
            )
            for k in p.packages
        ),
    )
    db.executemany(
        "INSERT INTO hazards VALUES (?,?,?,?,?)",
        ((platform_id, h.code, h.count, h.bytes, json.dumps(list(h.examples))) for h in p.hazards),
    )


def _display(text: str | None) -> str | None:
    """Free text for people (messages, history lines): lone surrogates become U+FFFD."""
    if text is None:
        return None
    return text.encode("utf-8", "replace").decode("utf-8")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def migrate(db: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION; refuses a catalog written by a newer ocidiff."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = db.execute("SELECT max(version) FROM schema_version").fetchone()
        current = int(row[0] or 0)
        if current > SCHEMA_VERSION:
            raise UsageError(
                f"catalog schema version {current} is newer than this ocidiff "
                f"supports ({SCHEMA_VERSION})",
                hint="upgrade ocidiff",
            )
        for version, statements in MIGRATIONS:
            if version > current:
                for statement in statements:
                    db.execute(statement)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return SCHEMA_VERSION


def open_read_only(path: str) -> sqlite3.Connection:
    """A connection that cannot write (for `ocidiff query`)."""
    if not Path(path).is_file():
        raise InputError("no such catalog", file=path)
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
        db.execute("PRAGMA query_only = ON")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"not a usable catalog: {exc}", file=path) from None
    return db
