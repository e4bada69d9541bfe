"""Recognise an archive's format and resolve its images: OCI layouts (tar or directory), every
`docker save` generation, containerd exports, podman/skopeo and ggcr/kaniko tarballs.

Reads only the small JSON documents through an `ArchiveSource`; never layer data. Damage that does
not stop resolution becomes a `Problem`; input that cannot be understood at all raises.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..digest import new_hasher
from ..errors import ImageFormatError, LimitExceededError, MissingBlobError, OcidiffError
from ..source import ArchiveSource, Member, normalize_member_path
from ..tar.events import EntryKind, Trailer
from .image import Attestation, ImageArchive, ImageRef, LayerRef, Problem, ProblemKind
from .model import (
    ANNOTATION_IMAGE_NAME,
    ANNOTATION_PREDICATE,
    ANNOTATION_REF_DIGEST,
    ANNOTATION_REF_NAME,
    CONFIG_MEDIA_TYPES,
    INDEX_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    MT_IN_TOTO,
    ArchiveFormat,
    Descriptor,
    HistoryEntry,
    ImageConfig,
    Index,
    Manifest,
    RuntimeConfig,
)
from .parse import JsonLimits, document_kind, load_json, parse_config, parse_index, parse_manifest

_HEX64 = re.compile(r"^[a-f0-9]{64}$")


def blob_path(digest: str) -> str:
    algorithm, encoded = digest.split(":", 1)
    return f"blobs/{algorithm}/{encoded}"


def detect_format(members: tuple[Member, ...], *, is_directory: bool) -> ArchiveFormat:
    paths = {m.path for m in members}
    if "index.json" in paths:
        if "manifest.json" not in paths:
            return ArchiveFormat.OCI_DIR if is_directory else ArchiveFormat.OCI_TAR
        return ArchiveFormat.DOCKER_V25 if "repositories" in paths else ArchiveFormat.CONTAINERD
    if "manifest.json" in paths:
        return ArchiveFormat.DOCKER_ARCHIVE
    if "repositories" in paths or any(p.endswith("/layer.tar") for p in paths):
        return ArchiveFormat.DOCKER_PRE110
    return ArchiveFormat.LAYER_TAR


@dataclass
class _Resolver:
    source: ArchiveSource
    limits: JsonLimits
    problems: list[Problem] = field(default_factory=list)
    referenced: set[str] = field(default_factory=set)
    absent: dict[str, Descriptor] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    images: list[ImageRef] = field(default_factory=list)
    attestations: list[Attestation] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.paths = {m.path for m in self.source.members()}

    # -- documents -------------------------------------------------------------------------
    def read_member(self, path: str) -> bytes:
        with self.source.open(path) as handle:
            data = handle.read(self.limits.max_bytes + 1)
        if len(data) > self.limits.max_bytes:
            raise LimitExceededError(
                f"document is over the JSON size limit of {self.limits.max_bytes} bytes",
                limit="max-json-bytes",
                option="--max-json-bytes",
                member=path,
            )
        return data

    def read_blob(self, descriptor: Descriptor) -> bytes | None:
        """The blob's bytes checked against the descriptor, or None (recorded) when absent."""
        path = blob_path(descriptor.digest)
        self.referenced.add(path)
        if path not in self.paths:
            self.absent[descriptor.digest] = descriptor
            return None
        data = self.read_member(path)
        self.check_bytes(data, descriptor.digest, descriptor.size, path)
        return data

    def check_bytes(self, data: bytes, digest: str, size: int | None, subject: str) -> None:
        hasher = new_hasher(digest.split(":", 1)[0])
        if hasher is not None:
            hasher.update(data)
            actual = f"{digest.split(':', 1)[0]}:{hasher.hexdigest()}"
            if actual != digest:
                self.problems.append(
                    Problem(
                        ProblemKind.DIGEST_MISMATCH,
                        digest,
                        f"content of {subject} does not match its digest",
                        digest,
                        actual,
                    )
                )
        if size is not None and size != len(data):
            self.problems.append(
                Problem(
                    ProblemKind.SIZE_MISMATCH,
                    digest,
                    f"{subject} is {len(data)} bytes, descriptor says {size}",
                    str(size),
                    str(len(data)),
                )
            )

    def check_usable(self, path: str, subject: str) -> None:
        """Record a problem when the member holding a blob cannot be read (a link out of the
        archive or in a loop, a directory): resolution goes on, so verify lists it and diff
        marks the comparison incomplete; reading the layer raises the same error."""
        try:
            self.source.locate(path)
        except OcidiffError as exc:
            self.problems.append(
                Problem(ProblemKind.UNREADABLE, subject, f"{path}: {exc.message}")
            )

    def json_of(self, data: bytes, what: str) -> Any:
        return load_json(data, what=what, limits=self.limits)

    # -- OCI ---------------------------------------------------------------------------------
    def resolve_oci(self) -> Index:
        data = self.read_member("index.json")
        try:
            top = parse_index(self.json_of(data, "index.json"), what="index.json")
        except OcidiffError as exc:
            raise exc.located(member="index.json") from None
        self.walk_index(top, names_from=None, path=(), depth=0, seen=set())
        return top

    def walk_index(
        self,
        index: Index,
        names_from: Descriptor | None,
        path: tuple[str, ...],
        depth: int,
        seen: set[str],
    ) -> None:
        if depth > self.limits.max_index_depth:
            raise LimitExceededError(
                f"indexes nest deeper than {self.limits.max_index_depth} levels",
                limit="max-index-depth",
                option="--max-index-depth",
                blob=path[-1] if path else None,
            )
        runnable: list[ImageRef] = []
        attestations: list[tuple[Descriptor, Manifest]] = []
        for descriptor in index.manifests:
            names = _names(descriptor) or (_names(names_from) if names_from else ())
            if descriptor.digest in seen:
                raise ImageFormatError("index refers to itself (a cycle)", blob=descriptor.digest)
            data = self.read_blob(descriptor)
            if data is None:
                if depth == 0:
                    # Blobs deeper down may be absent by design (a single-platform export of a
                    # multi-platform index); what index.json itself lists must be there.
                    self.problems.append(
                        Problem(
                            ProblemKind.MISSING_BLOB,
                            descriptor.digest,
                            "the manifest index.json lists is missing",
                        )
                    )
                continue
            what = f"blob {descriptor.digest}"
            document = self.json_of(data, what)
            kind = _kind_of(descriptor, document)
            if kind == "index":
                nested = parse_index(document, what=what)
                self.indexes[descriptor.digest] = nested
                self.walk_index(
                    nested,
                    descriptor if names else names_from,
                    (*path, descriptor.digest),
                    depth + 1,
                    seen | {descriptor.digest},
                )
            elif kind == "manifest":
                manifest = parse_manifest(document, what=what)
                if _is_attestation(descriptor, manifest):
                    attestations.append((descriptor, manifest))
                    self.mark_referenced(manifest)
                    continue
                image = self.image_from_manifest(descriptor, manifest, names, path)
                if image is not None:
                    runnable.append(image)
        attached = [_attestation(d, m) for d, m in attestations]
        self.attestations.extend(attached)
        for image in runnable:
            mine = tuple(a for a in attached if a.for_digest == image.manifest_digest)
            self.images.append(_with_attestations(image, mine))

    def mark_referenced(self, manifest: Manifest) -> None:
        for descriptor in (manifest.config, *manifest.layers):
            path = blob_path(descriptor.digest)
            self.referenced.add(path)
            if path not in self.paths:
                self.absent[descriptor.digest] = descriptor
            elif descriptor.size <= self.limits.max_bytes and descriptor.media_type in (
                MT_IN_TOTO,
                "application/vnd.oci.empty.v1+json",
            ):
                self.check_bytes(self.read_member(path), descriptor.digest, descriptor.size, path)

    def image_from_manifest(
        self,
        descriptor: Descriptor,
        manifest: Manifest,
        names: tuple[str, ...],
        path: tuple[str, ...],
    ) -> ImageRef | None:
        config_data = self.read_blob(manifest.config)
        for layer in manifest.layers:
            self.referenced.add(blob_path(layer.digest))
            if blob_path(layer.digest) not in self.paths:
                self.absent[layer.digest] = layer
        if config_data is None:
            if manifest.layers:
                self.problems.append(
                    Problem(
                        ProblemKind.MISSING_BLOB, manifest.config.digest, "config blob is missing"
                    )
                )
            return None
        config = parse_config(
            self.json_of(config_data, f"config {manifest.config.digest}"),
            what=f"config {manifest.config.digest}",
        )
        layers = _layer_refs(manifest.layers, config, self.paths)
        for ref in layers:
            if ref.member is not None:
                self.check_usable(ref.member, ref.digest or ref.member)
        self.check_layer_count(config, len(manifest.layers), manifest.config.digest)
        platform = descriptor.platform or config.platform
        return ImageRef(
            platform,
            names,
            descriptor.digest,
            manifest,
            descriptor.annotations,
            manifest.config.digest,
            config,
            layers,
            (),
            path,
        )

    def check_layer_count(self, config: ImageConfig, layers: int, subject: str) -> None:
        if config.diff_ids and len(config.diff_ids) != layers:
            self.problems.append(
                Problem(
                    ProblemKind.LAYER_COUNT_MISMATCH,
                    subject,
                    f"config lists {len(config.diff_ids)} diff_ids for {layers} layers",
                    str(layers),
                    str(len(config.diff_ids)),
                )
            )

    # -- docker-archive ----------------------------------------------------------------------
    def resolve_docker(self) -> None:
        """Images from manifest.json (docker save 1.10+, podman/skopeo, ggcr; Docker 25.0.0)."""
        data = self.read_member("manifest.json")
        document = self.json_of(data, "manifest.json")
        if not isinstance(document, list):
            raise ImageFormatError(
                "manifest.json: expected an array", member="manifest.json", pointer=""
            )
        for position, item in enumerate(document):
            pointer = f"/{position}"
            if not isinstance(item, dict):
                raise ImageFormatError(
                    "manifest.json: expected an object", member="manifest.json", pointer=pointer
                )
            names = _strings(item.get("RepoTags"))
            config_path = item.get("Config")
            layer_paths = item.get("Layers") or []
            if (
                not isinstance(config_path, str)
                or not isinstance(layer_paths, list)
                or not all(isinstance(p, str) for p in layer_paths)
            ):
                raise ImageFormatError(
                    "manifest.json: Config and Layers must be strings",
                    member="manifest.json",
                    pointer=pointer,
                )
            self.images.append(self.docker_image(config_path, layer_paths, names))

    def docker_image(
        self, config_path: str, layer_paths: list[str], names: tuple[str, ...]
    ) -> ImageRef:
        self.referenced.add(normalize_member_path(config_path))
        config_data = self.read_member(config_path)
        actual = "sha256:" + hashlib.sha256(config_data).hexdigest()
        named = _named_digest(config_path)
        if named is not None and named != actual:
            self.problems.append(
                Problem(
                    ProblemKind.DIGEST_MISMATCH,
                    config_path,
                    "config content does not match its name",
                    named,
                    actual,
                )
            )
        config = parse_config(self.json_of(config_data, config_path), what=config_path)
        history = _layer_history(config)
        layers = []
        for i, path in enumerate(layer_paths):
            self.referenced.add(path)
            present = path in self.paths
            if not present:
                self.problems.append(Problem(ProblemKind.MISSING_BLOB, path, "layer is missing"))
            else:
                self.check_usable(path, path)
            layers.append(
                LayerRef(
                    i,
                    None,
                    _named_digest(path),
                    None,
                    path if present else None,
                    config.diff_ids[i] if i < len(config.diff_ids) else None,
                    (),
                    history[i] if i < len(history) else None,
                )
            )
        self.check_layer_count(config, len(layer_paths), config_path)
        return ImageRef(
            config.platform, names, None, None, (), actual, config, tuple(layers), (), ()
        )

    def resolve_pre110(self) -> None:
        """Pre-1.10 docker save: `repositories` names the tip, `<id>/json` links the parents."""
        tips: dict[str, list[str]] = {}
        if "repositories" in self.paths:
            document = self.json_of(self.read_member("repositories"), "repositories")
            if not isinstance(document, dict):
                raise ImageFormatError("repositories: expected an object", member="repositories")
            for repo, tags in sorted(document.items()):
                if isinstance(tags, dict):
                    for tag, image_id in sorted(tags.items()):
                        if isinstance(image_id, str):
                            tips.setdefault(image_id, []).append(f"{repo}:{tag}")
        if not tips:
            tips = {
                m.path.split("/")[0]: []
                for m in self.source.members()
                if m.path.endswith("/json") and m.path.count("/") == 1
            }
        for tip, names in sorted(tips.items()):
            self.images.append(self.pre110_image(tip, tuple(names)))

    def pre110_image(self, tip: str, names: tuple[str, ...]) -> ImageRef:
        chain: list[tuple[str, dict[str, Any]]] = []
        current: str | None = tip
        while current:
            if len(chain) > 1000 or any(c == current for c, _ in chain):
                raise ImageFormatError("image parent chain loops", member=f"{current}/json")
            document = self.json_of(self.read_member(f"{current}/json"), f"{current}/json")
            if not isinstance(document, dict):
                raise ImageFormatError("expected an object", member=f"{current}/json")
            self.referenced.update(
                {f"{current}/json", f"{current}/layer.tar", f"{current}/VERSION"}
            )
            chain.append((current, document))
            parent = document.get("parent")
            current = parent if isinstance(parent, str) else None
        chain.reverse()
        layers = []
        history = []
        for i, (image_id, document) in enumerate(chain):
            runtime = document.get("container_config")
            command = runtime.get("Cmd") if isinstance(runtime, dict) else None
            words = command if isinstance(command, list) else []
            # Untrusted JSON: only a list of strings is a command line.
            created_by = " ".join(w for w in words if isinstance(w, str))
            entry = HistoryEntry(
                _str(document.get("created")),
                created_by or None,
                _str(document.get("author")),
                _str(document.get("comment")),
                False,
            )
            history.append(entry)
            path = f"{image_id}/layer.tar"
            layers.append(
                LayerRef(i, None, None, None, path if path in self.paths else None, None, (), entry)
            )
        top = chain[-1][1]
        top_config = parse_config(
            {
                k: v
                for k, v in top.items()
                if k in ("architecture", "os", "created", "author", "config")
            },
            what=f"{tip}/json",
        )
        config = ImageConfig(
            top_config.architecture or "",
            top_config.os or "",
            None,
            top_config.created,
            top_config.author,
            top_config.runtime if top_config.runtime else RuntimeConfig(),
            (),
            tuple(history),
            (),
        )
        return ImageRef(config.platform, names, None, None, (), None, config, tuple(layers), (), ())


