"""reconciler: GitHub secrets as code.

Data flows one way: manifest/ -> desired state; github/ -> live state (live.py);
(desired, live) -> diff.py -> plan.py -> executor.py -> results -> render.py.
commands/ wires those stages for each subcommand; cli.py parses arguments and is the one error
boundary. The layering is checked by tests/test_architecture.py.
"""

__version__ = "0.1.0"
