"""The same cases for every HTTP provider, pushed through pipeline/deliver/push.py against a fake of
the provider that checks each request against the provider's OpenAPI document.

Providers differ in one way these cases care about: Kit has no test-send API.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.core.errors import ProviderError, PushRefused
from pipeline.deliver.ledger import Ledger
from pipeline.render.email import render_email

from .conftest import ISSUE_KEY

SCHEDULE_AT = (datetime.now(UTC) + timedelta(days=30)).replace(minute=15, second=0, microsecond=0)


def only_campaign(harness) -> dict:
    campaigns = harness.campaigns()
    assert len(campaigns) == 1, f"expected exactly one campaign at {harness.name}, found {campaigns}"
    return campaigns[0]


# The draft --------------------------------------------------------------------------------------


def test_first_push_creates_one_draft(harness):
    result = harness.push()

    campaign = only_campaign(harness)
    assert result.action == "created"
    assert result.campaign_id == campaign["id"]
    assert campaign["status"] == "draft"
    assert campaign["subject"] == harness.email().subject
    assert harness.email().html in campaign["html"]
    assert harness.ledger.state(ISSUE_KEY, harness.name).status == "draft"


def test_second_push_of_the_same_content_changes_nothing(harness):
    harness.push()
    writes_before = len(harness.fake.writes())

    result = harness.push()

    assert result.action == "unchanged"
    assert len(harness.fake.writes()) == writes_before
    only_campaign(harness)


def test_changed_content_updates_the_same_draft(harness):
    first = harness.push("A")

    result = harness.push("B", force=True)

    campaign = only_campaign(harness)
    assert result.action == "updated"
    assert campaign["id"] == first.campaign_id
    assert campaign["subject"] == harness.email("B").subject
    assert harness.email("B").html in campaign["html"]


def test_the_lost_ledger_is_rebuilt_from_the_provider_without_a_second_campaign(harness, tmp_path):
    harness.push()
    harness.ledger = Ledger(tmp_path / "fresh" / "ledger.sqlite3")

    result = _push_again(harness)

    assert (
        harness.ledger.state(ISSUE_KEY, harness.name).campaign_id == only_campaign(harness)["id"] == result.campaign_id
    )


# Later steps ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["buttondown", "mailchimp", "listmonk"])  # Kit: next test
def test_test_send_reaches_the_given_address(make_harness, name):
    harness = make_harness(name)

    harness.push(test_to=["editor@example.com"])

    assert harness.fake.tests_sent == [["editor@example.com"]]
    assert only_campaign(harness)["status"] == "draft"


def test_kit_refuses_a_test_send_before_changing_anything(make_harness):
    harness = make_harness("kit")

    with pytest.raises(PushRefused, match="kit cannot send a test email"):
        harness.push(test_to=["editor@example.com"])
    assert harness.campaigns() == []


def test_schedule_leaves_the_campaign_scheduled(harness):
    result = harness.push(schedule_at=SCHEDULE_AT)

    assert only_campaign(harness)["status"] == "scheduled"
    assert result.steps == ["drafted", "scheduled"]
    assert harness.ledger.state(ISSUE_KEY, harness.name).scheduled_for == SCHEDULE_AT


def test_send_now_sends_and_a_second_send_is_refused_by_the_ledger(harness):
    harness.push(send_now=True)
    assert only_campaign(harness)["status"] == "sent"
    writes_before = len(harness.fake.writes())

    result = harness.push(send_now=True)

    assert "already sent" in result.message
    assert len(harness.fake.writes()) == writes_before


# Errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["buttondown", "mailchimp", "kit", "listmonk"])
def test_refused_credentials_name_the_variable_and_never_show_the_secret(make_harness, name):
    wrong = {variable: f"wrong-{variable.lower()}-value" for variable in _secret_env(name)}
    harness = make_harness(name, env=wrong)

    with pytest.raises(ProviderError) as caught:
        harness.push()

    message = str(caught.value)
    for variable, value in wrong.items():
        assert variable in message
        assert value not in message and value not in caught.value.body
    assert "refused" in message
    assert caught.value.status in (401, 403)
    assert harness.campaigns() == []


def test_the_providers_validation_message_and_field_are_surfaced(harness):
    status, body, provider_message, field = harness.fake.validation_error()
    harness.fake.add_fault(method="POST", path=harness.fake.create_path(), status=status, body=body)

    with pytest.raises(ProviderError) as caught:
        harness.push()

    assert caught.value.status == status
    assert provider_message in str(caught.value)
    if field:
        assert f"field '{field}'" in str(caught.value)
    assert harness.campaigns() == []


def test_429_with_retry_after_waits_as_told_then_succeeds(harness, sleeps):
    harness.fake.add_fault(method="POST", path=harness.fake.create_path(), **harness.fake.rate_limited("3"))

    result = harness.push()

    assert result.action == "created"
    assert sleeps == [3.0]
    only_campaign(harness)


def test_429_without_retry_after_backs_off_then_succeeds(harness, sleeps):
    harness.fake.add_fault(method="POST", path=harness.fake.create_path(), times=2, **harness.fake.rate_limited(None))

    harness.push()

    base = harness.provider.http.backoff_base
    assert len(sleeps) == 2
    assert base / 2 <= sleeps[0] <= base
    assert base <= sleeps[1] <= 2 * base
    only_campaign(harness)


def test_429_that_never_ends_gives_up_with_advice(harness, sleeps):
    harness.fake.add_fault(method="POST", path=harness.fake.create_path(), times=99, **harness.fake.rate_limited("1"))

    with pytest.raises(ProviderError, match="still rate limited after 4 attempts"):
        harness.push()
    assert len(sleeps) == 3
    assert harness.campaigns() == []


def test_a_server_error_on_create_is_not_retried_and_the_next_push_creates_one(harness, sleeps):
    status, body = harness.fake.server_error()
    harness.fake.add_fault(method="POST", path=harness.fake.create_path(), status=status, body=body)

    with pytest.raises(ProviderError) as caught:
        harness.push()
    assert caught.value.status == 500
    assert "run the command again" in str(caught.value)
    assert sleeps == []

    assert harness.push().action == "created"
    only_campaign(harness)


def test_a_503_on_a_lookup_is_retried(harness, sleeps):
    status, body = harness.fake.server_error()
    harness.fake.add_fault(method="GET", path="", status=503, body=body)

    assert harness.push().action == "created"
    assert len(sleeps) == 1


def test_a_create_that_times_out_is_found_by_the_next_push_not_made_twice(harness, short_timeouts):
    # The server creates the campaign but answers after the client gave up.
    harness.fake.add_fault(method="POST", path=harness.fake.create_path(), delay=1.0, handle_first=True)

    with pytest.raises(ProviderError, match="no answer .* within 0.4 s.*looks the campaign up first"):
        harness.push()

    result = _push_again(harness)
    assert result.campaign_id == only_campaign(harness)["id"]


def test_a_crash_between_create_and_ledger_write_reuses_the_campaign(harness, monkeypatch):
    real_record = Ledger.record

    def crash_on_draft(self, issue_key, provider, step, **kwargs):
        if step == "drafted" and not getattr(crash_on_draft, "crashed", False):
            crash_on_draft.crashed = True
            raise KeyboardInterrupt("killed after the provider answered, before the ledger write")
        return real_record(self, issue_key, provider, step, **kwargs)

    monkeypatch.setattr(Ledger, "record", crash_on_draft)
    with pytest.raises(KeyboardInterrupt):
        harness.push()
    assert harness.ledger.state(ISSUE_KEY, harness.name) is None

    result = _push_again(harness)
    assert result.campaign_id == only_campaign(harness)["id"]
    assert harness.ledger.state(ISSUE_KEY, harness.name).campaign_id == result.campaign_id


def test_a_provider_echoing_the_key_has_it_redacted_from_errors_and_logs(harness, caplog):
    secrets = list(harness.fake.secrets.values())
    echoed = {
        "detail": f"bad key {' '.join(secrets)}",
        "errors": [f"key {secrets[-1]}"],
        "message": f"key {secrets[-1]}",
    }
    harness.fake.add_fault(method="POST", path=harness.fake.create_path(), status=400, body=echoed, check_reply=False)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ProviderError) as caught:
        harness.push()

    for secret in secrets:
        assert secret not in str(caught.value)
        assert secret not in caught.value.body
        assert secret not in caplog.text
    assert "[redacted]" in caught.value.body


# What the email carries ---------------------------------------------------------------------------


def test_the_providers_unsubscribe_merge_tag_survives_rendering(harness, make_project):
    from pipeline.core.config import load_config

    config = load_config(make_project())
    issue = harness.email().issue

    email = render_email(issue, config, harness.provider.unsubscribe_url())

    tag = harness.provider.unsubscribe_url()
    assert f'href="{tag}"' in email.html
    assert tag in email.text


def _push_again(harness):
    """The next push after a failure: the campaign is found; providers that store the build's
    content hash see it unchanged, Mailchimp (no field to keep it in) asks for --force."""
    if harness.name == "mailchimp":
        with pytest.raises(PushRefused, match="run with --force"):
            harness.push()
        result = harness.push(force=True)
        assert result.action == "updated"
    else:
        result = harness.push()
        assert result.action == "unchanged"
    return result


def _secret_env(name: str) -> tuple[str, ...]:
    from pipeline.deliver.providers import provider_class

    return provider_class(name).secret_env


@pytest.mark.parametrize("name", ["buttondown", "mailchimp", "kit", "listmonk"])
def test_a_secret_written_into_newsletter_toml_is_refused_without_echoing_it(make_harness, name):
    from pipeline.core.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        make_harness(name, options={"api_key": "pasted-secret-value"})

    assert "secrets do not belong in newsletter.toml" in str(caught.value)
    assert _secret_env(name)[-1] in str(caught.value)
    assert "pasted-secret-value" not in str(caught.value)
