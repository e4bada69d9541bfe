"""Where per-layer analysis runs: on this machine's worker pool, or on a Dask cluster.

An executor takes layer tasks (an archive path and a member) and returns one outcome per task,
in order. The local one runs `analysis.analyse_member` on the pool from `concurrency` (the only
place that makes threads); the Dask one lives in `dask_executor` and is imported only when asked
for, so a default run needs no Dask at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..api import OpenedArchive, OpenOptions
from ..concurrency import map_parallel
from ..errors import UsageError
from ..progress import Progress
from .analysis import LayerOutcome, analyse_member


@dataclass(frozen=True, slots=True)
class LayerTask:
    path: str  # the archive, as the coordinator opened it
    member: str  # the layer blob inside it


class LayerExecutor(Protocol):
    def run(
        self, tasks: Sequence[LayerTask], opened: Mapping[str, OpenedArchive]
    ) -> list[LayerOutcome]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Layers on this machine's worker threads, each blob read once."""

    def __init__(self, options: OpenOptions, progress: Progress | None = None) -> None:
        self._options = options
        self._progress = progress

    def run(
        self, tasks: Sequence[LayerTask], opened: Mapping[str, OpenedArchive]
    ) -> list[LayerOutcome]:
        pump = self._options.pump
        return map_parallel(
            lambda task: analyse_member(opened[task.path], task.member, pump, self._progress),
            tasks,
        )

    def close(self) -> None:
        return None


def is_local_only(opened: OpenedArchive) -> bool:
    """A streamed input (compressed outer tarball, stdin) was pumped while it was opened:
    its layers are already in this process and no worker could read them faster."""
    return bool(opened.prepumped) or opened.source.name == "<stdin>"


def new_executor(
    kind: str, scheduler: str | None, options: OpenOptions, progress: Progress | None
) -> LayerExecutor:
    """`local`, or `dask` (on `scheduler`, else on a local cluster started for this run)."""
    local = LocalExecutor(options, progress)
    if kind == "local" and scheduler is None:
        return local
    if kind not in ("local", "dask"):
        raise UsageError(f"unknown executor {kind!r}", hint="use local or dask")
    module = importlib.import_module("ocidiff.audit.dask_executor")
    try:
        executor: LayerExecutor = module.connect(scheduler, options, local)
    except ImportError as exc:
        raise UsageError(
            f"the dask executor needs the dask extra ({exc.name} is missing)",
            hint="pip install 'ocidiff[dask]'",
        ) from None
    return executor
