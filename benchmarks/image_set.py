"""The record of a generated image set (set.json): which files, which layers, what they hold.

Standard library only, on purpose: the suite's measuring process imports this and must stay small,
because a child's peak RSS as the kernel reports it includes the parent's at the time of the fork.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class BlobFacts:
    """A layer blob as an image references it."""

    digest: str
    size: int
    diff_id: str
    uncompressed_size: int
    media_type: str

    @property
    def compression(self) -> str:
        return self.media_type.rsplit("+", 1)[-1] if "+" in self.media_type else "none"


@dataclass(frozen=True, slots=True)
class ImageFile:
    path: str
    layers: tuple[BlobFacts, ...]
    entries: int  # tar members over all layers
    role: str


@dataclass(frozen=True, slots=True)
class ImageSet:
    """Everything the suite measures for one size."""

    size: int
    label: str
    a_gzip: ImageFile  # the base image
    a_zstd: ImageFile  # the same content, zstd layers
    b_gzip: ImageFile  # a rebuild that differs in every layer
    c_gzip: ImageFile  # a rebuild that differs from a_gzip in one layer only
    changed_layer: int  # that layer's index
    changed_blob: str  # c_gzip's changed layer blob as a file of its own (for `ocidiff ls BLOB`)

    def images(self) -> dict[str, ImageFile]:
        return {"a_gzip": self.a_gzip, "a_zstd": self.a_zstd, "b_gzip": self.b_gzip,
                "c_gzip": self.c_gzip}


def write_set(path: Path, images: ImageSet, fingerprint: str) -> None:
    path.write_text(json.dumps({"fingerprint": fingerprint, "set": asdict(images)}, indent=1))


def read_set(path: Path, fingerprint: str | None = None) -> ImageSet | None:
    """The recorded set, or None when missing, stale (other fingerprint) or incomplete."""
    try:
        saved = json.loads(path.read_text())
        if fingerprint is not None and saved.get("fingerprint") != fingerprint:
            return None
        fields = dict(saved["set"])
        for key in ("a_gzip", "a_zstd", "b_gzip", "c_gzip"):
            value = dict(fields[key])
            value["layers"] = tuple(BlobFacts(**b) for b in value["layers"])
            fields[key] = ImageFile(**value)
        found = ImageSet(**fields)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    paths = [found.changed_blob, *(i.path for i in found.images().values())]
    return found if all(Path(p).is_file() for p in paths) else None
