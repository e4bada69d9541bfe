#!/usr/bin/env python3
"""Independent check of the real-tool fixtures in fixtures/real/.

For every OCI archive, docker-archive and OCI layout directory there:
  * every blob's sha256 matches its name and its descriptor's size;
  * every layer, decompressed by its magic bytes (gzip, zstd or plain tar), hashes to the
    config's rootfs.diff_ids entry, and the media type agrees with the magic;
  * no blob is left unreferenced;
  * each layer tar is walked by a small tolerant parser that records whether it has the
    end-of-archive zero blocks and whether its last member is padded;
  * `skopeo inspect --raw` and `--config --raw` (when skopeo is installed) return exactly the
    manifest and config bytes found in the file;
  * per-fixture and per-pair expectations from fixtures/real/README.md hold.

Only the standard library is needed; zstd layers use the `zstandard` module when importable,
else the `zstd` command. Exit status 1 on any problem.

Usage: python3 scripts/check_real_images.py [FIXTURE_DIR] [--no-skopeo]
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

problems: list[str] = []


def problem(where: str, msg: str) -> None:
    problems.append(f"{where}: {msg}")
    print(f"  PROBLEM {where}: {msg}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zstd_decompress(data: bytes) -> bytes:
    try:
        import zstandard
    except ImportError:
        exe = shutil.which("zstd")
        if exe is None:
            raise RuntimeError(
                "zstd layer: need the zstandard module or the zstd command"
            ) from None
        return subprocess.run([exe, "-dc"], input=data, capture_output=True, check=True).stdout
    import io

    dctx = zstandard.ZstdDecompressor()
    with dctx.stream_reader(io.BytesIO(data), read_across_frames=True) as r:
        out: bytes = r.read()
    return out


def decompress(data: bytes) -> tuple[str, bytes]:
    if data[:2] == GZIP_MAGIC:
        return "gzip", gzip.decompress(data)  # handles multi-member gzip too
    if data[:4] == ZSTD_MAGIC:
        return "zstd", zstd_decompress(data)
    return "none", data


# ------------------------------------------------------------------ tolerant layer-tar walker
@dataclass
class Entry:
    name: str
    typeflag: str
    mode: int
    size: int
    linkname: str
    pax: dict[str, str]


@dataclass
class LayerScan:
    entries: list[Entry] = field(default_factory=list)
    eof_marker: bool = False  # a zero block where the next header should be
    last_padded: bool = True  # the last member's data is padded to 512


def _num(field_bytes: bytes) -> int:
    if field_bytes and field_bytes[0] & 0x80:  # base-256
        return int.from_bytes(field_bytes[1:], "big")
    s = field_bytes.rstrip(b"\0 ").lstrip(b" ")
    return int(s, 8) if s else 0


def _str(field_bytes: bytes) -> str:
    return field_bytes.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax_records(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        sp = data.index(b" ", pos)
        length = int(data[pos:sp])
        rec = data[sp + 1 : pos + length - 1]  # drop the trailing newline
        k, _, v = rec.partition(b"=")
        out[k.decode()] = v.decode("utf-8", "surrogateescape")
        pos += length
    return out


def scan_layer(raw: bytes) -> LayerScan:
    """Walk a tar without requiring the end-of-archive blocks (umoci 0.4.7 omits them)."""
    scan = LayerScan()
    pos = 0
    pending_pax: dict[str, str] = {}
    pending_long: str | None = None
    while pos < len(raw):
        hdr = raw[pos : pos + 512]
        if len(hdr) < 512:
            raise ValueError(f"truncated header at offset {pos}")
        if hdr == b"\0" * 512:
            scan.eof_marker = True
            break
        chk = _num(hdr[148:156])
        if chk != sum(hdr[:148]) + 32 * 8 + sum(hdr[156:]):
            raise ValueError(f"bad header checksum at offset {pos}")
        size = _num(hdr[124:136])
        typeflag = chr(hdr[156]) if hdr[156] else "0"
        data_start = pos + 512
        data = raw[data_start : data_start + size]
        if len(data) < size:
            raise ValueError(f"member data truncated at offset {data_start}")
        padded_end = data_start + (size + 511) // 512 * 512
        scan.last_padded = padded_end <= len(raw)
        pos = min(padded_end, len(raw))
        if typeflag == "x":
            pending_pax.update(_pax_records(data))
            continue
        if typeflag == "g":
            continue
        if typeflag == "L":
            pending_long = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
            continue
        name = _str(hdr[0:100])
        if hdr[257:263] == b"ustar\0" and hdr[345]:
            name = _str(hdr[345:500]) + "/" + name
        if pending_long is not None:
            name = pending_long
        name = pending_pax.get("path", name)
        linkname = pending_pax.get("linkpath", _str(hdr[157:257]))
        scan.entries.append(Entry(name, typeflag, _num(hdr[100:108]), size, linkname, pending_pax))
        pending_pax, pending_long = {}, None
    return scan


# ------------------------------------------------------------------ reading the containers
@dataclass
class Image:
    """One manifest's worth of facts, for the expectation checks."""

    manifest_digest: str
    manifest: JSON
    config_digest: str
    config: JSON
    layer_digests: list[str]
    layer_media: list[str]
    diff_ids: list[str]
    scans: list[LayerScan | None]  # None where the layer could not be read


