"""verify-tree: the image built from an old copy of the source is caught, with the stale files,
the layer that wrote them and its created_by; the fresh builds pass; labels; formats; errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ocidiff.gates.verify_tree import check_label, commits_match

from .samples import GATES, NEW_COMMIT, cli, make_context

PYCACHE = ("--exclude", "**/__pycache__")


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_context(tmp_path_factory.mktemp("gate") / "ctx")


def _json(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = cli("verify-tree", *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_stale_copy_layer_is_caught(context: Path) -> None:
    code, report = _json(str(GATES / "app-stale.tar"), "--path", "/app", "--source",
                         str(context), *PYCACHE, "--commit", NEW_COMMIT)
    assert code == 1 and report["ok"] is False
    found = {(f["kind"], f["path"]): f for f in report["findings"]}
    assert set(found) == {
        ("content", "lib/greet.py"), ("missing", "lib/new_feature.py"),
        ("extra", "lib/legacy.py"), ("symlink-target", "bin/start"), ("mode", "main.py"),
    }
    assert {f["layer"] for f in report["findings"]} == {3}
    assert found[("symlink-target", "bin/start")]["image"] == "../main_old.py"
    assert found[("mode", "main.py")]["image"] == "0644"
    stale = [layer for layer in report["layers"] if layer["stale"]]
    assert [(s["index"], s["created_by"]) for s in stale] == [(3, "COPY . /app/ # buildkit")]
    assert (stale[0]["copied"], stale[0]["differing"]) == (10, 4)
    # The label names the right commit, the files do not come from it: that is the incident.
    assert report["label"]["status"] == "files-disagree"
    assert report["label"]["value"] == NEW_COMMIT


def test_stale_report_as_text_names_layer_and_history(context: Path) -> None:
    result = cli("verify-tree", str(GATES / "app-stale.tar"), "--path", "/app", "--source",
                 str(context), *PYCACHE)
    assert result.exit_code == 1
    text = result.stdout
    assert text.startswith("MISMATCH: /app in ")
    assert "layer #3" in text and "COPY . /app/ # buildkit" in text
    assert "stale-layer" in text and "lib/greet.py" in text and "files-disagree" in text


def test_fresh_build_matches(context: Path) -> None:
    code, report = _json(str(GATES / "app-fresh.tar"), "--path", "/app/", "--source",
                         str(context), *PYCACHE, "--commit", NEW_COMMIT[:10])
    assert code == 0, report["findings"]
    assert report["findings"] == [] and report["label"]["status"] == "match"
    assert report["ignored"] == 7 and report["compared"] == 15


def test_generated_files_are_extra_without_exclude(context: Path) -> None:
    code, report = _json(str(GATES / "app-fresh.tar"), "--path", "/app", "--source",
                         str(context))
    assert code == 1
    assert {(f["kind"], f["path"], f["layer"]) for f in report["findings"]} == {
        ("extra", "lib/__pycache__", 4), ("extra", "lib/__pycache__/greet.cpython-312.pyc", 4)}
    assert not any(layer["stale"] for layer in report["layers"])  # a RUN step is not stale


@pytest.mark.parametrize(("image", "expected"), [("buildah-fresh.tar", 0),
                                                 ("buildah-stale.tar", 1)])
def test_real_buildah_images(context: Path, image: str, expected: int) -> None:
    """buildah read the .dockerignore itself: the fresh image matching means our semantics
    agree with a real builder on the fixture's patterns."""
    code, report = _json(str(GATES / image), "--path", "/app", "--source", str(context))
    assert code == expected, report["findings"]
    if expected:
        assert {f["path"] for f in report["findings"]} == {
            "lib/greet.py", "lib/new_feature.py", "lib/legacy.py", "bin/start", "main.py"}
        stale = [layer for layer in report["layers"] if layer["stale"]]
        assert len(stale) == 1 and "COPY dir:" in stale[0]["created_by"]


def test_ignore_mode_and_the_old_tree(tmp_path: Path) -> None:
    old = make_context(tmp_path / "old", old=True)
    code, report = _json(str(GATES / "app-stale.tar"), "--path", "/app", "--source",
                         str(old), *PYCACHE)
    assert code == 0, report["findings"]  # the stale image is exactly the old tree
    os.chmod(old / "main.py", 0o700)
    code, _ = _json(str(GATES / "app-stale.tar"), "--path", "/app", "--source", str(old),
                    *PYCACHE)
    assert code == 1
    code, _ = _json(str(GATES / "app-stale.tar"), "--path", "/app", "--source", str(old),
                    *PYCACHE, "--ignore-mode")
    assert code == 0


