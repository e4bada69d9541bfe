"""fixtures/gates regenerates byte-identically from scripts/make_gate_fixtures.py, stays small,
and its buildah images really come from buildah."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from .samples import GATES


def test_regenerates_byte_identical(tmp_path: Path) -> None:
    import make_gate_fixtures

    make_gate_fixtures.generate(tmp_path)
    assert make_gate_fixtures.compare(tmp_path, GATES) == []


def test_fixtures_are_small() -> None:
    sizes = [p.stat().st_size for p in GATES.rglob("*") if p.is_file()]
    assert sum(sizes) < 200_000


def test_buildah_images_were_written_by_buildah() -> None:
    for name in ("buildah-fresh.tar", "buildah-stale.tar"):
        with tarfile.open(GATES / name) as tar:
            index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
            manifest_name = "blobs/sha256/" + index["manifests"][0]["digest"].split(":")[1]
            manifest = json.load(tar.extractfile(manifest_name))  # type: ignore[arg-type]
            config_name = "blobs/sha256/" + manifest["config"]["digest"].split(":")[1]
            config = json.load(tar.extractfile(config_name))  # type: ignore[arg-type]
        assert "io.buildah.version" in config["config"]["Labels"]
        assert [h["created_by"].split(" ")[3] for h in config["history"]] == ["COPY", "LABEL"]
