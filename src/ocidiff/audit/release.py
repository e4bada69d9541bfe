"""One release's audit as a value: integrity problems, platforms, layers, packages, hazards.

Pure: built from the resolved archive, the member sizes and what is known about each layer blob
(read here, read from another archive with the same digest, or unreadable). The catalog writes
this value in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..filesystem import merge_layers
from ..oci.image import ImageArchive, ImageRef, LayerRef, Problem, ProblemKind
from ..oci.model import BASE_ANNOTATIONS
from ..verify import check_layer
from .analysis import LayerFailure, LayerRecord
from .lint import Hazard, claimed_epoch, lint_image
from .values import encode
from .walk import AuditInput


@dataclass(frozen=True, slots=True)
class LayerUse:
    index: int
    digest: str | None  # of the bytes as read (a shared copy: the digest it is named by)
    diff_id: str | None
    media_type: str | None
    size: int | None
    created_by: str | None
    status: str  # read | shared | missing | unreadable


@dataclass(frozen=True, slots=True)
class PackageUse:
    ecosystem: str
    name: str
    version: str
    path: str
    layer_index: int


@dataclass(frozen=True, slots=True)
class PlatformAudit:
    key: str  # the platform, plus the image name when one archive has several per platform
    platform: str
    names: tuple[str, ...]
    manifest_digest: str | None
    config_digest: str | None
    created: str | None
    size: int
    uncompressed_size: int
    epoch: int | None
    base_name: str | None
    base_digest: str | None
    document: str  # the resolved ImageRef as JSON, for diffs in later runs
    layers: tuple[LayerUse, ...]
    packages: tuple[PackageUse, ...]
    hazards: tuple[Hazard, ...]


@dataclass(frozen=True, slots=True)
class BlobUse:
    digest: str
    size: int
    media_type: str | None
    kind: str  # manifest | config | layer


@dataclass(frozen=True, slots=True)
class ReleaseAudit:
    source: AuditInput
    format: str | None
    outer_compression: str | None
    created: str | None
    error: str | None  # the archive could not be opened at all
    producers: tuple[str, ...]
    problems: tuple[Problem, ...]
    platforms: tuple[PlatformAudit, ...]
    blobs: tuple[BlobUse, ...]

    @property
    def status(self) -> str:
        if self.error is not None:
            return "unreadable"
        return "problems" if self.problems else "ok"


@dataclass(frozen=True, slots=True)
class LayerState:
    """What the coordinator knows about one layer member of this archive."""

    record: LayerRecord | None
    failure: LayerFailure | None
    read_here: bool  # this archive's copy was read (else a copy with the same digest was)
    member_size: int | None


def unreadable_release(source: AuditInput, message: str) -> ReleaseAudit:
    return ReleaseAudit(source, None, None, None, message, (), (), (), ())


def build_release(
    source: AuditInput,
    archive: ImageArchive,
    member_sizes: Mapping[str, int],
    state_of: Callable[[LayerRef], LayerState | None],
) -> ReleaseAudit:
    problems: list[Problem] = list(archive.problems)
    platforms: list[PlatformAudit] = []
    blobs: dict[str, BlobUse] = {}
    keys = platform_keys(archive.images)
    for image, key in zip(archive.images, keys, strict=True):
        uses: list[LayerUse] = []
        records: list[LayerRecord | None] = []
        for layer in image.layers:
            state = state_of(layer)
            use, record, found = _check(image, layer, state)
            uses.append(use)
            records.append(record)
            problems.extend(found)
            if record is not None:
                inv = record.inventory
                blob = BlobUse(inv.digest, inv.size, layer.media_type, "layer")
                blobs.setdefault(inv.digest, blob)
        _document_blobs(image, member_sizes, blobs)
        platforms.append(_platform(image, key, uses, records))
    created = archive.images[0].config.created if archive.images else None
    return ReleaseAudit(
        source,
        archive.format.value,
        archive.outer_compression,
        created,
        None,
        archive.producers,
        tuple(dict.fromkeys(problems)),
        tuple(platforms),
        tuple(sorted(blobs.values(), key=lambda b: b.digest)),
    )


def platform_keys(images: tuple[ImageRef, ...]) -> list[str]:
    """The platform string, made unique inside one archive by the image's first name (docker
    save of several tags, layout directories with several tags) or its position."""
    counts: dict[str, int] = {}
    for image in images:
        counts[str(image.platform)] = counts.get(str(image.platform), 0) + 1
    keys: list[str] = []
    for position, image in enumerate(images):
        plain = str(image.platform)
        if counts[plain] == 1:
            keys.append(plain)
        else:
            suffix = image.names[0] if image.names else f"#{position}"
            keys.append(f"{plain} {suffix}")
    # two images with one platform and one first name: fall back to the position
    return [k if keys.count(k) == 1 else f"{k} #{i}" for i, k in enumerate(keys)]


def _check(
    image: ImageRef, layer: LayerRef, state: LayerState | None
) -> tuple[LayerUse, LayerRecord | None, list[Problem]]:
    created_by = layer.history.created_by if layer.history else None
    subject = f"layer #{layer.index} of {image.platform}"

    def use(digest: str | None, status: str) -> LayerUse:
        return LayerUse(
            layer.index, digest, layer.diff_id, layer.media_type, layer.size, created_by, status
        )

    if layer.member is None or state is None:
        media = layer.media_type or ""
        if "nondistributable" in media or "foreign" in media:
            return use(layer.digest, "missing"), None, []
        message = f"{subject} is missing"
        return (
            use(layer.digest, "missing"),
            None,
            [Problem(ProblemKind.MISSING_BLOB, layer.digest or "?", message)],
        )
    if state.record is None:
        failure = state.failure
        why = failure.message if failure else "not read"
        message = f"{subject} cannot be read: {why}"
        found = [Problem(ProblemKind.UNREADABLE, layer.digest or layer.member, message)]
        if failure and layer.digest is not None and failure.digest != layer.digest:
            message = f"content of {subject} does not match its digest"
            mismatch = Problem(
                ProblemKind.DIGEST_MISMATCH, layer.digest, message, layer.digest, failure.digest
            )
            found.insert(0, mismatch)
        return use(layer.digest, "unreadable"), None, found
    record = state.record
    found, _notes = check_layer(layer, record.inventory, subject)
    copy_size = None if state.read_here else state.member_size
    if copy_size is not None and copy_size != record.inventory.size:
        found.append(
            Problem(
                ProblemKind.SIZE_MISMATCH,
                layer.digest or layer.member,
                f"{subject} is {copy_size} bytes, the verified copy "
                f"of {record.digest} is {record.inventory.size}",
                str(record.inventory.size),
                str(copy_size),
            )
        )
    return use(record.digest, "read" if state.read_here else "shared"), record, found


def _document_blobs(image: ImageRef, sizes: Mapping[str, int], blobs: dict[str, BlobUse]) -> None:
    def member_size(digest: str) -> int | None:
        algorithm, _, encoded = digest.partition(":")
        for path in (f"blobs/{algorithm}/{encoded}", f"{encoded}.json"):
            if path in sizes:
                return sizes[path]
        return None

    if image.manifest_digest is not None:
        size = member_size(image.manifest_digest)
        if size is not None:
            media = image.manifest.media_type if image.manifest else None
            blob = BlobUse(image.manifest_digest, size, media, "manifest")
            blobs.setdefault(image.manifest_digest, blob)
    if image.config_digest is not None:
        config = image.manifest.config if image.manifest else None
        size = config.size if config else member_size(image.config_digest)
        if size is not None:
            media = config.media_type if config else None
            blobs.setdefault(
                image.config_digest, BlobUse(image.config_digest, size, media, "config")
            )


def _platform(
    image: ImageRef, key: str, uses: list[LayerUse], records: list[LayerRecord | None]
) -> PlatformAudit:
    annotations = dict(image.manifest_annotations)
    if image.manifest is not None:
        annotations.update(image.manifest.annotations)
    base_name, base_digest = (annotations.get(name) for name in BASE_ANNOTATIONS)
    return PlatformAudit(
        key=key,
        platform=str(image.platform),
        names=image.names,
        manifest_digest=image.manifest_digest,
        config_digest=image.config_digest,
        created=image.config.created,
        size=sum(r.inventory.size for r in records if r),
        uncompressed_size=sum(r.inventory.uncompressed_size for r in records if r),
        epoch=claimed_epoch(image),
        base_name=base_name,
        base_digest=base_digest,
        document=encode(image),
        layers=tuple(uses),
        packages=_packages(records),
        hazards=lint_image(image, records),
    )


def _packages(records: list[LayerRecord | None]) -> tuple[PackageUse, ...]:
    """Packages named by the package databases the final filesystem shows."""
    merged = merge_layers([tuple(r.inventory.entries or ()) if r else () for r in records])
    shown = {m.entry.path: m.layer for m in merged}
    found: set[PackageUse] = set()
    for index, record in enumerate(records):
        for fact in record.facts.packages if record else ():
            if shown.get(fact.path) == index:
                found.add(PackageUse(fact.ecosystem, fact.name, fact.version, fact.path, index))
    return tuple(sorted(found, key=lambda p: (p.ecosystem, p.name, p.version, p.path)))