def resolve_archive(
    source: ArchiveSource,
    *,
    is_directory: bool = False,
    outer_compression: str = "none",
    limits: JsonLimits = JsonLimits(),
) -> ImageArchive:
    """Resolve every image in the archive, reading only its JSON documents."""
    members = source.members()
    archive_format = detect_format(members, is_directory=is_directory)
    resolver = _Resolver(source, limits)
    top: Index | None = None
    try:
        if archive_format in (
            ArchiveFormat.OCI_TAR,
            ArchiveFormat.OCI_DIR,
            ArchiveFormat.DOCKER_V25,
            ArchiveFormat.CONTAINERD,
        ):
            top = resolver.resolve_oci()
            if "manifest.json" in resolver.paths:
                resolver.referenced.add("manifest.json")
                if not resolver.images and not top.manifests:
                    # Docker 25.0.0 wrote `"manifests": null`: manifest.json is the only map.
                    archive_format = ArchiveFormat.DOCKER_V25
                    resolver.resolve_docker()
                else:
                    _attach_repo_tags(resolver)
        elif archive_format is ArchiveFormat.DOCKER_ARCHIVE:
            resolver.resolve_docker()
        elif archive_format is ArchiveFormat.DOCKER_PRE110:
            resolver.resolve_pre110()
    except MissingBlobError as exc:
        raise exc.located(file=source.name) from None
    except OcidiffError as exc:
        raise exc.located(file=source.name) from None
    unreferenced = _unreferenced(members, resolver.referenced, archive_format)
    problems = list(resolver.problems)
    seen: set[str] = set()
    for member in members:
        if member.path in seen and member.kind is not EntryKind.DIR:
            problems.append(
                Problem(
                    ProblemKind.DUPLICATE_MEMBER,
                    member.path,
                    "member appears more than once (the last one wins)",
                )
            )
        seen.add(member.path)
    if members and source.trailer in (Trailer.NONE, Trailer.UNPADDED):
        # Every image exporter ends its archive with the two zero blocks: without them the
        # file was most likely cut short, and whatever followed is missing.
        problems.append(
            Problem(
                ProblemKind.TAR_DEFECT,
                source.name,
                "the archive ends without its end-of-archive marker (truncated?)",
            )
        )
    return ImageArchive(
        source=source.name,
        format=archive_format,
        outer_compression=outer_compression,
        producers=_producers(archive_format, members, resolver),
        index=top,
        indexes=tuple(sorted(resolver.indexes.items())),
        images=tuple(resolver.images),
        attestations=tuple(resolver.attestations),
        absent=tuple(d for _, d in sorted(resolver.absent.items())),
        unreferenced=unreferenced,
        problems=tuple(problems),
        member_count=len(members),
    )


