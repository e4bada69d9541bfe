"""One step between consecutive releases of a platform, through the diff engine.

Pure given its inputs: two resolved images and a way to get a layer's record by digest. Layer
records are fetched only for layers whose diff_ids differ (the engine asks for no others), and
they are always in stored form, so the verdict and cause counts are the same whether a layer was
read in this run or loaded from the catalog. Content explainers are not run: captured file bytes
are not kept between runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from ..compression import CompressionInfo
from ..diff.assemble import ReportOptions, build_report
from ..diff.causes import DEFAULT_IGNORES
from ..diff.engine import EngineOptions, Side, diff_image
from ..inventory import LayerInventory
from ..oci.image import ImageArchive, ImageRef
from ..oci.model import ArchiveFormat
from .analysis import LayerRecord

LayerLoader = Callable[[str], LayerRecord | None]


@dataclass(frozen=True, slots=True)
class CauseTally:
    code: str
    count: int
    ignored: bool
    example: str | None  # locator of the first change with this cause


@dataclass(frozen=True, slots=True)
class StepResult:
    verdict: str
    changed_layers: int
    causes: tuple[CauseTally, ...]


class _Inventories(Mapping[str, LayerInventory]):
    """member -> inventory, loaded on first use: the engine looks up changed layers only."""

    def __init__(self, digests: Mapping[str, str], load: LayerLoader) -> None:
        self._digests = digests
        self._load = load
        self._seen: dict[str, LayerInventory | None] = {}

    def __getitem__(self, member: str) -> LayerInventory:
        if member not in self._seen:
            digest = self._digests.get(member)
            record = self._load(digest) if digest else None
            self._seen[member] = record.inventory if record else None
        inventory = self._seen[member]
        if inventory is None:
            raise KeyError(member)
        return inventory

    def __iter__(self) -> Iterator[str]:
        return iter(self._digests)

    def __len__(self) -> int:
        return len(self._digests)


def _side(
    image: ImageRef,
    digests: Mapping[int, str],
    load: LayerLoader,
    compression: Callable[[str], CompressionInfo | None],
) -> Side:
    by_member = {
        layer.member: digests[layer.index]
        for layer in image.layers
        if layer.member and layer.index in digests
    }
    heads: dict[str, CompressionInfo] = {}
    for member, digest in by_member.items():
        info = compression(digest)
        if info is not None:
            heads[member] = info
    failures = {
        layer.member: "layer data not available"
        for layer in image.layers
        if layer.member and layer.index not in digests
    }
    archive = ImageArchive(
        "", ArchiveFormat.OCI_TAR, "none", (), None, (), (image,), (), (), (), (), 0
    )
    return Side(archive, _Inventories(by_member, load), failures, heads)


def diff_step(
    old: tuple[ImageRef, Mapping[int, str]],
    new: tuple[ImageRef, Mapping[int, str]],
    load: LayerLoader,
    compression: Callable[[str], CompressionInfo | None],
) -> StepResult:
    """Verdict and cause counts from `old` to `new`; each comes with its readable layers'
    digests by layer index."""
    sides = (_side(*old, load, compression), _side(*new, load, compression))
    node = diff_image(old[0], new[0], sides, EngineOptions(), None)
    report = build_report(("old", "new"), False, [], [node], ReportOptions(DEFAULT_IGNORES, 1, {}))
    layers = next((c for c in node.children if c.kind == "layers"), None)
    changed = sum(1 for c in layers.children if c.status != "equal") if layers else 0
    causes = tuple(
        CauseTally(c.code, c.count, c.ignored, c.examples[0].locator if c.examples else None)
        for c in sorted(report.causes, key=lambda c: c.code)
    )
    return StepResult(report.summary.verdict, changed, causes)
