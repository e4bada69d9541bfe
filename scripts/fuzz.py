"""Coverage-guided fuzzing of ocidiff's readers with atheris (libFuzzer for Python).

The contract under test: whatever the bytes, only the `OcidiffError` family may escape, and
every text the CLI would print must be writable to a strict UTF-8 stdout. Any other exception,
a hang (libFuzzer -timeout) or a memory blow-up (-rss_limit_mb) is a bug.

Install and run (one core; the corpus and crashes go under tmp/fuzz/, which git ignores):

    .venv/bin/pip install -e '.[test,fuzz]'
    .venv/bin/python scripts/fuzz.py all --budget 1800 -timeout=30 -rss_limit_mb=3072

Targets: tar (the parser, streamed and indexed), json (documents -> OCI model), compression
(sniff + decoders), layer (the per-layer pump), archive (a whole archive through the inspect,
verify and ls command bodies, seekable and streamed, then diffed against a fixture), all (each
input through every target that applies). Extra arguments go to libFuzzer. With `--budget
SECONDS` the script supervises: it restarts the fuzzer after each crash until the time is spent
and prints the figures (runs, inputs tried, executions per second, crash files). Seeds come
from fixtures/, ../shared/corpora and ../shared/fixtures-real: the archives themselves, plus
the JSON documents and layer blobs inside them.

`--seeds-only` writes the seed directory and exits; `--replay FILE...` runs inputs once each
(for checking a crash after a fix); `--work DIR` keeps the corpus, crashes and logs there.
Bugs already reported are listed in KNOWN_BUGS and skipped, so a long run finds new ones.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WORK = ROOT / "tmp" / "fuzz"
REFERENCE = ROOT / "fixtures" / "synthetic" / "app-v1.tar"  # the other side of every diff
SEED_MAX = 256 << 10  # bigger files slow every execution down for little new coverage
TARGETS = ("tar", "json", "compression", "layer", "archive", "all")


# -- seeds ------------------------------------------------------------------------------------


def _seed_files() -> Iterator[Path]:
    roots = [ROOT / "fixtures", SHARED / "corpora", SHARED / "fixtures-real"]
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix not in (".md",) and path.stat().st_size <= SEED_MAX:
                yield path


def _members(data: bytes) -> Iterator[bytes]:
    """The regular-file members of a tar (decompressed first if needed); nothing on error."""
    from ocidiff.compression import new_decoder, sniff
    from ocidiff.errors import OcidiffError
    from ocidiff.tar import EntryData, EntryEnd, EntryHeader, EntryKind, iter_events

    try:
        pieces: list[bytes] = []
        decoder = new_decoder(sniff(data[:16]))
        decoder.feed(data, pieces.append)
        decoder.finish(pieces.append)
        current: list[bytes] | None = None
        for event in iter_events(io.BytesIO(b"".join(pieces))):
            if isinstance(event, EntryHeader):
                wanted = event.entry.kind is EntryKind.FILE and event.entry.size <= SEED_MAX
                current = [] if wanted else None
            elif isinstance(event, EntryData) and current is not None:
                current.append(bytes(event.data))
            elif isinstance(event, EntryEnd) and current is not None:
                yield b"".join(current)
                current = None
    except OcidiffError:
        return


def write_seeds(directory: Path) -> int:
    """Fill `directory` with seed inputs named by their sha256; returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    for path in _seed_files():
        data = path.read_bytes()
        for item in (data, *_members(data)):
            if not item or len(item) > SEED_MAX:
                continue
            name = hashlib.sha256(item).hexdigest()[:32]
            if name not in seen:
                seen.add(name)
                (directory / name).write_bytes(item)
    return len(seen)


# -- targets ----------------------------------------------------------------------------------


