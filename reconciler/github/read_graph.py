"""Reads as one dependency graph: each read starts as soon as what it needs is known, rather
than in phases that each wait for the slowest request of the one before.

A read runs on the pool; what follows from its answer (`then`) runs on the thread that called
`run()`, which may add further reads. So the callbacks need no locks, and a pool thread never
waits on another read (which could deadlock a bounded pool).
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from reconciler.github.pagination import Paged

T = TypeVar("T")
Recover = Callable[[BaseException], bool]


class ReadGraph:
    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._pending: dict[Future[Any], tuple[Callable[[Any], None], Recover | None]] = {}
        # Finished reads, in the order they finished: one wake-up per read, where
        # `concurrent.futures.wait` would walk every pending future each time (quadratic
        # with thousands of listings queued).
        self._done: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()

    def add(
        self, read: Callable[[], T], then: Callable[[T], None], recover: Recover | None = None
    ) -> None:
        """`recover(error)` may take a failure of this read in hand (returning True), in
        which case nothing follows from it; any other failure ends the run."""
        future = self._pool.submit(read)
        self._pending[future] = (then, recover)
        future.add_done_callback(self._done.put)

    def add_paged(
        self, paged: Paged[T], then: Callable[[list[T]], None], recover: Recover | None = None
    ) -> None:
        """Every item of a list, in page order: page 1 says how many pages there are, and
        the others are then read at once."""

        def first(answer: tuple[list[T], int]) -> None:
            items, last = answer
            pages: dict[int, list[T]] = {1: items}

            def one(number: int) -> Callable[[list[T]], None]:
                def got(page: list[T]) -> None:
                    pages[number] = page
                    if len(pages) == last:
                        then([item for n in sorted(pages) for item in pages[n]])

                return got

            if last == 1:
                then(items)
            for number in range(2, last + 1):
                self.add(partial(paged.page, number), one(number))

        self.add(paged.first, first, recover)

    def run(self) -> None:
        """Until every read (and every read they added) is done. The first failure is
        raised; the caller's `read_pool` then cancels what is queued."""
        while self._pending:
            future = self._done.get()
            then, recover = self._pending.pop(future)
            error = future.exception()
            if error is None:
                then(future.result())
            elif recover is None or not recover(error):
                raise error
