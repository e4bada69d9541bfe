"""Property-based fuzzing of the JSON/OCI layer: documents of any shape through `load_json` and
the parsers, and OCI layouts whose blobs lie about their digests, refer to themselves, nest,
go missing or hold junk, through resolution, verify and the layer pump.

The contract: only the ocidiff error family may escape (anything else is a bug), and a
resolved archive verifies without crashing.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

from hypothesis import given
from hypothesis import strategies as st

from ocidiff.oci.parse import document_kind, load_json, parse_config, parse_index, parse_manifest

from .hostile.fuzzkit import FUZZ, JSON, exercise, json_values, memory_archive, only_our_errors

MEDIA_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.in-toto+json",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "",
]
# Names blobs are stored under: the lies are the point (content never matches them).
NAMES = ["sha256:" + hashlib.sha256(b"name %d" % i).hexdigest() for i in range(6)]


def small_layer(seed: int) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo(f"f{seed}")
        info.size = seed
        tar.addfile(info, io.BytesIO(bytes(seed)))
    return out.getvalue()


@st.composite
def descriptors(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    value: dict[str, object] = {
        "mediaType": draw(st.sampled_from(MEDIA_TYPES)),
        "digest": draw(st.sampled_from([*NAMES, "sha256:" + "0" * 64, "md5:xyz", "bad"])),
        "size": draw(st.one_of(st.integers(-5, 5000), st.just(2**70), st.text(max_size=3))),
    }
    if draw(st.booleans()):
        value["platform"] = draw(
            st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {"os": st.sampled_from(["linux", "unknown"]),
                     "architecture": st.sampled_from(["amd64", "unknown"])}
                ),
            )
        )
    if draw(st.booleans()):
        strings = st.dictionaries(st.text(max_size=5), st.text(max_size=5))
        value["annotations"] = draw(st.one_of(json_values, strings))
    return value


@st.composite
def documents(draw: st.DrawFn) -> object:
    kind = draw(st.sampled_from(["index", "manifest", "config", "junk"]))
    if kind == "index":
        manifests = draw(st.one_of(st.none(), st.lists(descriptors(), max_size=3)))
        return {"schemaVersion": 2, "mediaType": MEDIA_TYPES[0], "manifests": manifests}
    if kind == "manifest":
        return {"schemaVersion": 2, "mediaType": MEDIA_TYPES[1], "config": draw(descriptors()),
                "layers": draw(st.lists(descriptors(), max_size=3))}
    if kind == "config":
        return {
            "architecture": draw(st.sampled_from(["amd64", 7, None])),
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": draw(
                st.lists(st.sampled_from([*NAMES, "sha256:zz", 3]), max_size=3))},
            "history": draw(st.one_of(st.lists(json_values, max_size=2), json_values)),
            "config": draw(st.one_of(json_values, st.fixed_dictionaries(
                {"Env": st.lists(st.text(max_size=5), max_size=2)}))),
        }
    return draw(json_values)


@FUZZ
@given(data=st.binary(max_size=400))
def test_load_json_on_bytes(data: bytes) -> None:
    only_our_errors(lambda: load_json(data, what="fuzz", limits=JSON))


@FUZZ
@given(depth=st.integers(0, 3000), opener=st.sampled_from([b"[", b"{\"a\":", b"[\"]\","]))
def test_load_json_nesting(depth: int, opener: bytes) -> None:
    """Deep nesting trips --max-json-depth (or is invalid JSON), never a RecursionError."""
    closer = b"]" if opener.startswith(b"[") else b"}"
    only_our_errors(lambda: load_json(opener * depth + closer * depth, what="fuzz", limits=JSON))


@FUZZ
@given(document=documents())
def test_parsers_on_any_document(document: object) -> None:
    data = json.dumps(document).encode()
    loaded = only_our_errors(lambda: load_json(data, what="fuzz", limits=JSON))
    document_kind(loaded)
    for parse in (parse_index, parse_manifest, parse_config):
        only_our_errors(lambda p=parse: p(loaded, what="fuzz"))  # type: ignore[misc]


CANONICAL = ["manifest", "config", "layer", "layer", "index", "junk"]


def _descriptor(media_type: str, index: int, size: int | str = 10) -> dict[str, object]:
    return {"mediaType": media_type, "digest": NAMES[index], "size": size}


@st.composite
def blob_graphs(draw: st.DrawFn) -> list[tuple[str, bytes] | None]:
    """One blob per name: mostly an index -> manifest -> config + layers chain, with roles,
    references, sizes and presence perturbed."""
    roles = draw(st.one_of(st.just(CANONICAL), st.lists(
        st.sampled_from(["index", "manifest", "config", "layer", "junk"]),
        min_size=len(NAMES), max_size=len(NAMES))))
    refs = st.integers(0, len(NAMES) - 1)
    out: list[tuple[str, bytes] | None] = []
    for position, role in enumerate(roles):
        if not draw(st.integers(0, 9)):
            out.append(None)  # missing
            continue
        document: object
        if role == "index":
            document = {"manifests": [_descriptor(draw(st.sampled_from(MEDIA_TYPES)), draw(refs))
                                      for _ in range(draw(st.integers(0, 2)))]}
        elif role == "manifest":
            document = {
                "mediaType": MEDIA_TYPES[1],
                "config": _descriptor(MEDIA_TYPES[2], draw(st.just(1) | refs)),
                "layers": [_descriptor(draw(st.sampled_from(MEDIA_TYPES[3:6])), draw(refs))
                           for _ in range(draw(st.integers(0, 3)))],
            }
        elif role == "config":
            document = {"architecture": "amd64", "os": "linux",
                        "rootfs": {"diff_ids": draw(st.lists(st.sampled_from(NAMES), max_size=3))},
                        "history": draw(st.one_of(st.just([]), json_values))}
        elif role == "layer":
            out.append((NAMES[position], small_layer(position) if draw(st.booleans()) else
                        draw(st.binary(max_size=600))))
            continue
        else:
            document = draw(documents())
        out.append((NAMES[position], json.dumps(document).encode()))
    return out


@FUZZ
@given(
    graph=blob_graphs(),
    top=st.one_of(st.just([0]), st.lists(st.integers(0, len(NAMES) - 1), max_size=3)),
    raw_index=st.one_of(st.none(), st.binary(max_size=40)),
)
def test_oci_layouts_of_lying_blobs(
    graph: list[tuple[str, bytes] | None], top: list[int], raw_index: bytes | None
) -> None:
    """Blobs stored under names their content does not hash to: cycles, nesting, missing and
    junk blobs, layers that are documents and documents that are layers."""
    index = {"schemaVersion": 2, "manifests": [_descriptor(MEDIA_TYPES[1], i) for i in top]}
    files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')]
    files.append(("index.json", raw_index if raw_index is not None else json.dumps(index).encode()))
    for item in graph:
        if item is not None:
            files.append((f"blobs/sha256/{item[0].split(':')[1]}", item[1]))
    exercise(memory_archive(files))


@FUZZ
@given(
    target=st.sampled_from(["../../etc/passwd", "/etc/passwd", "index.json", "loop",
                            "blobs/sha256/" + NAMES[0].split(":")[1], ""]),
    linked=st.sampled_from(["index.json", "blobs/sha256/" + NAMES[0].split(":")[1], "loop"]),
)
def test_oci_layout_links(target: str, linked: str) -> None:
    """Symlinked members pointing out of the archive, at themselves, or at each other."""
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": MEDIA_TYPES[1], "digest": NAMES[0], "size": 10}]}
    files = [("oci-layout", b"{}"), ("index.json", json.dumps(index).encode())]
    files = [(path, data) for path, data in files if path != linked]
    exercise(memory_archive(files, [(linked, target), ("loop", linked)]))