def test_dockerignore_of_an_enclosing_context(tmp_path: Path) -> None:
    """`COPY src/ /app/`: the context's .dockerignore is written relative to the context."""
    context = tmp_path / "ctx"
    make_context(context / "src")
    ignore = context / ".dockerignore"
    patterns = (context / "src" / ".dockerignore").read_text().replace("/tests", "src/tests")
    patterns = patterns.replace("out\n!out/keep.txt", "src/out\n!src/out/keep.txt")
    patterns = patterns.replace("*.md\n!README.md", "src/*.md\n!src/README.md")
    patterns = patterns.replace("./docs/", "./src/docs/").replace("*.secret", "**/*.secret")
    ignore.write_text(patterns.replace("Dockerfile\n.dockerignore", "src/Dockerfile\n"
                                       "src/.dockerignore"))
    code, report = _json(str(GATES / "app-fresh.tar"), "--path", "/app", "--source",
                         str(context / "src"), "--dockerignore", str(ignore), *PYCACHE)
    assert code == 0, report["findings"]
    assert report["ignore_file"] == str(ignore)


def test_labels() -> None:
    labels = (("org.opencontainers.image.revision", "abcdef1234567"),)
    key = "org.opencontainers.image.revision"
    assert check_label(labels, key, "abcdef1", False, "/app").status == "match"
    assert check_label(labels, key, "0123456", False, "/app").status == "mismatch"
    assert check_label((), key, "abcdef1", False, "/app").status == "missing"
    assert check_label((), key, None, False, "/app").status == "absent"
    assert check_label(labels, key, None, False, "/app").status == "present"
    assert check_label(labels, key, None, True, "/app").status == "files-disagree"
    assert commits_match("ABCDEF1234", "abcdef1") and not commits_match("abc", "abcdef1")


def test_label_mismatch_fails_even_when_files_match(context: Path) -> None:
    code, report = _json(str(GATES / "app-fresh.tar"), "--path", "/app", "--source",
                         str(context), *PYCACHE, "--commit", "0" * 40)
    assert code == 1 and report["findings"] == []
    assert report["label"]["status"] == "mismatch"
    code, report = _json(str(GATES / "app-fresh.tar"), "--path", "/app", "--source",
                         str(context), *PYCACHE, "--commit", NEW_COMMIT, "--label", "vcs-ref")
    assert code == 1 and report["label"]["status"] == "missing"


def test_json_is_deterministic(context: Path) -> None:
    args = ("verify-tree", str(GATES / "app-stale.tar"), "--path", "/app", "--source",
            str(context), "--format", "json")
    assert cli(*args).stdout_bytes == cli(*args).stdout_bytes


def test_markdown(context: Path) -> None:
    result = cli("verify-tree", str(GATES / "app-stale.tar"), "--path", "/app", "--source",
                 str(context), *PYCACHE, "--format", "markdown")
    assert result.exit_code == 1
    text = result.stdout
    assert text.startswith("### ocidiff verify-tree: MISMATCH: 5 difference(s)")
    assert "**stale layer #3**" in text and "| content | `lib/greet.py` |" in text


def test_whole_filesystem_and_missing_path(tmp_path: Path) -> None:
    code, report = _json(str(GATES / "buildah-fresh.tar"), "--path", "/nope", "--source",
                         str(make_context(tmp_path / "ctx")))
    assert code == 1 and report["notes"] == ["/nope does not exist in the image"]
    assert {f["kind"] for f in report["findings"]} == {"missing"}
    assert all(f["layer"] is None for f in report["findings"])


@pytest.mark.parametrize("args", [
    ("/nonexistent.tar", "--source", "."),
    (str(GATES / "app-fresh.tar"), "--source", "/nonexistent-dir"),
    (str(GATES / "app-fresh.tar"), "--source", ".", "--dockerignore", "/nonexistent"),
    (str(GATES / "app-fresh.tar"), "--source", ".", "--platform", "linux/s390x"),
])
def test_trouble_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    result = cli("verify-tree", *args)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_bad_dockerignore_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("ok\n[broken\n")
    result = cli("verify-tree", str(GATES / "app-fresh.tar"), "--source", str(tmp_path))
    assert result.exit_code == 2 and "line 2" in result.stderr


@pytest.mark.parametrize("command", [
    ("verify-tree",), ("fingerprint",), ("ledger",), ("ledger", "record"), ("ledger", "check"),
    ("ledger", "show"), ("ledger", "list"),
])
def test_help_of_every_gate_command(command: tuple[str, ...]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0, repr(result.exception)
    assert "Usage:" in result.stdout


def test_path_that_is_a_symlink_is_said(tmp_path: Path) -> None:
    code, report = _json(str(GATES / "buildah-fresh.tar"), "--path", "/app/bin/start",
                         "--source", str(make_context(tmp_path / "ctx")))
    assert code == 1
    assert report["notes"] == ["/app/bin/start is a symlink in the image, not a directory"]
