"""Helpers shared by the tests: the one package they come from, always imported by its full name,
`from tests.support.<module> import ...` (no path tricks, no bare `import e2e`)."""
