"""Tests of reconciler.ledger: the format and recording, end to end, and nothing lost."""
