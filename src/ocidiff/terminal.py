"""Progress bars on stderr with rich: used only by the CLI, only when stderr is a terminal."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TransferSpeedColumn


class RichProgress:
    """A `progress.Progress` implementation: one bar per blob being read, in bytes, and a total
    over every blob begun so far (the orchestrator starts blobs as workers free up)."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True, markup=False, highlight=False)
        self._bars = Progress(
            "{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=self._console,
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._done: dict[str, int] = {}
        self._lock = threading.Lock()
        self._started = False
        self._total: TaskID | None = None
        self._total_bytes = 0
        self._finished_bytes = 0

    def begin(self, label: str, total_bytes: int) -> None:
        with self._lock:
            if not self._started:
                self._bars.start()
                self._started = True
            if self._total is None:
                self._total = self._bars.add_task("all blobs", total=None)
            short = label.rsplit("/", 1)[-1][:16]
            self._tasks[label] = self._bars.add_task(short, total=total_bytes or None)
            self._done[label] = 0
            self._total_bytes += total_bytes
            if self._total is not None:
                self._bars.update(self._total, total=self._total_bytes or None)

    def advance(self, label: str, done_bytes: int) -> None:
        with self._lock:
            task = self._tasks.get(label)
            if task is None:
                return
            self._done[label] = done_bytes
            self._bars.update(task, completed=done_bytes)
            if self._total is not None:
                running = sum(self._done.values())
                self._bars.update(self._total, completed=self._finished_bytes + running)

    def end(self, label: str) -> None:
        with self._lock:
            task = self._tasks.pop(label, None)
            if task is not None:
                self._bars.remove_task(task)
                self._finished_bytes += self._done.pop(label, 0)
            if self._total is not None:
                self._bars.update(self._total, completed=self._finished_bytes)
            # Idle between blobs: hide the bars; the total row carries on when work resumes.
            if not self._tasks and self._started:
                self._bars.stop()
                self._started = False
