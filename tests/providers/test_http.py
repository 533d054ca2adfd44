"""The shared HTTP transport: what it retries, how long it waits, what its errors say."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from requests.auth import HTTPBasicAuth
from werkzeug import Response

from pipeline.core.errors import ProviderError
from pipeline.deliver.providers.http import (
    REDACTED,
    ErrorDetail,
    HeaderAuth,
    HttpTransport,
    backoff_delay,
    parse_retry_after,
    redact,
    secret_forms,
    utc_iso,
)

KEY = "sk-live-0123456789abcdef"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


# Pure parts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("header, seconds", [("120", 120.0), ("1.5", 1.5), (" 7 ", 7.0), ("-3", 0.0)])
def test_retry_after_in_seconds(header, seconds):
    assert parse_retry_after(header, NOW) == seconds


def test_retry_after_as_an_http_date():
    header = format_datetime(NOW + timedelta(seconds=45), usegmt=True)
    assert parse_retry_after(header, NOW) == 45.0


def test_retry_after_date_in_the_past_means_now():
    assert parse_retry_after(format_datetime(NOW - timedelta(hours=1), usegmt=True), NOW) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "Someday, 99 Foo 2026"])
def test_retry_after_that_cannot_be_read_is_ignored(header):
    assert parse_retry_after(header, NOW) is None


def test_backoff_doubles_from_the_base_and_stops_at_the_cap():
    highest = lambda low, high: high  # noqa: E731 - the top of the jitter range
    lowest = lambda low, high: low  # noqa: E731
    assert [backoff_delay(n, 1.0, 30.0, highest) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff_delay(3, 1.0, 30.0, lowest) == 4.0  # jitter keeps at least half


def test_every_wire_form_of_a_secret_is_redacted():
    forms = secret_forms("api-user", KEY)
    basic = HTTPBasicAuth("newsletter", KEY)
    text = f"token api-user:{KEY} / {basic(_Prepared()).headers['Authorization']}"

    cleaned = redact(text, forms)

    assert KEY not in cleaned and "api-user:" not in cleaned
    assert "bmV3c2xldHRlcj" not in cleaned  # base64 of "newsletter:..."
    assert cleaned.count(REDACTED) >= 2


def test_short_values_are_not_treated_as_secrets():
    assert redact("a b abc", ["a", "abc"]) == "a b abc"


def test_utc_iso_converts_and_takes_a_naive_time_as_utc():
    plus_one = timezone(timedelta(hours=1))
    assert utc_iso(datetime(2026, 11, 23, 9, 0, 30, 999, tzinfo=plus_one)) == "2026-11-23T08:00:30Z"
    assert utc_iso(datetime(2026, 11, 23, 8, 0)) == "2026-11-23T08:00:00Z"


class _Prepared:
    headers: dict

    def __init__(self):
        self.headers = {}


# Against a real server ---------------------------------------------------------------------------


@pytest.fixture
def transport(provider_server, sleeps):
    provider_server.clear()

    def make(**overrides) -> HttpTransport:
        options = {
            "provider": "acme",
            "base_url": provider_server.url_for("/api"),
            "auth": HeaderAuth({"Authorization": f"Bearer {KEY}"}),
            "secrets": secret_forms(KEY),
            "credential_env": ["NEWSLETTER_ACME_API_KEY"],
            "parse_error": lambda response: ErrorDetail(response.json()["error"], response.json().get("field")),
        }
        return HttpTransport(**(options | overrides))

    return make


def serve(provider_server, *replies):
    """Answer requests with `replies` in turn (the last one repeats); returns the request count."""
    seen = []

    def handler(request):
        seen.append(request.method)
        status, body, headers, delay = (list(replies[min(len(seen), len(replies)) - 1]) + [{}, 0])[:4]
        if delay:
            import time

            time.sleep(delay)
        return Response(body, status=status, headers=headers, content_type="application/json")

    provider_server.expect_request(re.compile(".*")).respond_with_handler(handler)
    return seen


def test_get_is_retried_on_503_and_succeeds(transport, provider_server, sleeps):
    seen = serve(provider_server, (503, '{"error": "busy"}'), (503, '{"error": "busy"}'), (200, "{}"))

    response = transport().get("/things", "list the things")

    assert response.status_code == 200
    assert len(seen) == 3 and len(sleeps) == 2


def test_post_is_not_retried_on_503(transport, provider_server, sleeps):
    seen = serve(provider_server, (503, '{"error": "busy"}'))

    with pytest.raises(ProviderError, match="acme could not create the thing: the server failed"):
        transport().post("/things", "create the thing", json={})
    assert len(seen) == 1 and sleeps == []


def test_post_is_retried_on_429_because_nothing_was_done(transport, provider_server, sleeps):
    seen = serve(provider_server, (429, '{"error": "slow down"}', {"Retry-After": "2"}), (201, "{}"))

    transport().post("/things", "create the thing", json={})

    assert seen == ["POST", "POST"] and sleeps == [2.0]


def test_a_long_retry_after_is_capped(transport, provider_server, sleeps):
    far = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    serve(provider_server, (429, '{"error": "slow down"}', {"Retry-After": far}), (200, "{}"))

    transport().get("/things", "list the things")

    assert sleeps == [HttpTransport.retry_after_cap]


def test_a_read_timeout_retries_a_get_but_not_a_post(transport, provider_server, short_timeouts, sleeps):
    seen = serve(provider_server, (200, "{}", {}, 1.0))

    with pytest.raises(ProviderError, match="no answer from .* within 0.4 s after 4 attempts"):
        transport().get("/things", "list the things")
    assert len(seen) == 4

    seen.clear()
    with pytest.raises(ProviderError, match="may have acted on it anyway") as caught:
        transport().post("/things", "create the thing", json={})
    assert len(seen) == 1 and "attempts" not in str(caught.value)


def test_a_post_that_could_not_connect_is_retried_because_it_never_left(transport, sleeps):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connections are refused

        with pytest.raises(ProviderError, match="could not connect to .* after 4 attempts") as caught:
            transport(base_url=f"http://127.0.0.1:{port}").post("/things", "create the thing", json={})

    assert len(sleeps) == 3
    assert "may have acted" not in str(caught.value)


def test_refused_credentials_name_the_variable_not_the_key(transport, provider_server):
    serve(provider_server, (401, f'{{"error": "key {KEY} is not valid"}}'))

    with pytest.raises(ProviderError) as caught:
        transport().get("/things", "list the things")

    assert str(caught.value).startswith(
        "acme could not list the things: the API key in NEWSLETTER_ACME_API_KEY was refused"
    )
    assert KEY not in str(caught.value) and KEY not in caught.value.body


def test_the_providers_own_message_and_field_are_kept(transport, provider_server):
    serve(provider_server, (422, '{"error": "too long", "field": "subject"}'))

    with pytest.raises(ProviderError) as caught:
        transport().post("/things", "create the thing", json={})

    assert str(caught.value) == "acme could not create the thing: HTTP 422: too long (field 'subject')"
    assert caught.value.field == "subject" and caught.value.provider_message == "too long"


def test_a_body_the_provider_parser_cannot_read_is_shown_as_text(transport, provider_server):
    serve(provider_server, (400, "Retry   later\n"))

    with pytest.raises(ProviderError, match=r"HTTP 400: Retry later$"):
        transport().get("/things", "list the things")


def test_statuses_the_caller_handles_are_returned(transport, provider_server):
    serve(provider_server, (404, '{"error": "gone"}'))

    assert transport().get("/things/1", "look up the thing", ok_statuses=(404,)).status_code == 404


def test_every_call_has_a_timeout(transport, provider_server, monkeypatch):
    serve(provider_server, (200, "{}"))
    seen = {}
    client = transport()
    real = client.session.request

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(client.session, "request", spy)
    client.get("/things", "list the things")

    assert seen["timeout"] == HttpTransport.timeout


def test_a_secret_at_the_edge_of_a_long_body_is_not_left_half_shown(transport, provider_server):
    from pipeline.deliver.providers.http import BODY_LIMIT

    padding = "x" * (BODY_LIMIT - len(KEY) // 2)
    serve(provider_server, (400, f"{padding}{KEY} and more"))

    with pytest.raises(ProviderError) as caught:
        transport().get("/things", "list the things")

    assert KEY[: len(KEY) // 2] not in caught.value.body
    assert KEY[: len(KEY) // 2] not in str(caught.value)
