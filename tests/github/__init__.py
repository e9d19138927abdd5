"""Tests of reconciler.github: auth, transport under attack, malformed responses, PR comments."""
