"""Stage versions over real SMTP (aiosmtpd on 127.0.0.1): each subscriber gets exactly one
version of the week - the one of the stage she chose, else of her first stage tag, or `general` - counted per
recipient at the server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_smtp import ENV, Mailbox, smtp_server, toml

from pipeline.build.run import build
from pipeline.core.config import load_config
from pipeline.deliver.ledger import Ledger, ledger_path
from pipeline.deliver.providers import get_provider
from pipeline.deliver.push import push_issue
from pipeline.deliver.subscribers import Subscriber, SubscriberStore

WEEK = "2026-W48"
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
READERS = [
    Subscriber("ana@example.com", "Ana", ("pregnant",)),
    Subscriber("bea@example.com", "Bea", ("postpartum-0-6w",)),
    Subscriber("cat@example.com", "Cat", ("postpartum-6w-plus",)),
    Subscriber("dee@example.com", "Dee"),
    Subscriber("eve@example.com", "Eve", ("postpartum-0-6w", "pregnant")),  # two stage tags: pregnant comes first
    Subscriber("fay@example.com", "Fay", ("workshop-2025",)),  # no stage tag
    # The stage she chose on the form (or the preferences page) beats her tags.
    Subscriber("gia@example.com", "Gia", ("pregnant",), stage="postpartum-6w-plus"),
    Subscriber("hal@example.com", "Hal", ("pregnant",), stage="general"),
    Subscriber("ivy@example.com", "Ivy", ("postpartum-0-6w",), stage="a-stage-since-removed"),
]
EXPECTED = {
    "ana@example.com": "pregnant",
    "bea@example.com": "postpartum-0-6w",
    "cat@example.com": "postpartum-6w-plus",
    "dee@example.com": "general",
    "eve@example.com": "pregnant",
    "fay@example.com": "general",
    "gia@example.com": "postpartum-6w-plus",
    "hal@example.com": "general",
    "ivy@example.com": "postpartum-0-6w",
}
# A sentence only each version has (the real week's content).
MARKS = {
    "pregnant": "While you are pregnant, make the hip extension",
    "postpartum-0-6w": "In the first six weeks after the birth, stay with",
    "postpartum-6w-plus": "the prone leg lift asks your glutes",
}


@pytest.fixture
def smtp_project(make_project):
    def make(port: int, readers=READERS):
        root = make_project(with_repo_content=True)
        (root / "newsletter.toml").write_text(toml(port), encoding="utf-8")
        with SubscriberStore.for_config(load_config(root)) as store:
            store.import_subscribers(readers)
        return root

    return make


def push_versions(root, only: tuple[str, ...] | None = None):
    config = load_config(root)
    provider = get_provider(config, ENV)
    built = build(config, WEEK, provider=provider, now=NOW).emails
    with Ledger(ledger_path(config.state_dir)) as ledger:
        return [
            push_issue(provider, ledger, b.email, b.eml, send_now=True)
            for b in built
            if only is None or b.stage in only
        ]


def version_received(mailbox: Mailbox) -> dict[str, list[str]]:
    """Recipient -> the versions of the messages she got, told apart by their text."""
    got: dict[str, list[str]] = {}
    for (_, [recipient], _), message in zip(mailbox.messages, mailbox.parsed(), strict=True):
        text = " ".join(message.get_body(("plain",)).get_content().split())
        found = [stage for stage, mark in MARKS.items() if mark in text] or ["general"]
        got.setdefault(recipient, []).extend(found)
    return got


def test_every_subscriber_gets_exactly_the_version_of_her_stage(smtp_project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = smtp_project(server.port)
        results = push_versions(root)

    assert [result.action for result in results] == ["created"] * 4
    assert sorted(mailbox.recipients()) == sorted(EXPECTED)  # one message each
    assert version_received(mailbox) == {address: [version] for address, version in EXPECTED.items()}


def test_pushing_the_versions_again_sends_nothing(smtp_project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = smtp_project(server.port)
        push_versions(root)
        again = push_versions(root)

    assert len(mailbox.messages) == len(EXPECTED)
    assert all("already sent" in result.message for result in again)


def test_a_reader_whose_stage_changed_between_two_versions_is_not_sent_a_second_one(smtp_project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = smtp_project(server.port)
        push_versions(root, only=("pregnant",))
        with SubscriberStore.for_config(load_config(root)) as store:  # Eve had her baby and updated her tags
            store.import_subscribers([Subscriber("eve@example.com", "Eve", ("postpartum-0-6w",))])
        push_versions(root)

    assert mailbox.recipients().count("eve@example.com") == 1
    assert version_received(mailbox)["eve@example.com"] == ["pregnant"]
    assert sorted(mailbox.recipients()) == sorted(EXPECTED)


def test_a_stage_nobody_is_in_sends_nothing_and_is_done(smtp_project):
    mailbox = Mailbox()
    readers = [person for person in READERS if EXPECTED[person.email] != "postpartum-6w-plus"]
    with smtp_server(mailbox) as server:
        root = smtp_project(server.port, readers=readers)
        results = push_versions(root, only=("postpartum-6w-plus",))

    assert mailbox.messages == []
    assert results[0].steps == ["drafted", "sent"]
