"""Progress bars for long loops: `track(items, description)` draws one only when a command turned
progress on (tools/console.py) and there are many items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import TypeVar

MANY_ITEMS = 50  # fewer items than this finish before a bar would be worth drawing

Item = TypeVar("Item")
Tracker = Callable[[Sequence, str], Iterable]
active_tracker: ContextVar[Tracker | None] = ContextVar("newsletter_progress", default=None)


def track(items: Sequence[Item], description: str) -> Iterable[Item]:
    """`items`, with a progress bar on the terminal when a command asked for one and there are many."""
    tracker = active_tracker.get()
    if tracker is None or len(items) < MANY_ITEMS:
        return items
    return tracker(items, description)
