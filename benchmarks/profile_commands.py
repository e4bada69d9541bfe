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


def aggregate(raw: str) -> tuple[int, Counter[str], Counter[str], Counter[str]]:
    """(samples, own, inclusive, per thread or wait) from py-spy's raw (collapsed stack) output.

    Threads parked in the two-stage queue still show up as samples; which side waits says
    which stage is the bottleneck, so those are counted separately too."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
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
        total += count
        # Name threads by where they run: the innermost frame below the thread bootstrap.
        label = next((f for f in frames if "ocidiff" in f or "concurrent" in f), frames[0])
        threads[f"{thread.split(' ')[0]} {_function(label)}"] += count
        for frame in frames:
            name = _function(frame).split(" ")[0]
            if name in _WAITS and frames[-1].startswith(("Condition.wait", "wait ")):
                threads[f"waiting: {_WAITS[name]}"] += count
        own[_function(frames[-1])] += count
        for name in {_function(f) for f in frames}:
            inclusive[name] += count
    return total, own, inclusive, threads


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
             f"Generated by benchmarks/profile_commands.py at {args.rate} samples/s. Percentages "
             "are of all samples of that recording; a native call (inflate, sha256, blake3, "
             "numpy) counts against the Python function that made it.", ""]
    for title, argv in commands.items():
        for gil in (False, True):
            total, own, inclusive, threads = aggregate(profile(args.py_spy, argv, gil, args.rate))
            what = "thread holding the GIL" if gil else "every thread on a CPU"
            print(f"{title}, {what}: {total} samples", flush=True)
            lines += [f"## `ocidiff {_shown(argv[3:])}`: {what} ({total} samples)", ""]
            lines += _table("own time", own, total, args.top)
            lines += _table("inclusive time", inclusive, total, args.top)
            lines += _table("by thread (where it runs), and queue waits", threads, total, 8)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    target = args.results_dir / f"profile-{label}.md"
    target.write_text("\n".join(lines))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
