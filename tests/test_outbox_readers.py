"""The weekly email through the outbox (the default, self-hosted path) carries each reader's own
preferences and unsubscribe links, as smtp's messages do: the campaign files every reader shares
keep the placeholders, and the send writes one copy per reader of the version, her tokens in the
HTML, the text and the List-Unsubscribe header."""

from __future__ import annotations

import json
import re
from email import message_from_bytes, policy

import pytest
from test_stages_smtp import MARKS, NOW, WEEK

from pipeline.build.run import build
from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError
from pipeline.deliver.ledger import Ledger, ledger_path
from pipeline.deliver.providers import get_provider
from pipeline.deliver.push import push_issue
from pipeline.deliver.subscribers import Subscriber, SubscriberStore
from pipeline.deliver.tokens import (
    PREFERENCES,
    PREFERENCES_PLACEHOLDER,
    TOKEN_PLACEHOLDER,
    read_reader_token,
    read_token,
)

SECRET = "a-long-random-secret-for-the-outbox-tests"
ENV = {"NEWSLETTER_UNSUBSCRIBE_SECRET": SECRET}
READERS = [
    Subscriber("ana@example.com", "Ana", stage="pregnant"),
    Subscriber("bea@example.com", "Bea", stage="postpartum-0-6w"),
    Subscriber("cat@example.com", "Cat", stage="pregnant", status="unsubscribed"),
]
PREFERENCES_LINK = re.compile(r"/preferences/\?token=([A-Za-z0-9_.-]+)")
UNSUBSCRIBE_LINK = re.compile(r"/unsubscribe/\?token=([A-Za-z0-9_.-]+)")


@pytest.fixture
def outbox_project(make_project):
    root = make_project(with_repo_content=True)  # its newsletter.toml: [provider] name = "outbox"
    config = load_config(root)
    assert config.provider.name == "outbox"
    with SubscriberStore.for_config(config) as store:
        store.import_subscribers(READERS)
    return root


def push_all(root, env=ENV, send_now=True):
    config = load_config(root)
    provider = get_provider(config, env)
    built = build(config, WEEK, provider=provider, now=NOW).emails
    with Ledger(ledger_path(config.state_dir)) as ledger:
        for version in built:
            push_issue(provider, ledger, version.email, version.eml, send_now=send_now)
    return config.outbox_dir / WEEK


def parts(message) -> dict[str, str]:
    return {kind: message.get_body((kind,)).get_content() for kind in ("html", "plain")}


def test_the_shared_campaign_files_hold_placeholders_and_no_readers_token(outbox_project):
    week = push_all(outbox_project, send_now=False)
    for folder in ("pregnant", "postpartum-0-6w", "general"):
        shared = message_from_bytes((week / folder / "email.eml").read_bytes(), policy=policy.default)
        record = json.loads((week / folder / "campaign.json").read_text(encoding="utf-8"))
        for text in [*parts(shared).values(), record["html"], record["text"]]:
            assert f"/preferences/?token={PREFERENCES_PLACEHOLDER}" in text
            assert f"/unsubscribe/?token={TOKEN_PLACEHOLDER}" in text
            assert not PREFERENCES_LINK.search(text.replace(PREFERENCES_PLACEHOLDER, ""))
    assert not (week / "pregnant" / "readers").exists()  # a draft is nobody's yet


def test_the_send_writes_each_reader_her_own_copy_with_her_preferences_link(outbox_project):
    week = push_all(outbox_project)

    ana_file = week / "pregnant" / "readers" / "ana@example.com.eml"
    ana = message_from_bytes(ana_file.read_bytes(), policy=policy.default)
    assert ana["To"].addresses[0].addr_spec == "ana@example.com"
    for kind, text in parts(ana).items():
        [preferences] = set(PREFERENCES_LINK.findall(text))
        [unsubscribe] = set(UNSUBSCRIBE_LINK.findall(text))
        assert read_reader_token(preferences, PREFERENCES, SECRET)[0] == "ana@example.com", kind
        assert read_token(unsubscribe, SECRET, load_config(outbox_project).base_url) == "ana@example.com", kind
        assert PREFERENCES_PLACEHOLDER not in text and TOKEN_PLACEHOLDER not in text
    assert MARKS["pregnant"] in " ".join(parts(ana)["plain"].split())
    assert f"token={unsubscribe}>" in str(ana["List-Unsubscribe"])

    assert [path.name for path in (week / "postpartum-0-6w" / "readers").iterdir()] == ["bea@example.com.eml"]
    assert not (week / "general" / "readers").exists()  # nobody's version: no copies
    assert not list(week.rglob("cat@example.com.eml"))  # she left: nothing for her
    record = json.loads((week / "pregnant" / "campaign.json").read_text(encoding="utf-8"))
    assert (record["status"], record["reader_copies"]) == ("sent", 1)


def test_a_send_to_readers_without_the_secret_is_refused_naming_it_and_marks_nothing_sent(outbox_project):
    with pytest.raises(ConfigError, match="NEWSLETTER_UNSUBSCRIBE_SECRET"):
        push_all(outbox_project, env={})
    week = load_config(outbox_project).outbox_dir / WEEK
    statuses = {json.loads(path.read_text(encoding="utf-8"))["status"] for path in week.rglob("campaign.json")}
    assert "sent" not in statuses
    assert not list(week.rglob("readers/*.eml"))


def test_her_copys_preferences_link_opens_her_page_in_the_reader_service(outbox_project):
    from readers_support import SECRET as SERVICE_SECRET
    from readers_support import Service

    week = push_all(outbox_project, env={"NEWSLETTER_UNSUBSCRIBE_SECRET": SERVICE_SECRET})
    copy = message_from_bytes(
        (week / "pregnant" / "readers" / "ana@example.com.eml").read_bytes(), policy=policy.default
    )
    [token] = set(PREFERENCES_LINK.findall(parts(copy)["plain"]))

    status, page, _ = Service(outbox_project).request("GET", "/preferences/", query=f"token={token}")

    assert status == "200 OK" and "For ana@example.com." in page and 'value="pregnant" checked' in page
