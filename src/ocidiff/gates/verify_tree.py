"""verify-tree's core: an image's merged filesystem under one path against a build context.

Pure: takes the merged entries, each layer's own entries and history, and the walked source
tree; returns a `TreeReport`. Content is compared by blake3 digest on both sides, modes by
permission bits, symlinks by target. Owners and times are not compared: COPY sets the owner
(root unless --chown) and builders rewrite times, so neither says anything about staleness.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..filesystem import MergedEntry, is_whiteout
from ..inventory import FileEntry
from ..oci.image import LayerRef
from ..oci.model import Pairs
from ..tar.events import EntryKind
from .dockerignore import IgnoreRules
from .sourcetree import SourceEntry, SourceWalk

SCHEMA = "ocidiff.verify-tree"
SCHEMA_VERSION = 1
DEFAULT_LABEL = "org.opencontainers.image.revision"

# The kinds of finding, in the order a person reads them.
MISSING, EXTRA, CONTENT, MODE, SYMLINK, TYPE = (
    "missing", "extra", "content", "mode", "symlink-target", "type")
_ORDER = {kind: i for i, kind in enumerate((CONTENT, MISSING, EXTRA, TYPE, SYMLINK, MODE))}
_COPY_STEP = re.compile(r"\b(COPY|ADD)\b")
_FAILING_LABELS = frozenset({"mismatch", "missing", "files-disagree"})


@dataclass(frozen=True, slots=True)
class TreeFinding:
    """One path that differs; `layer` is the layer that last wrote it (for a missing path, the
    layer that populated its nearest directory in the image)."""

    kind: str
    path: str  # relative to the compared root
    layer: int | None
    image: str | None  # digest, octal mode, link target or entry type on the image side
    source: str | None  # the same on the build-context side


@dataclass(frozen=True, slots=True)
class LayerVerdict:
    """What one layer wrote under the root and how much of it the build context contradicts."""

    index: int
    digest: str | None
    created_by: str | None
    copied: int  # files and links this layer wrote under the root
    differing: int  # of those, how many differ from the build context (the layer's own copy)
    findings: int  # findings in the final image attributed to this layer
    stale: bool  # a COPY/ADD step whose copy disagrees with the build context


@dataclass(frozen=True, slots=True)
class LabelCheck:
    key: str
    value: str | None
    expected: str | None
    status: str  # match | mismatch | missing | present | absent | files-disagree
    message: str


@dataclass(frozen=True, slots=True)
class TreeReport:
    schema: str
    schema_version: int
    ok: bool
    image: str
    platform: str
    path: str
    source: str
    ignore_file: str | None
    compared: int  # paths looked at on either side
    ignored: int  # build-context paths left out by the ignore rules
    findings: tuple[TreeFinding, ...]
    layers: tuple[LayerVerdict, ...]
    label: LabelCheck
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TreeQuery:
    image: str
    platform: str
    path: str  # as given, e.g. "/app"
    source: str
    ignore_file: str | None = None
    excludes: IgnoreRules = IgnoreRules()
    compare_mode: bool = True
    label_key: str = DEFAULT_LABEL
    commit: str | None = None


def image_root(path: str) -> str:
    """`/app/` -> `app`; `/` -> '' (the whole filesystem)."""
    return "/".join(part for part in path.split("/") if part and part != ".")


def compare_tree(
    query: TreeQuery,
    merged: Sequence[MergedEntry],
    layer_entries: Sequence[Sequence[FileEntry]],
    layers: Sequence[LayerRef],
    labels: Pairs,
    walk: SourceWalk,
) -> TreeReport:
    """Compare the image's view of `query.path` with the walked build context."""
    root = image_root(query.path)
    image = {rel: m for m in merged if (rel := _under(m.entry.path, root)) is not None}
    image = {rel: m for rel, m in image.items() if not query.excludes.excludes(rel)}
    source = {e.path: e for e in walk.entries if not query.excludes.excludes(e.path)}
    writers: dict[str, Counter[int]] = {}
    for rel, m in image.items():
        writers.setdefault(rel.rpartition("/")[0], Counter())[m.layer] += 1
    findings: list[TreeFinding] = []
    for rel in sorted(image.keys() | source.keys()):
        here = image.get(rel)
        layer = here.layer if here is not None else _populating_layer(rel, image, writers)
        for kind, old, new in _differences(here.entry if here else None, source.get(rel), query):
            findings.append(TreeFinding(kind, rel, layer, old, new))
    findings.sort(key=lambda f: (_ORDER[f.kind], f.path))
    verdicts = _layer_verdicts(query, root, layer_entries, layers, source, findings)
    notes: list[str] = []
    top = next((m.entry for m in merged if m.entry.path == root), None) if root else None
    if root and top is None:
        notes.append(f"{query.path} does not exist in the image")
    elif top is not None and top.kind is not EntryKind.DIR:
        notes.append(f"{query.path} is a {_kind(top)} in the image, not a directory")
    label = check_label(labels, query.label_key, query.commit, bool(findings), query.path)
    ok = not findings and label.status not in _FAILING_LABELS
    return TreeReport(
        SCHEMA, SCHEMA_VERSION, ok, query.image, query.platform, query.path, query.source,
        query.ignore_file, len(image.keys() | source.keys()), walk.ignored, tuple(findings),
        verdicts, label, tuple(notes),
    )


