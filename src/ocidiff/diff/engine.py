"""The diff engine: two resolved archives plus their layer facts -> a difference tree.

Pure: every input is a value gathered by the orchestrator (`api.diff_archives`), which decides
what to read; this module never touches a file. Content addresses first: equal digests are
skipped, diff_ids are compared before any tar is opened.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..compression import CompressionInfo
from ..digest import short
from ..filesystem import merge_layers
from ..inventory import LayerInventory
from ..oci.image import ImageArchive, ImageRef
from ..oci.model import (
    ANNOTATION_BASE_DIGEST,
    ANNOTATION_CREATED,
    ANNOTATION_REWRITTEN,
    BASE_ANNOTATIONS,
)
from ..report import Change, Node
from .config import diff_config, map_diff
from .entries import ContentExplainer, compare_entry_lists
from .match import Aligned, align_layers

_NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


@dataclass(frozen=True, slots=True)
class Side:
    """What the orchestrator gathered about one input."""

    archive: ImageArchive
    inventories: Mapping[str, LayerInventory]  # member -> inventory (changed layers only)
    failures: Mapping[str, str]  # member -> why it could not be read
    heads: Mapping[str, CompressionInfo]  # member -> compression facts of compression-only layers
    contents: Mapping[str, bytes] = field(default_factory=dict)  # blake3 -> captured bytes


@dataclass(frozen=True, slots=True)
class EngineOptions:
    exclude: tuple[str, ...] = ()


def image_key(image: ImageRef) -> str:
    return str(image.platform)


def layers_to_read(
    old: ImageRef, new: ImageRef
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Members to inventory (old, new) and members whose heads explain compression (old, new)."""
    if old.manifest_digest is not None and old.manifest_digest == new.manifest_digest:
        return [], [], [], []
    steps = align_layers(
        [layer.diff_id for layer in old.layers], [layer.diff_id for layer in new.layers]
    )
    read_old: list[str] = []
    read_new: list[str] = []
    head_old: list[str] = []
    head_new: list[str] = []
    for step in steps:
        a = old.layers[step.old] if step.old is not None else None
        b = new.layers[step.new] if step.new is not None else None
        if step.same_key and a and b:
            if a.digest != b.digest and a.member and b.member:
                head_old.append(a.member)
                head_new.append(b.member)
            continue
        if a is not None and a.member:
            read_old.append(a.member)
        if b is not None and b.member:
            read_new.append(b.member)
    if _structure_changed(steps):
        read_old = [layer.member for layer in old.layers if layer.member]
        read_new = [layer.member for layer in new.layers if layer.member]
    return read_old, read_new, head_old, head_new


def _structure_changed(steps: tuple[Aligned, ...]) -> bool:
    return any(step.old is None or step.new is None for step in steps)


def diff_image(
    old: ImageRef,
    new: ImageRef,
    sides: tuple[Side, Side],
    options: EngineOptions,
    explain: ContentExplainer | None,
) -> Node:
    key = image_key(old)
    facts = (
        ("old-manifest", old.manifest_digest or "-"),
        ("new-manifest", new.manifest_digest or "-"),
    )
    if old.manifest_digest is not None and old.manifest_digest == new.manifest_digest:
        # The same image can still carry other attestations (a rebuild with identical output
        # records another build invocation): they live beside the manifest, not in it.
        attested = _attestation_changes(old, new, key)
        return Node("image", key, "changed" if attested else "equal", tuple(attested), facts=facts)
    changes = _manifest_changes(old, new, key)
    config_node = diff_config(old.config, new.config, f"{key}/config")
    layers_node, fs_node = diff_layers(old, new, sides, options, explain, key)
    children = tuple(n for n in (config_node, layers_node, fs_node) if n is not None)
    status = "changed" if changes or any(c.status != "equal" for c in children) else "equal"
    return Node("image", key, status, tuple(changes), children, facts)


def _manifest_changes(old: ImageRef, new: ImageRef, key: str) -> list[Change]:
    changes: list[Change] = []
    old_type = old.manifest.media_type if old.manifest else "docker-archive (no manifest)"
    new_type = new.manifest.media_type if new.manifest else "docker-archive (no manifest)"
    if old_type != new_type:
        changes.append(Change("media-types", f"{key}/manifest", "mediaType", old_type, new_type))
    both = old.manifest is not None and new.manifest is not None
    for name, a, b in map_diff(_annotations(old), _annotations(new)) if both else ():
        cause = (
            "created-timestamp"
            if name == ANNOTATION_CREATED
            else ("base-image" if name in BASE_ANNOTATIONS else "annotations")
        )
        detail = _same_first_layer(old, new) if name == ANNOTATION_BASE_DIGEST else None
        changes.append(Change(cause, f"{key}/manifest/annotations", name, a, b, detail))
    changes.extend(_attestation_changes(old, new, key))
    return changes


