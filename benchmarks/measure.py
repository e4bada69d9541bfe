"""Runs one command as a child process and measures it; describes the machine it ran on.

Wall time from a monotonic clock around the child's whole life (interpreter start included), CPU
time and peak RSS from the kernel's accounting for that one child (`os.wait4`), which, unlike
RUSAGE_CHILDREN, is not a running maximum over every child waited for so far.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path


class CommandFailed(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    peak_rss_mib: float
    exit_code: int
    stdout: bytes  # kept only when asked for


def run_once(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0,),
    keep_stdout: bool = False,
) -> Sample:
    """Run `argv` with stdout to a file (or /dev/null) and stderr captured; raise on a bad exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out if keep_stdout else subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        child.returncode = code  # reaped here, so Popen must not wait for it again
        if code not in ok_codes:
            err.seek(0)
            message = err.read().decode(errors="replace").strip()
            raise CommandFailed(f"{' '.join(argv)} exited {code}: {message[-2000:]}")
        out.seek(0)
        # ru_maxrss is in KiB on Linux.
        return Sample(
            wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code, out.read()
        )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _native_versions() -> dict[str, str]:
    found: dict[str, str] = {}
    import zlib

    found["zlib (runtime)"] = zlib.ZLIB_RUNTIME_VERSION
    try:
        import zstandard

        found["libzstd"] = ".".join(map(str, zstandard.ZSTD_VERSION))
    except ImportError:
        pass
    import ssl

    found["OpenSSL"] = ssl.OPENSSL_VERSION.removeprefix("OpenSSL ")
    return found


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine() -> dict[str, object]:
    """The machine and software the figures belong to."""
    libraries = {
        name: _version(name)
        for name in ("ocidiff", "numpy", "blake3", "isal", "zstandard", "orjson", "typer")
    }
    return {
        "cpu": _cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "memory": _memory_total(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "libraries": libraries | _native_versions(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "executable": sys.executable,
    }
