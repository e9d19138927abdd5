"""Tests of reconciler.values: value sources attacked as a hostile manifest author would."""
