"""One reader's copy of the built message: her address, her unsubscribe and preferences tokens in
the links and the List-Unsubscribe headers, her personal line, a fresh Date and Message-ID, and
the bytes as they go on the wire.

`personalised_message` builds that copy with the email package (milliseconds for a 50 KB issue:
a deep copy, re-encoding both parts, re-parsing every header). `MessageTemplate` makes the same
bytes in a fraction of that: the message is serialised once with a gap for each reader's headers
and each personalised part; quoted-printable encodes line by line, so only the lines holding a
placeholder are filled in and encoded again for each reader. Anything it does not cover (a part
not in quoted-printable, a message that is not multipart, an address needing SMTPUTF8, a header
needing more than a plain line) takes the email package's way, so the bytes never depend on which
way was taken.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy, quoprimime
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
PLACEHOLDERS = (TOKEN_PLACEHOLDER, PREFERENCES_PLACEHOLDER, PERSONAL_LINE_PLACEHOLDER)
PER_READER_HEADERS = ("To", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "From")
_GAP = "NEWSLETTER-PART-GAP-{}"  # letters, digits and hyphens: quoted-printable leaves them as they are


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
    message_id: str | None = None,
) -> EmailMessage:
    """The template addressed to one subscriber: their token in every text part, their own
    List-Unsubscribe headers (web, and mail to `sender_address`), a fresh Message-ID (unless
    given) and Date, and their personal line where the email has its placeholder (left out when
    None). `sender` replaces the From header when given."""
    message = copy.deepcopy(template)
    for part in message.walk():
        if part.get_content_maintype() == "text" and not part.is_attachment():
            body = part.get_content()
            if _has_placeholder(body):
                body = _fill_personal_line(body, personal_line, part.get_content_subtype())
                _replace_text(part, personalise(body, token, preferences_token), is_root=part is message)
    headers = _reader_headers(recipient, token, unsubscribe_link, sender_address, sender, now, message_id)
    for name in ("Bcc", "Cc", "X-Unsent", "List-Unsubscribe", "List-Unsubscribe-Post", *headers):
        del message[name]
    for name, value in headers.items():
        message[name] = value
    return message


def _has_placeholder(text: str) -> bool:
    return any(placeholder in text for placeholder in PLACEHOLDERS)


def _reader_headers(
    recipient: Subscriber,
    token: str,
    unsubscribe_link: str,
    sender_address: str,
    sender: Address | None,
    now: datetime,
    message_id: str | None,
) -> dict:
    headers = {
        "To": _address(recipient),
        "Date": format_datetime(now),
        "Message-ID": message_id or make_msgid(domain=sender_address.rpartition("@")[2] or "localhost"),
        **list_unsubscribe_headers(unsubscribe_link, sender_address, token),
    }
    if sender is not None:
        headers["From"] = sender
    return headers


@dataclass(frozen=True)
class Personal:
    """What differs from one reader's copy to the next, apart from her headers."""

    token: str
    preferences_token: str
    personal_line: str | None


@dataclass(frozen=True)
class _PartBody:
    """A personalised part's body in quoted-printable, as on the wire: runs of lines without a
    placeholder, encoded once, and the lines with one, filled in and encoded for each reader."""

    pieces: list[bytes | _PlaceholderLine]
    subtype: str
    max_line_length: int

    def encoded(self, personal: Personal) -> list[bytes]:
        values = {
            TOKEN_PLACEHOLDER: personal.token,
            PREFERENCES_PLACEHOLDER: personal.preferences_token or PREFERENCES_PLACEHOLDER,  # as personalise()
            PERSONAL_LINE_PLACEHOLDER: _shown_line(personal.personal_line, self.subtype),
        }
        return [
            piece if isinstance(piece, bytes) else piece.encoded(values, self.subtype, self.max_line_length)
            for piece in self.pieces
        ]


def _shown_line(line: str | None, subtype: str) -> str | None:
    """What stands for the personal line placeholder (None: the text line holding it goes)."""
    if line is None:
        return "" if subtype == "html" else None
    return html.escape(line) if subtype == "html" else line


