"""What goes into the benchmark images: the file tree of each layer and the bytes of each file.

Owns the shape of a synthetic layer (paths, kinds, sizes, modes, times) and file content, both
drawn from seeded generators so the same size always gives the same tree. Plans are cheap values;
content is made one file at a time so no layer is ever held in memory. Performs no IO.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

KIB = 1024
MIB = 1 << 20
_TEXT_MAX = 256 * KIB
_BINARY_MAX = 12 * MIB  # "multi-MB binaries": shared libraries, interpreters, assets


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One layer of the benchmark image, shaped after a typical Python service image."""

    root: str  # directory holding the layer's files
    share: float  # fraction of the image's uncompressed bytes
    created_by: str  # the history line BuildKit records
    text_share: float  # fraction of the layer's bytes in small text files (rest: binaries)
    whole_seconds: bool  # ADDed rootfs files carry whole-second mtimes; RUN output has ns


LAYERS = (
    LayerSpec("usr", 0.40, "ADD rootfs.tar.xz / # buildkit", 0.55, True),
    LayerSpec(
        "usr/lib/python3.12",
        0.30,
        "RUN /bin/sh -c apt-get update && apt-get install -y python3 # buildkit",
        0.50,
        False,
    ),
    LayerSpec(
        "usr/local/lib/python3.12/site-packages",
        0.20,
        "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
        0.45,
        False,
    ),
    LayerSpec("app", 0.10, "COPY . /app # buildkit", 0.60, False),
)
CHANGED_LAYER = 2  # the layer a one-layer rebuild changes (its dependencies were updated)


@dataclass(frozen=True, slots=True)
class Variant:
    """One build of the image: a build time that every file time follows, and content edits."""

    name: str
    epoch: int
    edit_every: int  # edit 1 file in this many (0: none)
    seed: int


BASE = Variant("a", 1_700_000_000, 0, 0)
REBUILD = Variant("b", 1_700_259_200, 10, 1)  # every layer differs: new times, 1 file in 10 edited
ONE_LAYER = Variant("c", 1_700_003_600, 20, 2)  # used for CHANGED_LAYER only


@dataclass(frozen=True, slots=True)
class Item:
    """One planned tar member. `detail` is the text pool offset or the binary flavour."""

    path: str
    kind: str  # dir, text, binary, symlink, hardlink, whiteout
    size: int = 0
    detail: int = 0
    link: str = ""


def layer_bytes(index: int, image_size: int) -> int:
    return int(image_size * LAYERS[index].share)


def _text_sizes(rng: np.random.Generator, budget: int) -> list[int]:
    """Small text file sizes (median ~5 KB, mean ~13 KB, a few empty) adding up to `budget`."""
    sizes: list[int] = []
    total = 0
    while total < budget:
        batch = np.minimum(rng.lognormal(np.log(5000), 1.25, 4096), _TEXT_MAX).astype(np.int64)
        batch[rng.random(4096) < 0.04] = 0  # __init__.py, .keep, empty markers
        for size in batch.tolist():
            if total >= budget:
                break
            size = min(size, budget - total)
            sizes.append(size)
            total += size
    return sizes


