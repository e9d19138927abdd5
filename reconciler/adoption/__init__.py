"""Adopting what GitHub holds now: which repositories an import reads (names, globs), reading
their secrets, and naming one env variable per distinct secret. Used by `reconciler import`.

May import: model, errors, values, github. Never commands or the CLI.
"""
