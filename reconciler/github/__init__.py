"""Everything that knows a URL: one shared requester (`transport`, with `urls`, `limits`,
`bodies`, `connections`, `permissions`, `pagination`, `responses`, `auth`) and one client per
endpoint family composed on it (`secrets`, `repositories`, `contents`, `comments`), held
together by the `client.GitHubClient` facade.

May import: model, errors, safe_text, local_files. Nothing above it (plan, ledger, commands).
"""
