"""`ocidiff inspect` as text: what an archive is, who made it, and what each image holds."""

from __future__ import annotations

from collections.abc import Mapping

from ..digest import short
from ..inventory import LayerInventory
from ..oci.image import ImageArchive, ImageRef
from ..safe_text import terminal_safe
from .formatting import human_size


def render_inspect(archive: ImageArchive, deep: Mapping[str, LayerInventory] | None = None) -> str:
    lines = [
        f"archive   {archive.source}",
        f"format    {archive.format.value}"
        + (f" (outer {archive.outer_compression})" if archive.outer_compression != "none" else "")
        + f", {archive.member_count} members",
        f"producer  {', '.join(archive.producers) or 'unknown'}",
    ]
    if archive.index is not None:
        index = archive.index
        lines.append(
            f"index     {index.media_type or '(no mediaType)'}, "
            f"{len(index.manifests)} descriptor(s)"
        )
        for key, value in index.annotations:
            lines.append(f"          {key}={value}")
    for image in archive.images:
        lines.extend(_image_lines(image, deep or {}))
    if archive.attestations:
        lines.append(f"attestations ({len(archive.attestations)}):")
        for att in archive.attestations:
            lines.append(
                f"  {short(att.descriptor.digest)} for {short(att.for_digest)}: "
                f"{', '.join(att.predicate_types) or 'no predicate type'}"
            )
    if archive.absent:
        lines.append(
            f"absent    {len(archive.absent)} referenced blob(s) not in the archive "
            "(e.g. other platforms): "
            + ", ".join(short(d.digest) for d in archive.absent[:5])
            + (" ..." if len(archive.absent) > 5 else "")
        )
    if archive.unreferenced:
        lines.append(
            f"unreferenced {len(archive.unreferenced)} blob(s): "
            + ", ".join(archive.unreferenced[:5])
        )
    for problem in archive.problems:
        lines.append(f"PROBLEM   {problem.kind.value}: {problem.subject}: {problem.message}")
    # Tags, annotations, names and paths all come from the archive: none may drive the terminal.
    return "\n".join(terminal_safe(line) for line in lines) + "\n"


def _image_lines(image: ImageRef, deep: Mapping[str, LayerInventory]) -> list[str]:
    config = image.config
    runtime = config.runtime
    lines = [
        "",
        f"image {image.platform}" + (f"  ({', '.join(image.names)})" if image.names else ""),
        f"  manifest   {image.manifest_digest or '-'}"
        + (f" {image.manifest.media_type}" if image.manifest and image.manifest.media_type else ""),
        f"  config     {image.config_digest or '-'}",
        f"  created    {config.created or '-'}",
    ]
    for key, value in image.manifest_annotations:
        lines.append(f"  annotation {key}={value}")
    if image.manifest is not None:
        for key, value in image.manifest.annotations:
            lines.append(f"  manifest-annotation {key}={value}")
    lines.append(f"  user       {runtime.user or '-'}")
    lines.append(f"  workdir    {runtime.working_dir or '-'}")
    lines.append(
        f"  entrypoint {list(runtime.entrypoint) if runtime.entrypoint is not None else '-'}"
    )
    lines.append(f"  cmd        {list(runtime.cmd) if runtime.cmd is not None else '-'}")
    for env in runtime.env:
        lines.append(f"  env        {env}")
    for key, value in runtime.labels:
        lines.append(f"  label      {key}={value}")
    if runtime.exposed_ports:
        lines.append(f"  ports      {' '.join(runtime.exposed_ports)}")
    if runtime.volumes:
        lines.append(f"  volumes    {' '.join(runtime.volumes)}")
    lines.append(f"  layers ({len(image.layers)}):")
    for layer in image.layers:
        inventory = deep.get(layer.member or "")
        detail = ""
        if inventory is not None:
            count = len(inventory.entries) if inventory.entries is not None else 0
            detail = (
                f"  {inventory.compression.kind.value}, uncompressed "
                f"{human_size(inventory.uncompressed_size)}, {count} entries"
            )
        lines.append(
            f"    #{layer.index} {short(layer.digest) if layer.digest else layer.member}"
            f"  {human_size(layer.size)}  {layer.media_type or '-'}{detail}"
        )
        lines.append(f"       diff_id {layer.diff_id or '-'}")
        for key, value in layer.annotations:
            lines.append(f"       {key}={value}")
        if layer.member is None:
            lines.append("       (blob absent from the archive)")
    if config.history:
        lines.append(f"  history ({len(config.history)}):")
        for entry in config.history:
            marker = " (empty layer)" if entry.empty_layer else ""
            lines.append(f"    {entry.created or '-'}  {(entry.created_by or '-')[:100]}{marker}")
    for att in image.attestations:
        lines.append(
            f"  attestation {short(att.descriptor.digest)}: {', '.join(att.predicate_types) or '-'}"
        )
    return lines
