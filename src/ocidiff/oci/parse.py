"""JSON documents -> model values, with limits and errors that name the document and JSON pointer.

Tolerant where the specs demand it (unknown fields and media types, `"manifests": null`, optional
fields set to null) and strict where a wrong value would mislead (digests, sizes, types).
Performs no IO: callers hand in the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ..digest import parse_digest
from ..errors import ImageFormatError, LimitExceededError
from .model import (
    Descriptor,
    HistoryEntry,
    ImageConfig,
    Index,
    Manifest,
    Pairs,
    Platform,
    RuntimeConfig,
)

_KNOWN_CONFIG_KEYS = frozenset(
    {
        "architecture",
        "os",
        "os.version",
        "os.features",
        "variant",
        "created",
        "author",
        "config",
        "rootfs",
        "history",
    }
)


@dataclass(frozen=True, slots=True)
class JsonLimits:
    """Bounds on the documents of an archive; each trips a `LimitExceededError` naming its
    command-line option."""

    max_bytes: int = 16 << 20  # one document (--max-json-bytes)
    max_depth: int = 64  # nesting of arrays and objects in one document (--max-json-depth)
    max_index_depth: int = 8  # image indexes inside image indexes (--max-index-depth)


def load_json(data: bytes, *, what: str, limits: JsonLimits = JsonLimits()) -> Any:
    """Decode a JSON document under size and nesting limits."""
    if len(data) > limits.max_bytes:
        raise LimitExceededError(
            f"{what} is {len(data)} bytes, over the JSON size limit of {limits.max_bytes}",
            limit="max-json-bytes",
            option="--max-json-bytes",
        )
    _check_depth(data, limits.max_depth, what)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ImageFormatError(f"{what} is not valid JSON: {exc}", pointer="") from None


def _check_depth(data: bytes, max_depth: int, what: str) -> None:
    # A cheap bracket count before decoding: string contents may contain brackets, so this can
    # only over-estimate depth; exact nesting is re-checked only when the estimate is too high.
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > max_depth:
                raise LimitExceededError(
                    f"{what} nests deeper than {max_depth} levels",
                    limit="max-json-depth",
                    option="--max-json-depth",
                )
        elif byte in (0x5D, 0x7D):
            depth -= 1


class _Reader:
    """Typed access to a JSON object that reports the JSON pointer of any bad value."""

    def __init__(self, value: Any, pointer: str, what: str) -> None:
        if not isinstance(value, dict):
            raise ImageFormatError(f"{what}: expected an object", pointer=pointer or "/")
        self.value: dict[str, Any] = value
        self.pointer = pointer
        self.what = what

    def fail(self, key: str, expected: str) -> ImageFormatError:
        return ImageFormatError(
            f"{self.what}: expected {expected}", pointer=f"{self.pointer}/{key}"
        )

    def opt_str(self, key: str) -> str | None:
        value = self.value.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self.fail(key, "a string")

    def req_str(self, key: str) -> str:
        value = self.opt_str(key)
        if value is None:
            raise self.fail(key, "a string (required)")
        return value

    def opt_int(self, key: str) -> int | None:
        value = self.value.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "an integer")
        return value

    def opt_bool(self, key: str) -> bool:
        value = self.value.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(key, "a boolean")
        return value

    def opt_list(self, key: str) -> list[Any]:
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "an array")
        return value

    def opt_strs(self, key: str) -> tuple[str, ...] | None:
        value = self.value.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "an array of strings")
        return tuple(value)

    def opt_map(self, key: str) -> Pairs:
        value = self.value.get(key)
        if value is None:
            return ()
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self.fail(key, "an object of strings")
        return tuple(sorted(value.items()))

    def opt_keys(self, key: str) -> tuple[str, ...]:
        value = self.value.get(key)
        if value is None:
            return ()
        if not isinstance(value, dict):
            raise self.fail(key, "an object")
        return tuple(sorted(value))

    def child(self, key: str) -> _Reader | None:
        value = self.value.get(key)
        return None if value is None else _Reader(value, f"{self.pointer}/{key}", self.what)


def parse_platform(reader: _Reader | None) -> Platform | None:
    if reader is None:
        return None
    return Platform(
        os=reader.opt_str("os") or "",
        architecture=reader.opt_str("architecture") or "",
        variant=reader.opt_str("variant") or None,
        os_version=reader.opt_str("os.version"),
        os_features=reader.opt_strs("os.features") or (),
    )


def parse_descriptor(reader: _Reader) -> Descriptor:
    size = reader.opt_int("size")
    if size is None or size < 0:
        raise reader.fail("size", "a non-negative integer")
    try:
        digest = parse_digest(reader.value.get("digest"))
    except ImageFormatError as exc:
        raise ImageFormatError(
            f"{reader.what}: {exc.message}", pointer=f"{reader.pointer}/digest"
        ) from None
    return Descriptor(
        media_type=reader.opt_str("mediaType") or "",
        digest=digest,
        size=size,
        annotations=reader.opt_map("annotations"),
        platform=parse_platform(reader.child("platform")),
        artifact_type=reader.opt_str("artifactType"),
        urls=reader.opt_strs("urls") or (),
    )


def _descriptors(reader: _Reader, key: str) -> tuple[Descriptor, ...]:
    items = reader.opt_list(key)  # "manifests": null is real Docker 25.0.0 output
    return tuple(
        parse_descriptor(_Reader(item, f"{reader.pointer}/{key}/{i}", reader.what))
        for i, item in enumerate(items)
    )


def parse_index(document: Any, *, what: str) -> Index:
    reader = _Reader(document, "", what)
    subject = reader.child("subject")
    return Index(
        media_type=reader.opt_str("mediaType"),
        manifests=_descriptors(reader, "manifests"),
        annotations=reader.opt_map("annotations"),
        artifact_type=reader.opt_str("artifactType"),
        subject=parse_descriptor(subject) if subject else None,
    )


def parse_manifest(document: Any, *, what: str) -> Manifest:
    reader = _Reader(document, "", what)
    config = reader.child("config")
    if config is None:
        raise reader.fail("config", "a descriptor (required)")
    subject = reader.child("subject")
    return Manifest(
        media_type=reader.opt_str("mediaType"),
        config=parse_descriptor(config),
        layers=_descriptors(reader, "layers"),
        annotations=reader.opt_map("annotations"),
        artifact_type=reader.opt_str("artifactType"),
        subject=parse_descriptor(subject) if subject else None,
    )


def document_kind(document: Any) -> str:
    """'index', 'manifest' or 'other', from the document's own shape (media type first)."""
    if not isinstance(document, dict):
        return "other"
    media_type = document.get("mediaType")
    if media_type in (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ):
        return "index"
    if media_type in (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ):
        return "manifest"
    if "manifests" in document:
        return "index"
    if "config" in document and "layers" in document:
        return "manifest"
    return "other"


