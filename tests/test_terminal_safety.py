"""Names, tags and values from an image never reach a terminal as control characters.

An archive can name a file "\\x1b]0;...\\x07" or give a symlink target with a bidirectional
override: printed raw, such text retitles or recolours the terminal, hides lines, or makes a path
read as another. Every text output escapes them; JSON escapes them by its own rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocidiff.cli import app
from ocidiff.safe_text import CONTENT_ESCAPES, terminal_safe

from .hostile.images import layer_tar, oci_image
from .tar.tarbuild import end, member, pax_header

EVIL = "\x1b]0;owned\x07\x1b[31mred\u202egnp.exe\r\nfake line\t\x00"


def test_terminal_safe_escapes_every_unprintable_character() -> None:
    assert terminal_safe("plain/path é ü 漢字") == "plain/path é ü 漢字"
    assert terminal_safe(EVIL) == (
        "\\x1b]0;owned\\x07\\x1b[31mred\\u202egnp.exe\\r\\nfake line\\t\\x00"
    )
    undecodable = b"bad-\xff".decode("utf-8", "surrogateescape")
    assert terminal_safe(undecodable) == "bad-\\xff"
    assert terminal_safe("\x7f\x9b") == "\\x7f\\x9b"  # DEL and the C1 CSI


def test_content_lines_keep_tabs_but_not_controls_or_bidi_overrides() -> None:
    line = "\tif user.is_admin:\u202e } \u2066 \x1b[0m"
    assert line.translate(CONTENT_ESCAPES) == "\tif user.is_admin:\\u202e } \\u2066 \\x1b[0m"


def _evil_layer(content: bytes) -> bytes:
    name = EVIL.encode()
    body = pax_header([(b"path", b"dir/" + name), (b"uname", b"\x1b[2J")])
    body += member(b"placeholder", content, uid=0, gid=0)
    body += pax_header([(b"linkpath", name)]) + member(b"link", typeflag=b"2")
    return body + end()


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("evil")
    base = layer_tar([(b"etc/os-release", b"ID=test\n")])
    old = folder / "old.tar"
    new = folder / "new.tar"
    old.write_bytes(oci_image([base, _evil_layer(b"one\n")]).archive())
    new.write_bytes(oci_image([base, _evil_layer(b"two\n")]).archive())
    return old, new


@pytest.mark.parametrize(
    "command",
    [
        ["ls", "{old}"],
        ["ls", "{old}", "--merged"],
        ["diff", "{old}", "{new}"],
        ["diff", "{old}", "{new}", "--format", "markdown"],
        ["inspect", "{old}", "--deep"],
        ["verify", "{old}"],
    ],
    ids=lambda c: " ".join(c[:1] + c[3:]),
)
def test_text_outputs_carry_no_control_characters(
    archives: tuple[Path, Path], command: list[str]
) -> None:
    old, new = archives
    args = [part.format(old=old, new=new) for part in command]
    result = CliRunner().invoke(app, [*args, "--no-cache"] if args[0] != "verify" else args)
    assert result.exit_code in (0, 1), result.output
    shown = result.stdout
    assert "owned" in shown or args[0] in ("verify", "inspect")  # the name, escaped
    for line in shown.splitlines():
        # A unified diff's content lines may keep their tabs; nothing else may be unprintable.
        body = line.lstrip(" ")
        if body[:1] in (" ", "+", "-") and not body.startswith(("---", "+++")):
            line = line.replace("\t", "")
        assert line.isprintable(), (line, args)
