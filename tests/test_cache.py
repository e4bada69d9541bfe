"""The per-layer inventory cache: round trips, never trusts a damaged entry, and makes a warm
diff read no layer bytes while giving the same report."""

from __future__ import annotations

import multiprocessing
import os
import struct
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocidiff.api import DiffOptions, OpenOptions, diff_archives, open_archive, pump_member
from ocidiff.cache import MAGIC, CachedFiles, LayerCache, default_cache_dir, open_cache
from ocidiff.cli import app
from ocidiff.inventory import Depth, LayerInventory, PumpOptions
from ocidiff.report import dump_report

from .conftest import REAL_BUILT, SYNTHETIC

CAPTURING = PumpOptions(depth=Depth.INVENTORY, capture_max=1 << 20)


class RecordingProgress:
    """Counts the blobs the orchestrator actually reads."""

    def __init__(self) -> None:
        self.read: list[str] = []

    def begin(self, label: str, total_bytes: int) -> None:
        self.read.append(label)

    def advance(self, label: str, done_bytes: int) -> None:
        return None

    def end(self, label: str) -> None:
        return None


def _layers(path: Path, options: PumpOptions = CAPTURING) -> list[LayerInventory]:
    with open_archive(str(path)) as opened:
        return [
            pump_member(opened, layer.member, options)
            for image in opened.archive.images
            for layer in image.layers
            if layer.member
        ]


@pytest.mark.parametrize(
    "archive",
    [REAL_BUILT / "depbump-a.tar", REAL_BUILT / "xattr-b.tar", SYNTHETIC / "oci-zstd.tar"],
    ids=lambda p: p.name,
)
def test_round_trip_is_exact(tmp_path: Path, archive: Path) -> None:
    cache = LayerCache(tmp_path)
    for inventory in _layers(archive):
        cache.put(inventory)
        assert cache.get(inventory.digest, inventory.cache_key) == inventory


def test_captured_files_stay_on_disk_until_asked_for(tmp_path: Path) -> None:
    cache, inventory, _ = _stored_entry(tmp_path)
    cached = cache.get(inventory.digest, inventory.cache_key)
    assert cached is not None
    assert type(cached.captured) is CachedFiles  # an index over the file, no bytes loaded
    assert sorted(cached.captured) == sorted(inventory.captured)
    for digest, data in inventory.captured.items():
        assert digest in cached.captured
        assert cached.captured[digest] == data
    assert "0" * 64 not in cached.captured