def parse_config(document: Any, *, what: str) -> ImageConfig:
    reader = _Reader(document, "", what)
    runtime = reader.child("config")
    rootfs = reader.child("rootfs")
    diff_ids: tuple[str, ...] = ()
    if rootfs is not None:
        diff_ids = tuple(
            _digest_at(value, f"/rootfs/diff_ids/{i}", what)
            for i, value in enumerate(rootfs.opt_list("diff_ids"))
        )
    history = tuple(
        _history(_Reader(item, f"/history/{i}", what))
        for i, item in enumerate(reader.opt_list("history"))
    )
    return ImageConfig(
        architecture=reader.opt_str("architecture") or "",
        os=reader.opt_str("os") or "",
        variant=reader.opt_str("variant"),
        created=reader.opt_str("created"),
        author=reader.opt_str("author"),
        runtime=_runtime(runtime) if runtime else RuntimeConfig(),
        diff_ids=diff_ids,
        history=history,
        extra_keys=tuple(sorted(k for k in reader.value if k not in _KNOWN_CONFIG_KEYS)),
    )


def _digest_at(value: Any, pointer: str, what: str) -> str:
    try:
        return parse_digest(value, what="diff_id")
    except ImageFormatError as exc:
        raise ImageFormatError(f"{what}: {exc.message}", pointer=pointer) from None


def _history(reader: _Reader) -> HistoryEntry:
    return HistoryEntry(
        created=reader.opt_str("created"),
        created_by=reader.opt_str("created_by"),
        author=reader.opt_str("author"),
        comment=reader.opt_str("comment"),
        empty_layer=reader.opt_bool("empty_layer"),
    )


def _runtime(reader: _Reader) -> RuntimeConfig:
    healthcheck = reader.value.get("Healthcheck")
    return RuntimeConfig(
        user=reader.opt_str("User") or None,
        env=reader.opt_strs("Env") or (),
        entrypoint=reader.opt_strs("Entrypoint"),
        cmd=reader.opt_strs("Cmd"),
        working_dir=reader.opt_str("WorkingDir") or None,
        labels=reader.opt_map("Labels"),
        exposed_ports=reader.opt_keys("ExposedPorts"),
        volumes=reader.opt_keys("Volumes"),
        stop_signal=reader.opt_str("StopSignal"),
        healthcheck=(
            orjson.dumps(healthcheck, option=orjson.OPT_SORT_KEYS).decode()
            if healthcheck is not None
            else None
        ),
        shell=reader.opt_strs("Shell"),
        on_build=reader.opt_strs("OnBuild") or (),
    )
