"""Benchmark of `ocidiff audit` over a release archive: N releases sharing a base, each evolving a
few layers. Reports bytes read vs bytes in the archive vs unique-layer bytes, wall time vs the
floor for inventorying the unique bytes once, peak RSS, and an incremental re-run with one new
release.

    .venv/bin/python benchmarks/bench_audit.py --releases 50 --base-mib 4 --layer-kib 256

Releases are OCI layout tarballs with gzip layers, written with tarfile and gzip into --work
(default: a temporary directory, removed afterwards). The audit runs as a subprocess, so its peak
RSS is its own.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _content(seed: str, size: int) -> bytes:
    """Compressible, deterministic bytes: words from a small vocabulary."""
    rng = random.Random(seed)
    words = [f"w{rng.randrange(5000):04d}".encode() for _ in range(4096)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


def _layer(seed: str, size: int, files: int = 16) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for index in range(files):
            data = _content(f"{seed}/{index}", max(1, size // files))
            info = tarfile.TarInfo(f"{seed}/file-{index:03d}.txt")
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), compresslevel=1, mtime=0)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_release(path: Path, layers: list[bytes]) -> None:
    diff_ids = ["sha256:" + _digest(gzip.decompress(blob)) for blob in layers]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + _digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + _digest(blob),
                    "size": len(blob),
                }
                for blob in layers
            ],
        }
    ).encode()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:" + _digest(manifest),
                    "size": len(manifest),
                }
            ],
        }
    ).encode()
    members = {f"blobs/sha256/{_digest(b)}": b for b in [*layers, config, manifest]}
    members["index.json"] = index
    members["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def make_releases(folder: Path, count: int, base_mib: float, layer_kib: int) -> dict[str, int]:
    """Two base layers shared by all; a dependency layer that changes every fifth release and
    an application layer that changes every release. Returns unique blob sizes by digest."""
    base_size = int(base_mib * (1 << 20)) // 2
    base = [_layer("base-0", base_size, 64), _layer("base-1", base_size, 64)]
    unique: dict[str, int] = {_digest(b): len(b) for b in base}
    deps = b""
    for number in range(1, count + 1):
        if number % 5 == 1:
            deps = _layer(f"deps-{number}", layer_kib << 10)
        app = _layer(f"app-{number}", (layer_kib << 10) // 4)
        layers = [*base, deps, app]
        unique.update({_digest(b): len(b) for b in layers})
        _write_release(folder / f"app-v{number}.tar", layers)
    return unique


def _audit(folder: Path, catalog: Path) -> dict[str, float]:
    """One audit in a child process: wall time and that child's own peak RSS."""
    command = [sys.executable, "-m", "ocidiff", "audit", str(folder), "--catalog", str(catalog)]
    command += ["--no-cache", "--quiet", "--format", "json"]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(child.stderr.read().decode() if child.stderr else "audit failed")
    db = sqlite3.connect(catalog)
    layers_read, bytes_read = db.execute(
        "SELECT layers_read, bytes_read FROM runs ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    db.close()
    return {
        "wall_s": wall,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "layers_read": layers_read,
        "bytes_read": bytes_read,
    }


def floors(folder: Path, unique: dict[str, int]) -> dict[str, float]:
    """Reading and hashing the unique blobs once, and inventorying them once on one thread."""
    sys.path.insert(0, str(REPO / "src"))
    from ocidiff.inventory import PumpOptions, pump_sequential

    found: dict[str, bytes] = {}
    for path in sorted(folder.glob("*.tar")):
        with tarfile.open(path) as tar:
            for member in tar:
                name = member.name.rpartition("/")[2]
                if name in unique and name not in found:
                    handle = tar.extractfile(member)
                    assert handle is not None
                    found[name] = handle.read()
    started = time.perf_counter()
    for data in found.values():
        hashlib.sha256(data).hexdigest()
    read_hash = time.perf_counter() - started
    started = time.perf_counter()
    for data in found.values():
        stream = io.BytesIO(data)
        pump_sequential(stream.read, PumpOptions())
    return {"sha256_s": read_hash, "inventory_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=50)
    parser.add_argument("--base-mib", type=float, default=4.0, help="total size of the base")
    parser.add_argument("--layer-kib", type=int, default=256, help="size of the deps layer")
    parser.add_argument("--work", type=Path, default=None, help="keep the files here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-audit-"))
    folder = work / "releases"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        unique = make_releases(folder, args.releases, args.base_mib, args.layer_kib)
        made = time.perf_counter() - started
        archive_bytes = sum(p.stat().st_size for p in folder.glob("*.tar"))
        catalog = work / "catalog.db"
        full = _audit(folder, catalog)
        floor = floors(folder, unique)
        half = int(args.base_mib * (1 << 20)) // 2
        new_layers = [
            _layer("deps-new", args.layer_kib << 10),
            _layer("app-new", args.layer_kib << 8),
        ]
        base = [_layer("base-0", half, 64), _layer("base-1", half, 64)]
        _write_release(folder / f"app-v{args.releases + 1}.tar", [*base, *new_layers])
        again = _audit(folder, catalog)
        report = {
            "releases": args.releases,
            "generate_s": round(made, 2),
            "archive_bytes": archive_bytes,
            "unique_layer_bytes": sum(unique.values()),
            "unique_layers": len(unique),
            "full": full,
            "floor": floor,
            "wall_vs_inventory_floor": round(full["wall_s"] / max(floor["inventory_s"], 1e-9), 2),
            "incremental": again,
        }
        print(json.dumps(report, indent=2))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
