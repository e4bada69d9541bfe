"""Shared locations and small builders for the test suite."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL_SAMPLES = SHARED / "fixtures-real"
REAL_BUILT = REPO / "fixtures" / "real"
SYNTHETIC = REPO / "fixtures" / "synthetic"

sys.path.insert(0, str(REPO / "scripts"))


needs_shared = pytest.mark.skipif(
    not REAL_SAMPLES.is_dir(), reason="../shared/fixtures-real is not beside this checkout"
)


def real_sample_archives() -> list[Path]:
    """Every image archive in ../shared/fixtures-real (bare layer tars excluded)."""
    if not REAL_SAMPLES.is_dir():
        return []
    found = sorted(p for p in REAL_SAMPLES.glob("*/*.tar*") if "layer" not in p.name)
    found += sorted(p for p in REAL_SAMPLES.iterdir() if p.is_dir()
                    for p in p.iterdir() if (p / "index.json").is_file())
    return found


def built_archives() -> list[Path]:
    return [*sorted(REAL_BUILT.glob("*.tar")), REAL_BUILT / "layout-dir"]


@pytest.fixture()
def make_tar():
    """Build a small uncompressed tar in memory from (name, bytes) pairs."""

    def build(files: list[tuple[str, bytes]]) -> bytes:
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for name, data in files:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return out.getvalue()

    return build


@pytest.fixture(autouse=True)
def _private_layer_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own empty layer cache, so no result depends on test order or on the
    user's real cache (subprocesses inherit the variable)."""
    monkeypatch.setenv("OCIDIFF_CACHE_DIR", str(tmp_path_factory.mktemp("layer-cache")))
