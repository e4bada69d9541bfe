"""The release ledger: idempotent records, check naming the levels that differ, corrupt lines
reported and never overwritten, and concurrent writers that lose nothing."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocidiff.errors import InputError
from ocidiff.gates.ledger import append_records, decode_records, read_ledger

from .samples import GATES, cli

FRESH, STALE = str(GATES / "app-fresh.tar"), str(GATES / "app-stale.tar")
FP = "sha256:" + "f" * 64


@pytest.fixture()
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "ledger.jsonl"


def _record(ledger: Path, image: str, release: str, fp: str = FP) -> int:
    result = cli("ledger", "record", image, "--release", release, "--fingerprint", fp,
                 "--ledger", str(ledger))
    return result.exit_code


def test_record_is_idempotent(ledger: Path) -> None:
    assert _record(ledger, FRESH, "1.0") == 0
    first = ledger.read_bytes()
    assert first.count(b"\n") == 1
    result = cli("ledger", "record", FRESH, "--release", "1.0", "--fingerprint", FP,
                 "--ledger", str(ledger))
    assert result.exit_code == 0 and "already recorded" in result.stdout
    assert ledger.read_bytes() == first
    record = json.loads(first)
    assert record["release"] == "1.0" and record["platform"] == "linux/amd64"
    assert record["fingerprint"] == FP and record["image"] == "app-fresh.tar"
    assert record["archive_sha256"].startswith("sha256:") and len(record["layers"]) == 5
    assert all(layer["diff_id"] for layer in record["layers"])


def test_another_image_under_a_recorded_release_is_refused(ledger: Path) -> None:
    assert _record(ledger, FRESH, "1.0") == 0
    before = ledger.read_bytes()
    result = cli("ledger", "record", STALE, "--release", "1.0", "--fingerprint", FP,
                 "--ledger", str(ledger))
    assert result.exit_code == 1 and "CONFLICT" in result.stdout
    assert ledger.read_bytes() == before


def test_check_names_the_levels_that_differ(ledger: Path) -> None:
    assert _record(ledger, FRESH, "1.0") == 0
    same = cli("ledger", "check", FRESH, "--fingerprint", FP, "--ledger", str(ledger))
    assert same.exit_code == 0 and same.stdout.startswith("PASS")
    other = cli("ledger", "check", STALE, "--fingerprint", FP, "--ledger", str(ledger),
                "--format", "json")
    assert other.exit_code == 1
    report = json.loads(other.stdout)
    assert report["verdict"] == "different-image" and report["ok"] is False
    levels = [(d["level"], d["layer"]) for d in report["comparisons"][0]["differences"]]
    # Layer 4 (compileall) differs too: the .pyc embeds the stale greet.py's hash.
    assert levels == [("manifest", None), ("config", None), ("layer", 3), ("layer", 4)]
    assert report["comparisons"][0]["differences"][2]["detail"] == "content differs (diff_id)"
    text = cli("ledger", "check", STALE, "--fingerprint", FP, "--ledger", str(ledger)).stdout
    assert text.startswith("FAIL") and "release 1.0 linux/amd64" in text and "layer #3" in text


def test_unrecorded_fingerprint_passes(ledger: Path) -> None:
    assert _record(ledger, FRESH, "1.0") == 0
    result = cli("ledger", "check", STALE, "--fingerprint", "sha256:" + "0" * 64,
                 "--ledger", str(ledger))
    assert result.exit_code == 0 and "never recorded" in result.stdout
    missing = cli("ledger", "check", STALE, "--fingerprint", FP, "--ledger",
                  str(ledger.parent / "absent.jsonl"))
    assert missing.exit_code == 0


def test_check_against_runs_the_full_diff(ledger: Path) -> None:
    assert _record(ledger, FRESH, "1.0") == 0
    result = cli("ledger", "check", STALE, "--fingerprint", FP, "--ledger", str(ledger),
                 "--against", FRESH, "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["diff"]["verdict"] == "different"
    assert "content" in {c["code"] for c in report["diff"]["causes"]}
    markdown = cli("ledger", "check", STALE, "--fingerprint", FP, "--ledger", str(ledger),
                   "--against", FRESH, "--format", "markdown").stdout
    assert markdown.startswith("### ocidiff ledger check: FAIL")
    assert "| `1.0` | linux/amd64 | layer \\#3 |" in markdown and "`content`" in markdown


def test_show_and_list(ledger: Path) -> None:
    assert _record(ledger, FRESH, "1.0") == 0
    assert _record(ledger, STALE, "1.1", fp="sha256:" + "1" * 64) == 0
    shown = cli("ledger", "show", "1.1", "--ledger", str(ledger))
    record = read_ledger(str(ledger))[1]
    assert shown.exit_code == 0
    assert record.manifest_digest is not None and record.manifest_digest in shown.stdout
    assert all(str(layer.digest) in shown.stdout for layer in record.layers)
    assert "app-stale.tar" in shown.stdout
    absent = cli("ledger", "show", "9.9", "--ledger", str(ledger))
    assert absent.exit_code == 1 and "no release" in absent.stderr and absent.stdout == ""
    listed = cli("ledger", "list", "--ledger", str(ledger)).stdout.splitlines()
    assert [line.split()[0] for line in listed] == ["1.0", "1.1"]
    document = json.loads(cli("ledger", "list", "--ledger", str(ledger), "--format",
                              "json").stdout)
    assert [r["release"] for r in document["records"]] == ["1.0", "1.1"]


@pytest.mark.parametrize(("garbage", "line"), [
    (b"{not json}\n", 2), (b'{"schema": "other"}\n', 2), (b"\n", 2), (b'{"schema"', 2),
])
def test_corrupt_line_is_reported_never_skipped_or_overwritten(
    ledger: Path, garbage: bytes, line: int
) -> None:
    assert _record(ledger, FRESH, "1.0") == 0
    with open(ledger, "ab") as handle:
        handle.write(garbage)
    before = ledger.read_bytes()
    for args in (("record", STALE, "--release", "2.0", "--fingerprint", FP),
                 ("check", FRESH, "--fingerprint", FP), ("list",), ("show", "1.0")):
        result = cli("ledger", *args, "--ledger", str(ledger))
        assert result.exit_code == 2, args
        message = result.stderr.strip()
        assert f"line {line}" in message and str(ledger) in message and "\n" not in message
    assert ledger.read_bytes() == before


def test_decode_names_offset() -> None:
    good = b'{"schema": "ocidiff.ledger"}'
    with pytest.raises(InputError) as caught:
        decode_records(b"x\n" + good, "L")
    assert "offset 0" in caught.value.one_line() and "line 1" in caught.value.one_line()


_WRITER = """
import sys, time
from pathlib import Path
from ocidiff.api import open_archive
from ocidiff.gates.ledger import append_records, records_for
path, tag, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
with open_archive(sys.argv[5]) as opened:
    archive = opened.archive
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
for i in range(count):
    for release in (f"shared-{i}", f"{tag}-{i}"):
        records = records_for(archive, archive.images, release=release, fingerprint=None,
                              image_name="x.tar", archive_sha256=None)
        append_records(path, records)
