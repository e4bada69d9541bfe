"""An audit killed at any point (between releases, before the diffs, between diffs) and run
again ends with exactly the catalog of an uninterrupted run: nothing lost, nothing doubled.
Two audits of one catalog at the same time end with the same content as one after the other."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ocidiff.audit.run import KILL_AFTER_ENV

from .helpers import BUILT, dump, natural, release_folder, run_cli

_ARGS = ("--no-cache", "--quiet", "--format", "json")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release_folder(tmp_path_factory.mktemp("resume"))


@pytest.fixture(scope="module")
def reference(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    catalog = tmp_path_factory.mktemp("reference") / "catalog.db"
    done = run_cli("audit", str(folder), "--catalog", str(catalog), *_ARGS)
    assert done.returncode == 0, done.stderr
    return catalog, done.stdout


# 9 releases are committed one by one, then 7 consecutive-release diffs.
@pytest.mark.parametrize("kill_after", [2, len(BUILT), len(BUILT) + 3])
def test_killed_audit_resumes_to_the_same_catalog(
    folder: Path, reference: tuple[Path, bytes], tmp_path: Path, kill_after: int
) -> None:
    catalog = tmp_path / "catalog.db"
    killed = run_cli(
        "audit", str(folder), "--catalog", str(catalog), *_ARGS,
        env={KILL_AFTER_ENV: str(kill_after)},
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    partial = dump(catalog)
    assert len(partial["images"]) == min(kill_after, len(BUILT))
    resumed = run_cli("audit", str(folder), "--catalog", str(catalog), *_ARGS)
    assert resumed.returncode == 0, resumed.stderr
    assert dump(catalog) == dump(reference[0])
    assert resumed.stdout == reference[1]  # the JSON summary too, byte for byte


def test_a_rerun_reads_nothing(folder: Path, reference: tuple[Path, bytes], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.db"
    catalog.write_bytes(reference[0].read_bytes())
    again = run_cli("audit", str(folder), "--catalog", str(catalog), *_ARGS)
    assert again.returncode == 0, again.stderr
    assert dump(catalog) == dump(reference[0])
    last = (
        sqlite3.connect(catalog)
        .execute("SELECT audited, layers_read, bytes_read FROM runs ORDER BY run_id DESC LIMIT 1")
        .fetchone()
    )
    assert last == (0, 0, 0)


def test_concurrent_audits_of_one_catalog(
    folder: Path, reference: tuple[Path, bytes], tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.db"
    command = [sys.executable, "-m", "ocidiff", "audit", str(folder), "--catalog", str(catalog)]
    first = subprocess.Popen([*command, *_ARGS], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    second = subprocess.Popen([*command, *_ARGS], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for process in (first, second):
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    # two writers interleave, so surrogate ids may differ; the facts may not
    assert natural(catalog) == natural(reference[0])
    assert {t: len(r) for t, r in dump(catalog).items()} == {
        t: len(r) for t, r in dump(reference[0]).items()
    }


def test_layer_cache_serves_a_new_catalog(
    folder: Path, reference: tuple[Path, bytes], tmp_path: Path
) -> None:
    """Layers come from the per-layer cache when it has them: a second catalog built on this
    machine reads no layer bytes and holds the same content."""
    cache = ["--cache-dir", str(tmp_path / "cache"), "--quiet", "--format", "json"]
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    for catalog in (first, second):
        done = run_cli("audit", str(folder), "--catalog", str(catalog), *cache)
        assert done.returncode == 0, done.stderr
    assert dump(second) == dump(first) == dump(reference[0])
    read = sqlite3.connect(second).execute("SELECT layers_read, bytes_read FROM runs").fetchone()
    assert read[0] > 0 and read[1] == 0