def _same_first_layer(old: ImageRef, new: ImageRef) -> str | None:
    """A base digest that changed over an identical first layer may name no other base at all:
    buildah --layers writes its last intermediate image there, which changes with any earlier
    step. Said, not decided: a base rebuilt on the same bottom layer looks the same."""
    first = [(layers[0].diff_id or layers[0].digest) if layers else None
             for layers in (old.layers, new.layers)]
    if first[0] is None or first[0] != first[1]:
        return None
    return (
        "the first layer is the same in both, so the base may not have moved: buildah --layers "
        "names its last intermediate image here"
    )


def _attestation_changes(old: ImageRef, new: ImageRef, key: str) -> list[Change]:
    old_att = tuple(a.descriptor.digest for a in old.attestations)
    new_att = tuple(a.descriptor.digest for a in new.attestations)
    if old_att == new_att:
        return []
    return [
        Change(
            "attestation",
            f"{key}/attestations",
            "digests",
            ",".join(short(d) for d in old_att) or "none",
            ",".join(short(d) for d in new_att) or "none",
        )
    ]


def _annotations(image: ImageRef) -> dict[str, str]:
    merged = dict(image.manifest_annotations)
    if image.manifest is not None:
        merged.update(image.manifest.annotations)
    for name in _NAME_ANNOTATIONS:
        merged.pop(name, None)
    return merged


# -- layers -----------------------------------------------------------------------------------


def diff_layers(
    old: ImageRef,
    new: ImageRef,
    sides: tuple[Side, Side],
    options: EngineOptions,
    explain: ContentExplainer | None,
    key: str,
) -> tuple[Node, Node | None]:
    steps = align_layers(
        [layer.diff_id for layer in old.layers], [layer.diff_id for layer in new.layers]
    )
    children: list[Node] = []
    changes: list[Change] = []
    epochs = (_epoch(old), _epoch(new))
    structure = _structure_changed(steps)
    for step in steps:
        children.append(
            _layer_node(step, old, new, sides, options, explain, key, epochs, structure)
        )
    if structure:
        changes.append(
            Change(
                "layer-structure",
                f"{key}/layers",
                "count",
                str(len(old.layers)),
                str(len(new.layers)),
                "layer boundaries differ",
            )
        )
    changes.extend(_base_image(steps, key))
    fs_node = (
        _filesystem_node(old, new, sides, options, explain, key, epochs) if structure else None
    )
    status = "changed" if changes or any(c.status != "equal" for c in children) else "equal"
    return Node("layers", "layers", status, tuple(changes), tuple(children)), fs_node


def _epoch(image: ImageRef) -> int | None:
    """The SOURCE_DATE_EPOCH an image claims: BuildKit's rewrite annotation on its layers."""
    for layer in image.layers:
        for name, value in layer.annotations:
            if name == ANNOTATION_REWRITTEN and value.isdigit():
                return int(value)
    return None


def _base_image(steps: tuple[Aligned, ...], key: str) -> list[Change]:
    """Leading layers that differ as a block, followed by at least one layer that matches."""
    leading = 0
    for step in steps:
        if step.same_key:
            break
        leading += 1
    if leading and leading < len(steps) and any(s.same_key for s in steps[leading:]):
        return [
            Change(
                "base-image",
                f"{key}/layers",
                "leading-layers",
                None,
                None,
                f"the first {leading} layer(s) differ, later ones are shared",
            )
        ]
    return []


def _layer_node(
    step: Aligned,
    old: ImageRef,
    new: ImageRef,
    sides: tuple[Side, Side],
    options: EngineOptions,
    explain: ContentExplainer | None,
    key: str,
    epochs: tuple[int | None, int | None],
    structure: bool,
) -> Node:
    a = old.layers[step.old] if step.old is not None else None
    b = new.layers[step.new] if step.new is not None else None
    name = (
        f"{step.old if step.old is not None else '-'}:{step.new if step.new is not None else '-'}"
    )
    locator = f"{key}/layers/{name}"
    facts = (
        ("old-digest", (a.digest or a.member or "-") if a else "-"),
        ("new-digest", (b.digest or b.member or "-") if b else "-"),
        ("old-diff-id", (a.diff_id or "-") if a else "-"),
        ("new-diff-id", (b.diff_id or "-") if b else "-"),
        # stored blob sizes, from the descriptors, so presenters can draw layers to scale
        *((("old-size", str(a.size)),) if a is not None and a.size is not None else ()),
        *((("new-size", str(b.size)),) if b is not None and b.size is not None else ()),
    )
    if a is None or b is None:
        status = "added" if a is None else "removed"
        return Node(
            "layer",
            name,
            status,
            (
                Change(
                    "layer-structure",
                    locator,
                    "layer",
                    None if a is None else "present",
                    None if b is None else "present",
                ),
            ),
            (),
            facts,
        )
    if step.same_key:
        if a.digest == b.digest:
            return Node("layer", name, "equal", (), (), facts)
        return Node(
            "layer",
            name,
            "changed",
            tuple(_compression_changes(a.member, b.member, sides, locator, a, b)),
            (),
            facts,
        )
    if structure:
        # Entry-level causes are counted once, on the merged filesystem, when boundaries moved.
        return Node(
            "layer",
            name,
            "changed",
            (Change("layer-structure", locator, "diff_id", a.diff_id, b.diff_id),),
            (),
            facts,
        )
    inv_a = sides[0].inventories.get(a.member or "")
    inv_b = sides[1].inventories.get(b.member or "")
    if inv_a is None or inv_b is None or inv_a.entries is None or inv_b.entries is None:
        why = (
            sides[0].failures.get(a.member or "")
            or sides[1].failures.get(b.member or "")
            or "layer data not available"
        )
        return Node(
            "layer",
            name,
            "incomplete",
            (Change("incomplete", locator, "layer", None, None, why),),
            (),
            facts,
            (why,),
        )
    found = compare_entry_lists(
        inv_a.entries,
        inv_b.entries,
        locator,
        exclude=options.exclude,
        contents=ChainMap(sides[1].contents, sides[0].contents),  # type: ignore[arg-type]
        explain=explain,
        epochs=epochs,
    )
    changes = list(found.changes)
    if inv_a.trailer != inv_b.trailer or inv_a.trailing_data_bytes != inv_b.trailing_data_bytes:
        changes.append(
            Change("tar-encoding", locator, "end-of-archive", _trailer(inv_a), _trailer(inv_b))
        )
    status = "changed" if changes or found.entries else "equal"
    return Node("layer", name, status, tuple(changes), found.entries, facts)


