"""One module per subcommand. Each has its `NAME` and `HELP`, `add_arguments(parser)`, a frozen
`Options` with `from_args(namespace)`, and `run(options, env) -> int`; it reads and writes only
through the `Env` it is given. `arguments` holds the flag groups several share (and their
options), `common` the steps several share (load, connect, plan, ledger), `reviewed_plan` the
plan file `apply` accepts.

A command module imports at its top only what its arguments and options need; what the command
does is imported in `run`, so `--help` and `validate` load no HTTP, JWT or crypto library.

May import anything below it; nothing imports it but the CLI, and it never imports the CLI
(`demo` re-enters it through `Env.run`).
"""
