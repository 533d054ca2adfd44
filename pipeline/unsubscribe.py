"""Per-recipient unsubscribe links for the SMTP provider, and the small web endpoint they open.

A token is the subscriber's address signed with HMAC-SHA256 (itsdangerous) under the secret in
NEWSLETTER_UNSUBSCRIBE_SECRET. It does not expire: an unsubscribe link in an old email must keep
working. The address inside is readable (signed, not encrypted); it only travels in mail sent
to that address.

The renderer gets a URL holding TOKEN_PLACEHOLDER (`placeholder_url`); the provider replaces it
per recipient. `UnsubscribeApp` serves that URL: GET shows a confirmation button (mail scanners
follow links, so a GET must not unsubscribe), POST unsubscribes - the button, and the one-click
POST of RFC 8058 that mail clients send from the List-Unsubscribe header.
"""
from __future__ import annotations

import hashlib
import html
import os
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

from itsdangerous import BadSignature, URLSafeSerializer

from .errors import ConfigError, PipelineError

SECRET_ENV = "NEWSLETTER_UNSUBSCRIBE_SECRET"
MIN_SECRET_LENGTH = 16
TOKEN_PARAMETER = "token"
# Letters and hyphens only: survives Markdown, HTML escaping, html2text and URL quoting unchanged.
TOKEN_PLACEHOLDER = "NEWSLETTER-UNSUBSCRIBE-TOKEN"
SALT = "newsletter-unsubscribe"


class InvalidToken(PipelineError):
    """The token was not signed with our secret, or was cut short."""


def checked_secret(value: str) -> str:
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{SECRET_ENV} is too short: use at least {MIN_SECRET_LENGTH} random characters "
            "(e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return value


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(checked_secret(secret), salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})


def make_token(email: str, secret: str) -> str:
    return _serializer(secret).dumps(email)


def read_token(token: str, secret: str) -> str:
    """The address a token was made for; InvalidToken if it was not made with this secret."""
    try:
        email = _serializer(secret).loads(token)
    except BadSignature:
        raise InvalidToken("this unsubscribe link is not valid (it may have been cut short)") from None
    if not isinstance(email, str):
        raise InvalidToken("this unsubscribe link is not valid")
    return email


def link_with_token(base_url: str, token: str) -> str:
    """`https://x/unsubscribe/` -> `https://x/unsubscribe/?token=...`, keeping any query it had."""
    parts = urlsplit(base_url)
    query = parts.query + ("&" if parts.query else "") + urlencode({TOKEN_PARAMETER: token})
    return urlunsplit(parts._replace(query=query))


def placeholder_url(base_url: str) -> str:
    return link_with_token(base_url, TOKEN_PLACEHOLDER)


def personalise(text: str, token: str) -> str:
    return text.replace(TOKEN_PLACEHOLDER, token)


def list_unsubscribe_headers(url: str, mailto_address: str, token: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe (web and mail) for one recipient, and RFC 8058 one-click
    when the link is https (the RFC allows no other scheme)."""
    mailto = f"mailto:{mailto_address}?subject={quote('unsubscribe ' + token)}"
    headers = {"List-Unsubscribe": f"<{url}>, <{mailto}>"}
    if url.startswith("https://"):
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


class UnsubscribeApp:
    """A WSGI application for the unsubscribe URL. `unsubscribe(email)` is called on a valid POST."""

    def __init__(self, secret: str, unsubscribe: Callable[[str], object], list_name: str, contact: str):
        self.secret = checked_secret(secret)
        self.unsubscribe = unsubscribe
        self.list_name = list_name
        self.contact = contact

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "POST"):
            return self._page(start_response, "405 Method Not Allowed", "Not allowed", "Open the link from your email.", [("Allow", "GET, POST")])
        token = self._token(environ, method)
        try:
            email = read_token(token, self.secret)
        except InvalidToken as error:
            return self._page(start_response, "400 Bad Request", "Link not valid", f"{error}. Write to {self.contact} and we will take you off the list.")
        if method == "GET":
            return self._confirm_page(start_response, token, email)
        self.unsubscribe(email)
        return self._page(start_response, "200 OK", "You are unsubscribed", f"{email} will get no more emails from {self.list_name}.")

    def _token(self, environ: dict, method: str) -> str:
        fields = parse_qs(environ.get("QUERY_STRING", ""))
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(min(length, 10_000)).decode("utf-8", "replace")
            fields = {**fields, **parse_qs(body)}
        return (fields.get(TOKEN_PARAMETER) or [""])[0]

    def _confirm_page(self, start_response, token: str, email: str) -> list[bytes]:
        form = (
            f'<form method="post"><input type="hidden" name="{TOKEN_PARAMETER}" value="{html.escape(token)}">'
            f'<button type="submit">Unsubscribe {html.escape(email)}</button></form>'
        )
        return self._page(start_response, "200 OK", f"Unsubscribe from {self.list_name}?", "", body_html=form)

    def _page(self, start_response, status: str, title: str, message: str, headers=(), body_html: str = "") -> list[bytes]:
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(message)}</p>{body_html}</body></html>"
        ).encode()
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page))), *headers])
        return [page]


def app_for_root(root: str | Path = ".") -> UnsubscribeApp:
    """The endpoint for a project, e.g. `gunicorn 'pipeline.unsubscribe:app_for_root("/srv/newsletter")'`."""
    from .config import load_config
    from .subscribers import SubscriberStore, store_path

    config = load_config(root)
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise ConfigError(f"set the environment variable {SECRET_ENV} to serve unsubscribe links")

    def unsubscribe(email: str) -> None:
        with SubscriberStore(store_path(config)) as store:
            store.unsubscribe(email)

    return UnsubscribeApp(secret, unsubscribe, config.site.title, config.email.reply_to or config.email.sender_address)
