"""Secondary-limit pacing: however requests arrive, no minute ever holds more points than the
budget, and a run within the budget never waits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.github.pacing import READ_POINTS, WRITE_POINTS, Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@given(
    budget=st.integers(min_value=10, max_value=900),
    steps=st.lists(
        st.tuples(st.sampled_from([READ_POINTS, WRITE_POINTS]), st.floats(0, 2)),
        max_size=400,
    ),
)
def test_no_window_of_a_minute_holds_more_than_the_budget(
    budget: int, steps: list[tuple[int, float]]
) -> None:
    time = FakeTime()
    pacer = Pacer(budget, sleep=time.sleep, clock=time.clock)
    sent: list[tuple[float, int]] = []
    for points, gap in steps:
        time.now += gap
        pacer.take(points)
        sent.append((time.now, points))
    for start, _ in sent:
        assert sum(p for t, p in sent if start <= t < start + 60) <= budget


def test_a_run_within_the_budget_never_waits() -> None:
    time = FakeTime()
    pacer = Pacer(900, sleep=time.sleep, clock=time.clock)
    for _ in range(900):
        pacer.take(READ_POINTS)
    assert time.waits == []
    pacer.take(READ_POINTS)  # the 901st read in the same instant waits for the minute to pass
    assert time.waits == [60.0]


def test_a_large_run_settles_at_the_refill_rate() -> None:
    time = FakeTime()
    pacer = Pacer(900, sleep=time.sleep, clock=time.clock)
    for _ in range(900 * 3):
        pacer.take(READ_POINTS)
    assert time.now == 120.0  # 900 a minute: the third 900 start two minutes in


def test_zero_means_no_pacing() -> None:
    time = FakeTime()
    pacer = Pacer(0, sleep=time.sleep, clock=time.clock)
    for _ in range(10_000):
        pacer.take(WRITE_POINTS)
    assert time.waits == []
