"""Top of the difference tree: archives, indexes, platform pairing, verdict and cause counts.

Pure: takes the two `Side` values and per-image nodes, returns the `Report`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..oci.image import ImageArchive, ImageRef
from ..oci.model import ANNOTATION_CREATED
from ..report import SCHEMA, SCHEMA_VERSION, CauseCount, Change, Node, Report, Summary, iter_changes
from .causes import CAUSES, impact_of

_NAME_KEYS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")
# Causes that leave the merged filesystem and the runtime config unchanged.
_NOT_SEMANTIC = frozenset(code for code, info in CAUSES.items() if not info.semantic)


@dataclass(frozen=True, slots=True)
class ReportOptions:
    ignore: tuple[str, ...]
    max_examples: int
    options_echo: dict[str, Any]


def pair_images(
    old: Sequence[ImageRef], new: Sequence[ImageRef]
) -> tuple[list[tuple[ImageRef, ImageRef]], list[ImageRef], list[ImageRef]]:
    """Pair by platform string, never by position."""
    new_by = {str(i.platform): i for i in new}
    old_keys = {str(i.platform) for i in old}
    pairs = [(i, new_by[str(i.platform)]) for i in old if str(i.platform) in new_by]
    only_old = [i for i in old if str(i.platform) not in new_by]
    only_new = [i for i in new if str(i.platform) not in old_keys]
    return pairs, only_old, only_new


def archive_changes(old: ImageArchive, new: ImageArchive) -> list[Change]:
    """Index-level differences: names, created annotations, other annotations, formats."""
    changes: list[Change] = []
    names_old = sorted({n for i in old.images for n in i.names})
    names_new = sorted({n for i in new.images for n in i.names})
    if names_old != names_new:
        changes.append(
            Change(
                "image-name",
                "archive",
                "names",
                ", ".join(names_old) or "none",
                ", ".join(names_new) or "none",
            )
        )
    ann_old = _index_annotations(old)
    ann_new = _index_annotations(new)
    for key in sorted(ann_old.keys() | ann_new.keys()):
        a = ann_old.get(key, _on_image(old, key))
        b = ann_new.get(key, _on_image(new, key))
        if a != b:
            cause = "created-timestamp" if key.endswith(ANNOTATION_CREATED) else "annotations"
            changes.append(Change(cause, "archive/index", key, a, b))
    if old.index and new.index and old.index.media_type != new.index.media_type:
        changes.append(
            Change(
                "media-types",
                "archive/index",
                "mediaType",
                old.index.media_type,
                new.index.media_type,
            )
        )
    old_att = sorted(a.descriptor.digest for a in old.attestations)
    new_att = sorted(a.descriptor.digest for a in new.attestations)
    if old_att != new_att and not any(i.attestations for i in (*old.images, *new.images)):
        changes.append(
            Change(
                "attestation", "archive/attestations", "count", str(len(old_att)), str(len(new_att))
            )
        )
    return changes


def _index_annotations(archive: ImageArchive) -> dict[str, str]:
    found: dict[str, str] = {}
    if archive.index is not None:
        found.update(archive.index.annotations)
        covered = {image.manifest_digest for image in archive.images}
        for descriptor in archive.index.manifests:
            if descriptor.digest in covered:
                continue  # reported on the image it points at
            for key, value in descriptor.annotations:
                if key not in _NAME_KEYS:
                    found[f"descriptor:{key}"] = value
    for digest, index in archive.indexes:
        del digest
        found.update({f"nested:{k}": v for k, v in index.annotations})
    return found


def _on_image(archive: ImageArchive, key: str) -> str | None:
    """The value a top-level descriptor annotation has when it sits on an image's own descriptor
    (which is compared with the image): a single-platform export puts `created` on the manifest's
    descriptor, a multi-platform one on the index's, and the same value is no difference."""
    name = key.removeprefix("descriptor:")
    if name == key:
        return None
    values = [dict(image.manifest_annotations).get(name) for image in archive.images]
    found = {value for value in values if value is not None}
    return found.pop() if len(found) == 1 else None


def packing_changes(
    old: ImageArchive, new: ImageArchive, *, explained: bool = False
) -> list[Change]:
    """Why two tarballs holding equal images differ. `explained`: archive-level changes (names,
    index annotations) already account for the bytes, so no generic "packing" change is added
    when nothing more specific is found."""
    changes = []
    if old.format != new.format:
        changes.append(
            Change("archive-packing", "archive", "format", old.format.value, new.format.value)
        )
    if old.unreferenced != new.unreferenced:
        changes.append(
            Change(
                "archive-packing",
                "archive",
                "unreferenced-blobs",
                str(len(old.unreferenced)),
                str(len(new.unreferenced)),
            )
        )
    if old.outer_compression != new.outer_compression:
        changes.append(
            Change(
                "archive-packing",
                "archive",
                "outer-compression",
                old.outer_compression,
                new.outer_compression,
            )
        )
    if not changes and not explained:
        changes.append(
            Change(
                "archive-packing",
                "archive",
                "bytes",
                None,
                None,
                "tarballs differ in member order, headers or padding",
            )
        )
    return changes


def verdict_of(
    identical: bool, image_nodes: Sequence[Node], platform_changes: int, changes: Sequence[Change]
) -> str:
    if identical:
        return "identical"
    if not platform_changes and image_nodes and all(n.status == "equal" for n in image_nodes):
        return "same-image"
    if any(c.cause not in _NOT_SEMANTIC for c in changes):
        return "different"
    return "equivalent"


def build_report(
    inputs: tuple[str, str],
    identical: bool,
    archive_level: list[Change],
    image_nodes: list[Node],
    options: ReportOptions,
) -> Report:
    top_changes = list(archive_level)
    platform_changes = sum(1 for c in top_changes if c.cause == "platforms")
    tree = Node(
        "archive",
        f"{inputs[0]} vs {inputs[1]}",
        "equal" if identical else "changed",
        tuple(top_changes),
        tuple(image_nodes),
    )
    changes = iter_changes(tree)
    verdict = verdict_of(identical, image_nodes, platform_changes, changes)
    if verdict in ("identical",):
        changes = []
    counts = Counter(c.cause for c in changes)
    ignored = tuple(sorted(set(options.ignore)))
    causes = tuple(
        sorted(
            (
                CauseCount(
                    code,
                    count,
                    code in ignored,
                    CAUSES[code].meaning if code in CAUSES else "",
                    CAUSES[code].fix if code in CAUSES else "",
                    tuple(c for c in changes if c.cause == code)[: options.max_examples],
                )
                for code, count in counts.items()
            ),
            key=lambda c: (c.ignored, impact_of(c.code), -c.count, c.code),
        )
    )
    remaining = [c for c in causes if not c.ignored]
    incomplete = any(c.code == "incomplete" for c in causes)
    summary = Summary(
        verdict, dict(sorted(counts.items())), ignored, 1 if remaining else 0, incomplete
    )
    return Report(SCHEMA, SCHEMA_VERSION, summary, inputs, options.options_echo, causes, tree)
