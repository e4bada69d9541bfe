"""Finding and ordering releases, the audit command's outputs and exit codes, incremental runs
and damaged releases."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from ocidiff.audit.walk import find_inputs, natural_key, ordered
from ocidiff.errors import InputError

from ..conftest import REAL_BUILT
from .builder import File, Image, write_oci
from .helpers import audit_into, release_folder, run_cli


def test_natural_order() -> None:
    names = ["app-v1.10.tar", "app-v1.9.tar", "app-v1.2.tar", "app-v2.0.tar", "app-v10.tar"]
    assert sorted(names, key=natural_key) == [
        "app-v1.2.tar",
        "app-v1.9.tar",
        "app-v1.10.tar",
        "app-v2.0.tar",
        "app-v10.tar",
    ]


def test_order_file_and_created(tmp_path: Path) -> None:
    items = [("/r/a.tar", "a.tar"), ("/r/b.tar", "b.tar"), ("/r/c.tar", "c.tar")]
    listing = tmp_path / "order.txt"
    listing.write_text("# newest last\nc.tar\n/r/a.tar\n")
    assert ordered(items, str(listing)) == ["/r/c.tar", "/r/a.tar", "/r/b.tar"]
    created = {"/r/a.tar": "2024-02-01T00:00:00Z", "/r/b.tar": "2023-01-01T00:00:00Z"}
    assert ordered(items, "created", created) == ["/r/b.tar", "/r/a.tar", "/r/c.tar"]


def test_walk_finds_archives_and_layout_dirs(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, built=("stamped-a.tar", "layout-dir"))
    (folder / "notes.txt").write_text("not an image")
    nested = folder / "more"
    nested.mkdir()
    (nested / "twice-a.tar").symlink_to(REAL_BUILT / "twice-a.tar")
    found = find_inputs([str(folder)])
    assert sorted(i.name for i in found) == ["layout-dir", "more/twice-a.tar", "stamped-a.tar"]
    globbed = find_inputs([str(folder / "*.tar"), str(folder / "stamped-a.tar")])
    assert [i.name for i in globbed] == ["stamped-a.tar"]  # each release once
    with pytest.raises(InputError):
        find_inputs([str(folder / "nothing-*.tar")])


def test_audit_command_text_and_json(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, built=("baseimg-v1.tar", "base-a.tar", "base-b.tar"))
    catalog = tmp_path / "catalog.db"
    text = run_cli("audit", str(folder), "--catalog", str(catalog), "--no-cache")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.decode().splitlines()
    assert lines[0].split()[:4] == ["#", "release", "status", "size"]
    row = next(line for line in lines if "base-b.tar" in line)
    assert "different" in row and "base-image" in row
    assert "3 release(s): 3 ok" in text.stdout.decode()
    again = run_cli(
        "audit", str(folder), "--catalog", str(catalog), "--format", "json", "--no-cache"
    )
    document = json.loads(again.stdout)
    assert document["schema"] == "ocidiff.audit"
    releases = {r["name"]: r for r in document["releases"]}
    assert releases["base-b.tar"]["platforms"][0]["verdict"] == "different"
    assert releases["base-b.tar"]["platforms"][0]["new_layers"] == 1
    assert releases["base-a.tar"]["platforms"][0]["base_image"] == "baseimg-v1.tar"
    memory = run_cli("audit", str(folder), "--format", "json", "--no-cache", "--quiet")
    assert memory.stdout == again.stdout  # the same report without a catalog file
    assert memory.stderr == b""


def _release(folder: Path, number: int) -> Path:
    base = [File("etc/os-release", b"ID=demo\n"), File("usr/lib/libbase.so", b"\x7fELF" * 64)]
    app = [File("app/version", f"{number}\n".encode())]
    return write_oci(folder / f"app-v{number}.tar", Image([base, app]))


def test_incremental_run_reads_only_the_new_release(tmp_path: Path) -> None:
    folder = tmp_path / "releases"
    folder.mkdir()
    for number in (1, 2, 10):
        _release(folder, number)
    catalog = tmp_path / "catalog.db"
    first = audit_into(catalog, [str(folder)])
    assert first.counts["layers_read"] == 4  # the shared base once, three app layers
    new = _release(folder, 3)  # sorts between v2 and v10
    second = audit_into(catalog, [str(folder)])
    db = sqlite3.connect(catalog)
    app_layer = db.execute(
        "SELECT l.size FROM image_layers l JOIN platforms p USING (platform_id) "
        "JOIN images i USING (image_id) WHERE i.path = ? AND l.layer_index = 1",
        (str(new.resolve()),),
    ).fetchone()[0]
    assert (second.counts["audited"], second.counts["layers_read"]) == (1, 1)
    assert second.counts["bytes_read"] == app_layer
    steps = db.execute(
        "SELECT io.name, i2.name FROM diffs d "
        "JOIN platforms po ON po.platform_id = d.old_platform_id JOIN images io "
        "ON io.image_id = po.image_id JOIN platforms pn ON pn.platform_id = d.new_platform_id "
        "JOIN images i2 ON i2.image_id = pn.image_id ORDER BY i2.position"
    ).fetchall()
    assert steps == [
        ("app-v1.tar", "app-v2.tar"),
        ("app-v2.tar", "app-v3.tar"),
        ("app-v3.tar", "app-v10.tar"),
    ]


def _damage(source: Path, target: Path) -> None:
    """Swap the content of the last layer blob for other valid bytes under the same name."""
    with tarfile.open(source) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar if m.isfile()]  # type: ignore[union-attr]
    victim = max((m for m, d in members if d[:2] == b"\x1f\x8b"), key=lambda m: m.size)
    with tarfile.open(target, "w") as out:
        for member, data in members:
            if member is victim:
                data = data[:-1] + bytes([data[-1] ^ 1])
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def test_damaged_and_unreadable_releases(tmp_path: Path) -> None:
    folder = tmp_path / "releases"
    folder.mkdir()
    _damage(_release(tmp_path, 1), folder / "app-v1.tar")
    (folder / "app-v2.tar").write_bytes(b"\0" * 100 + b"junk")
    result = run_cli("audit", str(folder), "--no-cache", "--format", "json", "--quiet")
    assert result.returncode == 1, result.stderr
    releases = {r["name"]: r for r in json.loads(result.stdout)["releases"]}
    assert releases["app-v1.tar"]["status"] == "problems"
    assert releases["app-v1.tar"]["problems"]
    assert releases["app-v2.tar"]["status"] == "unreadable"
    assert releases["app-v2.tar"]["error"]


def test_bad_order_file_is_a_usage_error(tmp_path: Path) -> None:
    folder = release_folder(tmp_path, built=("stamped-a.tar",))
    missing = tmp_path / "order.txt"
    result = run_cli("audit", str(folder), "--order", str(missing), "--no-cache", "--quiet")
    assert result.returncode == 2
    assert result.stderr.startswith(b"ocidiff: ") and b"order file" in result.stderr
