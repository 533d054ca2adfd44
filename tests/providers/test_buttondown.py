"""Buttondown specifics: what the email carries, how the issue's email is found, what it says."""

from __future__ import annotations

import pytest
import requests
from helpers import days_ahead

from pipeline.core.errors import ConfigError, ProviderError

from .conftest import ISSUE_KEY, make_email


@pytest.fixture
def buttondown(make_harness):
    return make_harness("buttondown")


def last(harness, method, path_end):
    return [e for e in harness.fake.exchanges if e.method == method and e.path.endswith(path_end)][-1]


def test_create_asks_for_a_draft_with_html_preview_text_and_the_issue_key(buttondown):
    email = buttondown.email()

    buttondown.provider.create_draft(email, b"")

    sent = last(buttondown, "POST", "/emails").json
    assert sent["status"] == "draft"
    assert sent["body"] == f"<!-- buttondown-editor-mode: fancy -->\n{email.html}"
    assert sent["description"] == email.preview_text
    assert sent["metadata"] == {"newsletter_issue": ISSUE_KEY, "newsletter_content_hash": email.content_hash}


def test_a_create_without_status_would_send_at_once(buttondown):
    """Why every create says `status: draft`: Buttondown's default is `about_to_send`."""
    key = buttondown.fake.secrets["NEWSLETTER_BUTTONDOWN_API_KEY"]
    requests.post(
        f"{buttondown.root}/v1/emails", json={"subject": "Hello"}, headers={"Authorization": f"Token {key}"}, timeout=5
    )

    assert buttondown.campaigns()[0]["status"] == "sent"


def test_requests_pin_the_api_version(buttondown):
    buttondown.provider.find_campaign(ISSUE_KEY, None)

    assert buttondown.fake.exchanges[-1].headers["X-Api-Version"] == "2026-04-01"


def test_the_issue_is_found_by_its_metadata_across_pages(buttondown):
    provider = buttondown.provider
    wanted = provider.create_draft(make_email(provider, "A"), b"")
    for week in range(40, 46):  # newer emails of other issues push it to the third page
        provider.create_draft(make_email(provider, "X", key=f"strongfromwithin-example-2026-W{week}"), b"")
    for email in buttondown.fake.campaigns.values():
        email["creation_date"] = "2026-11-21T09:00:00Z" if email["id"] != wanted.id else "2026-11-20T09:00:00Z"

    found = provider.find_campaign(ISSUE_KEY, None)

    assert found.id == wanted.id
    assert found.content_hash == make_email(provider, "A").content_hash
    pages = [e.query.get("page") for e in buttondown.fake.exchanges if e.method == "GET"]
    assert pages == ["1", "2", "3", "4"]


def test_a_known_id_that_is_gone_falls_back_to_the_search(buttondown):
    created = buttondown.provider.create_draft(buttondown.email(), b"")

    found = buttondown.provider.find_campaign(ISSUE_KEY, "em_gone")

    assert found.id == created.id


def test_no_email_for_the_issue_is_none(buttondown):
    buttondown.provider.create_draft(make_email(buttondown.provider, key="other-site-2026-W48"), b"")

    assert buttondown.provider.find_campaign(ISSUE_KEY, None) is None


def test_schedule_publishes_with_a_date_and_the_sending_confirmation(buttondown):
    draft = buttondown.provider.create_draft(buttondown.email(), b"")
    when = days_ahead(30, 8, 0)

    campaign = buttondown.provider.schedule(draft.id, when)

    publish = last(buttondown, "POST", "/publish")
    assert publish.json == {"publish_date": f"{when.date().isoformat()}T08:00:00Z"}
    assert publish.headers["X-Buttondown-Live-Dangerously"] == "true"
    assert campaign.status == "scheduled"


def test_send_now_publishes_without_a_date(buttondown):
    draft = buttondown.provider.create_draft(buttondown.email(), b"")

    campaign = buttondown.provider.send_now(draft.id)

    assert last(buttondown, "POST", "/publish").json == {}
    assert campaign.status == "sent"


def test_an_error_code_names_the_field(buttondown):
    body = {"code": "subject_invalid", "detail": "Subjects cannot be empty."}
    buttondown.fake.add_fault(method="POST", path="/emails$", status=400, body=body)

    with pytest.raises(ProviderError) as caught:
        buttondown.provider.create_draft(buttondown.email(), b"")

    assert str(caught.value) == (
        "buttondown could not create the draft: HTTP 400: Subjects cannot be empty. (subject_invalid) (field 'subject')"
    )


def test_the_email_links_to_buttondowns_own_unsubscribe_page(buttondown):
    assert buttondown.provider.unsubscribe_url() == "{{ unsubscribe_url }}"


def test_the_signup_form_posts_to_the_embed_subscribe_endpoint(buttondown):
    form = buttondown.provider.signup_form()

    assert form.action == "https://buttondown.com/api/emails/embed-subscribe/strongfromwithin"
    assert (form.method, form.email_field, form.hidden_fields) == ("post", "email", {"embed": "1"})
    assert "confirm" in form.note


def test_the_signup_form_needs_the_username(make_harness):
    harness = make_harness("buttondown", options={"username": ""})

    with pytest.raises(ConfigError, match="set username in \\[provider\\]"):
        harness.provider.signup_form()


def test_a_missing_api_key_names_the_variable(make_harness):
    harness = make_harness("buttondown", env={"NEWSLETTER_BUTTONDOWN_API_KEY": ""})

    with pytest.raises(ConfigError, match="set the environment variable NEWSLETTER_BUTTONDOWN_API_KEY"):
        harness.push()


def test_unknown_options_are_refused(make_harness):
    with pytest.raises(ConfigError, match="unknown key 'list_id' in \\[provider\\] for provider 'buttondown'"):
        make_harness("buttondown", options={"list_id": "abc"})
