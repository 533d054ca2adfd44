"""How many form posts one IP address may make: a sliding window per address, in memory, bounded
(the oldest addresses are forgotten first). Per-address email limits live in the mail queue
(SubscriberStore.sign_up), where they survive a restart."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_TRACKED = 10_000


class RateLimit:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute, self.clock = per_minute, clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0 when `key` may go on, else the seconds until it may."""
        now = self.clock()
        with self._lock:
            times = self._seen.pop(key, None) or deque()
            while times and times[0] <= now - 60:
                times.popleft()
            self._seen[key] = times
            if len(self._seen) > MAX_TRACKED:
                self._seen.popitem(last=False)
            if len(times) >= self.per_minute:
                return max(times[0] + 60 - now, 1.0)
            times.append(now)
            return 0.0
