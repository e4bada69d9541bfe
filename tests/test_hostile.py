"""Hostile and broken inputs through the command line: every case ends in one line on stderr
and exit 2 (the error class and what it names checked), or in a listed mismatch (exit 1), never
in a traceback, a hang or unbounded memory.

Cases come from `tests/hostile` (generated, nothing committed): the table in `cases.py`,
truncations at sampled 512-byte boundaries and inside headers and blobs, seeded bit flips in
tar headers, JSON documents and compressed streams, and a damaged layer in a five-layer image.
Most run in-process through typer's test runner; a few run `python -m ocidiff` to see the real
stderr, and the bombs run in a child process whose peak RSS is measured.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocidiff import cli
from ocidiff.errors import OcidiffError, TarError

from .conftest import REAL_SAMPLES, SYNTHETIC
from .hostile import bombs
from .hostile.cases import CASES, Case, Expect, base, docker_base, five_layers
from .hostile.images import MT_LAYER, blob_name, oci_image, oci_image_of_blobs, outer_tar
from .hostile.mutate import cut_points, flip_bytes, span_of, spans

BOMB_RSS_LIMIT = 256 << 20  # README "Limits": a bomb is refused within this much memory


@dataclass(frozen=True, slots=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    error: OcidiffError | None  # what the command failed with, when it did


Runner = Callable[..., Outcome]


@pytest.fixture()
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Runner]:
    """Run the CLI in-process; also capture the OcidiffError behind an exit 2."""
    failures: list[OcidiffError] = []
    original = cli._fail

    def recording(error: OcidiffError) -> None:
        failures.append(error)
        original(error)

    monkeypatch.setattr(cli, "_fail", recording)
    runner = CliRunner()
    env = {"OCIDIFF_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}

    def invoke(*args: str) -> Outcome:
        failures.clear()
        result = runner.invoke(cli.app, list(args), env=env, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a bug: anything but our error family escaped
        return Outcome(
            result.exit_code, result.stdout, result.stderr, failures[-1] if failures else None
        )

    yield invoke


def check(outcome: Outcome, expect: Expect, subject: Path, what: str) -> None:
    """`outcome` is one of the allowed exits, with the promised error class and mentions."""
    assert "Traceback" not in outcome.stderr, (what, outcome.stderr)
    assert "internal error" not in outcome.stderr, (what, outcome.stderr)
    assert outcome.exit_code in expect.exits, (what, outcome.exit_code, outcome.stderr,
                                               outcome.stdout[-2000:])
    if outcome.exit_code == 2:
        lines = outcome.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("ocidiff: "), (what, outcome.stderr)
        assert str(subject) in lines[0], (what, lines[0])
        assert outcome.error is not None
        if expect.error is not None:
            assert isinstance(outcome.error, expect.error), (what, type(outcome.error), lines)
        text = lines[0]
    else:
        assert not outcome.stderr.strip(), (what, outcome.stderr)
        text = outcome.stdout
    for mention in expect.mentions:
        assert mention in text, (what, mention, text[-3000:])


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("original") / "original.tar"
    path.write_bytes(base().archive())
    return path


@pytest.fixture(scope="module")
def docker_original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("original") / "docker.tar"
    path.write_bytes(outer_tar(docker_base()))
    return path


def commands(case: Case, path: Path, original: Path) -> list[tuple[str, list[str], Expect]]:
    # --no-cache: the readers are under test here, not the layer cache.
    return [
        ("verify", ["verify", str(path), *case.options], case.verify),
        ("ls", ["ls", "--merged", "--no-cache", str(path), *case.options], case.ls),
        ("diff", ["diff", "--no-cache", str(original), str(path), *case.options], case.diff),
    ]


# Bugs outside the readers, reported to their owners: the test fails loudly (strict xfail)
# once they are fixed, so the mark is removed then.
# Cases that fail on a known bug: {case name: pytest.mark.xfail(strict=True, ...)}. Empty now.
KNOWN_BUGS: dict[str, pytest.MarkDecorator] = {}


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, marks=KNOWN_BUGS.get(case.name, ()), id=case.name) for case in CASES],
)
def test_hostile_case(
    case: Case, run: Runner, tmp_path: Path, original: Path, docker_original: Path
) -> None:
    path = case.make(tmp_path)
    reference = docker_original if case.name.startswith("docker") else original
    for what, args, expect in commands(case, path, reference):
        check(run(*args), expect, path, f"{case.name}: {what}")


# -- truncation ---------------------------------------------------------------------------------


def truncation_sources() -> list[tuple[str, bytes]]:
    sources = [
        ("base", base().archive()),
        ("docker", outer_tar(docker_base())),
        ("app-v1", (SYNTHETIC / "app-v1.tar").read_bytes()),
        ("docker-legacy", (SYNTHETIC / "docker-legacy.tar").read_bytes()),
    ]
    for label, sample in (
        ("containerd", REAL_SAMPLES / "containerd-export-oras" / "hello-world.tar"),
        ("docker-v25", REAL_SAMPLES / "docker-save-v25-ggcr" / "hello-world-v25.tar"),
    ):
        if sample.is_file():
            sources.append((label, sample.read_bytes()))
    return sources


SOURCES = truncation_sources()


@pytest.mark.parametrize(("label", "data"), SOURCES, ids=[label for label, _ in SOURCES])
def test_truncation_everywhere(label: str, data: bytes, run: Runner, tmp_path: Path) -> None:
    """Cut at sampled 512-byte boundaries, inside every header and inside every blob: verify
    never says intact (exit 0); every failure is one line naming the file; a cut inside a
    member names the offset."""
    intact = tmp_path / "intact.tar"
    intact.write_bytes(data)
    members = spans(data)
    for index, cut in enumerate(cut_points(data, limit=20)):
        path = tmp_path / f"cut-{cut}.tar"
        path.write_bytes(data[:cut])
        at_boundary = cut % 512 == 0 and any(
            cut == span.header or cut == span.data + -(-span.size // 512) * 512 for span in members
        )
        verify = run("verify", str(path))
        check(verify, Expect(frozenset({1, 2})), path, f"{label} cut {cut}: verify")
        if verify.exit_code == 2 and not at_boundary:
            assert "offset" in verify.stderr, (label, cut, verify.stderr)
        if index % 3 == 0:  # ls and diff on a third of the cuts keep the test quick
            listed = run("ls", "--merged", "--no-cache", str(path))
            check(listed, Expect(frozenset({0, 2})), path, f"{label} cut {cut}: ls")
            compared = run("diff", "--no-cache", str(intact), str(path))
            check(compared, Expect(frozenset({1, 2})), path, f"{label} cut {cut}: diff")


# -- seeded bit flips ---------------------------------------------------------------------------


def test_flips_in_tar_headers(run: Runner, tmp_path: Path) -> None:
    """Any bit flipped in any outer header fails its checksum: exit 2 at that header's offset."""
    data = base().archive()
    for seed, span in enumerate(spans(data)):
        path = tmp_path / f"header-{seed}.tar"
        path.write_bytes(flip_bytes(data, span.header, span.header + 512, count=1, seed=seed))
        outcome = run("verify", str(path))
        check(outcome, Expect(frozenset({2}), TarError, ("checksum",)), path, span.name)
        assert f"offset {span.header}" in outcome.stderr, outcome.stderr


