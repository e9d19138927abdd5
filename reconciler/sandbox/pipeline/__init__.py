"""The request pipeline, free of sockets: faults, credentials, rate limit, route, permissions,
the endpoint, conditional replies; and the records kept. Imports `endpoints`, `world`, `rules`."""
