"""Reproducibility gates for CI: verify-tree (an image's files against the build context),
fingerprint (build inputs), and the release ledger. Re-exports nothing; import the modules."""