class Harness:
    """Each method feeds one input to one reader; only OcidiffError may leave them."""

    def __init__(self) -> None:
        from ocidiff.api import OpenOptions
        from ocidiff.inventory import PumpOptions
        from ocidiff.oci.parse import JsonLimits
        from ocidiff.tar import TarLimits

        # Small limits keep each execution short: a hostile size must trip a limit, not run.
        self.tar_limits = TarLimits(
            max_member_size=1 << 26, max_pax_record=1 << 16, max_long_name=1 << 12
        )
        self.pump = PumpOptions(max_uncompressed=1 << 26, max_entries=100_000)
        self.open_options = OpenOptions(JsonLimits(max_bytes=1 << 20), self.pump)
        shm = Path("/dev/shm")
        self.scratch = Path(
            tempfile.mkdtemp(prefix="ocidiff-fuzz-", dir=shm if shm.is_dir() else None)
        )

    def run_tar(self, data: bytes) -> None:
        from ocidiff.errors import OcidiffError
        from ocidiff.tar import NEED_DATA, ArchiveEnd, EntryHeader, TarParser, index_members

        streamed: list[object] = []
        error: str | None = None
        outcome: tuple[str, ...] = ()
        try:
            parser = TarParser(self.tar_limits)
            step = 1 + (len(data) % 997)  # an odd chunking, different per input
            position = 0
            for _ in range(8 * len(data) + 10_000):
                event = parser.next_event()
                if event is NEED_DATA:
                    if position >= len(data):
                        parser.end_of_input()
                    else:
                        parser.feed(data[position : position + step])
                        position += step
                elif isinstance(event, EntryHeader):
                    streamed.append(event.entry)
                elif isinstance(event, ArchiveEnd):
                    outcome = ("end", repr(event))
                    break
            else:
                raise AssertionError("tar parser did not finish")
        except OcidiffError as exc:
            error = type(exc).__name__
            outcome = ("error", error, str(exc))
        self._check_walks(data, step, streamed, outcome)
        try:
            indexed = index_members(io.BytesIO(data), limits=self.tar_limits)
        except OcidiffError as exc:
            if error is None:
                raise AssertionError(f"only the indexed read failed: {exc}") from exc
            return
        if error is not None:
            raise AssertionError(f"only the streamed read failed ({error})")
        if list(indexed) != streamed:
            raise AssertionError("indexed and streamed members differ")

    def _check_walks(
        self, data: bytes, step: int, entries: list[object], outcome: tuple[str, ...]
    ) -> None:
        """The header walk (verify) and the listing walk (ls, diff) must end, fail and list
        exactly as the parser did: they are faster readers of the same rules."""
        from ocidiff.errors import OcidiffError
        from ocidiff.tar.events import TarEntry
        from ocidiff.tar.walk import TarWalker

        listed: list[object] = []

        class Lister:
            def begin(self, entry: TarEntry) -> None:
                listed.append(entry)

            def data(self, piece: memoryview | bytes) -> None:
                return None

            def end(self, entry: TarEntry) -> None:
                return None

        for visitor in (None, Lister()):
            walker = TarWalker(self.tar_limits, visitor=visitor)
            try:
                for start in range(0, len(data), step + 1):
                    walker.feed(data[start : start + step + 1])
                walked: tuple[str, ...] = ("end", repr(walker.finish()))
            except OcidiffError as exc:
                walked = ("error", type(exc).__name__, str(exc))
            if walked != outcome:
                raise AssertionError(f"walk ({visitor}) ended {walked}, the parser {outcome}")
        if listed != entries:
            raise AssertionError("the listing walk and the parser list different members")

    def run_json(self, data: bytes) -> None:
        from ocidiff.errors import OcidiffError
        from ocidiff.oci.parse import (
            JsonLimits,
            document_kind,
            load_json,
            parse_config,
            parse_index,
            parse_manifest,
        )

        try:
            document = load_json(data, what="fuzz", limits=JsonLimits(max_bytes=1 << 20))
        except OcidiffError:
            return
        document_kind(document)
        for parse in (parse_index, parse_manifest, parse_config):
            with contextlib.suppress(OcidiffError):
                parse(document, what="fuzz")

    def run_compression(self, data: bytes) -> None:
        from ocidiff.compression import new_decoder, sniff
        from ocidiff.errors import LimitExceededError, OcidiffError

        total = 0

        def sink(piece: bytes) -> None:
            nonlocal total
            total += len(piece)
            if total > 1 << 26:
                raise LimitExceededError("fuzz output cap", limit="fuzz", option="none")

        with contextlib.suppress(OcidiffError):
            decoder = new_decoder(sniff(data[:16]))
            decoder.feed(data, sink)
            decoder.finish(sink)

    def run_layer(self, data: bytes) -> None:
        from ocidiff.errors import OcidiffError
        from ocidiff.inventory import pump_sequential

        with contextlib.suppress(OcidiffError):
            pump_sequential(io.BytesIO(data).read, self.pump)

    def run_archive(self, data: bytes) -> None:
        from ocidiff import commands
        from ocidiff.errors import OcidiffError

        path = self.scratch / "input"
        path.write_bytes(data)
        for target in (str(path), "-"):
            with _stdin(data):
                for call in (
                    lambda t: [commands.verify(t, "text", None, self.open_options, None)[0]],
                    lambda t: [commands.verify(t, "json", None, self.open_options, None)[0]],
                    lambda t: [commands.inspect(t, "text", True, None, self.open_options, None)],
                    lambda t: list(
                        commands.list_entries(t, None, None, True, "text", None, self.open_options,
                                              None)
                    ),
                    lambda t: list(
                        commands.list_entries(t, None, None, False, "jsonl", None,
                                              self.open_options, None)
                    ),
                ):
                    try:
                        outputs = call(target)
                    except OcidiffError as exc:
                        exc.one_line().encode("utf-8")  # stderr must take it too
                        continue
                    except Exception as exc:
                        if _is_known(exc):
                            continue
                        raise
                    finally:
                        sys.stdin.seek(0)
                    for text in outputs:
                        if isinstance(text, str):
                            text.encode("utf-8")  # what a strict UTF-8 stdout would do
        for output_format in ("json", "text"):
            try:
                report, _ = commands.diff(
                    str(path), str(REFERENCE), output_format, (), False, False, (), 3, None,
                    self.open_options, None, False,
                )
            except OcidiffError as exc:
                exc.one_line().encode("utf-8")
                return
            except Exception as exc:
                if _is_known(exc):
                    return
                raise
            if isinstance(report, str):
                report.encode("utf-8")

    def run_all(self, data: bytes) -> None:
        from ocidiff.compression import looks_like_json, looks_like_tar, sniff

        self.run_tar(data)
        self.run_compression(data)
        if looks_like_json(data[:64]):
            self.run_json(data)
        self.run_layer(data)
        head = data[:512]
        if looks_like_tar(head) or sniff(head[:16]).value != "none":
            self.run_archive(data)


