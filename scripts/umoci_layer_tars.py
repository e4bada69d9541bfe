#!/usr/bin/env python3
"""Writes the layer tars of the umoci-built fixtures (make_real_images.sh, `umoci_stack`):
plain USTAR from Python's tarfile, so umoci adds them byte for byte.

Usage: python3 scripts/umoci_layer_tars.py hardlinks|symlinks OUT_DIR   (writes l1.tar, l2.tar...)
"""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

Member = tuple[tarfile.TarInfo, bytes | None]


def _info(path: str, kind: bytes, mode: int, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(path)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, 1700000000, linkname
    return info


def f(path: str, data: bytes) -> Member:
    info = _info(path, tarfile.REGTYPE, 0o644)
    info.size = len(data)
    return info, data


def d(path: str) -> Member:
    return _info(path, tarfile.DIRTYPE, 0o755), None


def s(path: str, target: str) -> Member:
    return _info(path, tarfile.SYMTYPE, 0o777, target), None


def h(path: str, target: str) -> Member:
    return _info(path, tarfile.LNKTYPE, 0o644, target), None


STACKS: dict[str, list[list[Member]]] = {
    # links to lower layers, then their targets rewritten or deleted
    "hardlinks": [
        [d("x"), f("x/a", b"one\n"), f("x/keep", b"keep\n"), f("x/gone", b"gone\n"),
         d("y"), f("y/t", b"tee\n"), h("y/h1", "y/t")],
        [d("x"), h("x/b", "x/a"), h("x/c", "x/keep"), h("x/d", "x/gone"), h("x/e", "x/gone"),
         d("y"), h("y/h2", "y/h1")],
        [d("x"), f("x/a", b"two!!\n"), f("x/.wh.gone", b""), d("y"), f("y/t", b"TEE\n")],
    ],
    # members whose parent directory is a symlink of a lower layer
    "symlinks": [
        [d("usr"), d("usr/lib"), f("usr/lib/a", b"a\n"), f("usr/lib/gone", b"gone\n"),
         d("usr/share"), d("usr/share/doc"), f("usr/share/doc/old", b"old\n"),
         s("lib", "usr/lib"), s("abs", "/usr/lib"), s("chain", "lib"), d("deep"),
         d("deep/er"), s("deep/er/up", "../../usr/share"), s("esc", "../../../usr"),
         s("swap", "usr/lib")],
        [f("chain/c", b"c\n"), f("deep/er/up/doc/new", b"new\n"), f("esc/lib/e", b"e\n"),
         f("abs/.wh.gone", b""), f("deep/er/up/doc/.wh..wh..opq", b""),
         h("lib/hl", "abs/a"), s("lib/rel", "a"), d("swap"), f("swap/own", b"own\n")],
    ],
}


def main(argv: list[str]) -> int:
    stack, out = STACKS[argv[0]], Path(argv[1])
    for number, members in enumerate(stack, start=1):
        with tarfile.open(out / f"l{number}.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
            for info, data in members:
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
