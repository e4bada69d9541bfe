"""Builders of real inputs for the content explainer tests: compiled .pyc files, gzip streams,
zip and tar archives, package databases. Everything is made with the standard library."""

from __future__ import annotations

import gzip
import io
import json
import os
import py_compile
import tarfile
import zipfile
from functools import cache
from pathlib import Path

from ..conftest import REAL_SAMPLES

ALPINE_SAVE = REAL_SAMPLES / "docker-save-gz-trivy" / "alpine-310.tar.gz"

MODULE_SOURCE = """\
import os


class Greeter:
    def greet(self, name):
        return f"hello {name} from {os.sep}"


square = lambda x: x * x
"""


def compile_pyc(
    tmp: Path,
    *,
    source: str = MODULE_SOURCE,
    dfile: str = "/app/greeter.py",
    mtime: int = 1_700_000_000,
    mode: py_compile.PycInvalidationMode = py_compile.PycInvalidationMode.TIMESTAMP,
    tag: str = "out",
) -> bytes:
    """Compile `source` with the real compiler, as pip or compileall would."""
    src = tmp / f"{tag}.py"
    src.write_text(source)
    os.utime(src, (mtime, mtime))
    target = tmp / f"{tag}.pyc"
    py_compile.compile(
        str(src), cfile=str(target), dfile=dfile, doraise=True, invalidation_mode=mode
    )
    return target.read_bytes()


def gzipped(data: bytes, *, mtime: int = 0, filename: str = "") -> bytes:
    """A gzip stream; with `filename`, the FNAME header field is set as gzip(1) does."""
    if not filename:
        return gzip.compress(data, mtime=mtime)
    out = io.BytesIO()
    with gzip.GzipFile(filename=filename, mode="wb", fileobj=out, mtime=mtime) as stream:
        stream.write(data)
    return out.getvalue()


def make_zip(
    entries: list[tuple[str, bytes]],
    *,
    date_time: tuple[int, int, int, int, int, int] = (2020, 1, 1, 0, 0, 0),
    extra: bytes = b"",
    method: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time)
            info.compress_type = method
            info.extra = extra
            archive.writestr(info, data)
    return out.getvalue()


def ut_extra(mtime: int) -> bytes:
    """An Info-ZIP extended timestamp (0x5455) carrying mtime only."""
    return b"UT\x05\x00\x01" + mtime.to_bytes(4, "little")


def make_tar(
    entries: list[tuple[str, bytes]],
    *,
    mtime: int = 1_700_000_000,
    mode: int = 0o644,
    fmt: int = tarfile.PAX_FORMAT,
) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            info.mode = mode
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def dpkg_status(packages: list[tuple[str, str]], *, status: str = "install ok installed") -> bytes:
    stanzas = [
        f"Package: {name}\nStatus: {status}\nPriority: optional\nArchitecture: amd64\n"
        f"Version: {version}\nDescription: the {name} package\n long description line\n"
        for name, version in packages
    ]
    return "\n".join(stanzas).encode()


def apk_installed(packages: list[tuple[str, str]]) -> bytes:
    stanzas = [
        f"C:Q1abc=\nP:{name}\nV:{version}\nA:x86_64\nT:{name} tools\nF:usr/bin\nR:{name}\n"
        for name, version in packages
    ]
    return "\n".join(stanzas).encode()


def python_metadata(name: str, version: str, requires: tuple[str, ...] = ()) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {spec}" for spec in requires]
    return ("\n".join(lines) + "\n\nA long description.\n").encode()


def package_json(name: str, version: str, dependencies: dict[str, str] | None = None) -> bytes:
    document: dict[str, object] = {"name": name, "version": version}
    if dependencies is not None:
        document["dependencies"] = dependencies
    return json.dumps(document, indent=2).encode()


@cache
def alpine_layer() -> bytes:
    """The one layer of the real alpine 3.10 docker-save sample (gunzipped, then untarred)."""
    with tarfile.open(ALPINE_SAVE) as outer:
        member = next(m for m in outer.getmembers() if m.name.endswith("/layer.tar"))
        handle = outer.extractfile(member)
        assert handle is not None
        return handle.read()


@cache
def alpine_installed() -> bytes:
    """`lib/apk/db/installed` from that layer."""
    with tarfile.open(fileobj=io.BytesIO(alpine_layer())) as layer:
        handle = layer.extractfile("lib/apk/db/installed")
        assert handle is not None
        return handle.read()
