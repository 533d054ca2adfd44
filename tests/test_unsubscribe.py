"""Signed per-recipient unsubscribe tokens, the links and headers made from them, and the web
endpoint that the links open."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.core.errors import ConfigError
from pipeline.deliver.tokens import (
    TOKEN_PLACEHOLDER,
    InvalidToken,
    link_with_token,
    list_unsubscribe_headers,
    make_token,
    personalise,
    placeholder_url,
    read_token,
)
from pipeline.readers.unsubscribe import UnsubscribeApp

SECRET = "a-long-random-secret-for-tests-only"


# Tokens.
def test_a_token_reads_back_as_the_address_it_was_made_for():
    token = make_token("ann@example.com", SECRET)
    assert read_token(token, SECRET) == "ann@example.com"


def test_each_address_gets_its_own_token():
    assert make_token("ann@example.com", SECRET) != make_token("bea@example.com", SECRET)


def test_a_token_is_safe_in_a_url_query_without_quoting():
    token = make_token("Ann O'Neil+news@example.com", SECRET)
    assert parse_qs(urlsplit(link_with_token("https://x.example/unsubscribe/", token)).query)["token"] == [token]


def test_a_token_made_with_another_secret_is_refused():
    token = make_token("ann@example.com", "another-secret-of-enough-length")
    with pytest.raises(InvalidToken):
        read_token(token, SECRET)


def test_a_token_for_another_address_cannot_be_forged_by_editing_it():
    token = make_token("ann@example.com", SECRET)
    forged = make_token("bea@example.com", SECRET).split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(InvalidToken):
        read_token(forged, SECRET)


def test_a_cut_short_token_is_refused():
    token = make_token("ann@example.com", SECRET)
    with pytest.raises(InvalidToken):
        read_token(token[:-3], SECRET)


def test_a_short_secret_is_a_config_error_that_does_not_show_it():
    with pytest.raises(ConfigError) as error:
        make_token("ann@example.com", "short-pw")
    assert "NEWSLETTER_UNSUBSCRIBE_SECRET" in str(error.value)
    assert "short-pw" not in str(error.value)


# Links and headers.
def test_the_token_goes_into_the_query_of_the_unsubscribe_url():
    assert (
        link_with_token("https://x.example/unsubscribe/", "abc.def") == "https://x.example/unsubscribe/?token=abc.def"
    )


def test_an_unsubscribe_url_with_a_query_keeps_it():
    assert link_with_token("https://x.example/u?list=weekly", "abc") == "https://x.example/u?list=weekly&token=abc"


def test_the_placeholder_url_is_replaced_by_each_recipients_token():
    url = placeholder_url("https://x.example/unsubscribe/")
    token = make_token("ann@example.com", SECRET)
    assert (
        personalise(f'<a href="{url}">Unsubscribe</a>', token)
        == f'<a href="https://x.example/unsubscribe/?token={token}">Unsubscribe</a>'
    )


def test_the_placeholder_survives_html_escaping_and_url_quoting_unchanged():
    import html
    from urllib.parse import quote

    assert html.escape(TOKEN_PLACEHOLDER) == TOKEN_PLACEHOLDER
    assert quote(TOKEN_PLACEHOLDER) == TOKEN_PLACEHOLDER


def test_list_unsubscribe_offers_the_web_link_a_mail_address_and_one_click():
    headers = list_unsubscribe_headers("https://x.example/unsubscribe/?token=t.1", "hello@x.example", "t.1")
    assert (
        headers["List-Unsubscribe"]
        == "<https://x.example/unsubscribe/?token=t.1>, <mailto:hello@x.example?subject=unsubscribe%20t.1>"
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_one_click_is_offered_only_for_an_https_link():
    headers = list_unsubscribe_headers("http://localhost:8080/unsubscribe/?token=t.1", "hello@x.example", "t.1")
    assert "List-Unsubscribe-Post" not in headers


# The endpoint.
class Endpoint:
    """Calls the WSGI app as a server would and keeps who was unsubscribed."""

    def __init__(self):
        self.unsubscribed: list[str] = []
        self.app = UnsubscribeApp(SECRET, self.unsubscribed.append, "Strong From Within", "hello@x.example")

    def request(self, method: str, query: str = "", body: str = "") -> tuple[str, str]:
        data = body.encode()
        environ = {
            "REQUEST_METHOD": method,
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "wsgi.input": io.BytesIO(data),
        }
        status = []
        page = b"".join(self.app(environ, lambda code, headers: status.append(code)))
        return status[0], page.decode()


@pytest.fixture
def endpoint():
    return Endpoint()


def test_opening_the_link_asks_for_confirmation_and_unsubscribes_nobody(endpoint):
    token = make_token("ann@example.com", SECRET)
    status, page = endpoint.request("GET", f"token={token}")
    assert status == "200 OK"
    assert '<form method="post">' in page and "ann@example.com" in page
    assert endpoint.unsubscribed == []


def test_the_confirmation_button_unsubscribes_the_address_in_the_token(endpoint):
    token = make_token("ann@example.com", SECRET)
    status, page = endpoint.request("POST", body=f"token={token}")
    assert status == "200 OK"
    assert "You are unsubscribed" in page
    assert endpoint.unsubscribed == ["ann@example.com"]


def test_a_one_click_post_from_a_mail_client_unsubscribes(endpoint):
    token = make_token("ann@example.com", SECRET)
    status, _ = endpoint.request("POST", f"token={token}", body="List-Unsubscribe=One-Click")
    assert status == "200 OK"
    assert endpoint.unsubscribed == ["ann@example.com"]


def test_a_forged_token_is_refused_and_unsubscribes_nobody(endpoint):
    status, page = endpoint.request("POST", body="token=not-a-real-token")
    assert status == "400 Bad Request"
    assert "hello@x.example" in page
    assert endpoint.unsubscribed == []


def test_an_address_in_the_page_is_escaped(endpoint):
    token = make_token("<script>@example.com", SECRET)
    _, page = endpoint.request("GET", f"token={token}")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_other_methods_are_not_allowed(endpoint):
    status, _ = endpoint.request("DELETE", f"token={make_token('ann@example.com', SECRET)}")
    assert status == "405 Method Not Allowed"
    assert endpoint.unsubscribed == []


def test_the_project_endpoint_marks_the_subscriber_unsubscribed_in_the_list(make_project, monkeypatch):
    from pipeline.core.config import load_config
    from pipeline.deliver.subscribers import Subscriber, SubscriberStore
    from pipeline.readers.unsubscribe import app_for_root

    root = make_project()
    with SubscriberStore.for_config(load_config(root)) as store:
        store.import_subscribers([Subscriber("ann@example.com"), Subscriber("bea@example.com")])
    monkeypatch.setenv("NEWSLETTER_UNSUBSCRIBE_SECRET", SECRET)
    app = app_for_root(root)
    body = f"token={make_token('ann@example.com', SECRET)}".encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    app(environ, lambda status, headers: None)
    with SubscriberStore.for_config(load_config(root)) as store:
        assert [person.email for person in store.active()] == ["bea@example.com"]


def test_the_project_endpoint_needs_the_secret(make_project, monkeypatch):
    from pipeline.readers.unsubscribe import app_for_root

    monkeypatch.delenv("NEWSLETTER_UNSUBSCRIBE_SECRET", raising=False)
    with pytest.raises(ConfigError, match="NEWSLETTER_UNSUBSCRIBE_SECRET"):
        app_for_root(make_project())
