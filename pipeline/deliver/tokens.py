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
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from itsdangerous import BadSignature, URLSafeSerializer

from pipeline.core.errors import ConfigError, PipelineError

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
