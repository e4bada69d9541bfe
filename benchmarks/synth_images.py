"""Synthetic BuildKit-like OCI layout tarballs for the benchmark suite, cached in a work directory.

Writes each layer tar straight to disk (Go-style PAX headers from scripts/fixturelib.py), then its
gzip (Go framing, level 6) and zstd (level 3, one frame with size and checksum) forms, then the
image tarballs with containerd's member order. Nothing larger than one file is held in memory.
The set for a size is reused while GENERATOR_VERSION and the compressor versions are unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import struct
import sys
import tarfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import synth_content as content
import zstandard
from image_set import BlobFacts, ImageFile, ImageSet, read_set, write_set

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import fixturelib as fx  # from scripts/, put on the path just above

GENERATOR_VERSION = "1"
_PIECE = 1 << 20
_GO_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # Go compress/gzip defaults


class _HashingWriter:
    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.handle.write(data)


def _member_entry(item: content.Item, data: bytes, ordinal: int, spec: content.LayerSpec,
                  variant: content.Variant) -> bytes:
    nanos = 0 if spec.whole_seconds else (ordinal * 7919 + variant.seed * 104_729) % 1_000_000_000
    mtime = fx.Timestamp(variant.epoch - 86_400 + ordinal % 3_600, nanos)
    if item.kind == "dir":
        entry = fx.dir_entry(item.path, mtime=mtime)
    elif item.kind in ("text", "binary"):
        mode = 0o755 if item.kind == "binary" else 0o644
        entry = fx.file_entry(item.path, data, mode=mode, mtime=mtime)
    elif item.kind == "symlink":
        entry = fx.symlink_entry(item.path, item.link, mtime=mtime)
    elif item.kind == "hardlink":
        entry = fx.hardlink_entry(item.path, item.link, mtime=mtime)
    else:
        folder, _, base = item.path.rpartition("/")
        entry = fx.whiteout_entry(f"{folder}/{base.removeprefix('.wh.')}")
    encoded: bytes = fx.encode_entry(entry, format=fx.TarFormat.PAX)
    return encoded


def write_layer_tar(path: Path, index: int, size: int, variant: content.Variant) -> tuple[str, int]:
    """The layer tar as BuildKit's differ writes it; returns (diff_id, bytes)."""
    spec = content.LAYERS[index]
    with open(path, "wb") as handle:
        out = _HashingWriter(handle)
        for ordinal, item, data in content.iter_members(index, size, variant):
            out.write(_member_entry(item, data, ordinal, spec, variant))
        out.write(fx.encode_end(fx.TarEnd.BLOCKS, out.size))
    return "sha256:" + out.sha.hexdigest(), out.size


def _compress_gzip(source: Path, target: Path) -> tuple[str, int]:
    deflate = zlib.compressobj(fx.GO_DEFAULT_GZIP_LEVEL, zlib.DEFLATED, -15)
    crc = length = 0
    with open(source, "rb") as src, open(target, "wb") as handle:
        out = _HashingWriter(handle)
        out.write(_GO_GZIP_HEADER)
        while piece := src.read(_PIECE):
            crc = zlib.crc32(piece, crc)
            length += len(piece)
            out.write(deflate.compress(piece))
        out.write(deflate.flush() + struct.pack("<II", crc, length & 0xFFFFFFFF))
    return "sha256:" + out.sha.hexdigest(), out.size


def _compress_zstd(source: Path, target: Path) -> tuple[str, int]:
    compressor = zstandard.ZstdCompressor(level=3, write_checksum=True, write_content_size=True)
    with open(source, "rb") as src, open(target, "wb") as handle:
        out = _HashingWriter(handle)
        sink: Any = out  # zstandard only calls write()
        compressor.copy_stream(src, sink, size=source.stat().st_size)
    return "sha256:" + out.sha.hexdigest(), out.size


