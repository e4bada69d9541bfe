"""A bounded run of the coverage-guided fuzzer (scripts/fuzz.py, atheris): any crash, hang or
memory blow-up it finds in the readers fails the test, naming the saved input.

Off by default (it needs the `fuzz` extra and a minute of one core): CI sets
OCIDIFF_FUZZ_SECONDS=60 and installs '.[test,fuzz]'. Longer hunts run the script directly.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

SECONDS = int(os.environ.get("OCIDIFF_FUZZ_SECONDS", "0"))


@pytest.mark.skipif(not SECONDS, reason="set OCIDIFF_FUZZ_SECONDS to run the atheris fuzzer")
@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="needs the fuzz extra")
def test_bounded_atheris_run(tmp_path: Path) -> None:
    command = [sys.executable, str(REPO / "scripts" / "fuzz.py"), "all", "--work", str(tmp_path),
               "--budget", str(SECONDS), "-timeout=30", "-rss_limit_mb=2048"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS + 600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "0 crash(es)" in result.stdout, result.stdout
