"""Per-layer analysis on a Dask distributed cluster (the `dask` extra).

Workers receive (archive path, member, options), open the archive at that path themselves, and
send back the layer's stored-form record: every worker must see the archives at the paths the
coordinator uses (a shared file system). Only the coordinator writes the catalog. Streamed
inputs (compressed outer tarballs, stdin) stay local: they were already read while being opened.
Imported only when `--executor dask` or `--scheduler` is given.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..api import OpenedArchive, OpenOptions
from ..concurrency import worker_count
from ..errors import UsageError
from .analysis import LayerOutcome, analyse_at
from .executor import LayerTask, LocalExecutor, is_local_only


class DaskExecutor:
    def __init__(
        self,
        client: Any,
        options: OpenOptions,
        local: LocalExecutor,
        *,
        owns_client: bool,
        cluster: Any = None,
    ) -> None:
        self._client = client
        self._options = options
        self._local = local
        self._owns_client = owns_client
        self._cluster = cluster  # owned only when this executor started it

    def run(
        self, tasks: Sequence[LayerTask], opened: Mapping[str, OpenedArchive]
    ) -> list[LayerOutcome]:
        remote = [i for i, t in enumerate(tasks) if not is_local_only(opened[t.path])]
        local = [i for i, t in enumerate(tasks) if is_local_only(opened[t.path])]
        outcomes: dict[int, LayerOutcome] = {}
        if remote:
            futures = self._client.map(
                analyse_at,
                [tasks[i].path for i in remote],
                [tasks[i].member for i in remote],
                [self._options] * len(remote),
                pure=False,
            )
            for index, outcome in zip(remote, self._client.gather(futures), strict=True):
                outcomes[index] = outcome
        if local:
            results = self._local.run([tasks[i] for i in local], opened)
            outcomes.update(zip(local, results, strict=True))
        return [outcomes[i] for i in range(len(tasks))]

    def close(self) -> None:
        if self._owns_client:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def connect(scheduler: str | None, options: OpenOptions, local: LocalExecutor) -> DaskExecutor:
    """A client on `scheduler` (tcp://host:8786), or on a local cluster of worker processes."""
    # Imported by name so that type checking does not need the optional extra installed.
    distributed: Any = importlib.import_module("distributed")
    if scheduler is None:
        cluster = distributed.LocalCluster(
            n_workers=worker_count(), threads_per_worker=1, dashboard_address=None
        )
        return DaskExecutor(
            distributed.Client(cluster), options, local, owns_client=True, cluster=cluster
        )
    try:
        client = distributed.Client(scheduler, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    return DaskExecutor(client, options, local, owns_client=True)


def with_client(client: Any, options: OpenOptions, local: LocalExecutor) -> DaskExecutor:
    """An executor on a client the caller owns (tests, notebooks): never closed here."""
    return DaskExecutor(client, options, local, owns_client=False)
