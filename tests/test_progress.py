"""Progress bars: drawn by the CLI on a terminal only, silenced by --quiet, fed by the pump."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from ocidiff import cli_options
from ocidiff.api import OpenOptions, diff_archives
from ocidiff.terminal import RichProgress

from .conftest import REAL_BUILT


def test_bars_show_each_blob_and_the_total_in_bytes() -> None:
    sink = io.StringIO()
    console = Console(file=sink, force_terminal=True, width=100, color_system=None)
    progress = RichProgress(console)
    diff_archives(
        str(REAL_BUILT / "srcchange-a.tar"),
        str(REAL_BUILT / "srcchange-b.tar"),
        open_options=OpenOptions(),
        progress=progress,
    )
    drawn = sink.getvalue()
    assert "all blobs" in drawn
    # two differing layers of ~400 bytes each: a bar per blob, then the total reaches their sum
    assert "/396 bytes" in drawn and "/398 bytes" in drawn
    assert "794/794 bytes" in drawn
    assert progress._tasks == {} and not progress._started


def test_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeStderr(io.StringIO):
        def __init__(self, tty: bool) -> None:
            super().__init__()
            self._tty = tty

        def isatty(self) -> bool:
            return self._tty

    monkeypatch.setattr(cli_options.sys, "stderr", FakeStderr(tty=False))
    assert cli_options.progress_display(quiet=False) is None
    monkeypatch.setattr(cli_options.sys, "stderr", FakeStderr(tty=True))
    assert isinstance(cli_options.progress_display(quiet=False), RichProgress)
    assert cli_options.progress_display(quiet=True) is None
