"""--format markdown for diff, verify and render: CI-summary sized, lists capped, hostile names
unable to break out of code spans or tables."""

from __future__ import annotations

from dataclasses import replace

from ocidiff.render.markdown import MAX_ROWS, code, escape, render_diff_markdown
from ocidiff.report import Change, Node, Report, Summary

from ..conftest import REAL_BUILT
from .samples import cli


def test_diff_markdown_from_real_builds() -> None:
    result = cli("diff", str(REAL_BUILT / "srcchange-a.tar"), str(REAL_BUILT / "srcchange-b.tar"),
                 "--format", "markdown")
    assert result.exit_code == 1
    text = result.stdout
    assert text.startswith("### ocidiff diff: DIFFERENT")
    assert "| `content` | 1 |" in text and "app/lib/util.py" in text
    assert len(text) < 8000


def test_render_markdown_equals_diff_markdown(tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "report.json"
    a, b = str(REAL_BUILT / "twice-a.tar"), str(REAL_BUILT / "twice-b.tar")
    direct = cli("diff", a, b, "--format", "markdown")
    saved = cli("diff", a, b, "--format", "json", "-o", str(report))
    assert saved.exit_code == direct.exit_code
    rendered = cli("render", str(report), "--format", "markdown")
    assert rendered.exit_code == 0 and rendered.stdout == direct.stdout
    assert direct.stdout.startswith("### ocidiff diff: EQUIVALENT")


def test_verify_markdown() -> None:
    result = cli("verify", str(REAL_BUILT / "layers.tar"), "--format", "markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("### ocidiff verify: OK")


def _report(changes: int, name: str = "usr/bin/x") -> Report:
    leaf = Node("entry", name, "changed", tuple(
        Change("content", f"linux/amd64/layers/0/{name}{i}", "content", "a", "b")
        for i in range(changes)))
    return Report("ocidiff.diff", 1, Summary("different", {"content": changes}, (), 1, False),
                  ("a.tar", "b.tar"), {}, (), Node("archive", "", "changed", children=(leaf,)))


def test_long_lists_are_capped() -> None:
    text = render_diff_markdown(_report(500))
    assert f"... and {500 - MAX_ROWS} more" in text
    assert text.count("| `content` |") == MAX_ROWS
    assert len(text) < 10_000


def test_hostile_names_stay_inside_code_and_tables() -> None:
    name = "a`|b</details>\n# x``"
    span = code(name)
    assert "\n" not in span and "\\|" in span and span.startswith("```")
    text = render_diff_markdown(_report(1, name))
    for line in text.splitlines():
        if line.startswith("| `content`"):
            cells = line.replace("\\|", "").split("|")
            assert len(cells) == 4  # two cells: the name's `|` cannot add columns
    assert "</details>\n# x" not in text
    assert escape("<b>*x*</b>") == "\\<b\\>\\*x\\*\\</b\\>"


def test_incomplete_is_said() -> None:
    report = _report(1)
    report = replace(report, summary=replace(report.summary, incomplete=True))
    assert "**incomplete**" in render_diff_markdown(report)
