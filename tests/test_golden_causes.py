"""Golden reports: one fixture pair per cause code, diffed and compared with tests/golden/.

Each pair in fixtures/synthetic/causes/ (scripts/cause_pairs.py) changes one thing. The table
below states, independently of the golden files, the exact cause set, verdict and exit code each
pair must give, so regenerating the goldens cannot bless a wrong answer. Regenerate the golden
files after a deliberate change with

    OCIDIFF_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_causes.py

and review the diff of tests/golden/ like code.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocidiff.api import diff_archives
from ocidiff.cli import app
from ocidiff.diff.causes import ALL_CODES, DEFAULT_IGNORES
from ocidiff.render.text import render_text
from ocidiff.report import Node, Report, dump_report, load_report

from .conftest import REPO, SYNTHETIC

GOLDEN = Path(__file__).parent / "golden"
PAIRS = SYNTHETIC / "causes"
UPDATE = os.environ.get("OCIDIFF_UPDATE_GOLDEN") == "1"


@dataclass(frozen=True)
class Expected:
    verdict: str
    causes: frozenset[str]  # exactly the codes the report's summary counts
    why: str = ""  # why a cause other than the pair's own code is inherent to the change

    @property
    def exit_code(self) -> int:
        return 1 if self.causes - set(DEFAULT_IGNORES) else 0


def only(code: str, verdict: str) -> Expected:
    return Expected(verdict, frozenset((code,)))


DIFFERENT, EQUIVALENT, SAME = "different", "equivalent", "same-image"
EXPECTED: dict[str, Expected] = {
    "platforms": only("platforms", DIFFERENT),
    "files-added": only("files-added", DIFFERENT),
    "files-removed": only("files-removed", DIFFERENT),
    "files-moved": only("files-moved", DIFFERENT),
    "dependency-change": Expected(
        DIFFERENT,
        frozenset(("dependency-change", "files-added", "files-removed", "files-moved", "content")),
        "an upgrade renames the dist-info directory (its files are removed and added, or moved "
        "when their bytes are equal) and rewrites the package's modules; each path keeps its "
        "own cause and says which upgrade it is part of",
    ),
    "content": only("content", DIFFERENT),
    "file-type": only("file-type", DIFFERENT),
    "config": only("config", DIFFERENT),
    "permissions": only("permissions", DIFFERENT),
    "ownership": only("ownership", DIFFERENT),
    "symlink-target": only("symlink-target", DIFFERENT),
    "hardlinks": only("hardlinks", DIFFERENT),
    "xattrs": only("xattrs", DIFFERENT),
    "whiteouts": only("whiteouts", DIFFERENT),
    "base-image": Expected(
        DIFFERENT,
        frozenset(("base-image", "content")),
        "a base image differs because its files do; the changed file is listed as content",
    ),
    "clamp-violation": Expected(
        EQUIVALENT,
        frozenset(("clamp-violation", "file-timestamps")),
        "a violation is an mtime past the claimed epoch, so that mtime differs from the "
        "clamped build's",
    ),
    "file-timestamps": only("file-timestamps", EQUIVALENT),
    "embedded-timestamp": only("embedded-timestamp", EQUIVALENT),
    "embedded-path": only("embedded-path", EQUIVALENT),
    "build-log": only("build-log", EQUIVALENT),
    "build-cache": only("build-cache", EQUIVALENT),
    "content-order": only("content-order", EQUIVALENT),
    "layer-structure": Expected(
        EQUIVALENT,
        frozenset(("layer-structure", "history")),
        "the config has one history entry per non-empty layer, so a split layer adds one",
    ),
    "compression": only("compression", EQUIVALENT),
    "entry-order": only("entry-order", EQUIVALENT),
    "tar-encoding": only("tar-encoding", EQUIVALENT),
    "created-timestamp": only("created-timestamp", EQUIVALENT),
    "history": only("history", EQUIVALENT),
    "media-types": only("media-types", EQUIVALENT),
    "annotations": only("annotations", EQUIVALENT),
    "attestation": only("attestation", EQUIVALENT),
    "image-name": only("image-name", SAME),
    "archive-packing": only("archive-packing", SAME),
    "incomplete": only("incomplete", DIFFERENT),
}
CLI_CODES = ("content", "image-name", "incomplete")  # also run through `ocidiff diff`


def pair(code: str) -> tuple[str, str]:
    """The pair's paths relative to the repository root: the report quotes them, and the golden
    files must not depend on where the checkout lives."""
    old, new = PAIRS / f"{code}-a.tar", PAIRS / f"{code}-b.tar"
    return str(old.relative_to(REPO)), str(new.relative_to(REPO))


@pytest.fixture()
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def check_golden(name: str, actual: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(actual)
    assert path.exists(), f"{path} missing: run with OCIDIFF_UPDATE_GOLDEN=1 to create it"
    assert actual.decode() == path.read_text(encoding="utf-8"), f"{name} differs from golden"


def test_every_code_has_a_pair_and_an_expectation() -> None:
    assert list(EXPECTED) == list(ALL_CODES)
    for code in ALL_CODES:
        assert all((REPO / p).is_file() for p in pair(code)), code


@pytest.mark.usefixtures("in_repo")
@pytest.mark.parametrize("code", list(EXPECTED))
def test_golden_report(code: str) -> None:
    expected = EXPECTED[code]
    old, new = pair(code)
    report = diff_archives(old, new)
    summary = report.summary
    # The direct checks come first: a regeneration writes nothing when they fail.
    assert code in summary.causes
    assert set(summary.causes) == expected.causes, summary.causes
    assert summary.verdict == expected.verdict
    assert summary.exit_code == expected.exit_code
    assert summary.incomplete is (code == "incomplete")
    if expected.causes != {code}:
        assert expected.why, f"{code}: co-causes need a reason in the table"
    data = dump_report(report)
    assert dump_report(diff_archives(old, new)) == data, "the JSON report is not deterministic"
    assert dump_report(load_report(data)) == data
    text = render_text(report)
    assert all(len(line) <= 80 for line in text.splitlines()), text
    check_golden(f"{code}.json", data)
    check_golden(f"{code}.txt", text.encode())
    # `ocidiff render` of the saved report gives the same text.
    assert render_text(load_report(data)) == text


@pytest.mark.usefixtures("in_repo")
@pytest.mark.parametrize("code", CLI_CODES)
def test_cli_matches_golden(code: str) -> None:
    runner = CliRunner()
    old, new = pair(code)
    for output, suffix in (("json", "json"), ("text", "txt")):
        result = runner.invoke(app, ["diff", old, new, "--format", output, "--quiet"])
        assert result.exit_code == EXPECTED[code].exit_code, result.stderr
        assert result.stdout == (GOLDEN / f"{code}.{suffix}").read_text(encoding="utf-8")
    # A saved report renders back to the same text.
    result = runner.invoke(app, ["render", str(GOLDEN / f"{code}.json")])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (GOLDEN / f"{code}.txt").read_text(encoding="utf-8")


@pytest.mark.usefixtures("in_repo")
def test_cli_ignore_changes_exit_code_only() -> None:
    runner = CliRunner()
    old, new = pair("file-timestamps")
    result = runner.invoke(app, ["diff", old, new, "--quiet", "--ignore", "file-timestamps",
                                 "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report: Report = load_report(result.stdout.encode())
    assert report.summary.causes == {"file-timestamps": 1}
    assert [c.ignored for c in report.causes] == [True]
    result = runner.invoke(app, ["diff", *pair("image-name"), "--quiet", "--no-default-ignores"])
    assert result.exit_code == 1


def test_help_lists_every_code() -> None:
    result = CliRunner().invoke(app, ["diff", "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, repr(result.exception)
    words = set(re.findall(r"[a-z]+(?:-[a-z]+)*", result.stdout))
    missing = [code for code in ALL_CODES if code not in words]
    assert not missing, result.stdout


def test_cause_docs_are_generated_from_the_table() -> None:
    import gen_cause_docs  # scripts/ is on sys.path (conftest)

    current = (REPO / "docs" / "causes.md").read_text(encoding="utf-8")
    assert current == gen_cause_docs.render(), "run python scripts/gen_cause_docs.py"
    for code in ALL_CODES:
        assert f"| `{code}` |" in current


def test_report_schema_doc_names_every_key() -> None:
    from dataclasses import fields

    from ocidiff.report import CauseCount, Change, Summary

    document = (REPO / "docs" / "report-schema.md").read_text(encoding="utf-8")
    for kind in (Report, Summary, CauseCount, Node, Change):
        for key in fields(kind):
            assert f"| `{key.name}` |" in document, (kind.__name__, key.name)
    for key in ("ignore", "exclude", "platform"):  # the options echo
        assert f"| `{key}` |" in document


def test_real_dependency_bump_is_named() -> None:
    """fixtures/real/depbump: buildah's image with requests 2.31.0 -> 2.32.0 in site-packages."""
    from .conftest import REAL_BUILT

    report = diff_archives(str(REAL_BUILT / "depbump-a.tar"), str(REAL_BUILT / "depbump-b.tar"))
    assert report.summary.causes["dependency-change"] == 1
    assert report.causes[0].code == "dependency-change"
    (change,) = report.causes[0].examples
    assert (change.field, change.old, change.new) == ("requests", "2.31.0", "2.32.0")
    assert change.locator.endswith("site-packages/requests-2.32.0.dist-info")
    # The module whose content changed is listed in RECORD, so it says which upgrade it is from.
    (entry,) = [n for n in _walk(report.tree) if n.kind == "entry"]
    assert entry.name.endswith("requests/__version__.py")
    assert entry.notes == ("part of requests 2.31.0 -> 2.32.0",)
    assert entry.text_diff is not None and '+__version__ = "2.32.0"' in entry.text_diff


