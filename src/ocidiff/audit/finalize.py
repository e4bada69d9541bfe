"""Catalog-wide facts, recomputed after every run from the catalog alone: release order, base
images, and the consecutive-release diffs that are missing or no longer consecutive.

Each is a deterministic function of the catalog's content and the order mode, so an interrupted
run and an uninterrupted one end with the same rows. Reads no archive.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from ..compression import CompressionInfo
from ..oci.image import ImageRef
from .analysis import LayerRecord
from .catalog import immediate
from .records import py_text
from .steps import StepResult, diff_step
from .values import decode
from .walk import ordered


def set_positions(db: sqlite3.Connection, order: str) -> None:
    rows = db.execute("SELECT path, name, created FROM images").fetchall()
    created = {py_text(path): created for path, _, created in rows}
    paths = ordered(((py_text(p), py_text(n)) for p, n, _ in rows), order, created)
    with immediate(db):
        for position, path in enumerate(paths):
            db.execute(
                "UPDATE images SET position = ? WHERE path = ? AND position IS NOT ?",
                (position, path, position),
            )


def chain_id(diff_ids: list[str]) -> str:
    """OCI image-spec config.md ChainID: the identity of a stack of layers."""
    chain = diff_ids[0]
    for diff_id in diff_ids[1:]:
        chain = "sha256:" + hashlib.sha256(f"{chain} {diff_id}".encode()).hexdigest()
    return chain


@dataclass(frozen=True, slots=True)
class _Stack:
    platform_id: int
    name: str
    diff_ids: tuple[str, ...]


def set_bases(db: sqlite3.Connection) -> None:
    """The base of an image: the leading layers that every image starting with the same layer
    shares, when at least one other image does; named after an image that is exactly that."""
    stacks: dict[int, list[str | None]] = {}
    names: dict[int, str] = {}
    query = (
        "SELECT p.platform_id, i.name, l.diff_id FROM platforms p JOIN images i USING (image_id) "
        "JOIN image_layers l USING (platform_id) ORDER BY i.position, p.platform_id, l.layer_index"
    )
    for platform_id, name, diff_id in db.execute(query):
        stacks.setdefault(platform_id, []).append(diff_id)
        names[platform_id] = py_text(name)
    complete = [
        _Stack(pid, names[pid], tuple(d for d in ids if d))
        for pid, ids in stacks.items()
        if ids and all(ids)
    ]
    groups: dict[str, list[_Stack]] = {}
    for stack in complete:
        groups.setdefault(stack.diff_ids[0], []).append(stack)
    values: dict[int, tuple[int, str | None, str | None]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        common = _common_prefix([m.diff_ids for m in members])
        chain = chain_id(list(common))
        exact = next((m.name for m in members if m.diff_ids == common), None)
        for stack in members:
            # an image whose layers are all shared is itself a base: it names no other
            named = exact if len(stack.diff_ids) > len(common) else None
            values[stack.platform_id] = (len(common), chain, named)
    with immediate(db):
        for platform_id in stacks:
            layers, base_chain, image = values.get(platform_id, (0, None, None))
            db.execute(
                "UPDATE platforms SET base_layers = ?, base_chain = ?, base_image = ? "
                "WHERE platform_id = ?",
                (layers, base_chain, image, platform_id),
            )


def _common_prefix(stacks: list[tuple[str, ...]]) -> tuple[str, ...]:
    shortest = min(stacks, key=len)
    for length in range(len(shortest)):
        if any(s[length] != shortest[length] for s in stacks):
            return shortest[:length]
    return shortest


def wanted_steps(db: sqlite3.Connection) -> list[tuple[int, int]]:
    """(old, new) platform ids of consecutive releases, per platform key, in release order."""
    rows = db.execute(
        "SELECT p.platform_id, p.key FROM platforms p JOIN images i USING (image_id) "
        "ORDER BY i.position, p.platform_id"
    ).fetchall()
    last: dict[str, int] = {}
    steps: list[tuple[int, int]] = []
    for platform_id, key in rows:
        if key in last:
            steps.append((last[key], platform_id))
        last[key] = platform_id
    return steps


def drop_stale_steps(db: sqlite3.Connection, wanted: list[tuple[int, int]]) -> None:
    existing = db.execute("SELECT old_platform_id, new_platform_id FROM diffs").fetchall()
    stale = set(map(tuple, existing)) - set(wanted)
    if not stale:
        return
    with immediate(db):
        db.executemany(
            "DELETE FROM diffs WHERE old_platform_id = ? AND new_platform_id = ?", sorted(stale)
        )


def missing_steps(db: sqlite3.Connection, wanted: list[tuple[int, int]]) -> list[tuple[int, int]]:
    existing = set(db.execute("SELECT old_platform_id, new_platform_id FROM diffs").fetchall())
    return [step for step in wanted if step not in existing]


def image_of(db: sqlite3.Connection, platform_id: int) -> tuple[ImageRef, dict[int, str]]:
    row = db.execute(
        "SELECT document FROM platforms WHERE platform_id = ?", (platform_id,)
    ).fetchone()
    digests = {
        index: digest
        for index, digest, status in db.execute(
            "SELECT layer_index, digest, status FROM image_layers WHERE platform_id = ?",
            (platform_id,),
        )
        if digest and status in ("read", "shared")
    }
    return decode(ImageRef, row[0]), digests


def compute_step(
    db: sqlite3.Connection,
    step: tuple[int, int],
    load: Callable[[str], LayerRecord | None],
    compression: Callable[[str], CompressionInfo | None],
) -> StepResult:
    return diff_step(image_of(db, step[0]), image_of(db, step[1]), load, compression)


def write_step(db: sqlite3.Connection, step: tuple[int, int], result: StepResult) -> bool:
    """Store one step; False when both platforms are gone or it is already there."""
    with immediate(db):
        alive = db.execute(
            "SELECT count(*) FROM platforms WHERE platform_id IN (?, ?)", step
        ).fetchone()[0]
        cursor = db.execute(
            "INSERT OR IGNORE INTO diffs SELECT ?, ?, ?, ? WHERE ? = 2",
            (*step, result.verdict, result.changed_layers, alive),
        )
        if cursor.rowcount:
            db.executemany(
                "INSERT INTO causes VALUES (?,?,?,?,?,?)",
                ((*step, c.code, c.count, int(c.ignored), c.example) for c in result.causes),
            )
    return bool(cursor.rowcount)
