"""The sandbox's own tests: its endpoints, rules and layers, checked against GitHub's OpenAPI."""
