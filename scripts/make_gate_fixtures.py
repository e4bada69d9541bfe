"""Writes fixtures/gates/: a build context (the NEW source tree) and images built from it.

The story is the incident verify-tree exists for: `COPY . /app/` came from the build cache, so
the image shipped an OLD copy of the source under the NEW commit's label.

  source/           the new build context, with a .dockerignore exercising `**`, `!`, `/` and `./`
  app-fresh.tar     BuildKit-like image whose `COPY . /app/` layer holds the new tree
  app-stale.tar     the same build, but that layer holds the old tree (same label)

The old tree is the new one with five edits (see `old_tree`), each a kind of difference:
content, missing, extra, symlink target, mode. Which context paths `COPY . /app/` copies is
written out by hand in `COPIED` from the Docker documentation's rules, never computed by
ocidiff's own .dockerignore code; the buildah images below check both against a real tool.

`--check` regenerates into a temporary directory and compares (exit 1 naming the differences).
`--buildah` (root, buildah installed, see /work/shared/real-images.md) also rebuilds
buildah-fresh.tar and buildah-stale.tar: the same two trees built by buildah, which reads the
.dockerignore itself. Those two are not byte-reproducible (push times), so --check skips them.
Layers are stored uncompressed so the synthetic images do not depend on the zlib version.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import fixturelib as fl

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "fixtures" / "gates"
BUILT = 1718013600  # 2024-06-10T10:00:00Z
AMD64 = fl.Platform("amd64")
# The commit both images claim (org.opencontainers.image.revision): a made-up, fixed id.
NEW_COMMIT = hashlib.sha1(b"ocidiff gate fixture: the new source tree").hexdigest()
BASE_REF = "python:3.12-slim@sha256:" + hashlib.sha256(b"gate fixture base").hexdigest()

Tree = dict[str, tuple[str, bytes, int]]  # path -> (kind: file|symlink|dir, data/target, mode)

DOCKERIGNORE = b"""\
# The gate fixture's build context rules (Docker's .dockerignore syntax).
**/__pycache__
*.secret
/tests
./docs/**/*.md
out
!out/keep.txt
*.md
!README.md
Dockerfile
.dockerignore
"""

DOCKERFILE = f"""\
# syntax=docker/dockerfile:1
FROM {BASE_REF}
WORKDIR /app
COPY requirements.txt /app/
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY . /app/
RUN python -m compileall -q /app/lib
ARG GIT_COMMIT=unknown
LABEL org.opencontainers.image.revision=$GIT_COMMIT
CMD ["/app/main.py"]
""".encode()

REQUIREMENTS = (
    b"# pinned and hashed (the hash is of nothing real: this is a test fixture)\n"
    b"greeting-lib==1.2.3 \\\n    --hash=sha256:"
    + hashlib.sha256(b"greeting-lib 1.2.3").hexdigest().encode() + b"\n"
)


def new_tree() -> Tree:
    return {
        ".dockerignore": ("file", DOCKERIGNORE, 0o644),
        "Dockerfile": ("file", DOCKERFILE, 0o644),
        "README.md": ("file", b"# greeter\n\nSays hello. Built into /app.\n", 0o644),
        "notes.md": ("file", b"Scratch notes: not shipped (*.md).\n", 0o644),
        "requirements.txt": ("file", REQUIREMENTS, 0o644),
        "local.secret": ("file", b"token=not-a-real-token\n", 0o644),
        "main.py": ("file", b"#!/usr/bin/env python3\nfrom lib.greet import greet\n\n"
                    b"print(greet('world'))\n", 0o755),
        "bin": ("dir", b"", 0o755),
        "bin/start": ("symlink", b"../main.py", 0o777),
        "lib": ("dir", b"", 0o755),
        "lib/__init__.py": ("file", b"", 0o644),
        "lib/greet.py": ("file", b"from lib.new_feature import punctuate\n\n\n"
                         b"def greet(name):\n    return punctuate('hello, ' + name)\n", 0o644),
        "lib/new_feature.py": ("file", b"def punctuate(text):\n    return text + '!'\n", 0o644),
        "config": ("dir", b"", 0o755),
        "config/settings.toml": ("file", b"[server]\nport = 8080\n", 0o644),
        "docs": ("dir", b"", 0o755),
        "docs/guide.md": ("file", b"# Guide\n\nNot shipped (./docs/**/*.md).\n", 0o644),
        "docs/diagram.txt": ("file", b"[client] -> [greeter]\n", 0o644),
        "out": ("dir", b"", 0o755),
        "out/report.bin": ("file", bytes(range(64)), 0o644),
        "out/keep.txt": ("file", b"kept by the !out/keep.txt exception\n", 0o644),
        "tests": ("dir", b"", 0o755),
        "tests/test_greet.py": ("file", b"from lib.greet import greet\n\n\ndef test_greet():\n"
                                b"    assert greet('x') == 'hello, x!'\n", 0o644),
    }


def old_tree() -> Tree:
    """Last week's checkout: what the cached `COPY . /app/` layer was made from."""
    tree = new_tree()
    tree["lib/greet.py"] = ("file", b"def greet(name):\n    return 'hello, ' + name\n", 0o644)
    del tree["lib/new_feature.py"]  # added this week: missing from the stale image
    tree["lib/legacy.py"] = ("file", b"# removed this week\n", 0o644)  # extra in the image
    tree["bin/start"] = ("symlink", b"../main_old.py", 0o777)  # symlink target differs
    tree["main.py"] = (*tree["main.py"][:2], 0o644)  # made executable this week
    return tree