def _trailer(inventory: LayerInventory) -> str:
    trailer = inventory.trailer.value if inventory.trailer else "none"
    extra = f" +{inventory.trailing_data_bytes} bytes" if inventory.trailing_data_bytes else ""
    return trailer + extra


def _compression_changes(
    member_a: str | None,
    member_b: str | None,
    sides: tuple[Side, Side],
    locator: str,
    a: object,
    b: object,
) -> list[Change]:
    info_a = sides[0].heads.get(member_a or "")
    info_b = sides[1].heads.get(member_b or "")
    if info_a is None or info_b is None:
        return [Change("compression", locator, "blob", None, None, "same diff_id, different blob")]
    if info_a.kind is not info_b.kind:
        return [Change("compression", locator, "algorithm", info_a.kind.value, info_b.kind.value)]
    details: list[Change] = []
    ga, gb = info_a.gzip_header, info_b.gzip_header
    if ga is not None and gb is not None:
        for attr in ("mtime", "os", "xfl", "flags", "name"):
            if getattr(ga, attr) != getattr(gb, attr):
                details.append(
                    Change(
                        "compression",
                        locator,
                        f"gzip-{attr}",
                        str(getattr(ga, attr)),
                        str(getattr(gb, attr)),
                    )
                )
    za, zb = info_a.zstd_frame, info_b.zstd_frame
    if za is not None and zb is not None and za != zb:
        details.append(Change("compression", locator, "zstd-frame", _zstd(za), _zstd(zb)))
    if info_a.members != info_b.members:
        details.append(
            Change("compression", locator, "members", str(info_a.members), str(info_b.members))
        )
    if not details:
        details.append(
            Change(
                "compression",
                locator,
                "stream",
                None,
                None,
                "same headers; compression level or implementation differs",
            )
        )
    return details


def _zstd(info: object) -> str:
    return str(info).replace("ZstdFrameInfo", "")


def _filesystem_node(
    old: ImageRef,
    new: ImageRef,
    sides: tuple[Side, Side],
    options: EngineOptions,
    explain: ContentExplainer | None,
    key: str,
    epochs: tuple[int | None, int | None],
) -> Node:
    layers_old = [sides[0].inventories.get(layer.member or "") for layer in old.layers]
    layers_new = [sides[1].inventories.get(layer.member or "") for layer in new.layers]
    if any(inv is None or inv.entries is None for inv in (*layers_old, *layers_new)):
        return Node(
            "filesystem",
            "merged",
            "incomplete",
            (
                Change(
                    "incomplete",
                    f"{key}/filesystem",
                    "layers",
                    None,
                    None,
                    "not every layer could be read",
                ),
            ),
        )
    merged_old = [m.entry for m in merge_layers([inv.entries or () for inv in layers_old if inv])]
    merged_new = [m.entry for m in merge_layers([inv.entries or () for inv in layers_new if inv])]
    found = compare_entry_lists(
        merged_old,
        merged_new,
        f"{key}/filesystem",
        exclude=options.exclude,
        contents=ChainMap(sides[1].contents, sides[0].contents),  # type: ignore[arg-type]
        explain=explain,
        epochs=epochs,
        check_order=False,
    )
    changes = tuple(c for c in found.changes if c.cause != "tar-encoding")
    status = "changed" if changes or found.entries else "equal"
    return Node("filesystem", "merged", status, changes, found.entries)
