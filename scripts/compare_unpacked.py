#!/usr/bin/env python3
"""Check ocidiff's merged view against a root filesystem unpacked by an independent tool.

For each image: `skopeo copy` it into an OCI layout, `umoci unpack` that as root, then compare
every path of `ocidiff ls --merged --format jsonl` with the unpacked tree: type, permission bits,
owner, size and blake3 of regular files, symlink targets, device numbers, file mtimes, and for
hard links that the two paths share an inode. Exit 1 on any difference, 2 when a tool failed.

Needs root and `apt-get install -y skopeo umoci`. This is a development check, not a test: the
tools unpack to disk, which ocidiff itself never does.

Usage: sudo python3 scripts/compare_unpacked.py IMAGE... [--platform linux/amd64]
Example: python3 scripts/compare_unpacked.py fixtures/real/*.tar ../shared/fixtures-real/*/*.tar
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import blake3

_TRANSPORTS = {
    "oci-layout-tar": "oci-archive",
    "oci-layout-dir": "oci",
}
_KINDS = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "dir",
    stat.S_IFLNK: "symlink",
    stat.S_IFCHR: "chardev",
    stat.S_IFBLK: "blockdev",
    stat.S_IFIFO: "fifo",
}
POLICY = '{"default":[{"type":"insecureAcceptAnything"}]}'


def _ocidiff(*args: str) -> bytes:
    return subprocess.run(
        [sys.executable, "-m", "ocidiff", *args], capture_output=True, check=True
    ).stdout


def _platform(archive: dict[str, object], wanted: str | None) -> str:
    """The platform asked for, else the image's only one, else linux/amd64."""
    found = [
        f"{image['platform']['os']}/{image['platform']['architecture']}"
        for image in archive["images"]  # type: ignore[attr-defined]
    ]
    if wanted:
        return wanted
    return found[0] if len(set(found)) == 1 else "linux/amd64"


def _unpack(image: str, work: Path, platform: str, transport: str) -> Path:
    (work / "policy.json").write_text(POLICY)
    os_name, arch = platform.split("/")[:2]
    # Recompressed to gzip on the way: umoci 0.4.7 unpacks no zstd layers.
    subprocess.run(
        ["skopeo", "copy", "-q", "--policy", str(work / "policy.json"), "--override-os", os_name,
         "--override-arch", arch, "--dest-compress", "--dest-compress-format", "gzip",
         f"{transport}:{image}", f"oci:{work / 'layout'}:image"],
        check=True, capture_output=True,
    )
    bundle = work / "bundle"
    subprocess.run(
        ["umoci", "unpack", "--image", f"{work / 'layout'}:image", str(bundle)],
        check=True, capture_output=True,
    )
    return bundle / "rootfs"


def _content(path: str) -> str:
    digest = blake3.blake3()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def compare(image: str, rootfs: Path, platform: str) -> tuple[int, list[str]]:
    listing = _ocidiff("ls", image, "--merged", "--format", "jsonl", "--no-cache",
                       "--platform", platform)
    ours = {r["path"]: r for r in map(json.loads, listing.splitlines())}
    theirs: dict[str, str] = {".": str(rootfs)}  # the root, when a layer lists it
    for top, dirs, files in os.walk(rootfs):
        for name in dirs + files:
            full = os.path.join(top, name)
            theirs[os.path.relpath(full, rootfs)] = full
    problems: list[str] = []
    # Unpackers create the parent directories a layer does not list, and they stay when their
    # members are deleted; the merged view lists members only.
    layers = _ocidiff("ls", image, "--format", "jsonl", "--no-cache", "--platform", platform)
    listed_dirs = {r["path"] for r in map(json.loads, layers.splitlines()) if r["type"] == "dir"}
    for path in sorted(set(ours) | set(theirs)):
        implied = os.path.isdir(theirs.get(path, "")) and path not in listed_dirs
        if path not in ours and (path == "." or implied):
            continue
        if path not in theirs:
            problems.append(f"{path}: only in ocidiff's view ({ours[path]['type']})")
            continue
        if path not in ours:
            problems.append(f"{path}: only in the unpacked tree")
            continue
        problems.extend(_differences(ours[path], theirs[path], rootfs))
    return len(ours), problems


def _differences(record: dict[str, object], full: str, rootfs: Path) -> list[str]:
    path, found = record["path"], os.lstat(full)
    kind = _KINDS.get(stat.S_IFMT(found.st_mode), "other")
    if record["type"] == "hardlink":
        target = rootfs / str(record["linkname"]).lstrip("/")
        if not os.path.lexists(target):
            return [f"{path}: a hard link to {record['linkname']}, which is not there"]
        shared = os.lstat(target)
        if (shared.st_ino, shared.st_dev) != (found.st_ino, found.st_dev):
            return [f"{path}: a hard link to {record['linkname']}, but not the same inode"]
        return []
    if kind != record["type"]:
        return [f"{path}: {record['type']} here, {kind} unpacked"]
    problems = []
    mode = int(str(record["mode"]), 8) & 0o7777
    if kind != "symlink" and mode != stat.S_IMODE(found.st_mode):
        problems.append(f"{path}: mode {mode:04o} here, {stat.S_IMODE(found.st_mode):04o} unpacked")
    if (record["uid"], record["gid"]) != (found.st_uid, found.st_gid):
        problems.append(f"{path}: owner {record['uid']}:{record['gid']} here, "
                        f"{found.st_uid}:{found.st_gid} unpacked")
    if kind == "file":
        if record["size"] != found.st_size:
            problems.append(f"{path}: {record['size']} bytes here, {found.st_size} unpacked")
        elif record["blake3"] != _content(full):
            problems.append(f"{path}: content differs")
        if record["mtime_ns"] // 1000 != found.st_mtime_ns // 1000:  # µs: what utimes keeps
            problems.append(f"{path}: mtime {record['mtime']} here, "
                            f"{found.st_mtime_ns} ns unpacked")
    if kind == "symlink" and record["linkname"] != os.readlink(full):
        problems.append(f"{path}: -> {record['linkname']!r} here, {os.readlink(full)!r} unpacked")
    if kind in ("chardev", "blockdev"):
        device = [os.major(found.st_rdev), os.minor(found.st_rdev)]
        if record.get("device") != device:
            problems.append(f"{path}: device {record.get('device')} here, {device} unpacked")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+")
    parser.add_argument("--platform", help="os/arch; default: the image's only platform")
    args = parser.parse_args(argv)
    status = 0
    for image in args.images:
        with tempfile.TemporaryDirectory(prefix="unpacked.") as tmp:
            try:
                archive = json.loads(_ocidiff("inspect", image, "--format", "json"))["archive"]
                platform = _platform(archive, args.platform)
                transport = _TRANSPORTS.get(archive["format"], "docker-archive")
                rootfs = _unpack(image, Path(tmp), platform, transport)
                count, problems = compare(image, rootfs, platform)
            except subprocess.CalledProcessError as exc:
                reason = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
                print(f"SKIP {image}: {exc.cmd[0]} failed: {reason[-1] if reason else exc}")
                status = max(status, 2)
                continue
        verdict = "OK  " if not problems else "DIFF"
        print(f"{verdict} {image}: {count} paths, {len(problems)} difference(s)")
        for line in problems[:40]:
            print(f"     {line}")
        if problems:
            status = 1 if status != 2 else status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
