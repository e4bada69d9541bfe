"""fingerprint: stable across runs and machines, changes with any input byte or name, ignores
argument order; the reproducibility warnings, rule by rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ocidiff.gates.fingerprint import (
    FingerprintInput,
    build_fingerprint,
    combine_inputs,
    default_files,
)
from ocidiff.gates.pinning import dockerfile_advice, requirements_advice

from .samples import cli, make_context

# The fixture context's fingerprint, computed once and written down: it must not move between
# runs, machines or library versions (the encoding is documented in docs/gates.md).
FIXTURE_FINGERPRINT = "sha256:f7ebbfed8334e14762364ef820e3c198d41deaf2c3952ae3867790bf160d76c8"


@pytest.fixture()
def context(tmp_path: Path) -> Path:
    return make_context(tmp_path / "ctx")


def _fp(context: Path, *args: str) -> str:
    result = cli("fingerprint", "--context", str(context), *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_documented_encoding() -> None:
    """sha256 over a domain line then `kind digest len(name) name\\n` per input, sorted."""
    import hashlib

    items = [FingerprintInput("file", "b", "sha256:2"), FingerprintInput("build-arg", "a", "x")]
    expected = hashlib.sha256(b"ocidiff-fingerprint/1\nbuild-arg x 1 a\nfile sha256:2 1 b\n")
    assert combine_inputs(items) == "sha256:" + expected.hexdigest()
    assert combine_inputs(items[::-1]) == combine_inputs(items)


def test_stable_value_for_the_fixture_context(context: Path) -> None:
    assert [p.name for p in default_files(context)] == [
        "Dockerfile", ".dockerignore", "requirements.txt"]
    value = _fp(context)
    assert value == _fp(context)
    assert value == FIXTURE_FINGERPRINT


def test_argument_order_does_not_matter(context: Path) -> None:
    one = _fp(context, "--file", str(context / "Dockerfile"), "--file",
              str(context / "requirements.txt"), "--build-arg", "A=1", "--build-arg", "B=2")
    two = _fp(context, "--build-arg", "B=2", "--file", str(context / "requirements.txt"),
              "--build-arg", "A=1", "--file", str(context / "Dockerfile"))
    assert one == two


def test_any_byte_or_name_changes_it(context: Path) -> None:
    base = _fp(context)
    seen = {base}
    (context / "requirements.txt").write_bytes((context / "requirements.txt").read_bytes() + b" ")
    seen.add(_fp(context))
    (context / "requirements-dev.txt").write_text("pytest==8.0.0\n")
    seen.add(_fp(context))  # a new lockfile appears
    shutil.move(context / "requirements-dev.txt", context / "requirements-test.txt")
    seen.add(_fp(context))  # same bytes, other name
    seen.add(_fp(context, "--build-arg", "VERSION=1"))
    seen.add(_fp(context, "--build-arg", "VERSION=2"))
    seen.add(_fp(context, "--build-arg", "VERSION2=1"))
    seen.add(_fp(context, "--base-image", "python@sha256:" + "0" * 64))
    assert len(seen) == 8


def test_names_are_relative_to_the_context(tmp_path: Path) -> None:
    """The same tree in two places (two machines) gives the same fingerprint."""
    one = make_context(tmp_path / "one")
    two = make_context(tmp_path / "elsewhere" / "two")
    assert _fp(one) == _fp(two)
    moved = make_context(tmp_path / "three")
    (moved / "sub").mkdir()
    shutil.move(moved / "requirements.txt", moved / "sub" / "requirements.txt")
    assert _fp(moved, "--file", str(moved / "Dockerfile"), "--file",
               str(moved / ".dockerignore"), "--file", str(moved / "sub/requirements.txt")) != (
        _fp(one))


def test_explain_lists_inputs_and_hides_argument_values(context: Path) -> None:
    result = cli("fingerprint", "--context", str(context), "--explain",
                 "--build-arg", "TOKEN=s3cr3t")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("sha256:")
    assert any("file" in line and line.endswith("Dockerfile") for line in lines)
    assert any("TOKEN" in line and "value not shown" in line for line in lines)
    assert "s3cr3t" not in result.stdout


def test_json_document(context: Path) -> None:
    result = cli("fingerprint", "--context", str(context), "--format", "json")
    document = json.loads(result.stdout)
    assert document["schema"] == "ocidiff.fingerprint"
    assert document["fingerprint"] == FIXTURE_FINGERPRINT
    assert [i["name"] for i in document["inputs"]] == [".dockerignore", "Dockerfile",
                                                       "requirements.txt"]
    assert document["warnings"] == []


def test_no_inputs_and_missing_file_are_trouble(tmp_path: Path) -> None:
    result = cli("fingerprint", "--context", str(tmp_path))
    assert result.exit_code == 2 and "no build inputs" in result.stderr
    result = cli("fingerprint", "--context", str(tmp_path), "--file", "nope")
    assert result.exit_code == 2 and "nope" in result.stderr
    result = cli("fingerprint", "--context", str(tmp_path), "--build-arg", "NOEQUALS")
    assert result.exit_code == 2


def test_warnings_go_to_stderr_and_strict_fails(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:latest\nRUN pip install flask\n")
    result = cli("fingerprint", "--context", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout.startswith("sha256:") and len(result.stdout.splitlines()) == 1
    assert "Dockerfile:1:" in result.stderr and "[unpinned-base]" in result.stderr
    assert "Dockerfile:2:" in result.stderr and "[unpinned-pip]" in result.stderr
    assert cli("fingerprint", "--context", str(tmp_path), "--strict").exit_code == 1


DOCKERFILE_CASES = [
    ("FROM python:3.12\n", {"unpinned-base"}),
    ("FROM python\n", {"unpinned-base", "latest-tag"}),
    ("FROM python:latest@sha256:" + "a" * 64 + "\n", {"latest-tag"}),
    ("FROM python:3.12@sha256:" + "a" * 64 + "\n", set()),
    ("FROM scratch\n", set()),
    ("ARG BASE=alpine:3.20\nFROM ${BASE}\n", {"unpinned-base"}),
    ("ARG BASE\nFROM $BASE\n", {"unpinned-base"}),  # unresolved: cannot be checked
    ("FROM a@sha256:" + "a" * 64 + " AS build\nFROM build\n", set()),  # stage names
    ("FROM --platform=$BUILDPLATFORM x@sha256:" + "a" * 64 + "\n", set()),
    ("FROM s\nRUN pip install flask==3.0.0 'requests>=2'\n", {"unpinned-base", "latest-tag",
                                                           "unpinned-pip"}),
    ("FROM scratch\nRUN pip install -r requirements.txt --no-cache-dir\n", set()),
    ("FROM scratch\nRUN python -m pip install --upgrade pip\n", {"unpinned-pip"}),
    ("FROM scratch\nRUN pip install ./dist/app.whl pkg @ https://x/y.zip\n", set()),
    ("FROM scratch\nRUN apt-get update && apt-get install -y --no-install-recommends \\\n"
     "    curl=7.88.1-10 ca-certificates\n", {"unpinned-apt"}),
    ("FROM scratch\nRUN apt-get install -y -o Dpkg::Options::=x curl=1\n", set()),
    ("FROM scratch\nRUN npm install\n", {"npm-install"}),
    ("FROM scratch\nRUN npm ci && npm install -g typescript@5.4.5\n", set()),
    ("FROM scratch\nRUN [\"npm\", \"i\", \"left-pad\"]\n", {"npm-install"}),
    ("FROM scratch\n# RUN npm install (a comment)\nCOPY --from=x:latest /a /b\n", {"latest-tag"}),
]


@pytest.mark.parametrize(("text", "codes"), DOCKERFILE_CASES,
                         ids=[c[0][:30] for c in DOCKERFILE_CASES])
def test_dockerfile_rules(text: str, codes: set[str]) -> None:
    advice, _ = dockerfile_advice("Dockerfile", text, {})
    assert {a.code for a in advice} == codes


def test_build_args_resolve_from_lines_and_lines_are_named() -> None:
    text = "# syntax=x\nARG TAG=3.12\n\nFROM python:${TAG}\nRUN \\\n  apt-get install -y vim\n"
    advice, bases = dockerfile_advice("d/Dockerfile", text, {"TAG": "3.13"})
    assert bases == ["python:3.13"]
    assert [(a.code, a.line) for a in advice] == [("unpinned-base", 4), ("unpinned-apt", 5)]


@pytest.mark.parametrize(("text", "warned"), [
    ("flask==3.0.0 \\\n    --hash=sha256:abc\n# comment\n", False),
    ("-r base.txt\n--index-url https://x\nflask==3.0.0 --hash=sha256:abc\n", False),
    ("flask==3.0.0 --hash=sha256:abc\nrequests==2.31.0\n", True),
    ("-e ./lib\n", True),
    ("flask\n", True),
])
def test_requirements_hashes(text: str, warned: bool) -> None:
    advice = requirements_advice("requirements.txt", text)
    assert bool(advice) is warned
    if warned:
        assert advice[0].code == "requirements-without-hashes" and advice[0].line is not None


def test_build_fingerprint_collects_advice_from_every_kind(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask\n")
    result = build_fingerprint(tmp_path, [tmp_path / "requirements.txt"],
                               {"BASE": "node:latest"}, ["node:20"])
    codes = sorted(a.code for a in result.warnings)
    assert codes == ["latest-tag", "requirements-without-hashes", "unpinned-base"]
