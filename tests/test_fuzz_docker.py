"""Property-based fuzzing of the docker-archive readers: `manifest.json` of any shape, configs
that lie, `layer.tar` members that are junk, symlinks out of the archive, into loops or onto
each other, and pre-1.10 `<id>/json` parent chains that loop; through resolution, verify and
the layer pump. Only the ocidiff error family may escape.
"""

from __future__ import annotations

import io
import json
import tarfile

from hypothesis import given
from hypothesis import strategies as st

from .hostile.fuzzkit import FUZZ, exercise, json_values, memory_archive

IDS = [f"{i + 1:064x}" for i in range(4)]
LINK_TARGETS = ["../../etc/passwd", "/etc/passwd", f"../{IDS[1]}/layer.tar", "layer.tar",
                f"../{IDS[0]}/layer.tar", "..", ""]


def small_layer(seed: int) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo(f"file{seed}")
        info.size = seed
        tar.addfile(info, io.BytesIO(b"x" * seed))
    return out.getvalue()


@st.composite
def manifests(draw: st.DrawFn) -> object:
    """manifest.json: mostly the right shape, with each field sometimes of the wrong type."""
    if not draw(st.integers(0, 7)):
        return draw(json_values)
    items = []
    for _ in range(draw(st.integers(0, 2))):
        layers = [f"{draw(st.sampled_from(IDS))}/layer.tar" for _ in range(draw(st.integers(0, 3)))]
        item: dict[str, object] = {
            "Config": draw(st.one_of(st.just(f"{IDS[3]}.json"), st.just("missing.json"),
                                     json_values)),
            "RepoTags": draw(st.one_of(st.just(["a:1"]), json_values)),
            "Layers": draw(st.one_of(st.just(layers), json_values)),
        }
        items.append(item)
    return items


@st.composite
def configs(draw: st.DrawFn) -> bytes:
    if not draw(st.integers(0, 5)):
        return draw(st.binary(max_size=60))
    diff_ids = draw(st.lists(st.sampled_from(["sha256:" + i for i in IDS] + ["x", 1]), max_size=3))
    return json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": diff_ids},
                       "history": draw(st.one_of(st.just([]), json_values))}).encode()


@FUZZ
@given(
    manifest=manifests(),
    config=configs(),
    layers=st.lists(st.one_of(st.integers(0, 40), st.binary(max_size=700)), min_size=len(IDS),
                    max_size=len(IDS)),
    links=st.lists(st.tuples(st.integers(0, len(IDS) - 1), st.sampled_from(LINK_TARGETS)),
                   max_size=3),
)
def test_docker_archives(
    manifest: object, config: bytes, layers: list[int | bytes], links: list[tuple[int, str]]
) -> None:
    linked = {IDS[index] for index, _ in links}
    files = [("manifest.json", json.dumps(manifest).encode()), (f"{IDS[3]}.json", config)]
    for name, layer in zip(IDS, layers, strict=True):
        if name not in linked:
            data = small_layer(layer) if isinstance(layer, int) else layer
            files.append((f"{name}/layer.tar", data))
    symlinks = [(f"{IDS[index]}/layer.tar", target) for index, target in links]
    exercise(memory_archive(files, symlinks))


@FUZZ
@given(
    parents=st.lists(st.one_of(st.none(), st.sampled_from(IDS), json_values), min_size=len(IDS),
                     max_size=len(IDS)),
    repositories=st.one_of(
        st.none(),
        st.just({"a": {"1": IDS[0]}}),
        json_values,
    ),
    layers=st.lists(st.one_of(st.integers(0, 40), st.binary(max_size=300)), min_size=len(IDS),
                    max_size=len(IDS)),
    runtime=st.one_of(st.just({"Cmd": ["sh"]}), st.fixed_dictionaries({"Cmd": json_values}),
                      json_values),
    created=st.one_of(st.just("2024-01-01T00:00:00Z"), json_values),
)
def test_pre110_chains(
    parents: list[object],
    repositories: object,
    layers: list[int | bytes],
    runtime: object,
    created: object,
) -> None:
    """docker save before 1.10: `repositories` names tips, `<id>/json` names parents, which may
    loop back, be missing, or not be strings."""
    files = []
    if repositories is not None:
        files.append(("repositories", json.dumps(repositories).encode()))
    for name, parent, layer in zip(IDS, parents, layers, strict=True):
        document = {"id": name, "parent": parent, "os": "linux", "architecture": "amd64",
                    "container_config": runtime, "created": created, "config": runtime}
        files.append((f"{name}/json", json.dumps(document).encode()))
        files.append((f"{name}/VERSION", b"1.0"))
        files.append((f"{name}/layer.tar", small_layer(layer) if isinstance(layer, int) else layer))
    exercise(memory_archive(files))
