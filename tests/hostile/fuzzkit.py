"""Shared pieces of the property-based fuzz tests: an in-memory archive source, the JSON value
strategy, and the contract check (only the ocidiff error family may escape).

The archives are `MemorySource`s built straight from (path, bytes) pairs and links, so
hypothesis can try thousands of shapes without writing a file.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ocidiff.api import OpenedArchive, missing_layers, verify_archive
from ocidiff.errors import OcidiffError
from ocidiff.inventory import Depth, PumpOptions
from ocidiff.oci.image import ImageArchive
from ocidiff.oci.layout import resolve_archive
from ocidiff.oci.parse import JsonLimits
from ocidiff.source import Member, MemorySource, normalize_member_path, resolve_link
from ocidiff.tar.events import EntryKind

# A few seconds per test in the suite, the same examples every run; OCIDIFF_FUZZ_EXAMPLES=N
# asks for N fresh random examples per test instead (a longer local hunt).
_EXAMPLES = os.environ.get("OCIDIFF_FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(_EXAMPLES) if _EXAMPLES else 120,
    deadline=None,
    derandomize=not _EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Small limits: a hostile size must trip a limit, not take time.
PUMP = PumpOptions(max_uncompressed=1 << 22, max_entries=10_000, max_pax_record=1 << 14)
JSON = JsonLimits(max_bytes=1 << 16, max_depth=32, max_index_depth=4)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)


def memory_archive(
    files: Sequence[tuple[str, bytes]], links: Sequence[tuple[str, str]] = (), name: str = "fuzz"
) -> MemorySource:
    """An archive of regular files and symlinks (path, target), in the given order."""
    members: list[Member] = []
    data: dict[str, bytes] = {}
    for path, content in files:
        norm = normalize_member_path(path)
        members.append(Member(norm, EntryKind.FILE, len(content), len(members)))
        data[norm] = content
    for path, target in links:
        norm = normalize_member_path(path)
        resolved = resolve_link(target, posixpath.dirname(norm), hardlink=False)
        members.append(Member(norm, EntryKind.SYMLINK, 0, len(members), resolved))
    return MemorySource(name, tuple(members), data)


def only_our_errors(action: Callable[[], Any]) -> Any:
    """Run `action`; an OcidiffError is an accepted outcome (None), anything else propagates."""
    try:
        return action()
    except OcidiffError as error:
        assert error.message and error.one_line()
        return None


def exercise(source: MemorySource) -> ImageArchive | None:
    """Resolve the archive, verify it, and inventory every layer of every image, as the
    commands do; the contract holds at every step."""
    archive: ImageArchive | None = only_our_errors(
        lambda: resolve_archive(source, limits=JSON)
    )
    if archive is None:
        return None
    opened = OpenedArchive(source, archive)
    if archive.images:
        report = only_our_errors(lambda: verify_archive(opened, None, PUMP))
        if report is not None:
            assert report.ok == (not report.problems)
    missing_layers(archive.images)
    from ocidiff.api import pump_member

    inventory = PumpOptions(
        depth=Depth.INVENTORY, max_uncompressed=PUMP.max_uncompressed, max_entries=10_000
    )
    for image in archive.images:
        for layer in image.layers:
            if layer.member is not None:
                member = layer.member
                only_our_errors(lambda m=member: pump_member(opened, m, inventory))  # type: ignore[misc]
    return archive


__all__ = ["FUZZ", "JSON", "PUMP", "exercise", "json_values", "memory_archive", "only_our_errors"]
