"""The tar parser's safety limits and the one way it reports a tripped limit.

Owns the defaults; it parses nothing. Every limit names itself in the error so that the message
can say which option raises it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocidiff.errors import LimitExceededError


@dataclass(frozen=True, slots=True)
class TarLimits:
    """Safety limits; each trips a `LimitExceededError` that names it."""

    max_pax_record: int = 1 << 20  # bytes of one x/g header's data (and of a sparse map)
    max_long_name: int = 1 << 16  # GNU L/K data size
    max_entries: int = 10_000_000
    max_member_size: int = 1 << 46  # reject absurd sizes early (stored and expanded)


DEFAULT_LIMITS = TarLimits()


def limit_exceeded(limit: str, message: str, **where: str | int | None) -> LimitExceededError:
    """The error for a tripped `TarLimits` field, located by `where` (offset=, member=)."""
    return LimitExceededError(message, limit=limit, option=f"TarLimits.{limit}", **where)
