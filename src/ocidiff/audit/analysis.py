"""One layer, analysed once for the audit: the per-layer pump plus the content facts.

The unit of work an executor runs, on this machine or on a Dask worker. The result is a
`LayerRecord` in the form the catalog stores (no chunk lists, no captured bytes), so that a layer
read now and a layer loaded back from the catalog are the same value and later steps (diffs,
lint) give the same answers either way. Reads blobs; creates no threads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..api import OpenedArchive, OpenOptions, open_archive, plain_digest, pump_member
from ..compression import new_decoder, sniff
from ..errors import OcidiffError
from ..inventory import NO_FILES, Depth, LayerInventory, PumpOptions, normalize_entry_path
from ..progress import Progress
from ..tar.events import ArchiveEnd, EntryData, EntryEnd, EntryHeader, EntryKind, NeedData
from ..tar.parser import TarParser
from .facts import LayerFacts, extract_facts, wanted_entries

# Package databases run to a few MiB; .pyc and .gz headers are small. The pump captures files up
# to this size; the few wanted files it could not keep are fetched by a second, targeted pass.
CAPTURE_MAX = 8 << 20
CAPTURE_BUDGET = 64 << 20


def audit_pump_options(base: PumpOptions = PumpOptions()) -> PumpOptions:
    return replace(
        base, depth=Depth.INVENTORY, capture_max=CAPTURE_MAX, capture_budget=CAPTURE_BUDGET
    )


@dataclass(frozen=True, slots=True)
class LayerRecord:
    """A layer as the catalog keeps it: the inventory (entries without chunks, no captured
    bytes) and its content facts."""

    inventory: LayerInventory
    facts: LayerFacts

    @property
    def digest(self) -> str:
        return self.inventory.digest


@dataclass(frozen=True, slots=True)
class LayerResult:
    record: LayerRecord
    bytes_read: int


@dataclass(frozen=True, slots=True)
class LayerFailure:
    """A blob the pump could not get through; its plain sha256 when it could be hashed."""

    message: str
    digest: str
    size: int
    bytes_read: int


LayerOutcome = LayerResult | LayerFailure


def stored_form(inventory: LayerInventory, facts: LayerFacts) -> LayerRecord:
    entries = inventory.entries
    if entries is not None:
        entries = tuple(e if e.chunks is None else replace(e, chunks=None) for e in entries)
    return LayerRecord(replace(inventory, entries=entries, captured=NO_FILES), facts)


def analyse_member(
    opened: OpenedArchive,
    member: str,
    options: PumpOptions,
    progress: Progress | None = None,
) -> LayerOutcome:
    """Inventory one layer blob and extract its facts; failures become values, not raises."""
    counter = _Counting(progress)
    try:
        # the pump may answer from the layer cache or from a streamed pass: count real reads
        inventory = pump_member(opened, member, options, counter)
        read = counter.total
        contents = _contents_by_path(inventory)
        missing = _missing(inventory)
        if missing:
            extra, more = _read_files(opened, member, missing)
            contents.update(extra)
            read += more
        facts = extract_facts(inventory.entries or (), contents)
    except OcidiffError as exc:
        digest, size = plain_digest(opened, member)
        located = exc.located(file=opened.source.name, blob=member)
        return LayerFailure(located.one_line(), digest, size, size)
    return LayerResult(stored_form(inventory, facts), read)


def analyse_at(path_text: str, member: str, options: OpenOptions) -> LayerOutcome:
    """`analyse_member` for a worker that only has the archive's path (every worker must see
    the same file system path as the coordinator)."""
    try:
        opened = open_archive(path_text, options)
    except OcidiffError as exc:
        return LayerFailure(exc.one_line(), "unreadable", 0, 0)
    with opened:
        return analyse_member(opened, member, options.pump)


def _missing(inventory: LayerInventory) -> set[str]:
    """Wanted files the pump did not capture (too big for the budget)."""
    captured = inventory.captured
    return {
        e.path
        for e in wanted_entries(inventory.entries or ())
        if e.size <= CAPTURE_MAX and e.digest not in captured
    }


def _contents_by_path(inventory: LayerInventory) -> dict[str, bytes]:
    captured = inventory.captured
    return {
        e.path: captured[e.digest]
        for e in wanted_entries(inventory.entries or ())
        if e.digest is not None and e.digest in captured
    }


class _Counting:
    """Passes progress on and counts the bytes actually read (not served from a cache)."""

    def __init__(self, inner: Progress | None) -> None:
        self._inner = inner
        self.total = 0
        self._done: dict[str, int] = {}

    def begin(self, label: str, total_bytes: int) -> None:
        if self._inner is not None:
            self._inner.begin(label, total_bytes)

    def advance(self, label: str, done_bytes: int) -> None:
        self.total += done_bytes - self._done.get(label, 0)
        self._done[label] = done_bytes
        if self._inner is not None:
            self._inner.advance(label, done_bytes)

    def end(self, label: str) -> None:
        if self._inner is not None:
            self._inner.end(label)


class _Done(Exception):
    """Every wanted file was found: stop reading the blob."""


def _read_files(
    opened: OpenedArchive, member: str, paths: set[str]
) -> tuple[dict[str, bytes], int]:
    """A second pass over one blob keeping only `paths`; returns the files and bytes read."""
    found: dict[str, bytes] = {}
    parser = TarParser()
    current: list[bytes] | None = None
    read = 0

    def sink(piece: bytes | memoryview) -> None:
        nonlocal current
        parser.feed(piece)
        while True:
            event = parser.next_event()
            if isinstance(event, NeedData | ArchiveEnd):
                return
            if isinstance(event, EntryHeader):
                wanted = event.entry.kind is EntryKind.FILE
                path = normalize_entry_path(event.entry.name)
                current = [] if wanted and path in paths else None
            elif isinstance(event, EntryData) and current is not None:
                current.append(bytes(event.data))
            elif isinstance(event, EntryEnd) and current is not None:
                found[normalize_entry_path(event.entry.name)] = b"".join(current)
                current = None
                if len(found) == len(paths):
                    raise _Done

    with opened.source.open(member) as handle:
        head = handle.read(1 << 20)
        read += len(head)
        decoder = new_decoder(sniff(head))
        try:
            data = head
            while data:
                decoder.feed(data, sink)
                data = handle.read(1 << 20)
                read += len(data)
        except _Done:
            pass
    return found, read