def _attach_repo_tags(resolver: _Resolver) -> None:
    """Docker 25+ and containerd exports also carry manifest.json: take its RepoTags as names."""
    try:
        document = resolver.json_of(resolver.read_member("manifest.json"), "manifest.json")
    except OcidiffError:
        return
    if not isinstance(document, list):
        return
    by_config: dict[str, tuple[str, ...]] = {}
    for item in document:
        if isinstance(item, dict) and isinstance(item.get("Config"), str):
            tags = _strings(item.get("RepoTags"))
            digest = _named_digest(item["Config"])
            if digest:
                by_config[digest] = tags
            resolver.referenced.update(_strings(item.get("Layers")))
    images = []
    for image in resolver.images:
        extra = by_config.get(image.config_digest or "", ())
        names = tuple(dict.fromkeys((*image.names, *extra)))
        images.append(_replace_names(image, names))
    resolver.images = images


def _replace_names(image: ImageRef, names: tuple[str, ...]) -> ImageRef:
    from dataclasses import replace

    return replace(image, names=names)


def _with_attestations(image: ImageRef, attestations: tuple[Attestation, ...]) -> ImageRef:
    from dataclasses import replace

    return replace(image, attestations=attestations)


def _names(descriptor: Descriptor | None) -> tuple[str, ...]:
    if descriptor is None:
        return ()
    full = descriptor.annotation(ANNOTATION_IMAGE_NAME)
    ref = descriptor.annotation(ANNOTATION_REF_NAME)
    return tuple(n for n in (full, ref) if n)[:1] if full else ((ref,) if ref else ())


