"""The in-memory world behind the API: organisations, repositories, secrets and their keys,
GitHub Apps, git data, issues, accounts, the clock. Imports only `rules`."""
