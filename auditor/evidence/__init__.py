"""Evidence bundles: the run's report, redacted snapshots and versions, hashed and optionally signed."""
