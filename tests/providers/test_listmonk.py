"""listmonk specifics: self-hosted address, token auth, html + altbody, tags, status changes."""

from __future__ import annotations

import pytest
from helpers import days_ahead

from pipeline.core.config import config_from_dict
from pipeline.core.errors import ConfigError, ProviderError
from pipeline.deliver.providers.listmonk import Listmonk

from .conftest import ISSUE_KEY, make_email


@pytest.fixture
def listmonk(make_harness):
    return make_harness("listmonk")


def last(harness, method, path_end):
    return [e for e in harness.fake.exchanges if e.method == method and e.path.endswith(path_end)][-1]


def provider(tmp_path, **provider_options):
    raw = {"provider": {"name": "listmonk", **provider_options}}
    env = {"NEWSLETTER_LISTMONK_API_USER": "bot", "NEWSLETTER_LISTMONK_API_KEY": "token-0123456789"}
    return Listmonk(config_from_dict(raw, tmp_path), env=env)


@pytest.mark.parametrize(
    "base_url", ["https://lists.example.com", "https://lists.example.com/", "https://lists.example.com/api"]
)
def test_the_api_lives_under_api_of_the_listmonk_address(tmp_path, base_url):
    assert provider(tmp_path, base_url=base_url).api_url() == "https://lists.example.com/api"


def test_the_listmonk_address_is_required(tmp_path):
    with pytest.raises(ConfigError, match="set base_url in \\[provider\\] to your listmonk address"):
        provider(tmp_path).api_url()


def test_requests_carry_the_api_user_and_token(listmonk):
    listmonk.provider.find_campaign(ISSUE_KEY, None)

    assert listmonk.fake.exchanges[-1].headers["Authorization"] == "token newsletter-bot:lm-token-0123456789abcdef"


def test_create_sends_html_plain_text_lists_sender_and_tags(listmonk):
    email = listmonk.email()

    listmonk.provider.create_draft(email, b"")

    assert last(listmonk, "POST", "/campaigns").json == {
        "name": email.subject,
        "subject": email.subject,
        "lists": [3],
        "from_email": "Strong From Within <hello@strongfromwithin.example>",
        "type": "regular",
        "content_type": "html",
        "messenger": "email",
        "body": email.html,
        "altbody": email.text,
        "tags": [f"newsletter:{ISSUE_KEY}", f"sha256:{email.content_hash}"],
    }


def test_a_chosen_template_is_used(make_harness):
    harness = make_harness("listmonk", options={"template_id": 4})

    harness.provider.create_draft(harness.email(), b"")

    assert last(harness, "POST", "/campaigns").json["template_id"] == 4


def test_the_campaign_is_found_by_its_tag(listmonk):
    for week in range(40, 45):
        listmonk.provider.create_draft(make_email(listmonk.provider, key=f"strongfromwithin-example-2026-W{week}"), b"")
    wanted = listmonk.provider.create_draft(listmonk.email(), b"")

    found = listmonk.provider.find_campaign(ISSUE_KEY, "999")

    assert (found.id, found.content_hash) == (wanted.id, listmonk.email().content_hash)
    assert found.url == f"{listmonk.root}/admin/campaigns/{wanted.id}"
    assert last(listmonk, "GET", "/campaigns").query["tag"] == f"newsletter:{ISSUE_KEY}"


def test_a_test_email_sends_the_campaign_fields_to_the_given_subscribers(listmonk):
    email = listmonk.email()
    draft = listmonk.provider.create_draft(email, b"")

    listmonk.provider.test_send(draft.id, ["editor@example.com"])

    sent = last(listmonk, "POST", "/test").json
    assert sent["subscribers"] == ["editor@example.com"]
    assert (sent["subject"], sent["body"], sent["altbody"], sent["lists"]) == (
        email.subject,
        email.html,
        email.text,
        [3],
    )


def test_a_test_email_to_someone_who_is_not_a_subscriber_says_so(listmonk):
    draft = listmonk.provider.create_draft(listmonk.email(), b"")

    with pytest.raises(ProviderError, match="Subscriber\\(s\\) not found: stranger@example.com"):
        listmonk.provider.test_send(draft.id, ["stranger@example.com"])


def test_schedule_sets_the_time_then_the_status(listmonk):
    draft = listmonk.provider.create_draft(listmonk.email(), b"")

    send_at = days_ahead(30, 8, 0)
    campaign = listmonk.provider.schedule(draft.id, send_at)

    writes = [(e.method, e.path.rsplit("/", 1)[-1], e.json) for e in listmonk.fake.writes()][-2:]
    assert writes == [
        ("PUT", draft.id, {"lists": [3], "send_at": f"{send_at.date().isoformat()}T08:00:00Z", "send_later": True}),
        ("PUT", "status", {"status": "scheduled"}),
    ]
    assert campaign.status == "scheduled"


def test_send_now_starts_the_campaign(listmonk):
    draft = listmonk.provider.create_draft(listmonk.email(), b"")

    campaign = listmonk.provider.send_now(draft.id)

    assert last(listmonk, "PUT", "/status").json == {"status": "running"}
    assert campaign.status == "sent"


def test_list_ids_must_be_numbers(tmp_path):
    with pytest.raises(ConfigError, match="list_ids must be a list of list numbers, like \\[3\\]"):
        provider(tmp_path, base_url="https://lists.example.com", list_ids=["newsletter"])


def test_the_email_uses_listmonks_unsubscribe_tag(listmonk):
    assert listmonk.provider.unsubscribe_url() == "{{ UnsubscribeURL }}"


def test_the_signup_form_posts_to_the_public_subscription_form(listmonk):
    form = listmonk.provider.signup_form()

    assert form.action == f"{listmonk.root}/subscription/form"
    assert (form.email_field, form.hidden_fields) == ("email", {"l": "5cd3d6d1-65ea-4c27-be75-fed09ae8a312"})
    assert "double opt-in" in form.note
