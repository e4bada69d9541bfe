"""The shared reading options: one table of defaults that matches the library's, on every
command that reads images, turned into the OpenOptions the library gets."""

from __future__ import annotations

from dataclasses import fields

import pytest
from typer.testing import CliRunner

from ocidiff.api import OpenOptions
from ocidiff.cli import app
from ocidiff.cli_options import LIMIT_OPTIONS, open_options
from ocidiff.inventory import PumpOptions
from ocidiff.oci.parse import JsonLimits

from .conftest import REAL_BUILT


def test_option_defaults_are_the_library_defaults() -> None:
    library = {f.name: f.default for f in fields(PumpOptions)}
    json_names = {"max_bytes": "max_json_bytes", "max_depth": "max_json_depth"}
    library |= {json_names.get(f.name, f.name): f.default for f in fields(JsonLimits)}
    for name, _, default in LIMIT_OPTIONS:
        assert library[name] == default, name


def test_values_reach_the_open_options() -> None:
    values = {name: default for name, _, default in LIMIT_OPTIONS}
    values |= {"max_entries": 7, "max_json_depth": 5, "max_zstd_window": 1 << 20}
    options = open_options(no_cache=True, **values)
    assert isinstance(options, OpenOptions)
    assert options.pump.max_entries == 7 and options.pump.max_zstd_window == 1 << 20
    assert options.json_limits.max_depth == 5
    assert options.cache is None


@pytest.mark.parametrize(
    "command",
    [["inspect"], ["ls"], ["verify"], ["diff"], ["audit"], ["lint"], ["verify-tree"],
     ["ledger", "record"], ["ledger", "check"]],
    ids=" ".join,
)
def test_every_reading_command_has_every_limit(command: list[str]) -> None:
    shown = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).stdout
    for name, _, _ in LIMIT_OPTIONS:
        assert "--" + name.replace("_", "-") in shown, (command, name)


def test_a_limit_given_on_the_command_line_is_applied() -> None:
    result = CliRunner().invoke(
        app, ["ls", str(REAL_BUILT / "layers.tar"), "--max-entries", "3", "--no-cache"]
    )
    assert result.exit_code == 2
    assert "--max-entries" in result.stderr
