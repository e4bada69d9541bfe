"""The cause codes: the machine contract of `ocidiff diff`.

Codes are kebab-case and never renamed (new ones may be added). Each has a one-line meaning, a
build-side fix, whether it can change what runs (semantic), and an impact rank for ordering.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CauseInfo:
    code: str
    meaning: str
    fix: str
    semantic: bool  # can it change what a container runs?
    impact: int  # lower is listed first


_CAUSES = (
    CauseInfo(
        "platforms",
        "one image has a platform the other lacks",
        "build the same --platform list",
        True,
        0,
    ),
    CauseInfo(
        "files-added",
        "files exist only in the second image",
        "check the build context and COPY/ADD instructions",
        True,
        1,
    ),
    CauseInfo(
        "files-removed",
        "files exist only in the first image",
        "check the build context, .dockerignore and RUN rm steps",
        True,
        1,
    ),
    CauseInfo(
        "files-moved",
        "a file was renamed with identical content",
        "check paths in COPY/ADD and WORKDIR",
        True,
        2,
    ),
    CauseInfo(
        "dependency-change",
        "a package version changed (dpkg, apk, Python, npm)",
        "pin versions and install from lockfiles",
        True,
        0,  # first: it explains the file-level changes of the package listed after it
    ),
    CauseInfo("content", "file content differs", "find which build input changed", True, 3),
    CauseInfo(
        "file-type",
        "a path changed type (file, dir, symlink, device)",
        "check the build steps that create it",
        True,
        3,
    ),
    CauseInfo(
        "config",
        "runtime configuration differs (Env, Cmd, Entrypoint, User, ...)",
        "check ENV/CMD/ENTRYPOINT/USER/WORKDIR/EXPOSE/VOLUME/LABEL",
        True,
        3,
    ),
    CauseInfo(
        "permissions", "file mode bits differ", "set modes explicitly (COPY --chmod)", True, 4
    ),
    CauseInfo(
        "ownership", "uid/gid/uname/gname differ", "set owners explicitly (COPY --chown)", True, 4
    ),
    CauseInfo(
        "symlink-target", "a symlink points elsewhere", "check the step creating the link", True, 4
    ),
    CauseInfo(
        "hardlinks", "hardlink structure differs", "check the step creating the links", True, 5
    ),
    CauseInfo(
        "xattrs",
        "extended attributes differ (e.g. security.capability)",
        "check setcap/setfattr steps and the builder's xattr support",
        True,
        5,
    ),
    CauseInfo(
        "whiteouts",
        "deletion markers differ between layers",
        "check RUN rm steps and layer boundaries",
        True,
        5,
    ),
    # Not semantic by itself: a base annotation runs nothing, and a base whose files or config
    # differ shows that as those files' and the config's own (semantic) causes.
    CauseInfo(
        "base-image",
        "the base image differs (annotations or layers)",
        "pin the base image by digest: FROM image@sha256:...",
        False,
        1,
    ),
    CauseInfo(
        "clamp-violation",
        "entries are newer than the SOURCE_DATE_EPOCH the image claims",
        "set SOURCE_DATE_EPOCH and rewrite-timestamp=true",
        False,
        6,
    ),
    CauseInfo(
        "file-timestamps",
        "file mtime/atime/ctime differ",
        "set SOURCE_DATE_EPOCH and export with rewrite-timestamp=true",
        False,
        7,
    ),
    CauseInfo(
        "embedded-timestamp",
        "content differs only by a time stored inside the file",
        "use deterministic tools (gzip -n, pyc checked-hash, zip with fixed times)",
        False,
        7,
    ),
    CauseInfo(
        "embedded-path",
        "content differs only by an embedded build path",
        "compile with a fixed path (python -m compileall -d /app)",
        False,
        7,
    ),
    CauseInfo(
        "build-log",
        "a log the build wrote differs (apt, dpkg, ...)",
        "delete /var/log/* in the step that wrote it",
        False,
        7,
    ),
    CauseInfo(
        "build-cache",
        "a package manager or linker cache differs",
        "clean it in the same RUN (apt-get clean, rm aux-cache) or use a cache mount",
        False,
        7,
    ),
    CauseInfo(
        "content-order", "the same lines in another order", "sort generated file lists", False, 8
    ),
    CauseInfo(
        "layer-structure",
        "layer boundaries differ; the merged content is the same or close",
        "keep the Dockerfile's step structure stable",
        False,
        8,
    ),
    CauseInfo(
        "compression",
        "same layer content, differently compressed",
        "pin the compressor and level (compression=, force-compression=true)",
        False,
        9,
    ),
    CauseInfo(
        "entry-order",
        "tar entries are in a different order",
        "use a builder that sorts entries (BuildKit does)",
        False,
        9,
    ),
    CauseInfo(
        "tar-encoding",
        "same entries, different tar header encoding",
        "use one builder and version for both builds",
        False,
        9,
    ),
    CauseInfo(
        "created-timestamp",
        "image creation times differ",
        "set SOURCE_DATE_EPOCH for the build",
        False,
        10,
    ),
    CauseInfo(
        "history",
        "build history (created_by, comments) differs",
        "build with the same Dockerfile and builder",
        False,
        10,
    ),
    CauseInfo(
        "media-types",
        "Docker v2 vs OCI media types for the same content",
        "export with the same oci-mediatypes setting",
        False,
        10,
    ),
    CauseInfo(
        "annotations",
        "manifest or index annotations differ",
        "pass the same --annotation values",
        False,
        11,
    ),
    CauseInfo(
        "attestation",
        "provenance/SBOM attestations differ",
        "attestations record build time; compare with --ignore attestation",
        False,
        11,
    ),
    CauseInfo("image-name", "image names or tags differ", "names are not content", False, 12),
    CauseInfo(
        "archive-packing",
        "the tarballs differ but the images are equal",
        "nothing to fix in the image: member order, outer mtimes or extra blobs",
        False,
        12,
    ),
    CauseInfo(
        "incomplete",
        "part of the comparison could not be done (damaged or absent data)",
        "run ocidiff verify on both inputs",
        True,
        0,
    ),
)

CAUSES: dict[str, CauseInfo] = {cause.code: cause for cause in _CAUSES}
ALL_CODES: tuple[str, ...] = tuple(cause.code for cause in _CAUSES)
DEFAULT_IGNORES: tuple[str, ...] = ("archive-packing", "image-name")
SEMANTIC_IGNORES: tuple[str, ...] = tuple(c.code for c in _CAUSES if not c.semantic)


def impact_of(code: str) -> int:
    info = CAUSES.get(code)
    return info.impact if info else 50
