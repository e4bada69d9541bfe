"""Shared setup for the tar parser tests: make `ocidiff` importable from the source tree.

The builders and harness live in `tarbuild.py` and `harness.py` next to this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import ocidiff  # noqa: F401  (an installed or editable ocidiff wins)
except ImportError:  # running from a plain checkout, as the benchmarks do
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