def _kind_of(descriptor: Descriptor, document: Any) -> str:
    if descriptor.media_type in INDEX_MEDIA_TYPES:
        return "index"
    if descriptor.media_type in MANIFEST_MEDIA_TYPES:
        return "manifest"
    return document_kind(document)  # index.json entries without mediaType exist in the wild


def _is_attestation(descriptor: Descriptor, manifest: Manifest) -> bool:
    if descriptor.is_attestation:
        return True
    if descriptor.platform is not None and descriptor.platform.is_unknown:
        return True
    if manifest.config.media_type and manifest.config.media_type not in CONFIG_MEDIA_TYPES:
        return True  # an OCI artifact (SBOM, signature, ...): not a runnable image
    return bool(manifest.layers) and all(
        layer.media_type == MT_IN_TOTO for layer in manifest.layers
    )


def _attestation(descriptor: Descriptor, manifest: Manifest) -> Attestation:
    target = descriptor.annotation(ANNOTATION_REF_DIGEST)
    if target is None and manifest.subject is not None:
        target = manifest.subject.digest
    predicates = tuple(
        sorted({p for layer in manifest.layers if (p := layer.annotation(ANNOTATION_PREDICATE))})
    )
    return Attestation(descriptor, target, predicates, manifest.layers)


def _layer_history(config: ImageConfig) -> list[HistoryEntry]:
    return [h for h in config.history if not h.empty_layer]


