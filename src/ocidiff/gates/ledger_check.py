"""`ledger check`: did these build inputs (a fingerprint) ever produce a different image?

Pure: compares the records an image would get with those the ledger holds for the same
fingerprint and platform, and names each level that differs (index, manifest, config, layers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .ledger import LedgerRecord, same_image

SCHEMA = "ocidiff.ledger-check"
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class LevelDifference:
    level: str  # index | manifest | config | layers | layer
    layer: int | None
    recorded: str | None
    image: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class Comparison:
    release: str
    platform: str
    same_image: bool
    differences: tuple[LevelDifference, ...]


@dataclass(frozen=True, slots=True)
class DiffCause:
    code: str
    count: int
    meaning: str


@dataclass(frozen=True, slots=True)
class DiffSummary:
    """The full diff against an older archive (`--against`), reduced to its causes."""

    against: str
    verdict: str
    causes: tuple[DiffCause, ...]  # those not ignored, most important first


@dataclass(frozen=True, slots=True)
class CheckReport:
    schema: str
    schema_version: int
    ok: bool
    verdict: str  # unrecorded | same-image | different-image
    fingerprint: str
    image: str
    comparisons: tuple[Comparison, ...]
    unrecorded_platforms: tuple[str, ...]
    diff: DiffSummary | None = None


def check_image(
    recorded: Sequence[LedgerRecord],
    candidates: Sequence[LedgerRecord],
    fingerprint: str,
    image: str,
) -> CheckReport:
    """Pass when the fingerprint was never recorded, or only with this image; fail otherwise."""
    comparisons: list[Comparison] = []
    unrecorded: list[str] = []
    for candidate in candidates:
        matches = [
            r for r in recorded
            if r.fingerprint == fingerprint and r.platform == candidate.platform
        ]
        if not matches:
            unrecorded.append(candidate.platform)
        comparisons.extend(
            Comparison(old.release, old.platform, same_image(old, candidate),
                       differences(old, candidate))
            for old in matches
        )
    if not comparisons:
        verdict = "unrecorded"
    elif all(c.same_image for c in comparisons):
        verdict = "same-image"
    else:
        verdict = "different-image"
    return CheckReport(
        SCHEMA, SCHEMA_VERSION, verdict != "different-image", verdict, fingerprint, image,
        tuple(comparisons), tuple(sorted(unrecorded)),
    )


def differences(old: LedgerRecord, new: LedgerRecord) -> tuple[LevelDifference, ...]:
    """Each level at which two records differ, outermost first."""
    found: list[LevelDifference] = []
    for level, a, b in (
        ("index", old.index_digest, new.index_digest),
        ("manifest", old.manifest_digest, new.manifest_digest),
        ("config", old.config_digest, new.config_digest),
    ):
        if a != b:
            found.append(LevelDifference(level, None, a, b, f"{level} digest differs"))
    if len(old.layers) != len(new.layers):
        found.append(LevelDifference(
            "layers", None, str(len(old.layers)), str(len(new.layers)), "layer count differs"
        ))
    for a_layer, b_layer in zip(old.layers, new.layers, strict=False):
        if a_layer.digest == b_layer.digest:
            continue
        if a_layer.diff_id is not None and a_layer.diff_id == b_layer.diff_id:
            detail = "same content (diff_id), other compression or packing"
        elif a_layer.diff_id is None or b_layer.diff_id is None:
            detail = "blob digest differs"
        else:
            detail = "content differs (diff_id)"
        found.append(LevelDifference("layer", a_layer.index, a_layer.digest, b_layer.digest,
                                     detail))
    return tuple(found)
