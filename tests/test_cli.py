"""The command line: exit codes, one-line errors naming file/blob/offset, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import REAL_BUILT, REAL_SAMPLES, needs_shared


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ocidiff", *args], capture_output=True,
                          text=True, timeout=120)


def test_truncated_tarball_is_one_line_exit_2(tmp_path: Path) -> None:
    source = REAL_BUILT / "layers.tar"
    data = source.read_bytes()
    for cut in (700, len(data) // 2, len(data) - 1024 - 512 - 10):
        bad = tmp_path / f"cut{cut}.tar"
        bad.write_bytes(data[:cut])
        result = run("verify", str(bad))
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr
        assert str(bad) in lines[0] and "offset" in lines[0]


def test_a_file_shorter_than_a_tar_block_is_no_layer(tmp_path: Path) -> None:
    """`ls` used to take a few bytes of anything for an empty bare layer: no output, exit 0."""
    for name, data in (("note.txt", b"hello, not a tar\n"), ("cut.tar", b'{"x":\n')):
        bad = tmp_path / name
        bad.write_bytes(data)
        for args in (("ls", str(bad)), ("ls", str(bad), "--merged")):
            result = run(*args)
            assert result.returncode == 2, (args, result.stdout, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and str(bad) in lines[0] and "Traceback" not in result.stderr
    for name, data in (("end-blocks.tar", bytes(1024)), ("empty.tar", b"")):
        empty_layer = tmp_path / name  # an empty layer, as written with and without end blocks
        empty_layer.write_bytes(data)
        assert run("ls", str(empty_layer)).returncode == 0


def test_flipped_byte_in_any_blob_is_named(tmp_path: Path) -> None:
    import tarfile

    source = REAL_BUILT / "depbump-a.tar"
    data = bytearray(source.read_bytes())
    with tarfile.open(source) as tar:
        blobs = [m for m in tar.getmembers() if m.isfile() and m.name.startswith("blobs/")]
    for member in blobs:
        flipped = bytearray(data)
        flipped[member.offset_data + member.size // 2] ^= 0x01
        bad = tmp_path / "flipped.tar"
        bad.write_bytes(bytes(flipped))
        result = run("verify", str(bad))
        digest = "sha256:" + member.name.rsplit("/", 1)[1]
        assert "Traceback" not in result.stderr
        assert result.returncode in (1, 2), (member.name, result.stdout, result.stderr)
        assert digest in result.stdout + result.stderr, (member.name, result.stdout)


@needs_shared
def test_missing_file_and_bad_platform() -> None:
    result = run("inspect", "/nonexistent/image.tar")
    assert result.returncode == 2 and "no such file" in result.stderr
    sample = REAL_SAMPLES / "buildkit-oci-dive" / "test-oci-gzip-image.tar"
    result = run("ls", str(sample), "--platform", "linux/s390x")
    assert result.returncode == 2 and "available: linux/arm64" in result.stderr


def test_verify_json_and_exit_codes() -> None:
    import json

    result = run("verify", str(REAL_BUILT / "whiteout.tar"), "--format", "json")
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert list(document)[:2] == ["schema", "schema_version"] and document["ok"] is True


@needs_shared
def test_ls_bare_layer_blob() -> None:
    result = run("ls", str(REAL_SAMPLES / "layer-xattr-moby" / "layer.tar"))
    assert result.returncode == 0
    assert "security.capability" in result.stdout


@needs_shared
def test_compressed_outer_tarball_streams() -> None:
    result = run("verify", str(REAL_SAMPLES / "docker-save-gz-trivy" / "alpine-310.tar.gz"))
    assert result.returncode == 0, result.stderr
    result = run("ls", "--merged", str(REAL_SAMPLES / "docker-save-gz-trivy" /
                                       "alpine-310.tar.gz"))
    assert result.returncode == 0 and "lib/apk/db/installed" in result.stdout


@needs_shared
def test_stdin_stream() -> None:
    sample = REAL_SAMPLES / "buildkit-oci-dive" / "test-oci-zstd-image.tar"
    with open(sample, "rb") as handle:
        result = subprocess.run([sys.executable, "-m", "ocidiff", "verify", "-"], stdin=handle,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_each_defect_is_reported_once(tmp_path: Path) -> None:
    """A flipped document blob is seen while resolving and again while hashing every blob: the
    report states the fact once."""
    import json
    import tarfile

    source = REAL_BUILT / "srcchange-a.tar"
    data = bytearray(source.read_bytes())
    with tarfile.open(source) as tar:
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        manifest = index["manifests"][0]["digest"]
        member = tar.getmember("blobs/sha256/" + manifest.split(":")[1])
    data[member.offset_data + 10] ^= 0x01
    bad = tmp_path / "flipped-manifest.tar"
    bad.write_bytes(bytes(data))
    result = run("verify", str(bad), "--format", "json")
    assert result.returncode == 1, result.stderr
    problems = json.loads(result.stdout)["report"]["problems"]
    facts = [(p["kind"], p["subject"], p["expected"], p["actual"]) for p in problems]
    assert len(facts) == len(set(facts))
    assert [p["subject"] for p in problems if p["kind"] == "digest-mismatch"] == [manifest]
