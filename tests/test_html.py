"""The HTML reports without a browser: well-formed, deterministic, self-contained, escaping every
hostile name, capped with a note, and wired into the CLI. (test_html_browser.py opens them.)"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import replace
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ocidiff.api import diff_archives
from ocidiff.diff.causes import CAUSES
from ocidiff.render.html import HtmlLimits, render_html
from ocidiff.render.html_files import TreeSpec, build_trees, collect_entries
from ocidiff.render.html_page import DATA_ELEMENT_ID, Section, embed_json, esc, render_page
from ocidiff.render.html_places import iter_places
from ocidiff.render.html_style import CauseStyles
from ocidiff.report import (
    SCHEMA,
    SCHEMA_VERSION,
    CauseCount,
    Change,
    Node,
    Report,
    Summary,
    dump_report,
    load_report,
)

from .conftest import REAL_BUILT, SYNTHETIC

PAIRS = {
    "twice": (REAL_BUILT / "twice-a.tar", REAL_BUILT / "twice-b.tar"),
    "srcchange": (REAL_BUILT / "srcchange-a.tar", REAL_BUILT / "srcchange-b.tar"),
    "depbump": (REAL_BUILT / "depbump-a.tar", REAL_BUILT / "depbump-b.tar"),
    "synthetic": (SYNTHETIC / "app-v1.tar", SYNTHETIC / "app-v1-rebuild.tar"),
}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
SVG_SELF_CLOSING = {"rect", "path", "circle"}


@cache
def pair_report(name: str) -> Report:
    """The diff report of one fixture pair, with short input names (stable across checkouts)."""
    old, new = PAIRS[name]
    report = diff_archives(str(old), str(new))
    return replace(report, inputs=(old.name, new.name))


def hostile_report() -> Report:
    """A report whose every string is an attack on the page: markup, script ends, quotes,
    controls, a lone surrogate, and a path 300 directories deep."""
    key = "linux/amd64"
    layer = f"{key}/layers/0:0"
    evil = '<script>alert("x")</script>'
    deep = "/".join(["d"] * 300) + "/leaf"
    changes = (
        Change("content", f"{layer}/app/{evil}.py", "content", "</script><!--", "'\"&<>", evil),
        Change("file-timestamps", f'{layer}/"><img src=x onerror=alert(1)>', "mtime", "1", "2"),
        Change("permissions", f"{layer}/ctl\x01\x1b[31m\u2028x", "mode", "0644", "0755"),
        Change("ownership", f"{layer}/bad\udcff", "uid", "0", "1000"),
        Change("file-timestamps", f"{layer}/{deep}", "mtime", "1", "2"),
    )
    entry = Node(
        "entry",
        f"app/{evil}.py",
        "changed",
        (),
        (),
        (("old-size", "1"), ("similarity", evil)),
        (),
        f"--- a/{evil}\n+++ b/x\n@@ -1 +1 @@\n-</script>\n+<b>bold</b>\n",
    )
    layers = Node(
        "layers",
        "layers",
        "changed",
        children=(Node("layer", "0:0", "changed", changes, (entry,), (("old-digest", evil),)),),
    )
    config = Node(
        "config",
        "config",
        "changed",
        (Change("config", f"{key}/config/Env", evil, evil, None, evil),),
    )
    image = Node("image", key, "changed", children=(config, layers), notes=(evil,))
    tree = Node("archive", evil, "changed", (), (image,))
    codes = sorted({c.cause for c in changes} | {"config"})
    causes = tuple(
        CauseCount(code, 1, False, CAUSES[code].meaning, CAUSES[code].fix, (changes[0],))
        for code in codes
    )
    summary = Summary("different", dict.fromkeys(codes, 1), (), 1, False)
    return Report(SCHEMA, SCHEMA_VERSION, summary, (evil, "b\x00.tar"), {}, causes, tree)


def tree_paths(report: Report) -> list[str]:
    """Every changed path the page's file trees hold."""
    found = []
    for place in iter_places(report.tree):
        if place.files and place.prefix:
            found.extend(entry.path for entry in collect_entries(place.node, place.prefix)[1])
    return found


