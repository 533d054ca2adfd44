"""Group commit (pipeline/readers/commits.py): many threads' changes to the subscriber table in
shared transactions, each answered only once it is on disk, a failing one undone alone."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from pipeline.deliver.subscribers import PENDING, Subscriber, SubscriberStore
from pipeline.readers.commits import GroupCommit


def stored(path) -> dict[str, str]:
    with sqlite3.connect(path) as db:  # a connection of its own: sees only what was committed
        return dict(db.execute("SELECT email, status FROM subscribers"))


def sign_up(address: str):
    return lambda store: store.sign_up(Subscriber(address, stage="general"), mails_per_day=3)


def test_every_thread_gets_its_own_answer_and_its_change_is_committed_when_it_returns(tmp_path):
    path = tmp_path / "subscribers.sqlite3"
    writes = GroupCommit(path)
    addresses = [f"reader{n}@example.com" for n in range(40)]

    def one(address: str):
        signup = writes.run(sign_up(address))
        return address, signup.mail, stored(path).get(address)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one, addresses))

    assert [(address, "confirm", PENDING) for address in addresses] == answers


def test_a_change_that_fails_is_undone_alone_and_its_thread_gets_the_error(tmp_path):
    path = tmp_path / "subscribers.sqlite3"
    writes = GroupCommit(path)
    inside, release = threading.Event(), threading.Event()

    def hold(store):  # keeps the first leader in its batch while the next two queue up together
        inside.set()
        release.wait(10)
        return store.sign_up(Subscriber("first@example.com"))

    def half_then_fail(store):
        store.sign_up(Subscriber("broken@example.com"))
        raise ValueError("this change goes wrong after its first write")

    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(writes.run, hold)
        inside.wait(10)
        broken = pool.submit(writes.run, half_then_fail)
        fine = pool.submit(writes.run, sign_up("fine@example.com"))
        while len(writes._queued) < 2:  # both queued behind the held batch
            threading.Event().wait(0.01)
        release.set()
        first.result(10)
        fine.result(10)
        with pytest.raises(ValueError, match="goes wrong"):
            broken.result(10)

    assert stored(path) == {"first@example.com": PENDING, "fine@example.com": PENDING}
    with SubscriberStore(path) as store:
        assert store.events("broken@example.com") == []
        assert store.unsent_mail() == 2


def test_a_lone_change_is_made_in_the_callers_own_thread(tmp_path):
    writes = GroupCommit(tmp_path / "subscribers.sqlite3")

    made_in = writes.run(lambda store: (store.sign_up(Subscriber("one@example.com")), threading.get_ident())[1])

    assert made_in == threading.get_ident()


def test_a_database_that_cannot_be_opened_is_an_error_for_the_caller_not_a_wait(tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the folder should be")
    writes = GroupCommit(blocker / "subscribers.sqlite3")

    with pytest.raises(OSError):
        writes.run(sign_up("reader@example.com"))
