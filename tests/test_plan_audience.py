"""`newsletter push --plan` says who a push reaches, in each provider's own terms: the list,
audience or account it goes to, and for smtp how many subscribers that is today."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.cli.main import describe_email
from pipeline.core.config import config_from_dict
from pipeline.core.errors import ConfigError
from pipeline.core.model import Issue, RenderedEmail
from pipeline.deliver.providers import get_provider
from pipeline.deliver.subscribers import Subscriber, SubscriberStore, store_path

OPTIONS = {
    "buttondown": {"username": "strongfromwithin"},
    "mailchimp": {"list_id": "a1b2c3d4e5"},
    "kit": {"form_id": "7463169"},
    "listmonk": {"base_url": "https://lists.example.com", "list_ids": [3, 7]},
    "smtp": {"host": "127.0.0.1", "port": 2525, "security": "none"},
    "outbox": {},
}
READERS = [
    Subscriber("ana@example.com", "Ana", ("pregnant",)),
    Subscriber("bea@example.com", "Bea", ("postpartum-0-6w",)),
    Subscriber("eve@example.com", "Eve", ("postpartum-0-6w", "pregnant")),
    Subscriber("dee@example.com", "Dee"),
]


def provider_for(root: Path, name: str, **options):
    config = config_from_dict({"provider": {"name": name, **OPTIONS[name], **options}}, root)
    return get_provider(config, env={})


@pytest.mark.parametrize(
    "name, expected",
    [
        ("buttondown", "every active subscriber of buttondown.com/strongfromwithin"),
        ("mailchimp", "every subscribed member of Mailchimp audience a1b2c3d4e5"),
        ("kit", "every subscriber of the Kit account"),
        ("listmonk", "the subscribers of lists 3, 7"),
        ("outbox", "nobody yet: the email waits in outbox/"),
    ],
)
def test_each_provider_names_where_a_push_goes(tmp_path, name, expected):
    assert provider_for(tmp_path, name).audience().startswith(expected)


def test_a_missing_mailchimp_audience_is_a_config_error_at_plan_time(tmp_path):
    with pytest.raises(ConfigError, match="list_id"):
        provider_for(tmp_path, "mailchimp", list_id="").audience()


def test_smtp_counts_the_active_subscribers_of_its_table(tmp_path):
    provider = provider_for(tmp_path, "smtp")
    with SubscriberStore(store_path(provider.config)) as store:
        store.import_subscribers(READERS)
        store.unsubscribe("dee@example.com")
    assert provider.audience() == "3 active subscribers in .newsletter/subscribers.sqlite3"


def test_smtp_counts_the_readers_of_each_stage_version(tmp_path):
    provider = provider_for(tmp_path, "smtp")
    with SubscriberStore(store_path(provider.config)) as store:
        store.import_subscribers(READERS)
    assert provider.stage_audience("pregnant").endswith(
        ": 2 active subscribers in .newsletter/subscribers.sqlite3"
    )  # Eve's first stage
    assert provider.stage_audience("postpartum-0-6w").endswith(
        ": 1 active subscriber in .newsletter/subscribers.sqlite3"
    )
    assert provider.stage_audience("general").endswith(": 1 active subscriber in .newsletter/subscribers.sqlite3")


def test_smtp_counts_a_csv_list_without_creating_the_subscriber_table(tmp_path):
    (tmp_path / "readers.csv").write_text(
        "email,name,tags\nana@example.com,Ana,pregnant\nbea@example.com,Bea,\n", encoding="utf-8"
    )
    provider = provider_for(tmp_path, "smtp", subscribers="readers.csv")
    assert provider.audience() == "2 active subscribers in readers.csv"
    assert not store_path(provider.config).exists()


def test_smtp_with_nobody_subscribed_says_so_and_creates_nothing(tmp_path):
    provider = provider_for(tmp_path, "smtp")
    assert provider.audience() == "0 active subscribers in .newsletter/subscribers.sqlite3"
    assert not store_path(provider.config).exists()


def test_the_plan_shows_the_providers_audience(tmp_path):
    provider = provider_for(tmp_path, "listmonk")
    issue = Issue(
        week="2026-W48", key="k", subject="S", preview_text="P", intro="", articles=[], monday=date(2026, 11, 23)
    )
    email = RenderedEmail(issue=issue, subject="S", preview_text="P", html="<p>x</p>", text="x", content_hash="h")
    assert "Audience:     the subscribers of lists 3, 7" in describe_email(email, provider)
