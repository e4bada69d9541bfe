"""Hand-built archives covering every header feature; each is valid and tarfile reads it too."""

from __future__ import annotations

from .tarbuild import (
    end,
    gnu_long,
    header,
    member,
    old_gnu_sparse,
    pax_header,
    pax_sparse,
    sparse_content,
)

LONG = b"deep/" * 40 + b"name.txt"  # 208 bytes: needs PAX or GNU long names


def _sparse_members() -> bytes:
    regions = [(0, 700), (5000, 1), (70_000, 4096), (200_000, 0)]
    out = b""
    for version in ("0.0", "0.1", "1.0"):
        content, stored = sparse_content(regions, 200_000, seed=len(out))
        out += pax_sparse(version, b"sparse-" + version.encode(), regions, len(content), stored)
    many = [(i * 3000, 100 + i) for i in range(60)]  # two old GNU extension blocks
    content, stored = sparse_content(many, 60 * 3000 + 7)
    out += old_gnu_sparse(b"old-sparse-ext", many, len(content), stored)
    empty_map: list[tuple[int, int]] = []
    out += old_gnu_sparse(b"all-hole", empty_map, 3 << 20, b"")
    return out


def built_archives() -> dict[str, bytes]:
    """id -> archive bytes."""
    return {
        "ustar-basic": (
            member(b"dir/", typeflag=b"5", mode=0o755)
            + member(b"dir/file", b"hello\n" * 100)
            + member(b"dir/empty")
            + member(b"dir/block", b"x" * 512)
            + member(b"name", b"y", prefix=b"a/very/long/prefix")
            + end()
        ),
        "v7": (
            member(b"olddir/", typeflag=b"\x00", fmt="v7")
            + member(b"olddir/f", b"v7 data", typeflag=b"\x00", fmt="v7")
            + header(b"olddir/link", typeflag=b"1", linkname=b"olddir/f", fmt="v7")
            + end()
        ),
        "gnu-long-names": (
            gnu_long(LONG)
            + gnu_long(b"target/" * 30, typeflag=b"K")
            + header(b"truncated", typeflag=b"2", linkname=b"t", fmt="gnu")
            + gnu_long(LONG + b".2")
            + member(b"x", b"long named content", fmt="gnu")
            + end()
        ),
        "pax-x-and-g": (
            pax_header([(b"comment", b"global"), (b"uname", b"gowner")], typeflag=b"g")
            + pax_header([(b"path", LONG), (b"mtime", b"1234.5"), (b"uid", b"4294967294")])
            + member(b"short", b"pax data")
            + member(b"plain", b"under the global header only")
            + pax_header(
                [
                    (b"SCHILY.xattr.user.raw", b"\x00\x01\xff"),
                    (b"LIBARCHIVE.xattr.user.b64", b"aGVsbG8"),
                    (b"linkpath", b"target/" * 20),
                    (b"atime", b"-1.5"),
                    (b"ctime", b"1700000000.000000001"),
                ]
            )
            + header(b"link", typeflag=b"2", linkname=b"short")
            + end()
        ),
        "pax-g-empty-value": (
            pax_header([(b"uname", b"gowner"), (b"mtime", b"5.5")], typeflag=b"g")
            + member(b"owned", b"1")
            + pax_header([(b"uname", b"")], typeflag=b"g")  # POSIX: an empty value deletes it
            + member(b"restored", b"2")
            + end()
        ),
        "x-after-L": gnu_long(b"from-L")
        + pax_header([(b"path", b"from-pax")])
        + member(b"h")
        + end(),
        "two-x-headers": (
            pax_header([(b"path", b"first-x"), (b"uname", b"u1")])
            + pax_header([(b"uname", b"u2")])
            + member(b"header-name")
            + end()
        ),
        "pax-size-override": (
            pax_header([(b"size", b"1000")]) + header(b"f", size=5) + bytes(1024) + end()
        ),
        "stacked-x-L-K": (
            gnu_long(b"from-L/" * 20)
            + pax_header([(b"gname", b"stacked"), (b"mtime", b"1.25")])
            + gnu_long(b"link-from-K", typeflag=b"K")
            + header(b"h", typeflag=b"1", linkname=b"ignored")
            + end()
        ),
        "pax-g-accumulates": (
            pax_header([(b"mtime", b"5.5")], typeflag=b"g")
            + member(b"one", b"1")
            + pax_header([(b"comment", b"x")], typeflag=b"g")
            + member(b"two", b"2")
            + end()
        ),
        "base256-and-signed": (
            member(b"big-ids", b"z", uid=4294967294, gid=2097152, mtime=-1_000_000)
            + member("caf\xe9-\xff".encode("latin-1"), b"latin", signed_checksum=True)
            + end()
        ),
        "devices-and-fifo": (
            header(b"dev/null", typeflag=b"3", devmajor=1, devminor=3, mode=0o666)
            + header(b"dev/sda", typeflag=b"4", devmajor=8, devminor=0)
            + header(b"pipe", typeflag=b"6")
            + member(b"contiguous", b"c" * 700, typeflag=b"7")
            + end()
        ),
        "sparse": _sparse_members() + end(),
        "trailing-data": member(b"f", b"1") + end() + bytes(9216) + b"estargz footer" + bytes(40),
        "one-zero-block": member(b"f", b"1") + end(1),
        "no-trailer": member(b"f", b"1") + member(b"g", b"2" * 512),
        "unpadded": member(b"f", b"1") + member(b"g", b"2" * 10)[:-502],
        "only-end": end(),
        "empty": b"",
        "non-utf8": member(b"bad-\xff\xfe-name", b"q", uname=b"\xe9t\xe9", linkname=b"") + end(),
    }
