"""The self-hosted unsubscribe endpoint (WSGI): one-click (RFC 8058 POST) and the confirm page."""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import parse_qs

from pipeline.core.errors import ConfigError
from pipeline.deliver.tokens import (
    SECRET_ENV,
    TOKEN_PARAMETER,
    InvalidToken,
    checked_secret,
    read_token,
)


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
            return self._page(
                start_response,
                "405 Method Not Allowed",
                "Not allowed",
                "Open the link from your email.",
                [("Allow", "GET, POST")],
            )
        token = self._token(environ, method)
        try:
            email = read_token(token, self.secret)
        except InvalidToken as error:
            return self._page(
                start_response,
                "400 Bad Request",
                "Link not valid",
                f"{error}. Write to {self.contact} and we will take you off the list.",
            )
        if method == "GET":
            return self._confirm_page(start_response, token, email)
        self.unsubscribe(email)
        return self._page(
            start_response, "200 OK", "You are unsubscribed", f"{email} will get no more emails from {self.list_name}."
        )

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

    def _page(
        self, start_response, status: str, title: str, message: str, headers=(), body_html: str = ""
    ) -> list[bytes]:
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(message)}</p>{body_html}</body></html>"
        ).encode()
        start_response(
            status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page))), *headers]
        )
        return [page]


def app_for_root(root: str | Path = ".") -> UnsubscribeApp:
    """The endpoint for a project, e.g. `gunicorn 'pipeline.readers.unsubscribe:app_for_root("/srv/newsletter")'`."""
    from pipeline.core.config import load_config
    from pipeline.deliver.subscribers import SubscriberStore, store_path

    config = load_config(root)
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise ConfigError(f"set the environment variable {SECRET_ENV} to serve unsubscribe links")

    def unsubscribe(email: str) -> None:
        with SubscriberStore(store_path(config)) as store:
            store.unsubscribe(email)

    return UnsubscribeApp(secret, unsubscribe, config.site.title, config.email.reply_to or config.email.sender_address)