# What `COPY . /app/` takes from a context with DOCKERIGNORE (by hand, from the Docker docs):
# `out` is excluded but `!out/keep.txt` re-includes that file, so `out/` is created for it;
# `./docs/**/*.md` drops docs/guide.md (`**` matches zero directories); `*.md` only matches at
# the top, then `!README.md` brings README.md back; `/tests`, `*.secret`, the Dockerfile and
# the .dockerignore itself are left out.
COPIED = (
    "README.md", "bin", "bin/start", "config", "config/settings.toml", "docs",
    "docs/diagram.txt", "lib", "lib/__init__.py", "lib/greet.py", "lib/legacy.py",
    "lib/new_feature.py", "main.py", "out", "out/keep.txt", "requirements.txt",
)


def write_tree(tree: Tree, root: Path) -> None:
    """Materialise a tree (modes set explicitly: a checkout's umask must not leak in)."""
    for path in sorted(tree):
        kind, data, mode = tree[path]
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "dir":
            target.mkdir(exist_ok=True)
        elif kind == "symlink":
            os.symlink(data.decode(), target)
            continue
        else:
            target.write_bytes(data)
        os.chmod(target, mode)
    os.chmod(root, 0o755)


# -- the synthetic images -------------------------------------------------------------------


def base_layer() -> bytes:
    t = BUILT - 30 * 86400
    return fl.write_tar([
        fl.dir_entry("etc", mtime=t),
        fl.file_entry("etc/os-release", b'NAME="Gate Base"\nID=gate\n', mtime=t),
        fl.dir_entry("usr", mtime=t), fl.dir_entry("usr/bin", mtime=t),
        fl.file_entry("usr/bin/python3", b"\x7fELF not really python\n", mode=0o755, mtime=t),
    ])


def app_layers(tree: Tree) -> list[bytes]:
    t = BUILT
    requirements = fl.write_tar([
        fl.dir_entry("app", mtime=t),
        fl.file_entry("app/requirements.txt", REQUIREMENTS, mtime=t),
    ])
    pip = fl.write_tar([
        fl.dir_entry("usr", mtime=t), fl.dir_entry("usr/lib", mtime=t),
        fl.dir_entry("usr/lib/python3", mtime=t),
        fl.file_entry("usr/lib/python3/greeting_lib.py", b"VERSION = '1.2.3'\n", mtime=t),
    ])
    copied = [fl.dir_entry("app", mtime=t)]
    for path in sorted(p for p in tree if p in COPIED):
        kind, data, mode = tree[path]
        name = "app/" + path
        if kind == "dir":
            copied.append(fl.dir_entry(name, mode=mode, mtime=t))
        elif kind == "symlink":
            copied.append(fl.symlink_entry(name, data.decode(), mtime=t))
        else:
            copied.append(fl.file_entry(name, data, mode=mode, mtime=t))
    compiled = fl.write_tar([
        fl.dir_entry("app/lib", mtime=t + 5),
        fl.dir_entry("app/lib/__pycache__", mtime=t + 5),
        fl.file_entry("app/lib/__pycache__/greet.cpython-312.pyc",
                      b"\xcb\r\r\n" + hashlib.sha256(tree["lib/greet.py"][1]).digest(),
                      mtime=t + 5),
    ])
    return [requirements, pip, fl.write_tar(copied), compiled]


