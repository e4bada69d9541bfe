"""Shared inputs for the gate tests: the gate fixtures, a fresh copy of their build context, and
a way to run the CLI in-process."""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner, Result

from ..conftest import REPO

GATES = REPO / "fixtures" / "gates"
NEW_COMMIT = hashlib.sha1(b"ocidiff gate fixture: the new source tree").hexdigest()


def make_context(root: Path, *, old: bool = False) -> Path:
    """The fixture's build context with exact modes (a checkout's umask does not leak in)."""
    import make_gate_fixtures

    root.mkdir(parents=True, exist_ok=True)
    tree = make_gate_fixtures.old_tree() if old else make_gate_fixtures.new_tree()
    make_gate_fixtures.write_tree(tree, root)
    return root


def cli(*args: str) -> Result:
    """Run `ocidiff ARGS` in this process; stdout and stderr are kept apart."""
    from ocidiff.cli import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)
