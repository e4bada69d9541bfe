"""The OCI / Docker image model: descriptors, indexes, manifests and configs as frozen values.

Pure data. Parsing lives in `parse.py`; locating documents in an archive lives in `layout.py`.
Everything here serialises with orjson as is (tuples, not sets; str keys).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

Pairs = tuple[tuple[str, str], ...]  # an ordered string map (annotations, labels), sorted by key

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_IN_TOTO = "application/vnd.in-toto+json"
MT_EMPTY = "application/vnd.oci.empty.v1+json"

INDEX_MEDIA_TYPES = frozenset({MT_OCI_INDEX, MT_DOCKER_LIST})
MANIFEST_MEDIA_TYPES = frozenset({MT_OCI_MANIFEST, MT_DOCKER_MANIFEST})
CONFIG_MEDIA_TYPES = frozenset({MT_OCI_CONFIG, MT_DOCKER_CONFIG})

ANNOTATION_REF_TYPE = "vnd.docker.reference.type"
ANNOTATION_REF_DIGEST = "vnd.docker.reference.digest"
ANNOTATION_REWRITTEN = "buildkit/rewritten-timestamp"
ANNOTATION_CREATED = "org.opencontainers.image.created"
ANNOTATION_BASE_NAME = "org.opencontainers.image.base.name"
ANNOTATION_BASE_DIGEST = "org.opencontainers.image.base.digest"
BASE_ANNOTATIONS = (ANNOTATION_BASE_NAME, ANNOTATION_BASE_DIGEST)  # in this order
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_PREDICATE = "in-toto.io/predicate-type"


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    @property
    def is_unknown(self) -> bool:
        return self.os == "unknown" and self.architecture == "unknown"


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: Pairs = ()
    platform: Platform | None = None
    artifact_type: str | None = None
    urls: tuple[str, ...] = ()

    def annotation(self, key: str) -> str | None:
        for name, value in self.annotations:
            if name == key:
                return value
        return None

    @property
    def is_attestation(self) -> bool:
        return self.annotation(ANNOTATION_REF_TYPE) == "attestation-manifest"


@dataclass(frozen=True, slots=True)
class Index:
    media_type: str | None
    manifests: tuple[Descriptor, ...]
    annotations: Pairs = ()
    artifact_type: str | None = None
    subject: Descriptor | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    media_type: str | None
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: Pairs = ()
    artifact_type: str | None = None
    subject: Descriptor | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created: str | None
    created_by: str | None
    author: str | None
    comment: str | None
    empty_layer: bool


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """The `config` object of an image config: what affects how the container runs."""

    user: str | None = None
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    working_dir: str | None = None
    labels: Pairs = ()
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    stop_signal: str | None = None
    healthcheck: str | None = None  # canonical JSON text of the healthcheck object
    shell: tuple[str, ...] | None = None
    on_build: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImageConfig:
    architecture: str
    os: str
    variant: str | None
    created: str | None
    author: str | None
    runtime: RuntimeConfig
    diff_ids: tuple[str, ...]
    history: tuple[HistoryEntry, ...]
    extra_keys: tuple[str, ...]  # top-level keys beyond the OCI ones (docker_version, container...)

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant)


class ArchiveFormat(enum.Enum):
    """The container format an input was recognised as."""

    OCI_TAR = "oci-layout-tar"
    OCI_DIR = "oci-layout-dir"
    DOCKER_V25 = "docker-archive-v25"  # docker save 25+: manifest.json and an OCI layout
    CONTAINERD = "containerd-export"  # OCI layout + manifest.json with compressed layers
    DOCKER_ARCHIVE = "docker-archive"  # docker save 1.10-24, podman/skopeo, ggcr/kaniko
    DOCKER_PRE110 = "docker-archive-pre1.10"  # repositories + parent chain only
    LAYER_TAR = "layer-tar"  # a bare layer blob
