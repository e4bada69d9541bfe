"""Small OCI layout tarballs built with tarfile, gzip and json, for lint and audit tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class File:
    name: str
    data: bytes = b""
    mtime: int = 1_700_000_000
    kind: bytes = tarfile.REGTYPE


def layer_tar(files: list[File]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for item in files:
            info = tarfile.TarInfo(item.name)
            info.type = item.kind
            info.mtime = item.mtime
            info.mode = 0o755 if item.kind == tarfile.DIRTYPE else 0o644
            info.size = len(item.data) if item.kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(item.data) if info.size else None)
    return out.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Image:
    layers: list[list[File]]
    env: list[str] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)
    created: str = "2023-11-14T22:13:20Z"
    gzip_mtime: int = 0


def write_oci(path: Path, image: Image) -> Path:
    """An OCI layout tarball holding `image` with gzip layers."""
    blobs: dict[str, bytes] = {}
    layers, diff_ids = [], []
    for files in image.layers:
        raw = layer_tar(files)
        blob = gzip.compress(raw, mtime=image.gzip_mtime)
        blobs[_digest(blob)] = blob
        diff_ids.append(_digest(raw))
        layers.append(
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": _digest(blob),
                "size": len(blob),
            }
        )
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": image.created,
            "config": {"Env": image.env},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": image.created, "created_by": "test"} for _ in layers],
        }
    ).encode()
    blobs[_digest(config)] = config
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": layers,
            "annotations": image.annotations,
        }
    ).encode()
    blobs[_digest(manifest)] = manifest
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": _digest(manifest),
                    "size": len(manifest),
                }
            ],
        }
    ).encode()
    with tarfile.open(path, "w") as tar:
        members = {f"blobs/sha256/{d.split(':')[1]}": b for d, b in blobs.items()}
        members["index.json"] = index
        members["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path
