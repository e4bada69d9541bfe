"""Real pairs built here with buildah/umoci/skopeo: each diff names the right causes and verdict."""

from __future__ import annotations

import json

import pytest

from ocidiff.api import DiffOptions, diff_archives
from ocidiff.report import dump_report, iter_changes, load_report

from .conftest import REAL_BUILT, REAL_SAMPLES, needs_shared

CASES = [
    # pair, verdict, causes that must be present, causes that must be absent
    ("twice", "equivalent", {"file-timestamps", "created-timestamp"}, {"content", "compression"}),
    ("stamped", "same-image", {"archive-packing"}, {"file-timestamps", "content"}),
    ("srcchange", "different", {"content"}, {"file-timestamps", "compression"}),
    (
        "depbump",
        "different",
        {"dependency-change", "files-added", "files-removed"},
        {"compression"},
    ),
    ("gzip-vs-zstd", "equivalent", {"compression"}, {"content", "file-timestamps"}),
    ("uncompressed-vs-gzip", "equivalent", {"compression"}, {"content"}),
    ("base", "different", {"base-image", "content"}, {"compression"}),
    ("config", "different", {"config"}, {"content", "compression", "file-timestamps"}),
    ("ociarchive-vs-dockerarchive", "equivalent", {"media-types", "compression"},
     {"content", "base-image"}),
    ("xattr", "different", {"xattrs"}, {"content"}),
    ("pycache", "equivalent", {"embedded-path", "embedded-timestamp"}, {"content"}),
    ("intermediate", "different", {"base-image", "content", "history"},
     {"file-timestamps", "compression"}),
]


@pytest.mark.parametrize(("pair", "verdict", "present", "absent"), CASES,
                         ids=[c[0] for c in CASES])
def test_real_pair(pair: str, verdict: str, present: set[str], absent: set[str]) -> None:
    report = diff_archives(str(REAL_BUILT / f"{pair}-a.tar"), str(REAL_BUILT / f"{pair}-b.tar"))
    causes = set(report.summary.causes)
    assert report.summary.verdict == verdict, report.summary
    assert present <= causes, causes
    assert not (absent & causes), causes


def test_appended_whiteout_and_opaque_layers() -> None:
    """umoci appended three layers to the buildah whiteout image: files added, a whiteout for
    /opt/cfg/three.conf and an opaque /data. The base layers align; the new ones are structure."""
    report = diff_archives(
        str(REAL_BUILT / "whiteout.tar"), str(REAL_BUILT / "umoci-unterminated.tar")
    )
    causes = report.summary.causes
    assert report.summary.verdict == "different"
    assert {"layer-structure", "files-added", "files-removed"} <= set(causes)
    assert not {"content", "compression", "file-timestamps"} & set(causes)
    removed = {c.locator for c in iter_changes(report.tree) if c.cause == "files-removed"}
    # the merged filesystem names what the whiteout and the opaque directory took away
    assert removed == {
        "linux/amd64/filesystem/opt/cfg/three.conf",
        "linux/amd64/filesystem/data/keep.txt",
    }


def test_identical_and_exit_codes() -> None:
    path = str(REAL_BUILT / "config-a.tar")
    report = diff_archives(path, path)
    assert report.summary.verdict == "identical" and report.summary.exit_code == 0
    report = diff_archives(str(REAL_BUILT / "stamped-a.tar"), str(REAL_BUILT / "stamped-b.tar"))
    assert report.summary.exit_code == 0  # archive-packing is ignored by default
    report = diff_archives(str(REAL_BUILT / "stamped-a.tar"), str(REAL_BUILT / "stamped-b.tar"),
                           DiffOptions(ignore=()))
    assert report.summary.exit_code == 1


@needs_shared
def test_buildkit_compression_variants_are_compression_only() -> None:
    folder = REAL_SAMPLES / "buildkit-oci-dive"
    base = str(folder / "test-oci-gzip-image.tar")
    for other in ("test-oci-zstd-image.tar", "test-oci-uncompressed-image.tar"):
        report = diff_archives(base, str(folder / other))
        # The samples were exported a second apart: BuildKit's index.json descriptor annotation
        # org.opencontainers.image.created differs too, once; nothing else but compression.
        causes = report.summary.causes
        assert causes["compression"] == 1
        assert set(causes) <= {"compression", "created-timestamp"}
        assert causes.get("created-timestamp", 0) <= 1
        assert report.summary.verdict == "equivalent"


def test_report_is_deterministic_and_round_trips() -> None:
    a, b = str(REAL_BUILT / "depbump-a.tar"), str(REAL_BUILT / "depbump-b.tar")
    first = dump_report(diff_archives(a, b))
    second = dump_report(diff_archives(a, b))
    assert first == second
    document = json.loads(first)
    assert list(document)[:2] == ["schema", "schema_version"]
    assert set(document["summary"]) >= {"verdict", "causes"}
    assert dump_report(load_report(first)) == first


def test_base_digest_over_the_same_first_layer_says_the_base_may_not_have_moved() -> None:
    """buildah --layers writes its last intermediate image as base.digest: a changed app step
    changes it over the very same base. The change stays `base-image` (a base rebuilt on the
    same bottom layer looks alike) but says so; a really different base does not get the note."""
    def base_digest_change(pair: str) -> tuple[str, str | None]:
        old, new = str(REAL_BUILT / f"{pair}-a.tar"), str(REAL_BUILT / f"{pair}-b.tar")
        report = diff_archives(old, new)
        (change,) = [c for c in iter_changes(report.tree)
                     if c.field == "org.opencontainers.image.base.digest"]
        return change.cause, change.detail

    cause, detail = base_digest_change("intermediate")
    assert cause == "base-image"
    assert detail is not None and "first layer is the same" in detail
    assert base_digest_change("base") == ("base-image", None)
