"""Command bodies shared by the CLI: call the orchestrator, pick a renderer. Returns text; the
CLI writes it and chooses the exit code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from .api import (
    LayerJob,
    OpenOptions,
    layer_damage,
    open_archive,
    open_layer,
    pump_many,
    select_images,
    verify_archive,
)
from .errors import MissingBlobError, OcidiffError, UsageError
from .filesystem import merge_layers
from .inventory import Depth, LayerInventory
from .oci.model import ArchiveFormat
from .progress import Progress
from .render.archive import render_inspect
from .render.entries import entry_line, entry_record
from .render.integrity import render_verify
from .render.json import to_json, to_json_line


def _open_options(options: Any, depth: Depth) -> OpenOptions:
    assert isinstance(options, OpenOptions)
    return replace(options, stream_depth=depth, pump=replace(options.pump, depth=depth))


def _trim_cache(options: OpenOptions) -> None:
    """Keep the layer cache within its size limit once a command has added to it."""
    if options.cache is not None:
        options.cache.prune()


def inspect(
    path: str, output_format: str, deep: bool, platform: str | None, options: Any, progress: Any
) -> str | bytes:
    opts = _open_options(options, Depth.INVENTORY if deep else Depth.DIGESTS)
    with open_archive(path, opts) as opened:
        archive = opened.archive
        images = select_images(archive, platform) if platform else archive.images
        archive = replace(archive, images=images)
        inventories: dict[str, LayerInventory] = {}
        if deep:
            jobs = [
                LayerJob(opened, layer.member, layer.digest or layer.member)
                for image in images
                for layer in image.layers
                if layer.member
            ]
            for job, inventory in zip(jobs, pump_many(jobs, opts.pump, progress), strict=True):
                inventories[job.member] = inventory
            _trim_cache(opts)
    if output_format == "json":
        document: dict[str, Any] = {
            "schema": "ocidiff.inspect",
            "schema_version": 1,
            "archive": archive,
        }
        if deep:
            document["layers"] = {
                member: {
                    "digest": inv.digest,
                    "size": inv.size,
                    "diff_id": inv.diff_id,
                    "uncompressed_size": inv.uncompressed_size,
                    "compression": inv.compression,
                    "entries": len(inv.entries) if inv.entries is not None else None,
                }
                for member, inv in sorted(inventories.items())
            }
        return to_json(document)
    return render_inspect(archive, inventories)


def list_entries(
    path: str,
    image_name: str | None,
    layer: int | None,
    merged: bool,
    output_format: str,
    platform: str | None,
    options: Any,
    progress: Any,
) -> Iterator[str | bytes]:
    opts = _open_options(options, Depth.INVENTORY)
    bare = open_layer(path, opts, progress)
    if bare is not None:
        yield from _lines([(None, bare)], output_format)
        return
    with open_archive(path, opts) as opened:
        images = select_images(opened.archive, platform)
        if image_name is not None:
            images = tuple(i for i in images if image_name in i.names)
            if not images:
                raise UsageError(f"no image named {image_name!r}", file=path)
        if opened.archive.format is ArchiveFormat.LAYER_TAR:
            raise UsageError("not an image archive", file=path)
        if len(images) != 1:
            names = ", ".join(str(i.platform) for i in images) or "none"
            raise UsageError(
                f"{len(images)} images in the archive ({names})",
                file=path,
                hint="choose one with --platform or --image NAME",
            )
        image = images[0]
        layers = image.layers
        if layer is not None:
            if not 0 <= layer < len(layers):
                raise UsageError(f"no layer {layer}; the image has {len(layers)}", file=path)
            layers = (layers[layer],)
        missing = [ref for ref in layers if ref.member is None]
        if missing:
            raise MissingBlobError(
                f"layer(s) {[ref.index for ref in missing]} are not in the archive",
                file=path,
                blob=missing[0].digest,
            )
        jobs = [LayerJob(opened, ref.member or "", ref.digest or "") for ref in layers]
        inventories = pump_many(jobs, opts.pump, progress)
        for ref, inventory in zip(layers, inventories, strict=True):
            damage = layer_damage(ref, inventory, path)
            if damage is not None:
                raise damage
    _trim_cache(opts)
    if merged:
        merged_entries = merge_layers([inv.entries or () for inv in inventories])
        yield from _merged_lines(merged_entries, output_format)
        return
    yield from _lines(
        list(zip([ref.index for ref in layers], inventories, strict=True)), output_format
    )


def _lines(
    layers: list[tuple[int | None, LayerInventory]], output_format: str
) -> Iterator[str | bytes]:
    for index, inventory in layers:
        for entry in inventory.entries or ():
            if output_format == "jsonl":
                yield to_json_line(entry_record(entry, index))
            else:
                yield entry_line(entry, index) + "\n"


def _merged_lines(entries: Any, output_format: str) -> Iterator[str | bytes]:
    for item in entries:
        if output_format == "jsonl":
            yield to_json_line(entry_record(item.entry, item.layer))
        else:
            yield entry_line(item.entry, item.layer) + "\n"


def verify(
    path: str, output_format: str, platform: str | None, options: Any, progress: Progress | None
) -> tuple[str | bytes, bool]:
    opts = _open_options(options, Depth.DIGESTS)
    with open_archive(path, opts) as opened:
        report = verify_archive(opened, platform, opts.pump, progress)
    if output_format == "json":
        return to_json(
            {"schema": "ocidiff.verify", "schema_version": 1, "ok": report.ok, "report": report}
        ), report.ok
    if output_format == "markdown":
        from .render.markdown import render_verify_markdown

        return render_verify_markdown(report), report.ok
    if output_format == "html":
        from .render.html_verify import render_verify_html

        return render_verify_html(report), report.ok
    return render_verify(report), report.ok


def diff(
    old: str,
    new: str,
    output_format: str,
    ignore: tuple[str, ...],
    semantic: bool,
    no_default_ignores: bool,
    exclude: tuple[str, ...],
    max_examples: int,
    platform: str | None,
    options: Any,
    progress: Any,
    colour: bool,
    strict: bool = False,
) -> tuple[str | bytes, int]:
    from .api import DiffOptions, diff_archives
    from .diff.causes import ALL_CODES, DEFAULT_IGNORES, SEMANTIC_IGNORES
    from .render.text import render_text
    from .report import dump_report

    unknown = sorted(set(ignore) - set(ALL_CODES))
    if unknown:
        raise UsageError(
            f"unknown cause code(s): {', '.join(unknown)}",
            hint="ocidiff diff --help lists every code",
        )
    ignored = set(ignore) | (set() if no_default_ignores else set(DEFAULT_IGNORES))
    if semantic:
        ignored |= set(SEMANTIC_IGNORES)
    diff_options = DiffOptions(
        ignore=tuple(sorted(ignored)),
        exclude=exclude,
        platform=platform,
        max_examples=max_examples,
        strict=strict,
    )
    report = diff_archives(old, new, diff_options, options, progress)
    _trim_cache(options)
    if output_format == "json":
        return dump_report(report), report.summary.exit_code
    if output_format == "markdown":
        from .render.markdown import render_diff_markdown

        return render_diff_markdown(report), report.summary.exit_code
    if output_format == "html":
        from .render.html import render_html

        return render_html(report), report.summary.exit_code
    return render_text(report, colour=colour), report.summary.exit_code


def render(path: str, output_format: str, colour: bool) -> str | bytes:
    from .errors import InputError
    from .render.text import render_text
    from .report import dump_report, load_report

    try:
        with open(path, "rb") as handle:
            data = handle.read(256 << 20)
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), file=path) from None
    try:
        report = load_report(data)
    except OcidiffError as exc:
        raise exc.located(file=path) from None
    if output_format == "json":
        return dump_report(report)
    if output_format == "markdown":
        from .render.markdown import render_diff_markdown

        return render_diff_markdown(report)
    if output_format == "html":
        from .render.html import render_html

        return render_html(report)
    return render_text(report, colour=colour)
