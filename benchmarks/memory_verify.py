"""Peak memory of `ocidiff verify` and `ocidiff ls` on an image with one large layer.

Generates (once, under benchmarks/work/) an OCI layout tarball whose single layer is an
uncompressed tar of SIZE bytes (default 2 GiB) made of 8 MiB files, then runs the commands as
child processes and reports their peak RSS from the kernel's accounting (getrusage).

    python benchmarks/memory_verify.py [--size-mib 2048]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import time
from pathlib import Path

WORK = Path(__file__).resolve().parent / "work"
FILE_SIZE = 8 << 20


def _layer(path: Path, size: int) -> str:
    """Write the layer tar and return its sha256 (it is stored uncompressed: digest == diff_id)."""
    block = hashlib.sha256(b"seed").digest() * (FILE_SIZE // 32)
    sha = hashlib.sha256()

    class Tee(io.RawIOBase):
        def __init__(self, handle: io.BufferedWriter) -> None:
            self.handle = handle

        def writable(self) -> bool:
            return True

        def write(self, data: bytes) -> int:  # type: ignore[override]
            sha.update(data)
            return self.handle.write(data)

    with open(path, "wb") as raw, tarfile.open(fileobj=Tee(raw), mode="w|",
                                               format=tarfile.USTAR_FORMAT) as tar:
        for index in range(size // FILE_SIZE):
            info = tarfile.TarInfo(f"data/file{index:05d}.bin")
            info.size = FILE_SIZE
            tar.addfile(info, io.BytesIO(block[:-8] + index.to_bytes(8, "big")))
    return sha.hexdigest()


def build(size: int) -> Path:
    target = WORK / f"big-{size >> 20}m.tar"
    if target.exists():
        return target
    WORK.mkdir(parents=True, exist_ok=True)
    layer = WORK / "layer.tmp"
    digest = _layer(layer, size)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest}"]}}).encode()
    config_digest = hashlib.sha256(config).hexdigest()
    manifest = json.dumps({"schemaVersion": 2,
                           "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": f"sha256:{config_digest}", "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                       "digest": f"sha256:{digest}",
                                       "size": layer.stat().st_size}]}).encode()
    manifest_digest = hashlib.sha256(manifest).hexdigest()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": f"sha256:{manifest_digest}", "size": len(manifest)}]}).encode()
    with tarfile.open(target, "w", format=tarfile.USTAR_FORMAT) as tar:
        tar.add(layer, f"blobs/sha256/{digest}")
        for name, data in ((f"blobs/sha256/{config_digest}", config),
                           (f"blobs/sha256/{manifest_digest}", manifest), ("index.json", index),
                           ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    layer.unlink()
    return target


def measure(args: list[str]) -> tuple[float, float, int]:
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run(args, stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    del before
    return wall, peak_kib / 1024, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=2048)
    options = parser.parse_args()
    image = build(options.size_mib << 20)
    size = image.stat().st_size
    for command in (["verify"], ["ls", "--format", "jsonl"]):
        wall, peak, code = measure([sys.executable, "-m", "ocidiff", *command, "-q", str(image)])
        print(f"ocidiff {' '.join(command)}: exit {code}, {wall:.2f} s, "
              f"{size / wall / 1e6:.0f} MB/s, peak RSS so far {peak:.0f} MiB")
    os.sync()


if __name__ == "__main__":
    main()
