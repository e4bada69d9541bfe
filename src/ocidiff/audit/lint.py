"""The hazards lint: what in one image will make the next build of it differ, or should not ship.

Pure over one resolved image and its layer records (entries plus content facts); reads nothing.
Each hazard has a kebab-case code (documented in docs/lint.md, never renamed), a count, the
bytes involved where that means something, and a few examples.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from ..compression import Compression
from ..filesystem import MergedEntry, merge_layers
from ..inventory import FileEntry
from ..leftovers import CACHE_EXCEPTIONS, CACHE_PATHS, LOG_PATHS
from ..oci.image import ImageRef
from ..oci.model import ANNOTATION_REWRITTEN, BASE_ANNOTATIONS
from ..tar.events import EntryKind
from .analysis import LayerRecord
from .facts import ContentFact, expected_source

MAX_EXAMPLES = 5

# code -> what it means; docs/lint.md says how to fix each one.
HAZARDS: dict[str, str] = {
    "mtime-after-epoch": "entries newer than the SOURCE_DATE_EPOCH the image claims",
    "mixed-epochs": "layers carry different dominant timestamps",
    "build-log-shipped": "build-time logs are in the final filesystem",
    "build-cache-shipped": "package manager or linker caches are in the final filesystem",
    "pyc-timestamp": ".pyc files validated by source timestamp (they embed the source mtime)",
    "pyc-build-path": ".pyc files compiled under another path (co_filename names the build dir)",
    "layer-gzip-mtime": "gzip layer blobs with a non-zero MTIME header",
    "gzip-mtime": "gzip files in the image with a non-zero MTIME header",
    "deleted-files-shipped": "files deleted by a later layer still ship in a lower one",
    "secret-like-file": "files whose path looks like a secret (by name only)",
    "no-base-annotations": "no org.opencontainers.image.base.* annotation names the base",
}

_SECRET_NAMES = frozenset(
    (
        *(".env", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".netrc", ".git-credentials"),
        *(".pgpass", ".pypirc", ".npmrc", "credentials", "secrets.yaml", "secrets.json"),
    )
)
_ENV_TEMPLATES = frozenset((".env.example", ".env.sample", ".env.template", ".env.dist"))
_KEY_PEM = re.compile(r"(key|private|priv)[^/]*\.pem$|\.key$|\.pem\.key$", re.IGNORECASE)
_EPOCH_ASSIGNMENT = re.compile(r"\bSOURCE_DATE_EPOCH=(\d+)\b")


@dataclass(frozen=True, slots=True)
class Hazard:
    code: str
    count: int
    bytes: int
    examples: tuple[str, ...]


def claimed_epoch(image: ImageRef) -> int | None:
    """The SOURCE_DATE_EPOCH an image claims: BuildKit's layer annotation, the config's Env,
    or a build argument recorded in the history."""
    for layer in image.layers:
        for name, value in layer.annotations:
            if name == ANNOTATION_REWRITTEN and value.isdigit():
                return int(value)
    for variable in image.config.runtime.env:
        name, _, value = variable.partition("=")
        if name == "SOURCE_DATE_EPOCH" and value.isdigit():
            return int(value)
    for entry in image.config.history:
        match = _EPOCH_ASSIGNMENT.search(entry.created_by or "")
        if match:
            return int(match.group(1))
    return None


def lint_image(image: ImageRef, layers: Sequence[LayerRecord | None]) -> tuple[Hazard, ...]:
    """Every hazard found, by code; layers that could not be read are skipped."""
    entries = [tuple(r.inventory.entries or ()) if r else () for r in layers]
    merged = {m.entry.path: m for m in merge_layers(entries)}
    found = [
        _after_epoch(claimed_epoch(image), entries),
        _mixed_epochs(entries),
        _visible(merged, "build-log-shipped", LOG_PATHS, ()),
        _visible(merged, "build-cache-shipped", CACHE_PATHS, CACHE_EXCEPTIONS),
        *_pyc(merged, layers),
        _layer_gzip(layers),
        _gzip_files(merged, layers),
        _deleted(entries, merged),
        _secrets(entries),
        _no_base(image),
    ]
    return tuple(h for h in found if h is not None and h.count)


def _hazard(code: str, items: list[tuple[str, int]]) -> Hazard | None:
    """From (example, bytes) pairs; examples sorted, the first few kept."""
    if not items:
        return None
    examples = tuple(sorted(text for text, _ in items)[:MAX_EXAMPLES])
    return Hazard(code, len(items), sum(size for _, size in items), examples)


def _after_epoch(epoch: int | None, layers: list[tuple[FileEntry, ...]]) -> Hazard | None:
    if epoch is None:
        return None
    limit = epoch * 1_000_000_000
    items = [
        (f"layer {index}: {e.path} mtime {e.mtime_ns // 1_000_000_000}", 0)
        for index, entries in enumerate(layers)
        for e in entries
        if e.mtime_ns > limit
    ]
    return _hazard("mtime-after-epoch", items)


def _mixed_epochs(layers: list[tuple[FileEntry, ...]]) -> Hazard | None:
    """A clamped layer has one mtime on most entries; two layers clamped to different times
    mean the image mixes epochs."""
    dominant: dict[int, int] = {}
    for index, entries in enumerate(layers):
        if len(entries) < 2:
            continue
        seconds, count = Counter(e.mtime_ns // 1_000_000_000 for e in entries).most_common(1)[0]
        if count * 2 >= len(entries):
            dominant[index] = seconds
    if len(set(dominant.values())) < 2:
        return None
    items = [(f"layer {index}: {seconds}", 0) for index, seconds in dominant.items()]
    hazard = _hazard("mixed-epochs", items)
    assert hazard is not None
    return Hazard(hazard.code, len(set(dominant.values())), 0, hazard.examples)


def _visible(
    merged: dict[str, MergedEntry],
    code: str,
    patterns: re.Pattern[str],
    exceptions: Collection[str],
) -> Hazard | None:
    items = [
        (path, m.entry.size)
        for path, m in merged.items()
        if m.entry.kind is EntryKind.FILE
        and m.entry.size > 0
        and patterns.match(path)
        and path not in exceptions
    ]
    return _hazard(code, items)


def _visible_facts(
    merged: dict[str, MergedEntry], layers: Sequence[LayerRecord | None], kind: str
) -> Iterator[ContentFact]:
    for index, record in enumerate(layers):
        for fact in record.facts.contents if record else ():
            shown = merged.get(fact.path)
            if fact.kind == kind and shown is not None and shown.layer == index:
                yield fact


def _pyc(
    merged: dict[str, MergedEntry], layers: Sequence[LayerRecord | None]
) -> tuple[Hazard | None, Hazard | None]:
    facts = list(_visible_facts(merged, layers, "pyc"))
    stamped = [(f.path, 0) for f in facts if f.mode == "timestamp"]
    moved = [
        (f"{f.path}: {f.source_path}", 0)
        for f in facts
        if f.source_path
        and f.source_path.startswith("/")
        and f.source_path != expected_source(f.path)
    ]
    return _hazard("pyc-timestamp", stamped), _hazard("pyc-build-path", moved)


def _layer_gzip(layers: Sequence[LayerRecord | None]) -> Hazard | None:
    items = []
    for index, record in enumerate(layers):
        info = record.inventory.compression if record else None
        if info and info.kind is Compression.GZIP and info.gzip_header and info.gzip_header.mtime:
            items.append((f"layer {index}: mtime {info.gzip_header.mtime}", 0))
    return _hazard("layer-gzip-mtime", items)


def _gzip_files(
    merged: dict[str, MergedEntry], layers: Sequence[LayerRecord | None]
) -> Hazard | None:
    facts = _visible_facts(merged, layers, "gzip")
    return _hazard("gzip-mtime", [(f"{f.path}: mtime {f.mtime}", 0) for f in facts if f.mtime])


def _deleted(layers: list[tuple[FileEntry, ...]], merged: dict[str, MergedEntry]) -> Hazard | None:
    """Regular files of a lower layer that the final filesystem no longer has at all (a
    whiteout or an opaque directory removed them): their bytes still ship."""
    items = [
        (f"layer {index}: {e.path}", e.size)
        for index, entries in enumerate(layers[:-1])
        for e in entries
        if e.kind is EntryKind.FILE and e.path not in merged
    ]
    return _hazard("deleted-files-shipped", items)


def is_secret_like(path: str) -> bool:
    """By name only: the content is never looked at (nor shown)."""
    name = path.rpartition("/")[2]
    if name == "credentials":
        return "/.aws/" in f"/{path}"
    if name in _SECRET_NAMES:
        return True
    if name.startswith(".env.") and name not in _ENV_TEMPLATES:
        return True
    return bool(_KEY_PEM.search(name))


def _secrets(layers: list[tuple[FileEntry, ...]]) -> Hazard | None:
    """Every layer counts, not only the final view: a secret deleted later still ships."""
    items = [
        (f"layer {index}: {e.path}", e.size)
        for index, entries in enumerate(layers)
        for e in entries
        if e.kind is EntryKind.FILE and e.size > 0 and is_secret_like(e.path)
    ]
    return _hazard("secret-like-file", items)


def _no_base(image: ImageRef) -> Hazard | None:
    names = {name for name, _ in image.manifest_annotations}
    if image.manifest is not None:
        names.update(name for name, _ in image.manifest.annotations)
    if names.intersection(BASE_ANNOTATIONS):
        return None
    return Hazard("no-base-annotations", 1, 0, (str(image.platform),))
