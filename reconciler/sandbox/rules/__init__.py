"""GitHub's rules as data and pure functions: errors, API versions, names, limits, permissions,
pagination, request bodies, quotas. Imports nothing from the sandbox outside `rules`."""
