"""Group commit: the reader service's writes to the subscriber table, from many request threads
(and the mail sender), made in shared transactions.

SQLite takes one writer at a time, and each commit syncs to disk (`synchronous=FULL`: a signup
that got its "Check your inbox" page survives a power cut). One commit per signup makes every
signup wait for the syncs of all those before it. Here a thread puts its change in the queue;
if no other thread is writing, it becomes the leader: it takes every change queued at that
moment (its own and any that came meanwhile), makes each in a savepoint of one transaction (a
change that fails is undone alone and its thread gets the error), commits once, and only then
wakes the threads whose changes it made. Changes queued while it commits wait for the next
leader, one of their own threads. So nobody is answered before her change is on disk, 50
signups at once cost one sync instead of 50, and a lone signup is made in its own thread with
no hand-over at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from pipeline.core.clock import now as utc_now
from pipeline.deliver.subscribers import SubscriberStore

T = TypeVar("T")
Change = tuple[Callable[[SubscriberStore], object], Future]


class GroupCommit:
    def __init__(self, path: Path, clock: Callable[[], datetime] = utc_now):
        self.path, self.clock = path, clock
        self._turn = threading.Condition()
        self._queued: list[Change] = []
        self._leading = False
        self._store: SubscriberStore | None = None  # one connection, used by one leader at a time

    def run(self, change: Callable[[SubscriberStore], T]) -> T:
        """`change(store)` made and committed (or its exception raised here)."""
        future: Future = Future()
        with self._turn:
            self._queued.append((change, future))
            while not future.done():
                if self._leading:
                    self._turn.wait()
                    continue
                self._leading, batch, self._queued = True, self._queued, []
                self._turn.release()
                try:
                    self._lead(batch)
                finally:
                    self._turn.acquire()
                    self._leading = False
                    self._turn.notify_all()
        return future.result()

    def _lead(self, batch: list[Change]) -> None:
        try:
            if self._store is None:
                self._store = SubscriberStore(self.path, clock=self.clock)
        except Exception as error:  # e.g. the folder is not writable: every thread of the batch hears why
            for _, future in batch:
                future.set_exception(error)
            return
        try:
            _commit(self._store, batch)
        except BaseException as error:  # e.g. KeyboardInterrupt: nobody of the batch may wait on forever
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            raise


def _commit(store: SubscriberStore, batch: list[Change]) -> None:
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