def _binary_sizes(rng: np.random.Generator, budget: int) -> list[int]:
    high = max(64 * KIB, min(_BINARY_MAX, budget // 3))
    low = min(MIB, high // 2)
    sizes: list[int] = []
    total = 0
    while total < budget:
        size = min(int(rng.integers(low, high + 1)), budget - total)
        sizes.append(size)
        total += size
    return sizes


def plan_layer(index: int, image_size: int) -> tuple[Item, ...]:
    """Every member of layer `index` (same for every variant), in Go filepath.Walk order."""
    spec = LAYERS[index]
    target = layer_bytes(index, image_size)
    rng = np.random.default_rng([7, index])
    text_budget = int(target * spec.text_share)
    pool = pool_size(index, image_size)
    items: list[Item] = []
    extensions = ("py", "txt", "conf", "h", "json", "md", "pyi", "cfg")
    for n, size in enumerate(_text_sizes(rng, text_budget)):
        folder = f"{spec.root}/d{n // 400:03d}/s{(n // 25) % 16:02d}"
        path = f"{folder}/f{n:06d}.{extensions[n % len(extensions)]}"
        items.append(Item(path, "text", size, int(rng.integers(0, max(1, pool - size)))))
        if n % 15 == 7:
            items.append(Item(f"{folder}/l{n:06d}", "symlink", link=f"f{n:06d}.py"))
        if n % 200 == 99:
            items.append(Item(f"{folder}/h{n:06d}", "hardlink", link=path))
    for n, size in enumerate(_binary_sizes(rng, target - text_budget)):
        items.append(Item(f"{spec.root}/lib/lib{n:04d}.so.1", "binary", size, n % 3))
    if index > 0:
        lower = [i for i in plan_layer(index - 1, image_size) if i.kind == "text"]
        for item in lower[:: max(1, len(lower) // 3)][:3]:
            folder, _, base = item.path.rpartition("/")
            items.append(Item(f"{folder}/.wh.{base}", "whiteout"))
    return _with_directories(items)


def _with_directories(items: list[Item]) -> tuple[Item, ...]:
    folders = {
        "/".join(i.path.split("/")[:k]) for i in items for k in range(1, i.path.count("/") + 1)
    }
    items += [Item(folder, "dir") for folder in folders]
    # Go's filepath.Walk visits names lexically and descends before moving on, which comparing
    # path components as tuples reproduces.
    return tuple(sorted(items, key=lambda i: tuple(i.path.split("/"))))


def pool_size(index: int, image_size: int) -> int:
    budget = int(layer_bytes(index, image_size) * LAYERS[index].text_share)
    return max(256 * KIB, min(8 * MIB, budget // 4))


def text_pool(index: int, image_size: int) -> bytes:
    """Source-code-like text that a layer's small files are cut from (words, operators, lines).

    Each file takes its own slice, so gzip (32 KiB window) sees fresh text in every file while
    zstd's larger window finds some repeats across files, as it does in real trees."""
    rng = np.random.default_rng([11, index])
    letters = np.frombuffer(b"etaoinshrdlucmfwypvbgkjqxz_", dtype=np.uint8)
    weights = np.linspace(4.0, 0.3, letters.size)
    vocabulary = [
        bytes(rng.choice(letters, int(rng.integers(2, 11)), p=weights / weights.sum()))
        for _ in range(2500)
    ]
    vocabulary += [b"\n", b"\n    ", b"\n        ", b"=", b"(", b"):", b"self.", b"return", b"#"]
    # Zipf-like use: a few words (and the line breaks at the end of the list) dominate.
    ranks = np.minimum(rng.exponential(250.0, pool_size(index, image_size) // 5), 2499)
    picks = ranks.astype(np.int64)
    breaks = rng.random(picks.size)
    picks[breaks < 0.12] = 2500 + (picks[breaks < 0.12] % 9)
    text = b" ".join(vocabulary[i] for i in picks.tolist())
    return text[: pool_size(index, image_size)]


def is_edited(ordinal: int, variant: Variant) -> bool:
    if not variant.edit_every:
        return False
    return (ordinal * 2_654_435_761 + variant.seed * 97) % variant.edit_every == 0


def text_content(item: Item, pool: bytes, ordinal: int, variant: Variant) -> bytes:
    if item.size == 0:
        return b""
    head = f"# {item.path}\n".encode()
    body = pool[item.detail : item.detail + max(0, item.size - len(head))]
    data = (head + body)[: item.size]
    if is_edited(ordinal, variant):
        mark = f"# rev {variant.name}{ordinal}\n".encode()
        spot = (ordinal * 31) % max(1, len(data))
        data = data[:spot] + mark + data[spot + len(mark) :]
    return data


_LOW_ENTROPY = np.frombuffer(b"\0\0\0\0\x01\x02\x48\x89\xe5\xc3\x0f\x1f\x40\x44\xff\x90", np.uint8)


def binary_content(item: Item, index: int, ordinal: int, variant: Variant) -> bytes:
    """Flavour 0: incompressible (compressed assets); 1: ELF-like records padded with zeros;
    2: low-entropy machine-code-like bytes (compresses ~2x)."""
    rng = np.random.default_rng([13, index, ordinal])
    size = item.size
    if item.detail == 0:
        data = rng.bytes(size)
    elif item.detail == 1:
        records = -(-size // 64)
        block = rng.integers(1, 256, (records, 64), dtype=np.uint8)
        block[np.arange(64) >= rng.integers(1, 48, records)[:, None]] = 0
        data = block.tobytes()[:size]
    else:
        data = _LOW_ENTROPY[rng.integers(0, 16, size, dtype=np.uint8)].tobytes()
    if is_edited(ordinal, variant) and size:
        patch = np.random.default_rng([17, variant.seed, ordinal]).bytes(min(4096, size))
        spot = (ordinal * 7919) % max(1, size - len(patch) + 1)
        data = data[:spot] + patch + data[spot + len(patch) :]
    return data


def iter_members(
    index: int, image_size: int, variant: Variant
) -> Iterator[tuple[int, Item, bytes]]:
    """(ordinal, item, content) for every member of a layer as `variant` builds it."""
    pool = text_pool(index, image_size)
    for ordinal, item in enumerate(plan_layer(index, image_size)):
        if item.kind == "text":
            yield ordinal, item, text_content(item, pool, ordinal, variant)
        elif item.kind == "binary":
            yield ordinal, item, binary_content(item, index, ordinal, variant)
        else:
            yield ordinal, item, b""
