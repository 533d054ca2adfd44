"""One reader's copy of the built message: her address, her unsubscribe token in the links and
the List-Unsubscribe headers, a fresh Date and Message-ID, and the bytes as they go on the wire.
"""

from __future__ import annotations

import copy
import html
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from pipeline.deliver.subscribers import (
    Subscriber,
)
from pipeline.deliver.tokens import (
    PREFERENCES_PLACEHOLDER,
    TOKEN_PLACEHOLDER,
    list_unsubscribe_headers,
    personalise,
)

# Headers may be 998 characters long (RFC 5322). Folded at 78, a List-Unsubscribe URL with a
# token is too long for one line and the email package would turn it into encoded words, which
# mail clients do not read as a link. Bodies are already encoded and are not affected.
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)


PERSONAL_LINE_PLACEHOLDER = "NEWSLETTER-PERSONAL-LINE"


def personalised_message(
    template: EmailMessage,
    recipient: Subscriber,
    token: str,
    unsubscribe_link: str,
    sender_address: str,
    sender: Address | None,
    now: datetime,
    preferences_token: str = "",
    personal_line: str | None = None,
) -> EmailMessage:
    """The template addressed to one subscriber: their token in every text part, their own
    List-Unsubscribe headers (web, and mail to `sender_address`), a fresh Message-ID and Date,
    and their personal line where the email has its placeholder (left out when None).
    `sender` replaces the From header when given."""
    message = copy.deepcopy(template)
    for part in message.walk():
        if part.get_content_maintype() == "text" and not part.is_attachment():
            body = part.get_content()
            if TOKEN_PLACEHOLDER in body or PREFERENCES_PLACEHOLDER in body or PERSONAL_LINE_PLACEHOLDER in body:
                body = _fill_personal_line(body, personal_line, part.get_content_subtype())
                _replace_text(part, personalise(body, token, preferences_token), is_root=part is message)
    headers = {
        "To": _address(recipient),
        "Date": format_datetime(now),
        "Message-ID": make_msgid(domain=sender_address.rpartition("@")[2] or "localhost"),
        **list_unsubscribe_headers(unsubscribe_link, sender_address, token),
    }
    if sender is not None:
        headers["From"] = sender
    for name in ("Bcc", "Cc", "X-Unsent", "List-Unsubscribe", "List-Unsubscribe-Post", *headers):
        del message[name]
    for name, value in headers.items():
        message[name] = value
    return message


def _fill_personal_line(body: str, line: str | None, subtype: str) -> str:
    """Her line in place of the placeholder; without one, the placeholder's line goes (text) or
    the placeholder is emptied (HTML), so nothing wrong is ever shown."""
    if PERSONAL_LINE_PLACEHOLDER not in body:
        return body
    if line is not None:
        return body.replace(PERSONAL_LINE_PLACEHOLDER, html.escape(line) if subtype == "html" else line)
    if subtype == "html":
        return body.replace(PERSONAL_LINE_PLACEHOLDER, "")
    return "".join(kept for kept in body.splitlines(keepends=True) if PERSONAL_LINE_PLACEHOLDER not in kept)


def _replace_text(part: EmailMessage, text: str, is_root: bool) -> None:
    encoding = str(part.get("Content-Transfer-Encoding", "")).lower()
    keep = encoding if encoding in ("quoted-printable", "base64") else None  # else let the library choose
    part.set_content(text, subtype=part.get_content_subtype(), charset="utf-8", cte=keep)
    if not is_root:
        del part["MIME-Version"]  # set_content adds it; it belongs on the message only


def _address(subscriber: Subscriber) -> Address | str:
    try:
        return Address(display_name=subscriber.name, addr_spec=subscriber.email)
    except (ValueError, IndexError):
        return subscriber.email


def wire_format(message: EmailMessage, addresses: list[str]) -> tuple[bytes, tuple[str, ...]]:
    """The message as sent, and the MAIL FROM options it needs (SMTPUTF8 for a non-ASCII address)."""
    if all(address.isascii() for address in addresses):
        return message.as_bytes(policy=WIRE_POLICY), ()
    return message.as_bytes(policy=WIRE_POLICY.clone(utf8=True)), ("SMTPUTF8", "BODY=8BITMIME")


def unsent_placeholder_parts(message: EmailMessage) -> list[str]:
    """The text parts (text/plain, text/html) whose body lacks the unsubscribe placeholder."""
    missing = []
    for part in message.walk():
        is_text = part.get_content_type() in ("text/plain", "text/html") and not part.is_attachment()
        if is_text and TOKEN_PLACEHOLDER not in part.get_content():
            missing.append(part.get_content_type())
    return missing
