"""Batch audit of archived releases: integrity, inventories, packages, hazards and the diffs
between consecutive releases, kept in a SQLite catalog. `run.run_audit` is the entry point."""
