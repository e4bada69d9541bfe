"""Differential tests: our parser against CPython's tarfile and GNU tar, archive by archive.

Covers every file of the tar-rs corpus (the folder listing, so new files join automatically), the
real samples in shared/fixtures-real (outer archives and every layer inside them) and the
repository's real-tool fixtures. Where a reference is known to deviate, KNOWN_DEVIATIONS names
the archive, the tool and the reason, and the test checks that the deviation still happens.
"""

from __future__ import annotations

import functools
import tarfile

import pytest

from ocidiff.errors import TarError
from ocidiff.tar import Trailer

from .compare import assert_matches_gnu, assert_matches_tarfile
from .harness import (
    GNU_TAR,
    TAR_RS,
    Parsed,
    case_id,
    corpus_archives,
    list_with_gnu_tar,
    parse,
    read_with_tarfile,
)
from .tarbuild import end, pad

ARCHIVES = dict(corpus_archives())

_UMOCI = "repo-fixtures/umoci-unterminated.tar::blobs/sha256/"
_UNPADDED_REASON = (
    "umoci ends the layer right after the last member's data (no padding, no end marker); "
    "{tool} reports unexpected EOF, we accept it as Trailer.UNPADDED by design"
)
# (archive id prefix, tool) -> reason. The archive is still compared after repairing it the way
# the reason says (padding and an end marker appended), so the entries are checked all the same.
_EMPTY_LAYER = "fixtures-real/docker-save-pre110-moby/emptyLayer.tar::9c7cb910d843"
_EMPTY_REASON = (
    "a 0-byte layer.tar, as docker save before 1.10 wrote empty layers; {tool} refuses empty "
    "input, we read it as an archive with no members (Trailer.NONE)"
)
KNOWN_DEVIATIONS: dict[tuple[str, str], str] = {
    (_EMPTY_LAYER, "tarfile"): _EMPTY_REASON.format(tool="tarfile (ReadError 'empty file')"),
    (_EMPTY_LAYER, "gnu"): _EMPTY_REASON.format(
        tool="GNU tar ('does not look like a tar archive')"
    ),
    (_UMOCI + "1c1e88a543cb", "tarfile"): _UNPADDED_REASON.format(tool="tarfile (ReadError)"),
    (_UMOCI + "1c1e88a543cb", "gnu"): _UNPADDED_REASON.format(tool="GNU tar (exit 2)"),
    (_UMOCI + "cfdc0a2cc932", "tarfile"): _UNPADDED_REASON.format(tool="tarfile (ReadError)"),
    (_UMOCI + "cfdc0a2cc932", "gnu"): _UNPADDED_REASON.format(tool="GNU tar (exit 2)"),
}


def _deviation(archive_id: str, tool: str) -> str | None:
    for (prefix, which), reason in KNOWN_DEVIATIONS.items():
        if which == tool and archive_id.startswith(prefix):
            return reason
    return None


@functools.cache
def _ours(archive_id: str) -> Parsed | TarError:
    try:
        return parse(ARCHIVES[archive_id])
    except TarError as error:
        return error


def _repaired(archive_id: str) -> bytes:
    """The archive as a strict reader wants it: padded to a block, then an end marker."""
    return pad(ARCHIVES[archive_id]) + end()


def test_corpus_is_present_and_listed() -> None:
    if not TAR_RS.is_dir():
        pytest.skip("shared/corpora/tar-rs is absent")
    on_disk = {path.name for path in TAR_RS.iterdir() if path.suffix == ".tar"}
    assert on_disk and {f"tar-rs/{name}" for name in on_disk} <= ARCHIVES.keys()


# -- tarfile ----------------------------------------------------------------------------------


@pytest.mark.parametrize("archive_id", sorted(ARCHIVES), ids=case_id)
def test_matches_tarfile(archive_id: str) -> None:
    ours = _ours(archive_id)
    data = ARCHIVES[archive_id]
    deviation = _deviation(archive_id, "tarfile")
    if deviation:
        with pytest.raises(tarfile.TarError):  # the deviation is still real
            read_with_tarfile(data)
        data = _repaired(archive_id)
    try:
        reference = read_with_tarfile(data)
    except tarfile.TarError as error:
        assert isinstance(ours, TarError), f"tarfile refuses ({error}) but we accept"
        return
    assert not isinstance(ours, TarError), f"we refuse ({ours}) but tarfile accepts"
    assert [entry.name.rstrip("/") for entry, _, _ in ours.members] == [
        member.name.rstrip("/") for member in reference
    ]
    for (entry, digest, _), member in zip(ours.members, reference, strict=True):
        assert_matches_tarfile(entry, digest, member)


# -- GNU tar ----------------------------------------------------------------------------------


@pytest.mark.skipif(GNU_TAR is None, reason="GNU tar is not installed")
@pytest.mark.parametrize("archive_id", sorted(ARCHIVES), ids=case_id)
def test_matches_gnu_tar(archive_id: str) -> None:
    ours = _ours(archive_id)
    data = ARCHIVES[archive_id]
    deviation = _deviation(archive_id, "gnu")
    if deviation:
        assert list_with_gnu_tar(data)[0] != 0  # the deviation is still real
        data = _repaired(archive_id)
    status, rows, stderr = list_with_gnu_tar(data)
    if status != 0:
        assert isinstance(ours, TarError), f"GNU tar refuses ({stderr.strip()}) but we accept"
        return
    assert not isinstance(ours, TarError), f"we refuse ({ours}) but GNU tar accepts"
    assert len(rows) == len(ours.members)
    for (entry, _, _), row in zip(ours.members, rows, strict=True):
        assert_matches_gnu(entry, row)


# -- what the samples are known to hold -------------------------------------------------------


def _only(prefix: str) -> Parsed:
    matches = [key for key in ARCHIVES if key.startswith(prefix)]
    if not matches:
        pytest.skip(f"{prefix} is absent")
    result = _ours(matches[0])
    assert not isinstance(result, TarError)
    return result


def test_escape_hostile_layer_has_no_end_marker() -> None:
    parsed = _only("fixtures-real/docker-save-symlinks-scalibr/escape-hostile-layer.tar")
    assert parsed.end.trailer is Trailer.NONE
    names = [entry.name for entry, _, _ in parsed.members]
    assert names[0] == "/escape/poc.txt" and "/trampoline/" in names
    escape = next(entry for entry, _, _ in parsed.members if entry.name == "/escape")
    assert escape.linkname.startswith("trampoline/trampoline/") and escape.pax


def test_moby_xattr_layer_keeps_binary_capability() -> None:
    parsed = _only("fixtures-real/layer-xattr-moby/layer.tar")
    ((entry, _, _),) = parsed.members
    assert dict(entry.xattrs)["security.capability"][:5] == b"\x01\x00\x00\x02\xc0"


def test_umoci_layers_are_unpadded() -> None:
    unpadded = [key for key in ARCHIVES if key.startswith(_UMOCI) and len(ARCHIVES[key]) % 512]
    if not unpadded:
        pytest.skip("repo fixtures are absent")
    for key in unpadded:
        result = _ours(key)
        assert not isinstance(result, TarError)
        assert result.end.trailer is Trailer.UNPADDED
        assert result.end.end_offset == len(ARCHIVES[key])


def test_sparse_large_expands_to_twelve_gigabytes_without_memory() -> None:
    parsed = _only("tar-rs/sparse-large.tar")
    ((entry, _, length),) = parsed.members
    assert entry.size == length == 12_626_929_280
    assert entry.stored_size == 1664
