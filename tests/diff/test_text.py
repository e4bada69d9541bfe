"""Text: order-only and timestamp-only differences, and the bounded unified diff."""

from __future__ import annotations

import pytest

from ocidiff.diff import text
from ocidiff.diff.content import explain_content
from ocidiff.diff.text import mask_timestamps, unified_diff

RECORD = b"".join(b"pkg/mod%d.py,sha256=abc%d,%d\n" % (i, i, i * 10) for i in range(30))


def causes(path: str, old: bytes, new: bytes) -> list[str]:
    return [f.cause for f in explain_content(path, old, new)]


def test_reordered_record_is_content_order() -> None:
    reordered = b"".join(sorted(RECORD.splitlines(keepends=True), reverse=True))
    findings = explain_content("pkg-1.0.dist-info/RECORD", RECORD, reordered)
    assert [(f.cause, f.detail) for f in findings] == [
        ("content-order", "the same 30 lines in another order")
    ]


def test_reordered_lines_without_a_final_newline() -> None:
    assert causes("files.txt", b"a\nb\nc", b"c\nb\na") == ["content-order"]


def test_final_newline_and_line_endings() -> None:
    findings = explain_content("a.txt", b"a\nb", b"a\nb\n")
    assert findings[0].detail == "only the newline at the end of the file differs"
    findings = explain_content("a.txt", b"a\nb\n", b"a\r\nb\r\n")
    assert findings[0].detail == "line endings differ (LF -> CRLF)"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"Generated at 2024-05-01T10:00:00Z", b"Generated at 2024-05-02T11:30:00Z"),
        (b"built 2024-05-01 10:00:00.123+02:00 ok", b"built 2024-06-01 09:00:00.999+02:00 ok"),
        (b"/* Mon Jan  1 00:00:00 2024 */", b"/* Tue Jan  2 13:14:15 2024 */"),
        (b"date: Mon Jan  1 00:00:00 UTC 2024", b"date: Fri Mar 15 08:00:00 UTC 2024"),
        (b"Date: Mon, 01 Jan 2024 00:00:00 +0000", b"Date: Wed, 03 Jan 2024 10:00:00 +0000"),
        (b'#define BUILD_DATE "May  1 2024"', b'#define BUILD_DATE "Jun 12 2024"'),
        (b"compiled at 10:00:00", b"compiled at 23:59:59"),
        (b"SOURCE_DATE_EPOCH=1700000000", b"SOURCE_DATE_EPOCH=1715000000"),
        (b'{"ts": 1700000000123}', b'{"ts": 1700000999123}'),
    ],
)
def test_lines_differing_only_by_a_timestamp(before: bytes, after: bytes) -> None:
    old = b"header\n" + before + b"\nbody\n"
    new = b"header\n" + after + b"\nbody\n"
    findings = explain_content("gen.h", old, new)
    assert [f.cause for f in findings] == ["embedded-timestamp"], findings
    assert findings[0].changes and findings[0].changes[0][0] == "line 2"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"version = 1.2.3", b"version = 1.2.4"),
        (b"port 80:80", b"port 81:81"),  # a clock needs seconds
        (b"size 123456789", b"size 123456780"),  # nine digits is not an epoch
        (b"id 9999999999", b"id 9999999990"),  # nor is a ten-digit number after 2033
    ],
)
def test_non_timestamps_are_content(before: bytes, after: bytes) -> None:
    assert causes("a.txt", b"x\n" + before + b"\n", b"x\n" + after + b"\n") == ["content"]


def test_timestamp_plus_a_real_change() -> None:
    old = b"# Generated 2024-05-01T10:00:00Z\nvalue = 1\n"
    new = b"# Generated 2024-05-02T10:00:00Z\nvalue = 2\n"
    findings = explain_content("config.py", old, new)
    assert [f.cause for f in findings] == ["embedded-timestamp", "content"]
    assert findings[1].detail == (
        "1 other line removed and 1 added; first removed: line 2 'value = 1'"
    )


def test_timestamp_and_reordering() -> None:
    old = b"stamp 2024-01-01\na\nb\n"
    new = b"b\na\nstamp 2024-02-02\n"
    assert causes("list.txt", old, new) == ["embedded-timestamp", "content-order"]


def test_plain_change_counts_lines() -> None:
    findings = explain_content("a.txt", b"a\nb\nc\n", b"a\nB\nc\nd\n")
    assert findings[0].detail == "1 line removed and 2 added; first removed: line 2 'b'"


def test_json_formatting_and_key_order() -> None:
    assert explain_content("a.json", b'{"a": 1, "b": [1.0]}', b'{"a":1,"b":[1.0]}')[0].detail == (
        "the JSON documents are equal; only formatting (whitespace, escapes) differs"
    )
    assert causes("a.json", b'{"a": 1, "b": 2}', b'{"b": 2, "a": 1}') == ["content-order"]
    assert causes("a.json", b'{"a": 1}', b'{"a": 1.0}') == ["content"]  # literals differ


def test_mask_timestamps() -> None:
    assert mask_timestamps(b"at 2024-05-01T10:00:00Z and 1700000000") == (
        b"at <timestamp> and <timestamp>"
    )


def test_unified_diff_is_bounded_and_marked() -> None:
    old = b"".join(b"line %d\n" % i for i in range(1000))
    new = old.replace(b"line 5\n", b"LINE 5\n").replace(b"line 900\n", b"")
    diff = unified_diff(old, new, path="/etc/app.conf", max_lines=8)
    assert diff is not None
    lines = diff.splitlines()
    assert lines[:3] == ["--- a/etc/app.conf", "+++ b/etc/app.conf", "@@ -3,7 +3,7 @@"]
    assert len(lines) == 9 and lines[-1].startswith("... ") and lines[-1].endswith(" more lines")


def test_unified_diff_binary_and_control_characters() -> None:
    assert unified_diff(b"\0binary", b"\0other", path="x") is None
    diff = unified_diff(b"a\n", b"\x1b[31mred\n", path="x")
    assert diff is not None and "\x1b" not in diff and "\\x1b[31mred" in diff


def test_unified_diff_falls_back_to_a_summary_for_large_inputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(text, "DIFF_MAX_LINES", 50)
    old = b"".join(b"row %d\n" % i for i in range(100))
    new = old.replace(b"row 10\n", b"row ten\n") + b"row extra\n"
    diff = unified_diff(old, new, path="big.csv")
    assert diff is not None
    assert diff.splitlines()[2:] == [
        "@@ too large for a line diff (100 and 101 lines): 1 line removed, 2 added @@",
        "-row 10",
        "+row ten",
        "+row extra",
    ]


def test_binary_fallback_counts_bytes() -> None:
    findings = explain_content("lib.so", b"\0\1\2\3\4\5", b"\0\x09\2\3\7\5")
    assert findings[0].detail == "2 of 6 bytes differ in 2 ranges, the first at offset 1"
    findings = explain_content("lib.so", b"\0abcdef", b"\0abXYZcdef")
    assert findings[0].detail == "size 7 -> 10 bytes; the first 3 and the last 4 bytes are equal"