# Bugs already reported whose fix lies outside the readers; skipped (and counted) so that a long
# run goes on finding new ones. Empty this list once they are fixed.
KNOWN_BUGS: tuple[tuple[type[Exception], str], ...] = ()
known_hits: dict[str, int] = {}


def _is_known(exc: Exception) -> bool:
    for kind, text in KNOWN_BUGS:
        if isinstance(exc, kind) and text in str(exc):
            known_hits[text] = known_hits.get(text, 0) + 1
            return True
    return False


@contextlib.contextmanager
def _stdin(data: bytes) -> Iterator[None]:
    """'-' reads sys.stdin.buffer: point it at the input for the streamed variant."""
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data))
    try:
        yield
    finally:
        sys.stdin = saved


def _entry(target: str) -> Callable[[bytes], None]:
    harness = Harness()
    run: Callable[[bytes], None] = getattr(harness, f"run_{target}")
    return run


_PROGRESS = re.compile(rb"^#(\d+)\s", re.MULTILINE)


def supervise(target: str, budget: float, root: Path, libfuzzer_args: list[str]) -> int:
    """Run the fuzzer in child processes until `budget` seconds are spent, starting a new one
    after each crash (libFuzzer stops at the first; the corpus carries the progress over).
    Prints the figures of the whole run; returns 1 if any crash was found."""
    work = root / target
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + budget
    runs = executions = 0
    found: list[str] = []
    while (left := deadline - time.monotonic()) > 5:
        runs += 1
        log = logs / f"run-{runs:03d}.log"
        limit = f"-max_total_time={int(left)}"
        command = [sys.executable, __file__, target, "--work", str(root), *libfuzzer_args, limit]
        with open(log, "wb") as handle:
            subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=False)
        text = log.read_bytes()
        counts = _PROGRESS.findall(text)
        executions += int(counts[-1]) if counts else 0
        for line in text.splitlines():
            if b"Test unit written to" in line:
                found.append(line.rsplit(b" ", 1)[-1].decode())
    minutes = budget / 60
    print(f"target {target}: {runs} run(s), {executions} inputs in {minutes:.0f} min "
          f"({executions / budget:.0f}/s), {len(found)} crash(es)")
    for path in found:
        print(f"  {path}")
    return 1 if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--seeds-only", action="store_true")
    parser.add_argument("--replay", nargs="+", type=Path)
    parser.add_argument("--budget", type=float, help="seconds; restart after each crash")
    parser.add_argument("--work", type=Path, default=WORK, help="corpus, seeds, crashes, logs")
    args, libfuzzer_args = parser.parse_known_args()
    if args.budget:
        sys.exit(supervise(args.target, args.budget, args.work, libfuzzer_args))
    # One core: the fuzzer must not take the machine, and a single-CPU affinity also keeps
    # ocidiff's worker pool to one thread, which makes executions cheaper and reproducible.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    work = args.work / args.target
    seeds = work / "seeds"
    if args.seeds_only or not seeds.is_dir():
        sys.path.insert(0, str(ROOT / "src"))
        count = write_seeds(seeds)
        print(f"{count} seeds in {seeds}", file=sys.stderr)
        if args.seeds_only:
            return
    if args.replay:
        run = _entry(args.target)
        for path in args.replay:
            run(path.read_bytes())
            print(f"ok: {path}", file=sys.stderr)
        return
    import atheris

    with atheris.instrument_imports(include=["ocidiff"]):
        import ocidiff.api
        import ocidiff.commands
        import ocidiff.oci.parse
        import ocidiff.tar  # noqa: F401
    run = _entry(args.target)
    corpus = work / "corpus"
    crashes = work / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    argv = [sys.argv[0], *libfuzzer_args, f"-artifact_prefix={crashes}/", str(corpus), str(seeds)]
    atheris.Setup(argv, run)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
