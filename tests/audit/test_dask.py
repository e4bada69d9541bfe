"""The same audit with per-layer work on a Dask cluster writes the same catalog as the local
executor (workers read the archives at the coordinator's paths)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocidiff.api import OpenOptions
from ocidiff.audit.catalog import Catalog
from ocidiff.audit.executor import LocalExecutor
from ocidiff.audit.run import AuditOptions, audit_open_options, run_audit

from .helpers import dump, release_folder

distributed = pytest.importorskip(
    "distributed", reason="the dask extra is not installed (pip install 'ocidiff[dask]')"
)


def test_local_cluster_gives_the_local_catalog(tmp_path: Path) -> None:
    from ocidiff.audit.dask_executor import with_client

    folder = release_folder(tmp_path)
    local, remote = tmp_path / "local.db", tmp_path / "dask.db"
    with Catalog(str(local)) as catalog:
        run_audit([str(folder)], AuditOptions(catalog=str(local)), catalog)
    options = audit_open_options(OpenOptions())
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        executor = with_client(client, options, LocalExecutor(options))
        with Catalog(str(remote)) as catalog:
            outcome = run_audit([str(folder)], AuditOptions(catalog=str(remote)), catalog, executor)
        executor.close()
    assert outcome.counts["layers_read"] > 0
    assert dump(remote) == dump(local)
