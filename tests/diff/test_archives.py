"""gzip, zip and tar explainers on archives built with the standard library (and one real layer)."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from ocidiff.diff import archives
from ocidiff.diff.content import explain_content
from ocidiff.diff.findings import ContentFinding

from .samples import (
    alpine_layer,
    compile_pyc,
    gzipped,
    make_tar,
    make_zip,
    python_metadata,
    ut_extra,
)

TEXT = b"".join(b"line %d of a generated file\n" % i for i in range(200))


def causes(findings: tuple[ContentFinding, ...]) -> list[str]:
    return [f.cause for f in findings]


# --- gzip ---------------------------------------------------------------------------------------


def test_gzip_mtime_only() -> None:
    findings = explain_content("doc/changelog.gz", gzipped(TEXT, mtime=1), gzipped(TEXT, mtime=2))
    assert findings == (
        ContentFinding("embedded-timestamp", "gzip header MTIME 1 -> 2", (("MTIME", "1", "2"),)),
    )


def test_gzip_file_name_is_an_embedded_path() -> None:
    old = gzipped(TEXT, filename="/tmp/build/tmpab12.txt")  # gzip keeps the basename
    new = gzipped(TEXT, filename="/tmp/build/tmpzz99.txt")
    findings = explain_content("changelog.gz", old, new)
    assert causes(findings) == ["embedded-path"]
    assert findings[0].detail.startswith("gzip header FNAME")


def test_gzip_os_and_level_are_compression_not_time() -> None:
    old = gzip.compress(TEXT, compresslevel=9, mtime=0)
    new = gzip.compress(TEXT, compresslevel=1, mtime=0)
    findings = explain_content("a.gz", old, new)
    assert causes(findings) == ["compression"]
    assert "XFL 2 -> 4" in findings[0].detail
    other_os = old[:9] + b"\x0b" + old[10:]
    assert explain_content("a.gz", old, other_os)[0].detail == f"gzip header OS {old[9]} -> 11"


def test_gzip_stream_only_difference_is_compression() -> None:
    old = gzip.compress(TEXT, compresslevel=2, mtime=0)
    new = gzip.compress(TEXT, compresslevel=3, mtime=0)
    assert old != new and old[:10] == new[:10]
    findings = explain_content("a.gz", old, new)
    assert causes(findings) == ["compression"]
    assert "decompressed content is equal" in findings[0].detail


def test_gzip_payload_change_is_explained_one_level_down() -> None:
    changed = TEXT.replace(b"line 7 ", b"LINE 7 ")
    findings = explain_content("a.txt.gz", gzipped(TEXT, mtime=1), gzipped(changed, mtime=2))
    assert causes(findings) == ["embedded-timestamp", "content"]
    assert findings[1].detail.startswith("decompressed: 1 other line removed") or findings[
        1
    ].detail.startswith("decompressed: 1 line removed")


def test_tgz_with_member_mtimes_only_is_an_embedded_timestamp() -> None:
    entries = [("app/a.txt", b"a"), ("app/b.txt", b"b")]
    old = gzipped(make_tar(entries, mtime=1_000), mtime=5)
    new = gzipped(make_tar(entries, mtime=2_000), mtime=6)
    findings = explain_content("src.tgz", old, new)
    assert causes(findings) == ["embedded-timestamp", "embedded-timestamp"]
    assert "decompressed: timestamps differ in 2 tar members" in findings[1].detail


def test_tgz_with_a_pyc_inside_explains_the_pyc(tmp_path: Path) -> None:
    old = make_tar([("m.pyc", compile_pyc(tmp_path, mtime=10, tag="a"))], mtime=0)
    new = make_tar([("m.pyc", compile_pyc(tmp_path, mtime=20, tag="b"))], mtime=0)
    findings = explain_content("x.tar.gz", gzipped(old), gzipped(new))
    assert causes(findings) == ["embedded-timestamp"]
    assert ".pyc header mtime 10 -> 20" in findings[0].detail
    assert findings[0].changes == (("m.pyc: mtime", "10", "20"),)


def test_malformed_gzip_degrades() -> None:
    stream = gzipped(TEXT)
    for old, new in [(stream[:20], stream[:25]), (b"\x1f\x8b", b"\x1f\x8b\x08"), (stream, b"x")]:
        findings = explain_content("a.gz", old, new)
        assert causes(findings) == ["content"]
        assert "gzip could not be parsed" in findings[0].detail


def test_gzip_bomb_stops_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "MAX_DECOMPRESSED", 1 << 20)
    old, new = gzipped(bytes(2 << 20)), gzipped(bytes(2 << 20) + b"x")
    findings = explain_content("bomb.gz", old, new)
    assert causes(findings) == ["content"]
    assert "gzip not compared" in findings[0].detail
    assert "1 MiB" in findings[0].detail


# --- zip ----------------------------------------------------------------------------------------

ENTRIES = [("pkg/__init__.py", b"x = 1\n"), ("pkg/data.txt", TEXT)]


def test_zip_dos_times_only() -> None:
    old = make_zip(ENTRIES, date_time=(2020, 1, 1, 0, 0, 0))
    new = make_zip(ENTRIES, date_time=(2024, 5, 1, 10, 0, 0))
    findings = explain_content("dist/pkg.whl", old, new)
    assert causes(findings) == ["embedded-timestamp"]
    assert findings[0].detail.startswith("timestamps differ in 2 zip entries")
    assert findings[0].changes[0] == (
        "pkg/__init__.py: date_time", "2020-01-01 00:00:00", "2024-05-01 10:00:00"
    )


def test_zip_extended_timestamp_only() -> None:
    old = make_zip(ENTRIES, extra=ut_extra(1_700_000_000))
    new = make_zip(ENTRIES, extra=ut_extra(1_700_000_999))
    findings = explain_content("lib.jar", old, new)
    assert causes(findings) == ["embedded-timestamp"]
    assert ("pkg/data.txt: UT mtime", "1700000000", "1700000999") in findings[0].changes


def test_zip_order_only() -> None:
    findings = explain_content("a.zip", make_zip(ENTRIES), make_zip(ENTRIES[::-1]))
    assert findings == (ContentFinding("content-order", "the same 2 zip entries in another order"),)


def test_zip_member_change_names_the_member() -> None:
    changed = [ENTRIES[0], ("pkg/data.txt", TEXT + b"one more line\n")]
    findings = explain_content("a.zip", make_zip(ENTRIES), make_zip(changed))
    assert causes(findings) == ["content"]
    assert findings[0].detail.startswith("zip entry 'pkg/data.txt': ")


def test_zip_added_entry_is_content() -> None:
    findings = explain_content("a.zip", make_zip(ENTRIES), make_zip([*ENTRIES, ("new.txt", b"")]))
    assert causes(findings) == ["content"]
    assert findings[0].detail == "1 zip entry added ('new.txt')"


def test_wheel_members_are_explained_by_the_leaf_explainers() -> None:
    def wheel(version: str, record: bytes) -> bytes:
        return make_zip(
            [
                ("demo/__init__.py", b""),
                ("demo.dist-info/METADATA", python_metadata("demo", version)),
                ("demo.dist-info/RECORD", record),
            ]
        )

    record = b"demo/__init__.py,,\ndemo/x.py,,\ndemo/y.py,,\n"
    reordered = b"demo/y.py,,\ndemo/__init__.py,,\ndemo/x.py,,\n"
    findings = explain_content("demo.whl", wheel("1.0", record), wheel("1.1", reordered))
    assert causes(findings) == ["content-order", "dependency-change"]
    assert findings[0].detail == (
        "zip entry 'demo.dist-info/RECORD': the same 3 lines in another order"
    )
    assert findings[1].changes == (("demo", "1.0", "1.1"),)


def test_zip_mode_and_storage_changes() -> None:
    def with_mode(mode: int, method: int) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            info = zipfile.ZipInfo("run.sh", (2020, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = mode << 16
            info.compress_type = method
            archive.writestr(info, TEXT)
        return out.getvalue()

    findings = explain_content(
        "a.zip", with_mode(0o100644, zipfile.ZIP_DEFLATED), with_mode(0o100755, zipfile.ZIP_STORED)
    )
    assert causes(findings) == ["compression", "permissions"]
    assert "0644 -> 0755" in findings[1].detail


def test_zip_inside_zip_is_compared_as_bytes() -> None:
    inner_old = make_zip(ENTRIES, date_time=(2020, 1, 1, 0, 0, 0))
    inner_new = make_zip(ENTRIES, date_time=(2021, 1, 1, 0, 0, 0))
    old = make_zip([("lib/inner.jar", inner_old)])
    new = make_zip([("lib/inner.jar", inner_new)])
    findings = explain_content("app.war", old, new)
    assert causes(findings) == ["content"]  # recursion stops one level down
    assert "bytes differ" in findings[0].detail


def test_zip_with_bzip2_members_is_not_decompressed() -> None:
    old = make_zip(ENTRIES, method=zipfile.ZIP_BZIP2)
    new = make_zip([ENTRIES[0], ("pkg/data.txt", b"other")], method=zipfile.ZIP_BZIP2)
    findings = explain_content("a.zip", old, new)
    assert causes(findings) == ["content"]
    assert "zip not compared" in findings[0].detail and "method 12" in findings[0].detail


def test_zip_member_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "MAX_MEMBERS", 3)
    many = [(f"f{i}", b"") for i in range(5)]
    findings = explain_content("a.zip", make_zip(many), make_zip(many[::-1]))
    assert "more than 3 zip entries" in findings[0].detail


def test_malformed_zip_degrades() -> None:
    good = make_zip(ENTRIES, method=zipfile.ZIP_STORED)
    for old, new in [(good[:30], good[:40]), (good, good[:-10])]:
        findings = explain_content("a.zip", old, new)
        assert causes(findings) == ["content"], findings
        assert "zip could not be parsed" in findings[0].detail
    # Data that no longer matches its CRC: when the CRCs say "equal", the bytes still differ.
    corrupt = good.replace(b"line 1 of", b"LINE 1 of")
    findings = explain_content("a.zip", good, corrupt)
    assert causes(findings) == ["content"]
    assert "outside the compared fields" in findings[0].detail
    # ...and when the member is read, zipfile's CRC check fails: degraded, not raised.
    changed = make_zip([ENTRIES[0], ("pkg/data.txt", b"other")], method=zipfile.ZIP_STORED)
    findings = explain_content("a.zip", corrupt, changed)
    assert "zip could not be parsed" in findings[0].detail and "CRC" in findings[0].detail


# --- tar ----------------------------------------------------------------------------------------


def test_tar_mtimes_only() -> None:
    findings = explain_content("a.tar", make_tar(ENTRIES, mtime=1), make_tar(ENTRIES, mtime=2))
    assert causes(findings) == ["embedded-timestamp"]
    assert findings[0].detail == (
        "timestamps differ in 2 tar members, e.g. 'pkg/__init__.py' mtime 1 -> 2"
    )


def test_tar_order_only() -> None:
    findings = explain_content("a.tar", make_tar(ENTRIES), make_tar(ENTRIES[::-1]))
    assert causes(findings) == ["content-order"]


def test_tar_modes_and_contents() -> None:
    changed = [ENTRIES[0], ("pkg/data.txt", TEXT.replace(b"line 3 ", b"line three "))]
    old, new = make_tar(ENTRIES, mode=0o644), make_tar(changed, mode=0o600)
    findings = explain_content("a.tar", old, new)
    assert causes(findings) == ["permissions", "content"]
    assert "tar member 'pkg/data.txt'" in findings[1].detail


def test_tar_header_encoding_only() -> None:
    old = make_tar(ENTRIES, fmt=tarfile.GNU_FORMAT)
    new = make_tar(ENTRIES, fmt=tarfile.USTAR_FORMAT)
    findings = explain_content("a.tar", old, new)
    assert causes(findings) == ["tar-encoding"]


def test_malformed_tar_degrades() -> None:
    good = make_tar(ENTRIES)
    bad_checksum = good[:148] + b"9999999\0" + good[156:]
    second = good.index(b"pkg/data.txt") - 0  # the second member's header (PAX: after its record)
    damaged_second = good[:second] + b"\xff" * 100 + good[second + 100 :]
    for old, new in [
        (good, bad_checksum),
        (good[:600], good[:700]),
        (good, b"x" * 1024),
        (good, damaged_second),
    ]:
        findings = explain_content("a.tar", old, new)
        assert causes(findings) == ["content"], findings
        assert "tar could not be parsed" in findings[0].detail


def test_real_alpine_layer_with_a_package_bump_and_new_mtimes() -> None:
    layer = alpine_layer()
    rewritten = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(layer)) as source,
        tarfile.open(fileobj=rewritten, mode="w", format=tarfile.PAX_FORMAT) as target,
    ):
        for info in source:
            data = source.extractfile(info).read() if info.isreg() else b""  # type: ignore[union-attr]
            if info.name == "lib/apk/db/installed":
                data = data.replace(b"P:musl\nV:1.1.22-r3", b"P:musl\nV:1.1.22-r4")
                info.size = len(data)
            info.mtime += 3600
            target.addfile(info, io.BytesIO(data))
    findings = explain_content("layer.tar", layer, rewritten.getvalue())
    assert causes(findings) == ["embedded-timestamp", "dependency-change"]
    assert "482 tar members" in findings[0].detail
    assert findings[1].changes == (("musl", "1.1.22-r3", "1.1.22-r4"),)
    assert findings[1].detail.startswith("tar member 'lib/apk/db/installed': 1 package changed")
