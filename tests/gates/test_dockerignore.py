""".dockerignore semantics: the Docker documentation's rules and examples, case by case, and the
walk of a build context (pruning, exceptions inside excluded directories)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocidiff.errors import UsageError
from ocidiff.gates.dockerignore import (
    compile_patterns,
    could_match_below,
    parse_ignore_file,
)
from ocidiff.gates.sourcetree import walk_source

# (ignore file, {path: excluded?})
CASES = [
    # The documentation's first example: `*/temp*`, `*/*/temp*`, `temp?`.
    ("# comment\n*/temp*\n*/*/temp*\ntemp?\n", {
        "somedir/temporary.txt": True, "somedir/temp": True, "temporary.txt": False,
        "somedir/subdir/temporary.txt": True, "tempa": True, "tempab": False,
        "a/b/c/temp": False, "# comment": False,
    }),
    # `*` never crosses `/`: `*.md` is top-level only (unlike .gitignore).
    ("*.md\n", {"README.md": True, "docs/README.md": False}),
    # `**` matches any number of directories, zero included.
    ("**/*.go\n", {"main.go": True, "a/b/c.go": True, "a/b/c.go/x": True, "gopher": False}),
    ("docs/**/*.md\n", {"docs/a.md": True, "docs/x/y/a.md": True, "docs.md": False}),
    ("a/**\n", {"a/b": True, "a/b/c": True, "a": False, "ab/c": False}),
    ("**\n", {"anything": True, "deep/er/path": True}),
    ("a**b\n", {"ab": True, "a/x/b": True, "axb": False}),
    # A pattern excludes a directory and everything below it.
    ("node_modules\n", {"node_modules": True, "node_modules/x/y.js": True,
                        "src/node_modules": False}),
    # Last match wins; the documentation's two README examples.
    ("*.md\n!README*.md\nREADME-secret.md\n", {
        "CHANGES.md": True, "README.md": False, "README-secret.md": True}),
    ("*.md\nREADME-secret.md\n!README*.md\n", {
        "CHANGES.md": True, "README.md": False, "README-secret.md": False}),
    # `!` re-includes below an excluded directory; a later exclusion wins again.
    ("out\n!out/keep.txt\n", {"out": True, "out/a": True, "out/keep.txt": False}),
    ("*\n!src\nsrc/*.tmp\n", {"src/a.py": False, "src/b.tmp": True, "other": True}),
    # Leading `/`, `./`, trailing `/` and `..` are cleaned away (Go's filepath.Clean).
    ("/tests\n./build/\nfoo/../bar\n//x\n", {
        "tests": True, "tests/a.py": True, "build/x": True, "bar": True, "foo": False,
        "x": True, "src/tests": False}),
    # Whitespace around patterns and after `!` is trimmed; `#` only comments in column 1.
    ("  spaced.txt  \n!  spaced.txt\n #notacomment\n", {
        "spaced.txt": False, "#notacomment": True}),
    ("\ufeffbom.txt\n", {"bom.txt": True}),
    # Go filepath.Match details: `?` is one non-separator character, classes negate with `^`
    # (`!` is a member), ranges, escapes; `]` first in a class is a member.
    ("file?.txt\n", {"file1.txt": True, "file/.txt": False, "file12.txt": False}),
    ("[^a]*\n", {"b.txt": True, "a.txt": False}),
    ("[!a]x\n", {"!x": True, "ax": True, "bx": False}),
    ("log[0-9].txt\n", {"log5.txt": True, "loga.txt": False}),
    ("[]]x\n", {"]x": True, "x": False}),
    ("\\*.txt\n", {"*.txt": True, "a.txt": False}),
    ("a.b\n", {"a.b": True, "axb": False}),  # `.` is literal, not a regex wildcard
    ("$HOME\n", {"$HOME": True}),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:24] for c in CASES])
def test_patterns(text: str, expected: dict[str, bool]) -> None:
    rules = parse_ignore_file(text)
    got = {path: rules.excludes(path) for path in expected}
    assert got == expected


@pytest.mark.parametrize(("text", "line"), [
    ("ok\n!\n", 2), ("[abc\n", 1), ("a\nb\n[z-a]\n", 3), ("x\\\n", 1),
])
def test_bad_patterns_name_their_line(text: str, line: int) -> None:
    with pytest.raises(UsageError) as caught:
        parse_ignore_file(text, source="ctx/.dockerignore")
    assert f"line {line}" in caught.value.one_line()
    assert "ctx/.dockerignore" in caught.value.one_line()


def test_blank_and_comment_lines_are_not_patterns() -> None:
    rules = parse_ignore_file("# a comment\n\n   \n#*\n")
    assert rules.patterns == ()
    assert not rules.excludes("anything")


def test_command_line_patterns_use_the_same_syntax() -> None:
    rules = compile_patterns(["**/__pycache__", "!keep/__pycache__"])
    assert rules.excludes("a/b/__pycache__/x.pyc")
    assert not rules.excludes("keep/__pycache__/x.pyc")


@pytest.mark.parametrize(("text", "directory", "reachable"), [
    ("out\n!out/keep.txt\n", "out", True),
    ("out\n!other/keep.txt\n", "out", False),
    ("out\n!keep.txt\n", "out", False),  # same depth as `out`: cannot be inside it
    ("out\n!**/keep.txt\n", "out", True),
    ("out\n!o*/sub/k\n", "out", True),
    ("out\n", "out", False),
])
def test_pruning_only_when_no_exception_can_reach_inside(
    text: str, directory: str, reachable: bool
) -> None:
    assert could_match_below(parse_ignore_file(text), directory) is reachable


def _tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def test_walk_keeps_parents_of_reincluded_files(tmp_path: Path) -> None:
    _tree(tmp_path, ["out/deep/keep.txt", "out/drop.txt", "src/a.py", "src/b.pyc"])
    os.chmod(tmp_path / "out", 0o750)
    rules = parse_ignore_file("out\n!out/deep/keep.txt\n*.pyc\n**/*.pyc\n")
    walk = walk_source(tmp_path, rules)
    paths = {e.path: e for e in walk.entries}
    assert sorted(paths) == ["out", "out/deep", "out/deep/keep.txt", "src", "src/a.py"]
    assert paths["out"].mode == 0o750  # the parent keeps its own mode, as the copy would
    assert walk.ignored == 2  # out/drop.txt and src/b.pyc (out and out/deep came back)


def test_walk_prefix_applies_context_patterns_to_a_subdirectory(tmp_path: Path) -> None:
    _tree(tmp_path, ["src/app.py", "src/tests/t.py", "tests/x.py"])
    rules = parse_ignore_file("src/tests\n")
    walk = walk_source(tmp_path / "src", rules, prefix="src")
    assert [e.path for e in walk.entries] == ["app.py"]


def test_walk_describes_links_and_hashes_like_the_pump(tmp_path: Path) -> None:
    import blake3

    _tree(tmp_path, ["a.txt"])
    os.symlink("a.txt", tmp_path / "link")
    os.symlink("/nowhere", tmp_path / "dangling")
    entries = {e.path: e for e in walk_source(tmp_path, parse_ignore_file("")).entries}
    assert entries["a.txt"].digest == blake3.blake3(b"a.txt").hexdigest()
    assert (entries["link"].kind, entries["link"].target) == ("symlink", "a.txt")
    assert entries["dangling"].target == "/nowhere"


def test_walk_of_a_missing_directory_is_an_input_error(tmp_path: Path) -> None:
    from ocidiff.errors import InputError

    with pytest.raises(InputError, match="not a directory"):
        walk_source(tmp_path / "nope", parse_ignore_file(""))
