"""The audit orchestration: find releases, read each unique layer once, write each release in
one transaction, then recompute order, bases and consecutive-release diffs from the catalog.

The imperative shell of the audit package: it owns the open archives, the executor and the
catalog connection. Releases already in the catalog with an unchanged fingerprint are skipped,
and layers already there (by digest and cache key) are never read again, so a re-run resumes an
interrupted one and an incremental run reads only what is new.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from ..api import OpenedArchive, OpenOptions, open_archive
from ..errors import OcidiffError
from ..inventory import Depth
from .analysis import LayerOutcome, LayerRecord, LayerResult, audit_pump_options
from .catalog import MEMORY, Catalog
from .executor import LayerExecutor, LocalExecutor
from .finalize import (
    compute_step,
    drop_stale_steps,
    missing_steps,
    set_bases,
    set_positions,
    wanted_steps,
    write_step,
)
from .layerplan import LayerPlan, RecordCache
from .release import ReleaseAudit, build_release, unreadable_release
from .walk import AuditInput, Order, find_inputs, ordered

# Test hook: SIGKILL this process right after the N-th commit (release or diff), to prove that an
# audit killed at any point resumes to the same catalog.
KILL_AFTER_ENV = "OCIDIFF_TEST_KILL_AFTER"

Events = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class AuditOptions:
    catalog: str = MEMORY
    order: str = Order.NAME  # "name", "created", or a file listing releases
    batch: int = 8  # releases opened at once; their new layers are read together
    open_options: OpenOptions = field(default_factory=OpenOptions)


@dataclass
class RunCounts:
    releases: int = 0
    audited: int = 0
    skipped: int = 0
    layers_read: int = 0
    bytes_read: int = 0
    steps: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "releases": self.releases,
            "audited": self.audited,
            "skipped": self.skipped,
            "layers_read": self.layers_read,
            "bytes_read": self.bytes_read,
            "steps": self.steps,
        }


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    paths: tuple[str, ...]  # this run's releases (catalog identity), any order
    counts: dict[str, int]


class _Commits:
    def __init__(self) -> None:
        text = os.environ.get(KILL_AFTER_ENV, "")
        self._limit = int(text) if text.isdigit() else None
        self._done = 0

    def count(self) -> None:
        self._done += 1
        if self._limit is not None and self._done >= self._limit:
            os.kill(os.getpid(), signal.SIGKILL)


def audit_open_options(options: OpenOptions) -> OpenOptions:
    return replace(options, pump=audit_pump_options(options.pump), stream_depth=Depth.INVENTORY)


def run_audit(
    paths: Sequence[str],
    options: AuditOptions,
    catalog: Catalog,
    executor: LayerExecutor | None = None,
    events: Events | None = None,
) -> AuditOutcome:
    """Audit every release under `paths` into `catalog` (which the caller opened and closes)."""
    say = events or (lambda _text: None)
    open_options = audit_open_options(options.open_options)
    cache_key = open_options.pump.cache_key
    runner = executor or LocalExecutor(open_options)
    inputs = find_inputs(paths)
    counts = RunCounts(releases=len(inputs))
    pending = [i for i in inputs if catalog.fingerprint(i.path) != i.fingerprint]
    counts.skipped = len(inputs) - len(pending)
    if counts.skipped:
        say(f"{counts.skipped} release(s) already in the catalog")
    pending = _in_order(pending, options.order, open_options)  # a bad --order fails here
    arguments: dict[str, object] = {"paths": list(paths), "order": options.order}
    run_id = catalog.begin_run(arguments, cache_key)
    records = RecordCache(catalog, cache_key)
    commits = _Commits()
    for start in range(0, len(pending), max(1, options.batch)):
        batch = pending[start : start + max(1, options.batch)]
        _audit_batch(batch, catalog, runner, open_options, records, run_id, counts, commits, say)
    _finalize(catalog, options.order, records, counts, commits, say)
    catalog.finish_run(run_id, counts.as_dict())
    return AuditOutcome(tuple(i.path for i in inputs), counts.as_dict())


def _in_order(pending: list[AuditInput], order: str, options: OpenOptions) -> list[AuditInput]:
    created: dict[str, str | None] = {}
    if order == Order.CREATED:
        for item in pending:
            created[item.path] = _created(item, options)
    by_path = {i.path: i for i in pending}
    return [by_path[p] for p in ordered(((i.path, i.name) for i in pending), order, created)]


def _created(item: AuditInput, options: OpenOptions) -> str | None:
    try:
        with open_archive(item.path, options) as opened:
            images = opened.archive.images
            return images[0].config.created if images else None
    except OcidiffError:
        return None


def _audit_batch(
    batch: list[AuditInput],
    catalog: Catalog,
    runner: LayerExecutor,
    open_options: OpenOptions,
    records: RecordCache,
    run_id: int,
    counts: RunCounts,
    commits: _Commits,
    say: Events,
) -> None:
    opened: dict[str, OpenedArchive] = {}
    failed: dict[str, str] = {}
    try:
        for item in batch:
            try:
                opened[item.path] = open_archive(item.path, open_options)
            except OcidiffError as exc:
                failed[item.path] = exc.one_line()
                continue
            if not opened[item.path].archive.images:  # a bare layer tar, or an empty layout
                opened.pop(item.path).close()
                failed[item.path] = "not an image archive (no image in it)"
                continue
            if opened[item.path].prepumped:  # streamed: every byte was read while opening
                counts.bytes_read += item.size
        plan = LayerPlan(records)
        for path, archive in opened.items():
            plan.add_archive(path, archive)
        outcomes = plan.execute(runner, opened)
        counts.layers_read += len(outcomes)
        counts.bytes_read += sum(o.bytes_read for o in outcomes.values())
        for item in batch:
            if item.path in failed:
                release = unreadable_release(item, failed[item.path])
                new: list[LayerRecord] = []
            else:
                archive = opened[item.path]
                release = build_release(
                    item, archive.archive, archive.member_sizes, plan.state_for(item.path)
                )
                new = _records_read_from(item.path, outcomes)
            if catalog.write_release(release, new, run_id):
                counts.audited += 1
                commits.count()
            say(_release_line(release, counts))
    finally:
        for archive in opened.values():
            archive.close()


def _records_read_from(
    path: str, outcomes: dict[tuple[str, str], LayerOutcome]
) -> list[LayerRecord]:
    return [
        outcome.record
        for (source, _), outcome in outcomes.items()
        if source == path and isinstance(outcome, LayerResult)
    ]


def _release_line(release: ReleaseAudit, counts: RunCounts) -> str:
    read = sum(1 for p in release.platforms for u in p.layers if u.status == "read")
    text = f"{release.source.name}: {release.status}, {read} layer(s) read"
    if release.error:
        text += f" ({release.error})"
    return text


def _finalize(
    catalog: Catalog,
    order: str,
    records: RecordCache,
    counts: RunCounts,
    commits: _Commits,
    say: Events,
) -> None:
    db = catalog.db
    set_positions(db, order)
    set_bases(db)
    wanted = wanted_steps(db)
    drop_stale_steps(db, wanted)
    steps = missing_steps(db, wanted)
    if steps:
        say(f"diffing {len(steps)} pair(s) of consecutive releases")
    for step in steps:
        result = compute_step(db, step, records.get, records.compression)
        if write_step(db, step, result):
            counts.steps += 1
            commits.count()
