"""Group commit: the reader service's writes to the subscriber table, from many request threads
(and the mail sender), made by one writer thread in shared transactions.

SQLite takes one writer at a time, and each commit syncs to disk (`synchronous=FULL`: a signup
that got its "Check your inbox" page survives a power cut). One commit per signup makes every
signup wait for the syncs of all those before it. Here a thread hands its change to the writer
and waits; the writer takes every change waiting at that moment, makes each in a savepoint of
one transaction (a change that fails is undone alone and its thread gets the error), commits
once, and only then answers the threads. So nobody is answered before her change is on disk,
and 50 signups at once cost one sync instead of 50.

The writer thread starts with the first change and ends after a second with none, closing its
connection, so an idle service (or a test's) holds no thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from pipeline.core.clock import now as utc_now
from pipeline.deliver.subscribers import SubscriberStore

T = TypeVar("T")
MAX_BATCH = 200  # changes in one transaction: far more than requests in flight
IDLE_SECONDS = 1.0


class GroupCommit:
    def __init__(self, path: Path, clock: Callable[[], datetime] = utc_now):
        self.path, self.clock = path, clock
        self._waiting: queue.SimpleQueue[tuple[Callable[[SubscriberStore], object], Future]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False

    def run(self, change: Callable[[SubscriberStore], T]) -> T:
        """`change(store)` made and committed (or its exception raised here), in this thread's turn."""
        future: Future = Future()
        self._waiting.put((change, future))
        with self._lock:
            if not self._running:
                self._running = True
                threading.Thread(target=self._write, name="reader-commits", daemon=True).start()
        return future.result()

    def _write(self) -> None:
        try:
            store = SubscriberStore(self.path, clock=self.clock)
        except Exception as error:  # e.g. the folder is not writable: every waiting thread hears why
            self._fail_waiting(error)
            return
        with store:
            while batch := self._next_batch():
                _commit(store, batch)

    def _fail_waiting(self, error: Exception) -> None:
        with self._lock:
            self._running = False
            while not self._waiting.empty():
                self._waiting.get_nowait()[1].set_exception(error)

    def _next_batch(self) -> list[tuple[Callable, Future]]:
        try:
            batch = [self._waiting.get(timeout=IDLE_SECONDS)]
        except queue.Empty:
            with self._lock:
                if self._waiting.empty():
                    self._running = False
                    return []
            return self._next_batch()
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self._waiting.get_nowait())
            except queue.Empty:
                break
        return batch


def _commit(store: SubscriberStore, batch: list[tuple[Callable, Future]]) -> None:
    outcomes: list[tuple[Future, object, BaseException | None]] = []
    try:
        with store.transaction():
            for change, future in batch:
                try:
                    with store.transaction():  # a savepoint: undone alone if it fails
                        outcomes.append((future, change(store), None))
                except Exception as error:
                    outcomes.append((future, None, error))
    except Exception as error:  # the commit itself failed: none of the batch was made
        for _, future in batch:
            future.set_exception(error)
        return
    for future, value, error in outcomes:
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)
