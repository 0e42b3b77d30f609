"""How a long service run reports how far it is, without printing anything itself."""

from __future__ import annotations

from collections.abc import Callable

#: ``progress(done, total)``, called as items finish; never given an identifier.
Progress = Callable[[int, int], None]


def report(progress: Progress | None, done: int, total: int) -> None:
    """Call ``progress`` if one was given."""
    if progress is not None:
        progress(done, total)
