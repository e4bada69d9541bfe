"""The hostile-case table, part two: valid images whose layers are hostile inside (escaping
names, sizes and numbers out of range, broken PAX data, sparse claims, corrupt or truncated
compression, bombs, too many entries) and compressed archives that expand without bound.
"""

from __future__ import annotations

from ocidiff.errors import (
    CompressionError,
    LimitExceededError,
    TarError,
)

from ..tar.tarbuild import end, gnu_long, member, pax_header
from . import bombs
from .builders import (
    base,
    corrupt,
    hostile_names_layer,
    image_with_blob,
    image_with_layer,
    lazily,
    long_header_size_layer,
    negative_size_layer,
    overflowing_numbers_layer,
    overflowing_size_layer,
    pax_length_layer,
    sparse_claim_layer,
    write,
)
from .expect import Case, compression_only, differs, fails, mismatch, ok
from .images import gzip, sample_layer, zstd


def layer_cases() -> list[Case]:
    image = base()
    blob = image.blobs
    return [
        Case(
            "layer-entry-names-escape-nul-utf8",
            lazily(lambda: image_with_layer(hostile_names_layer())),
            ok(),
            ok(),
            differs(),
        ),
        Case(
            "layer-member-size-beyond-layer",
            lazily(lambda: image_with_layer(long_header_size_layer())),
            mismatch("cannot be read", "truncated"),
            fails(TarError, "truncated", "offset"),
            differs("incomplete"),
        ),
        Case(
            "layer-negative-size",
            lazily(lambda: image_with_layer(negative_size_layer())),
            mismatch("cannot be read", "negative"),
            fails(TarError, "negative", "offset"),
            differs("incomplete"),
        ),
        Case(
            "layer-overflowing-number",
            lazily(lambda: image_with_layer(overflowing_numbers_layer())),
            mismatch("cannot be read", "out of range"),
            fails(TarError, "out of range", "offset"),
            differs("incomplete"),
        ),
        Case(
            "layer-overflowing-size",
            lazily(lambda: image_with_layer(overflowing_size_layer())),
            mismatch("cannot be read", "--max-uncompressed"),
            fails(LimitExceededError, "--max-uncompressed"),
            differs("incomplete"),
        ),
        Case(
            "layer-pax-length-beyond-header",
            lazily(lambda: image_with_layer(pax_length_layer())),
            mismatch("cannot be read", "pax record length"),
            fails(TarError, "pax record length", "offset"),
            differs("incomplete"),
        ),
        Case(
            "layer-pax-record-over-limit",
            lambda d: write(
                d,
                "image.tar",
                image_with_layer(
                    pax_header([(b"comment", b"c" * 5000)]) + member(b"f", b"1") + end()
                ).archive(),
            ),
            mismatch("cannot be read", "--max-pax-record"),
            fails(LimitExceededError, "--max-pax-record"),
            differs("incomplete"),
            ("--max-pax-record", "4096"),
        ),
        Case(
            "layer-long-name-over-limit",
            lambda d: write(
                d,
                "image.tar",
                image_with_layer(gnu_long(b"n" * 70_000) + member(b"f", b"1") + end()).archive(),
            ),
            mismatch("cannot be read", "--max-long-name"),
            fails(LimitExceededError, "--max-long-name"),
            differs("incomplete"),
        ),
        Case(
            "layer-sparse-claims-a-petabyte",
            lazily(lambda: image_with_layer(sparse_claim_layer(1 << 50))),
            mismatch("cannot be read", "--max-uncompressed"),
            fails(LimitExceededError, "--max-uncompressed"),
            differs("incomplete"),
        ),
        Case(
            "layer-sparse-claims-60-gib",
            lazily(lambda: image_with_layer(sparse_claim_layer(60 << 30))),
            mismatch("cannot be read", "--max-ratio"),
            fails(LimitExceededError, "--max-ratio"),
            differs("incomplete"),
        ),
        Case(
            "layer-corrupt-gzip",
            lambda d: write(
                d, "image.tar", image_with_blob(image, 1, corrupt(blob[image.layers[1]])).archive()
            ),
            mismatch("cannot be read", "gzip"),
            fails(CompressionError, "gzip"),
            compression_only(),
        ),
        Case(
            "layer-corrupt-zstd",
            lambda d: write(
                d,
                "image.tar",
                image_with_blob(image, 1, corrupt(zstd(sample_layer(1, variant=3)))).archive(),
            ),
            mismatch("cannot be read", "zstd"),
            fails(CompressionError, "zstd"),
            compression_only(),
        ),
        Case(
            "layer-truncated-gzip",
            lambda d: write(
                d, "image.tar", image_with_blob(image, 1, blob[image.layers[1]][:-100]).archive()
            ),
            mismatch("cannot be read", "truncated gzip"),
            fails(CompressionError, "truncated gzip"),
            compression_only(),
        ),
        Case(
            "streamed-archive-corrupt-layer",
            lambda d: write(
                d,
                "image.tar.gz",
                gzip(image_with_blob(image, 1, corrupt(blob[image.layers[1]] * 300)).archive()),
            ),
            mismatch("cannot be read", "gzip", "offset"),
            fails(CompressionError, "gzip", "offset"),
            compression_only(),
        ),
        Case(
            "streamed-archive-zstd-bomb-layer",
            lambda d: write(
                d,
                "image.tar.gz",
                gzip(image_with_blob(image, 1, bombs.zstd_bomb(40 << 30)).archive()),
            ),
            mismatch("cannot be read", "--max-ratio"),
            fails(LimitExceededError, "--max-ratio"),
            compression_only(),
        ),
        Case(
            "layer-gzip-bomb",
            lambda d: write(
                d, "image.tar", image_with_blob(image, 1, bombs.gzip_bomb(20 << 30)).archive()
            ),
            mismatch("cannot be read", "--max-ratio"),
            fails(LimitExceededError, "--max-ratio"),
            compression_only(),
        ),
        Case(
            "layer-zstd-bomb",
            lambda d: write(
                d, "image.tar", image_with_blob(image, 1, bombs.zstd_bomb(40 << 30)).archive()
            ),
            mismatch("cannot be read", "--max-ratio"),
            fails(LimitExceededError, "--max-ratio"),
            compression_only(),
        ),
        Case(
            "layer-zstd-bomb-under-ratio-option",
            lambda d: write(
                d, "image.tar", image_with_blob(image, 1, bombs.zstd_bomb(40 << 30)).archive()
            ),
            mismatch("cannot be read", "--max-uncompressed"),
            fails(LimitExceededError, "--max-uncompressed"),
            compression_only(),
            ("--max-ratio", "100000000", "--max-uncompressed", str(256 << 20)),
        ),
        Case(
            "layer-zstd-huge-window",
            lambda d: write(
                d, "image.tar", image_with_blob(image, 1, bombs.zstd_huge_window()).archive()
            ),
            mismatch("cannot be read", "--max-zstd-window"),
            fails(LimitExceededError, "--max-zstd-window"),
            compression_only(),
        ),
        Case(
            "layer-many-entries-over-limit",
            lambda d: write(
                d,
                "image.tar",
                image_with_blob(image, 1, bombs.many_entries_zstd(60_000)).archive(),
            ),
            mismatch("cannot be read", "--max-entries"),
            fails(LimitExceededError, "--max-entries"),
            compression_only(),
            ("--max-entries", "20000"),
        ),
        Case(
            "outer-gzip-bomb",
            lambda d: write(d, "image.tar.gz", bombs.gzip_bomb(20 << 30)),
            fails(LimitExceededError, "--max-ratio"),
            fails(LimitExceededError, "--max-ratio"),
            fails(LimitExceededError, "--max-ratio"),
        ),
        Case(
            "outer-zstd-bomb",
            lambda d: write(d, "image.tar.zst", bombs.zstd_bomb(40 << 30)),
            fails(LimitExceededError, "--max-ratio"),
            fails(LimitExceededError, "--max-ratio"),
            fails(LimitExceededError, "--max-ratio"),
        ),
        Case(
            "outer-zstd-huge-window",
            lambda d: write(d, "image.tar.zst", bombs.zstd_huge_window()),
            fails(LimitExceededError, "--max-zstd-window"),
            fails(LimitExceededError, "--max-zstd-window"),
            fails(LimitExceededError, "--max-zstd-window"),
        ),
        Case(
            "outer-many-entries-over-limit",
            lambda d: write(d, "image.tar.zst", bombs.many_entries_zstd(60_000)),
            fails(LimitExceededError, "--max-entries"),
            fails(LimitExceededError, "--max-entries"),
            fails(LimitExceededError, "--max-entries"),
            ("--max-entries", "20000"),
        ),
    ]
