"""Tests of reconciler.manifest: loading, YAML details, discovery, fuzzing (fixtures/ beside)."""
