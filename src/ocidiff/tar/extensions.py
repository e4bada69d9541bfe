"""Extension headers ('x', 'g', 'L', 'K') waiting for the member they describe.

Owns their scope rules: an 'x' header and GNU long names apply to the next member only, a 'g'
header to every member that follows (POSIX pax "pax Header Block", GNU tar manual "GNU
Extensions"). It parses record data through `pax`; it never reads the input itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ocidiff.tar.events import TarEntry
from ocidiff.tar.header import RawHeader
from ocidiff.tar.member import build_entry
from ocidiff.tar.pax import PaxRecord, PaxSparse, gnu_long_value, parse_pax_records


class PendingExtensions:
    """What the extension headers read so far say about the next member(s)."""

    __slots__ = ("global_pax", "local_pax", "long_link", "long_name", "member_start")

    def __init__(self) -> None:
        self.global_pax: dict[str, bytes] = {}
        self.local_pax: tuple[PaxRecord, ...] | None = None  # None: no 'x' header yet
        self.long_name: bytes | None = None
        self.long_link: bytes | None = None
        self.member_start: int | None = None  # offset of the next member's first header

    @property
    def is_idle(self) -> bool:
        """No extension applies to the next member (the common, fast case)."""
        return self.member_start is None and not self.global_pax

    def note_header(self, offset: int) -> None:
        """A header block of the next member (an extension or the member itself) is at `offset`."""
        if self.member_start is None:
            self.member_start = offset

    def apply_local_pax(self, data: bytes, offset: int, member: str) -> None:
        # A second 'x' header before the member replaces the first rather than adding to it,
        # as GNU tar and Go's archive/tar read it (tarfile merges them, the first one winning).
        self.local_pax = parse_pax_records(data, offset=offset, member=member)

    def apply_global_pax(self, data: bytes, offset: int, member: str) -> None:
        # POSIX pax: each 'g' record holds for every following member until a record with the
        # same keyword replaces it; an empty value deletes it. (GNU tar 1.34 instead drops all
        # earlier global records at each 'g' header.) The header belongs to no member.
        for key, value in parse_pax_records(data, offset=offset, member=member):
            if value:
                self.global_pax[key] = value
            else:
                self.global_pax.pop(key, None)
        if self.member_start == offset:
            self.member_start = None

    def apply_long_name(self, data: bytes, offset: int, member: str) -> None:
        self.long_name = gnu_long_value(data)

    def apply_long_link(self, data: bytes, offset: int, member: str) -> None:
        self.long_link = gnu_long_value(data)

    def build_member(
        self, raw: RawHeader, header_offset: int, max_member_size: int
    ) -> tuple[TarEntry, PaxSparse | None]:
        """The member headed by `raw`, with every pending extension applied, then forget the
        per-member ones ('x', 'L', 'K'); global records stay."""
        built = build_entry(
            raw,
            long_name=self.long_name,
            long_link=self.long_link,
            global_pax=self.global_pax,
            local_pax=self.local_pax,
            header_offset=header_offset,
            member_start=header_offset if self.member_start is None else self.member_start,
            max_member_size=max_member_size,
        )
        self.local_pax = None
        self.long_name = self.long_link = None
        self.member_start = None
        return built


@dataclass(frozen=True, slots=True)
class ExtensionType:
    """How one extension typeflag is bounded and applied."""

    label: str
    limit_name: str  # the TarLimits field bounding its data
    apply: Callable[[PendingExtensions, bytes, int, str], None]


EXTENSION_TYPES: Mapping[str, ExtensionType] = {
    "x": ExtensionType("pax extended header", "max_pax_record", PendingExtensions.apply_local_pax),
    "g": ExtensionType("pax global header", "max_pax_record", PendingExtensions.apply_global_pax),
    "L": ExtensionType("GNU long name", "max_long_name", PendingExtensions.apply_long_name),
    "K": ExtensionType("GNU long link name", "max_long_name", PendingExtensions.apply_long_link),
}
"""Extension typeflags; every other typeflag heads a member."""
