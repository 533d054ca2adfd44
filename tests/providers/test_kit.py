"""Kit specifics: every field on every write, cursor paging, send_at as the send switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers import days_ahead

from pipeline.deliver.providers.base import UnsupportedFeature
from pipeline.deliver.providers.kit import _writable_filter, broadcast_status

from .conftest import ISSUE_KEY, make_email

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def kit(make_harness):
    return make_harness("kit")


def last(harness, method):
    return [e for e in harness.fake.exchanges if e.method == method][-1]


def test_create_sends_every_field_with_nulls_and_keeps_it_a_private_draft(kit):
    email = kit.email()

    kit.provider.create_draft(email, b"")

    assert last(kit, "POST").json == {
        "email_template_id": None,
        "email_address": None,
        "content": email.html,
        "description": f"newsletter:{ISSUE_KEY} sha256:{email.content_hash}",
        "public": False,
        "published_at": None,
        "send_at": None,
        "thumbnail_alt": None,
        "thumbnail_url": None,
        "preview_text": email.preview_text,
        "subject": email.subject,
        "subscriber_filter": None,
    }


def test_a_chosen_email_template_is_used(make_harness):
    harness = make_harness("kit", options={"email_template_id": 42})

    harness.provider.create_draft(harness.email(), b"")

    assert last(harness, "POST").json["email_template_id"] == 42


def test_the_broadcast_is_found_by_its_description_across_cursor_pages(kit):
    wanted = kit.provider.create_draft(kit.email(), b"")
    for week in range(40, 45):
        kit.provider.create_draft(make_email(kit.provider, key=f"strongfromwithin-example-2026-W{week}"), b"")

    found = kit.provider.find_campaign(ISSUE_KEY, None)

    assert (found.id, found.status, found.content_hash) == (wanted.id, "draft", kit.email().content_hash)
    cursors = [e.query.get("after") for e in kit.fake.exchanges if e.method == "GET"]
    assert cursors[0] is None and len(cursors) == 3 and None not in cursors[1:]


def test_schedule_writes_the_broadcast_back_with_only_send_at_changed(kit):
    draft = kit.provider.create_draft(kit.email(), b"")
    before = dict(kit.fake.campaigns[draft.id])
    when = days_ahead(30, 8, 0)

    campaign = kit.provider.schedule(draft.id, when)

    written = last(kit, "PUT").json
    assert written["send_at"] == f"{when.date().isoformat()}T08:00:00Z"
    assert written["content"] == before["content"] and written["subject"] == before["subject"]
    assert written["description"] == before["description"]
    assert written["subscriber_filter"] is None
    assert campaign.status == "scheduled"
    assert kit.campaigns()[0]["status"] == "scheduled"


def test_send_now_sets_send_at_to_now(kit):
    draft = kit.provider.create_draft(kit.email(), b"")

    campaign = kit.provider.send_now(draft.id)

    sent_at = datetime.fromisoformat(last(kit, "PUT").json["send_at"].replace("Z", "+00:00"))
    assert abs(sent_at - datetime.now(UTC)) < timedelta(seconds=30)
    assert campaign.status == "sent"


def test_there_is_no_test_send(kit):
    with pytest.raises(UnsupportedFeature, match="provider 'kit' cannot send a test email"):
        kit.provider.test_send("21", ["editor@example.com"])


def test_a_rate_limit_that_lasts_shows_kits_plain_text(kit, sleeps):
    kit.fake.add_fault(method="GET", times=9, **kit.fake.rate_limited(None))

    with pytest.raises(Exception, match="still rate limited after 4 attempts \\(HTTP 429: Retry later\\)"):
        kit.provider.find_campaign(ISSUE_KEY, None)
    assert len(sleeps) == 3 and all(wait >= kit.provider.backoff_base / 2 for wait in sleeps)


@pytest.mark.parametrize(  # as Kit would say it on NOW, a week before the first send_at
    "broadcast, status",
    [
        ({"send_at": None}, "draft"),
        ({"send_at": "2026-11-30T08:00:00Z"}, "scheduled"),
        ({"send_at": "2026-11-01T08:00:00Z"}, "sent"),
        ({"send_at": "2026-11-30T08:00:00Z", "stats": {"status": "completed"}}, "sent"),
        ({"send_at": None, "stats": {"status": "draft"}}, "draft"),
    ],
)
def test_broadcast_status(broadcast, status):
    assert broadcast_status(broadcast, NOW) == status


def test_everyone_as_kit_shows_it_is_written_back_as_null():
    assert _writable_filter([{"all": [{"type": "all_subscribers"}]}]) is None


def test_segment_filters_are_written_back():
    groups = [{"all": [{"type": "segment", "ids": [16]}]}]
    assert _writable_filter(groups) == [{"all": [{"type": "segment", "ids": [16]}], "any": None, "none": None}]


def test_the_email_uses_kits_unsubscribe_variable(kit):
    assert kit.provider.unsubscribe_url() == "{{ unsubscribe_url }}"


def test_the_signup_form_posts_to_the_kit_form(kit):
    form = kit.provider.signup_form()

    assert form.action == "https://app.kit.com/forms/7463169/subscriptions"
    assert form.email_field == "email_address"
    assert "confirm" in form.note
