"""Which layer blobs to read for a batch of releases: each unique digest once across the batch
and the catalog, with a fall-back to another copy when the first one does not match its name.

A layer named by a digest the catalog (or this run) already holds is not read again: its copy is
checked by size and its record comes from the catalog. A layer without a digest (docker save)
is looked up by its diff_id, which is its digest when it is stored uncompressed; otherwise it is
read. `RecordCache` keeps recently used records in memory within a bound.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping

from ..api import OpenedArchive
from ..compression import CompressionInfo
from ..oci.image import LayerRef
from ..source import normalize_member_path
from .analysis import LayerOutcome, LayerRecord, LayerResult
from .catalog import Catalog
from .executor import LayerExecutor, LayerTask
from .release import LayerState

_CACHE_ENTRIES = 400_000  # file entries kept in memory across releases (about 200 MB)

Copy = tuple[str, str]  # (archive path, member)


class RecordCache:
    """Layer records by digest: this run's first, then the catalog; least recently used out."""

    def __init__(self, catalog: Catalog, cache_key: str) -> None:
        self._catalog = catalog
        self._key = cache_key
        self._records: OrderedDict[str, LayerRecord] = OrderedDict()
        self._entries = 0
        self._compression: dict[str, CompressionInfo | None] = {}

    def known(self, digest: str) -> bool:
        return digest in self._records or self._catalog.has_layer(digest, self._key)

    def add(self, record: LayerRecord) -> None:
        if record.digest in self._records:
            self._records.move_to_end(record.digest)
            return
        self._records[record.digest] = record
        self._entries += len(record.inventory.entries or ())
        while self._entries > _CACHE_ENTRIES and len(self._records) > 1:
            _, old = self._records.popitem(last=False)
            self._entries -= len(old.inventory.entries or ())

    def get(self, digest: str) -> LayerRecord | None:
        record = self._records.get(digest)
        if record is not None:
            self._records.move_to_end(digest)
            return record
        record = self._catalog.load_layer(digest, self._key)
        if record is not None:
            self.add(record)
        return record

    def size(self, digest: str) -> int | None:
        record = self._records.get(digest)
        if record is not None:
            return record.inventory.size
        row = self._catalog.db.execute(
            "SELECT size FROM layers WHERE digest = ? AND cache_key = ?", (digest, self._key)
        ).fetchone()
        return None if row is None else int(row[0])

    def compression(self, digest: str) -> CompressionInfo | None:
        if digest not in self._compression:
            record = self._records.get(digest)
            if record is not None:
                self._compression[digest] = record.inventory.compression
            else:
                found = self._catalog.load_compression(digest, self._key)
                self._compression[digest] = found
        return self._compression[digest]


class LayerPlan:
    def __init__(self, records: RecordCache) -> None:
        self._records = records
        self._candidates: dict[str, list[Copy]] = {}  # digest (or copy key) -> copies to try
        self._sizes: dict[Copy, int | None] = {}
        self._resolved: dict[str, LayerRecord] = {}
        self._links: dict[str, dict[str, str]] = {}
        self.outcomes: dict[Copy, LayerOutcome] = {}

    def _copy(self, path: str, member: str) -> Copy:
        """The member a layer path ends at: docker save links `<id>/layer.tar` files of shared
        layers to one copy, which is read once."""
        links = self._links.get(path, {})
        current = normalize_member_path(member)
        for _ in range(16):
            if current not in links:
                break
            current = links[current]
        return (path, current)

    def add_archive(self, path: str, opened: OpenedArchive) -> None:
        sizes = opened.member_sizes
        self._links[path] = {
            m.path: m.link_target for m in opened.source.members() if m.link_target is not None
        }
        for image in opened.archive.images:
            for layer in image.layers:
                if layer.member is None:
                    continue
                copy = self._copy(path, layer.member)
                self._sizes[copy] = sizes.get(copy[1])
                key = self._key(layer, copy)
                if key is not None:
                    candidates = self._candidates.setdefault(key, [])
                    if copy not in candidates:
                        candidates.append(copy)

    def _key(self, layer: LayerRef, copy: Copy) -> str | None:
        """What identifies the blob before reading it; None when it is already known."""
        if layer.digest is not None:
            return None if self._records.known(layer.digest) else layer.digest
        presumed = layer.diff_id
        if presumed and self._records.size(presumed) == self._sizes[copy]:
            return None
        return f"{copy[0]}\0{copy[1]}"

    def execute(
        self, runner: LayerExecutor, opened: Mapping[str, OpenedArchive]
    ) -> dict[Copy, LayerOutcome]:
        """Read one copy per key; where that copy is damaged, try the next one."""
        queue = {key: list(copies) for key, copies in self._candidates.items()}
        while queue:
            picks = [(key, copies.pop(0)) for key, copies in queue.items()]
            results = runner.run([LayerTask(*copy) for _, copy in picks], opened)
            for (key, copy), outcome in zip(picks, results, strict=True):
                self.outcomes[copy] = outcome
                if isinstance(outcome, LayerResult):
                    self._records.add(outcome.record)
                    if "\0" in key or outcome.record.digest == key:
                        self._resolved[key] = outcome.record
            queue = {k: c for k, c in queue.items() if k not in self._resolved and c}
        return self.outcomes

    def state_for(self, path: str) -> Callable[[LayerRef], LayerState | None]:
        def state(layer: LayerRef) -> LayerState | None:
            if layer.member is None:
                return None
            copy = self._copy(path, layer.member)
            size = self._sizes.get(copy)
            outcome = self.outcomes.get(copy)
            if isinstance(outcome, LayerResult):
                return LayerState(outcome.record, None, True, size)
            if outcome is not None:
                return LayerState(None, outcome, True, size)
            known = layer.digest or layer.diff_id
            record = self._resolved.get(known) if known else None
            if record is None and known:
                record = self._records.get(known)
            if record is None:
                return None
            return LayerState(record, None, False, size)

        return state