@dataclass(frozen=True)
class _PlaceholderLine:
    """One line holding placeholders: the text around them quoted once (quoted-printable quotes
    character by character), so a reader's copy quotes only her values, then wraps the line."""

    pieces: tuple[str, ...]  # quoted text, placeholder, quoted text, placeholder, ..., quoted text

    @classmethod
    def of(cls, line: str) -> _PlaceholderLine:
        pieces = _PLACEHOLDER_SPLIT.split(line)
        return cls(tuple(piece if index % 2 else _quoted(piece) for index, piece in enumerate(pieces)))

    def encoded(self, values: dict[str, str | None], subtype: str, max_line_length: int) -> bytes:
        parts = []
        for index, piece in enumerate(self.pieces):
            if not index % 2:
                parts.append(piece)
                continue
            value = values[piece]
            if value is None:
                return b""  # a text line with the personal line, for a reader without one
            parts.append(_quoted(value))
        return _wire_lines(_soft_wrapped("".join(parts), max_line_length) + "\n")


_PLACEHOLDER_SPLIT = re.compile("(" + "|".join(re.escape(placeholder) for placeholder in PLACEHOLDERS) + ")")
_QUOTE_MAP = [quoprimime.quote(chr(octet)) if quoprimime.body_check(octet) else chr(octet) for octet in range(256)]


def _quoted(text: str) -> str:
    """Text as quoted-printable quotes it (its UTF-8 bytes, each unsafe one as =XX), unwrapped."""
    return text.encode("utf-8").decode("latin-1").translate(_QUOTE_MAP)


def _soft_wrapped(line: str, max_line_length: int) -> str:
    """A quoted line wrapped as quoprimime.body_encode wraps one (soft breaks that never split
    an =XX, whitespace at the end quoted); the byte-for-byte test keeps the two in step."""
    out = []
    start, last_start, width = 0, len(line) - 1 - max_line_length, max_line_length - 1
    while start <= last_start:
        stop = start + width
        if line[stop - 2] == "=":
            out.append(line[start : stop - 1])
            start = stop - 2
        elif line[stop - 1] == "=":
            out.append(line[start:stop])
            start = stop - 1
        else:
            out.append(line[start:stop] + "=")
            start = stop
    if line and line[-1] in " \t":
        room = start - last_start
        if room >= 3:
            end = quoprimime.quote(line[-1])
        elif room == 2:
            end = line[-1] + "=\n"
        else:
            end = "=\n" + quoprimime.quote(line[-1])
        out.append(line[start:-1] + end)
    else:
        out.append(line[start:])
    return "\n".join(out)


def _wire_lines(encoded: str) -> bytes:
    return encoded.replace("\n", "\r\n").encode("ascii")


