"""An audit over real archives from several producers agrees with an independent reading of the
same files (tarfile, hashlib, blake3) on blobs, layers and files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ..conftest import needs_shared
from .helpers import SAMPLES, audit_into, release_folder
from .independent import Layer, read_archive

pytestmark = needs_shared


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("mixed")
    folder = release_folder(root, samples=SAMPLES)
    catalog = root / "catalog.db"
    outcome = audit_into(catalog, [str(folder)])
    assert outcome.counts["releases"] == len(list(folder.iterdir()))
    return folder, catalog


def _catalog_images(db: sqlite3.Connection, path: Path) -> set[tuple[str, tuple[str, ...]]]:
    rows = db.execute(
        "SELECT p.platform_id, p.config_digest FROM platforms p JOIN images i USING (image_id) "
        "WHERE i.path = ?",
        (str(path.resolve()),),
    ).fetchall()
    found = set()
    for platform_id, config in rows:
        digests = tuple(
            d
            for (d,) in db.execute(
                "SELECT digest FROM image_layers WHERE platform_id = ? ORDER BY layer_index",
                (platform_id,),
            )
        )
        found.add((config, digests))
    return found


def test_every_release_is_intact(audited: tuple[Path, Path]) -> None:
    folder, catalog = audited
    db = sqlite3.connect(catalog)
    rows = db.execute("SELECT name, status, problems FROM images ORDER BY position").fetchall()
    assert len(rows) == len(list(folder.iterdir()))
    assert all(status == "ok" and problems == 0 for _, status, problems in rows), rows


def test_images_and_layers_match(audited: tuple[Path, Path]) -> None:
    folder, catalog = audited
    db = sqlite3.connect(catalog)
    checked = 0
    for path in sorted(folder.iterdir()):
        images, _ = read_archive(path.resolve())
        expected = {(i.config_digest, tuple(layer.digest for layer in i.layers)) for i in images}
        assert _catalog_images(db, path) == expected, path.name
        for image in images:
            for layer in image.layers:
                _check_layer(db, layer)
                checked += 1
    assert checked >= 25


def _check_layer(db: sqlite3.Connection, layer: Layer) -> None:
    row = db.execute(
        "SELECT size, diff_id, entries FROM layers WHERE digest = ?", (layer.digest,)
    ).fetchone()
    assert row == (layer.size, layer.diff_id, len(layer.files)), layer.digest
    files = db.execute(
        "SELECT path, kind, size, digest FROM files WHERE layer_digest = ? ORDER BY seq",
        (layer.digest,),
    ).fetchall()
    assert tuple(files) == layer.files, layer.digest


def test_blobs_are_real_members(audited: tuple[Path, Path]) -> None:
    folder, catalog = audited
    db = sqlite3.connect(catalog)
    members: dict[str, int] = {}
    layers: set[str] = set()
    for path in folder.iterdir():
        images, blobs = read_archive(path.resolve())
        members.update(blobs)
        layers.update(layer.digest for image in images for layer in image.layers)
    rows = db.execute("SELECT digest, size, kind FROM blobs").fetchall()
    assert rows
    for digest, size, kind in rows:
        assert members.get(digest) == size, (digest, kind)
    assert layers <= {digest for digest, _, kind in rows if kind == "layer"}


def test_each_unique_layer_read_once(audited: tuple[Path, Path]) -> None:
    _, catalog = audited
    db = sqlite3.connect(catalog)
    (read,) = db.execute("SELECT layers_read FROM runs").fetchone()
    (unique,) = db.execute("SELECT count(DISTINCT digest) FROM image_layers").fetchone()
    # docker save layers name no digest before they are read: those are read per archive
    assert read == unique


def test_packages_and_bases(audited: tuple[Path, Path]) -> None:
    _, catalog = audited
    db = sqlite3.connect(catalog)
    shipped = db.execute(
        "SELECT i.name FROM packages k JOIN platforms p USING (platform_id) JOIN images i "
        "USING (image_id) WHERE k.name = 'requests' AND k.version = '2.32.0'"
    ).fetchall()
    assert sorted(shipped) == [("depbump-b.tar",), ("layout-dir",)]
    (apk,) = db.execute("SELECT count(*) FROM packages WHERE ecosystem = 'apk'").fetchone()
    assert apk >= 10  # alpine 3.10's installed database
    base = db.execute(
        "SELECT p.base_layers, p.base_image FROM platforms p JOIN images i USING (image_id) "
        "WHERE i.name = 'base-a.tar'"
    ).fetchone()
    assert base == (1, "baseimg-v1.tar")


def test_consecutive_steps(audited: tuple[Path, Path]) -> None:
    _, catalog = audited
    db = sqlite3.connect(catalog)
    step = db.execute(
        "SELECT d.verdict, group_concat(c.code) FROM diffs d "
        "JOIN platforms po ON po.platform_id = d.old_platform_id "
        "JOIN images io ON io.image_id = po.image_id "
        "JOIN platforms pn ON pn.platform_id = d.new_platform_id "
        "JOIN images i2 ON i2.image_id = pn.image_id "
        "JOIN causes c ON c.old_platform_id = d.old_platform_id "
        "AND c.new_platform_id = d.new_platform_id "
        "WHERE io.name = 'depbump-a.tar' AND i2.name = 'depbump-b.tar'"
    ).fetchone()
    assert step[0] == "different"
    assert "files-added" in step[1]