def _layer_refs(
    layers: tuple[Descriptor, ...], config: ImageConfig, paths: set[str]
) -> tuple[LayerRef, ...]:
    history = _layer_history(config)
    refs = []
    for i, layer in enumerate(layers):
        path = blob_path(layer.digest)
        refs.append(
            LayerRef(
                index=i,
                media_type=layer.media_type,
                digest=layer.digest,
                size=layer.size,
                member=path if path in paths else None,
                diff_id=config.diff_ids[i] if i < len(config.diff_ids) else None,
                annotations=layer.annotations,
                history=history[i] if i < len(history) else None,
            )
        )
    return tuple(refs)


def _named_digest(path: str) -> str | None:
    """The digest a member's name states: `<hex>.json`, `sha256:<hex>`, `<hex>.tar[.gz]`,
    `blobs/sha256/<hex>`; None for names that are not content addresses (`<v1id>/layer.tar`)."""
    name = path.rsplit("/", 1)[-1]
    if path.startswith("blobs/sha256/") and _HEX64.match(name):
        return f"sha256:{name}"
    if name.startswith("sha256:") and _HEX64.match(name[7:].split(".")[0]):
        return "sha256:" + name[7:].split(".")[0]
    stem = name.split(".", 1)[0]
    if "/" not in path.strip("/") and _HEX64.match(stem):
        return f"sha256:{stem}"
    return None


