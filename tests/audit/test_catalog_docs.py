"""Every example query in docs/catalog.md runs on a catalog of real fixtures and answers;
`ocidiff query` is read-only; the schema refuses a newer catalog; a layer record survives the
catalog unchanged."""

from __future__ import annotations

import json
import pickle
import re
import sqlite3
from pathlib import Path

import pytest

from ocidiff.api import OpenOptions, open_archive
from ocidiff.audit.analysis import LayerResult, analyse_member
from ocidiff.audit.catalog import Catalog
from ocidiff.audit.records import load_layer, store_layer
from ocidiff.audit.run import audit_open_options
from ocidiff.audit.schema import SCHEMA_VERSION

from ..conftest import REAL_BUILT, REPO
from .helpers import audit_into, release_folder, run_cli

_QUERIES = re.findall(r"```sql\n(.*?)```", (REPO / "docs" / "catalog.md").read_text(), re.S)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    path = root / "catalog.db"
    audit_into(path, [str(release_folder(root))])
    return path


def test_the_docs_have_examples() -> None:
    assert len(_QUERIES) >= 6


@pytest.mark.parametrize("sql", _QUERIES, ids=[str(i) for i in range(len(_QUERIES))])
def test_example_query(catalog: Path, sql: str) -> None:
    db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
    rows = db.execute(sql).fetchall()
    if "i.status <> 'ok'" not in sql:  # every fixture release is intact
        assert rows, sql


def test_changed_file_query_finds_the_bump(catalog: Path) -> None:
    sql = next(q for q in _QUERIES if "__version__.py" in q)
    rows = sqlite3.connect(catalog).execute(sql).fetchall()
    changed = {release for release, _, _, _, flag in rows if flag}
    assert "depbump-b.tar" in changed


def test_query_command(catalog: Path) -> None:
    text = run_cli("query", str(catalog), "SELECT name, status FROM images ORDER BY position")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0].split() == [b"name", b"status"]
    as_json = run_cli("query", str(catalog), "SELECT count(*) AS n FROM images", "--format", "json")
    assert json.loads(as_json.stdout) == [{"n": 9}]
    write = run_cli("query", str(catalog), "DELETE FROM images")
    assert write.returncode == 2 and b"readonly" in write.stderr.replace(b"-", b"")
    bad = run_cli("query", str(catalog), "SELEC nonsense")
    assert bad.returncode == 2 and bad.stderr.count(b"\n") == 1
    missing = run_cli("query", str(catalog.parent / "nope.db"), "SELECT 1")
    assert missing.returncode == 2 and b"no such catalog" in missing.stderr


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with Catalog(str(path)):
        pass
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    result = run_cli(
        "audit", str(REAL_BUILT / "stamped-a.tar"), "--catalog", str(path), "--no-cache"
    )
    assert result.returncode == 2
    assert b"newer than this ocidiff supports" in result.stderr


def test_not_a_catalog(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"junk" * 1000)
    result = run_cli(
        "audit", str(REAL_BUILT / "stamped-a.tar"), "--catalog", str(path), "--no-cache"
    )
    assert result.returncode == 2 and b"not a usable catalog" in result.stderr


@pytest.mark.parametrize("name", ["layers.tar", "whiteout.tar", "pycache-b.tar", "xattr-b.tar"])
def test_layer_record_round_trip(name: str) -> None:
    options = audit_open_options(OpenOptions())
    with Catalog(":memory:") as catalog, open_archive(str(REAL_BUILT / name), options) as opened:
        db = catalog.db
        for layer in opened.archive.images[0].layers:
            assert layer.member is not None
            outcome = analyse_member(opened, layer.member, options.pump)
            assert isinstance(outcome, LayerResult)
            assert pickle.loads(pickle.dumps(outcome)) == outcome  # what Dask workers send back
            record = outcome.record
            assert store_layer(db, record)
            assert not store_layer(db, record)  # idempotent
            assert load_layer(db, record.digest, options.pump.cache_key) == record