def image_archive(tree: Tree) -> bytes:
    tars = [base_layer(), *app_layers(tree)]
    layers = [fl.make_layer(tar, fl.Compression.NONE) for tar in tars]
    at = fl.rfc3339(BUILT)
    history = [
        fl.HistoryEntry(fl.rfc3339(BUILT - 30 * 86400), "/bin/sh -c #(nop) ADD file:gatebase in /",
                        comment=None),
        fl.HistoryEntry(at, "WORKDIR /app", empty_layer=True),
        fl.HistoryEntry(at, "COPY requirements.txt /app/ # buildkit"),
        fl.HistoryEntry(at, "RUN /bin/sh -c pip install --no-cache-dir --require-hashes -r "
                        "requirements.txt # buildkit"),
        fl.HistoryEntry(at, "COPY . /app/ # buildkit"),
        fl.HistoryEntry(at, "RUN /bin/sh -c python -m compileall -q /app/lib # buildkit"),
        fl.HistoryEntry(at, "ARG GIT_COMMIT=unknown", empty_layer=True),
        fl.HistoryEntry(at, "LABEL org.opencontainers.image.revision=" + NEW_COMMIT,
                        empty_layer=True),
        fl.HistoryEntry(at, 'CMD ["/app/main.py"]', empty_layer=True),
    ]
    run = fl.RunConfig(cmd=("/app/main.py",), working_dir="/app",
                       labels=(("org.opencontainers.image.revision", NEW_COMMIT),))
    config = fl.make_config(platform=AMD64, diff_ids=[x.diff_id for x in layers],
                            history=history, created=at, run=run)
    image = fl.make_image(config, layers, platform=AMD64)
    descriptor = image.descriptor(annotations={"org.opencontainers.image.created": at})
    return fl.write_oci_archive(image.blobs(), fl.index_json([descriptor]))


def generate(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    source = out / "source"
    if source.exists():
        shutil.rmtree(source)  # entirely generated
    source.mkdir()
    write_tree(new_tree(), source)
    written = [out / "app-fresh.tar", out / "app-stale.tar"]
    written[0].write_bytes(image_archive(new_tree()))
    written[1].write_bytes(image_archive(old_tree()))
    return written


def compare(fresh: Path, committed: Path) -> list[str]:
    """Paths that differ between two generated trees: content, link target, type, or the
    executable bit (all a git checkout keeps; the rest of a mode depends on the umask)."""
    def listing(root: Path) -> dict[str, tuple[int, bool]]:
        names = ("source", "app-fresh.tar", "app-stale.tar")
        found = {}
        for name in names:
            top = root / name
            paths = [top] if top.is_file() else sorted(top.rglob("*")) if top.exists() else []
            for path in paths:
                info = path.lstat()
                kind = info.st_mode & 0o170000
                found[path.relative_to(root).as_posix()] = (kind | info.st_mode & 0o100,
                                                            path.is_symlink())
        return found

    new, old = listing(fresh), listing(committed)
    differing = sorted(set(new) ^ set(old))
    for name in sorted(set(new) & set(old)):
        a, b = fresh / name, committed / name
        if new[name] != old[name]:
            differing.append(name)
        elif new[name][1]:
            if os.readlink(a) != os.readlink(b):
                differing.append(name)
        elif a.is_file() and not filecmp.cmp(a, b, shallow=False):
            differing.append(name)
    return differing


# -- the buildah images (a real builder reading the .dockerignore itself) --------------------


def build_with_buildah(out: Path) -> None:
    """Build both trees with `buildah build` (FROM scratch, COPY . /app/) and push them as gzip
    OCI archives. Needs root and buildah; see /work/shared/real-images.md for the setup."""
    with tempfile.TemporaryDirectory(prefix="gatebuild.") as work_name:
        work = Path(work_name)
        store = ["--root", str(work / "storage"), "--runroot", str(work / "run"),
                 "--storage-driver", "vfs"]
        policy = work / "policy.json"
        policy.write_text('{"default":[{"type":"insecureAcceptAnything"}]}\n')
        containerfile = work / "Containerfile"  # outside the context: not copied
        containerfile.write_text(f"FROM scratch\nCOPY . /app/\nLABEL "
                                 f"org.opencontainers.image.revision={NEW_COMMIT}\n")
        env = {**os.environ, "BUILDAH_ISOLATION": "chroot", "TMPDIR": str(work)}
        for name, tree in (("fresh", new_tree()), ("stale", old_tree())):
            context = work / f"ctx-{name}"
            context.mkdir()
            write_tree(tree, context)
            tag = f"localhost/gate:{name}"
            run(["buildah", *store, "build", "-q", "--layers", "--signature-policy", str(policy),
                 "--timestamp", str(BUILT), "-f", str(containerfile), "-t", tag, str(context)],
                env)
            run(["buildah", *store, "push", "-q", "--signature-policy", str(policy), tag,
                 f"oci-archive:{out / f'buildah-{name}.tar'}:gate"], env)
        run(["buildah", *store, "rmi", "--all", "--force"], env)


def run(command: Sequence[str], env: dict[str, str]) -> None:
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    parser.add_argument("--buildah", action="store_true", help="also rebuild the buildah images")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            differing = compare(Path(tmp), OUT)
        for name in differing:
            print(f"differs: {name}", file=sys.stderr)
        return 1 if differing else 0
    for path in generate(OUT):
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    if args.buildah:
        build_with_buildah(OUT)
        print("wrote fixtures/gates/buildah-fresh.tar, buildah-stale.tar")
    return 0


if __name__ == "__main__":
    sys.exit(main())
