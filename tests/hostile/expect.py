"""What a hostile case must lead to, per command: the allowed exit codes, the error class
behind an exit 2, and what the one stderr line (exit 2) or the report (exit 1) must mention.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ocidiff.errors import OcidiffError


@dataclass(frozen=True, slots=True)
class Expect:
    exits: frozenset[int]
    error: type[OcidiffError] | None = None  # the class behind an exit 2 (subclasses count)
    mentions: tuple[str, ...] = ()


def ok() -> Expect:
    return Expect(frozenset({0}))


def fails(error: type[OcidiffError], *mentions: str) -> Expect:
    return Expect(frozenset({2}), error, mentions)


def mismatch(*mentions: str) -> Expect:
    return Expect(frozenset({1}), None, mentions)


def compression_only() -> Expect:
    """`diff` against the original when only the layer blob changed and the config still
    claims the same diff_id: diff trusts the claim (it never decompresses such a layer, so a
    bomb there costs nothing) and names a compression difference; `verify` is what checks the
    claim, and the table expects it to."""
    return Expect(frozenset({1}), None, ("compression",))


def differs(*mentions: str) -> Expect:
    """`diff` finds differences (or marks the comparison incomplete): exit 1."""
    return Expect(frozenset({1}), None, mentions)


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    make: Callable[[Path], Path]  # writes the input under the given directory
    verify: Expect
    ls: Expect
    diff: Expect
    options: tuple[str, ...] = ()  # extra options for every command (a lowered limit)
