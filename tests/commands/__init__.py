"""Tests of reconciler.commands end to end: plan, apply (faults, properties, interrupt),
import/seal, reviewed plan files, the Env and the typed options."""
