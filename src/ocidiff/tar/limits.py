"""The tar parser's safety limits and the one way it reports a tripped limit.

Owns the defaults; it parses nothing. Every limit names itself in the error, with the
command-line option that raises it, so that the message says how to get past it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ocidiff.errors import LimitExceededError


@dataclass(frozen=True, slots=True)
class TarLimits:
    """Safety limits; each trips a `LimitExceededError` that names it."""

    max_pax_record: int = 1 << 20  # bytes of one x/g header's data (and of a sparse map)
    max_long_name: int = 1 << 16  # GNU L/K data size
    max_entries: int = 10_000_000
    # Reject absurd sizes early, stored and expanded (a sparse member may claim any size).
    max_member_size: int = 1 << 46


DEFAULT_LIMITS = TarLimits()

OPTIONS: Mapping[str, str] = {
    "max_pax_record": "--max-pax-record",
    "max_long_name": "--max-long-name",
    "max_entries": "--max-entries",
    # No reader gets through a member bigger than the bytes it may decompress, so the command
    # line sets this limit with that one.
    "max_member_size": "--max-uncompressed",
}
"""The command-line option that sets each field (the CLI passes them down unchanged)."""


def limit_exceeded(limit: str, message: str, **where: str | int | None) -> LimitExceededError:
    """The error for a tripped `TarLimits` field, located by `where` (offset=, member=)."""
    return LimitExceededError(message, limit=limit, option=OPTIONS[limit], **where)
