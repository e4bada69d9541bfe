"""An independent reading of image archives with the standard library (tarfile, hashlib, json,
gzip) plus zstandard and blake3: what the audit catalog must say about blobs, layers and files.

Deliberately naive: whole members in memory, no ocidiff code. Handles OCI layouts (tar or
directory, nested indexes) and docker save archives (manifest.json), which is what the tests
feed it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path

import blake3
import zstandard

_KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.LNKTYPE: "hardlink",
    tarfile.SYMTYPE: "symlink",
    tarfile.DIRTYPE: "dir",
    tarfile.CHRTYPE: "chardev",
    tarfile.BLKTYPE: "blockdev",
    tarfile.FIFOTYPE: "fifo",
}


@dataclass(frozen=True)
class Layer:
    digest: str
    size: int
    diff_id: str
    files: tuple[tuple[str, str, int, str | None], ...]  # path, kind, size, blake3


@dataclass(frozen=True)
class Image:
    config_digest: str
    layers: tuple[Layer, ...]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _members(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {
            p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()
        }
    found: dict[str, bytes] = {}
    links: dict[str, str] = {}
    with tarfile.open(path, "r:*") as tar:
        for info in tar:
            name = _norm(info.name)
            if info.isfile():
                handle = tar.extractfile(info)
                assert handle is not None
                found[name] = handle.read()
            elif info.issym():
                links[name] = _norm(posixpath.join(posixpath.dirname(name), info.linkname))
            elif info.islnk():
                links[name] = _norm(info.linkname)
    for name, target in links.items():
        if target in found:
            found[name] = found[target]
    return found


def _norm(name: str) -> str:
    return "/".join(p for p in posixpath.normpath(name).split("/") if p not in ("", "."))


def _uncompressed(blob: bytes) -> bytes:
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(blob)
    return blob


def _files(tar_bytes: bytes) -> tuple[tuple[str, str, int, str | None], ...]:
    rows: list[tuple[str, str, int, str | None]] = []
    by_path: dict[str, str | None] = {}
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
        for info in tar:
            path = _norm(info.name) or "."
            kind = _KINDS.get(info.type, "other")
            digest: str | None = None
            if kind == "file":
                handle = tar.extractfile(info)
                assert handle is not None
                digest = blake3.blake3(handle.read()).hexdigest()
            elif kind == "hardlink":
                digest = by_path.get(_norm(info.linkname) or ".")
            by_path[path] = digest
            rows.append((path, kind, info.size, digest))
    return tuple(rows)


def layer_of(blob: bytes) -> Layer:
    raw = _uncompressed(blob)
    return Layer(sha256(blob), len(blob), sha256(raw), _files(raw))


def read_archive(path: Path) -> tuple[list[Image], dict[str, int]]:
    """The runnable images and every blob-like member (sha256 -> size)."""
    members = _members(path)
    blobs = {sha256(data): len(data) for name, data in members.items()}
    images: list[Image] = []
    if "manifest.json" in members and not _is_oci_only(members):
        for entry in json.loads(members["manifest.json"]):
            config = members[_norm(entry["Config"])]
            layers = tuple(layer_of(members[_norm(name)]) for name in entry["Layers"])
            images.append(Image(sha256(config), layers))
        return images, blobs
    index = json.loads(members["index.json"])
    for manifest in _manifests(index, members):
        config = manifest["config"]["digest"]
        layers = tuple(layer_of(_blob(members, d["digest"])) for d in manifest["layers"])
        images.append(Image(config, layers))
    return images, blobs


def _is_oci_only(members: dict[str, bytes]) -> bool:
    return "index.json" in members and "oci-layout" in members and "manifest.json" not in members


def _blob(members: dict[str, bytes], digest: str) -> bytes:
    algorithm, _, encoded = digest.partition(":")
    return members[f"blobs/{algorithm}/{encoded}"]


def _manifests(index: dict, members: dict[str, bytes]) -> list[dict]:
    found = []
    for descriptor in index.get("manifests", []):
        annotations = descriptor.get("annotations") or {}
        if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
            continue
        document = json.loads(_blob(members, descriptor["digest"]))
        if "manifests" in document:
            found.extend(_manifests(document, members))
        elif "layers" in document:
            found.append(document)
    return found
