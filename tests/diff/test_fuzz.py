"""Property tests: on any bytes, and on mutations of valid samples, `explain_content` returns
findings (never raises), is deterministic, and uses only known cause codes."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocidiff.diff.content import Cause, ContentFinding, explain_content

from .samples import (
    apk_installed,
    compile_pyc,
    dpkg_status,
    gzipped,
    make_tar,
    make_zip,
    package_json,
    python_metadata,
)

CODES = {cause.value for cause in Cause}
PATHS = [
    "m.pyc",
    "var/lib/dpkg/status",
    "lib/apk/db/installed",
    "sp/a-1.0.dist-info/METADATA",
    "node_modules/a/package.json",
    "a.gz",
    "a.zip",
    "a.tar",
    "notes.txt",
    "data.json",
    "blob",
]
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@cache
def valid_samples() -> list[tuple[str, bytes]]:
    with tempfile.TemporaryDirectory() as tmp:
        pyc = compile_pyc(Path(tmp))
    entries = [("a/b.txt", b"alpha\n2024-01-01T00:00:00Z\n"), ("a/c.pyc", pyc[:40])]
    return [
        ("m.pyc", pyc),
        ("var/lib/dpkg/status", dpkg_status([("bash", "5.2"), ("zlib", "1.3")])),
        ("lib/apk/db/installed", apk_installed([("musl", "1.2"), ("busybox", "1.36")])),
        ("sp/a-1.0.dist-info/METADATA", python_metadata("a", "1.0", ("b>=1",))),
        ("node_modules/a/package.json", package_json("a", "1.0.0", {"b": "^1"})),
        ("a.tar.gz", gzipped(make_tar(entries), mtime=7)),
        ("a.zip", make_zip(entries)),
        ("a.tar", make_tar(entries)),
        ("notes.txt", b"one\ntwo 1700000000\nthree\n"),
    ]


def check(path: str, old: bytes, new: bytes) -> None:
    findings = explain_content(path, old, new)
    assert findings == explain_content(path, old, new)
    assert isinstance(findings, tuple)
    if old == new:
        assert findings == ()
        return
    assert findings
    for finding in findings:
        assert isinstance(finding, ContentFinding)
        assert finding.cause in CODES
        assert finding.detail and "\n" not in finding.detail
        assert all(len(change) == 3 for change in finding.changes)


@FAST
@given(path=st.sampled_from(PATHS), old=st.binary(max_size=600), new=st.binary(max_size=600))
def test_random_bytes_never_raise(path: str, old: bytes, new: bytes) -> None:
    check(path, old, new)


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, value) edits: overwrite a byte, delete one, insert one, truncate."""
    out = bytearray(data)
    for kind, position, value in edits:
        if not out:
            out.append(value)
            continue
        at = position % len(out)
        if kind == 0:
            out[at] = value
        elif kind == 1:
            del out[at]
        elif kind == 2:
            out.insert(at, value)
        else:
            del out[at:]
    return bytes(out)


EDITS = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6
)


@FAST
@given(sample=st.integers(0, 8), old_edits=EDITS, new_edits=EDITS, swap_path=st.booleans())
def test_mutated_samples_never_raise(
    sample: int,
    old_edits: list[tuple[int, int, int]],
    new_edits: list[tuple[int, int, int]],
    swap_path: bool,
) -> None:
    path, data = valid_samples()[sample]
    if swap_path:  # the format named by the path and the bytes disagree
        path = PATHS[sample % len(PATHS)]
    check(path, mutate(data, old_edits), mutate(data, new_edits))
