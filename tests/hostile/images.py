"""Small, valid image archives written byte by byte, for the hostile cases to damage.

Only what the cases need: layer tars of a few files, an OCI layout tarball of N layers (gzip,
zstd or uncompressed) and a docker-archive. Everything goes through the tar builders of the tar
tests, never `tarfile`, so any header can be made hostile; the same arguments always give the
same bytes.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import zstandard

from ..tar.tarbuild import end, member

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
REF_NAME = "hostile:1"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def gzip(data: bytes) -> bytes:
    """One gzip member (zlib's framing: MTIME 0, so the bytes are stable)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=3, write_checksum=True).compress(data)


def compress(data: bytes, kind: str) -> bytes:
    return {"none": lambda d: d, "gzip": gzip, "zstd": zstd}[kind](data)


def layer_tar(files: Sequence[tuple[bytes, bytes]], *, trailer: bool = True) -> bytes:
    """A layer of regular files (name, content), owned by root, mtime fixed."""
    body = b"".join(
        member(name, data, mode=0o644, uid=0, gid=0, uname=b"root", gname=b"root", mtime=1)
        for name, data in files
    )
    return body + (end() if trailer else b"")


def sample_layer(index: int, *, variant: int = 0) -> bytes:
    """Layer `index` of a small app: a few files whose content depends on both numbers."""
    return layer_tar(
        [
            (b"layer%d/readme.txt" % index, b"layer %d variant %d\n" % (index, variant) * 20),
            (b"layer%d/data.bin" % index, bytes((index * 7 + i) % 256 for i in range(3000))),
            (b"etc/layer%d.conf" % index, b"key=%d\n" % variant),
        ]
    )


@dataclass(frozen=True, slots=True)
class OuterMember:
    """One member of an outer archive; `size` overrides the header's size field."""

    name: bytes
    data: bytes = b""
    typeflag: bytes = b"0"
    linkname: bytes = b""
    size: int | None = None


def outer_tar(members: Sequence[OuterMember], *, trailer: bool = True) -> bytes:
    """The outer archive: members in the given order, root-owned, mtime 0."""
    parts = []
    for item in members:
        fields: dict[str, object] = {
            "typeflag": item.typeflag,
            "linkname": item.linkname,
            "uid": 0,
            "gid": 0,
            "mtime": 0,
        }
        if item.size is not None:
            fields["size"] = item.size
        parts.append(member(item.name, item.data, **fields))
    return b"".join(parts) + (end() if trailer else b"")


def blob_name(digest: str) -> bytes:
    return b"blobs/sha256/" + digest.split(":", 1)[1].encode()


@dataclass(frozen=True, slots=True)
class Image:
    """An image's documents and blobs, ready to be written (and damaged) as an archive."""

    layers: tuple[str, ...]  # layer blob digests, base first
    config: str
    manifest: str
    blobs: dict[str, bytes] = field(default_factory=dict)  # digest -> bytes
    index: bytes = b""  # index.json

    def members(self) -> list[OuterMember]:
        """The OCI layout tarball's members: directories, blobs, index.json, oci-layout."""
        items = [OuterMember(b"blobs/", typeflag=b"5")]
        items.append(OuterMember(b"blobs/sha256/", typeflag=b"5"))
        items += [OuterMember(blob_name(d), self.blobs[d]) for d in sorted(self.blobs)]
        items += [
            OuterMember(b"index.json", self.index),
            OuterMember(b"oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
        ]
        return items

    def archive(self) -> bytes:
        return outer_tar(self.members())

    def with_blob(self, digest: str, data: bytes) -> Image:
        """The same documents with the blob stored under `digest` replaced (digest kept)."""
        return replace(self, blobs={**self.blobs, digest: data})


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def descriptor(media_type: str, data: bytes, **extra: object) -> dict[str, object]:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data), **extra}


def index_of(manifests: Sequence[dict[str, object]]) -> bytes:
    return _json({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": list(manifests)})


def oci_image(layers: Sequence[bytes], *, compression: str = "gzip") -> Image:
    """An OCI image of the given layer tars, with a config, a manifest and index.json."""
    return oci_image_of_blobs(
        [(compress(tar, compression), sha256(tar), MT_LAYER[compression]) for tar in layers]
    )


def oci_image_of_blobs(layers: Sequence[tuple[bytes, str, str]]) -> Image:
    """An OCI image of ready layer blobs: (stored bytes, diff_id, media type) each."""
    blobs: dict[str, bytes] = {}
    descriptors = []
    for data, _, media_type in layers:
        blobs[sha256(data)] = data
        descriptors.append(descriptor(media_type, data))
    config = _json(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id, _ in layers]},
            "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
        }
    )
    blobs[sha256(config)] = config
    manifest = _json(
        {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": descriptor(MT_CONFIG, config),
            "layers": descriptors,
        }
    )
    blobs[sha256(manifest)] = manifest
    index = index_of(
        [
            descriptor(
                MT_MANIFEST,
                manifest,
                annotations={"org.opencontainers.image.ref.name": REF_NAME},
            )
        ]
    )
    return Image(
        tuple(str(d["digest"]) for d in descriptors), sha256(config), sha256(manifest), blobs, index
    )


def docker_members(layers: Sequence[bytes]) -> list[OuterMember]:
    """A `docker save` (1.10-24) archive: <id>/layer.tar files, <config>.json, manifest.json."""
    config = _json(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [sha256(tar) for tar in layers]},
        }
    )
    config_name = sha256(config).split(":")[1].encode() + b".json"
    items = [OuterMember(config_name, config)]
    paths = []
    for tar in layers:
        directory = sha256(tar).split(":")[1].encode()
        items += [
            OuterMember(directory + b"/", typeflag=b"5"),
            OuterMember(directory + b"/layer.tar", tar),
        ]
        paths.append((directory + b"/layer.tar").decode())
    manifest = [{"Config": config_name.decode(), "RepoTags": [REF_NAME], "Layers": paths}]
    items.append(OuterMember(b"manifest.json", _json(manifest)))
    return items
