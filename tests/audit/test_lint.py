"""The hazards lint: every code on an image built to have it, none on a clean one, and the
`ocidiff lint` exit codes (0 none, 1 hazards, 2 trouble)."""

from __future__ import annotations

import gzip
import json
import py_compile
import sys
import tarfile
from pathlib import Path

import pytest

from ocidiff.api import OpenOptions
from ocidiff.audit.commands import lint
from ocidiff.audit.facts import expected_source
from ocidiff.audit.lint import HAZARDS, is_secret_like
from ocidiff.audit.run import audit_open_options

from .builder import File, Image, write_oci
from .helpers import run_cli

EPOCH = 1_700_000_000
_CODE_LAYOUTS_KNOWN = sys.version_info[:2] in ((3, 11), (3, 12), (3, 13))


def _pyc(tmp: Path) -> bytes:
    source = tmp / "mod.py"
    source.write_text("VALUE = 1\n")
    target = tmp / "mod.pyc"
    py_compile.compile(str(source), cfile=str(target), dfile="/tmp/build-77/app/mod.py")
    return target.read_bytes()


def _hazardous(tmp: Path) -> Path:
    base = [
        File("etc/os-release", b"ID=test\n", mtime=1_600_000_000),
        File("var/log/dpkg.log", b"install\n", mtime=1_600_000_000),
        File("var/lib/apt/lists/deb_Packages", b"Package: x\n", mtime=1_600_000_000),
        File("var/cache/ldconfig/aux-cache", b"\0" * 10, mtime=1_600_000_000),
        File("root/.cache/pip/http/0/abc", b"cached", mtime=1_600_000_000),
        File("root/.ssh/id_rsa", b"-----BEGIN", mtime=1_600_000_000),
        File("app/old.bin", b"x" * 1000, mtime=1_600_000_000),
        File("app/doc.gz", gzip.compress(b"doc", mtime=12345), mtime=1_600_000_000),
        File("app/__pycache__/mod.cpython-311.pyc", _pyc(tmp), mtime=1_600_000_000),
        File(
            "usr/lib/python3/site-packages/foo-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n",
            mtime=1_600_000_000,
        ),
    ]
    app = [
        File("app/.wh.old.bin", mtime=EPOCH),
        File("app/new.txt", b"new", mtime=1_800_000_000),
        File("app/.env", b"TOKEN=1", mtime=EPOCH),
        File("app/ok.txt", b"ok", mtime=EPOCH),
    ]
    image = Image([base, app], env=[f"SOURCE_DATE_EPOCH={EPOCH}"], gzip_mtime=5)
    return write_oci(tmp / "hazards.tar", image)


def _clean(tmp: Path) -> Path:
    files = [File("app", kind=tarfile.DIRTYPE, mtime=EPOCH), File("app/main", b"run", mtime=EPOCH)]
    annotations = {"org.opencontainers.image.base.name": "scratch"}
    return write_oci(tmp / "clean.tar", Image([files], annotations=annotations))


def _codes(path: Path) -> dict[str, dict[str, object]]:
    data, code = lint(str(path), "json", None, audit_open_options(OpenOptions()), None)
    document = json.loads(data)
    hazards = document["images"][0]["hazards"]
    assert code == (1 if hazards else 0)
    return {h["code"]: h for h in hazards}


def test_every_hazard_is_found(tmp_path: Path) -> None:
    found = _codes(_hazardous(tmp_path))
    expected = set(HAZARDS)
    if not _CODE_LAYOUTS_KNOWN:
        expected.discard("pyc-build-path")
    assert set(found) == expected
    assert found["mtime-after-epoch"]["count"] == 1
    assert found["mtime-after-epoch"]["examples"] == ["layer 1: app/new.txt mtime 1800000000"]
    assert found["deleted-files-shipped"]["bytes"] == 1000
    assert found["secret-like-file"]["count"] == 2
    assert found["build-cache-shipped"]["count"] == 3
    assert found["gzip-mtime"]["examples"] == ["app/doc.gz: mtime 12345"]
    assert found["layer-gzip-mtime"]["count"] == 2


def test_a_clean_image_has_none(tmp_path: Path) -> None:
    assert _codes(_clean(tmp_path)) == {}


def test_cli_exit_codes(tmp_path: Path) -> None:
    clean = run_cli("lint", str(_clean(tmp_path)), "--no-cache")
    assert clean.returncode == 0, clean.stderr
    assert b"0 hazard(s)" in clean.stdout
    dirty = run_cli("lint", str(_hazardous(tmp_path)), "--no-cache")
    assert dirty.returncode == 1, dirty.stderr
    assert b"secret-like-file: 2" in dirty.stdout
    broken = tmp_path / "broken.tar"
    broken.write_bytes(b"not a tar" * 100)
    trouble = run_cli("lint", str(broken), "--no-cache")
    assert trouble.returncode == 2
    assert trouble.stderr.count(b"\n") == 1 and trouble.stderr.startswith(b"ocidiff: ")


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        ("app/.env", True),
        ("app/.env.production", True),
        ("app/.env.example", False),
        ("root/.ssh/id_ed25519", True),
        ("root/.ssh/id_ed25519.pub", False),
        ("etc/ssl/private/server-key.pem", True),
        ("etc/ssl/certs/ca-certificates.pem", False),
        ("etc/ssl/private/ssl-cert-snakeoil.key", True),
        ("root/.aws/credentials", True),
        ("usr/share/credentials", False),
    ],
)
def test_secret_names(path: str, secret: bool) -> None:
    assert is_secret_like(path) is secret


@pytest.mark.parametrize(
    ("pyc", "source"),
    [
        ("app/pkg/__pycache__/util.cpython-311.pyc", "/app/pkg/util.py"),
        ("__pycache__/top.cpython-312.pyc", "/top.py"),
        ("usr/lib/python2.7/os.pyc", "/usr/lib/python2.7/os.py"),
    ],
)
def test_expected_source(pyc: str, source: str) -> None:
    assert expected_source(pyc) == source


def test_real_pycache_fixture_has_a_build_path() -> None:
    from ..conftest import REAL_BUILT

    found = _codes(REAL_BUILT / "pycache-b.tar")
    assert "pyc-timestamp" in found
    if _CODE_LAYOUTS_KNOWN:
        assert found["pyc-build-path"]["examples"] == [
            "app/pkg/__pycache__/__init__.cpython-311.pyc: /tmp/build-4711/app/pkg/__init__.py"
        ]
