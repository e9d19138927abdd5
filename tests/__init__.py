"""The tests: one directory per package of the tool (and sandbox/ for the sandbox's own), the
tests of the top-level modules beside this file, the shared helpers in `tests.support`."""
