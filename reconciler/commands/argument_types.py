"""The checks that bound numeric and structured flags (argparse `type=` functions).

Messages never quote the text given: a value pasted into a flag must not be echoed (see the
CLI's parser).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from reconciler.targets import Target, TargetSyntaxError, parse_target

MAX_SECONDS = 86_400.0  # a day: longer pacing or rate-limit waits are a typo, not a plan


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, not infinity or NaN")
    return value


def seconds(text: str) -> float:
    value = _number(text, "a number of seconds")
    if not 0 <= value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SECONDS:.0f} seconds")
    return value


def timeout(text: str) -> float:
    value = _number(text, "a number of seconds")
    if not 0.01 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0.01 and 3600 seconds")
    return value


def fraction(text: str) -> float:
    value = _number(text, "a fraction between 0 and 1")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be a fraction between 0 and 1 (0.3 = 30 %)")
    return value


def target(text: str) -> Target:
    try:
        return parse_target(text)
    except TargetSyntaxError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {low} to {high}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}")
        return value

    return parse
