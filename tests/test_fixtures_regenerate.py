"""fixtures/synthetic: regenerates byte-identically, and is correct by independent checks.

The byte-identity test ties the committed files to scripts/make_fixtures.py. Every other check
reads the fixtures with the standard library (tarfile, hashlib, gzip, json) and zstandard only,
never with fixturelib: blob names are their sha256, descriptor sizes match, every diff_id is the
sha256 of the whole decompressed layer stream. Where ../shared/fixtures-real exists, fixturelib's
writers must reproduce real BuildKit, GNU tar and docker save archives byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import posixpath
import re
import sys
import tarfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import zstandard

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "synthetic"
CAUSES = FIXTURES / "causes"
REAL = ROOT.parent / "shared" / "fixtures-real"


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # make_fixtures does `import fixturelib`
    spec.loader.exec_module(module)
    return module


fixturelib = _load("fixturelib")
cause_pairs = _load("cause_pairs")
make_fixtures = _load("make_fixtures")

OCI_ARCHIVES = [
    "oci-gzip.tar", "oci-zstd.tar", "oci-uncompressed.tar", "oci-rewritten.tar",
    "oci-multiplatform.tar", "estargz-like.tar", "app-v1.tar", "app-v1-rebuild.tar",
    "oci-retarred-gnu.tar", "docker-v25.tar", "docker-containerd.tar",
]
BUILDKIT_STYLE = [  # written by containerd's archive exporter (FORMATS.md §3.2)
    "oci-gzip.tar", "oci-zstd.tar", "oci-uncompressed.tar", "oci-rewritten.tar",
    "oci-multiplatform.tar", "estargz-like.tar", "app-v1.tar", "app-v1-rebuild.tar",
    "docker-containerd.tar",
]
GZIP_MAGIC, ZSTD_MAGIC = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"


# --------------------------------------------------------------------------------------------------
# Independent readers


@dataclass(frozen=True)
class Member:
    info: tarfile.TarInfo
    data: bytes


def read_payload(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(info)
    assert handle is not None, info.name
    return handle.read()


def read_members(data: bytes) -> dict[str, Member]:
    """Outer-archive members by normalised name (no `./`, no trailing `/`)."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for info in tar:
            payload = read_payload(tar, info) if info.isfile() else b""
            name = info.name[2:] if info.name.startswith("./") else info.name
            out[name.rstrip("/")] = Member(info, payload)
    return out


def decompress(blob: bytes) -> bytes:
    """The full decompressed stream, sniffed by magic; all gzip members, all zstd frames."""
    if blob.startswith(GZIP_MAGIC):
        return gzip.decompress(blob)
    if blob.startswith(ZSTD_MAGIC):
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob),
                                                            read_across_frames=True)
        return reader.read()
    return blob


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_members(stream: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(stream), mode="r:") as tar:
        return list(tar)