def many_files_report(files: int) -> Report:
    """A report with `files` changed files in one layer, 100 per directory, half of them with a
    second cause: big enough that the page must render its tree lazily."""
    locator = "linux/amd64/layers/0:0"
    changes: list[Change] = []
    for i in range(files):
        path = f"srv/app/d{i // 100}/f{i}.txt"
        changes.append(Change("file-timestamps", f"{locator}/{path}", "mtime", "1", "2"))
        if i % 2:
            changes.append(Change("permissions", f"{locator}/{path}", "mode", "0644", "0600"))
    layer = Node("layer", "0:0", "changed", tuple(changes))
    image = Node(
        "image",
        "linux/amd64",
        "changed",
        children=(Node("layers", "layers", "changed", children=(layer,)),),
    )
    counts = {"permissions": files // 2, "file-timestamps": files}
    causes = tuple(
        CauseCount(code, n, False, CAUSES[code].meaning, CAUSES[code].fix, ())
        for code, n in counts.items()
    )
    summary = Summary("different", dict(sorted(counts.items())), (), 1, False)
    tree = Node("archive", "a vs b", "changed", (), (image,))
    return Report(SCHEMA, SCHEMA_VERSION, summary, ("a.tar", "b.tar"), {}, causes, tree)


class Checker(HTMLParser):
    """Balanced nesting, unique ids, and the text of <script> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.refs: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.errors: list[str] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "id" in values:
            self.ids.append(values["id"] or "")
        href = values.get("href") or ""
        if href.startswith("#"):
            self.refs.append(href[1:])
        for name in ("aria-labelledby", "aria-describedby"):
            self.refs.extend((values.get(name) or "").split())
        if tag == "script":
            self._script = values
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID | SVG_SELF_CLOSING:
            self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._script is not None and self.stack and self.stack[-1] == "script":
            self.scripts.append((self._script, data))
            self._script = None


def check(page: bytes) -> Checker:
    text = page.decode("utf-8")
    assert text.startswith('<!DOCTYPE html>\n<html lang="en">')
    checker = Checker()
    checker.feed(text)
    checker.close()
    assert not checker.errors, checker.errors[:5]
    assert checker.stack == [], checker.stack
    assert len(checker.ids) == len(set(checker.ids)), "duplicate ids"
    missing = set(checker.refs) - set(checker.ids)
    assert not missing, missing
    return checker


def page_data(page: bytes) -> dict[str, object]:
    scripts = check(page).scripts
    found = [body for attrs, body in scripts if attrs.get("id") == DATA_ELEMENT_ID]
    assert len(found) == 1
    data = json.loads(found[0])
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_real_pairs_render_well_formed_and_deterministic(name: str) -> None:
    report = pair_report(name)
    page = render_html(report)
    data = page_data(page)
    assert render_html(report) == page
    assert render_html(load_report(dump_report(report))) == page
    text = page.decode()
    for cause in report.causes:
        assert f'id="cause-{cause.code}"' in text
        assert esc(cause.fix) in text
    assert sum(len(t["nodes"]) for t in data["trees"].values()) >= 1  # type: ignore[attr-defined]
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text


def test_page_is_self_contained_and_pins_its_code() -> None:
    """No external reference of any kind; the CSP allows exactly the inline style and script."""
    page = render_html(pair_report("srcchange")).decode()
    assert not re.search(r"""\b(?:src|href)=["'](?!#)""", page)
    assert "@import" not in page and "url(http" not in page
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None and "default-src 'none'" in policy.group(1)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert style is not None and script is not None
    for body in (style.group(1), script.group(1)):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy.group(1)


def test_hostile_strings_are_escaped_everywhere() -> None:
    page = render_html(hostile_report())
    checker = check(page)
    # Exactly our two script elements: the JSON data and the page script.
    assert [attrs.get("type") for attrs, _ in checker.scripts] == ["application/json", None]
    text = page.decode()
    assert "<script>alert" not in text and "<img" not in text and "<!--" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "\x01" not in text and "\x1b" not in text and "\x00" not in text
    assert "\\x01\\x1b[31m" in text
    data_text = checker.scripts[0][1]
    assert "<" not in data_text and ">" not in data_text
    data = json.loads(data_text)
    assert '<script>alert("x")</script>' in data["strings"]  # intact for textContent
    page.decode("utf-8")  # the lone surrogate did not make the page undecodable


def test_embed_json_never_closes_its_element() -> None:
    value = {"a": "</script><script>alert(1)</script>", "b": "<!-- -->", "c": "&amp;"}
    text = embed_json(value)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == value


def test_file_tree_groups_paths_and_counts() -> None:
    key = "linux/amd64/layers/0:0"
    changes = [
        Change(cause, f"{key}/{path}", "mtime", "1", "2")
        for cause, path in (
            ("file-timestamps", "usr/lib/pkg10/a.py"),
            ("file-timestamps", "usr/lib/pkg2/b.py"),
            ("content", "usr/lib/pkg2/b.py"),
            ("permissions", "etc/passwd"),
            ("file-timestamps", "usr/lib"),
        )
    ]
    changes.append(Change("compression", key, "algorithm", "gzip", "zstd"))
    entry = Node("entry", "etc/passwd", "changed", (), (), (("similarity", "99%"),), (), "@@ x\n")
    layer = Node("layer", "0:0", "changed", tuple(changes), (entry,))
    own, entries = collect_entries(layer, key)
    assert [c.cause for c in own] == ["compression"]
    assert [e.path for e in entries] == [
        "etc/passwd",
        "usr/lib",
        "usr/lib/pkg10/a.py",
        "usr/lib/pkg2/b.py",
    ]
    assert entries[0].text_diff == "@@ x\n" and entries[0].facts == (("similarity", "99%"),)
    styles = CauseStyles.of(["content", "file-timestamps", "permissions"])
    built = build_trees([TreeSpec("t", "layer 0", entries)], styles, HtmlLimits())
    nodes = built.data["trees"]["t"]["nodes"]
    names = [(n["p"], n["n"], n["e"]) for n in nodes]
    # "usr/lib" is one row (a directory chain), directories before files, pkg2 before pkg10.
    assert names == [
        (-1, "etc", 1),
        (0, "passwd", 1),
        (-1, "usr/lib", 3),
        (2, "pkg2", 1),
        (3, "b.py", 1),
        (2, "pkg10", 1),
        (5, "a.py", 1),
    ]
    assert nodes[0]["c"] == [2] and nodes[2]["c"] == [0, 1] and nodes[4]["c"] == [0, 1]
    assert "x" in nodes[2] and "x" not in nodes[3]  # usr/lib itself changed; pkg2 did not
    assert nodes[1]["d"] == "@@ x\n" and "x" in nodes[1]


def test_caps_leave_a_note_and_the_page_stays_whole() -> None:
    report = pair_report("synthetic")
    limits = HtmlLimits(max_entries=5, max_value_chars=8, static_rows=3)
    page = render_html(report, limits)
    data = page_data(page)
    trees = data["trees"]
    assert isinstance(trees, dict)
    kept = sum(sum(1 for n in t["nodes"] if "x" in n) for t in trees.values())
    assert kept == 5
    text = page.decode()
    assert "every one is in the JSON report" in text
    assert "more changed entries are listed when JavaScript is enabled" in text
    assert any("more characters]" in s for s in data["strings"])  # type: ignore[union-attr]


def test_verdicts_and_start_here() -> None:
    page = render_html(pair_report("twice")).decode()
    assert "Equivalent" in page and "Start here:" in page
    assert "set SOURCE_DATE_EPOCH and export with rewrite-timestamp=true" in page
    page = render_html(pair_report("srcchange")).decode()
    assert 'class="verdict v-different"' in page
    assert "--- a/app/lib/util.py" in page  # the text diff is in the page for readers without JS


def test_render_page_shell_for_other_reports() -> None:
    """The shell other HTML reports reuse: sections, contents, data, escaping of titles."""
    page = render_page(
        "t <x>",
        [Section("one", "First <1>", "<p>body</p>"), Section("two", "Second", "", in_toc=False)],
        header="<p>head</p>",
        data={"k": "</script>"},
    )
    checker = check(page)
    text = page.decode()
    assert "<title>t &lt;x&gt;</title>" in text and '<a href="#one">First &lt;1&gt;</a>' in text
    assert 'href="#two"' not in text and 'id="two"' in text
    assert json.loads(checker.scripts[0][1]) == {"k": "</script>"}


def test_cli_writes_html_for_diff_render_and_verify(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "ocidiff", *args], capture_output=True, timeout=120
        )

    old, new = (str(p) for p in PAIRS["srcchange"])
    out = tmp_path / "diff.html"
    result = run("diff", old, new, "--format", "html", "-o", str(out), "-q", "--no-cache")
    assert result.returncode == 1, result.stderr
    assert result.stdout == b""
    check(out.read_bytes())
    saved = tmp_path / "report.json"
    run("diff", old, new, "--format", "json", "-o", str(saved), "-q", "--no-cache")
    result = run("render", str(saved), "--format", "html")
    assert result.returncode == 0 and result.stdout == out.read_bytes()
    result = run("verify", old, "--format", "html", "-q")
    assert result.returncode == 0, result.stderr
    assert b"Intact" in result.stdout
    check(result.stdout)


