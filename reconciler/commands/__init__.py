"""One module per subcommand, each owning its arguments, its typed options and its run
function; `common` holds the steps several share (load, client, plan, ledger).

May import anything below it; nothing imports it but the CLI.
"""
