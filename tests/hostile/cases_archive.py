"""The hostile-case table, part one: damaged or hostile archive structure (blobs that lie,
go missing or repeat, links out of the archive or in loops, hostile member names, truncation,
broken headers) and hostile documents (deep, large, invalid, cyclic or over-nested indexes).
"""

from __future__ import annotations

from ocidiff.errors import (
    DigestMismatchError,
    ImageFormatError,
    LimitExceededError,
    MissingBlobError,
    OcidiffError,
    TarError,
)

from . import bombs
from .builders import (
    archive_with,
    base,
    corrupt,
    docker_base,
    flip_outer_header,
    hex_of,
    lazily,
    nested_indexes,
    replaced,
    self_referencing_index,
    with_index,
    write,
)
from .expect import Case, differs, fails, mismatch, ok
from .images import OuterMember, blob_name, gzip, index_of


def archive_cases() -> list[Case]:
    image = base()
    members = image.members()
    blob = image.blobs
    docker = docker_base()
    docker_layer = next(m.name for m in docker if m.name.endswith(b"/layer.tar"))
    layer0, layer1, layer2 = (hex_of(d) for d in image.layers)
    config, manifest = hex_of(image.config), hex_of(image.manifest)
    return [
        Case(
            "blob-content-not-its-digest",
            lazily(lambda: image.with_blob(image.layers[1], gzip(b"junk"))),
            mismatch(layer1, "does not match its digest"),
            fails(DigestMismatchError, "does not match its digest", layer1),
            ok(),  # diff trusts equal digests: integrity is verify's job
        ),
        Case(
            "swapped-blobs",
            lambda d: write(
                d,
                "image.tar",
                image.with_blob(image.layers[0], blob[image.layers[2]])
                .with_blob(image.layers[2], blob[image.layers[0]])
                .archive(),
            ),
            mismatch(layer0, layer2),
            fails(DigestMismatchError, layer0),
            ok(),
        ),
        Case(
            "missing-layer-blob",
            archive_with(replaced(members, blob_name(image.layers[1]), None)),
            mismatch(layer1, "missing"),
            fails(MissingBlobError, "layer"),
            differs("incomplete"),
        ),
        Case(
            "missing-config-blob",
            archive_with(replaced(members, blob_name(image.config), None)),
            mismatch(config, "missing"),
            fails(OcidiffError, "0 images"),
            differs("incomplete"),
        ),
        Case(
            "missing-manifest-blob",
            archive_with(replaced(members, blob_name(image.manifest), None)),
            mismatch(manifest, "missing"),
            fails(OcidiffError, "0 images"),
            differs("incomplete"),
        ),
        Case(
            "duplicate-index-json-different-content",
            archive_with([*members, OuterMember(b"index.json", index_of([]))]),
            mismatch("index.json", "more than once"),
            fails(OcidiffError, "0 images"),
            differs("incomplete"),
        ),
        Case(
            "duplicate-layer-blob-second-corrupt",
            archive_with(
                [*members, OuterMember(blob_name(image.layers[2]), corrupt(blob[image.layers[2]]))]
            ),
            mismatch(layer2),
            fails(OcidiffError, layer2),
            differs("incomplete"),
        ),
        Case(
            "docker-layer-symlink-outside",
            archive_with(
                replaced(
                    docker,
                    docker_layer,
                    OuterMember(docker_layer, typeflag=b"2", linkname=b"../../../../etc/passwd"),
                )
            ),
            mismatch("outside the archive"),
            fails(OcidiffError, "outside the archive"),
            differs("incomplete"),
        ),
        Case(
            "docker-layer-symlink-loop",
            archive_with(
                [
                    *replaced(
                        docker,
                        docker_layer,
                        OuterMember(docker_layer, typeflag=b"2", linkname=b"../loop/layer.tar"),
                    ),
                    OuterMember(b"loop/layer.tar", typeflag=b"2", linkname=b"../" + docker_layer),
                ]
            ),
            mismatch("loop"),
            fails(OcidiffError, "loop"),
            differs("incomplete"),
        ),
        Case(
            "index-json-symlink-absolute",
            archive_with(
                replaced(
                    members,
                    b"index.json",
                    OuterMember(b"index.json", typeflag=b"2", linkname=b"/etc/passwd"),
                )
            ),
            fails(ImageFormatError, "outside the archive", "index.json"),
            fails(ImageFormatError, "outside the archive"),
            fails(ImageFormatError, "outside the archive"),
        ),
        Case(
            "outer-absolute-and-dot-names",
            archive_with(
                [
                    OuterMember(b"/" + m.name if m.name == b"index.json" else b"./" + m.name,
                                m.data, m.typeflag)
                    for m in members
                ]
            ),
            ok(),  # never extracted: a leading '/' or './' names the same member
            ok(),
            ok(),
        ),
        Case(
            "outer-dotdot-name",
            archive_with(
                replaced(members, b"index.json", OuterMember(b"../index.json", image.index))
            ),
            fails(ImageFormatError, "not an image archive"),
            fails(OcidiffError),
            fails(ImageFormatError, "not an image archive"),
        ),
        Case(
            "outer-name-invalid-utf8-and-nul",
            archive_with(
                [*members, OuterMember(b"blobs/sha256/\xff\xfe", b"x"),
                 OuterMember(b"a\x00b", b"y")]
            ),
            mismatch("does not match its name"),
            ok(),
            ok(),
        ),
        Case(
            "outer-member-size-beyond-file",
            archive_with(
                [*members[:-1], OuterMember(b"oci-layout", b"{}", size=10_000_000_000)],
                trailer=False,
            ),
            fails(OcidiffError, "oci-layout", "offset"),
            fails(OcidiffError, "oci-layout", "offset"),
            fails(OcidiffError, "oci-layout", "offset"),
        ),
        Case(
            "outer-truncated-at-member-boundary",
            archive_with(members[:-1], trailer=False),
            mismatch("end-of-archive marker"),
            ok(),
            differs("incomplete"),
        ),
        Case(
            "outer-header-checksum",
            lambda d: write(d, "image.tar", flip_outer_header(image.archive())),
            fails(TarError, "checksum", "offset"),
            fails(TarError, "checksum", "offset"),
            fails(TarError, "checksum", "offset"),
        ),
        Case(
            "empty-file",
            lambda d: write(d, "image.tar", b""),
            fails(ImageFormatError, "not an image archive"),
            ok(),  # a bare layer with no entries (docker save before 1.10 wrote such layers)
            fails(OcidiffError),
        ),
        Case(
            "not-a-tar",
            lambda d: write(d, "image.tar", bytes(range(256)) * 7),
            fails(TarError, "offset 0"),
            fails(TarError, "offset 0"),
            fails(TarError, "offset 0"),
        ),
        Case(
            "index-json-deeply-nested",
            archive_with(with_index(members, bombs.deep_json(100_000))),
            fails(LimitExceededError, "--max-json-depth", "index.json"),
            fails(LimitExceededError, "--max-json-depth", "index.json"),
            fails(LimitExceededError, "--max-json-depth", "index.json"),
        ),
        Case(
            "index-json-over-size-limit",
            archive_with(with_index(members, bombs.large_json(20_000))),
            fails(LimitExceededError, "--max-json-bytes", "index.json"),
            fails(LimitExceededError, "--max-json-bytes", "index.json"),
            fails(LimitExceededError, "--max-json-bytes", "index.json"),
            ("--max-json-bytes", "10000"),
        ),
        Case(
            "index-json-not-json",
            archive_with(with_index(members, b'{"manifests": [}')),
            fails(ImageFormatError, "index.json"),
            fails(ImageFormatError, "index.json"),
            fails(ImageFormatError, "index.json"),
        ),
        Case(
            "index-refers-to-itself",
            archive_with(self_referencing_index()),
            fails(ImageFormatError, "cycle", "ab" * 32),
            fails(ImageFormatError, "cycle"),
            fails(ImageFormatError, "cycle"),
        ),
        Case(
            "indexes-nested-too-deep",
            archive_with(nested_indexes(12)),
            fails(LimitExceededError, "--max-index-depth"),
            fails(LimitExceededError, "--max-index-depth"),
            fails(LimitExceededError, "--max-index-depth"),
        ),
        Case(
            "config-blob-deeply-nested",
            lazily(lambda: image.with_blob(image.config, bombs.deep_json(5000))),
            fails(LimitExceededError, "--max-json-depth", config),
            fails(LimitExceededError, "--max-json-depth", config),
            fails(LimitExceededError, "--max-json-depth", config),
        ),
    ]