def test_verify_html_lists_every_problem(tmp_path: Path) -> None:
    import tarfile

    from ocidiff.api import OpenOptions, open_archive, verify_archive
    from ocidiff.render.html_verify import render_verify_html

    source = REAL_BUILT / "depbump-a.tar"
    data = bytearray(source.read_bytes())
    with tarfile.open(source) as tar:
        layer = max(
            (m for m in tar.getmembers() if m.name.startswith("blobs/")), key=lambda m: m.size
        )
    data[layer.offset_data + layer.size // 2] ^= 0x01
    bad = tmp_path / "flipped.tar"
    bad.write_bytes(bytes(data))
    options = OpenOptions()
    with open_archive(str(bad), options) as opened:
        report = verify_archive(opened, None, options.pump, None)
    assert not report.ok
    page = render_verify_html(report)
    check(page)
    text = page.decode()
    assert "problem" in text and 'class="verdict v-failed"' in text
    for problem in report.problems:
        assert esc(problem.message) in text
    assert "fetch or export the image again" in text


CAUSE_PAIRS = sorted((SYNTHETIC / "causes").glob("*-a.tar"))


@pytest.mark.parametrize("old", CAUSE_PAIRS, ids=[p.name[:-6] for p in CAUSE_PAIRS])
def test_every_cause_pair_renders(old: Path) -> None:
    """One synthetic pair per cause code: each page is well formed and links every cause to a
    place on the page."""
    new = old.with_name(old.name.replace("-a.tar", "-b.tar"))
    report = diff_archives(str(old), str(new))
    page = render_html(report)
    checker = check(page)
    for cause in report.causes:
        assert f"cause-{cause.code}" in checker.ids
    assert render_html(report) == page


def test_unknown_node_kinds_are_shown_not_dropped() -> None:
    """A tree shape this renderer does not know yet: every change still appears, linked."""
    deep = Change("annotations", "linux/amd64/referrers/sbom", "kind", "spdx", "cyclonedx")
    top = Change("attestation", "archive/referrers", "count", "1", "2")
    inner = Node("referrer", "sbom", "changed", (deep,))
    image = Node("image", "linux/amd64", "changed", children=(Node("referrers", "r", "changed",
                                                                   children=(inner,)),))
    extra = Node("referrers", "index", "changed", (top,))
    tree = Node("archive", "a vs b", "changed", (), (image, extra))
    causes = tuple(
        CauseCount(c.cause, 1, False, CAUSES[c.cause].meaning, CAUSES[c.cause].fix, (c,))
        for c in (deep, top)
    )
    summary = Summary("equivalent", {"annotations": 1, "attestation": 1}, (), 1, False)
    report = Report(SCHEMA, SCHEMA_VERSION, summary, ("a", "b"), {}, causes, tree)
    page = render_html(report)
    check(page)
    text = page.decode()
    assert "cyclonedx" in text and "referrers › sbom › kind" in text
    assert "archive › referrers › count" in text.split('id="x0"', 1)[1]
    assert 'href="#i0-n0" data-filter="annotations"' in text
