"""Where values come from: the env allow-list policy, resolving sources into masked
`SecretValue`s, and sealing values for GitHub.

May import: model, errors, local_files. Nothing that talks to the network.
"""