@dataclass
class Fixture:
    name: str
    kind: str  # oci-archive | oci-dir | docker-archive
    images: dict[str, Image] = field(default_factory=dict)  # by ref name ("" if none)


def read_tar(path: str) -> tuple[dict[str, bytes], dict[str, str], list[tarfile.TarInfo]]:
    files: dict[str, bytes] = {}
    links: dict[str, str] = {}
    with tarfile.open(path, "r:") as t:
        members = t.getmembers()
        for m in members:
            name = m.name[2:] if m.name.startswith("./") else m.name
            if m.isfile():
                f = t.extractfile(m)
                assert f is not None
                files[name] = f.read()
            elif m.issym():
                links[name] = m.linkname
    return files, links, members


def read_dir(path: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for dirpath, _dirs, names in os.walk(path):
        for n in names:
            full = os.path.join(dirpath, n)
            with open(full, "rb") as f:
                files[os.path.relpath(full, path)] = f.read()
    return files


def check_layer(
    where: str, blob: bytes, media: str, diff_id: str | None
) -> tuple[str, LayerScan | None]:
    try:
        kind, raw = decompress(blob)
    except Exception as e:  # any decoder error is a finding
        problem(where, f"layer does not decompress: {type(e).__name__}: {e}")
        return "", None
    want = {"gzip": ("+gzip", ".gzip"), "zstd": ("+zstd", ".zstd"), "none": ("tar", ".tar")}[kind]
    if not media.endswith(want):
        problem(where, f"media type {media} but the blob's magic says {kind}")
    got = "sha256:" + sha256(raw)
    if diff_id is not None and got != diff_id:
        problem(where, f"decompressed sha256 {got} != diff_id {diff_id}")
    try:
        return got, scan_layer(raw)
    except ValueError as e:
        problem(where, f"layer tar unreadable: {e}")
        return got, None


def check_oci(fx: Fixture, files: dict[str, bytes]) -> None:
    where = fx.name
    try:
        layout = json.loads(files["oci-layout"])
        if layout.get("imageLayoutVersion") != "1.0.0":
            problem(where, f"oci-layout says {layout}")
    except KeyError:
        problem(where, "no oci-layout file")
    prefix = "blobs/sha256/"
    blobs = {n[len(prefix) :]: b for n, b in files.items() if n.startswith(prefix)}
    for hx, b in blobs.items():
        if sha256(b) != hx:
            problem(where, f"blob {hx} hashes to {sha256(b)}")
    referenced: set[str] = set()

    def get(desc: JSON, what: str) -> bytes | None:
        alg, _, hx = desc["digest"].partition(":")
        if alg != "sha256" or hx not in blobs:
            problem(where, f"{what} blob {desc['digest']} missing")
            return None
        referenced.add(hx)
        if len(blobs[hx]) != desc["size"]:
            problem(
                where,
                f"{what} {desc['digest']}: {len(blobs[hx])} bytes, descriptor says {desc['size']}",
            )
        return blobs[hx]

    def walk_index(idx: JSON, ref: str | None) -> None:
        for d in idx.get("manifests") or []:
            name = (d.get("annotations") or {}).get("org.opencontainers.image.ref.name", ref or "")
            raw = get(d, "manifest")
            if raw is None:
                continue
            doc = json.loads(raw)
            mt = doc.get("mediaType", d.get("mediaType"))
            if mt != d.get("mediaType"):
                problem(where, f"descriptor says {d.get('mediaType')}, document says {mt}")
            if "manifests" in doc:
                walk_index(doc, name)
            else:
                check_manifest(d, doc, name)

    def check_manifest(desc: JSON, man: JSON, name: str) -> None:
        craw = get(man["config"], "config")
        if craw is None:
            return
        cfg = json.loads(craw)
        diff_ids = cfg.get("rootfs", {}).get("diff_ids") or []
        layers = man.get("layers") or []
        if len(diff_ids) != len(layers):
            problem(where, f"{len(layers)} layers but {len(diff_ids)} diff_ids")
        non_empty = [h for h in cfg.get("history") or [] if not h.get("empty_layer")]
        if cfg.get("history") and len(non_empty) != len(layers):
            problem(where, f"{len(non_empty)} non-empty history entries for {len(layers)} layers")
        scans: list[LayerScan | None] = []
        for i, ld in enumerate(layers):
            blob = get(ld, f"layer {i}")
            if blob is None:
                continue
            want = diff_ids[i] if i < len(diff_ids) else None
            _, scan = check_layer(f"{where} layer {i}", blob, ld["mediaType"], want)
            scans.append(scan)
        fx.images[name] = Image(
            desc["digest"],
            man,
            man["config"]["digest"],
            cfg,
            [ld["digest"] for ld in layers],
            [ld["mediaType"] for ld in layers],
            diff_ids,
            scans,
        )

    try:
        index = json.loads(files["index.json"])
    except KeyError:
        problem(where, "no index.json")
        return
    walk_index(index, None)
    for hx in sorted(set(blobs) - referenced):
        problem(where, f"unreferenced blob {hx}")


def check_docker_archive(fx: Fixture, files: dict[str, bytes], links: dict[str, str]) -> None:
    where = fx.name

    def resolve(name: str) -> bytes | None:
        seen = 0
        while name in links and seen < 8:
            name = os.path.normpath(os.path.join(os.path.dirname(name), links[name]))
            seen += 1
        return files.get(name)

    manifest = json.loads(files["manifest.json"])
    for entry in manifest:
        craw = files.get(entry["Config"])
        if craw is None:
            problem(where, f"config {entry['Config']} missing")
            continue
        cfg_hex = sha256(craw)
        if os.path.basename(entry["Config"]).split(".")[0] != cfg_hex:
            problem(where, f"config file {entry['Config']} hashes to {cfg_hex}")
        cfg = json.loads(craw)
        diff_ids = cfg["rootfs"]["diff_ids"]
        if len(diff_ids) != len(entry["Layers"]):
            problem(where, "layer count != diff_ids count")
        scans: list[LayerScan | None] = []
        digests: list[str] = []
        for i, lp in enumerate(entry["Layers"]):
            blob = resolve(lp)
            if blob is None:
                problem(where, f"layer {lp} missing")
                continue
            digests.append("sha256:" + sha256(blob))
            _, scan = check_layer(f"{where} layer {i}", blob, "application/x-tar", diff_ids[i])
            scans.append(scan)
        media = ["tar"] * len(digests)
        for tag in entry.get("RepoTags") or [""]:
            fx.images[tag] = Image(
                "", entry, "sha256:" + cfg_hex, cfg, digests, media, diff_ids, scans
            )
    # the legacy <v1id>/layer.tar symlinks must land on real members
    for name, target in links.items():
        if resolve(name) is None:
            problem(where, f"symlink {name} -> {target} dangles")
    if "repositories" in files:
        json.loads(files["repositories"])


# ------------------------------------------------------------------ skopeo cross-check
def skopeo_check(fx: Fixture, path: str, files: dict[str, bytes]) -> None:
    where = fx.name
    for ref, img in fx.images.items():
        if fx.kind == "oci-archive":
            target = f"oci-archive:{path}"
        elif fx.kind == "oci-dir":
            target = f"oci:{path}:{ref}"
        else:
            target = f"docker-archive:{path}"
        try:
            mraw = subprocess.run(
                ["skopeo", "inspect", "--raw", target], capture_output=True, check=True
            ).stdout
            craw = subprocess.run(
                ["skopeo", "inspect", "--config", "--raw", target], capture_output=True, check=True
            ).stdout
        except subprocess.CalledProcessError as e:
            err = e.stderr.decode(errors="replace").strip()
            problem(where, f"skopeo inspect {target} failed: {err}")
            continue
        if fx.kind == "docker-archive":
            # skopeo synthesizes a schema2 manifest from manifest.json: compare what it points at
            m = json.loads(mraw)
            if m["config"]["digest"] != img.config_digest:
                problem(where, f"skopeo config digest {m['config']['digest']} differs")
            if [ld["digest"] for ld in m["layers"]] != img.diff_ids:
                problem(where, "skopeo layer digests != diff_ids")
        elif "sha256:" + sha256(mraw) != img.manifest_digest:
            problem(where, f"skopeo manifest sha256:{sha256(mraw)} != {img.manifest_digest}")
        if "sha256:" + sha256(craw) != img.config_digest:
            problem(where, f"skopeo config sha256:{sha256(craw)} != {img.config_digest}")
        else:
            print(f"  skopeo inspect {target.split(':')[0]}: manifest and config agree")


# ------------------------------------------------------------------ expectations
def only(fx: Fixture) -> Image:
    if len(fx.images) != 1:
        raise AssertionError(f"{fx.name}: expected one image, found {len(fx.images)}")
    return next(iter(fx.images.values()))


def entries(img: Image) -> list[Entry]:
    return [e for s in img.scans if s for e in s.entries]


def path_sizes(im: Image) -> list[tuple[str, int]]:
    return [(e.name, e.size) for e in entries(im)]


def xattrs(im: Image) -> dict[str, str]:
    return {
        e.name: v for e in entries(im) for k, v in e.pax.items() if k.startswith("SCHILY.xattr.")
    }


def base_digest(im: Image) -> str | None:
    ann: dict[str, str] = im.manifest.get("annotations") or {}
    return ann.get("org.opencontainers.image.base.digest")


def expect(cond: bool, where: str, msg: str) -> None:
    if cond:
        print(f"  ok    {where}: {msg}")
    else:
        problem(where, "expectation failed: " + msg)


def expectations(fx_by_name: dict[str, Fixture]) -> None:
    def img(name: str) -> Image | None:
        fx = fx_by_name.get(name)
        if fx is None:
            problem(name, "fixture missing")
            return None
        return only(fx)

    def pair(stem: str) -> tuple[Image, Image] | None:
        x, y = img(f"{stem}-a"), img(f"{stem}-b")
        return (x, y) if x and y else None

    # termination: only the umoci file may carry unterminated / unpadded layer tars
    for name, fx in fx_by_name.items():
        for ref, im in fx.images.items():
            bad = [
                i for i, s in enumerate(im.scans) if s and (not s.eof_marker or not s.last_padded)
            ]
            if name.startswith("umoci-"):
                unpadded = [i for i, s in enumerate(im.scans) if s and not s.last_padded]
                expect(bool(bad), name, f"layers {bad} lack the end-of-archive blocks")
                expect(bool(unpadded), name, f"layers {unpadded} end in an unpadded member")
            elif bad:
                problem(name, f"layers {bad} of {ref or 'image'} are not properly terminated")

    if p := pair("twice"):
        x, y = p
        expect(x.diff_ids != y.diff_ids, "twice", "layers differ")
        expect(x.config["created"] != y.config["created"], "twice", "created differs")
        expect(path_sizes(x) == path_sizes(y), "twice", "same paths and sizes (mtimes differ)")
    if p := pair("stamped"):
        expect(p[0].manifest_digest == p[1].manifest_digest, "stamped", "same manifest digest")
    if p := pair("srcchange"):
        x, y = p
        expect(len(x.diff_ids) == 1 and x.diff_ids != y.diff_ids, "srcchange", "the layer differs")
        same_paths = {e.name for e in entries(x)} == {e.name for e in entries(y)}
        expect(same_paths, "srcchange", "same path set")
    if p := pair("depbump"):
        x, y = p
        expect(
            x.diff_ids[0] != y.diff_ids[0] and x.diff_ids[1] == y.diff_ids[1],
            "depbump",
            "site-packages layer differs, app layer identical",
        )
        old = "requests-2.31.0.dist-info/METADATA"
        new = "requests-2.32.0.dist-info/METADATA"
        renamed = any(old in e.name for e in entries(x)) and any(new in e.name for e in entries(y))
        expect(renamed, "depbump", "dist-info directories renamed")
    trio = [img(f"gzip-vs-zstd-{s}") for s in "abc"]
    a, b, c = trio
    if a and b and c:
        w = "gzip-vs-zstd"
        same_cfg = a.config_digest == b.config_digest == c.config_digest
        expect(same_cfg, w, "one config for all three")
        blobs = {a.layer_digests[0], b.layer_digests[0], c.layer_digests[0]}
        expect(len(blobs) == 3, w, "three layer blobs (gzip, buildah zstd, skopeo zstd)")
        media = [im.layer_media[0].rsplit("+", 1)[-1] for im in (a, b, c)]
        expect(media == ["gzip", "zstd", "zstd"], w, "media types gzip/zstd/zstd")
    if p := pair("uncompressed-vs-gzip"):
        x, y = p
        w = "uncompressed-vs-gzip"
        media_ok = x.layer_media[0].endswith(".tar") and y.layer_media[0].endswith("+gzip")
        expect(media_ok, w, "layer media types tar vs tar+gzip")
        expect(x.config_digest == y.config_digest, w, "same config")
        expect(x.layer_digests[0] == x.diff_ids[0], w, "uncompressed blob digest == diff_id")
    if p := pair("base"):
        x, y = p
        expect(
            x.diff_ids[0] != y.diff_ids[0] and x.diff_ids[1:] == y.diff_ids[1:],
            "base",
            "base layer differs, app layer identical",
        )
        expect(base_digest(x) != base_digest(y), "base", "base.digest annotation differs")
    if p := pair("config"):
        x, y = p
        expect(x.layer_digests == y.layer_digests, "config", "same layer blobs")
        expect(x.config_digest != y.config_digest, "config", "different config")
    if wo := img("whiteout"):
        names = {e.name for e in entries(wo)}
        want = {"data/.wh.gone.txt", ".wh.olddir", "opt/cfg/.wh.one.conf"}
        expect(want <= names, "whiteout", "file, directory and replaced-directory whiteouts")
    if u := img("umoci-unterminated"):
        names = {e.name for e in entries(u)}
        want = {"data/.wh..wh..opq", "opt/cfg/.wh.three.conf"}
        expect(want <= names, "umoci-unterminated", "opaque and plain whiteouts from umoci insert")
    if p := pair("intermediate"):
        x, y = p
        same = [a == b for a, b in zip(x.layer_digests, y.layer_digests, strict=True)]
        expect(same == [True, False, True], "intermediate", "layers 0 and 2 shared, 1 differs")
        expect(base_digest(x) != base_digest(y), "intermediate", "base.digest differs")
    if h := img("hardlinks-umoci"):
        links = {e.name: e.linkname for e in entries(h) if e.typeflag == "1"}
        want = {"x/b": "x/a", "x/c": "x/keep", "x/d": "x/gone", "x/e": "x/gone", "y/h1": "y/t",
                "y/h2": "y/h1"}
        expect(links == want, "hardlinks-umoci", "hard links within and across layers")
    if sl := img("symlinks-umoci"):
        names = {e.name for e in entries(sl)}
        want = {"chain/c", "esc/lib/e", "abs/.wh.gone", "deep/er/up/doc/.wh..wh..opq", "lib/hl"}
        expect(want <= names, "symlinks-umoci", "members named through lower-layer symlinks")
    if p := pair("ociarchive-vs-dockerarchive"):
        x, y = p
        same = x.config_digest == y.config_digest and x.diff_ids == y.diff_ids
        expect(same, "ociarchive-vs-dockerarchive", "same config bytes and diff_ids")
    if p := pair("xattr"):
        x, y = p
        ok = not xattrs(x) and xattrs(y) == {"opt/file.txt": "1"}
        expect(ok, "xattr", "PAX SCHILY.xattr.user.test=1 only in b")
    if p := pair("pycache"):
        x, y = p
        expect(x.diff_ids != y.diff_ids, "pycache", "layers differ")
        expect(
            [n for n, _ in path_sizes(x)] == [n for n, _ in path_sizes(y)], "pycache", "same paths"
        )
    if m := img("layers"):
        es = entries(m)
        expect(len(m.diff_ids) >= 5, "layers", f"{len(m.diff_ids)} layers")
        links = any(e.typeflag == "1" for e in es) and any(e.typeflag == "2" for e in es)
        expect(links, "layers", "hardlink and symlink entries present")
        expect(any(e.name == "etc/.wh.motd" for e in es), "layers", "RUN rm whiteout")
    layout = fx_by_name.get("layout-dir")
    if layout is None:
        problem("layout-dir", "fixture missing")
        return
    expect(set(layout.images) == {"depbump-a", "depbump-b"}, "layout-dir", "two tags")
    for ref, im in layout.images.items():
        src = fx_by_name.get(ref)
        if src:
            same = only(src).manifest_digest == im.manifest_digest
            expect(same, "layout-dir", f"{ref} manifest identical to {ref}.tar")


# ------------------------------------------------------------------ main
def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    use_skopeo = "--no-skopeo" not in argv
    here = os.path.dirname(os.path.abspath(__file__))
    root = args[0] if args else os.path.join(here, "..", "fixtures", "real")
    root = os.path.abspath(root)
    if use_skopeo and shutil.which("skopeo") is None:
        print("note: skopeo not installed, skipping the skopeo cross-check")
        use_skopeo = False
    fixtures: dict[str, Fixture] = {}
    for n in sorted(os.listdir(root)):
        path = os.path.join(root, n)
        if n.endswith(".tar"):
            print(f"{n}")
            try:
                files, links, members = read_tar(path)
            except (tarfile.TarError, OSError) as e:
                problem(n, f"outer tar unreadable: {e}")
                continue
            if "oci-layout" in files:
                fx = Fixture(n[:-4], "oci-archive")
                check_oci(fx, files)
            elif "manifest.json" in files:
                fx = Fixture(n[:-4], "docker-archive")
                check_docker_archive(fx, files, links)
            else:
                problem(n, "neither an OCI layout nor a docker-archive")
                continue
            summary = ", ".join(
                f"{len(i.diff_ids)} layer(s) {sorted(set(i.layer_media))}"
                for i in fx.images.values()
            )
            print(f"  {len(members)} outer members, {len(fx.images)} image(s): {summary}")
        elif os.path.isdir(path) and os.path.exists(os.path.join(path, "oci-layout")):
            print(f"{n}/")
            fx = Fixture(n, "oci-dir")
            files = read_dir(path)
            check_oci(fx, files)
        else:
            continue
        if use_skopeo:
            skopeo_check(fx, path, files)
        fixtures[fx.name] = fx
    print("expectations")
    expectations(fixtures)
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        return 1
    print(f"\nall {len(fixtures)} fixtures check out")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
