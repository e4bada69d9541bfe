"""Bodies of `ocidiff audit`, `ocidiff lint` and `ocidiff query`: call the library, pick a
renderer, return bytes or text and an exit code. The CLI writes them."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..api import OpenOptions, open_archive, select_images
from ..errors import InputError, UsageError
from ..oci.model import ArchiveFormat
from ..progress import Progress
from ..render.html_audit import ReleaseLayers, render_audit_html
from .analysis import LayerRecord, LayerResult
from .catalog import Catalog, open_read_only
from .executor import LayerTask, LocalExecutor, new_executor
from .lint import Hazard, lint_image
from .records import py_text, sql_text
from .release import platform_keys
from .render import (
    render_lint_json,
    render_lint_text,
    render_rows_json,
    render_rows_text,
    render_summary_json,
    render_summary_text,
)
from .run import AuditOptions, audit_open_options, run_audit
from .summary import summarize


@dataclass(frozen=True, slots=True)
class AuditRequest:
    paths: tuple[str, ...]
    options: AuditOptions
    output_format: str  # text | json | html
    executor: str = "local"
    scheduler: str | None = None


def audit(
    request: AuditRequest, progress: Progress | None, events: Callable[[str], None] | None
) -> tuple[str | bytes, int]:
    """Exit 0 when every release is intact, 1 when one has problems or cannot be read."""
    open_options = audit_open_options(request.options.open_options)
    executor = new_executor(request.executor, request.scheduler, open_options, progress)
    layers: list[ReleaseLayers] = []
    sizes: dict[str, int] = {}
    try:
        with Catalog(request.options.catalog) as catalog:
            outcome = run_audit(request.paths, request.options, catalog, executor, events)
            summary = summarize(catalog.db, outcome.paths)
            if request.output_format == "html":
                layers, sizes = release_layers(catalog.db, outcome.paths)
    finally:
        executor.close()
    code = 0 if all(r.status == "ok" for r in summary.releases) else 1
    if request.output_format == "html":
        return render_audit_html(summary, layers, sizes), code
    if request.output_format == "json":
        return render_summary_json(summary), code
    return render_summary_text(summary), code


def release_layers(
    db: sqlite3.Connection, paths: Sequence[str]
) -> tuple[list[ReleaseLayers], dict[str, int]]:
    """Each release's layer digests (as `summarize` picks and orders releases) and each layer's
    stored size, for the HTML release-by-layer matrix."""
    wanted = {sql_text(p) for p in paths}
    images = [
        (image_id, py_text(name))
        for image_id, path, name in db.execute(
            "SELECT image_id, path, name FROM images ORDER BY position, path"
        )
        if not wanted or path in wanted
    ]
    releases = [
        ReleaseLayers(name, tuple(str(d) for (d,) in db.execute(
            "SELECT l.digest FROM image_layers l JOIN platforms p USING (platform_id) "
            "WHERE p.image_id = ? AND l.digest IS NOT NULL ORDER BY p.key, l.layer_index",
            (image_id,),
        )))
        for image_id, name in images
    ]
    sizes = {str(d): int(n) for d, n in db.execute(
        "SELECT digest, max(size) FROM layers GROUP BY digest")}
    return releases, sizes


def lint(
    path: str,
    output_format: str,
    platform: str | None,
    options: OpenOptions,
    progress: Progress | None,
) -> tuple[str | bytes, int]:
    """Exit 0 without hazards, 1 with any."""
    open_options = audit_open_options(options)
    with open_archive(path, open_options) as opened:
        if opened.archive.format is ArchiveFormat.LAYER_TAR or not opened.archive.images:
            raise UsageError("not an image archive", file=path)
        images = select_images(opened.archive, platform)
        members = sorted({layer.member for i in images for layer in i.layers if layer.member})
        executor = LocalExecutor(open_options, progress)
        outcomes = executor.run([LayerTask(path, m) for m in members], {path: opened})
    by_member: dict[str, LayerRecord] = {}
    for member, outcome in zip(members, outcomes, strict=True):
        if not isinstance(outcome, LayerResult):
            raise InputError(outcome.message)
        by_member[member] = outcome.record
    results: list[tuple[str, Sequence[Hazard]]] = []
    for image, key in zip(images, platform_keys(images), strict=True):
        records = [by_member.get(layer.member or "") for layer in image.layers]
        results.append((key, lint_image(image, records)))
    code = 1 if any(hazards for _, hazards in results) else 0
    if output_format == "json":
        return render_lint_json(path, results), code
    return render_lint_text(results), code


def query(path: str, sql: str, output_format: str) -> str | bytes:
    db = open_read_only(path)
    try:
        cursor = db.execute(sql)
        columns = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchall()
    except sqlite3.Error as exc:
        raise UsageError(f"query failed: {exc}", file=path) from None
    finally:
        db.close()
    if output_format == "json":
        return render_rows_json(columns, rows)
    return render_rows_text(columns, rows) if columns else ""
