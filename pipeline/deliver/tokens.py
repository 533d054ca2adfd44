"""Per-recipient unsubscribe links for the SMTP provider, and the small web endpoint they open.

A token is the subscriber's address and the list it was made for (the blog's address,
`[site] base_url`) signed with HMAC-SHA256 (itsdangerous) under the secret in
NEWSLETTER_UNSUBSCRIBE_SECRET, so a token from one newsletter never unsubscribes from another that
shares the secret. It does not expire: an unsubscribe link in an old email must keep working, so a
token made before tokens named their list (the address alone) is still taken. The address inside
is readable (signed, not encrypted); it only travels in mail sent to that address.

The renderer gets a URL holding TOKEN_PLACEHOLDER (`placeholder_url`); the provider replaces it
per recipient. The reader service (pipeline/readers/service.py) serves that URL: GET shows a
confirmation button (mail scanners follow links, so a GET must not unsubscribe), POST
unsubscribes - the button, and the one-click POST of RFC 8058 that mail clients send from the
List-Unsubscribe header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

from pipeline.core.clock import now as utc_now
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.core.secrets import secret_problem

SECRET_ENV = "NEWSLETTER_UNSUBSCRIBE_SECRET"
MIN_SECRET_LENGTH = 16
TOKEN_PARAMETER = "token"
# Letters and hyphens only: survives Markdown, HTML escaping, html2text and URL quoting unchanged.
TOKEN_PLACEHOLDER = "NEWSLETTER-UNSUBSCRIBE-TOKEN"
SALT = "newsletter-unsubscribe"
# The reader's preferences link in a weekly email sent by the smtp provider, replaced likewise.
PREFERENCES_PLACEHOLDER = "NEWSLETTER-PREFERENCES-TOKEN"


class InvalidToken(PipelineError):
    """The token was not signed with our secret, or was cut short."""


def checked_secret(value: str) -> str:
    problem = secret_problem(value)
    if problem:  # sixteen spaces, or a pasted line break: never a key to sign with
        raise ConfigError(
            f"the environment variable {SECRET_ENV} {problem}: set it again with the secret alone "
            "(its value is not shown here)"
        )
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{SECRET_ENV} is too short: use at least {MIN_SECRET_LENGTH} random characters "
            "(e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return value


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(checked_secret(secret), salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})


def make_token(email: str, secret: str, for_list: str) -> str:
    """`for_list`: the list's identity, the blog's address (`Config.base_url`)."""
    return _serializer(secret).dumps([email, for_list])


def read_token(token: str, secret: str, for_list: str | Collection[str]) -> str:
    """The address a token was made for; InvalidToken if it was not made with this secret, or was
    made for another list. `for_list`: this list's identity, or all it has had
    (`Config.list_identities`: a blog that moved keeps its old emails' links working)."""
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature:
        raise InvalidToken("this unsubscribe link is not valid (it may have been cut short)") from None
    if isinstance(payload, str):  # made before tokens named their list: still honoured
        return payload
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(part, str) for part in payload)):
        raise InvalidToken("this unsubscribe link is not valid")
    email, made_for = payload
    if made_for not in ((for_list,) if isinstance(for_list, str) else for_list):
        raise InvalidToken("this unsubscribe link was made for another newsletter's list")
    return email


def link_with_token(base_url: str, token: str) -> str:
    """`https://x/unsubscribe/` -> `https://x/unsubscribe/?token=...`, keeping any query it had."""
    parts = urlsplit(base_url)
    query = parts.query + ("&" if parts.query else "") + urlencode({TOKEN_PARAMETER: token})
    return urlunsplit(parts._replace(query=query))


def placeholder_url(base_url: str) -> str:
    return link_with_token(base_url, TOKEN_PLACEHOLDER)


def personalise(text: str, token: str, preferences_token: str = "") -> str:
    text = text.replace(TOKEN_PLACEHOLDER, token)
    return text.replace(PREFERENCES_PLACEHOLDER, preferences_token) if preferences_token else text


def list_unsubscribe_headers(url: str, mailto_address: str, token: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe (web and mail) for one recipient, and RFC 8058 one-click
    when the link is https (the RFC allows no other scheme)."""
    mailto = f"mailto:{mailto_address}?subject={quote('unsubscribe ' + token)}"
    headers = {"List-Unsubscribe": f"<{url}>, <{mailto}>"}
    if url.startswith("https://"):
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


# Reader links of the reader service (pipeline/readers/): one salt per purpose, so a token made
# for one purpose (confirm, preferences) is refused for any other and for unsubscribing, and one
# reader's token never reads as another's (the address is inside, signed). Confirmation links
# carry the time and expire; itsdangerous compares signatures in constant time (hmac.compare_digest).
CONFIRM = "confirm"
PREFERENCES = "preferences"
PURPOSES = (CONFIRM, PREFERENCES)


class ExpiredToken(InvalidToken):
    """The token was ours but is older than its purpose allows."""


def _timed_serializer(secret: str, purpose: str, clock: Callable[[], datetime]) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")

    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return URLSafeTimedSerializer(
        checked_secret(secret),
        salt=f"newsletter-reader-{purpose}",
        signer=ClockSigner,
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def make_reader_token(email: str, purpose: str, secret: str, nonce: str = "", clock=utc_now) -> str:
    """A link token for one reader and one purpose. `nonce` ties a confirmation link to one
    signup, so a link from an earlier signup stops working when she signs up again."""
    return _timed_serializer(secret, purpose, clock).dumps([email, nonce])


def read_reader_token(
    token: str, purpose: str, secret: str, max_age: timedelta | None = None, clock=utc_now
) -> tuple[str, str]:
    """(address, nonce) of a token made for `purpose`; InvalidToken or ExpiredToken otherwise."""
    serializer = _timed_serializer(secret, purpose, clock)
    try:
        payload = serializer.loads(token, max_age=int(max_age.total_seconds()) if max_age else None)
    except SignatureExpired:
        raise ExpiredToken("this link has expired") from None
    except BadSignature:
        raise InvalidToken("this link is not valid (it may have been cut short)") from None
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(part, str) for part in payload)):
        raise InvalidToken("this link is not valid")
    return payload[0], payload[1]
