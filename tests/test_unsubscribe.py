"""Signed per-recipient unsubscribe tokens and the links and headers made from them (the page
the links open is the reader service's: tests/test_reader_service.py)."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeSerializer

from pipeline.core.errors import ConfigError
from pipeline.deliver.tokens import (
    SALT,
    TOKEN_PLACEHOLDER,
    InvalidToken,
    link_with_token,
    list_unsubscribe_headers,
    make_token,
    personalise,
    placeholder_url,
    read_token,
)

SECRET = "a-long-random-secret-for-tests-only"
LIST = "https://strong-after-birth.example/"


# Tokens.
def test_a_token_reads_back_as_the_address_it_was_made_for():
    token = make_token("ann@example.com", SECRET, LIST)
    assert read_token(token, SECRET, LIST) == "ann@example.com"


def test_each_address_gets_its_own_token():
    assert make_token("ann@example.com", SECRET, LIST) != make_token("bea@example.com", SECRET, LIST)


def test_a_token_is_safe_in_a_url_query_without_quoting():
    token = make_token("Ann O'Neil+news@example.com", SECRET, LIST)
    assert parse_qs(urlsplit(link_with_token("https://x.example/unsubscribe/", token)).query)["token"] == [token]


def test_a_token_made_with_another_secret_is_refused():
    token = make_token("ann@example.com", "another-secret-of-enough-length", LIST)
    with pytest.raises(InvalidToken):
        read_token(token, SECRET, LIST)


def test_a_token_for_another_address_cannot_be_forged_by_editing_it():
    token = make_token("ann@example.com", SECRET, LIST)
    forged = make_token("bea@example.com", SECRET, LIST).split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(InvalidToken):
        read_token(forged, SECRET, LIST)


def test_a_cut_short_token_is_refused():
    token = make_token("ann@example.com", SECRET, LIST)
    with pytest.raises(InvalidToken):
        read_token(token[:-3], SECRET, LIST)


def test_a_token_made_for_another_list_is_refused_even_with_the_same_secret():
    token = make_token("ann@example.com", SECRET, "https://another-newsletter.example/")
    with pytest.raises(InvalidToken, match="another newsletter"):
        read_token(token, SECRET, LIST)


def test_a_token_made_before_tokens_named_their_list_still_unsubscribes():
    # Links in emails sent by earlier versions hold the address alone; an unsubscribe link must keep working.
    legacy = URLSafeSerializer(SECRET, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}).dumps(
        "ann@example.com"
    )
    assert read_token(legacy, SECRET, LIST) == "ann@example.com"


@pytest.mark.parametrize("secret", [" " * 16, "a-long-random-secret\r", "\ta-long-random-secret"])
def test_a_secret_of_whitespace_or_with_stray_whitespace_is_a_config_error_that_does_not_show_it(secret):
    with pytest.raises(ConfigError, match="NEWSLETTER_UNSUBSCRIBE_SECRET") as error:
        make_token("ann@example.com", secret, LIST)
    assert secret.strip() not in str(error.value) or not secret.strip()


def test_a_short_secret_is_a_config_error_that_does_not_show_it():
    with pytest.raises(ConfigError) as error:
        make_token("ann@example.com", "short-pw", LIST)
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
    token = make_token("ann@example.com", SECRET, LIST)
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