def _unreferenced(
    members: tuple[Member, ...], referenced: set[str], archive_format: ArchiveFormat
) -> tuple[str, ...]:
    if archive_format not in (
        ArchiveFormat.OCI_TAR,
        ArchiveFormat.OCI_DIR,
        ArchiveFormat.DOCKER_V25,
        ArchiveFormat.CONTAINERD,
    ):
        return ()
    blobs = sorted(
        m.path for m in members if m.path.startswith("blobs/") and m.kind is EntryKind.FILE
    )
    return tuple(p for p in blobs if p not in referenced)


def _producers(
    archive_format: ArchiveFormat, members: tuple[Member, ...], resolver: _Resolver
) -> tuple[str, ...]:
    """Hints about which tool wrote the archive, from facts the bytes show."""
    hints: list[str] = []
    paths = [m.path for m in members]
    if archive_format is ArchiveFormat.DOCKER_PRE110:
        hints.append("docker save (before 1.10)")
    elif archive_format is ArchiveFormat.DOCKER_V25:
        hints.append("docker save (25+)")
    elif archive_format is ArchiveFormat.CONTAINERD:
        hints.append("containerd export / docker save (containerd store)")
    elif archive_format is ArchiveFormat.DOCKER_ARCHIVE:
        if any(p.startswith("sha256:") for p in paths):
            hints.append("ggcr tarball (kaniko, crane, ko)")
        elif (
            any(m.kind is EntryKind.SYMLINK and m.path.endswith("/layer.tar") for m in members)
            and all(m.mtime_ns == 0 for m in members)
            and "repositories" in paths
        ):
            hints.append("containers/image docker-archive (podman, skopeo)")
        else:
            hints.append("docker save (1.10-24)")
    for image in resolver.images:
        layers = image.layers
        if any(
            a == "buildkit/rewritten-timestamp" for layer in layers for a, _ in layer.annotations
        ):
            hints.append("BuildKit (rewrite-timestamp)")
        for entry in image.config.history:
            text = entry.created_by or ""
            if "buildkit.dockerfile" in (entry.comment or "") or "# buildkit" in text:
                hints.append("BuildKit")
            if entry.author == "kaniko" or (entry.comment or "").startswith("kaniko"):
                hints.append("kaniko")
            if "buildah" in (entry.comment or "") or "Buildah" in (entry.comment or ""):
                hints.append("buildah")
            if "umoci" in (entry.comment or "") or "umoci" in (entry.created_by or ""):
                hints.append("umoci")
        if "docker_version" in image.config.extra_keys:
            hints.append("docker build")
    if archive_format in (ArchiveFormat.OCI_TAR, ArchiveFormat.CONTAINERD):
        dirs_first = paths[:2] == ["blobs", "blobs/sha256"]
        sorted_names = paths == sorted(paths)
        if dirs_first and sorted_names and all(m.mtime_ns == 0 for m in members):
            hints.append("containerd/BuildKit archive writer")
        elif any(m.uid != 0 for m in members):
            hints.append("re-tarred layout (not the original exporter)")
    return tuple(dict.fromkeys(hints))


def _strings(value: Any) -> tuple[str, ...]:
    """The strings of a JSON array; nothing from any other value (untrusted documents)."""
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