class MessageTemplate:
    """The built message, ready to be personalised quickly: `wire_bytes(...)` gives the very
    bytes `wire_format(personalised_message(...))` would. Safe to use from several threads."""

    def __init__(self, template: EmailMessage, sender_address: str, sender: Address | None):
        self.template = template
        self.sender_address = sender_address
        self.sender = sender
        self._head, self._chunks, self._bodies = self._compile(template)

    def wire_bytes(
        self,
        recipient: Subscriber,
        token: str,
        unsubscribe_link: str,
        now: datetime,
        preferences_token: str = "",
        personal_line: str | None = None,
        message_id: str | None = None,
    ) -> tuple[bytes, tuple[str, ...]]:
        """The reader's copy as sent, and the MAIL FROM options it needs (`message_id`: a fresh
        one unless given)."""
        headers = _reader_headers(recipient, token, unsubscribe_link, self.sender_address, self.sender, now, message_id)
        addresses = [self.sender_address, recipient.email]
        header_lines = self._header_lines(headers) if self._bodies is not None else None
        if header_lines is None or not all(address.isascii() for address in addresses):
            message = personalised_message(
                self.template,
                recipient,
                token,
                unsubscribe_link,
                self.sender_address,
                self.sender,
                now,
                preferences_token,
                personal_line,
                headers["Message-ID"],
            )
            return wire_format(message, addresses)
        personal = Personal(token, preferences_token, personal_line)
        out = [self._head, header_lines]
        for chunk, body in zip(self._chunks, self._bodies, strict=False):
            out += [chunk, *body.encoded(personal)]
        out.append(self._chunks[-1])
        return b"".join(out), ()

    @staticmethod
    def _header_lines(headers: dict) -> bytes | None:
        """The reader's headers as the email package folds them; None when one needs more than
        one plain line (then the email package does it all)."""
        lines = []
        for name, value in headers.items():
            if isinstance(value, Address) and _plain_address(value):
                value = f"{value.display_name} <{value.addr_spec}>" if value.display_name else value.addr_spec
            if isinstance(value, str):
                line = f"{name}: {value}\r\n"
                if not line.isascii() or len(line) > WIRE_POLICY.max_line_length:
                    return None
                lines.append(line.encode("ascii"))
            else:  # an Address: quoting and encoded words exactly as the email package does them
                lines.append(WIRE_POLICY.fold_binary(name, WIRE_POLICY.header_factory(name, value)))
        return b"".join(lines)

    def _compile(self, template: EmailMessage):
        """(the headers before the reader's, the bytes between personalised parts, their bodies);
        bodies None when this message must take the email package's way."""
        skeleton = copy.deepcopy(template)
        if not skeleton.is_multipart():
            return b"", [b""], None
        bodies: list[_PartBody] = []
        for part in skeleton.walk():
            if part.get_content_maintype() != "text" or part.is_attachment() or part.is_multipart():
                continue
            body = part.get_content()
            if not _has_placeholder(body):
                continue
            if str(part.get("Content-Transfer-Encoding", "")).lower() != "quoted-printable":
                return b"", [b""], None
            _replace_text(part, body, is_root=False)  # the headers the email package leaves on the part
            bodies.append(_part_body(body, part.get_content_subtype(), part.policy.max_line_length))
            part.set_payload(_GAP.format(len(bodies) - 1))
        for name in ("Bcc", "Cc", "X-Unsent", *PER_READER_HEADERS):
            if name != "From" or self.sender is not None:
                del skeleton[name]
        data = skeleton.as_bytes(policy=WIRE_POLICY)
        head_end = data.index(b"\r\n\r\n") + 2
        rest = data[head_end:]
        chunks = []
        for index in range(len(bodies)):
            before, _, rest = rest.partition(_GAP.format(index).encode("ascii"))
            chunks.append(before)
        chunks.append(rest)
        return data[:head_end], chunks, bodies


_SPECIALS = set('()<>@,:;."[]\\')


def _plain_address(address: Address) -> bool:
    """A name and address the email package writes as they are: printable ASCII, no specials."""
    name, spec = address.display_name, address.addr_spec
    return (
        name.isascii()
        and name.isprintable()
        and _SPECIALS.isdisjoint(name)
        and name == " ".join(name.split())
        and spec.isascii()
        and spec.isprintable()
        and " " not in spec
    )


_PLACEHOLDER_BYTES = tuple(placeholder.encode("ascii") for placeholder in PLACEHOLDERS)


def _part_body(body: str, subtype: str, max_line_length: int) -> _PartBody:
    """Split as the email package encodes a text: its UTF-8 lines, joined by newlines, read as
    Latin-1 and put into quoted-printable, which works line by line."""
    pieces: list[bytes | _PlaceholderLine] = []
    run: list[bytes] = []

    def end_run() -> None:
        if run:
            encoded = quoprimime.body_encode((b"\n".join(run) + b"\n").decode("latin-1"), max_line_length)
            pieces.append(_wire_lines(encoded))
            run.clear()

    for line in body.encode("utf-8").splitlines():
        if any(placeholder in line for placeholder in _PLACEHOLDER_BYTES):
            end_run()
            pieces.append(_PlaceholderLine.of(line.decode("utf-8")))
        else:
            run.append(line)
    end_run()
    return _PartBody(pieces, subtype, max_line_length)


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
