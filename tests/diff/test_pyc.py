"""The .pyc explainer on files compiled by the real compiler: header times, build paths, code."""

from __future__ import annotations

import importlib.util
import marshal
import py_compile
import struct
import time
from pathlib import Path

from ocidiff.diff.content import ContentFinding, explain_content
from ocidiff.diff.pyc import parse_pyc_header

from .samples import MODULE_SOURCE, compile_pyc

RUNNING_MAGIC = importlib.util.MAGIC_NUMBER
FOREIGN_MAGIC = (3439).to_bytes(2, "little") + b"\r\n"  # CPython 3.10


def causes(findings: tuple[ContentFinding, ...]) -> list[str]:
    return [f.cause for f in findings]


def test_header_mtime_only_is_an_embedded_timestamp(tmp_path: Path) -> None:
    old = compile_pyc(tmp_path, mtime=1_700_000_000, tag="a")
    new = compile_pyc(tmp_path, mtime=1_700_000_123, tag="b")
    findings = explain_content("app/greeter.pyc", old, new)
    assert causes(findings) == ["embedded-timestamp"]
    assert findings[0].detail == ".pyc header mtime 1700000000 -> 1700000123"
    assert findings[0].changes == (("mtime", "1700000000", "1700000123"),)


def test_pip_temp_dir_in_co_filename_is_an_embedded_path(tmp_path: Path) -> None:
    # pip builds in a random temporary directory, which ends up in every nested co_filename
    old = compile_pyc(tmp_path, dfile="/tmp/pip-req-build-a1b2c3/greeter.py", tag="a")
    new = compile_pyc(tmp_path, dfile="/tmp/pip-req-build-zz9/greeter.py", tag="b")
    findings = explain_content("site-packages/greeter.pyc", old, new)
    assert causes(findings) == ["embedded-path"]
    old_name, new_name = "/tmp/pip-req-build-a1b2c3/greeter.py", "/tmp/pip-req-build-zz9/greeter.py"
    assert findings[0].changes == (("co_filename", old_name, new_name),)
    assert "pip-req-build-a1b2c3" in findings[0].detail


def test_time_and_path_together(tmp_path: Path) -> None:
    old = compile_pyc(tmp_path, dfile="/build/1/greeter.py", mtime=1, tag="a")
    new = compile_pyc(tmp_path, dfile="/build/2/greeter.py", mtime=2, tag="b")
    assert causes(explain_content("m.pyc", old, new)) == ["embedded-timestamp", "embedded-path"]


def test_a_code_change_is_content_naming_the_function(tmp_path: Path) -> None:
    changed = MODULE_SOURCE.replace("x * x", "x + x")  # same length: the source size is equal
    old = compile_pyc(tmp_path, tag="a")
    new = compile_pyc(tmp_path, source=changed, tag="b")
    findings = explain_content("m.pyc", old, new)
    assert causes(findings) == ["content"]
    assert "<lambda>" in findings[0].detail
    assert "Greeter.greet" not in findings[0].detail


def test_a_code_change_next_to_a_path_change_keeps_both(tmp_path: Path) -> None:
    changed = MODULE_SOURCE.replace("hello", "howdy")
    old = compile_pyc(tmp_path, dfile="/a/greeter.py", tag="a")
    new = compile_pyc(tmp_path, source=changed, dfile="/b/greeter.py", tag="b")
    findings = explain_content("m.pyc", old, new)
    assert causes(findings) == ["embedded-path", "content"]
    assert "Greeter.greet" in findings[1].detail


def test_source_size_change_is_content(tmp_path: Path) -> None:
    old = compile_pyc(tmp_path, tag="a")
    new = compile_pyc(tmp_path, source=MODULE_SOURCE + "# a comment\n", tag="b")
    findings = explain_content("m.pyc", old, new)
    assert causes(findings) == ["content"]
    assert "source size" in findings[0].detail


def test_invalidation_mode_change_is_content(tmp_path: Path) -> None:
    # py_compile switches to checked-hash when SOURCE_DATE_EPOCH is set: a real build difference
    old = compile_pyc(tmp_path, tag="a")
    new = compile_pyc(tmp_path, mode=py_compile.PycInvalidationMode.CHECKED_HASH, tag="b")
    findings = explain_content("m.pyc", old, new)
    assert causes(findings) == ["content"]
    assert findings[0].detail == ".pyc invalidation mode timestamp -> checked-hash"


def test_hash_based_pycs_with_another_source_name_the_hash(tmp_path: Path) -> None:
    mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
    old = compile_pyc(tmp_path, mode=mode, tag="a")
    new = compile_pyc(tmp_path, source=MODULE_SOURCE.replace("x * x", "x - x"), mode=mode, tag="b")
    findings = explain_content("m.pyc", old, new)
    assert causes(findings) == ["content", "content"]
    assert "source hash" in findings[0].detail


