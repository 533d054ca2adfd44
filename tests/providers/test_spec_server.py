"""The spec-checking server itself: an off-spec request must be caught, or the other provider
tests would prove nothing."""

from __future__ import annotations

import pytest
import requests

from .spec_server import SPEC_DIR


def test_the_specs_are_read_from_shared_beside_the_clone():
    assert SPEC_DIR.name == "provider-specs" and SPEC_DIR.parent.name == "shared"
    assert (SPEC_DIR / "buttondown.json").is_file()


def test_an_unknown_field_is_reported_with_the_validators_message(make_harness):
    harness = make_harness("buttondown")
    key = harness.fake.secrets["NEWSLETTER_BUTTONDOWN_API_KEY"]

    body = {"subject": "Hi", "status": "draft", "preheader": "x"}
    response = requests.post(
        f"{harness.root}/v1/emails", json=body, headers={"Authorization": f"Token {key}"}, timeout=5
    )

    assert response.status_code == 400
    assert harness.fake.spec_errors == [
        "POST /v1/emails: Request body validation error: "
        "(whole value): Additional properties are not allowed ('preheader' was unexpected)"
    ]
    assert harness.campaigns() == []
    harness.fake.spec_errors.clear()  # seen; do not fail the teardown check


@pytest.mark.parametrize("name, path", [("buttondown", "/v1/emails"), ("mailchimp", "/3.0/campaigns")])
def test_a_request_without_credentials_is_off_the_spec(make_harness, name, path):
    harness = make_harness(name)

    requests.get(f"{harness.root}{path}", timeout=5)

    assert len(harness.fake.spec_errors) == 1 and "Security" in harness.fake.spec_errors[0]
    harness.fake.spec_errors.clear()


def test_a_wrong_type_deep_in_the_body_is_located(make_harness):
    harness = make_harness("mailchimp")
    key = harness.fake.secrets["NEWSLETTER_MAILCHIMP_API_KEY"]

    requests.post(
        f"{harness.root}/3.0/campaigns/abc/actions/test", json={"test_emails": "me@example.com", "send_type": "html"},
        auth=("x", key), timeout=5,
    )  # fmt: skip

    assert harness.fake.spec_errors[0].endswith("test_emails: 'me@example.com' is not of type 'array'")
    harness.fake.spec_errors.clear()


def test_kit_credentials_are_checked_by_the_fake_since_the_spec_also_allows_oauth(make_harness):
    """openapi-core skips OAuth2 schemes, so for Kit the spec check passes without a key; the
    fake checks `X-Kit-Api-Key` itself."""
    harness = make_harness("kit")

    response = requests.get(f"{harness.root}/v4/broadcasts", timeout=5)

    assert response.status_code == 401 and harness.fake.spec_errors == []
