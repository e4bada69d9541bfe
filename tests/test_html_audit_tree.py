"""The HTML pages of `audit` and `verify-tree`: well formed, deterministic, hostile names escaped,
and a release-by-layer matrix that marks exactly the layers each release holds."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ocidiff.api import OpenOptions, open_archive, select_images
from ocidiff.audit.summary import (
    AuditSummary,
    CauseRow,
    HazardRow,
    PlatformRow,
    ProblemRow,
    ReleaseRow,
)
from ocidiff.gates.verify_tree import LabelCheck, LayerVerdict, TreeFinding, TreeReport
from ocidiff.render.html_audit import MAX_MATRIX_COLUMNS, ReleaseLayers, render_audit_html
from ocidiff.render.html_tree import render_tree_html

from .conftest import REPO
from .test_html import check

REAL = REPO / "fixtures" / "real"
GATES = REPO / "fixtures" / "gates"
RELEASES = ("base-a", "base-b", "srcchange-a", "srcchange-b")
HOSTILE = '<script>alert("x")</script>&\x1b[31m'


def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ocidiff", *args], capture_output=True, timeout=120
    )


class Tables(HTMLParser):
    """Each table's rows as lists of (cell class, cell text), keyed by the table's class."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self._table: list[list[tuple[str, str]]] | None = None
        self._cell: list[str] | None = None
        self._cls = ""
        self.titles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(values.get("class") or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell, self._cls = [], values.get("class") or ""
        elif tag == "code" and self._cell is not None and values.get("title"):
            self.titles.append(values["title"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append((self._cls, "".join(self._cell).strip()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(page: bytes) -> Tables:
    parser = Tables()
    parser.feed(page.decode())
    parser.close()
    return parser


@pytest.fixture(scope="module")
def audit_page(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("releases")
    for name in RELEASES:
        (folder / f"{name}.tar").symlink_to(REAL / f"{name}.tar")
    out = folder.parent / "audit.html"
    result = cli("audit", str(folder), "--format", "html", "-o", str(out), "-q", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    again = cli("audit", str(folder), "--format", "html", "-q", "--no-cache")
    assert again.returncode == 0, again.stderr
    assert again.stdout == out.read_bytes(), "the same audit gives different pages"
    return out.read_bytes()


def test_audit_page_is_well_formed_and_lists_releases(audit_page: bytes) -> None:
    check(audit_page)
    text = audit_page.decode()
    assert "4 releases intact" in text
    rows = tables(audit_page).tables["releases"]
    assert [row[1][1] for row in rows[1:]] == [f"{name}.tar" for name in RELEASES]
    assert "different" in rows[2][5][1] and "vs base-a.tar" in rows[2][5][1]
    assert rows[2][4][1] == "1 new, 1 shared"


def test_matrix_marks_exactly_the_layers_each_release_has(audit_page: bytes) -> None:
    found = tables(audit_page)
    matrix = found.tables["matrix"]
    key = found.tables["layers"]
    # The key table lists L1..Ln with each digest in full (as the code element's title).
    digests = found.titles
    assert len(digests) == len(key) - 1
    assert [row[0][1] for row in key[1:]] == [f"L{n}" for n in range(1, len(digests) + 1)]
    assert len(set(digests)) == len(digests)
    seen: set[str] = set()
    for name, row in zip(RELEASES, matrix[1:], strict=True):
        assert row[0][1] == f"{name}.tar"
        with open_archive(str(REAL / f"{name}.tar"), OpenOptions()) as opened:
            own = {ref.digest for image in select_images(opened.archive, None)
                   for ref in image.layers}
        marks = dict(zip(digests, row[1:], strict=True))
        for digest, (cls, mark) in marks.items():
            if digest not in own:
                assert (cls, mark) == ("mx mx-absent", "·"), (name, digest)
            elif digest in seen:
                assert (cls, mark) == ("mx mx-shared", "●"), (name, digest)
            else:
                assert (cls, mark) == ("mx mx-new", "✚"), (name, digest)
        assert own <= set(digests)
        seen |= own
    # base-b shares its base layer with base-a: one column marked in two rows.
    assert sum(1 for row in matrix[1:] if row[2][1] != "·") == 2


def _platform(causes: tuple[CauseRow, ...] = ()) -> PlatformRow:
    return PlatformRow(HOSTILE, "linux/amd64", "sha256:" + "a" * 64, 10, 1, 1, 0, 0, None, None,
                       None, 0, HOSTILE, "different", causes,
                       (HazardRow("shipped-log", 1, 5, (HOSTILE,)),))


def hostile_audit(columns: int = 2) -> bytes:
    causes = (CauseRow("content", 3, False), CauseRow("file-timestamps", 9, True))
    releases = (
        ReleaseRow(HOSTILE, 0, "ok", 100, "oci", None, (), (_platform(),)),
        ReleaseRow(HOSTILE + "2", 1, "problems", 100, "oci", HOSTILE,
                   (ProblemRow("digest-mismatch", HOSTILE, HOSTILE),), (_platform(causes),)),
    )
    summary = AuditSummary("ocidiff.audit", 1, releases, columns, 1000, 200)
    digests = tuple(f"sha256:{n:064x}" for n in range(columns))
    layers = [ReleaseLayers(HOSTILE, digests[:1]), ReleaseLayers(HOSTILE + "2", digests)]
    return render_audit_html(summary, layers, {d: 10 for d in digests})


def assert_escaped(page: bytes) -> None:
    text = page.decode()
    assert '<script>alert("x")' not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;\\x1b[31m" in text
    assert "\x1b" not in text


def test_audit_hostile_names_are_escaped_and_problems_listed() -> None:
    page = hostile_audit()
    check(page)
    assert_escaped(page)
    assert page == hostile_audit()
    assert "1 of 2 releases with problems" in page.decode()
    assert "digest-mismatch" in page.decode()
    assert "file-timestamps" not in page.decode()  # ignored causes are not top causes


def test_matrix_caps_its_columns_with_a_note() -> None:
    page = hostile_audit(MAX_MATRIX_COLUMNS + 50)
    check(page)
    matrix = tables(page).tables["matrix"]
    assert len(matrix[0]) == MAX_MATRIX_COLUMNS + 1
    assert f"Only the first {MAX_MATRIX_COLUMNS} of {MAX_MATRIX_COLUMNS + 50}" in page.decode()


def test_verify_tree_page_shows_stale_layers_and_differences(tmp_path: Path) -> None:
    args = ("verify-tree", str(GATES / "app-stale.tar"), "--path", "/app", "--source",
            str(GATES / "source"), "-q")
    out = tmp_path / "tree.html"
    result = cli(*args, "--format", "html", "-o", str(out))
    assert result.returncode == 1, result.stderr
    assert result.stdout == b""
    page = out.read_bytes()
    check(page)
    assert cli(*args, "--format", "html").stdout == page
    text = page.decode()
    assert "Mismatch: 7 differences" in text
    stale = tables(page).tables["layers"]
    assert any("COPY . /app/" in cell for row in stale for _, cell in row)
    findings = tables(page).tables["findings"]
    assert {(row[0][1], row[1][1]) for row in findings[1:]} >= {
        ("content", "lib/greet.py"), ("missing", "lib/new_feature.py"), ("mode", "main.py")}


def test_verify_tree_hostile_names_are_escaped() -> None:
    layer = LayerVerdict(2, "sha256:" + "b" * 64, HOSTILE, 3, 1, 1, True)
    report = TreeReport(
        "ocidiff.verify-tree", 1, False, HOSTILE, "linux/amd64", "/app", HOSTILE, None, 3, 0,
        (TreeFinding("content", HOSTILE, 2, "ab" * 32, "cd" * 32),
         TreeFinding("symlink-target", HOSTILE + "/l", None, HOSTILE, None)),
        (layer,),
        LabelCheck("org.opencontainers.image.revision", HOSTILE, None, "present", HOSTILE),
        (HOSTILE,),
    )
    page = render_tree_html(report)
    check(page)
    assert_escaped(page)
    assert page == render_tree_html(report)
    assert 'href="#stale"' in page.decode()


def test_audit_page_in_a_browser_has_no_console_errors(
    audit_page: bytes, tmp_path: Path
) -> None:
    browser_tests = pytest.importorskip("tests.test_html_browser")
    if browser_tests.sync_playwright is None or not browser_tests.CHROMIUM.exists():
        pytest.skip("playwright or chromium is missing (see tests/test_html_browser.py)")
    path = tmp_path / "audit.html"
    path.write_bytes(audit_page)
    with browser_tests.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(browser_tests.CHROMIUM), args=browser_tests.ARGS
        )
        try:
            opened = browser_tests.Opened(browser, path)
            assert opened.page.locator("table.matrix").is_visible()
            assert opened.page.locator(".verdict .vword").inner_text().strip().endswith(
                "4 releases intact"
            )
            assert not opened.problems, opened.problems
            opened.close()
        finally:
            browser.close()
