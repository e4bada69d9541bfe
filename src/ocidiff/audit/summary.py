"""The audit summary: one row per release, read back from the catalog, as values.

Built from the catalog alone (never from run state), so it is the same after an interrupted and
resumed audit as after an uninterrupted one. Rendering lives in `render_summary.py`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .records import py_text, sql_text

SCHEMA = "ocidiff.audit"
SCHEMA_VERSION = 1
_VERDICT_RANK = {"identical": 0, "same-image": 1, "equivalent": 2, "different": 3}


@dataclass(frozen=True, slots=True)
class HazardRow:
    code: str
    count: int
    bytes: int
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CauseRow:
    code: str
    count: int
    ignored: bool


@dataclass(frozen=True, slots=True)
class PlatformRow:
    key: str
    platform: str
    manifest_digest: str | None
    size: int
    layers: int
    new_layers: int  # first seen in this release (in catalog order)
    shared_layers: int  # also in an earlier release
    base_layers: int
    base_image: str | None
    base_name: str | None
    base_digest: str | None
    packages: int
    previous: str | None  # the release this one was diffed against
    verdict: str | None
    causes: tuple[CauseRow, ...]
    hazards: tuple[HazardRow, ...]


@dataclass(frozen=True, slots=True)
class ProblemRow:
    kind: str
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    name: str
    position: int
    status: str
    size: int
    format: str | None
    error: str | None
    problems: tuple[ProblemRow, ...]
    platforms: tuple[PlatformRow, ...]

    @property
    def verdict(self) -> str | None:
        verdicts = [p.verdict for p in self.platforms if p.verdict]
        return max(verdicts, key=lambda v: _VERDICT_RANK.get(v, 9)) if verdicts else None


@dataclass(frozen=True, slots=True)
class AuditSummary:
    schema: str
    schema_version: int
    releases: tuple[ReleaseRow, ...]
    unique_layers: int
    unique_layer_bytes: int
    archive_bytes: int


def summarize(db: sqlite3.Connection, paths: Sequence[str]) -> AuditSummary:
    """The releases among `paths` (all of the catalog when empty), in catalog order."""
    wanted = {sql_text(p) for p in paths}
    images = [
        row
        for row in db.execute(
            "SELECT image_id, path, name, position, status, size, format, error FROM images "
            "ORDER BY position, path"
        )
        if not wanted or row[1] in wanted
    ]
    first_seen = dict(
        db.execute(
            "SELECT l.digest, min(i.position) FROM image_layers l JOIN platforms p "
            "USING (platform_id) JOIN images i USING (image_id) WHERE l.digest IS NOT NULL "
            "GROUP BY l.digest"
        ).fetchall()
    )
    releases = tuple(_release(db, row, first_seen) for row in images)
    ids = [row[0] for row in images]
    marks = ",".join("?" * len(ids))
    layer_rows = db.execute(
        "SELECT DISTINCT l.digest, y.size FROM image_layers l JOIN platforms p USING "
        f"(platform_id) JOIN layers y ON y.digest = l.digest WHERE p.image_id IN ({marks})",
        ids,
    ).fetchall()
    sizes = {str(digest): int(size) for digest, size in layer_rows}
    return AuditSummary(
        SCHEMA,
        SCHEMA_VERSION,
        releases,
        len(sizes),
        sum(sizes.values()),
        sum(int(row[5]) for row in images),
    )


def _release(
    db: sqlite3.Connection, row: tuple[Any, ...], first_seen: dict[str, int]
) -> ReleaseRow:
    """`row` is an images row; SQLite values are narrowed here, at the boundary."""
    image_id, _, name, position, status, size, fmt, error = row
    problems = tuple(
        ProblemRow(str(kind), str(subject), str(message))
        for kind, subject, message in db.execute(
            "SELECT kind, subject, message FROM problems WHERE image_id = ? ORDER BY seq",
            (image_id,),
        )
    )
    platforms = tuple(
        _platform(db, r, position, first_seen)
        for r in db.execute(
            "SELECT platform_id, key, platform, manifest_digest, size, layer_count, base_layers, "
            "base_image, base_name, base_digest FROM platforms WHERE image_id = ? "
            "ORDER BY key",
            (image_id,),
        ).fetchall()
    )
    return ReleaseRow(
        py_text(name), int(position), str(status), int(size), fmt, error, problems, platforms
    )


def _platform(
    db: sqlite3.Connection, row: tuple[Any, ...], position: int, first_seen: dict[str, int]
) -> PlatformRow:
    (platform_id, key, platform, manifest, size, count, base_layers, base_image, base_name,
     base_digest) = row  # fmt: skip
    digests = [
        d
        for (d,) in db.execute(
            "SELECT digest FROM image_layers WHERE platform_id = ? ORDER BY layer_index",
            (platform_id,),
        )
    ]
    new = sum(1 for d in digests if d is not None and first_seen.get(d) == position)
    step = db.execute(
        "SELECT d.old_platform_id, d.verdict, i.name FROM diffs d JOIN platforms p ON "
        "p.platform_id = d.old_platform_id JOIN images i USING (image_id) "
        "WHERE d.new_platform_id = ?",
        (platform_id,),
    ).fetchone()
    causes: tuple[CauseRow, ...] = ()
    if step is not None:
        causes = tuple(
            CauseRow(code, n, bool(ignored))
            for code, n, ignored in db.execute(
                "SELECT code, count, ignored FROM causes WHERE old_platform_id = ? "
                "AND new_platform_id = ? ORDER BY ignored, count DESC, code",
                (step[0], platform_id),
            )
        )
    hazards = tuple(
        HazardRow(code, n, size_, tuple(json.loads(examples)))
        for code, n, size_, examples in db.execute(
            "SELECT code, count, bytes, examples FROM hazards WHERE platform_id = ? ORDER BY code",
            (platform_id,),
        )
    )
    (packages,) = db.execute(
        "SELECT count(*) FROM packages WHERE platform_id = ?", (platform_id,)
    ).fetchone()
    return PlatformRow(
        key=str(key),
        platform=str(platform),
        manifest_digest=manifest,
        size=int(size),
        layers=int(count),
        new_layers=new,
        shared_layers=len(digests) - new,
        base_layers=int(base_layers),
        base_image=None if base_image is None else py_text(base_image),
        base_name=base_name,
        base_digest=base_digest,
        packages=int(packages),
        previous=py_text(step[2]) if step else None,
        verdict=step[1] if step else None,
        causes=causes,
        hazards=hazards,
    )
