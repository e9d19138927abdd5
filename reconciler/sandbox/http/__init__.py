"""The socket side: a threading HTTP server that parses requests, runs the pipeline, and
writes and records GitHub's replies. Imports `pipeline` and `rules`."""
