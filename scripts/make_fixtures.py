"""Writes the synthetic fixture catalogue into fixtures/synthetic/ (table in its README.md).

Every byte comes from `fixturelib` with fixed seeds and a fixed timeline, so two runs produce
identical files. `--check` regenerates into a temporary directory and compares with the committed
files (exit 1, naming the differing paths). Never reads the clock or the network.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import shutil
import struct
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cause_pairs
import fixturelib as fl

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "fixtures" / "synthetic"

# The timeline every fixture shares (Unix seconds, UTC).
BASE_BUILT = 1716402400  # 2024-05-22T18:26:40Z  the base image was published
APP_BUILT = 1718013600  # 2024-06-10T10:00:00Z  first build of the app
REBUILT = 1718103845  # 2024-06-11T11:04:05Z  same source, rebuilt a day later
EPOCH = 1717200000  # 2024-06-01T00:00:00Z  SOURCE_DATE_EPOCH of the rewrite-timestamp build
CLASSIC_BUILT = 1697371200  # 2023-10-15T12:00:00Z  the classic-builder image in docker-legacy
SAVED = 1718020800  # 2024-06-10T12:00:00Z  when `docker save` / re-tarring ran

AMD64 = fl.Platform("amd64")
ARM64 = fl.Platform("arm64", variant="v8")
APP_NAME = "ocidiff/app"
APP_TAG = "1.0"


# --------------------------------------------------------------------------------------------------
# File contents


def elf_like(seed: str, size: int, arch: str) -> bytes:
    """Binary-ish bytes that compress like a small executable (about 2.5:1): an ELF header, an
    opcode-heavy "text" section, a string table, zero padding and an incompressible tail."""
    machine = {"amd64": 0x3E, "arm64": 0xB7}[arch]
    header = (b"\x7fELF\x02\x01\x01" + bytes(9)
              + struct.pack("<HHIQQQIHHHHHH", 3, machine, 1, 0x1040, 64, size - 512, 0,
                            64, 56, 9, 64, 28, 27))
    noise = fl.pseudo_random_bytes(seed + ":text", size)
    instructions = (b"\x48\x89\xe5", b"\x8b\x45\xfc", b"\x83\xc0\x01", b"\x5d\xc3",
                    b"\x0f\x1f\x44\x00\x00", b"\x48\x83\xec\x10", b"\x31\xc0", b"\x55")
    text = bytearray()
    for i in range(0, len(noise) - 1, 2):
        if len(text) >= size // 2:
            break
        text += instructions[noise[i] % 8]
        if noise[i] % 8 == 7:  # a call with a pseudo-random displacement
            text += b"\xe8" + noise[i + 1 : i + 2] + b"\x00\x00\x00"
    symbols = b"".join(
        f"\0_ZN3app{n}handler_{i:04d}E\0.rodata.{n}\0".encode()
        for i, n in enumerate(("server", "config", "router", "metrics") * (size // 2048 + 1))
    )
    body = (header + bytes(text) + symbols + bytes(size // 4))[: size - size // 16]
    return body + fl.pseudo_random_bytes(seed + ":tail", size - len(body))


def text_file(seed: str, lines: int) -> bytes:
    words = ["app", "layer", "config", "digest", "build", "image", "tar", "serve", "route"]
    digest = fl.pseudo_random_bytes(seed, lines * 3)
    return b"".join(
        f"{i:03d} {words[digest[3 * i] % 9]} {words[digest[3 * i + 1] % 9]} "
        f"{digest[3 * i + 2]}\n".encode() for i in range(lines)
    )


def tzif_utc() -> bytes:
    """A tiny TZif v2 file for UTC (header counts and the POSIX footer)."""
    counts = struct.pack(">6I", 0, 0, 0, 0, 1, 4)
    v1 = b"TZif2" + bytes(15) + counts + bytes(6) + b"UTC\0"
    return v1 + v1 + b"\nUTC0\n"


# --------------------------------------------------------------------------------------------------
# The "app" image: a small base layer, a COPY layer, a RUN layer with whiteouts


def base_entries(arch: str) -> list[fl.TarEntry]:
    """The base image's one layer (from a registry; built long before the app)."""
    t = BASE_BUILT
    loader = f"lib/ld-musl-{'x86_64' if arch == 'amd64' else 'aarch64'}.so.1"
    cap_net_raw = bytes.fromhex("01000002" "00200000" "00000000" "00000000" "00000000")
    apkindex = fl.gzip_member(text_file(f"apkindex-{arch}", 40), mtime=t - 3600, os=3)
    return [
        fl.dir_entry("bin", mtime=t),
        fl.file_entry("bin/busybox", elf_like(f"busybox-{arch}", 6144, arch), mode=0o755,
                      mtime=t - 86400),
        fl.hardlink_entry("bin/ls", "bin/busybox", mode=0o755, mtime=t - 86400),
        fl.file_entry("bin/ping", elf_like(f"ping-{arch}", 1536, arch), mode=0o755,
                      mtime=t - 86400, xattrs={"security.capability": cap_net_raw}),
        fl.hardlink_entry("bin/sh", "bin/busybox", mode=0o755, mtime=t - 86400),
        fl.dir_entry("etc", mtime=t),
        fl.file_entry("etc/group", b"root:x:0:root\nbin:x:1:root,bin\nnogroup:x:65533:\n",
                      mtime=t),
        fl.file_entry("etc/hostname", b"", mtime=t),
        fl.symlink_entry("etc/localtime", "../usr/share/zoneinfo/UTC", mtime=t),
        fl.file_entry("etc/motd", b"Welcome to the ocidiff base image!\n", mtime=t),
        fl.file_entry("etc/os-release", b'NAME="Ocidiff Base"\nID=ocidiff\nVERSION_ID=3.20.0\n'
                      b'PRETTY_NAME="Ocidiff Base v3.20"\n', mtime=t),
        fl.file_entry("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                      b"nobody:x:65534:65534:nobody:/:/sbin/nologin\n", mtime=t),
        fl.dir_entry("lib", mtime=t),
        fl.file_entry(loader, elf_like(f"musl-{arch}", 3072, arch), mode=0o755, mtime=t - 86400),
        fl.symlink_entry(f"lib/libc.musl-{'x86_64' if arch == 'amd64' else 'aarch64'}.so.1",
                         loader.split("/")[-1], mtime=t - 86400),
        fl.dir_entry("root", mode=0o700, mtime=t),
        fl.dir_entry("tmp", mode=0o1777, mtime=t),
        fl.dir_entry("usr", mtime=t),
        fl.dir_entry("usr/share", mtime=t),
        fl.dir_entry("usr/share/zoneinfo", mtime=t),
        fl.file_entry("usr/share/zoneinfo/UTC", tzif_utc(), mtime=t - 86400),
        fl.dir_entry("var", mtime=t),
        fl.dir_entry("var/cache", mtime=t),
        fl.dir_entry("var/cache/apk", mtime=t),
        fl.file_entry("var/cache/apk/APKINDEX.66b2ba0b.tar.gz", apkindex, mtime=t),
    ]


def app_entries(arch: str, checkout: int) -> list[fl.TarEntry]:
    """`COPY --chown=1000:1000 . /app/`: mtimes are when the source tree was checked out."""
    t = checkout
    deep = ("app/static/vendor/ocidiff-design-system/dist/esm/components/"
            "layer-comparison-table/layer-comparison-table.module.css")
    main_py = (b"#!/usr/bin/env python3\n\"\"\"Tiny demo service.\"\"\"\nimport sys\n\n\n"
               b"def main() -> int:\n    print('serving on :8080 & friends')\n    return 0\n\n\n"
               b"if __name__ == '__main__':\n    sys.exit(main())\n")
    entries = [
        fl.dir_entry("app", mtime=t),
        fl.file_entry("app/README.md", b"# app\n\nA demo service used by ocidiff tests.\n"
                      + text_file("readme", 40), mtime=t),
        fl.file_entry("app/VERSION", b"1.0.0\n", mtime=t),
        fl.dir_entry("app/bin", mtime=t),
        fl.file_entry("app/bin/app-server", elf_like(f"app-server-{arch}", 65536, arch),
                      mode=0o755, mtime=t),
        fl.file_entry("app/config.yaml", b"listen: ':8080'\nlog_level: info\nfeatures:\n"
                      b"  - diff\n  - explain\n", mtime=t),
        fl.file_entry("app/main.py", main_py, mode=0o755, mtime=t),
        fl.dir_entry("app/static", mtime=t),
        fl.file_entry("app/static/café.txt", "crème brûlée\n".encode(), mtime=t),
        fl.file_entry("app/static/index.html", b"<!doctype html>\n<title>app &amp; co</title>\n"
                      b"<p>Hello</p>\n", mtime=t),
        fl.dir_entry("app/static/vendor", mtime=t),
        fl.dir_entry("app/static/vendor/ocidiff-design-system", mtime=t),
        fl.dir_entry("app/static/vendor/ocidiff-design-system/dist", mtime=t),
        fl.dir_entry("app/static/vendor/ocidiff-design-system/dist/esm", mtime=t),
        fl.dir_entry("app/static/vendor/ocidiff-design-system/dist/esm/components", mtime=t),
        fl.dir_entry("app/static/vendor/ocidiff-design-system/dist/esm/components/"
                     "layer-comparison-table", mtime=t),
        fl.file_entry(deep, b".table { border-collapse: collapse; }\n", mtime=t),
    ]
    return [replace(e, uid=1000, gid=1000) for e in entries]  # --chown=1000:1000


def setup_entries(built: int) -> list[fl.TarEntry]:
    """`RUN ln -s ... && rm -rf /var/cache/apk && rm -f /etc/motd && adduser ...`: BuildKit's
    overlay differ writes changed parents first and explicit whiteouts (FORMATS.md §3.5)."""
    t = built
    return [
        fl.dir_entry("etc", mtime=t),
        fl.whiteout_entry("etc/motd"),
        fl.file_entry("etc/group", b"root:x:0:root\nbin:x:1:root,bin\nnogroup:x:65533:\n"
                      b"app:x:1000:\n", mtime=t),
        fl.file_entry("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                      b"nobody:x:65534:65534:nobody:/:/sbin/nologin\n"
                      b"app:x:1000:1000::/app:/bin/sh\n", mtime=t),
        fl.dir_entry("usr", mtime=t),
        fl.dir_entry("usr/local", mtime=t),
        fl.dir_entry("usr/local/bin", mtime=t),
        fl.symlink_entry("usr/local/bin/app", "/app/main.py", mtime=t),
        fl.dir_entry("var", mtime=t),
        fl.dir_entry("var/cache", mtime=t),
        fl.whiteout_entry("var/cache/apk"),
    ]


SETUP_RUN = ("RUN /bin/sh -c ln -s /app/main.py /usr/local/bin/app && rm -rf /var/cache/apk "
             "&& rm -f /etc/motd && addgroup -g 1000 app && adduser -D -u 1000 -G app app "
             "# buildkit")
RUN_CONFIG = fl.RunConfig(
    user="app", exposed_ports=("8080/tcp",),
    env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_HOME=/app"),
    entrypoint=("/usr/local/bin/app",), cmd=("--serve",), working_dir="/app",
    labels=(("org.opencontainers.image.source", "https://example.com/ocidiff/app"),
            ("org.opencontainers.image.version", "1.0.0")),
)


def app_history(base_diff_id: str, built: int, epoch: int | None = None) -> list[fl.HistoryEntry]:
    """Base history (legacy builder strings) then the Dockerfile steps, BuildKit style. With an
    epoch, created times after it are clamped (FORMATS.md §3.6)."""

    def at(seconds: int, nanos: int) -> str:
        if epoch is not None and seconds >= epoch:
            return fl.rfc3339(epoch)
        return fl.rfc3339(seconds, nanos)

    b = fl.BUILDKIT_COMMENT
    return [
        fl.HistoryEntry(at(BASE_BUILT, 0), f"/bin/sh -c #(nop) ADD file:{base_diff_id[7:]} in / ",
                        comment=None),
        fl.HistoryEntry(at(BASE_BUILT + 1, 0), '/bin/sh -c #(nop)  CMD ["/bin/sh"]',
                        comment=None, empty_layer=True),
        fl.HistoryEntry(at(built, 118_506_127), "ENV APP_HOME=/app", b, empty_layer=True),
        fl.HistoryEntry(at(built + 1, 402_881_310), "COPY --chown=1000:1000 . /app/ # buildkit",
                        b),
        fl.HistoryEntry(at(built + 9, 77_512_904), SETUP_RUN, b),
        fl.HistoryEntry(at(built + 9, 77_512_904), "WORKDIR /app", b, empty_layer=True),
        fl.HistoryEntry(at(built + 9, 77_512_904), "USER app", b, empty_layer=True),
        fl.HistoryEntry(at(built + 9, 77_512_904), "EXPOSE map[8080/tcp:{}]", b,
                        empty_layer=True),
        fl.HistoryEntry(at(built + 9, 77_512_904), "LABEL org.opencontainers.image.source="
                        "https://example.com/ocidiff/app org.opencontainers.image.version=1.0.0",
                        b, empty_layer=True),
        fl.HistoryEntry(at(built + 9, 77_512_904), 'ENTRYPOINT ["/usr/local/bin/app"]', b,
                        empty_layer=True),
        fl.HistoryEntry(at(built + 9, 77_512_904), 'CMD ["--serve"]', b, empty_layer=True),
    ]


@dataclass(frozen=True)
class AppBuild:
    """The three layer tars of one build of the app, plus how it was built."""

    platform: fl.Platform
    built: int
    tars: tuple[bytes, bytes, bytes]
    entries: tuple[tuple[fl.TarEntry, ...], ...]
    epoch: int | None = None


def build_app(platform: fl.Platform, *, built: int = APP_BUILT, checkout: int | None = None,
              rewrite_epoch: int | None = None) -> AppBuild:
    arch = platform.architecture
    layers = [base_entries(arch), app_entries(arch, checkout or built - 420),
              setup_entries(built + 9)]
    if rewrite_epoch is not None:  # base layer kept, the others re-tarred (FORMATS.md §3.7)
        layers = [layers[0]] + [list(fl.rewrite_timestamps(e, rewrite_epoch)) for e in layers[1:]]
    tars = tuple(fl.write_tar(entries) for entries in layers)
    assert len(tars) == 3
    return AppBuild(platform, built, (tars[0], tars[1], tars[2]),
                    tuple(tuple(e) for e in layers), rewrite_epoch)


def app_config(build: AppBuild, layers: Sequence[fl.Layer]) -> bytes:
    history = app_history(layers[0].diff_id, build.built, build.epoch)
    return fl.make_config(platform=build.platform, diff_ids=[layer.diff_id for layer in layers],
                          history=history, created=history[-1].created, run=RUN_CONFIG)


def app_image(build: AppBuild, compression: fl.Compression = fl.Compression.GZIP, *,
              gzip_mtime: int = 0) -> fl.Image:
    rewritten = {} if build.epoch is None else {"buildkit/rewritten-timestamp": str(build.epoch)}
    layers = [fl.make_layer(build.tars[0], compression)]
    layers += [fl.make_layer(tar, compression, gzip_mtime=gzip_mtime, annotations=rewritten)
               for tar in build.tars[1:]]
    return fl.make_image(app_config(build, layers), layers, platform=build.platform)


def index_annotations(created: int, *, named: bool = True) -> dict[str, str]:
    """What BuildKit's OCI exporter puts on the index.json descriptor (FORMATS.md §3.3)."""
    out = {"org.opencontainers.image.created": fl.rfc3339(created)}
    if named:
        out["io.containerd.image.name"] = f"docker.io/{APP_NAME}:{APP_TAG}"
        out["org.opencontainers.image.ref.name"] = APP_TAG
    return out


def single_archive(image: fl.Image, created: int, *, named: bool = True) -> bytes:
    descriptor = image.descriptor(annotations=index_annotations(created, named=named))
    return fl.write_oci_archive(image.blobs(), fl.index_json([descriptor]))


# --------------------------------------------------------------------------------------------------
# The catalogue


def make_multiplatform() -> tuple[fl.Blob, list[fl.Blob]]:
    """Index blob + all blobs of a linux/amd64 + linux/arm64/v8 build with provenance."""
    images = [app_image(build_app(p)) for p in (AMD64, ARM64)]
    attestations = []
    for image, platform in zip(images, (AMD64, ARM64), strict=True):
        purl_platform = f"{platform.os}%2F{platform.architecture}" + (
            f"%2F{platform.variant}" if platform.variant else "")
        statement = fl.provenance_statement(
            image, name=f"pkg:docker/{APP_NAME}@{APP_TAG}?platform={purl_platform}",
            platform=platform, build_id=hashlib.sha256(b"build-1").hexdigest()[:26],
            started=fl.rfc3339(APP_BUILT - 2, 914_000_000),
            finished=fl.rfc3339(APP_BUILT + 11, 305_000_000),
            materials=[(f"pkg:docker/ocidiff/base@3.20?platform={purl_platform}",
                        hashlib.sha256(b"base-" + platform.architecture.encode()).hexdigest())],
        )
        attestations.append(fl.make_attestation(image, [statement]))
    index = fl.make_index(
        [image.descriptor() for image in images]
        + [fl.attestation_descriptor(att, img) for att, img in zip(attestations, images,
                                                                   strict=True)]
    )
    blobs = [index]
    for image in (*images, *attestations):
        blobs += image.blobs()
    return index, blobs


def make_docker_containerd() -> bytes:
    """docker save from the containerd image store (Engine v29 default, FORMATS.md §4.4): the
    whole index (image + attestation) plus manifest.json naming the platform manifest."""
    image = app_image(build_app(AMD64))
    statement = fl.provenance_statement(
        image, name=f"pkg:docker/{APP_NAME}@{APP_TAG}?platform=linux%2Famd64", platform=AMD64,
        build_id=hashlib.sha256(b"build-2").hexdigest()[:26],
        started=fl.rfc3339(APP_BUILT - 2), finished=fl.rfc3339(APP_BUILT + 11))
    attestation = fl.make_attestation(image, [statement])
    index = fl.make_index([image.descriptor(), fl.attestation_descriptor(attestation, image)])
    names = {"io.containerd.image.name": f"docker.io/{APP_NAME}:{APP_TAG}",
             "org.opencontainers.image.ref.name": APP_TAG}
    blobs = [index, *image.blobs(), *attestation.blobs()]
    return fl.write_oci_archive(
        blobs, fl.index_json([index.descriptor(annotations=names)]),
        docker_manifest=fl.docker_archive_manifest([(image, [f"{APP_NAME}:{APP_TAG}"])]))


def classic_layers() -> tuple[bytes, bytes]:
    """Layers from Docker's classic builder (<= 18.x era conventions, FORMATS.md §1.6, §4.2):
    S_IFMT bits in modes, AREGTYPE whiteouts with mode 0, an opaque directory."""
    t = CLASSIC_BUILT
    copy = [
        fl.dir_entry("app", mtime=t), fl.file_entry("app/main.py", b"print('classic')\n",
                                                    mode=0o755, mtime=t),
        fl.file_entry("app/VERSION", b"0.9.0\n", mtime=t),
    ]
    run = [
        fl.dir_entry("etc", mtime=t + 5), fl.whiteout_entry("etc/motd", legacy=True),
        fl.dir_entry("var", mtime=t + 5), fl.dir_entry("var/cache", mtime=t + 5),
        fl.dir_entry("var/cache/apk", mtime=t + 5), fl.opaque_entry("var/cache/apk", mtime=t + 5),
        fl.file_entry("var/cache/apk/.keep", b"", mtime=t + 5),
    ]
    return (fl.write_tar(copy, format=fl.TarFormat.USTAR, type_bits=True),
            fl.write_tar(run, format=fl.TarFormat.USTAR, type_bits=True))


def classic_config(diff_ids: Sequence[str], created: str, history: Sequence[fl.HistoryEntry],
                   run: fl.RunConfig) -> bytes:
    """An image config as the Docker daemon's classic builder wrote it: sorted top-level keys,
    the full container.Config, `container_config`, `docker_version`."""
    doc = {
        "architecture": "amd64",
        "config": fl.docker_container_config(run.to_json()),
        "container_config": fl.docker_container_config({}),
        "created": created,
        "docker_version": "20.10.24",
        "history": [h.to_json() for h in history],
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }
    return fl.go_json(doc)


def make_docker_legacy() -> bytes:
    """Two images in one Docker 1.10-24 save: the base (1 layer) and a classic-builder app on
    top of it; the app's copy of the shared base layer becomes a symlinked layer.tar."""
    base_tar = fl.write_tar(base_entries("amd64"))
    base_diff = fl.sha256_digest(base_tar)
    base_history = app_history(base_diff, APP_BUILT)[:2]
    base_run = fl.RunConfig(env=RUN_CONFIG.env[:1], cmd=("/bin/sh",))
    base = fl.SavedImage(classic_config([base_diff], fl.rfc3339(BASE_BUILT + 1), base_history,
                                        base_run), (base_tar,), ("ocidiff/base:3.20",),
                         BASE_BUILT + 1)
    copy_tar, run_tar = classic_layers()
    history = [*base_history,
               fl.HistoryEntry(fl.rfc3339(CLASSIC_BUILT, 311_000_000),
                               "/bin/sh -c #(nop) COPY dir:4c1d3a7d5e0b2f in /app/ ", None),
               fl.HistoryEntry(fl.rfc3339(CLASSIC_BUILT + 5, 20_000_000),
                               "/bin/sh -c rm -f /etc/motd && rm -rf /var/cache/apk && "
                               "mkdir -p /var/cache/apk && touch /var/cache/apk/.keep", None),
               fl.HistoryEntry(fl.rfc3339(CLASSIC_BUILT + 6, 0),
                               '/bin/sh -c #(nop)  CMD ["python3" "/app/main.py"]', None,
                               empty_layer=True)]
    tars = (base_tar, copy_tar, run_tar)
    config = classic_config([fl.sha256_digest(t) for t in tars], history[-1].created, history,
                            fl.RunConfig(env=RUN_CONFIG.env[:1],
                                         cmd=("python3", "/app/main.py")))
    app = fl.SavedImage(config, tars, ("ocidiff/app:0.9-classic",), CLASSIC_BUILT + 6)
    return fl.write_docker_legacy([base, app])


def make_docker_v25() -> bytes:
    """The BuildKit-built app as Docker 25+ (graphdriver store) saves it: same diffIDs as the
    oci-*.tar fixtures, layers uncompressed and named by diffID."""
    build = build_app(AMD64)
    image = app_image(build, fl.Compression.NONE)
    saved = fl.SavedImage(image.config.data, build.tars, (f"{APP_NAME}:{APP_TAG}",),
                          APP_BUILT + 9)
    return fl.write_docker_v25([saved], save_time=SAVED)


def make_estargz() -> bytes:
    build = build_app(AMD64)
    layers = [fl.make_estargz_layer(entries) for entries in build.entries]
    image = fl.make_image(app_config(build, layers), layers, platform=AMD64)
    return single_archive(image, APP_BUILT + 12, named=False)


def make_layer_pax_gnu() -> bytes:
    """A bare layer mixing Go PAX headers and GNU tar headers, with devices and whiteouts."""
    t = fl.Timestamp(1718013600, 123_456_789)
    gnu = fl.TarFormat.GNU
    long_dir = "opt/" + "a-directory-name-that-is-far-too-long-for-one-ustar-name-field-" * 2
    long_file = long_dir + "/data.bin"  # unsplittable (component > 100): PAX `path`
    split_file = ("opt/share/doc/ocidiff-fixtures/examples/nested/deeper/still-deeper/"
                  "final/README.splittable-into-ustar-prefix.txt")  # fits prefix + name
    gnu_name = "srv/" + "gnu-long-name-segment/" * 5 + "payload.txt"
    entries = [
        fl.dir_entry("opt", mtime=t),
        fl.dir_entry(long_dir, mtime=t),
        fl.file_entry(long_file, b"long path via PAX\n", mtime=t),
        fl.file_entry(split_file, b"long path via the USTAR prefix field\n", mtime=1718013600),
        fl.file_entry("opt/xattrs.txt", b"has xattrs\n", mtime=1718013600, xattrs={
            "security.capability": bytes.fromhex("0100000200040000000000000000000000000000"),
            "user.mime_type": b"text/plain",
            "user.binary": b"\x00\xff\xfe\x80nul-and-high-bytes",
        }),
        fl.file_entry("opt/subsecond.txt", b"mtime with nanoseconds\n", mtime=t),
        fl.file_entry("opt/gnu-posix-times.txt", b"atime and ctime records\n", mtime=t,
                      atime=fl.Timestamp(1718013700, 5), ctime=fl.Timestamp(1718013650, 900)),
        fl.file_entry("opt/naïve-ünïcödé.txt", b"non-ASCII name\n", mtime=1718013600),
        fl.symlink_entry("opt/link-to-long", "/" + long_file, mtime=1718013600),
        fl.hardlink_entry("opt/hardlink-to-long", long_file, mtime=1718013600),
        fl.file_entry("opt/big-uid.txt", b"uid beyond octal\n", uid=3_000_000, gid=3_000_000,
                      uname="a-user-name-longer-than-thirty-two-bytes", mtime=1718013600),
        fl.file_entry("opt/libarchive.txt", b"extra PAX records\n", mtime=1718013600,
                      pax={"LIBARCHIVE.creationtime": b"1718000000"}),
        fl.whiteout_entry("opt/removed.txt"),
        fl.whiteout_entry("opt/removed-legacy.txt", legacy=True),
        fl.dir_entry("var/lib/apt/lists", mtime=1718013600),
        fl.opaque_entry("var/lib/apt/lists"),
        fl.char_device_entry("dev/null", 1, 3, mtime=1718013600),
        fl.block_device_entry("dev/sda", 8, 0, mtime=1718013600),
        fl.fifo_entry("run/initctl", mode=0o600, mtime=1718013600),
    ]
    entries += [
        fl.dir_entry("srv", mtime=1718013600, uname="root", gname="root"),
        fl.file_entry(gnu_name, b"GNU ././@LongLink name\n", mtime=1718013600, uname="root",
                      gname="root"),
        fl.symlink_entry("srv/gnu-long-link", "/" + gnu_name, mtime=1718013600),
        fl.file_entry("srv/before-1970.txt", b"negative mtime: base-256\n", mtime=-86400),
        fl.char_device_entry("srv/tty0", 4, 0, mode=0o620, mtime=1718013600),
    ]
    gnu_part = {e.name for e in entries[-5:]}
    entries = [replace(e, format=gnu) if e.name in gnu_part else e for e in entries]
    return fl.write_tar(entries, format=fl.TarFormat.PAX, end=fl.TarEnd.RECORD)


@dataclass(frozen=True)
class Fixture:
    name: str
    exercises: str
    build: Callable[[], bytes]


def catalogue() -> list[Fixture]:
    """Every single-file fixture, in README order. Builders are cheap; results are shared."""
    amd = build_app(AMD64)
    gzip_img = app_image(amd)
    oci_gzip = single_archive(gzip_img, APP_BUILT + 12)
    oci_zstd = single_archive(app_image(amd, fl.Compression.ZSTD), APP_BUILT + 12)
    rewritten = build_app(AMD64, rewrite_epoch=EPOCH)
    _, multi_blobs = make_multiplatform()
    index = multi_blobs[0]
    multi_index = fl.index_json([index.descriptor(annotations=index_annotations(APP_BUILT + 12))])
    v1 = build_app(AMD64, built=APP_BUILT, checkout=APP_BUILT - 420)
    v1_rebuild = build_app(AMD64, built=REBUILT, checkout=REBUILT - 1337)
    layout_files = fl.oci_layout_files(
        gzip_img.blobs(), fl.index_json([gzip_img.descriptor(
            annotations=index_annotations(APP_BUILT + 12))]))
    return [
        Fixture("oci-gzip.tar", "BuildKit `type=oci` export, default gzip layers (Go gzip header "
                "`1f8b 0800 00000000 00ff`), bare manifest in index.json with created/name "
                "annotations; base layer with hardlinks, symlinks, a `security.capability` "
                "xattr (PAX), app layer with a 64 KiB binary, a non-ASCII name (PAX `path`) and "
                "a USTAR-prefix path, a RUN layer with `.wh.` whiteouts", lambda: oci_gzip),
        Fixture("oci-zstd.tar", "same image and diff_ids, `+zstd` layers (one frame with "
                "content size and checksum)", lambda: oci_zstd),
        Fixture("oci-uncompressed.tar", "same image, `layer.v1.tar` (digest == diff_id), "
                "untagged (no name annotations)",
                lambda: single_archive(app_image(amd, fl.Compression.NONE), APP_BUILT + 12,
                                       named=False)),
        Fixture("oci-rewritten.tar", f"`rewrite-timestamp=true` with SOURCE_DATE_EPOCH={EPOCH}: "
                "base layer untouched, the two app layers re-tarred with mtimes clamped to the "
                "epoch and annotated `buildkit/rewritten-timestamp`; config/history `created` "
                "and index.json `created` clamped",
                lambda: single_archive(app_image(rewritten), EPOCH)),
        Fixture("oci-multiplatform.tar", "index.json -> image index -> linux/amd64 + "
                "linux/arm64/v8 manifests, then one attestation manifest each (unknown/unknown, "
                "`vnd.docker.reference.*`, in-toto SLSA provenance layer)",
                lambda: fl.write_oci_archive(multi_blobs, multi_index)),
        Fixture("docker-legacy.tar", "`docker save` 1.10-24 form of two images: "
                "`<v1id>/{VERSION,json,layer.tar}`, `<id>.json`, `manifest.json`, "
                "`repositories`; S_IFMT bits in outer modes; the app's base layer is a symlinked "
                "`layer.tar`; classic-builder layers with AREGTYPE whiteouts (mode 0), an opaque "
                "dir and type bits", make_docker_legacy),
        Fixture("docker-v25.tar", "`docker save` Docker 25+ (graphdriver): OCI layout + "
                "manifest.json + repositories, uncompressed layers named by diff_id, compact "
                "manifest blob, unreferenced v1 JSON blobs, 31-byte `oci-layout`, "
                "`LayerSources`; same diff_ids as oci-*.tar", make_docker_v25),
        Fixture("docker-containerd.tar", "`docker save` with the containerd image store (Engine "
                "v29 default): index.json -> index (image + attestation) plus manifest.json "
                "pointing at gzip blobs", make_docker_containerd),
        Fixture("estargz-like.tar", "`compression=estargz`-shaped layers: several gzip members "
                "per layer, `stargz.index.json` TOC entry after the tar end marker (inside the "
                "diff_id), FEXTRA footer member, TOC digest / uncompressed-size annotations",
                make_estargz),
        Fixture("oci-gzip-outer.tar.gz", "oci-gzip.tar piped through `gzip` (OS byte 3)",
                lambda: fl.gzip_member(oci_gzip, os=3)),
        Fixture("oci-zstd-outer.tar.zst", "oci-zstd.tar piped through a parallel zstd: two "
                "frames without content size",
                lambda: fl.zstd_frames([oci_zstd[: len(oci_zstd) // 2],
                                        oci_zstd[len(oci_zstd) // 2:]], content_size=False)),
        Fixture("app-v1.tar", "quickstart pair, first build (no timestamp control): app layer "
                "mtimes = checkout time, gzip header MTIME = build time",
                lambda: single_archive(app_image(v1, gzip_mtime=APP_BUILT + 10),
                                       APP_BUILT + 12)),
        Fixture("app-v1-rebuild.tar", "same source rebuilt a day later: identical base layer "
                "blob, same files and contents, different mtimes, config/history `created`, "
                "gzip MTIME and index.json `created`",
                lambda: single_archive(app_image(v1_rebuild, gzip_mtime=REBUILT + 10),
                                       REBUILT + 12)),
        Fixture("oci-retarred-gnu.tar", "oci-gzip.tar's layout re-packed by `tar -cf x.tar -C "
                "dir .`: `./` names and root member, GNU magic, uid 1000 / uname, 10 KiB "
                "record padding",
                lambda: fl.write_retarred_layout(layout_files, uid=1000, gid=1000,
                                                 uname="builder", gname="builder",
                                                 root_mtime=SAVED)),
        Fixture("layer-pax-gnu.tar", "bare layer: PAX `path`/`linkpath` (long and non-ASCII), "
                "`SCHILY.xattr.*` with binary values, sub-second `mtime`, `atime`/`ctime`, big "
                "uid and long uname, `LIBARCHIVE.*`; GNU `L`/`K` long names and base-256 "
                "negative mtime; char/block devices, FIFO, `.wh.` (regular and AREGTYPE) and "
                "`.wh..wh..opq`; record padding", make_layer_pax_gnu),
    ]


LAYOUT_DIR = "oci-layout-dir"
CAUSES_DIR = "causes"


def write_layout_dir(out: Path) -> None:
    image = app_image(build_app(AMD64))
    index = fl.index_json([image.descriptor(annotations=index_annotations(APP_BUILT + 12))])
    fl.write_oci_dir(out / LAYOUT_DIR, image.blobs(), index)


def readme(sizes: Sequence[tuple[str, int, str]],
           pairs: Sequence[tuple[str, int, int, str]] = ()) -> bytes:
    lines = [
        "# Synthetic fixtures",
        "",
        "Generated by `scripts/make_fixtures.py` with `scripts/fixturelib.py`; do not edit by "
        "hand. Regenerate with `python scripts/make_fixtures.py`; verify with `--check` or "
        "`pytest tests/test_fixtures_regenerate.py` (which also checks every blob digest and "
        "diff_id independently with the standard library).",
        "",
        "Every image here is the same small \"app\" (a base layer, a COPY layer, a RUN layer "
        "with whiteouts) unless the table says otherwise. Formats follow the project's "
        "`FORMATS.md` research notes (`../shared/FORMATS.md`); deflate bytes come from zlib, "
        "not Go, so compressed bytes differ from real BuildKit output while the framing and "
        "everything uncompressed match.",
        "",
        "| file | bytes | what it exercises |",
        "|---|---:|---|",
    ]
    lines += [f"| `{name}` | {size} | {text} |" for name, size, text in sizes]
    if pairs:
        lines += [
            "",
            f"## Cause pairs (`{CAUSES_DIR}/`)",
            "",
            "One pair per `ocidiff diff` cause code, made by `scripts/cause_pairs.py`: "
            "`<code>-a.tar` is a small two-layer image (a base layer, an app layer with a few "
            "files, a Python package, a .pyc and a gzip file), `<code>-b.tar` the same image "
            "with one change. `tests/test_golden_causes.py` diffs every pair and lists the "
            "causes each must give.",
            "",
            "| code | a bytes | b bytes | what b changes |",
            "|---|---:|---:|---|",
        ]
        lines += [f"| `{code}` | {a} | {b} | {text} |" for code, a, b, text in pairs]
    lines += [
        "",
        f"Compressor fingerprint: `{fl.compressor_fingerprint()}`. Byte-identical regeneration "
        "needs the same zlib and libzstd output; the regeneration test says so when they differ.",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def generate(out: Path) -> list[Path]:
    """Write every fixture under `out`; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    sizes = []
    for fixture in catalogue():
        data = fixture.build()
        path = out / fixture.name
        path.write_bytes(data)
        written.append(path)
        sizes.append((fixture.name, len(data), fixture.exercises))
    causes = out / CAUSES_DIR
    if causes.exists():
        shutil.rmtree(causes)  # entirely generated, like the layout directory
    causes.mkdir()
    pairs: dict[str, list[int]] = {}
    texts: dict[str, str] = {}
    for name, what, data in cause_pairs.cause_archives():
        path = causes / name
        path.write_bytes(data)
        written.append(path)
        code = name.rsplit("-", 1)[0]
        pairs.setdefault(code, []).append(len(data))
        texts[code] = what
    layout = out / LAYOUT_DIR
    if layout.exists():
        shutil.rmtree(layout)  # the directory is entirely generated; drop stale blobs
    write_layout_dir(out)
    files = sorted(p for p in layout.rglob("*") if p.is_file())
    written += files
    sizes.insert(5, (f"{LAYOUT_DIR}/", sum(p.stat().st_size for p in files),
                     "OCI layout *directory* of the oci-gzip.tar image (blobs as files)"))
    table = [(code, a, b, texts[code]) for code, (a, b) in pairs.items()]
    (out / "README.md").write_bytes(readme(sizes, table))
    written.append(out / "README.md")
    return written


def compare_trees(fresh: Path, committed: Path) -> list[str]:
    """Relative paths that differ between two trees (missing on either side, or other bytes)."""
    def listing(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    new, old = listing(fresh), listing(committed) if committed.exists() else set()
    differing = sorted(new ^ old)
    differing += sorted(
        name for name in new & old
        if not filecmp.cmp(fresh / name, committed / name, shallow=False)
    )
    return differing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary directory and compare with --out")
    args = parser.parse_args(argv)
    if not args.check:
        paths = generate(args.out)
        total = sum(p.stat().st_size for p in paths)
        print(f"wrote {len(paths)} files, {total} bytes, under {args.out}", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        differing = compare_trees(Path(tmp), args.out)
    for name in differing:
        print(name)
    if differing:
        print(f"{len(differing)} fixture file(s) differ from a fresh generation "
              f"({fl.compressor_fingerprint()})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
