"""The resolved view of an image archive: its images, their layers, and where each blob is.

Pure data, produced by `layout.py` and consumed by every command. A `Problem` records damage found
while resolving (a document whose bytes do not match its digest, a missing config) so that
`verify` can list every one instead of stopping at the first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .model import (
    ArchiveFormat,
    Descriptor,
    HistoryEntry,
    ImageConfig,
    Index,
    Manifest,
    Pairs,
    Platform,
)


class ProblemKind(enum.Enum):
    DIGEST_MISMATCH = "digest-mismatch"
    SIZE_MISMATCH = "size-mismatch"
    DIFF_ID_MISMATCH = "diff-id-mismatch"
    MEDIA_TYPE_MISMATCH = "media-type-mismatch"
    MISSING_BLOB = "missing-blob"
    LAYER_COUNT_MISMATCH = "layer-count-mismatch"
    UNREADABLE = "unreadable"
    DUPLICATE_MEMBER = "duplicate-member"
    TAR_DEFECT = "tar-defect"


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect, with the blob (digest) or member it concerns and what was expected."""

    kind: ProblemKind
    subject: str  # a digest or a member path
    message: str
    expected: str | None = None
    actual: str | None = None


@dataclass(frozen=True, slots=True)
class LayerRef:
    """One layer of one image, and where its blob lives in the archive."""

    index: int
    media_type: str | None
    digest: str | None  # as named by a descriptor or a content-addressed member name
    size: int | None  # from the descriptor
    member: str | None  # archive member holding the blob; None when absent
    diff_id: str | None  # from the config's rootfs.diff_ids
    annotations: Pairs
    history: HistoryEntry | None


@dataclass(frozen=True, slots=True)
class Attestation:
    descriptor: Descriptor
    for_digest: str | None  # the platform manifest it attests
    predicate_types: tuple[str, ...]
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True, slots=True)
class ImageRef:
    """One runnable image (one platform) inside the archive."""

    platform: Platform
    names: tuple[str, ...]
    manifest_digest: str | None  # None for docker-archive forms without a manifest blob
    manifest: Manifest | None
    manifest_annotations: Pairs  # on the descriptor that pointed at the manifest
    config_digest: str | None
    config: ImageConfig
    layers: tuple[LayerRef, ...]
    attestations: tuple[Attestation, ...]
    index_path: tuple[str, ...]  # digests of the indexes leading here (outermost first)


@dataclass(frozen=True, slots=True)
class ImageArchive:
    """Everything `open_archive` learned without reading layer data."""

    source: str
    format: ArchiveFormat
    outer_compression: str
    producers: tuple[str, ...]
    index: Index | None  # the entry point (index.json), when there is one
    indexes: tuple[tuple[str, Index], ...]  # nested indexes by digest
    images: tuple[ImageRef, ...]
    attestations: tuple[Attestation, ...]
    absent: tuple[Descriptor, ...]  # referenced but not present (other platforms, foreign layers)
    unreferenced: tuple[str, ...]  # blob members nothing refers to
    problems: tuple[Problem, ...]
    member_count: int
