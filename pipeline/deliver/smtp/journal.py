"""The send journal of an smtp campaign, `.newsletter/smtp/<issue key>/sent.log`, and the one
SMTP transaction that writes it. It is what keeps exactly-once when the ledger is lost or
damaged, and what narrows the kill -9 window to the relay's own reply.

One line per event, each appended with a single `write` to a file opened with O_APPEND (whole or
not at all, never interleaved, also from the several connections' threads of one push):

    ? ann@example.com   the whole message is with the relay, the final "." goes next
    + ann@example.com   the relay answered 250: she has it
    - ann@example.com   the relay refused it after all

A reader with a `+` line, in the journal or the ledger, is never sent the issue again. A reader
whose last line is `?` is *uncertain*: the push was killed between handing the relay the final
"." and writing its answer down (a fraction of a millisecond), so she may or may not have it.
She is not sent it again automatically (nothing is sent twice); the push names her instead, and
the relay's log tells which it was (docs/smtp.md, "A push stopped half-way").
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

JOURNAL_FILE = "sent.log"
ABOUT_TO_COMMIT, COMMITTED, NOT_TAKEN = "?", "+", "-"


@dataclass(frozen=True)
class JournalState:
    sent: frozenset[str]
    uncertain: frozenset[str]


class MessageInDoubt(smtplib.SMTPException):
    """The connection broke after a reader's whole message reached the relay and before its
    answer: her `?` line stays last, so she is never sent the issue again automatically."""


class SendJournal:
    def __init__(self, path: Path):
        self.path = Path(path)

    def state(self) -> JournalState:
        last: dict[str, str] = {}
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            text = ""
        for line in text.splitlines():
            mark, _, key = line.partition(" ")
            if key and mark in (ABOUT_TO_COMMIT, COMMITTED, NOT_TAKEN) and last.get(key) != COMMITTED:
                last[key] = mark  # once sent, always sent
        return JournalState(
            sent=frozenset(key for key, mark in last.items() if mark == COMMITTED),
            uncertain=frozenset(key for key, mark in last.items() if mark == ABOUT_TO_COMMIT),
        )

    def note(self, mark: str, key: str) -> None:
        if not key or any(char.isspace() for char in key):
            raise ValueError(f"journal key {key!r} must be one word")
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, f"{mark} {key}\n".encode())
        finally:
            os.close(descriptor)

    def record_sent(self, keys: Iterable[str]) -> None:
        """Readers the ledger knows were sent to (an older journal-less push): kept here too."""
        for key in keys:
            self.note(COMMITTED, key)


def send_journaled(
    smtp: smtplib.SMTP,
    sender: str,
    recipient: str,
    data: bytes,
    mail_options: Iterable[str],
    journal: SendJournal,
    key: str,
) -> None:
    """`smtp.sendmail` for one recipient, with the journal written around the one moment the
    relay takes the message: after the whole message is sent but before its final ".", and
    right after the relay's answer. Raises what sendmail raises, and MessageInDoubt for a
    connection lost between the two (anything lost before is safe to send again)."""
    smtp.ehlo_or_helo_if_needed()
    options = list(mail_options)
    if smtp.does_esmtp and smtp.has_extn("size"):
        options.append(f"size={len(data)}")
    code, reply = smtp.mail(sender, options)
    if code != 250:
        _reset_and_raise(smtp, smtplib.SMTPSenderRefused(code, reply, sender))
    code, reply = smtp.rcpt(recipient)
    if code not in (250, 251):
        _reset_and_raise(smtp, smtplib.SMTPRecipientsRefused({recipient: (code, reply)}))
    code, reply = smtp.docmd("data")
    if code != 354:
        _reset_and_raise(smtp, smtplib.SMTPDataError(code, reply))
    # The final "." goes in a write of its own: without TCP_NODELAY it would wait for the
    # server's delayed ACK of the body (40 ms), and that wait would sit inside the window.
    with contextlib.suppress(OSError, AttributeError):
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = _dot_stuffed(data)  # what SMTP.data() sends, split before its final "."
    smtp.send(body if body.endswith(b"\r\n") else body + b"\r\n")
    journal.note(ABOUT_TO_COMMIT, key)
    try:
        smtp.send(b".\r\n")
        code, reply = smtp.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as error:
        raise MessageInDoubt(
            f"the connection broke as the relay was taking the message to {recipient}: {error}"
        ) from None
    if code != 250:
        journal.note(NOT_TAKEN, key)
        raise smtplib.SMTPDataError(code, reply)
    journal.note(COMMITTED, key)


def _dot_stuffed(data: bytes) -> bytes:
    """smtplib's doubling of a "." opening a line, skipped when no line opens with one: two byte
    searches instead of a regular expression over the whole message (a quarter of a millisecond)."""
    if data.startswith(b".") or b"\n." in data:
        return smtplib._quote_periods(data)
    return data


def _reset_and_raise(smtp: smtplib.SMTP, error: Exception) -> None:
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()
    raise error
