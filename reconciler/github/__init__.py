"""Everything that knows a URL: the HTTP transport (auth, retries, rate limits, bounds),
checked reading of response bodies, and one client per endpoint family composed on it.

May import: model, errors, safe_text. Nothing above it (plan, ledger, commands).
"""
