"""Writes docs/causes.md, the cause code table, from `ocidiff.diff.causes.CAUSES`.

The table in the code is the single source: run this after adding a code or changing a meaning
or fix. `--check` exits 1 when docs/causes.md differs from what would be written (the test suite
runs the same comparison).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ocidiff.diff.causes import CAUSES, DEFAULT_IGNORES

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "causes.md"

INTRO = """\
# Cause codes

Every difference `ocidiff diff` reports carries one of these codes: the machine contract of the
JSON report (`summary.causes` maps each code found to its count). Codes are never renamed; new ones
may be added. This file is generated from `src/ocidiff/diff/causes.py` by
`scripts/gen_cause_docs.py`; do not edit it by hand.

- **semantic**: can change what a container runs (its files, their metadata, its runtime config).
  `--semantic` ignores every code marked "no".
- **ignored by default**: accepted unless `--no-default-ignores` is given (two exports of one
  image are the same build).
- Codes are listed by impact, the order the report ranks the causes it found in (within one
  impact, the report puts the more frequent first). `--ignore CODE` accepts a code: ignored
  causes still appear in the report, marked ignored, and do not count for the exit code.
"""

OUTRO = """
`fixtures/synthetic/causes/<code>-a.tar` and `-b.tar` hold a small image pair for each code;
`tests/golden/<code>.json` and `.txt` are their reports.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The whole of docs/causes.md."""
    rows = sorted(CAUSES.values(), key=lambda c: (c.impact, c.code))
    lines = [
        INTRO,
        "| code | meaning | what to fix at the build | semantic | ignored by default |",
        "|---|---|---|---|---|",
    ]
    for cause in rows:
        semantic = "yes" if cause.semantic else "no"
        default = "yes" if cause.code in DEFAULT_IGNORES else "no"
        lines.append(
            f"| `{cause.code}` | {_cell(cause.meaning)} | {_cell(cause.fix)} | {semantic} "
            f"| {default} |"
        )
    return "\n".join(lines) + "\n" + OUTRO


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python scripts/gen_cause_docs.py",
                  file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