def test_flips_in_json_documents(run: Runner, tmp_path: Path) -> None:
    """A flipped manifest or config never verifies: its digest is named (exit 1), or it no
    longer parses and the document is named (exit 2)."""
    image = base()
    data = image.archive()
    for document in (image.manifest, image.config):
        span = span_of(data, blob_name(document).decode())
        for seed in range(6):
            path = tmp_path / f"doc-{seed}.tar"
            flipped = flip_bytes(data, span.data, span.data_end, count=1 + seed % 3, seed=seed)
            path.write_bytes(flipped)
            outcome = run("verify", str(path))
            check(outcome, Expect(frozenset({1, 2})), path, f"{document} flip {seed}")
            assert document.split(":")[1] in outcome.stdout + outcome.stderr, outcome


def test_flips_in_compressed_streams(run: Runner, tmp_path: Path) -> None:
    """A flipped layer blob (gzip or zstd) is listed by verify with its digest (exit 1)."""
    for kind in ("gzip", "zstd"):
        image = oci_image(five_layers(variant=0)[:2], compression=kind)
        data = image.archive()
        for seed, layer in enumerate(image.layers):
            span = span_of(data, blob_name(layer).decode())
            path = tmp_path / f"{kind}-{seed}.tar"
            path.write_bytes(flip_bytes(data, span.data, span.data_end, count=2, seed=seed))
            outcome = run("verify", str(path))
            check(outcome, Expect(frozenset({1}), None, (layer,)), path, f"{kind} layer {seed}")
            listed = run("ls", "--merged", "--no-cache", str(path))
            check(listed, Expect(frozenset({2})), path, f"{kind} layer {seed}: ls")


