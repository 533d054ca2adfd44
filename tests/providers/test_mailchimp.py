"""Mailchimp specifics: data centre, campaign settings and content, the quarter-hour rule."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from helpers import days_ahead

from pipeline.core.config import config_from_dict
from pipeline.core.errors import ConfigError
from pipeline.deliver.providers.base import UnsupportedFeature
from pipeline.deliver.providers.mailchimp import Mailchimp, check_quarter_hour

from .conftest import ISSUE_KEY, make_email

KEY = "0123456789abcdef0123456789abcdef-us21"


@pytest.fixture
def mailchimp(make_harness):
    return make_harness("mailchimp")


def last(harness, method, path_end):
    return [e for e in harness.fake.exchanges if e.method == method and e.path.endswith(path_end)][-1]


def provider(tmp_path, key=KEY, **provider_options):
    raw = {"provider": {"name": "mailchimp", "list_id": "a1b2c3d4e5", **provider_options}}
    return Mailchimp(config_from_dict(raw, tmp_path), env={"NEWSLETTER_MAILCHIMP_API_KEY": key})


def test_the_api_address_comes_from_the_keys_data_centre(tmp_path):
    assert provider(tmp_path).api_url() == "https://us21.api.mailchimp.com/3.0"


def test_base_url_overrides_the_api_address(tmp_path):
    assert provider(tmp_path, base_url="http://127.0.0.1:9/3.0/").api_url() == "http://127.0.0.1:9/3.0"


def test_a_key_without_data_centre_is_refused_without_showing_it(tmp_path):
    with pytest.raises(ConfigError) as caught:
        provider(tmp_path, key="0123456789abcdef0123456789abcdef").api_url()

    assert "NEWSLETTER_MAILCHIMP_API_KEY should end in its data centre, like -us21" in str(caught.value)
    assert "0123456789abcdef" not in str(caught.value)


def test_create_makes_a_regular_campaign_titled_with_the_issue_then_sets_both_parts(mailchimp):
    email = mailchimp.email()

    mailchimp.provider.create_draft(email, b"")

    created = last(mailchimp, "POST", "/campaigns").json
    assert created == {
        "type": "regular",
        "recipients": {"list_id": "a1b2c3d4e5"},
        "settings": {
            "subject_line": email.subject,
            "preview_text": email.preview_text,
            "title": f"newsletter:{ISSUE_KEY}",
            "from_name": "Strong From Within",
            "reply_to": "hello@strongfromwithin.example",
        },
    }
    assert last(mailchimp, "PUT", "/content").json == {"html": email.html, "plain_text": email.text}


def test_the_campaign_is_found_by_title_beyond_the_first_page(mailchimp):
    wanted = mailchimp.provider.create_draft(mailchimp.email(), b"")
    template = mailchimp.fake.campaigns[wanted.id]
    for n in range(150):  # newer campaigns of other issues
        other = dict(template, id=f"{n:010x}", create_time="2026-11-21T09:00:00Z", settings={"title": f"other {n}"})
        mailchimp.fake.campaigns[other["id"]] = other

    found = mailchimp.provider.find_campaign(ISSUE_KEY, None)

    assert found.id == wanted.id
    assert [
        e.query["offset"] for e in mailchimp.fake.exchanges if e.path.endswith("/campaigns") and e.method == "GET"
    ] == ["0", "100"]
    assert found.url == f"https://us21.admin.mailchimp.com/campaigns/edit?id={template['web_id']}"


def test_a_test_email_is_sent_as_html(mailchimp):
    draft = mailchimp.provider.create_draft(mailchimp.email(), b"")

    mailchimp.provider.test_send(draft.id, ["editor@example.com"])

    assert last(mailchimp, "POST", "/actions/test").json == {"test_emails": ["editor@example.com"], "send_type": "html"}


def test_an_off_quarter_schedule_is_refused_before_asking_mailchimp(mailchimp):
    draft = mailchimp.provider.create_draft(mailchimp.email(), b"")
    requests_before = len(mailchimp.fake.exchanges)

    with pytest.raises(UnsupportedFeature, match=r"08:07:00 UTC is not; choose 08:00 or 08:15 UTC"):
        mailchimp.provider.schedule(draft.id, days_ahead(30, 8, 7))

    assert len(mailchimp.fake.exchanges) == requests_before


def test_a_push_with_an_off_quarter_schedule_creates_nothing(mailchimp):
    with pytest.raises(UnsupportedFeature, match="quarter hour"):
        mailchimp.push(schedule_at=days_ahead(30, 8, 7))

    assert mailchimp.campaigns() == []


def test_a_quarter_hour_in_another_zone_is_scheduled_in_utc(mailchimp):
    draft = mailchimp.provider.create_draft(mailchimp.email(), b"")
    india = timezone(timedelta(hours=5, minutes=30))

    send_at = days_ahead(30, 13, 45, zone=india)

    mailchimp.provider.schedule(draft.id, send_at)

    assert last(mailchimp, "POST", "/actions/schedule").json == {
        "schedule_time": f"{send_at.date().isoformat()}T08:15:00Z"
    }


@pytest.mark.parametrize("minute, second", [(0, 0), (15, 0), (30, 0), (45, 0)])
def test_quarter_hours_pass(minute, second):
    check_quarter_hour(days_ahead(30, 8, minute).replace(second=second))


@pytest.mark.parametrize("minute, second", [(1, 0), (14, 0), (15, 30), (59, 0)])
def test_other_times_do_not(minute, second):
    with pytest.raises(UnsupportedFeature):
        check_quarter_hour(days_ahead(30, 8, minute).replace(second=second))


def test_the_email_uses_mailchimps_unsubscribe_merge_tag(mailchimp):
    assert mailchimp.provider.unsubscribe_url() == "*|UNSUB|*"


def test_the_signup_form_posts_to_the_hosted_form_with_its_bot_trap(mailchimp):
    form = mailchimp.provider.signup_form()

    assert form.action == "https://example.us21.list-manage.com/subscribe/post?u=0a1b2c3d4e5f&id=a1b2c3d4e5"
    assert form.email_field == "EMAIL"
    assert form.hidden_fields == {"b_0a1b2c3d4e5f_a1b2c3d4e5": ""}
    assert "confirm" in form.note


def test_the_signup_form_needs_its_action(tmp_path):
    with pytest.raises(ConfigError, match="set form_action in \\[provider\\]"):
        provider(tmp_path).signup_form()


def test_a_push_needs_the_audience(make_harness):
    harness = make_harness("mailchimp", options={"list_id": ""})

    with pytest.raises(ConfigError, match="set list_id in \\[provider\\] to use provider 'mailchimp'"):
        harness.provider.create_draft(make_email(harness.provider), b"")


def test_option_types_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="list_id must be a str, not int"):
        provider(tmp_path, list_id=123)