def test_marshal_encoding_only_is_content_saying_the_code_is_equal(tmp_path: Path) -> None:
    pyc = compile_pyc(tmp_path)
    code = marshal.loads(pyc[16:])
    old = pyc[:16] + marshal.dumps(code, 4)
    new = pyc[:16] + marshal.dumps(code, 2)  # no reference flags, other string type codes
    assert old != new
    findings = explain_content("m.pyc", old, new)
    assert causes(findings) == ["content"]
    assert "the code is equal" in findings[0].detail


def test_another_python_version_is_compared_at_byte_level(tmp_path: Path) -> None:
    old = compile_pyc(tmp_path, dfile="/tmp/build-abc/greeter.py", tag="a")
    new = compile_pyc(tmp_path, dfile="/tmp/build-defghi/greeter.py", tag="b")
    old, new = FOREIGN_MAGIC + old[4:], FOREIGN_MAGIC + new[4:]
    findings = explain_content("m.pyc", old, new)
    assert causes(findings) == ["embedded-path"]
    assert "byte level" in findings[0].detail
    expected = ("/tmp/build-abc/greeter.py", "/tmp/build-defghi/greeter.py")
    assert findings[0].changes[0][1:] == expected


def test_other_known_python_versions_are_read_structurally(tmp_path: Path) -> None:
    # 3.12 and 3.13 marshal code objects with the 3.11 field layout; no interpreter needed
    magic312 = (3531).to_bytes(2, "little") + b"\r\n"
    old = compile_pyc(tmp_path, dfile="/tmp/build-abc/greeter.py", tag="a")
    new = compile_pyc(tmp_path, dfile="/tmp/build-defghi/greeter.py", tag="b")
    findings = explain_content("m.pyc", magic312 + old[4:], magic312 + new[4:])
    assert causes(findings) == ["embedded-path"]
    assert findings[0].detail.startswith("co_filename ")


def test_another_python_version_with_a_code_change_is_content(tmp_path: Path) -> None:
    old = compile_pyc(tmp_path, tag="a")
    new = compile_pyc(tmp_path, source=MODULE_SOURCE.replace("hello", "HELLO"), tag="b")
    findings = explain_content("m.pyc", FOREIGN_MAGIC + old[4:], FOREIGN_MAGIC + new[4:])
    assert causes(findings) == ["content"]
    assert "no code object layout known for magic 3439; byte level" in findings[0].detail


def test_different_magic_numbers_are_content(tmp_path: Path) -> None:
    pyc = compile_pyc(tmp_path)
    findings = explain_content("m.pyc", pyc, FOREIGN_MAGIC + pyc[4:])
    assert causes(findings) == ["content"]
    assert "different Python versions" in findings[0].detail


def test_older_twelve_byte_header() -> None:
    magic36 = (3379).to_bytes(2, "little") + b"\r\n"
    body = marshal.dumps(compile("x = 1", "/a.py", "exec"))
    old = magic36 + struct.pack("<II", 100, 5) + body
    new = magic36 + struct.pack("<II", 200, 5) + body
    header = parse_pyc_header(old)
    assert (header.length, header.mtime, header.source_size) == (12, 100, 5)
    assert causes(explain_content("m.pyc", old, new)) == ["embedded-timestamp"]


def test_malformed_pycs_degrade_and_say_so(tmp_path: Path) -> None:
    pyc = compile_pyc(tmp_path)
    cases = [
        (b"not a pyc", b"not a pyc either"),
        (pyc[:10], pyc[:12]),  # truncated header
        (pyc[:16] + b"\xff\xfe", pyc[:16] + b"\xff\xfd"),  # unknown marshal type codes
        (pyc[:-5], pyc[:-6]),  # truncated code object
        (RUNNING_MAGIC + b"\x08\x00\x00\x00" + bytes(8), RUNNING_MAGIC + bytes(8) + b"x"),
    ]
    for old, new in cases:
        findings = explain_content("m.pyc", old, new)
        assert findings and findings[-1].cause == "content", (old, new, findings)
    header_only = explain_content("m.pyc", b"junk", b"junk2")
    assert "could not be parsed" in header_only[0].detail


def test_hostile_marshal_counts_never_reach_the_loader() -> None:
    # a 2**31-element tuple header: marshal.loads would allocate and clear 16 GiB for it
    header = RUNNING_MAGIC + bytes(12)
    old = header + b"(\xff\xff\xff\x7f" + b"N" * 16
    new = header + b"(\xff\xff\xff\x7f" + b"N" * 17
    started = time.perf_counter()
    findings = explain_content("m.pyc", old, new)
    assert time.perf_counter() - started < 1
    assert causes(findings) == ["content"]
    assert "code could not be read" in findings[0].detail
