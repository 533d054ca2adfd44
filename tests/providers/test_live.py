"""Against real accounts: skipped unless NEWSLETTER_LIVE_<NAME>=1 and that provider's variables
are set (docs/providers.md lists them). Only drafts are made, found, updated and deleted again;
nothing is scheduled or sent. With NEWSLETTER_LIVE_TEST_TO set, a test email goes to that
address (not for Kit, which has no test-send API)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pipeline.core.config import config_from_dict
from pipeline.deliver.providers import provider_class

from .conftest import make_email

# name -> ([provider] option -> environment variable holding it), cleanup path of a campaign
LIVE = {
    "buttondown": ({}, "/emails/{id}"),
    "mailchimp": ({"list_id": "NEWSLETTER_LIVE_MAILCHIMP_LIST_ID"}, "/campaigns/{id}"),
    "kit": ({}, "/broadcasts/{id}"),
    "listmonk": (
        {"base_url": "NEWSLETTER_LIVE_LISTMONK_BASE_URL", "list_ids": "NEWSLETTER_LIVE_LISTMONK_LIST_IDS"},
        "/campaigns/{id}",
    ),
}


def live_provider(name: str, tmp_path: Path):
    options, _ = LIVE[name]
    needed = [f"NEWSLETTER_LIVE_{name.upper()}", *provider_class(name).secret_env, *options.values()]
    missing = [variable for variable in needed if not os.environ.get(variable)]
    if os.environ.get(f"NEWSLETTER_LIVE_{name.upper()}") != "1" or missing:
        pytest.skip(f"live {name} test: set {', '.join(missing) or needed[0] + '=1'}")
    provider_options = {key: os.environ[variable] for key, variable in options.items()}
    if "list_ids" in provider_options:
        provider_options["list_ids"] = [int(i) for i in provider_options["list_ids"].split(",")]
    raw = {
        "site": {"title": "Newsletter live test", "base_url": "https://example.com"},
        "email": {
            "sender_name": "Newsletter live test",
            "sender_address": os.environ.get("NEWSLETTER_LIVE_SENDER", "hello@example.com"),
        },
        "provider": {"name": name, **provider_options},
    }
    return provider_class(name)(config_from_dict(raw, tmp_path))


@pytest.mark.parametrize("name", list(LIVE))
def test_a_draft_is_created_found_updated_and_removed(name, tmp_path):
    provider = live_provider(name, tmp_path)
    key = f"newsletter-live-test-{int(time.time())}"
    first, second = make_email(provider, "A", key=key), make_email(provider, "B", key=key)

    created = provider.create_draft(first, b"")
    try:
        assert provider.find_campaign(key, None).id == created.id
        assert provider.find_campaign(key, created.id).status == "draft"
        updated = provider.update_draft(created.id, second, b"")
        assert updated.id == created.id
        test_to = os.environ.get("NEWSLETTER_LIVE_TEST_TO")
        if test_to and name != "kit":
            provider.test_send(created.id, [test_to])
    finally:
        provider.http.request(
            "DELETE", LIVE[name][1].format(id=created.id), "delete the live-test draft", ok_statuses=(404,)
        )