def _walk(node: Node) -> list[Node]:
    found = [node]
    for child in node.children:
        found.extend(_walk(child))
    return found


@pytest.mark.usefixtures("in_repo")
def test_digests_in_text_are_whole_in_details_and_short_in_examples() -> None:
    """A digest cut with '...' names nothing: the details show it whole, its hex on one line
    (double-click copies it); the causes summary shows the first 12 hex digits."""
    report = diff_archives(*pair("base-image"))
    (cause,) = [c for c in report.causes if c.code == "base-image"]
    change = cause.examples[0]
    assert change.old and change.new and change.old.startswith("sha256:")
    text = render_text(report)
    summary, _, details = text.partition("\nDetails:\n")
    for digest in (change.old, change.new):
        hex_digits = digest.removeprefix("sha256:")
        assert any(line.strip().startswith(hex_digits) for line in details.splitlines()), digest
        assert digest[:19] in summary  # sha256: and 12 hex digits
        assert digest[:20] not in summary


def test_base_annotations_alone_leave_the_images_equivalent(tmp_path: Path) -> None:
    """A base annotation runs nothing: the same layers and config under another base digest
    (a reproducible base rebuilt, or buildah --layers naming its intermediate) are equivalent.
    A base whose files differ is `different` through those files (the base-image pair)."""
    import cause_pairs  # scripts/ is on sys.path (conftest)

    def annotated(seed: bytes) -> Path:
        digest = "sha256:" + hashlib.sha256(seed).hexdigest()
        spec = cause_pairs.mini(
            manifest_annotations=(("org.opencontainers.image.base.digest", digest),)
        )
        path = tmp_path / f"{seed.decode()}.tar"
        path.write_bytes(cause_pairs.archive(spec))
        return path

    report = diff_archives(str(annotated(b"one")), str(annotated(b"two")))
    assert set(report.summary.causes) == {"base-image"}
    assert report.summary.verdict == "equivalent"
    assert report.summary.exit_code == 1