def _under(path: str, root: str) -> str | None:
    if is_whiteout(path):
        return None
    if not root:
        return None if path == "." else path
    return path[len(root) + 1 :] if path.startswith(root + "/") else None


def _kind(entry: FileEntry) -> str:
    if entry.kind in (EntryKind.FILE, EntryKind.HARDLINK):
        return "file"
    if entry.kind in (EntryKind.DIR, EntryKind.SYMLINK):
        return str(entry.kind.value)
    return "other"


def _differences(
    image: FileEntry | None, source: SourceEntry | None, query: TreeQuery
) -> list[tuple[str, str | None, str | None]]:
    if image is None:
        return [(MISSING, None, source.kind if source else None)]
    kind = _kind(image)
    if source is None:
        return [(EXTRA, kind, None)]
    if kind != source.kind:
        return [(TYPE, kind, source.kind)]
    found: list[tuple[str, str | None, str | None]] = []
    if kind == "file" and image.digest != source.digest:
        found.append((CONTENT, image.digest, source.digest))
    if kind == "symlink" and image.linkname != source.target:
        found.append((SYMLINK, image.linkname, source.target))
    if query.compare_mode and kind in ("file", "dir") and image.mode != source.mode:
        found.append((MODE, f"{image.mode:04o}", f"{source.mode:04o}"))
    return found


def _populating_layer(
    rel: str, image: dict[str, MergedEntry], writers: dict[str, Counter[int]]
) -> int | None:
    """For a path absent from the image: the layer that wrote most entries of its nearest
    existing directory (the COPY that should have brought it), else that directory's writer."""
    parts = rel.split("/")
    for depth in range(len(parts) - 1, -1, -1):
        directory = "/".join(parts[:depth])
        if depth and directory not in image:
            continue
        siblings = writers.get(directory)
        if siblings:
            best = max(siblings.values())
            return max(layer for layer, count in siblings.items() if count == best)
        if depth:
            return image[directory].layer
    return None


def _layer_verdicts(
    query: TreeQuery,
    root: str,
    layer_entries: Sequence[Sequence[FileEntry]],
    layers: Sequence[LayerRef],
    source: dict[str, SourceEntry],
    findings: Sequence[TreeFinding],
) -> tuple[LayerVerdict, ...]:
    attributed = Counter(f.layer for f in findings if f.layer is not None)
    verdicts: list[LayerVerdict] = []
    for index, entries in enumerate(layer_entries):
        copied = differing = 0
        for entry in entries:
            rel = _under(entry.path, root)
            if rel is None or entry.kind is EntryKind.DIR or query.excludes.excludes(rel):
                continue
            copied += 1
            differing += bool(_differences(entry, source.get(rel), query))
        if not copied and not attributed[index]:
            continue
        ref = layers[index] if index < len(layers) else None
        created_by = ref.history.created_by if ref and ref.history else None
        copy_step = created_by is None or bool(_COPY_STEP.search(created_by))
        stale = copy_step and (differing > 0 or attributed[index] > 0)
        verdicts.append(LayerVerdict(
            index, ref.digest if ref else None, created_by, copied, differing,
            attributed[index], stale,
        ))
    return tuple(verdicts)


def commits_match(label: str, commit: str) -> bool:
    """Equal commit ids, either side possibly abbreviated (at least 7 hex digits)."""
    a, b = label.strip().lower(), commit.strip().lower()
    if a == b:
        return True
    shorter = min(len(a), len(b))
    return shorter >= 7 and a[:shorter] == b[:shorter]


def check_label(
    labels: Pairs, key: str, expected: str | None, files_differ: bool, path: str
) -> LabelCheck:
    """The build-commit label against `--commit`, and against what the files say."""
    value = dict(labels).get(key)
    if expected is not None and value is None:
        return LabelCheck(key, None, expected, "missing", f"the image has no label {key}")
    if expected is not None and value is not None and not commits_match(value, expected):
        return LabelCheck(
            key, value, expected, "mismatch", f"label {key}={value} but the commit is {expected}"
        )
    if value is not None and files_differ:
        return LabelCheck(
            key, value, expected, "files-disagree",
            f"label {key}={value} names the source commit, but the files under {path} do not "
            "match that source: a stale layer shipped under a correct label",
        )
    if value is None:
        return LabelCheck(key, None, None, "absent", f"the image has no label {key}")
    status = "match" if expected is not None else "present"
    return LabelCheck(key, value, expected, status, f"label {key}={value}")
