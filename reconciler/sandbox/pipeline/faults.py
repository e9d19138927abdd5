"""Injected failures: 5xx answers, dropped connections and rate-limit refusals."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "drop", "secondary_rate_limit", "primary_rate_limit"]
KINDS: tuple[str, ...] = ("status", "drop", "secondary_rate_limit", "primary_rate_limit")


@dataclass(frozen=True, slots=True)
class Fault:
    """One failure rule.

    It applies to requests whose method equals `method` (any when None) and whose path,
    without the `/api/v3` prefix or query, matches `path_pattern` (`re.search`). It fires
    on the first `count` matches, or on each match with probability `fraction` drawn
    from `random.Random(seed)`; with neither it fires on every match.
    """

    kind: FaultKind
    status: int = 502
    method: str | None = None
    path_pattern: str | None = None
    count: int | None = None
    fraction: float | None = None
    retry_after: int = 60
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if self.fraction is not None and not 0.0 <= self.fraction <= 1.0:
            raise ValueError("fraction must be within 0..1")
        if self.count is not None and self.fraction is not None:
            raise ValueError("give count or fraction, not both")


class _Armed:
    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.pattern = re.compile(fault.path_pattern) if fault.path_pattern else None
        self.remaining = fault.count
        self.random = random.Random(fault.seed)

    def fires(self, method: str, path: str) -> bool:
        fault = self.fault
        if fault.method is not None and fault.method.upper() != method:
            return False
        if self.pattern is not None and not self.pattern.search(path):
            return False
        if self.remaining is not None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True
        if fault.fraction is not None:
            return self.random.random() < fault.fraction
        return True


class Faults:
    def __init__(self) -> None:
        self._armed: list[_Armed] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(_Armed(fault))

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def match(self, method: str, path: str) -> Fault | None:
        """The first rule that fires for this request; a fired `count` rule is used up."""
        with self._lock:
            for armed in self._armed:
                if armed.fires(method, path):
                    return armed.fault
            return None
