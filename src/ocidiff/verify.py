"""Integrity checks: what a layer's bytes are against what the manifest and config claim.

Pure functions over an `ImageArchive` and the `LayerInventory` values the pump produced.
"""

from __future__ import annotations

from dataclasses import dataclass

from .compression import Compression
from .inventory import LayerInventory
from .oci.image import ImageArchive, LayerRef, Problem, ProblemKind
from .tar.events import Trailer


@dataclass(frozen=True, slots=True)
class LayerVerdict:
    """One checked blob with what was found; `problems` empty means it matched every claim."""

    platform: str
    index: int
    member: str
    digest: str  # as computed
    size: int
    diff_id: str | None
    compression: str
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    source: str
    format: str
    layers: tuple[LayerVerdict, ...]
    problems: tuple[Problem, ...]  # every defect, archive-level and per layer
    unreferenced: tuple[str, ...]
    absent: tuple[str, ...]
    blobs_checked: int

    @property
    def ok(self) -> bool:
        return not self.problems


def expected_compression(media_type: str | None) -> Compression | None:
    """The compression a media type promises; None when it promises nothing checkable.

    Docker's `rootfs.diff.tar` may hold gzip data (containerd treats it as 'unknown'), so it is
    not held to 'none'."""
    if not media_type:
        return None
    if media_type.endswith(("+gzip", ".gzip")):
        return Compression.GZIP
    if media_type.endswith(("+zstd", ".zstd")):
        return Compression.ZSTD
    if media_type in (
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
    ):
        return Compression.NONE
    return None


def check_layer(
    layer: LayerRef, inventory: LayerInventory, subject: str
) -> tuple[list[Problem], list[str]]:
    problems: list[Problem] = []
    notes: list[str] = []
    if layer.digest is not None and layer.digest.startswith("sha256:"):
        if layer.digest != inventory.digest:
            problems.append(
                Problem(
                    ProblemKind.DIGEST_MISMATCH,
                    layer.digest,
                    f"content of {subject} does not match its digest",
                    layer.digest,
                    inventory.digest,
                )
            )
    elif layer.digest is not None:
        notes.append(f"digest algorithm of {layer.digest.split(':')[0]} not recomputed")
    if layer.size is not None and layer.size != inventory.size:
        problems.append(
            Problem(
                ProblemKind.SIZE_MISMATCH,
                layer.digest or subject,
                f"{subject} is {inventory.size} bytes, descriptor says {layer.size}",
                str(layer.size),
                str(inventory.size),
            )
        )
    if layer.diff_id is not None and layer.diff_id != inventory.diff_id:
        problems.append(
            Problem(
                ProblemKind.DIFF_ID_MISMATCH,
                layer.digest or subject,
                f"uncompressed {subject} does not match diff_id #{layer.index}",
                layer.diff_id,
                inventory.diff_id,
            )
        )
    expected = expected_compression(layer.media_type)
    actual = inventory.compression.kind
    if expected is not None and expected is not actual:
        problems.append(
            Problem(
                ProblemKind.MEDIA_TYPE_MISMATCH,
                layer.digest or subject,
                f"media type {layer.media_type} but the bytes are {actual.value}",
                expected.value,
                actual.value,
            )
        )
    if inventory.trailer in (Trailer.NONE, Trailer.UNPADDED):
        notes.append(f"tar ends without the end-of-archive marker ({inventory.trailer.value})")
    if inventory.trailing_data_bytes:
        notes.append(f"{inventory.trailing_data_bytes} bytes of data after the tar end marker")
    return problems, notes


def summarize(
    archive: ImageArchive, layers: list[LayerVerdict], extra: list[Problem], blobs_checked: int
) -> VerifyReport:
    problems = [*archive.problems, *extra]
    for verdict in layers:
        problems.extend(verdict.problems)
    # The same defect can be seen twice (a document's descriptor check while resolving, then its
    # name check while hashing every blob): keep the first wording of each distinct fact.
    facts: dict[tuple[ProblemKind, str, str | None, str | None], Problem] = {}
    for problem in problems:
        facts.setdefault((problem.kind, problem.subject, problem.expected, problem.actual), problem)
    unique = list(facts.values())
    return VerifyReport(
        source=archive.source,
        format=archive.format.value,
        layers=tuple(layers),
        problems=tuple(unique),
        unreferenced=archive.unreferenced,
        absent=tuple(d.digest for d in archive.absent),
        blobs_checked=blobs_checked,
    )
