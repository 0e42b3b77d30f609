"""Pure work on many files in worker processes, results back in order, memory kept flat."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many items, starting worker processes costs more than it saves.
PARALLEL_FROM = 8


def _watch_parent(parent: int) -> None:
    """End this worker as soon as the process that started it is gone."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _start_worker(
    parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]
) -> None:
    # A worker must not outlive a killed caller, nor hold the caller's output open: a
    # caller reading through a pipe would wait for it. Results and errors come back
    # pickled, so the worker needs no stdout or stderr of its own.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


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
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, initargs),
    ) as pool:
        pending: deque[Future[R]] = deque()
        for item in todo:
            pending.append(pool.submit(work, item))
            if len(pending) >= window * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
