"""Builders shared by the audit tests: release folders, in-process and subprocess audits, and a
dump of a catalog's content that ignores run bookkeeping."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from ocidiff.audit.catalog import Catalog
from ocidiff.audit.run import AuditOptions, AuditOutcome, run_audit
from ocidiff.audit.schema import CONTENT_TABLES

from ..conftest import REAL_BUILT, REAL_SAMPLES

# Built here: an app on two bases, a dependency bump, a layout directory sharing layers with
# them, a docker-archive copy, an image with whiteouts; and shared samples of other producers.
BUILT = (
    "baseimg-v1.tar",
    "base-a.tar",
    "base-b.tar",
    "depbump-a.tar",
    "depbump-b.tar",
    "ociarchive-vs-dockerarchive-b.tar",
    "pycache-b.tar",
    "whiteout.tar",
    "layout-dir",
)
SAMPLES = (
    "docker-save-v25-ggcr/hello-world-v25.tar",
    "containerd-export-oras/hello-world.tar",
    "docker-save-multi-symlink-ggcr/test_link.tar",
    "buildkit-oci-dive/test-oci-zstd-image.tar",
    "ocitar-bsdtar-repack-stereoscope/valid-oci.tar",
    "docker-save-gz-trivy/alpine-310.tar.gz",
)


def release_folder(
    root: Path, built: tuple[str, ...] = BUILT, samples: tuple[str, ...] = ()
) -> Path:
    """A folder of symlinks to the chosen archives (the audit resolves them)."""
    folder = root / "releases"
    folder.mkdir(parents=True, exist_ok=True)
    for name in built:
        (folder / name).symlink_to(REAL_BUILT / name)
    for name in samples:
        (folder / Path(name).name).symlink_to(REAL_SAMPLES / name)
    return folder


def audit_into(catalog: Path, paths: list[str], **options: object) -> AuditOutcome:
    with Catalog(str(catalog)) as opened:
        return run_audit(paths, AuditOptions(catalog=str(catalog), **options), opened)  # type: ignore[arg-type]


def dump(catalog: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every content table, rows sorted; `images.run_id` left out (it names the run)."""
    db = sqlite3.connect(catalog)
    try:
        tables: dict[str, list[tuple[object, ...]]] = {}
        for table in CONTENT_TABLES:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[1] != "run_id"]
            rows = db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            tables[table] = sorted(rows, key=repr)
        return tables
    finally:
        db.close()


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    merged = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ocidiff", *args],
        capture_output=True,
        env=merged,
        cwd=cwd,
        timeout=300,
        check=False,
    )


_PLATFORM = (
    "(SELECT i.path || ' ' || p.key FROM platforms p JOIN images i USING (image_id) "
    "WHERE p.platform_id = {})"
)


def natural(catalog: Path) -> dict[str, list[tuple[object, ...]]]:
    """Content with surrogate ids replaced by what they stand for (release path, platform key):
    equal for two catalogs holding the same facts, whatever order they were written in."""
    db = sqlite3.connect(catalog)

    def rows(sql: str) -> list[tuple[object, ...]]:
        return sorted(db.execute(sql).fetchall(), key=repr)

    def columns(table: str, drop: tuple[str, ...], alias: str = "") -> str:
        names = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[1] not in drop]
        return ", ".join(f"{alias}.{n}" if alias else n for n in names)

    try:
        platform = _PLATFORM.format("platform_id")
        return {
            "images": rows(f"SELECT {columns('images', ('image_id', 'run_id'))} FROM images"),
            "platforms": rows(
                f"SELECT i.path, {columns('platforms', ('platform_id', 'image_id'), 'p')} "
                "FROM platforms p JOIN images i USING (image_id)"
            ),
            **{
                table: rows(f"SELECT {platform}, {columns(table, ('platform_id',))} FROM {table}")
                for table in ("image_layers", "packages", "hazards")
            },
            "problems": rows(
                "SELECT i.path, p.seq, p.kind, p.subject, p.message FROM problems p "
                "JOIN images i USING (image_id)"
            ),
            "diffs": rows(
                f"SELECT {_PLATFORM.format('old_platform_id')}, "
                f"{_PLATFORM.format('new_platform_id')}, verdict, changed_layers FROM diffs"
            ),
            "causes": rows(
                f"SELECT {_PLATFORM.format('old_platform_id')}, "
                f"{_PLATFORM.format('new_platform_id')}, code, count, ignored, example FROM causes"
            ),
            **{
                table: rows(f"SELECT * FROM {table}")
                for table in ("blobs", "layers", "files", "layer_packages", "layer_contents")
            },
        }
    finally:
        db.close()