def test_digest_level_inventories_are_not_stored(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    for inventory in _layers(REAL_BUILT / "twice-a.tar", PumpOptions(depth=Depth.DIGESTS)):
        cache.put(inventory)
    assert cache.stats().entries == 0


def _stored_entry(tmp_path: Path) -> tuple[LayerCache, LayerInventory, Path]:
    cache = LayerCache(tmp_path)
    inventory = _layers(REAL_BUILT / "srcchange-a.tar")[-1]
    cache.put(inventory)
    (path,) = [p for p in tmp_path.rglob("*.inv")]
    return cache, inventory, path


@pytest.mark.parametrize(
    "damage",
    [
        "flip-captured-file",
        "flip-document",
        "flip-footer",
        "truncate",
        "empty",
        "foreign-magic",
        "extra-bytes",
    ],
)
def test_damaged_entry_is_ignored_and_removed(tmp_path: Path, damage: str) -> None:
    cache, inventory, path = _stored_entry(tmp_path)
    assert inventory.captured, "the entry must hold captured files for these cases"
    raw = bytearray(path.read_bytes())
    (document_length,) = struct.unpack_from("<Q", raw, len(raw) - 72)
    if damage == "flip-captured-file":
        raw[len(MAGIC) + 5] ^= 0x01
    elif damage == "flip-document":
        raw[len(raw) - 72 - document_length // 2] ^= 0x40
    elif damage == "flip-footer":
        raw[-10] ^= 0x40
    elif damage == "truncate":
        del raw[len(raw) // 2 :]
    elif damage == "empty":
        raw.clear()
    elif damage == "foreign-magic":
        raw[:4] = b"JUNK"
    else:
        raw.extend(b"\0" * 7)
    path.write_bytes(bytes(raw))
    assert cache.get(inventory.digest, inventory.cache_key) is None
    assert not path.exists()


def test_entry_under_another_name_is_not_trusted(tmp_path: Path) -> None:
    cache, inventory, path = _stored_entry(tmp_path)
    other = "sha256:" + "ab" * 32
    target = cache._path(other, inventory.cache_key)
    target.parent.mkdir(parents=True, exist_ok=True)
    path.rename(target)
    assert cache.get(other, inventory.cache_key) is None


def test_key_includes_every_inventory_parameter() -> None:
    base = PumpOptions()
    variants = [
        replace(base, chunk_threshold=base.chunk_threshold * 2),
        replace(base, chunk_avg=base.chunk_avg * 2),
        replace(base, capture_max=1),
        replace(base, capture_budget=1),
    ]
    keys = {base.cache_key, *(v.cache_key for v in variants)}
    assert len(keys) == 1 + len(variants)
    assert replace(base, max_uncompressed=1).cache_key == base.cache_key


def _writer(root: str, archive: str, rounds: int) -> None:
    cache = LayerCache(Path(root))
    inventories = _layers(Path(archive))
    for _ in range(rounds):
        for inventory in inventories:
            cache.put(inventory)


def test_concurrent_writers_leave_whole_entries(tmp_path: Path) -> None:
    archive = str(REAL_BUILT / "depbump-b.tar")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(tmp_path), archive, 5)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    cache = LayerCache(tmp_path)
    expected = _layers(Path(archive))
    for inventory in expected:
        assert cache.get(inventory.digest, inventory.cache_key) == inventory
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_prune_drops_least_recently_used_first(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    inventories = _layers(REAL_BUILT / "layers.tar")
    assert len(inventories) >= 3
    for age, inventory in enumerate(inventories):
        cache.put(inventory)
        path = cache._path(inventory.digest, inventory.cache_key)
        os.utime(path, (1_000_000 + age, 1_000_000 + age))
    newest = cache._path(inventories[-1].digest, inventories[-1].cache_key)
    removed, freed = cache.prune(newest.stat().st_size)
    assert removed == len(inventories) - 1 and freed > 0
    assert [p.name for p in tmp_path.rglob("*.inv")] == [newest.name]
    size = newest.stat().st_size
    assert cache.prune(0) == (1, size)
    assert cache.stats().entries == 0


def test_warm_diff_reads_no_layer_and_gives_the_same_report(tmp_path: Path) -> None:
    options = OpenOptions(cache=LayerCache(tmp_path))
    old, new = str(REAL_BUILT / "srcchange-a.tar"), str(REAL_BUILT / "srcchange-b.tar")
    cold_progress, warm_progress = RecordingProgress(), RecordingProgress()
    cold = diff_archives(old, new, DiffOptions(), options, cold_progress)
    warm = diff_archives(old, new, DiffOptions(), options, warm_progress)
    uncached = diff_archives(old, new, DiffOptions(), OpenOptions())
    assert cold_progress.read, "the cold run must read the differing layers"
    assert warm_progress.read == []
    assert dump_report(cold) == dump_report(warm) == dump_report(uncached)


def test_cached_entry_with_another_size_is_not_used(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    archive = REAL_BUILT / "srcchange-a.tar"
    inventory = _layers(archive)[-1]
    cache.put(replace(inventory, size=inventory.size + 1, entries=()))
    with open_archive(str(archive), OpenOptions(cache=cache)) as opened:
        member = next(
            layer.member
            for layer in opened.archive.images[0].layers
            if layer.digest == inventory.digest
        )
        assert member is not None
        assert pump_member(opened, member, CAPTURING) == inventory


def test_default_directory_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OCIDIFF_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "ocidiff"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert default_cache_dir() == Path.home() / ".cache" / "ocidiff"
    monkeypatch.setenv("OCIDIFF_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    assert open_cache(None, enabled=False) is None


def test_cli_cache_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    old, new = str(REAL_BUILT / "depbump-a.tar"), str(REAL_BUILT / "depbump-b.tar")
    args = ["diff", old, new, "--format", "json", "--cache-dir", str(tmp_path)]
    cold = runner.invoke(app, args)
    warm = runner.invoke(app, args)
    assert cold.exit_code == warm.exit_code == 1
    assert cold.stdout == warm.stdout
    info = runner.invoke(app, ["cache", "info", "--cache-dir", str(tmp_path), "--format", "json"])
    assert info.exit_code == 0 and '"entries":' in info.stdout
    assert '"entries":0' not in info.stdout.replace(" ", "")
    no_cache = runner.invoke(app, [*args[:-2], "--no-cache", "--cache-dir", str(tmp_path / "n")])
    assert no_cache.stdout == cold.stdout
    assert not (tmp_path / "n").exists()
    bad = runner.invoke(app, ["cache", "prune", "--cache-dir", str(tmp_path), "--max-size", "x"])
    assert bad.exit_code == 2
    pruned = runner.invoke(app, ["cache", "prune", "--cache-dir", str(tmp_path), "--all"])
    assert pruned.exit_code == 0 and "removed" in pruned.stdout
    assert LayerCache(tmp_path).stats().entries == 0


def test_capture_budget_is_shared_among_the_layers_read(tmp_path: Path) -> None:
    """Memory for the content explainers is bounded per diff: each layer read gets an equal share
    of `capture_total` (at least `capture_max`), and the cache key records the share."""
    options = OpenOptions(cache=LayerCache(tmp_path))
    old, new = str(REAL_BUILT / "srcchange-a.tar"), str(REAL_BUILT / "srcchange-b.tar")
    diff_archives(old, new, DiffOptions(capture_max=1000, capture_total=6000), options)
    names = sorted(p.name for p in tmp_path.rglob("*.inv"))
    assert len(names) == 2  # one differing layer per side
    assert all(name.endswith("-k1000-b3000.inv") for name in names), names
    diff_archives(old, new, DiffOptions(capture_max=1000, capture_total=100), options)
    assert len(list(tmp_path.rglob("*-k1000-b1000.inv"))) == 2  # never below capture_max


def test_a_layer_reached_through_a_link_is_read_once() -> None:
    """docker save (before 1.10) stores a repeated layer once and links the other layer.tar to
    it: listing both layers must read the blob once."""
    from ocidiff.api import LayerJob, pump_many

    progress = RecordingProgress()
    with open_archive(str(SYNTHETIC / "docker-legacy.tar")) as opened:
        members = [
            layer.member for image in opened.archive.images for layer in image.layers
            if layer.member
        ]
        linked = [m for m in members if opened.identity(m) != m]
        assert linked, "the fixture links one layer.tar to another"
        jobs = [LayerJob(opened, m, m) for m in members]
        inventories = pump_many(jobs, PumpOptions(depth=Depth.INVENTORY), progress)
    assert len(progress.read) == len({opened.identity(m) for m in members}) < len(members)
    by_member = dict(zip(members, inventories, strict=True))
    for member in linked:
        assert by_member[member] is by_member[opened.identity(member)]

