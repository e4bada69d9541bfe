"""The benchmark suite runs end to end at a tiny size (no timing is asserted: only that every
measurement ran and the results have their fixed structure)."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import REPO

BENCHMARKS = REPO / "benchmarks"
ROW_KEYS = [
    "startup",
    "floor-gzip",
    "verify-gzip",
    "inventory-gzip",
    "floor-zstd",
    "verify-zstd",
    "inventory-zstd",
    "floor-everywhere",
    "diff-everywhere",
    "floor-shared",
    "diff-shared",
    "ls-layer",
    "ls-both",
    "diff-cold",
    "diff-warm",
]
TARGET_KEYS = [
    "verify-gzip",
    "inventory-gzip",
    "verify-zstd",
    "inventory-zstd",
    "shared-diff",
    "shared-diff-both",
    "warm-cache",
    "peak-rss",
]


@pytest.fixture(scope="module")
def suite_module() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("suite")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_size_parsing(suite_module: ModuleType) -> None:
    assert suite_module.parse_size("300MB") == (300_000_000, "300MB")
    assert suite_module.parse_size("1gb") == (1_000_000_000, "1GB")
    assert suite_module.parse_size("2GiB") == (2 << 30, "2GiB")
    for bad in ("", "12XB", "0.5KB", "-1GB"):
        with pytest.raises(argparse.ArgumentTypeError, match="size"):
            suite_module.parse_size(bad)


def test_suite_runs_at_a_tiny_size(tmp_path: Path) -> None:
    results = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "suite.py"), "--size", "5MB", "--repeat", "1",
         "--work-dir", str(tmp_path / "work"), "--results-dir", str(results), "--note", "smoke"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    doc = json.loads((results / "5MB.json").read_text())
    assert doc["schema"] == "ocidiff.bench" and doc["size"] == {"label": "5MB", "bytes": 5_000_000}
    assert [row["key"] for row in doc["rows"]] == ROW_KEYS
    assert [target["key"] for target in doc["targets"]] == TARGET_KEYS
    for row in doc["rows"]:
        if row["key"] in ("diff-cold", "diff-warm") and row["status"] == "pending":
            continue  # the cache options may not exist in this checkout yet
        assert row["status"] == "measured", row
        assert row["wall_s_best"] > 0 and row["peak_rss_mib"] > 0, row
        assert len(row["wall_s_all"]) == 1
        if row["key"] != "startup":
            assert row["compressed_bytes"] > 0 and row["uncompressed_bytes"] >= 1_000_000, row
            assert row["mb_s_uncompressed"] > 0
        if row["floor"] and not row["key"].startswith("floor") and row["status"] == "measured":
            assert row["ratio_to_floor"] > 0, row
    statuses = {t["key"]: t["status"] for t in doc["targets"]}
    assert statuses["peak-rss"] in ("pass", "fail") and statuses["shared-diff"] in ("pass", "fail")
    machine = doc["machine"]
    assert machine["cores"] >= 1 and machine["python"].startswith("CPython")
    images = doc["images"]
    assert sorted(images) == ["a_gzip", "a_zstd", "b_gzip", "c_gzip"]
    assert all(i["entries"] > 100 and i["layers"] == 4 for i in images.values())
    markdown = (results / "5MB.md").read_text()
    assert "| measurement | command |" in markdown and "| target | measured |" in markdown
    assert "**Note:** smoke" in markdown
