"""One small image pair per `ocidiff diff` cause code, for fixtures/synthetic/causes/.

Every pair starts from the same "mini" image (a base layer and an app layer, BuildKit-style OCI
archive, a few KB) and changes exactly one thing on the second side, so the diff of `<code>-a.tar`
and `<code>-b.tar` names that cause. Pure: returns bytes, never reads the clock; written to disk by
make_fixtures.py. Where a change cannot come alone (a clamp violation is also a timestamp change),
the golden test table (tests/test_golden_causes.py) lists the co-cause and why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import fixturelib as fl

BASE_BUILT = 1716402400  # 2024-05-22T18:26:40Z  the mini base image was published
BUILT = 1718013600  # 2024-06-10T10:00:00Z  the app was built
LATER = 1718103845  # 2024-06-11T11:04:05Z  a rebuild a day later
EPOCH = 1717200000  # 2024-06-01T00:00:00Z  SOURCE_DATE_EPOCH of the clamped build
AMD64 = fl.Platform("amd64")
ARM64 = fl.Platform("arm64", variant="v8")
NAME = "docker.io/ocidiff/mini"
SITE = "usr/lib/python3.11/site-packages"
REWRITTEN = "buildkit/rewritten-timestamp"


# --------------------------------------------------------------------------------------------------
# What one image is made of


@dataclass(frozen=True)
class LayerSpec:
    entries: tuple[fl.TarEntry, ...]
    compression: fl.Compression = fl.Compression.GZIP
    format: fl.TarFormat = fl.TarFormat.PAX
    end: fl.TarEnd = fl.TarEnd.BLOCKS
    annotations: tuple[tuple[str, str], ...] = ()
    truncate_at: int | None = None  # keep only this many bytes of the tar (a damaged layer)

    def build(self, docker_media_types: bool) -> fl.Layer:
        tar = fl.write_tar(self.entries, format=self.format, end=self.end)
        if self.truncate_at is not None:
            tar = tar[: self.truncate_at]
        return fl.make_layer(tar, self.compression, docker_media_types=docker_media_types,
                             annotations=dict(self.annotations))


@dataclass(frozen=True)
class MiniSpec:
    """Everything that goes into one archive; pairs are two specs differing in one field."""

    layers: tuple[LayerSpec, ...]
    history: tuple[fl.HistoryEntry, ...]
    run: fl.RunConfig
    created: str
    platform: fl.Platform = AMD64
    extra_platforms: tuple[fl.Platform, ...] = ()
    docker_media_types: bool = False
    manifest_annotations: tuple[tuple[str, str], ...] = ()
    tag: str = "1.0"
    index_created: int = BUILT + 12
    attestation_build: str | None = None  # a provenance attestation for this build id
    retarred: bool = False  # the layout re-packed by GNU tar instead of the exporter's writer


def text_lines(seed: str, count: int) -> bytes:
    words = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
    noise = fl.pseudo_random_bytes(seed, count * 2)
    return b"".join(f"{words[noise[2 * i] % 8]} {words[noise[2 * i + 1] % 8]} {i}\n".encode()
                    for i in range(count))


def tool_binary(seed: str = "tool") -> bytes:
    """A small ELF-looking executable: header, zero padding, pseudo-random code."""
    return b"\x7fELF\x02\x01\x01" + bytes(57) + fl.pseudo_random_bytes(seed, 448)


MAIN_PY = (b'"""The mini app."""\nimport sys\n\nfrom version import VERSION\n\n\n'
           b"def main() -> int:\n    print('mini', VERSION)\n    return 0\n\n\n"
           b"if __name__ == '__main__':\n    sys.exit(main())\n")
VERSION_PY = b'VERSION = "1.0"\n'


def base_entries(os_version: str = "1.0") -> list[fl.TarEntry]:
    t = BASE_BUILT
    return [
        fl.dir_entry("etc", mtime=t),
        fl.file_entry("etc/os-release", f'ID=mini\nVERSION_ID={os_version}\n'.encode(), mtime=t),
        fl.file_entry("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", mtime=t),
        fl.dir_entry("usr", mtime=t),
        fl.dir_entry("usr/bin", mtime=t),
        fl.file_entry("usr/bin/tool", tool_binary(), mode=0o755, mtime=t),
        fl.hardlink_entry("usr/bin/tool-alias", "usr/bin/tool", mode=0o755, mtime=t),
    ]


def package_entries(version: str = "1.0", record_order: Sequence[int] = (0, 1, 2, 3),
                    t: int = BUILT) -> list[fl.TarEntry]:
    """A pip-installed distribution `demo`: its module and a dist-info with METADATA and RECORD."""
    info = f"{SITE}/demo-{version}.dist-info"
    module = f'__version__ = "{version}"\n'.encode()
    metadata = f"Metadata-Version: 2.1\nName: demo\nVersion: {version}\n".encode()
    files = [("demo/__init__.py", module), (f"demo-{version}.dist-info/METADATA", metadata),
             (f"demo-{version}.dist-info/INSTALLER", b"pip\n")]
    lines = [f"{name},sha256={hashlib.sha256(data).hexdigest()},{len(data)}\n"
             for name, data in files]
    lines.append(f"demo-{version}.dist-info/RECORD,,\n")
    record = "".join(lines[i] for i in record_order).encode()
    return [
        fl.dir_entry("usr/lib", mtime=t), fl.dir_entry("usr/lib/python3.11", mtime=t),
        fl.dir_entry(SITE, mtime=t),
        fl.dir_entry(f"{SITE}/demo", mtime=t),
        fl.file_entry(f"{SITE}/demo/__init__.py", module, mtime=t),
        fl.dir_entry(info, mtime=t),
        fl.file_entry(f"{info}/INSTALLER", b"pip\n", mtime=t),
        fl.file_entry(f"{info}/METADATA", metadata, mtime=t),
        fl.file_entry(f"{info}/RECORD", record, mtime=t),
    ]


def app_entries(t: int = BUILT, *, pyc_path: str = "/app/version.py",
                pyc_mtime: int = BUILT - 600, changelog_mtime: int = BUILT - 600,
                ) -> list[fl.TarEntry]:
    changelog = fl.gzip_member(b"mini (1.0) stable\n\n  * First release.\n" + text_lines("log", 8),
                               level=9, mtime=changelog_mtime, os=3)
    return [
        fl.dir_entry("app", mtime=t),
        fl.dir_entry("app/__pycache__", mtime=t),
        fl.file_entry("app/__pycache__/version.cpython-311.pyc",
                      fl.version_pyc_311(pyc_path, mtime=pyc_mtime, source_size=len(VERSION_PY)),
                      mtime=t),
        fl.file_entry("app/changelog.gz", changelog, mtime=t),
        fl.file_entry("app/data.bin", fl.pseudo_random_bytes("data", 512), mtime=t),
        fl.file_entry("app/main.py", MAIN_PY, mode=0o755, mtime=t),
        fl.file_entry("app/notes.txt", text_lines("notes", 12), mtime=t),
        fl.symlink_entry("app/run", "main.py", mtime=t),
        fl.hardlink_entry("app/serve.py", "app/main.py", mode=0o755, mtime=t),
        fl.file_entry("app/version.py", VERSION_PY, mtime=t),
        fl.dir_entry("usr", mtime=t),
        *package_entries(t=t),
    ]


def history(*, built: int = BUILT, copy: str = "COPY . / # buildkit",
            extra_layers: Sequence[str] = ()) -> tuple[fl.HistoryEntry, ...]:
    created = fl.rfc3339(built)
    return (
        fl.HistoryEntry(fl.rfc3339(BASE_BUILT), "/bin/sh -c #(nop) ADD file:mini-base in / ",
                        comment=None),
        fl.HistoryEntry(created, copy),
        *(fl.HistoryEntry(created, step) for step in extra_layers),
        fl.HistoryEntry(created, 'CMD ["python3", "/app/main.py"]', empty_layer=True),
    )


RUN = fl.RunConfig(env=("PATH=/usr/local/bin:/usr/bin:/bin", "APP_MODE=prod"),
                   cmd=("python3", "/app/main.py"), working_dir="/app")


def mini(**changes: object) -> MiniSpec:
    """The mini image, with `changes` applied to its spec."""
    spec = MiniSpec(
        layers=(LayerSpec(tuple(base_entries())), LayerSpec(tuple(app_entries()))),
        history=history(), run=RUN, created=fl.rfc3339(BUILT),
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def walk_order(entries: Sequence[fl.TarEntry]) -> list[fl.TarEntry]:
    """Entries in the order BuildKit writes them: a directory walk, names sorted per directory
    (so `demo/` and its children come before `demo-1.0.dist-info/`)."""
    return sorted(entries, key=lambda e: tuple(e.name.strip("/").split("/")))


def with_app(entries: Sequence[fl.TarEntry], **layer: object) -> tuple[LayerSpec, ...]:
    """The base layer and an app layer holding `entries`."""
    return (LayerSpec(tuple(base_entries())), LayerSpec(tuple(entries), **layer))  # type: ignore[arg-type]


def edited(entries: Sequence[fl.TarEntry], name: str,
           change: Callable[[fl.TarEntry], fl.TarEntry | None]) -> list[fl.TarEntry]:
    """`entries` with the one named `name` changed (or dropped when `change` returns None)."""
    out: list[fl.TarEntry] = []
    found = False
    for entry in entries:
        if entry.name == name:
            found = True
            new = change(entry)
            if new is not None:
                out.append(new)
        else:
            out.append(entry)
    if not found:
        raise ValueError(f"no entry {name}")
    return out


# --------------------------------------------------------------------------------------------------
# Writing a spec as a BuildKit-style OCI archive


def _image(spec: MiniSpec, platform: fl.Platform) -> fl.Image:
    layers = [layer.build(spec.docker_media_types) for layer in spec.layers]
    config = fl.make_config(platform=platform, diff_ids=[layer.diff_id for layer in layers],
                            history=spec.history, created=spec.created, run=spec.run)
    return fl.make_image(config, layers, platform=platform,
                         docker_media_types=spec.docker_media_types,
                         annotations=dict(spec.manifest_annotations))


def _names(spec: MiniSpec) -> dict[str, str]:
    return {"io.containerd.image.name": f"{NAME}:{spec.tag}",
            "org.opencontainers.image.created": fl.rfc3339(spec.index_created),
            "org.opencontainers.image.ref.name": spec.tag}


def archive(spec: MiniSpec) -> bytes:
    image = _image(spec, spec.platform)
    blobs = list(image.blobs())
    descriptors = [image.descriptor()]
    for platform in spec.extra_platforms:
        other = _image(spec, platform)
        blobs += other.blobs()
        descriptors.append(other.descriptor())
    if spec.attestation_build is not None:
        statement = fl.provenance_statement(
            image, name=f"pkg:docker/ocidiff/mini@{spec.tag}?platform=linux%2Famd64",
            platform=spec.platform, build_id=spec.attestation_build,
            started=fl.rfc3339(spec.index_created - 14), finished=fl.rfc3339(spec.index_created))
        attestation = fl.make_attestation(image, [statement])
        blobs += attestation.blobs()
        descriptors.append(fl.attestation_descriptor(attestation, image))
    if len(descriptors) == 1:
        top = image.descriptor(annotations=_names(spec))
    else:
        index = fl.make_index(descriptors)
        blobs.insert(0, index)
        top = index.descriptor(annotations=_names(spec))
    index_json = fl.index_json([top])
    if spec.retarred:
        files = fl.oci_layout_files(blobs, index_json)
        return fl.write_retarred_layout(files, uid=1000, gid=1000, uname="builder",
                                        gname="builder", root_mtime=LATER)
    return fl.write_oci_archive(blobs, index_json)


# --------------------------------------------------------------------------------------------------
# The pairs


@dataclass(frozen=True)
class CausePair:
    code: str
    what: str  # what the second image changes, for the README table
    old: MiniSpec
    new: MiniSpec


def _chmod(mode: int) -> Callable[[fl.TarEntry], fl.TarEntry]:
    return lambda entry: replace(entry, mode=mode)


def _whiteout_layer(opaque: bool) -> LayerSpec:
    """`RUN rm -rf /app/cache && mkdir /app/cache && echo 3 > /app/cache/three.conf` as two
    builders write it: an opaque marker, or one whiteout per deleted file (buildah's vfs)."""
    t = BUILT + 5
    marks = ([fl.opaque_entry("app/cache")] if opaque else
             [fl.whiteout_entry("app/cache/one.conf"), fl.whiteout_entry("app/cache/two.conf")])
    return LayerSpec((fl.dir_entry("app", mtime=t), fl.dir_entry("app/cache", mtime=t), *marks,
                      fl.file_entry("app/cache/three.conf", b"3\n", mtime=t)))


def _whiteout_spec(opaque: bool) -> MiniSpec:
    cache = [fl.dir_entry("app/cache", mtime=BUILT), fl.file_entry("app/cache/one.conf", b"1\n",
                                                                   mtime=BUILT),
             fl.file_entry("app/cache/two.conf", b"2\n", mtime=BUILT)]
    app = walk_order([*app_entries(), *cache])
    layers = (*with_app(app), _whiteout_layer(opaque))
    return mini(layers=layers, history=history(extra_layers=["RUN /bin/sh -c rm -rf /app/cache "
                                                             "&& mkdir /app/cache && echo 3 > "
                                                             "/app/cache/three.conf # buildkit"]))


def _split_app() -> tuple[LayerSpec, ...]:
    app = app_entries()
    packages = [e for e in app if e.name.startswith("usr/")]
    rest = [e for e in app if not e.name.startswith("usr/")]
    return (LayerSpec(tuple(base_entries())), LayerSpec(tuple(rest)), LayerSpec(tuple(packages)))


def _clamped(mtime_of_main: int) -> MiniSpec:
    app = [replace(e, mtime=fl.Timestamp(min(e.mtime.seconds, EPOCH)))
           for e in app_entries(t=EPOCH)]
    app = edited(app, "app/main.py", lambda e: replace(e, mtime=fl.Timestamp(mtime_of_main)))
    layers = with_app(app, annotations=((REWRITTEN, str(EPOCH)),))
    return mini(layers=layers, created=fl.rfc3339(EPOCH), history=history(built=EPOCH),
                index_created=EPOCH)


def _reordered(entries: Sequence[fl.TarEntry]) -> list[fl.TarEntry]:
    """The app layer as a builder that does not sort writes it: the site-packages tree before
    `app/` (a directory walk in inode order rather than by name)."""
    packages = [e for e in entries if e.name.startswith("usr/")]
    rest = [e for e in entries if not e.name.startswith("usr/")]
    return packages + rest


def _damaged() -> MiniSpec:
    """The app layer with one more file, its tar cut in the middle of that file's data: a
    blob whose digest and diff_id are right, but whose tar cannot be read to the end."""
    app = [*app_entries(), fl.file_entry("app/zz-large.txt", text_lines("large", 200),
                                         mtime=BUILT)]
    full = fl.write_tar(app)
    cut = full.index(b"app/zz-large.txt") + 512 + 1000
    return mini(layers=with_app(app, truncate_at=cut))


DPKG_LOG = b"2024-06-10 %s install demo:amd64 <none> 1.0\n"


def _aux_cache(seed: int) -> bytes:
    """ldconfig's aux-cache: a header, then per library the inode, mtime and size it saw."""
    records = b"".join(
        (4096 * seed + n).to_bytes(8, "little") + (BUILT + n).to_bytes(8, "little")
        + (16384 + n).to_bytes(8, "little")
        for n in range(8)
    )
    return b"glibc-ld.so.auxcache-1.0\0" + records


def cause_pairs() -> list[CausePair]:
    """Every pair, in the order of `ocidiff.diff.causes.ALL_CODES`."""
    base = mini()
    app = app_entries()
    newer = fl.Timestamp(BUILT + 60)

    def app_with(name: str, change: Callable[[fl.TarEntry], fl.TarEntry | None]) -> MiniSpec:
        return mini(layers=with_app(edited(app, name, change)))

    def added(extra: fl.TarEntry) -> MiniSpec:
        return mini(layers=with_app(walk_order([*app, extra])))

    bumped = [e for e in app if "demo" not in e.name] + package_entries("1.1")[3:]
    bumped = walk_order(bumped)
    main_edit = MAIN_PY.replace(b"print('mini', VERSION)", b"print('mini', VERSION, sys.argv)")
    data = bytearray(fl.pseudo_random_bytes("data", 512))
    data[100:108] = b"PATCHED!"
    content = edited(edited(app, "app/main.py", lambda e: replace(e, data=main_edit)),
                     "app/data.bin", lambda e: replace(e, data=bytes(data)))
    main = next(e for e in app if e.name == "app/main.py")
    copied = edited(app, "app/serve.py", lambda e: replace(main, name=e.name))
    xattr = edited(app, "app/main.py",
                   lambda e: replace(e, xattrs=(("user.mime_type", b"text/x-python"),)))
    base_v2 = mini(layers=(LayerSpec(tuple(base_entries("1.1"))), LayerSpec(tuple(app))),
                   manifest_annotations=(("org.opencontainers.image.base.digest",
                                          "sha256:" + hashlib.sha256(b"base-v2").hexdigest()),
                                         ("org.opencontainers.image.base.name",
                                          "docker.io/ocidiff/mini-base:1")))
    base_v1 = mini(manifest_annotations=(("org.opencontainers.image.base.digest",
                                          "sha256:" + hashlib.sha256(b"base-v1").hexdigest()),
                                         ("org.opencontainers.image.base.name",
                                          "docker.io/ocidiff/mini-base:1")))
    split_history = history(copy="COPY app/ /app/ # buildkit",
                            extra_layers=["COPY usr/ /usr/ # buildkit"])
    record_order = [e for e in app if not e.name.endswith("/RECORD")] + [
        e for e in package_entries(record_order=(2, 0, 3, 1)) if e.name.endswith("/RECORD")]
    return [
        CausePair("platforms", "adds a linux/arm64/v8 image to the index", base,
                  mini(extra_platforms=(ARM64,))),
        CausePair("files-added", "adds `app/extra.txt`", base,
                  added(fl.file_entry("app/extra.txt", b"extra\n", mtime=BUILT))),
        CausePair("files-removed", "drops `app/notes.txt`", base,
                  app_with("app/notes.txt", lambda e: None)),
        CausePair("files-moved", "renames `app/notes.txt` to `app/NOTES.txt`, same bytes", base,
                  mini(layers=with_app(walk_order(
                      edited(app, "app/notes.txt", lambda e: replace(e, name="app/NOTES.txt")))))),
        CausePair("dependency-change", "bumps the Python package `demo` 1.0 -> 1.1 (dist-info "
                  "renamed, METADATA, RECORD and `demo/__init__.py` changed)", base,
                  mini(layers=with_app(bumped))),
        CausePair("content", "edits one line of `app/main.py` and 8 bytes of `app/data.bin`",
                  base, mini(layers=with_app(content))),
        CausePair("file-type", "`app/run` is a copy of `app/main.py` instead of a symlink", base,
                  app_with("app/run", lambda e: replace(e, type=fl.EntryType.FILE, data=MAIN_PY,
                                                        linkname="", mode=0o755))),
        CausePair("config", "`Env` APP_MODE=prod -> debug", base,
                  mini(run=replace(RUN, env=(RUN.env[0], "APP_MODE=debug")))),
        CausePair("permissions", "`app/notes.txt` mode 0644 -> 0600", base,
                  app_with("app/notes.txt", _chmod(0o600))),
        CausePair("ownership", "`app/notes.txt` owned by 1000:1000", base,
                  app_with("app/notes.txt", lambda e: replace(e, uid=1000, gid=1000))),
        CausePair("symlink-target", "`app/run` -> `/app/main.py` instead of `main.py`", base,
                  app_with("app/run", lambda e: replace(e, linkname="/app/main.py"))),
        CausePair("hardlinks", "`app/serve.py` is a copy of `app/main.py` instead of a hard "
                  "link to it", base, mini(layers=with_app(copied))),
        CausePair("xattrs", "`app/main.py` gets a `user.mime_type` xattr", base,
                  mini(layers=with_app(xattr))),
        CausePair("whiteouts", "a RUN layer deleting `app/cache/*` with an opaque marker (a) or "
                  "one whiteout per file (b); same merged filesystem",
                  _whiteout_spec(True), _whiteout_spec(False)),
        CausePair("base-image", "a base image with `VERSION_ID=1.1` in `etc/os-release`, and its "
                  "`org.opencontainers.image.base.digest`", base_v1, base_v2),
        CausePair("clamp-violation", f"both claim SOURCE_DATE_EPOCH={EPOCH} "
                  "(`buildkit/rewritten-timestamp`); b's `app/main.py` is an hour newer",
                  _clamped(EPOCH), _clamped(EPOCH + 3600)),
        CausePair("file-timestamps", "`app/notes.txt` mtime one minute later", base,
                  app_with("app/notes.txt", lambda e: replace(e, mtime=newer))),
        CausePair("embedded-timestamp", "`app/changelog.gz` with another gzip header MTIME",
                  base, mini(layers=with_app(app_entries(changelog_mtime=LATER)))),
        CausePair("embedded-path", "`version.cpython-311.pyc` compiled under `/tmp/build-4711` "
                  "(its co_filename)", base,
                  mini(layers=with_app(app_entries(pyc_path="/tmp/build-4711/app/version.py")))),
        CausePair("build-log", "`var/log/dpkg.log` written at another time of day",
                  added(fl.file_entry("var/log/dpkg.log", DPKG_LOG % b"10:00:00", mtime=BUILT)),
                  added(fl.file_entry("var/log/dpkg.log", DPKG_LOG % b"11:04:05", mtime=BUILT))),
        CausePair("build-cache", "`var/cache/ldconfig/aux-cache` with other inode numbers",
                  added(fl.file_entry("var/cache/ldconfig/aux-cache", _aux_cache(1),
                                      mtime=BUILT)),
                  added(fl.file_entry("var/cache/ldconfig/aux-cache", _aux_cache(2),
                                      mtime=BUILT))),
        CausePair("content-order", "the `demo` dist-info RECORD lines in another order", base,
                  mini(layers=with_app(walk_order(record_order)))),
        CausePair("layer-structure", "the app layer split in two (app, then site-packages)", base,
                  mini(layers=_split_app(), history=split_history)),
        CausePair("compression", "zstd layers instead of gzip", base,
                  mini(layers=tuple(replace(layer, compression=fl.Compression.ZSTD)
                                    for layer in base.layers))),
        CausePair("entry-order", "the app layer's members in another order (site-packages "
                  "first)", base, mini(layers=with_app(_reordered(app)))),
        CausePair("tar-encoding", "the app layer written by GNU tar (GNU headers, 10 KiB "
                  "record)", base,
                  mini(layers=with_app(app, format=fl.TarFormat.GNU, end=fl.TarEnd.RECORD))),
        CausePair("created-timestamp", "config `created`, history `created` and the index "
                  "annotation a day later", base,
                  mini(created=fl.rfc3339(LATER), history=history(built=LATER),
                       index_created=LATER + 12)),
        CausePair("history", "history `created_by` `COPY --link . /`", base,
                  mini(history=history(copy="COPY --link . / # buildkit"))),
        CausePair("media-types", "Docker v2 media types (same config and layer bytes)", base,
                  mini(docker_media_types=True)),
        CausePair("annotations", "a manifest annotation `org.opencontainers.image.description`",
                  base, mini(manifest_annotations=(("org.opencontainers.image.description",
                                                    "the mini app"),))),
        CausePair("attestation", "provenance attestations from two build invocations",
                  mini(attestation_build="build-one"), mini(attestation_build="build-two")),
        CausePair("image-name", "tagged `1.1` instead of `1.0`", base, mini(tag="1.1")),
        CausePair("archive-packing", "the same layout re-packed by GNU tar (`./` names, owner, "
                  "record padding)", base, mini(retarred=True)),
        CausePair("incomplete", "one more file in the app layer, whose tar is cut inside that "
                  "file's data", base, _damaged()),
    ]


def cause_archives() -> list[tuple[str, str, bytes]]:
    """(file name, what it changes, bytes) for every pair side."""
    out = []
    for pair in cause_pairs():
        out.append((f"{pair.code}-a.tar", pair.what, archive(pair.old)))
        out.append((f"{pair.code}-b.tar", pair.what, archive(pair.new)))
    return out
