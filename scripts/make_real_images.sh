#!/usr/bin/env bash
# Regenerate the small real-tool image fixtures in fixtures/real/.
#
# Every image here is written by buildah, umoci or skopeo (Debian 12 packages), never by ocidiff's
# own code, so the fixtures show what those tools really put on disk. See fixtures/real/README.md
# for what each file exercises and which bytes change from one run to the next.
#
# Needs: root, no network, and
#   apt-get install -y buildah umoci skopeo zstd busybox-static attr python3
# Usage: scripts/make_real_images.sh            (then: python3 scripts/check_real_images.py)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/fixtures/real
TS=1700000000                    # the pinned epoch passed to --timestamp
TS_RFC=2023-11-14T22:13:20Z      # the same instant as RFC 3339, for umoci
TS2=1700086400                   # one day later, for the .pyc header pair

die() { echo "make_real_images: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (buildah/umoci need it here)"
for t in buildah umoci skopeo busybox setfattr getfattr python3 tar; do
    command -v "$t" >/dev/null || die "missing $t (apt-get install -y buildah umoci skopeo zstd busybox-static attr)"
done
BUSYBOX=$(command -v busybox)
# RUN steps execute busybox inside an empty image, so it must be the static build
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is dynamically linked; install busybox-static"; fi

umask 022
export LC_ALL=C TZ=UTC
export BUILDAH_ISOLATION=chroot   # the default (crun + cgroups) fails on this machine

W=$(mktemp -d "${TMPDIR:-/tmp}/mkreal.XXXXXX")
mkdir -p "$W/tmp" "$W/out"
export TMPDIR=$W/tmp              # buildah/skopeo temp blobs stay inside W

B() { buildah --root "$W/storage" --runroot "$W/runroot" --storage-driver vfs "$@"; }

cleanup() {
    rc=$?
    B rm --all >/dev/null 2>&1 || true
    B rmi --all --force >/dev/null 2>&1 || true
    rm -rf "$W"
    exit $rc
}
trap cleanup EXIT

# Our own signature policy, so the host's /etc/containers/policy.json does not matter.
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$W/policy.json"
POL=(--signature-policy "$W/policy.json")
SPOL=(--policy "$W/policy.json")

O=$W/out     # staging area; moved to fixtures/real/ only when everything succeeded

# push IMAGE FILE TAG [extra buildah push flags...]: gzip (default) OCI archive
push() { local img=$1 file=$2 tag=$3; shift 3; B push -q "${POL[@]}" "$@" "$img" "oci-archive:$file:$tag"; }
build() { B build -q "${POL[@]}" "$@" >/dev/null; }
# pin the mtime of every path under a build context (layer mtimes then only depend on the tool)
pin() { find "$1" -exec touch -h -d "@$TS" {} +; }

# ---------------------------------------------------------------- build contexts
log "preparing build contexts"
APP=$W/ctx-app
mkdir -p "$APP/app/lib" "$APP/etc"
printf 'hello from the ocidiff fixture app\n' >"$APP/app/hello.txt"
cat >"$APP/app/main.py" <<'EOF'
#!/usr/bin/env python3
from lib.util import greet

print(greet("world"))
EOF
chmod 0755 "$APP/app/main.py"
cat >"$APP/app/lib/util.py" <<'EOF'
def greet(name):
    return "hello, " + name
EOF
printf 'mode=prod\nport=8080\n' >"$APP/etc/app.conf"
cat >"$APP/Containerfile" <<'EOF'
FROM scratch
COPY app/ /app/
COPY etc/app.conf /etc/app.conf
ENV APP_MODE=prod
LABEL org.opencontainers.image.title=ocidiff-fixture-app
CMD ["/app/main.py"]
EOF
pin "$APP"

# ---------------------------------------------------------------- 1. twice
log "twice-a/b: same context, two builds, no timestamp control"
build -f "$APP/Containerfile" -t localhost/twice:a "$APP"
sleep 1.1   # make sure the build-time directory mtimes land in different seconds
build -f "$APP/Containerfile" -t localhost/twice:b "$APP"
push localhost/twice:a "$O/twice-a.tar" twice
push localhost/twice:b "$O/twice-b.tar" twice

# ---------------------------------------------------------------- 2. stamped
log "stamped-a/b: same context, two builds with --timestamp $TS"
build --timestamp "$TS" -f "$APP/Containerfile" -t localhost/stamped:a "$APP"
build --timestamp "$TS" -f "$APP/Containerfile" -t localhost/stamped:b "$APP"
push localhost/stamped:a "$O/stamped-a.tar" stamped
sleep 1.1   # the outer archive member mtimes are the push time
push localhost/stamped:b "$O/stamped-b.tar" stamped

# ---------------------------------------------------------------- 3. srcchange
log "srcchange-a/b: one source file changed"
APP2=$W/ctx-app2
cp -a "$APP" "$APP2"
cat >"$APP2/app/lib/util.py" <<'EOF'
def greet(name):
    return "hello there, " + name
EOF
pin "$APP2"
push localhost/stamped:a "$O/srcchange-a.tar" srcchange
build --timestamp "$TS" -f "$APP2/Containerfile" -t localhost/srcchange:b "$APP2"
push localhost/srcchange:b "$O/srcchange-b.tar" srcchange

# ---------------------------------------------------------------- 4. depbump
log "depbump-a/b: hand-made site-packages, requests 2.31.0 -> 2.32.0"
mk_site() {  # mk_site DIR REQUESTS_VERSION
    python3 - "$1" "$2" <<'EOF'
import base64, hashlib, os, sys
root, ver = sys.argv[1], sys.argv[2]
sp = os.path.join(root, "usr/lib/python3/site-packages")
def dist(name, version, modules, requires=()):
    files = {}
    for rel, text in modules.items():
        files[rel] = text.encode()
    di = f"{name}-{version}.dist-info"
    meta = [ "Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
             f"Summary: fixture copy of {name} (not the real package)", "License: Apache 2.0" ]
    meta += [f"Requires-Dist: {r}" for r in requires]
    files[f"{di}/METADATA"] = ("\n".join(meta) + "\n\n").encode()
    files[f"{di}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.41.2)\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n"
    files[f"{di}/INSTALLER"] = b"pip\n"
    files[f"{di}/top_level.txt"] = f"{name}\n".encode()
    record = []
    for rel in sorted(files):
        h = base64.urlsafe_b64encode(hashlib.sha256(files[rel]).digest()).rstrip(b"=").decode()
        record.append(f"{rel},sha256={h},{len(files[rel])}")
    record.append(f"{di}/RECORD,,")
    files[f"{di}/RECORD"] = ("\n".join(record) + "\n").encode()
    for rel, data in files.items():
        p = os.path.join(sp, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
dist("requests", ver, {
    "requests/__init__.py": "from .__version__ import __version__\nfrom .api import get\n",
    "requests/__version__.py": f'__title__ = "requests"\n__version__ = "{ver}"\n',
    "requests/api.py": "def get(url, **kw):\n    raise NotImplementedError(url)\n",
}, requires=("certifi>=2017.4.17", "idna<4,>=2.5"))
dist("idna", "3.6", {"idna/__init__.py": '__version__ = "3.6"\n'})
EOF
}
for v in a:2.31.0 b:2.32.0; do
    side=${v%%:*}; ver=${v#*:}
    D=$W/ctx-dep-$side
    mkdir -p "$D"
    cp -a "$APP/app" "$D/app"
    mk_site "$D" "$ver"
    cat >"$D/Containerfile" <<'EOF'
FROM scratch
COPY usr/ /usr/
COPY app/ /app/
ENV PYTHONPATH=/usr/lib/python3/site-packages
CMD ["/app/main.py"]
EOF
    pin "$D"
    build --layers --timestamp "$TS" -f "$D/Containerfile" -t "localhost/depbump:$side" "$D"
    push "localhost/depbump:$side" "$O/depbump-$side.tar" depbump
done

# ---------------------------------------------------------------- 5. gzip vs zstd
log "gzip-vs-zstd-a/b/c: one image, gzip (buildah), zstd (buildah), zstd (skopeo)"
push localhost/stamped:a "$O/gzip-vs-zstd-a.tar" gzip-vs-zstd
push localhost/stamped:a "$O/gzip-vs-zstd-b.tar" gzip-vs-zstd --compression-format zstd
skopeo copy -q "${SPOL[@]}" --dest-compress-format zstd \
    "oci-archive:$O/gzip-vs-zstd-a.tar:gzip-vs-zstd" "oci-archive:$O/gzip-vs-zstd-c.tar:gzip-vs-zstd"

# ---------------------------------------------------------------- 6. uncompressed vs gzip
log "uncompressed-vs-gzip-a/b: buildah commit to oci-archive vs push"
c=$(B from -q "${POL[@]}" scratch)
B copy -q "$c" "$APP/app" /app >/dev/null
B config --env APP_MODE=prod --cmd '["/app/main.py"]' "$c"
B commit -q "${POL[@]}" --timestamp "$TS" "$c" localhost/uncomp:1 >/dev/null
B commit -q "${POL[@]}" --timestamp "$TS" "$c" "oci-archive:$O/uncompressed-vs-gzip-a.tar:uncompressed-vs-gzip" >/dev/null
B rm "$c" >/dev/null
push localhost/uncomp:1 "$O/uncompressed-vs-gzip-b.tar" uncompressed-vs-gzip

# ---------------------------------------------------------------- 7. base change
log "base-a/b: the same app on base v1 and on base v2 (+ baseimg-v1/v2)"
for v in 1 2; do
    D=$W/ctx-base$v
    mkdir -p "$D/etc" "$D/usr/lib" "$D/usr/share/doc/demo"
    printf 'NAME="Fixture Linux"\nID=fixture\nVERSION_ID=%s.0\nPRETTY_NAME="Fixture Linux %s.0"\n' "$v" "$v" >"$D/etc/os-release"
    printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n' >"$D/etc/passwd"
    printf 'libdemo build %s\n' "$v" >"$D/usr/lib/libdemo.so.1"
    printf 'Fixture base image. Nothing to read here.\n' >"$D/usr/share/doc/demo/README"
    printf 'FROM scratch\nCOPY etc/ /etc/\nCOPY usr/ /usr/\nLABEL org.opencontainers.image.title=fixture-base\n' >"$D/Containerfile"
    pin "$D"
    build --timestamp "$TS" -f "$D/Containerfile" -t "localhost/baseimg:v$v" "$D"
    push "localhost/baseimg:v$v" "$O/baseimg-v$v.tar" baseimg
done
D=$W/ctx-onbase
mkdir -p "$D"
cp -a "$APP/app" "$D/app"
cp "$O/baseimg-v1.tar" "$O/baseimg-v2.tar" "$D/"
cat >"$D/Containerfile" <<'EOF'
ARG BASE
FROM oci-archive:${BASE}
COPY app/ /app/
USER 1000
CMD ["/app/main.py"]
EOF
pin "$D"
# relative FROM path (resolved in the context dir), keeping the temp dir name out of the commands
(cd "$D" && build --timestamp "$TS" --build-arg BASE=baseimg-v1.tar -f Containerfile -t localhost/base:a .)
(cd "$D" && build --timestamp "$TS" --build-arg BASE=baseimg-v2.tar -f Containerfile -t localhost/base:b .)
push localhost/base:a "$O/base-a.tar" base
push localhost/base:b "$O/base-b.tar" base

# ---------------------------------------------------------------- 7b. intermediate image
log "intermediate-a/b: one step changes; --layers names buildah's intermediate as base.digest"
for side in a b; do
    D=$W/ctx-intermediate-$side
    mkdir -p "$D/app" "$D/conf"
    printf 'VERSION = "%s"\n' "$side" >"$D/app/version.py"
    printf 'level=info\n' >"$D/conf/app.conf"
    cp "$O/baseimg-v1.tar" "$D/"
    printf 'FROM oci-archive:baseimg-v1.tar\nCOPY app/ /app/\nCOPY conf/ /etc/app/\n' >"$D/Containerfile"
    pin "$D"
    (cd "$D" && build --layers --timestamp "$TS" -f Containerfile -t "localhost/intermediate:$side" .)
    push "localhost/intermediate:$side" "$O/intermediate-$side.tar" intermediate
done

# ---------------------------------------------------------------- 8. config only
log "config-a/b: one working container committed twice with different config"
c=$(B from -q "${POL[@]}" scratch)
B copy -q "$c" "$APP/app" /app >/dev/null
B copy -q "$c" "$APP/etc/app.conf" /etc/app.conf >/dev/null
B config --env APP_MODE=prod --label tier=stable --cmd '["/app/main.py"]' "$c"
B commit -q "${POL[@]}" --timestamp "$TS" "$c" localhost/config:a >/dev/null
B config --env APP_MODE=debug --env DEBUG=1 --label tier=canary --label owner=qa \
    --cmd '["/app/main.py","--verbose"]' "$c"
B commit -q "${POL[@]}" --timestamp "$TS" "$c" localhost/config:b >/dev/null
B rm "$c" >/dev/null
push localhost/config:a "$O/config-a.tar" config
push localhost/config:b "$O/config-b.tar" config

# ---------------------------------------------------------------- 9. whiteouts (RUN rm)
log "whiteout: RUN rm of a file and of a directory, RUN that replaces a directory"
D=$W/ctx-wh
mkdir -p "$D/tools/bin" "$D/root/data" "$D/root/olddir/sub" "$D/root/opt/cfg"
cp "$BUSYBOX" "$D/tools/bin/busybox"
printf 'kept\n' >"$D/root/data/keep.txt"
printf 'deleted by a later layer\n' >"$D/root/data/gone.txt"
printf 'a\n' >"$D/root/olddir/a.txt"
printf 'b\n' >"$D/root/olddir/sub/b.txt"
printf 'one\n' >"$D/root/opt/cfg/one.conf"
printf 'two\n' >"$D/root/opt/cfg/two.conf"
# busybox is bind-mounted from a throwaway stage, so it never lands in a layer
cat >"$D/Containerfile" <<'EOF'
FROM scratch AS tools
COPY tools/bin/busybox /bin/busybox
FROM scratch
COPY root/ /
RUN --mount=type=bind,from=tools,source=/bin,target=/bin ["/bin/busybox", "rm", "-rf", "/data/gone.txt", "/olddir"]
RUN --mount=type=bind,from=tools,source=/bin,target=/bin ["/bin/busybox", "sh", "-c", "/bin/busybox rm -rf /opt/cfg && /bin/busybox mkdir /opt/cfg && echo three > /opt/cfg/three.conf"]
CMD ["/data/keep.txt"]
EOF
pin "$D"
build --layers --timestamp "$TS" -f "$D/Containerfile" -t localhost/whiteout:1 "$D"
push localhost/whiteout:1 "$O/whiteout.tar" whiteout

# ---------------------------------------------------------------- 10. oci-archive vs docker-archive
log "ociarchive-vs-dockerarchive-a/b: skopeo copy to docker-archive"
push localhost/stamped:a "$O/ociarchive-vs-dockerarchive-a.tar" ociarchive-vs-dockerarchive
skopeo copy -q "${SPOL[@]}" "oci-archive:$O/ociarchive-vs-dockerarchive-a.tar:ociarchive-vs-dockerarchive" \
    "docker-archive:$O/ociarchive-vs-dockerarchive-b.tar:localhost/ocidiff-fixture:1"

# ---------------------------------------------------------------- 11. xattr
log "xattr-a/b: the same file without and with user.test=1"
for side in a b; do
    D=$W/ctx-xattr-$side
    mkdir -p "$D/opt"
    printf 'same bytes on both sides\n' >"$D/opt/file.txt"
    [ "$side" = b ] && setfattr -n user.test -v 1 "$D/opt/file.txt"
    printf 'FROM scratch\nCOPY opt/ /opt/\n' >"$D/Containerfile"
    pin "$D"
    build --timestamp "$TS" -f "$D/Containerfile" -t "localhost/xattr:$side" "$D"
    push "localhost/xattr:$side" "$O/xattr-$side.tar" xattr
done
getfattr -n user.test "$W/ctx-xattr-b/opt/file.txt" >/dev/null 2>&1 \
    || die "the temp filesystem did not keep user.* xattrs; set TMPDIR to ext4/tmpfs"

# ---------------------------------------------------------------- 12. umoci insert
log "umoci-unterminated: whiteout image + umoci insert / insert --whiteout / insert --opaque"
L=$W/umoci-layout
skopeo copy -q "${SPOL[@]}" "oci-archive:$O/whiteout.tar:whiteout" "oci:$L:umoci"
mkdir -p "$W/ins/added/sub" "$W/ins/opq"
printf 'inserted by umoci\n' >"$W/ins/added/top.txt"
printf 'nested\n' >"$W/ins/added/sub/new.txt"
printf 'the only file left in /data\n' >"$W/ins/opq/only.txt"
pin "$W/ins"
umoci insert --image "$L:umoci" --history.created "$TS_RFC" "$W/ins/added" /added
umoci insert --image "$L:umoci" --history.created "$TS_RFC" --whiteout /opt/cfg/three.conf
umoci insert --image "$L:umoci" --history.created "$TS_RFC" --opaque "$W/ins/opq" /data
umoci config --image "$L:umoci" --no-history --created "$TS_RFC"
umoci gc --layout "$L"
skopeo copy -q "${SPOL[@]}" "oci:$L:umoci" "oci-archive:$O/umoci-unterminated.tar:umoci"

# ---------------------------------------------------------------- 12b/12c. umoci raw add-layer
# Layer tars written by Python's tarfile (USTAR; scripts/umoci_layer_tars.py) and added with
# `umoci raw add-layer`: what `umoci unpack` leaves on disk is the reference for the merged view.
# umoci_stack NAME: the stack NAME of umoci_layer_tars.py as $O/NAME-umoci.tar, tagged NAME.
umoci_stack() {
    local name=$1 layout=$W/$1-layout tars=$W/$1-tars
    mkdir -p "$tars"
    python3 "$ROOT/scripts/umoci_layer_tars.py" "$name" "$tars"
    umoci init --layout "$layout"
    umoci new --image "$layout:$name"
    for tar in "$tars"/l*.tar; do
        umoci raw add-layer --image "$layout:$name" --history.created "$TS_RFC" "$tar"
    done
    umoci config --image "$layout:$name" --no-history --created "$TS_RFC"
    umoci gc --layout "$layout"
    skopeo copy -q "${SPOL[@]}" "oci:$layout:$name" "oci-archive:$O/$name-umoci.tar:$name"
}
log "hardlinks-umoci: links to lower layers, then their targets rewritten or deleted"
umoci_stack hardlinks
log "symlinks-umoci: members whose parent directory is a symlink in a lower layer"
umoci_stack symlinks

# ---------------------------------------------------------------- 13. pycache
log "pycache-a/b: .pyc files that differ only in embedded mtime / path"
for side in a b; do
    D=$W/ctx-pyc-$side
    mkdir -p "$D/app/pkg"
    printf '"""fixture package"""\nVERSION = "1.0"\n' >"$D/app/pkg/__init__.py"
    printf 'def double(x):\n    return 2 * x\n' >"$D/app/pkg/util.py"
    printf 'def triple(x):\n    return 3 * x\n' >"$D/app/pkg/hashed.py"
    pin "$D"
    if [ "$side" = b ]; then
        touch -d "@$TS2" "$D/app/pkg/util.py"     # header mtime field differs
        ddir_init=/tmp/build-4711/app/pkg         # co_filename differs
    else
        ddir_init=/app/pkg
    fi
    python3 -m compileall -q -d "$ddir_init" "$D/app/pkg/__init__.py"
    python3 -m compileall -q -d /app/pkg "$D/app/pkg/util.py"
    # checked-hash pycs embed the source hash, not the mtime: identical on both sides
    python3 -m compileall -q -d /app/pkg --invalidation-mode checked-hash "$D/app/pkg/hashed.py"
    printf 'FROM scratch\nCOPY app/ /app/\n' >"$D/Containerfile"
    build --timestamp "$TS" -f "$D/Containerfile" -t "localhost/pycache:$side" "$D"
    push "localhost/pycache:$side" "$O/pycache-$side.tar" pycache
done

# ---------------------------------------------------------------- multi-layer build
log "layers: buildah build --layers, busybox base, ENV/LABEL/USER/WORKDIR/ENTRYPOINT/CMD"
D=$W/ctx-layers
mkdir -p "$D/bin" "$D/etc"
cp "$BUSYBOX" "$D/bin/busybox"
cp -a "$APP/app" "$D/app"
printf 'welcome to the fixture\n' >"$D/etc/motd"
printf 'mode=prod\n' >"$D/etc/app.conf"
cat >"$D/Containerfile" <<'EOF'
FROM scratch
COPY bin/busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY etc/ /etc/
ENV APP_HOME=/app LANG=C.UTF-8
LABEL org.opencontainers.image.title="ocidiff multi-layer fixture" org.opencontainers.image.version="1.0"
WORKDIR /app
COPY app/ /app/
RUN mkdir -p /var/log/app && chown 1000:1000 /var/log/app \
 && echo built > /app/BUILD && ln /app/BUILD /app/BUILD.hardlink \
 && ln /app/hello.txt /app/hello-hardlink.txt \
 && ln -s /app/main.py /bin/app-main && rm /etc/motd && chmod 0600 /etc/app.conf
USER 1000:1000
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/hello.txt"]
EOF
pin "$D"
build --layers --timestamp "$TS" -f "$D/Containerfile" -t localhost/layers:1 "$D"
push localhost/layers:1 "$O/layers.tar" layers

# ---------------------------------------------------------------- OCI layout directory
log "layout-dir: an OCI layout directory holding depbump-a and depbump-b (shared app layer)"
skopeo copy -q "${SPOL[@]}" "oci-archive:$O/depbump-a.tar:depbump" "oci:$O/layout-dir:depbump-a"
skopeo copy -q "${SPOL[@]}" "oci-archive:$O/depbump-b.tar:depbump" "oci:$O/layout-dir:depbump-b"

# ---------------------------------------------------------------- install
log "installing into $OUT"
mkdir -p "$OUT"
rm -f "$OUT"/*.tar
rm -rf "$OUT/layout-dir"
mv "$O"/*.tar "$OUT/"
mv "$O/layout-dir" "$OUT/layout-dir"
du -sh "$OUT" >&2
log "done; verify with: python3 scripts/check_real_images.py"
