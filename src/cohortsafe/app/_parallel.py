"""Pure work on many files in worker processes, results back in order, memory kept flat."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many items, starting worker processes costs more than it saves.
PARALLEL_FROM = 8


def ordered_map(
    work: Callable[[T], R],
    items: Iterable[T],
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    window: int = 32,
) -> Iterator[R]:
    """``work(item)`` for each item, in worker processes when there are many, in order.

    Workers start fresh (spawn): they share no database connection or thread with
    the caller, so ``work`` must be pure, and must live in a module that does not
    import Django (a worker has no app registry). Up to ``window`` items per worker are in
    flight: enough that workers keep going while the caller commits a batch, few
    enough that results never pile up in memory.
    """
    todo = list(items)
    if len(todo) < PARALLEL_FROM:
        if initializer is not None:
            initializer(*initargs)
        yield from (work(item) for item in todo)
        return
    workers = max(1, min(4, os.cpu_count() or 1))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=initializer, initargs=initargs
    ) as pool:
        pending: deque[Future[R]] = deque()
        for item in todo:
            pending.append(pool.submit(work, item))
            if len(pending) >= window * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
