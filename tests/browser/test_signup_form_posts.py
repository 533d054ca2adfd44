"""The blog's signup form as Chromium posts it, for each provider: the request is caught before it
leaves the machine (a stand-in answers), and its fields are those the provider's public form
takes (docs/providers.md), her answer mapped to the stage's tag or list."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from pipeline.core.config import config_from_dict
from pipeline.core.model import Content
from pipeline.deliver.providers import get_provider
from pipeline.render.blog import render_site

STAGE_TAGS = {"pregnant": 101, "postpartum-0-6w": 102, "postpartum-6w-plus": 103}
PROVIDERS = {
    "buttondown": (
        {"name": "buttondown", "username": "strong"},
        "https://buttondown.com/api/emails/embed-subscribe/strong",
        {"embed": ["1"], "email": ["ann@example.com"], "metadata__first_name": ["Ann"], "tag": ["postpartum-0-6w"]},
    ),
    "mailchimp": (
        {
            "name": "mailchimp",
            "form_action": "https://x.us1.list-manage.com/subscribe/post?u=abc&id=def",
            "stage_tags": STAGE_TAGS,
        },
        "https://x.us1.list-manage.com/subscribe/post?u=abc&id=def",
        {"b_abc_def": [""], "EMAIL": ["ann@example.com"], "FNAME": ["Ann"], "tags": ["102"]},  # b_: the bot trap
    ),
    "kit": (
        {"name": "kit", "form_id": 7, "stage_tags": STAGE_TAGS},
        "https://app.kit.com/forms/7/subscriptions",
        {"email_address": ["ann@example.com"], "fields[first_name]": ["Ann"], "tags[]": ["102"]},
    ),
    "listmonk": (
        {
            "name": "listmonk",
            "base_url": "https://lists.example.com",
            "list_uuid": "base-uuid",
            "stage_list_uuids": {"pregnant": "p-uuid", "postpartum-0-6w": "e-uuid"},
        },
        "https://lists.example.com/subscription/form",
        {"l": ["base-uuid", "e-uuid"], "email": ["ann@example.com"], "name": ["Ann"]},
    ),
}


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_form_posts_the_providers_own_fields(browser, tmp_path, name):
    options, action, expected = PROVIDERS[name]
    config = config_from_dict({"provider": options}, tmp_path)
    files = render_site(
        Content(articles=[], exercises={}), config, get_provider(config, {}).signup_form(), datetime.now(UTC)
    )
    for path, data in files.items():
        target = tmp_path / "site" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.read_bytes())
    posted = []

    def stand_in(route, request):
        posted.append((request.method, request.url, request.post_data or ""))
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>ok</title><h1>Thanks</h1>")

    context = browser.new_context()
    try:
        page = context.new_page()
        page.route("http*://**/*", stand_in)
        page.goto((tmp_path / "site" / "subscribe" / "index.html").as_uri())
        page.fill("#signup-email", "ann@example.com")
        page.fill("#signup-name", "Ann")
        page.check("text=I've had my baby")
        assert page.locator('input[type="date"]').count() == 0  # dates: the self-hosted form only
        page.click(".signup__form button[type=submit]")
        page.wait_for_selector("h1:text('Thanks')")
    finally:
        context.close()
    [(method, url, body)] = posted
    assert (method, url) == ("POST", action)
    assert parse_qs(body, keep_blank_values=True) == expected