_COMPRESSORS = {
    "gzip": (_compress_gzip, fx.MT_OCI_LAYER_GZIP),
    "zstd": (_compress_zstd, fx.MT_OCI_LAYER_ZSTD),
}


def _make_layer(folder: Path, index: int, size: int, variant: content.Variant,
                kinds: tuple[str, ...]) -> dict[str, tuple[BlobFacts, Path]]:
    raw = folder / f"{variant.name}{index}.tar"
    diff_id, tar_size = write_layer_tar(raw, index, size, variant)
    made: dict[str, tuple[BlobFacts, Path]] = {}
    for kind in kinds:
        compress, media_type = _COMPRESSORS[kind]
        target = folder / f"{variant.name}{index}.tar.{kind}"
        digest, blob_size = compress(raw, target)
        made[kind] = (BlobFacts(digest, blob_size, diff_id, tar_size, media_type), target)
    raw.unlink()
    return made


def _documents(layers: list[BlobFacts], variants: list[content.Variant]) -> tuple[bytes, bytes]:
    """(config, manifest) as BuildKit writes them: compact config, indented manifest."""
    created = fx.rfc3339(max(v.epoch for v in variants))
    history = [
        fx.HistoryEntry(fx.rfc3339(v.epoch), spec.created_by)
        for v, spec in zip(variants, content.LAYERS, strict=True)
    ]
    run = fx.RunConfig(env=("PATH=/usr/local/bin:/usr/bin:/bin",), cmd=("python3", "/app/main.py"),
                       working_dir="/app")
    config = fx.make_config(platform=fx.Platform("amd64"), diff_ids=[b.diff_id for b in layers],
                            history=history, created=created, run=run)
    manifest = fx.go_json({
        "schemaVersion": 2,
        "mediaType": fx.MT_OCI_MANIFEST,
        "config": {"mediaType": fx.MT_OCI_CONFIG, "digest": fx.sha256_digest(config),
                   "size": len(config)},
        "layers": [{"mediaType": b.media_type, "digest": b.digest, "size": b.size} for b in layers],
    }, indent=True)
    return config, manifest


def _tar_header(name: str, size: int, directory: bool = False) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, 0, 0o755 if directory else 0o444
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    return info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")


def write_oci_tarball(target: Path, blobs: dict[str, Path | bytes], index: bytes) -> None:
    """An OCI layout tarball in containerd's export order: sorted names, USTAR, mtime 0."""
    members: dict[str, Path | bytes | None] = {"blobs/": None, "blobs/sha256/": None}
    members |= {f"blobs/sha256/{d.split(':')[1]}": blob for d, blob in blobs.items()}
    members |= {"index.json": index, "oci-layout": fx.OCI_LAYOUT_COMPACT}
    with open(target, "wb") as out:
        for name in sorted(members):
            data = members[name]
            if data is None:
                out.write(_tar_header(name, 0, directory=True))
                continue
            size = data.stat().st_size if isinstance(data, Path) else len(data)
            out.write(_tar_header(name, size))
            if isinstance(data, Path):
                with open(data, "rb") as src:
                    shutil.copyfileobj(src, out, _PIECE)
            else:
                out.write(data)
            out.write(b"\0" * (-size % 512))
        out.write(b"\0" * 1024)


def _write_image(target: Path, layers: list[tuple[BlobFacts, Path]],
                 variants: list[content.Variant], entries: int, role: str) -> ImageFile:
    facts = [f for f, _ in layers]
    config, manifest = _documents(facts, variants)
    blobs: dict[str, Path | bytes] = {f.digest: p for f, p in layers}
    blobs[fx.sha256_digest(config)] = config
    blobs[fx.sha256_digest(manifest)] = manifest
    annotations = {"io.containerd.image.name": "docker.io/library/bench:latest",
                   "org.opencontainers.image.created": fx.rfc3339(max(v.epoch for v in variants)),
                   "org.opencontainers.image.ref.name": "latest"}
    index = fx.index_json([{"mediaType": fx.MT_OCI_MANIFEST, "digest": fx.sha256_digest(manifest),
                            "size": len(manifest), "annotations": annotations}])
    write_oci_tarball(target, blobs, index)
    return ImageFile(str(target), tuple(facts), entries, role)


