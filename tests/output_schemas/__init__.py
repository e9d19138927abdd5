"""The published JSON Schemas of the tool's JSON outputs (plan, apply results, ledger): every
document the real CLI writes conforms, and each schema rejects what the tool never writes."""