# -- one damaged layer of five --------------------------------------------------------------------


def test_one_corrupt_layer_of_five(run: Runner, tmp_path: Path) -> None:
    """diff marks that layer (and the merged filesystem) incomplete and compares the rest;
    --strict makes it fatal; verify lists the layer's blob."""
    import json

    old = oci_image(five_layers(variant=0))
    new = oci_image(five_layers(variant=1))
    damaged = new.layers[3]
    blob = new.blobs[damaged]
    broken = new.with_blob(damaged, blob[: len(blob) // 2] + bytes(len(blob) - len(blob) // 2))
    old_path, new_path = tmp_path / "old.tar", tmp_path / "new.tar"
    old_path.write_bytes(old.archive())
    new_path.write_bytes(broken.archive())
    outcome = run("diff", str(old_path), str(new_path), "--format", "json")
    check(outcome, Expect(frozenset({1})), new_path, "diff")
    report = json.loads(outcome.stdout)
    assert report["summary"]["incomplete"] is True
    statuses = {node["name"]: node["status"] for node in _nodes(report) if node["kind"] == "layer"}
    assert statuses["3:3"] == "incomplete", statuses
    assert statuses["2:2"] == "changed" and statuses["0:0"] == "equal", statuses
    strict = run("diff", str(old_path), str(new_path), "--strict")
    check(strict, Expect(frozenset({2}), None, (damaged.split(":")[1],)), new_path, "strict")
    verify = run("verify", str(new_path))
    check(verify, Expect(frozenset({1}), None, (damaged,)), new_path, "verify")


def _nodes(report: dict[str, object]) -> Iterator[dict[str, object]]:
    stack = [report["tree"]]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("children", ()))


# -- real processes: stderr, peak memory ----------------------------------------------------------


def _child_peak(args: list[str]) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run `python -m ocidiff args` from a fresh interpreter; its peak RSS in bytes (Linux
    reports ru_maxrss in KiB), measured with RUSAGE_CHILDREN of that interpreter alone."""
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run([sys.executable, '-m', 'ocidiff', *sys.argv[1:]], capture_output=True,"
        " text=True)\n"
        "sys.stdout.write(f'{r.returncode}\\n{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}"
        "\\n{r.stderr}')\n"
    )
    env = {**os.environ, "OCIDIFF_CACHE_DIR": os.devnull}
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                          timeout=300, env=env)
    code, peak, stderr = done.stdout.split("\n", 2)
    return subprocess.CompletedProcess(args, int(code), "", stderr), int(peak) * 1024


BOMBS = ["layer-gzip-bomb", "layer-zstd-bomb", "outer-gzip-bomb", "outer-zstd-bomb",
         "layer-sparse-claims-60-gib"]


@pytest.mark.parametrize("name", BOMBS)
def test_bomb_memory_is_bounded(name: str, tmp_path: Path) -> None:
    case = next(case for case in CASES if case.name == name)
    path = case.make(tmp_path)
    for args in (["verify", str(path)], ["ls", "--merged", str(path)]):
        result, peak = _child_peak([*args, *case.options])
        assert result.returncode in (1, 2), result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) <= 1
        assert peak < BOMB_RSS_LIMIT, (name, args[0], peak >> 20)


REAL_PROCESS = ["not-a-tar", "layer-entry-names-escape-nul-utf8", "docker-layer-symlink-outside",
                "index-refers-to-itself"]


@pytest.mark.parametrize("name", REAL_PROCESS)
def test_real_process_stderr(name: str, tmp_path: Path) -> None:
    """The same outcomes from a real process: the one line is the whole of stderr."""
    case = next(case for case in CASES if case.name == name)
    path = case.make(tmp_path)
    env = {**os.environ, "OCIDIFF_CACHE_DIR": str(tmp_path / "cache")}
    listing = ["ls", "--merged", "--no-cache", str(path)]
    for args, expect in ((["verify", str(path)], case.verify), (listing, case.ls)):
        result = subprocess.run([sys.executable, "-m", "ocidiff", *args], capture_output=True,
                                text=True, timeout=120, env=env)
        assert result.returncode in expect.exits, (args, result.stderr)
        assert "Traceback" not in result.stderr
        if result.returncode == 2:
            assert len(result.stderr.splitlines()) == 1 and str(path) in result.stderr


def test_nothing_written_outside(
    tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names that climb out of the root, absolute names and symlinks out of the archive are
    listed or refused, never followed on the host: run from deep inside a scratch tree, the
    tree holds only what the test wrote, whatever the command."""
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    for name in ("layer-entry-names-escape-nul-utf8", "docker-layer-symlink-outside",
                 "docker-layer-symlink-loop", "outer-absolute-and-dot-names"):
        case = next(case for case in CASES if case.name == name)
        path = case.make(tmp_path)
        before = sorted(str(p) for p in tmp_path.rglob("*"))
        for command in ("verify", "ls", "diff"):
            args = {"verify": ["verify"], "ls": ["ls", "--merged", "--no-cache"],
                    "diff": ["diff", "--no-cache", str(path)]}[command]
            run(*args, str(path))
        assert sorted(str(p) for p in tmp_path.rglob("*")) == before, name


def test_limit_options_match_library_defaults() -> None:
    """The CLI's documented defaults are the library's: one number, one place to read it."""
    import typer.main

    from ocidiff.inventory import PumpOptions
    from ocidiff.oci.parse import JsonLimits

    pump, json_limits = PumpOptions(), JsonLimits()
    expected = {
        "max_uncompressed": pump.max_uncompressed,
        "max_ratio": pump.max_ratio,
        "max_entries": pump.max_entries,
        "max_pax_record": pump.max_pax_record,
        "max_long_name": pump.max_long_name,
        "max_zstd_window": pump.max_zstd_window,
        "max_json_bytes": json_limits.max_bytes,
        "max_json_depth": json_limits.max_depth,
        "max_index_depth": json_limits.max_index_depth,
    }
    command_group = typer.main.get_command(cli.app)
    for name in ("inspect", "ls", "verify", "diff"):
        command = command_group.commands[name]  # type: ignore[attr-defined]
        defaults = {param.name: param.default for param in command.params}
        for option, value in expected.items():
            assert defaults.get(option) == value, (name, option)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    limits = readme.split("## Limits", 1)[1].split("\n## ", 1)[0]
    for option in expected:
        assert "--" + option.replace("_", "-") in limits, option



@pytest.mark.skipif(not os.environ.get("OCIDIFF_HOSTILE_FULL"),
                    reason="a minute of CPU: set OCIDIFF_HOSTILE_FULL=1")
def test_a_million_entries(tmp_path: Path) -> None:
    """A million tiny entries in a layer (ls) and in the archive itself (verify, streamed):
    under the default limits both finish, in bounded memory (README "Limits": ~0.6 KB each)."""
    import zstandard

    blob, diff_id = bombs.many_entries_layer(1_000_000)
    layered = tmp_path / "layer.tar"
    layered.write_bytes(oci_image_of_blobs([(blob, diff_id, MT_LAYER["zstd"])]).archive())
    result, peak = _child_peak(["ls", "--merged", "--no-cache", str(layered)])
    assert result.returncode == 0 and peak < 1536 << 20, (result.stderr, peak >> 20)
    packer = zstandard.ZstdCompressor(level=1).compressobj()
    parts = [packer.compress(chunk) for chunk in bombs.iter_empty_file_headers(1_000_000)]
    parts += [packer.compress(outer_tar(base().members())), packer.flush()]
    outer = tmp_path / "outer.tar.zst"
    outer.write_bytes(b"".join(parts))
    result, peak = _child_peak(["verify", str(outer)])
    assert result.returncode == 0 and peak < 1024 << 20, (result.stderr, peak >> 20)


# Found by the coverage-guided fuzzer (scripts/fuzz.py): names that are not UTF-8 reached JSON
# and the layer cache as surrogate escapes, which orjson refuses; now written as backslash escapes.
def test_jsonl_with_non_utf8_names(run: Runner, tmp_path: Path) -> None:
    case = next(case for case in CASES if case.name == "layer-entry-names-escape-nul-utf8")
    path = case.make(tmp_path)
    check(run("ls", "--no-cache", "--format", "jsonl", str(path)), Expect(frozenset({0})), path,
          "jsonl")


def test_cache_with_non_utf8_names(run: Runner, tmp_path: Path) -> None:
    case = next(case for case in CASES if case.name == "layer-entry-names-escape-nul-utf8")
    path = case.make(tmp_path)
    check(run("ls", "--merged", str(path)), Expect(frozenset({0})), path, "cached ls")
