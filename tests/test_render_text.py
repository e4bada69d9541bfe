"""The 80-column text report: what is cut, where lines break."""

from __future__ import annotations

from ocidiff.render.text import _short, _wrap

LONG = "venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/INSTALLER"


def test_a_long_path_keeps_its_file_name() -> None:
    shown = _short(LONG)
    assert len(shown) <= 60
    assert shown == ".../site-packages/requests-2.31.0.dist-info/INSTALLER"


def test_long_prose_keeps_its_start() -> None:
    text = "/bin/sh -c #(nop) COPY dir:" + "a" * 80 + " in /app/"
    assert _short(text) == text[:57] + "..."


def test_digests_are_whole_or_short() -> None:
    digest = "sha256:" + "0123456789abcdef" * 4
    assert _short(digest) == digest
    assert _short(digest, brief=True) == "sha256:0123456789ab"


def test_a_path_fills_the_line_it_starts_on() -> None:
    lines = _wrap("          entry " + LONG + ": changed", hang=14)
    assert lines[0].startswith("          entry venv/")  # not "entry" alone on its line
    assert all(len(line) <= 80 for line in lines)
    # Broken only after a '/': the pieces join back into the path.
    assert "".join(line.strip() for line in lines) == f"entry {LONG}: changed"


def test_a_digest_breaks_after_its_algorithm() -> None:
    digest = "sha256:" + "0123456789abcdef" * 4
    lines = _wrap("base.digest: " + digest + " -> " + digest, indent="  ", hang=10)
    assert sum(line.strip() == "0123456789abcdef" * 4 + " ->" or
               line.strip() == "0123456789abcdef" * 4 for line in lines) == 2
    assert all(len(line) <= 80 for line in lines)
