"""Builders of the hostile inputs the case tables name: the intact originals, images with one
part replaced, index graphs no honest producer writes, and layers with hostile headers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from ..tar.tarbuild import base256, end, header, member, old_gnu_sparse, pax_header
from .images import (
    MT_INDEX,
    MT_MANIFEST,
    Image,
    OuterMember,
    blob_name,
    descriptor,
    docker_members,
    index_of,
    oci_image,
    outer_tar,
    sample_layer,
    sha256,
)


@cache
def base() -> Image:
    return oci_image([sample_layer(0), sample_layer(1), sample_layer(2)])


@cache
def docker_base() -> list[OuterMember]:
    return docker_members([sample_layer(0), sample_layer(1)])


def hex_of(digest: str) -> str:
    return digest.split(":", 1)[1]


def write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def lazily(build: Callable[[], Image]) -> Callable[[Path], Path]:
    """Build the image only when the case runs (bombs take a moment), then write it."""
    return lambda directory: write(directory, "image.tar", build().archive())


def with_index(members: list[OuterMember], index: bytes) -> list[OuterMember]:
    return replaced(members, b"index.json", OuterMember(b"index.json", index))


def archive_with(members: list[OuterMember], *, trailer: bool = True) -> Callable[[Path], Path]:
    return lambda directory: write(directory, "image.tar", outer_tar(members, trailer=trailer))


def image_with_layer(layer: bytes, *, position: int = 1, kind: str = "gzip") -> Image:
    """The base image with one layer replaced, every digest recomputed: a valid image whose
    layer is hostile inside."""
    layers = [sample_layer(0), sample_layer(1), sample_layer(2)]
    layers[position] = layer
    return oci_image(layers, compression=kind)


def image_with_blob(image: Image, position: int, data: bytes) -> Image:
    """An image whose layer blob `position` is `data`, with the manifest (and so the index) made
    to match: the stored blob is consistent with its name, only its content is hostile."""
    old = image.layers[position]
    new = sha256(data)
    blobs = {d: b for d, b in image.blobs.items() if d not in (old, image.manifest)}
    blobs[new] = data
    document = json.loads(image.blobs[image.manifest])
    document["layers"][position].update(digest=new, size=len(data))
    manifest = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    blobs[sha256(manifest)] = manifest
    index = index_of([descriptor(MT_MANIFEST, manifest)])
    layers = tuple(new if d == old else d for d in image.layers)
    return Image(layers, image.config, sha256(manifest), blobs, index)


def nested_indexes(depth: int) -> list[OuterMember]:
    """index.json -> index -> ... -> index (depth of them) -> the base manifest."""
    image = base()
    target = descriptor(MT_MANIFEST, image.blobs[image.manifest])
    extra: list[OuterMember] = []
    for _ in range(depth):
        nested = index_of([target])
        extra.append(OuterMember(blob_name(sha256(nested)), nested))
        target = descriptor(MT_INDEX, nested)
    members = [m for m in image.members() if m.name != b"index.json"]
    return [*members[:2], *extra, *members[2:-1], OuterMember(b"index.json", index_of([target])),
            members[-1]]


def self_referencing_index() -> list[OuterMember]:
    """A blob stored as D whose content is an index listing D: content addressing forbids such
    a cycle, so only a blob that lies about its digest can make one."""
    image = base()
    fake = "sha256:" + "ab" * 32
    cyclic = index_of([{"mediaType": MT_INDEX, "digest": fake, "size": 0}])
    members = [m for m in image.members() if m.name != b"index.json"]
    top = index_of([{"mediaType": MT_INDEX, "digest": fake, "size": len(cyclic)}])
    return [*members[:-1], OuterMember(blob_name(fake), cyclic), OuterMember(b"index.json", top),
            members[-1]]


def replaced(members: list[OuterMember], name: bytes, new: OuterMember | None) -> list[OuterMember]:
    out = []
    for item in members:
        if item.name == name:
            if new is not None:
                out.append(new)
        else:
            out.append(item)
    return out


def hostile_names_layer() -> bytes:
    """Entry names a careless extractor would follow out of its root, or choke on."""
    body = member(b"../../etc/escaped", b"x", uid=0, gid=0)
    body += member(b"/abs/olute", b"y", uid=0, gid=0)
    body += member(b"a/../../b", b"z", uid=0, gid=0)
    body += pax_header([(b"path", b"nul\x00inside")]) + member(b"placeholder", b"n")
    body += member(b"bad-\xff\xfe-utf8", b"u", uid=0, gid=0)
    return body + end()


def sparse_claim_layer(real_size: int) -> bytes:
    """One old GNU sparse member: 10 stored bytes claiming `real_size` bytes of content."""
    return old_gnu_sparse(b"sparse", [(real_size - 10, 10)], real_size, b"x" * 10) + end()


def long_header_size_layer() -> bytes:
    """A member whose size field promises 10 GB that the layer does not hold."""
    return header(b"big", size=10_000_000_000) + b"tail" * 128 + end()


def negative_size_layer() -> bytes:
    return header(b"neg", size=base256(-5, 12)) + end()


def overflowing_numbers_layer() -> bytes:
    """An mtime in GNU base-256 (2**80 seconds) that no 64-bit nanosecond count can hold."""
    return header(b"big-mtime", mtime=base256(1 << 80, 12)) + end()


def overflowing_size_layer() -> bytes:
    """A size in GNU base-256 (2**80 bytes), far past any limit."""
    return header(b"big-size", size=base256(1 << 80, 12)) + end()


def pax_length_layer() -> bytes:
    """A PAX record announcing far more bytes than its header holds."""
    return pax_header(b"99999 path=short\n") + member(b"m", b"data") + end()


def five_layers(*, variant: int) -> list[bytes]:
    return [sample_layer(i, variant=variant if i in (2, 3) else 0) for i in range(5)]


def corrupt(data: bytes) -> bytes:
    """Flip one byte in the middle of a compressed stream."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1 :]


def flip_outer_header(archive: bytes) -> bytes:
    """One bit of the third member's header (a blob's), in its mode field."""
    position = 2 * 512 + 101
    return archive[:position] + bytes([archive[position] ^ 0x04]) + archive[position + 1 :]
