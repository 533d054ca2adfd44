"""RenderedEmail -> a complete multipart/alternative message (.eml), as a provider or an SMTP
server would receive it."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from pipeline.core.config import Config
from pipeline.core.model import RenderedEmail

PLACEHOLDER_RECIPIENT = "subscriber@example.invalid"
UNFOLDED_HEADERS = SMTP.clone(max_line_length=998)


def make_eml(email: RenderedEmail, config: Config, now: datetime, to: str = PLACEHOLDER_RECIPIENT) -> bytes:
    """The message with both parts (text first, so clients prefer the HTML) and the headers for
    one-click unsubscribe (RFC 8058). `now` without a time zone is taken in [email] timezone."""
    sender = config.email
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(sender.sender_name, addr_spec=sender.sender_address)
    message["To"] = to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(_in_timezone(now, sender.timezone))
    message["Message-ID"] = message_id(email, config)
    if sender.reply_to:
        message["Reply-To"] = sender.reply_to
    unsubscribe_url = config.unsubscribe_url
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>, <mailto:{sender.sender_address}?subject=unsubscribe>"
    if unsubscribe_url.startswith("https://"):  # RFC 8058 one-click needs an https URI
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # Not random, so the same build gives the same bytes; "==" never occurs in quoted-printable.
    message.set_boundary(f"=={email.content_hash[:32]}==")
    # The parts are already encoded in 76-column lines; headers stay on one line where they fit
    # in SMTP's 998 (a folded Message-ID trips up some tools).
    return message.as_bytes(policy=UNFOLDED_HEADERS)


def message_id(email: RenderedEmail, config: Config) -> str:
    """Stable for the same issue and content: a rebuild gives the same id, a change a new one."""
    domain = config.email.sender_address.rpartition("@")[2] or "localhost"
    return f"<{email.issue.key}.{email.content_hash[:16]}@{domain}>"


def _in_timezone(moment: datetime, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
