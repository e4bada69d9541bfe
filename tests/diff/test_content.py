"""The entry point: registry order, degrading, clean-up, and the cause-code contract."""

from __future__ import annotations

import io
import tarfile

from ocidiff.diff.causes import ALL_CODES
from ocidiff.diff.content import (
    CONTENT_EXPLAINERS,
    LEAF_EXPLAINERS,
    Cause,
    ContentExplainer,
    ContentFinding,
    explain_content,
)
from ocidiff.diff.findings import ContentFormatError

from .samples import gzipped, make_tar, make_zip


def test_every_cause_code_is_in_the_report_contract() -> None:
    assert {cause.value for cause in Cause} <= set(ALL_CODES)


def test_equal_contents_have_no_findings() -> None:
    assert explain_content("a.bin", b"same", b"same") == ()


def test_registry_order_and_leaf_registry() -> None:
    assert [e.name for e in CONTENT_EXPLAINERS] == [
        ".pyc", "package database", "gzip", "zip", "tar", "text", "content",
    ]
    assert {e.name for e in LEAF_EXPLAINERS}.isdisjoint({"gzip", "zip", "tar"})


def test_format_is_chosen_by_magic_when_the_name_says_nothing() -> None:
    tar_old, tar_new = make_tar([("a", b"1")], mtime=1), make_tar([("a", b"1")], mtime=2)
    assert explain_content("blob", gzipped(b"x", mtime=1), gzipped(b"x", mtime=2))[0].detail == (
        "gzip header MTIME 1 -> 2"
    )
    assert explain_content("blob", tar_old, tar_new)[0].cause == "embedded-timestamp"
    zip_old = make_zip([("a", b"1")], date_time=(2020, 1, 1, 0, 0, 0))
    zip_new = make_zip([("a", b"1")], date_time=(2021, 1, 1, 0, 0, 0))
    assert explain_content("blob", zip_old, zip_new)[0].cause == "embedded-timestamp"


def test_first_applicable_explainer_wins_and_errors_degrade() -> None:
    def refuse(path: str, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
        raise ContentFormatError("bad magic", offset=3)

    def nothing(path: str, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
        return ()

    always = lambda path, old, new: True  # noqa: E731
    findings = explain_content(
        "x", b"abcd", b"abce", explainers=(ContentExplainer("widget", always, refuse),)
    )
    assert findings == (
        ContentFinding(
            "content",
            "widget could not be parsed (offset 3: bad magic); "
            "1 of 4 bytes differ in 1 range, the first at offset 3",
        ),
    )
    findings = explain_content(
        "x", b"ab", b"ac", explainers=(ContentExplainer("widget", always, nothing),)
    )
    assert findings[0].detail.startswith("the widget differs outside the fields compared")
    never = ContentExplainer("never", lambda path, old, new: False, refuse)
    assert explain_content("x", b"a", b"b", explainers=(never,))[0].cause == "content"


def test_findings_are_plain_one_line_and_serialisable() -> None:
    # tarfile decodes undecodable names with surrogateescape; orjson refuses lone surrogates
    def tar_with(name: bytes, mtime: int) -> bytes:
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as archive:
            info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
            info.mtime = mtime
            archive.addfile(info, io.BytesIO(b""))
        return out.getvalue()

    name = b"bad\xffname\nline"
    findings = explain_content("t.tar", tar_with(name, 1), tar_with(name, 2))
    assert findings[0].cause == "embedded-timestamp"
    assert type(findings[0].cause) is str
    assert "\n" not in findings[0].detail
    for what, before, after in findings[0].changes:
        for value in (what, before, after):
            value.encode("utf-8")  # no lone surrogates left


def test_deterministic() -> None:
    old = make_zip([("a", b"1"), ("b", b"2")], date_time=(2020, 1, 1, 0, 0, 0))
    new = make_zip([("b", b"3"), ("a", b"1"), ("c", b"")], date_time=(2021, 1, 1, 0, 0, 0))
    assert explain_content("a.zip", old, new) == explain_content("a.zip", old, new)
