"""The value ledger: its versioned file format and keyed fingerprints, where it is stored
(a local file, a file on a GitHub branch), and recording what apply wrote.

May import: model, errors, values, plan, github (stores and recording read the API).
"""