def layer_files(stream: bytes) -> dict[str, tuple[str, bytes]]:
    """name -> (type, content or link target) of a layer tar."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(stream), mode="r:") as tar:
        for info in tar:
            content = read_payload(tar, info) if info.isfile() else info.linkname.encode()
            out[info.name] = (info.type.decode(), content)
    return out


@dataclass
class OciCheck:
    """What verify_oci saw: manifests (runnable) and their verified layer diff_ids."""

    blobs: dict[str, bytes]
    manifests: list[dict[str, Any]]
    attestations: list[dict[str, Any]]
    diff_ids: list[list[str]]


def verify_oci(files: dict[str, bytes]) -> OciCheck:
    """Check a layout given as {relative path: bytes}; walk index.json recursively."""
    blobs = {}
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert sha(data) == "sha256:" + name.rsplit("/", 1)[1], f"{name}: content mismatch"
            blobs["sha256:" + name.rsplit("/", 1)[1]] = data
    assert json.loads(files["oci-layout"])["imageLayoutVersion"] == "1.0.0"
    check = OciCheck(blobs, [], [], [])

    def fetch(descriptor: dict[str, Any]) -> bytes:
        data = blobs[descriptor["digest"]]
        assert len(data) == descriptor["size"], descriptor["digest"]
        return data

    def walk(descriptor: dict[str, Any]) -> None:
        document = json.loads(fetch(descriptor))
        if "manifests" in document:
            for child in document["manifests"] or []:
                walk(child)
            return
        annotations = descriptor.get("annotations", {})
        if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
            check.attestations.append(document)
            for layer in document["layers"]:
                assert layer["mediaType"] == "application/vnd.in-toto+json"
                statement = json.loads(fetch(layer))
                assert statement["predicateType"] == layer["annotations"][
                    "in-toto.io/predicate-type"]
                assert statement["subject"][0]["digest"]["sha256"] == annotations[
                    "vnd.docker.reference.digest"][7:]
            return
        config = json.loads(fetch(document["config"]))
        diff_ids = [sha(decompress(fetch(layer))) for layer in document["layers"]]
        assert diff_ids == config["rootfs"]["diff_ids"]
        non_empty = [h for h in config["history"] if not h.get("empty_layer")]
        assert len(non_empty) == len(diff_ids)
        check.manifests.append(document)
        check.diff_ids.append(diff_ids)

    for descriptor in json.loads(files["index.json"])["manifests"] or []:
        walk(descriptor)
    assert check.manifests, "no runnable manifest reached from index.json"
    return check


def archive_files(name: str) -> dict[str, bytes]:
    return {n: m.data for n, m in read_members((FIXTURES / name).read_bytes()).items()}


def resolve(members: dict[str, Member], name: str, depth: int = 0) -> bytes:
    """Follow symlinks inside the archive namespace only (docker save dedupe, FORMATS.md §4.2)."""
    assert depth < 8, f"symlink loop at {name}"
    member = members[name]
    if member.info.issym():
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.info.linkname))
        assert not target.startswith(".."), target
        return resolve(members, target, depth + 1)
    return member.data


def verify_docker_manifest(members: dict[str, Member]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(members["manifest.json"].data)
    for entry in entries:
        config_bytes = resolve(members, entry["Config"])
        assert hashlib.sha256(config_bytes).hexdigest() in entry["Config"]
        config = json.loads(config_bytes)
        diff_ids = [sha(decompress(resolve(members, path))) for path in entry["Layers"]]
        assert diff_ids == config["rootfs"]["diff_ids"]
    return entries


# --------------------------------------------------------------------------------------------------
# Regeneration


def test_regenerates_byte_identical(tmp_path: Path) -> None:
    make_fixtures.generate(tmp_path)
    differing = make_fixtures.compare_trees(tmp_path, FIXTURES)
    if differing:
        readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
        recorded = re.search(r"Compressor fingerprint: `([^`]*)`", readme)
        current = fixturelib.compressor_fingerprint()
        if recorded and recorded.group(1) != current:
            pytest.skip(f"fixtures were compressed by `{recorded.group(1)}`, this interpreter has "
                        f"`{current}`; byte identity cannot hold ({len(differing)} files differ)")
    assert differing == []


def test_catalogue_is_small() -> None:
    files = [p for p in FIXTURES.rglob("*") if p.is_file()]
    sizes = {p: p.stat().st_size for p in files}
    catalogue = [size for p, size in sizes.items() if CAUSES not in p.parents]
    assert sum(catalogue) < 1_500_000
    assert max(sizes.values()) < 160_000
    # The cause pairs: most first sides are the same base image, which git stores once.
    pairs = {hashlib.sha256(p.read_bytes()).digest(): size for p, size in sizes.items()
             if CAUSES in p.parents}
    assert sum(pairs.values()) < 600_000
    assert max(pairs.values()) < 24_000


# --------------------------------------------------------------------------------------------------
# Independent verification of each fixture


@pytest.mark.parametrize("name", OCI_ARCHIVES)
def test_oci_archive_is_self_consistent(name: str) -> None:
    verify_oci(archive_files(name))


@pytest.mark.parametrize("name", BUILDKIT_STYLE)
def test_outer_tar_follows_containerd_exporter(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    members = read_members(data)
    names = [m.info.name + ("/" if m.info.isdir() else "") for m in members.values()]
    assert names == sorted(names, key=lambda n: n.encode())
    assert names[:2] == ["blobs/", "blobs/sha256/"]
    for member in members.values():
        info = member.info
        assert (info.mtime, info.uid, info.gid, info.uname, info.gname) == (0, 0, 0, "", "")
        expected = 0o755 if info.isdir() else 0o644 if info.name in (
            "index.json", "manifest.json") else 0o444
        assert info.mode == expected, info.name
    assert data.endswith(b"\0" * 1024) and data[-1536:-1024] != b"\0" * 512
    assert members["oci-layout"].data == b'{"imageLayoutVersion":"1.0.0"}'
    assert data[257:265] == b"ustar\x0000"


def test_same_image_in_every_compression() -> None:
    diff_ids = {name: verify_oci(archive_files(name)).diff_ids for name in (
        "oci-gzip.tar", "oci-zstd.tar", "oci-uncompressed.tar", "docker-v25.tar",
        "estargz-like.tar")}
    gzip_ids = diff_ids.pop("oci-gzip.tar")
    estargz_ids = diff_ids.pop("estargz-like.tar")
    assert all(ids == gzip_ids for ids in diff_ids.values())
    assert len(gzip_ids[0]) == 3
    # eStargz appends a TOC after the tar end, so the same files give other diff_ids (§3.4).
    assert not set(estargz_ids[0]) & set(gzip_ids[0])
    for name, media in (("oci-gzip.tar", "+gzip"), ("oci-zstd.tar", "+zstd")):
        manifest = verify_oci(archive_files(name)).manifests[0]
        assert all(layer["mediaType"].endswith(media) for layer in manifest["layers"])


def test_gzip_and_zstd_framing() -> None:
    check = verify_oci(archive_files("oci-gzip.tar"))
    for layer in check.manifests[0]["layers"]:
        assert check.blobs[layer["digest"]][:10] == bytes.fromhex("1f8b08000000000000ff")
    check = verify_oci(archive_files("oci-zstd.tar"))
    for layer in check.manifests[0]["layers"]:
        params = zstandard.get_frame_parameters(check.blobs[layer["digest"]])
        assert params.has_checksum and params.content_size > 0


CAUSE_CODES = [pair.code for pair in cause_pairs.cause_pairs()]


def cause_check(name: str) -> OciCheck:
    return verify_oci(
        {n: m.data for n, m in read_members((CAUSES / name).read_bytes()).items()})


def layer_streams(check: OciCheck) -> list[bytes]:
    return [decompress(check.blobs[layer["digest"]]) for layer in check.manifests[0]["layers"]]


@pytest.mark.parametrize("code", CAUSE_CODES)
def test_cause_pair_is_self_consistent_and_differs(code: str) -> None:
    old, new = cause_check(f"{code}-a.tar"), cause_check(f"{code}-b.tar")
    assert (CAUSES / f"{code}-a.tar").read_bytes() != (CAUSES / f"{code}-b.tar").read_bytes()
    assert old.manifests and new.manifests


def test_cause_pairs_change_what_they_say() -> None:
    """A few pairs checked with tarfile and json alone (the golden tests check them all with
    ocidiff)."""
    base = cause_check("content-a.tar")
    base_layers = layer_streams(base)
    hardlinks = layer_files(layer_streams(cause_check("hardlinks-b.tar"))[1])
    assert layer_files(base_layers[1])["app/serve.py"] == ("1", b"app/main.py")
    assert hardlinks["app/serve.py"] == ("0", hardlinks["app/main.py"][1])
    zstd = cause_check("compression-b.tar")
    assert zstd.diff_ids == base.diff_ids
    assert all(zstd.blobs[layer["digest"]].startswith(ZSTD_MAGIC)
               for layer in zstd.manifests[0]["layers"])
    docker = cause_check("media-types-b.tar")
    assert docker.manifests[0]["mediaType"] == fixturelib.MT_DOCKER_MANIFEST
    assert docker.manifests[0]["config"]["digest"] == base.manifests[0]["config"]["digest"]
    repacked = cause_check("archive-packing-b.tar")
    assert set(repacked.blobs) == set(base.blobs)
    damaged = layer_streams(cause_check("incomplete-b.tar"))[1]
    with pytest.raises(tarfile.ReadError), tarfile.open(fileobj=io.BytesIO(damaged)) as tar:
        for info in tar:
            if info.isfile():
                read_payload(tar, info)
    platforms = cause_check("platforms-b.tar")
    assert len(platforms.manifests) == 2 and platforms.manifests[0] == base.manifests[0]


def test_layout_directory() -> None:
    root = FIXTURES / "oci-layout-dir"
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
             if p.is_file()}
    check = verify_oci(files)
    assert check.diff_ids == verify_oci(archive_files("oci-gzip.tar")).diff_ids


def test_outer_compressed_archives() -> None:
    outer_gz = (FIXTURES / "oci-gzip-outer.tar.gz").read_bytes()
    assert outer_gz[9] == 3  # gzip(1) on Unix
    assert gzip.decompress(outer_gz) == (FIXTURES / "oci-gzip.tar").read_bytes()
    outer_zst = (FIXTURES / "oci-zstd-outer.tar.zst").read_bytes()
    first = zstandard.get_frame_parameters(outer_zst)
    assert first.content_size == zstandard.CONTENTSIZE_UNKNOWN and first.has_checksum
    with pytest.raises(zstandard.ZstdError):
        zstandard.ZstdDecompressor().decompress(outer_zst)  # one-shot needs a content size
    assert decompress(outer_zst) == (FIXTURES / "oci-zstd.tar").read_bytes()
    inner = zstandard.ZstdDecompressor().decompressobj()
    assert len(inner.decompress(outer_zst)) < len(decompress(outer_zst))  # stops after frame 1


def test_multiplatform_index_with_attestations() -> None:
    files = archive_files("oci-multiplatform.tar")
    check = verify_oci(files)
    top = json.loads(files["index.json"])["manifests"]
    assert len(top) == 1 and top[0]["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert set(top[0]["annotations"]) == {
        "org.opencontainers.image.created", "io.containerd.image.name",
        "org.opencontainers.image.ref.name"}
    index = json.loads(check.blobs[top[0]["digest"]])
    platforms = [m["platform"] for m in index["manifests"]]
    assert platforms == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
        {"architecture": "unknown", "os": "unknown"},
        {"architecture": "unknown", "os": "unknown"},
    ]
    runnable = [m["digest"] for m in index["manifests"][:2]]
    referenced = [m["annotations"]["vnd.docker.reference.digest"] for m in index["manifests"][2:]]
    assert referenced == runnable
    assert len(check.manifests) == 2 and len(check.attestations) == 2
    assert check.blobs[top[0]["digest"]].startswith(b'{\n  "schemaVersion": 2,')


def test_rewritten_timestamps() -> None:
    check = verify_oci(archive_files("oci-rewritten.tar"))
    epoch = make_fixtures.EPOCH
    layers = check.manifests[0]["layers"]
    assert "annotations" not in layers[0]  # base layers are kept as they are (§3.7)
    for layer in layers[1:]:
        assert layer["annotations"] == {"buildkit/rewritten-timestamp": str(epoch)}
        members = layer_members(decompress(check.blobs[layer["digest"]]))
        assert max(m.mtime for m in members) == epoch
    reference = verify_oci(archive_files("oci-gzip.tar"))
    assert layers[0]["digest"] == reference.manifests[0]["layers"][0]["digest"]
    config = json.loads(check.blobs[check.manifests[0]["config"]["digest"]])
    assert config["created"] == "2024-06-01T00:00:00Z"
    index = json.loads(archive_files("oci-rewritten.tar")["index.json"])
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.created"] == (
        "2024-06-01T00:00:00Z")


def test_app_pair_differs_only_in_time() -> None:
    builds = [verify_oci(archive_files(name)) for name in ("app-v1.tar", "app-v1-rebuild.tar")]
    manifests = [b.manifests[0] for b in builds]
    first, second = ([b.blobs[layer["digest"]] for layer in m["layers"]]
                     for b, m in zip(builds, manifests, strict=True))
    assert first[0] == second[0]  # the pulled base layer is the same blob
    for one, two in zip(first[1:], second[1:], strict=True):
        assert one != two and one[4:8] != two[4:8] and one[4:8] != b"\0\0\0\0"  # gzip MTIME
        files_one, files_two = layer_files(decompress(one)), layer_files(decompress(two))
        assert files_one == files_two  # same names, types and contents
        mtimes = [{m.name: m.mtime for m in layer_members(decompress(b))} for b in (one, two)]
        assert mtimes[0] != mtimes[1]
    configs = [json.loads(b.blobs[m["config"]["digest"]]) for b, m in zip(builds, manifests,
                                                                          strict=True)]
    assert configs[0]["created"] != configs[1]["created"]
    for config in configs:
        del config["created"], config["rootfs"]
        for entry in config["history"]:
            entry.pop("created")
    assert configs[0] == configs[1]


def test_estargz_layers() -> None:
    check = verify_oci(archive_files("estargz-like.tar"))
    for layer in check.manifests[0]["layers"]:
        blob = check.blobs[layer["digest"]]
        stream = gzip.decompress(blob)
        annotations = layer["annotations"]
        assert annotations["io.containers.estargz.uncompressed-size"] == str(len(stream))
        with tarfile.open(fileobj=io.BytesIO(stream), mode="r:") as tar:
            members = list(tar)  # stops at the first end marker: the TOC comes after it
        end = members[-1].offset_data + ((members[-1].size + 511) // 512) * 512
        assert stream[end:end + 1024] == b"\0" * 1024
        toc_header = stream[end + 1024:end + 1536]
        assert toc_header.startswith(b"stargz.index.json\0")
        toc_size = int(toc_header[124:136].rstrip(b"\0"), 8)
        toc = stream[end + 1536:end + 1536 + toc_size]
        assert sha(toc) == annotations["containerd.io/snapshot/stargz/toc.digest"]
        assert stream.endswith(b"\0" * 1024)
        footer = blob[-51:]
        assert footer[:10] == bytes.fromhex("1f8b08040000000000ff")
        toc_offset = int(footer[16:32], 16)
        assert gzip.decompress(blob[toc_offset:-51]).startswith(b"stargz.index.json\0")
        entries = json.loads(toc)["entries"]
        for entry in (e for e in entries if "offset" in e):  # each payload starts a member
            assert blob[entry["offset"]:entry["offset"] + 2] == GZIP_MAGIC


def test_docker_legacy_archive() -> None:
    data = (FIXTURES / "docker-legacy.tar").read_bytes()
    members = read_members(data)
    entries = verify_docker_manifest(members)
    assert [e["RepoTags"] for e in entries] == [["ocidiff/base:3.20"], ["ocidiff/app:0.9-classic"]]
    shared = entries[1]["Layers"][0]
    assert members[shared].info.issym()
    assert members[shared].info.linkname == "../" + entries[0]["Layers"][0]
    assert members[shared.split("/")[0]].info.mode == 0o40755  # S_IFMT bits (§4.2)
    repositories = json.loads(members["repositories"].data)
    assert repositories["ocidiff/app"]["0.9-classic"] == entries[1]["Layers"][-1].split("/")[0]
    for layer in entries[1]["Layers"][1:]:
        for info in layer_members(resolve(members, layer)):
            if posixpath.basename(info.name).startswith(".wh.") and "opq" not in info.name:
                assert info.type == tarfile.AREGTYPE and info.mode == 0
    assert any(n.endswith(".wh..wh..opq") for layer in entries[1]["Layers"]
               for n in (i.name for i in layer_members(resolve(members, layer))))
    assert "oci-layout" not in members and "index.json" not in members


def test_docker_v25_archive() -> None:
    members = read_members((FIXTURES / "docker-v25.tar").read_bytes())
    entries = verify_docker_manifest(members)
    assert members["oci-layout"].data == b'{"imageLayoutVersion": "1.0.0"}'
    check = verify_oci({n: m.data for n, m in members.items()})
    layers = check.manifests[0]["layers"]
    assert [layer["digest"] for layer in layers] == check.diff_ids[0]  # stored uncompressed
    assert entries[0]["LayerSources"].keys() == set(check.diff_ids[0])
    referenced = {d["digest"] for m in check.manifests for d in [m["config"], *m["layers"]]}
    referenced |= {d["digest"] for d in json.loads(members["index.json"].data)["manifests"]}
    unreferenced = [json.loads(check.blobs[d]) for d in set(check.blobs) - referenced]
    assert unreferenced and all("id" in v1 for v1 in unreferenced)  # legacy v1 layer JSON
    assert json.loads(members["repositories"].data) == {
        "ocidiff/app": {"1.0": check.diff_ids[0][-1][7:]}}


def test_docker_containerd_archive() -> None:
    members = read_members((FIXTURES / "docker-containerd.tar").read_bytes())
    entries = verify_docker_manifest(members)
    check = verify_oci({n: m.data for n, m in members.items()})
    assert len(check.attestations) == 1
    assert entries[0]["Layers"] == [
        "blobs/sha256/" + layer["digest"][7:] for layer in check.manifests[0]["layers"]]
    assert all(members[p].data.startswith(GZIP_MAGIC) for p in entries[0]["Layers"])


def test_retarred_layout() -> None:
    data = (FIXTURES / "oci-retarred-gnu.tar").read_bytes()
    assert len(data) % 10240 == 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        infos = list(tar)
    assert infos[0].name == "." and all(i.name.startswith("./") for i in infos[1:])
    assert {(i.uid, i.uname) for i in infos} == {(1000, "builder")}
    assert data[257:265] == b"ustar  \0"
    check = verify_oci(archive_files("oci-retarred-gnu.tar"))
    assert check.diff_ids == verify_oci(archive_files("oci-gzip.tar")).diff_ids


def test_layer_pax_gnu() -> None:
    data = (FIXTURES / "layer-pax-gnu.tar").read_bytes()
    assert len(data) % 10240 == 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        infos = {i.name: i for i in tar}
    long_names = [n for n in infos if len(n.encode()) > 100]
    assert len(long_names) >= 3
    assert infos["opt/subsecond.txt"].pax_headers["mtime"] == "1718013600.123456789"
    assert infos["opt/gnu-posix-times.txt"].pax_headers.keys() >= {"atime", "ctime"}
    xattrs = infos["opt/xattrs.txt"].pax_headers
    raw = xattrs["SCHILY.xattr.user.binary"].encode("utf-8", "surrogateescape")
    assert raw == b"\x00\xff\xfe\x80nul-and-high-bytes"
    assert xattrs["SCHILY.xattr.security.capability"].startswith("\x01\x00\x00\x02")
    assert "opt/naïve-ünïcödé.txt" in infos
    assert infos["opt/big-uid.txt"].uid == 3_000_000
    assert infos["srv/before-1970.txt"].mtime == -86400
    assert len(infos["srv/gnu-long-link"].linkname) > 100
    assert (infos["dev/null"].type, infos["dev/null"].devmajor, infos["dev/null"].devminor) == (
        tarfile.CHRTYPE, 1, 3)
    assert infos["dev/sda"].type == tarfile.BLKTYPE
    assert infos["run/initctl"].type == tarfile.FIFOTYPE
    assert infos["opt/.wh.removed-legacy.txt"].type == tarfile.AREGTYPE
    assert "var/lib/apt/lists/.wh..wh..opq" in infos
    assert b"././@LongLink" in data and b"PaxHeaders.0" in data and b"ustar  \0" in data


# --------------------------------------------------------------------------------------------------
# fixturelib against real producer output (FORMATS.md §8 samples), byte for byte


def _real(path: str) -> Path:
    target = REAL / path
    if not target.exists():
        pytest.skip(f"real sample {target} not available")
    return target


@pytest.mark.parametrize("name", [
    "test-oci-gzip-image.tar", "test-oci-zstd-image.tar", "test-oci-uncompressed-image.tar",
    "test-oci-estargz-image.tar",
])
def test_oci_archive_writer_matches_buildkit(name: str) -> None:
    real = _real(f"buildkit-oci-dive/{name}").read_bytes()
    members = read_members(real)
    blobs = [fixturelib.Blob("application/octet-stream", m.data) for n, m in members.items()
             if n.startswith("blobs/sha256/")]
    assert fixturelib.write_oci_archive(blobs, members["index.json"].data) == real


def test_layer_writer_matches_buildkit() -> None:
    real = _real("buildkit-oci-dive/test-oci-uncompressed-image.tar").read_bytes()
    layer = next(m.data for n, m in read_members(real).items()
                 if n.endswith("356d5e7f4012d87cb1078ac1f480e90528eec4940ce45c50380321436db38758"))
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:") as tar:
        entries = [fixturelib.file_entry(i.name, read_payload(tar, i), mode=i.mode,
                                         mtime=int(i.mtime)) for i in tar]
    assert fixturelib.write_tar(entries) == layer


@pytest.mark.parametrize(("path", "type_bits"), [
    ("docker-save-multi-symlink-ggcr/test_link.tar", True),
    ("docker-save-symlinks-scalibr/symlinks.tar", True),
    ("docker-save-1.13-containers-image/almostempty.tar", True),
    ("docker-save-v25-ggcr/hello-world-v25.tar", False),
])
def test_walk_writer_matches_docker_save(path: str, type_bits: bool) -> None:
    real = _real(path).read_bytes()
    entries = []
    for member in reversed(read_members(real).values()):  # the writer must restore the order
        info, mode, mtime = member.info, member.info.mode & 0o7777, int(member.info.mtime)
        if info.isdir():
            entries.append(fixturelib.dir_entry(info.name, mode=mode, mtime=mtime))
        elif info.issym():
            entries.append(fixturelib.symlink_entry(info.name, info.linkname, mode=mode,
                                                    mtime=mtime))
        else:
            entries.append(fixturelib.file_entry(info.name, member.data, mode=mode, mtime=mtime))
    assert fixturelib.write_walk_tar(entries, type_bits=type_bits) == real


def test_gnu_retar_matches_real_repack() -> None:
    real = _real("containerd-export-oras/hello-world-prefixed-path.tar").read_bytes()
    members = read_members(real)
    root = members.pop(".").info
    files = [fixturelib.LayoutFile(n + ("/" if m.info.isdir() else ""), m.data, m.info.mode,
                                   int(m.info.mtime)) for n, m in members.items()]
    out = fixturelib.write_retarred_layout(files, uid=root.uid, gid=root.gid, uname=root.uname,
                                           gname=root.gname, root_mtime=int(root.mtime),
                                           root_mode=root.mode)
    assert out == real


def test_estargz_stream_matches_buildkit_except_offsets() -> None:
    real = _real("buildkit-oci-dive/test-oci-estargz-image.tar").read_bytes()
    blob = next(m.data for m in read_members(real).values() if m.data.startswith(GZIP_MAGIC))
    stream = gzip.decompress(blob)
    with tarfile.open(fileobj=io.BytesIO(stream), mode="r:") as tar:
        entries = [fixturelib.file_entry(i.name, read_payload(tar, i), mode=i.mode,
                                         mtime=int(i.mtime)) for i in tar]
    layer = fixturelib.make_estargz_layer(entries)
    ours, theirs = layer.uncompressed, stream
    # Everything up to the TOC member is identical; the TOC differs only in the compressed
    # offsets (zlib's deflate is not Go's), which also shifts its size field and checksum.
    cut = theirs.index(b"stargz.index.json\0")
    assert ours.index(b"stargz.index.json\0") == cut and ours[:cut] == theirs[:cut]
    assert _blank_offsets(_toc(ours)) == _blank_offsets(_toc(theirs))
    assert ours.endswith(b"\0" * 1024) and theirs.endswith(b"\0" * 1024)
    assert layer.blob.data[-51:-35] == blob[-51:-35]  # footer framing up to the offset digits
    assert _count_gzip_members(layer.blob.data) == _count_gzip_members(blob) == 4


def _blank_offsets(toc: bytes) -> bytes:
    return re.sub(rb'"offset": \d+', b'"offset": 0', toc)


def _toc(stream: bytes) -> bytes:
    at = stream.index(b"stargz.index.json\0")
    size = int(stream[at + 124:at + 136].rstrip(b"\0"), 8)
    return stream[at + 512:at + 512 + size]


def _count_gzip_members(blob: bytes) -> int:
    count = 0
    while blob:
        inflater = zlib.decompressobj(31)
        inflater.decompress(blob)
        blob = inflater.unused_data
        count += 1
    return count


def test_go_json_escapes_like_go() -> None:
    assert fixturelib.go_json({"a": "x && <y>"}) == b'{"a":"x \\u0026\\u0026 \\u003cy\\u003e"}'
    assert fixturelib.go_json({"é": 1}, indent=True) == '{\n  "é": 1\n}'.encode()


def test_tar_header_fields_are_go_formatted() -> None:
    entry = fixturelib.file_entry("a", b"x", mode=0o644, mtime=1, uid=1000)
    header = fixturelib.write_tar([entry])[:512]
    assert header[100:108] == b"0000644\0" and header[108:116] == b"0001750\0"
    assert header[124:136] == b"00000000001\0" and header[136:148] == b"00000000001\0"
    checksum = sum(header[:148]) + 8 * ord(" ") + sum(header[156:])
    assert header[148:156] == f"{checksum:06o}\0 ".encode()
    assert header[257:265] == b"ustar\x0000"
    assert header[329:345] == b"0000000\x000000000\0"
    unsplittable = replace(entry, name="d/" + "n" * 120)
    assert fixturelib.write_tar([unsplittable])[156:157] == b"x"  # PAX `path` record first
    splittable = replace(entry, name="p" * 60 + "/" + "n" * 60)
    header = fixturelib.write_tar([splittable])[:512]
    assert header[156:157] == b"0" and header[345:406] == b"p" * 60 + b"\0"