def _fingerprint(size: int) -> str:
    zstd = ".".join(map(str, zstandard.ZSTD_VERSION))
    return f"v{GENERATOR_VERSION} size={size} zlib={zlib.ZLIB_RUNTIME_VERSION} zstd={zstd}"


def _layer_jobs() -> list[tuple[int, content.Variant, tuple[str, ...]]]:
    count = len(content.LAYERS)
    jobs: list[tuple[int, content.Variant, tuple[str, ...]]]
    jobs = [(i, content.BASE, ("gzip", "zstd")) for i in range(count)]
    jobs += [(i, content.REBUILD, ("gzip",)) for i in range(count)]
    jobs.append((content.CHANGED_LAYER, content.ONE_LAYER, ("gzip",)))
    # Largest layers first so that the two threads finish together; zlib and zstd release the
    # GIL while compressing, which is where most of the time goes.
    return sorted(jobs, key=lambda job: -content.LAYERS[job[0]].share)


def ensure_image_set(work: Path, size: int, label: str,
                     log: Callable[[str], None] = print) -> ImageSet:
    """The image set for `size` bytes per image, generated into work/images-<label> if needed."""
    folder = work.resolve() / f"images-{label}"  # absolute: set.json is read from anywhere
    stamp = folder / "set.json"
    cached = read_set(stamp, _fingerprint(size))
    if cached is not None:
        return cached
    shutil.rmtree(folder, ignore_errors=True)
    parts = folder / "layers"
    parts.mkdir(parents=True)
    jobs = _layer_jobs()
    log(f"generating {len(jobs)} layers for {label} in {folder} ...")
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda job: _make_layer(parts, job[0], size, *job[1:]), jobs))
    made = {(job[1].name, job[0]): result for job, result in zip(jobs, done, strict=True)}
    count, changed = len(content.LAYERS), content.CHANGED_LAYER
    entries = sum(len(content.plan_layer(i, size)) for i in range(count))
    base = [content.BASE] * count
    c_variants = [content.ONE_LAYER if i == changed else content.BASE for i in range(count)]
    c_layers = [made[("c" if i == changed else "a", i)]["gzip"] for i in range(count)]

    def image(name: str, layers: list[tuple[BlobFacts, Path]], variants: list[content.Variant],
              role: str) -> ImageFile:
        return _write_image(folder / f"{name}.tar", layers, variants, entries, role)

    result = ImageSet(
        size=size,
        label=label,
        a_gzip=image("a-gzip", [made[("a", i)]["gzip"] for i in range(count)], base,
                     "base image, gzip layers"),
        a_zstd=image("a-zstd", [made[("a", i)]["zstd"] for i in range(count)], base,
                     "base image, zstd layers"),
        b_gzip=image("b-gzip", [made[("b", i)]["gzip"] for i in range(count)],
                     [content.REBUILD] * count,
                     "rebuild differing in every layer (new mtimes, 1 file in 10 edited)"),
        c_gzip=image("c-gzip", c_layers, c_variants,
                     f"rebuild differing in layer {changed} only (1 file in 20 edited)"),
        changed_layer=changed,
        changed_blob=str(folder / "c-changed-layer.tar.gz"),
    )
    made[("c", changed)]["gzip"][1].rename(result.changed_blob)
    shutil.rmtree(parts)
    write_set(stamp, result, _fingerprint(size))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate (or find) the benchmark images.")
    parser.add_argument("--size-bytes", type=int, required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--work-dir", type=Path, required=True)
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    images = ensure_image_set(args.work_dir, args.size_bytes, args.label,
                              lambda text: print(text, file=sys.stderr, flush=True))
    print(args.work_dir / f"images-{images.label}" / "set.json")


if __name__ == "__main__":
    main()
