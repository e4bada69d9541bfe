"""Progress bars on stderr with rich: used only by the CLI, only when stderr is a terminal."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TransferSpeedColumn


class RichProgress:
    """A `progress.Progress` implementation: one bar per blob being read, in bytes."""

    def __init__(self) -> None:
        self._console = Console(stderr=True, markup=False, highlight=False)
        self._bars = Progress(
            "{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=self._console,
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()
        self._started = False

    def begin(self, label: str, total_bytes: int) -> None:
        with self._lock:
            if not self._started:
                self._bars.start()
                self._started = True
            short = label.rsplit("/", 1)[-1][:16]
            self._tasks[label] = self._bars.add_task(short, total=total_bytes or None)

    def advance(self, label: str, done_bytes: int) -> None:
        task = self._tasks.get(label)
        if task is not None:
            self._bars.update(task, completed=done_bytes)

    def end(self, label: str) -> None:
        with self._lock:
            task = self._tasks.pop(label, None)
            if task is not None:
                self._bars.remove_task(task)
            if not self._tasks and self._started:
                self._bars.stop()
                self._started = False
