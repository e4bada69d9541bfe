"""Where `ocidiff verify` and `ocidiff ls --merged` spend their time: py-spy on the suite's images.

    .venv/bin/pip install py-spy   # or pass --py-spy PATH
    .venv/bin/python benchmarks/profile_commands.py --size 500MB

Samples each command twice: every thread on a CPU (where the wall time goes, native calls counted
against the Python line that made them) and only the thread holding the GIL (the serial part that
the second core cannot help with). Writes the top functions by own and inclusive share, and the
share per thread, to benchmarks/results/profile-<SIZE>.md; the reading of them is in
benchmarks/results/profile-notes.md.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from suite import HERE, generate, parse_size

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*)\)$")


def _function(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    return f"{match['function']} ({match['file'].split(':')[0]})"


_WAITS = {
    "Queue.put": "decompressor blocked on a full queue (the tar stage is behind)",
    "Queue.get": "tar stage waiting for decompressed bytes (the decompressor is behind)",
}
_PARKED = ("Condition.wait", "wait ", "Event.wait", "Thread.join", "_wait_for_tstate_lock")


@dataclass
class Profile:
    """py-spy samples split into work and waiting.

    py-spy counts a thread parked on a lock with a timeout (the two-stage queue) as active, so
    those samples are taken out of the work tables and reported apart: which side of the queue
    waits says which stage is the bottleneck."""

    samples: int = 0
    working: int = 0
    own: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)
    threads: Counter[str] = field(default_factory=Counter)
    waits: Counter[str] = field(default_factory=Counter)


def aggregate(raw: str) -> Profile:
    """Tables from py-spy's raw (collapsed stack) output."""
    found = Profile()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames[0] if frames[0].startswith(("thread ", "process ")) else "?"
        frames = [f for f in frames if not f.startswith(("thread ", "process "))]
        if not frames:
            continue
        found.samples += count
        if frames[-1].startswith(_PARKED):
            names = [_function(f).split(" ")[0] for f in frames]
            reason = next((_WAITS[n] for n in names if n in _WAITS), "other waits (pool, join)")
            found.waits[reason] += count
            continue
        found.working += count
        # Name threads by where they run: the innermost frame below the thread bootstrap.
        label = next((f for f in frames if "ocidiff" in f or "concurrent" in f), frames[0])
        found.threads[f"{thread.split(' ')[0]} {_function(label)}"] += count
        found.own[_function(frames[-1])] += count
        for name in {_function(f) for f in frames}:
            found.inclusive[name] += count
    return found


def _table(title: str, counts: Counter[str], total: int, top: int) -> list[str]:
    lines = [f"**{title}**", "", "| % | function (module) |", "|--:|---|"]
    for name, count in counts.most_common(top):
        lines.append(f"| {100 * count / total:.1f} | `{name}` |")
    return [*lines, ""]


def _shown(args: list[str]) -> str:
    return " ".join(Path(a).name if "/" in a else a for a in args)


def profile(py_spy: str, argv: list[str], gil: bool, rate: int) -> str:
    with tempfile.NamedTemporaryFile(suffix=".txt") as out:
        command = [py_spy, "record", "--format", "raw", "--rate", str(rate), "--threads",
                   "--nolineno", "--output", out.name]
        if gil:
            command.append("--gil")
        subprocess.run([*command, "--", *argv], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return Path(out.name).read_text()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, default=parse_size("500MB"))
    parser.add_argument("--work-dir", type=Path, default=HERE / "work" / "suite")
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "")
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    if not args.py_spy:
        raise SystemExit("py-spy not found: pip install py-spy, or pass --py-spy PATH")
    size, label = args.size
    images = generate(args.work_dir, size, label)
    ocidiff = [sys.executable, "-m", "ocidiff"]
    commands = {
        "verify (gzip)": [*ocidiff, "verify", images.a_gzip.path, "-q"],
        "ls --merged (gzip)": [*ocidiff, "ls", images.a_gzip.path, "--merged", "--format",
                               "jsonl", "-q", "--no-cache"],
        "ls --merged (zstd)": [*ocidiff, "ls", images.a_zstd.path, "--merged", "--format",
                               "jsonl", "-q", "--no-cache"],
    }
    lines = [f"# py-spy profiles on the {label} images", "",
             f"Generated by benchmarks/profile_commands.py at {args.rate} samples/s with py-spy "
             "(--threads, --nolineno). A native call (inflate, sha256, blake3, numpy) counts "
             "against the Python function that made it. Samples of threads parked on a lock are "
             "listed apart, by what they wait for.", ""]
    for title, argv in commands.items():
        for gil in (False, True):
            found = aggregate(profile(args.py_spy, argv, gil, args.rate))
            what = "thread holding the GIL" if gil else "every thread on a CPU"
            print(f"{title}, {what}: {found.samples} samples", flush=True)
            lines += [f"## `ocidiff {_shown(argv[3:])}`: {what}", "",
                      f"{found.samples} samples, {found.working} of them working; the tables "
                      "below are percentages of the working samples.", ""]
            lines += _table("own time", found.own, found.working, args.top)
            lines += _table("inclusive time", found.inclusive, found.working, args.top)
            lines += _table("by thread (where it runs)", found.threads, found.working, 6)
            if found.waits:
                lines += _table("parked (percent of all samples)", found.waits, found.samples, 4)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    target = args.results_dir / f"profile-{label}.md"
    target.write_text("\n".join(lines))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
