"""The manifest: YAML that remembers where each node came from, the JSON Schema and GitHub's
naming rules, reading files into the desired state, and dumping one back.

May import: model, errors, values, local_files. Never the network (github/), never commands.
"""