"""


def _writer(ledger: Path, tag: str, count: int, go: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(ledger), tag, str(count), str(go), FRESH],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_two_processes_recording_at_once_lose_nothing(ledger: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    count = 40
    writers = [_writer(ledger, tag, count, go) for tag in ("a", "b")]
    go.touch()
    for process in writers:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    releases = [r.release for r in read_ledger(str(ledger))]
    expected = {f"{t}-{i}" for t in ("a", "b", "shared") for i in range(count)}
    assert sorted(releases) == sorted(expected)  # nothing lost, nothing recorded twice


def test_writers_wait_for_the_lock(ledger: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    go.touch()
    ledger.touch()
    fd = os.open(ledger, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        writer = _writer(ledger, "w", 1, go)
        time.sleep(0.5)
        assert ledger.read_bytes() == b"" and writer.poll() is None  # blocked on the lock
    finally:
        os.close(fd)
    writer.communicate(timeout=60)
    assert writer.returncode == 0
    assert {r.release for r in read_ledger(str(ledger))} == {"shared-0", "w-0"}


def test_append_is_all_or_nothing(ledger: Path) -> None:
    from ocidiff.api import open_archive
    from ocidiff.gates.ledger import records_for

    with open_archive(FRESH) as opened:
        fresh = opened.archive
    with open_archive(STALE) as opened:
        stale = opened.archive
    one = records_for(fresh, fresh.images, release="r", fingerprint=None, image_name="f",
                      archive_sha256=None)
    append_records(str(ledger), one)
    clash = records_for(stale, stale.images, release="r", fingerprint=None, image_name="s",
                        archive_sha256=None)
    new = records_for(stale, stale.images, release="s", fingerprint=None, image_name="s",
                      archive_sha256=None)
    outcome = append_records(str(ledger), [*new, *clash])
    assert outcome.added == () and len(outcome.conflicts) == 1
    assert [r.release for r in read_ledger(str(ledger))] == ["r"]
