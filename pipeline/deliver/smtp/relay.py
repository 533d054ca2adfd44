"""The relay: SMTP connections (STARTTLS, SSL or plain, with login), the pace of sending, and
the send loop with what each kind of refusal means. Errors name the server and never the password.

Several connections: a relay takes tens of milliseconds to accept each message (SES about 50 ms
from the same region), so one connection tops out near 20 messages a second whatever the rate
allows. `send_to_each` keeps `connections` open, one thread each. The threads talk SMTP and write
the send journal around each message (appends of one line: safe from several threads); every
outcome comes back to the calling thread, which alone writes the ledger and the campaign record.
"""

from __future__ import annotations

import base64
import queue
import smtplib
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

from pipeline.core.errors import ProviderError
from pipeline.deliver.smtp.journal import MessageInDoubt
from pipeline.deliver.smtp.settings import PASSWORD_ENV, SmtpSettings
from pipeline.tools.progress import track

Reader = TypeVar("Reader")
RECONNECTS = 3  # a lost connection is opened again this many times in a row before the run stops
RECONNECT_PAUSE = 0.25  # seconds before the first reconnect; doubled each time after


class Throttle:
    """At most `rate_per_second` messages a second over all connections. Starts are handed out
    1/rate apart on one schedule; a start missed because every connection was busy (or the
    machine slow) is made up later, so the average reaches the rate. Whatever the schedule and
    however late a sleeping thread wakes, no more than N messages are let go within N/rate
    seconds (N: the rate rounded down, at least 1: at 100 a second, 100 in any one second).
    None: no limit. Safe to share between threads. Clock and sleep are injectable so tests can
    check the pacing."""

    def __init__(
        self,
        rate_per_second: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 0.0 if rate_per_second is None else 1.0 / rate_per_second
        self.clock = clock
        self.sleep = sleep
        self.next_start: float | None = None
        self._burst = max(1, int(rate_per_second or 1))
        self._window = self._burst * self.interval
        self._let_go: deque[float] = deque(maxlen=self._burst)
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self.clock()
            if self.next_start is None or now - self.next_start > self._window:
                self.next_start = now  # idle, or far behind: make up no more than one window
            start = max(now, self.next_start)
            self.next_start += self.interval
        if start > now:
            self.sleep(start - now)
        while True:
            with self._lock:
                now = self.clock()
                if len(self._let_go) < self._burst or now >= self._let_go[0] + self._window:
                    self._let_go.append(now)
                    return
                delay = self._let_go[0] + self._window - now
            self.sleep(delay)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _redacted(text: str, username: str, password: str) -> str:
    """Server replies never should, but might, echo what we sent: keep the password out."""
    if not password:
        return text
    forms = [
        password,
        base64.b64encode(f"\0{username}\0{password}".encode()).decode(),
        base64.b64encode(password.encode()).decode(),
    ]
    for form in forms:
        text = text.replace(form, "[redacted]")
    return text


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()


@contextmanager
def relay_connection(settings: SmtpSettings, password: str) -> Iterator[smtplib.SMTP]:
    smtp = connect(settings, password)
    try:
        yield smtp
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def connect(s: SmtpSettings, password: str) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=s.ca_file or None) if s.security != "none" else None
    smtp = None
    try:
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.security == "starttls":
                smtp.starttls(context=context)
        if s.username:
            smtp.login(s.username, password)
        return smtp
    except smtplib.SMTPAuthenticationError as error:
        _close(smtp)
        raise ProviderError(
            f"{s.host}:{s.port} refused the login of user '{s.username}': "
            f"{_redacted(describe(error), s.username, password)}; "
            f"check username in newsletter.toml and {PASSWORD_ENV}",
            status=error.smtp_code,
        ) from None
    except smtplib.SMTPNotSupportedError as error:
        _close(smtp)
        raise ProviderError(f"{s.host}:{s.port}: {error}; check security and port in newsletter.toml") from None
    except ssl.SSLError as error:
        _close(smtp)
        hint = (
            " (a private CA? name its certificate in [provider] ca_file)"
            if isinstance(error, ssl.SSLCertVerificationError)
            else ""
        )
        raise ProviderError(f"TLS with {s.host}:{s.port} failed: {error.reason or error}{hint}") from None
    except (smtplib.SMTPException, OSError) as error:
        _close(smtp)
        raise ProviderError(
            f"cannot connect to SMTP server {s.host}:{s.port} ({s.security}): "
            f"{_redacted(describe(error), s.username, password)}"
        ) from None


def describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{who}: {code} {_text(reply)}" for who, (code, reply) in error.recipients.items())
    return str(error) or type(error).__name__


def send_to_each(
    pending: Sequence[Reader],
    open_sender: Callable[[], AbstractContextManager[Callable[[Reader], None]]],
    refused: Callable[[Reader, str], None],
    sent: Callable[[list[Reader]], None],
    connections: int = 1,
) -> None:
    """The send loop: one message per reader over `connections` connections, each opened by
    `open_sender()` (a context giving the function that sends one reader's message on it, and
    journals it). `sent` runs in this thread as soon as the server took messages, with every
    reader taken meanwhile (at most one a connection), so they are recorded in one write. A
    permanent refusal (5xx) of one address goes to `refused` and the loop goes on. A lost
    connection is opened again and the reader retried, unless her whole message had reached the
    relay (the journal holds her as uncertain: never sent twice). A temporary refusal (4xx), or a
    connection that cannot be opened again, stops the run: no new message starts, those under way
    finish and are recorded."""
    if not pending:
        return
    readers = iter(pending)
    take = threading.Lock()
    stop = threading.Event()
    outcomes: queue.Queue = queue.Queue()

    def next_reader():
        with take:
            return None if stop.is_set() else next(readers, None)

    def work() -> None:
        try:
            _work(open_sender, next_reader, lambda person, outcome: outcomes.put((person, outcome)), stop)
        except BaseException as error:  # connecting failed: the loop below raises it in this thread
            outcomes.put((None, error))
        finally:
            outcomes.put((None, None))

    workers = [threading.Thread(target=work, daemon=True) for _ in range(max(1, min(connections, len(pending))))]
    for worker in workers:
        worker.start()
    try:
        problem = _collect(outcomes, len(workers), len(pending), refused, sent, stop)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    if problem is not None:
        raise problem


class _Stop(Exception):
    """Why sending stops: a temporary refusal or a connection that cannot be had, described."""


class _Lost(Exception):
    """The connection broke while sending a reader's message; `in_doubt`: after her whole
    message reached the relay, so she may have it and must not be sent it again."""

    def __init__(self, reason: str, in_doubt: bool):
        super().__init__(reason)
        self.in_doubt = in_doubt


def _work(open_sender, next_reader, report, stop: threading.Event) -> None:
    """One connection's loop: send to readers until none are left or the run stops; a lost
    connection is opened again (RECONNECTS times in a row at most, waiting a little longer each
    time) and the reader it was sending to is retried when that cannot give her a second copy."""
    person, failures = None, 0
    while True:
        try:
            with open_sender() as send_one:
                while person is not None or (person := next_reader()) is not None:
                    outcome = _outcome(send_one, person)
                    if isinstance(outcome, _Lost) and not outcome.in_doubt:
                        raise outcome  # she is retried on the next connection
                    if isinstance(outcome, _Stop):
                        stop.set()  # before anything else starts on any connection
                    report(person, outcome)
                    person, failures = None, 0
                    if isinstance(outcome, _Lost):
                        raise outcome
                return
        except (_Lost, ProviderError) as error:
            if failures == 0 and isinstance(error, ProviderError) and person is None:
                raise  # the first connection cannot be opened: settings or the server, not luck
            failures += 1
            if failures > RECONNECTS or stop.is_set():
                if not stop.is_set():
                    report(None, _Stop(f"the connection was lost and could not be opened again: {error}"))
                return
            time.sleep(RECONNECT_PAUSE * 2 ** (failures - 1))


def _outcome(send_one: Callable[[Reader], None], person: Reader) -> str | _Stop | _Lost | None:
    """None: sent; a string: refused for good with this reply; _Stop: stop sending; _Lost: the
    connection broke."""
    try:
        send_one(person)
    except smtplib.SMTPRecipientsRefused as refusal:
        code, reply = next(iter(refusal.recipients.values()))
        if 400 <= code < 500:
            return _Stop(f"the server refused {person.email} for now ({code} {_text(reply)})")
        return f"{code} {_text(reply)}"
    except MessageInDoubt as error:
        return _Lost(describe(error), in_doubt=True)
    except smtplib.SMTPServerDisconnected as error:
        return _Lost(describe(error), in_doubt=False)
    except smtplib.SMTPException as error:  # a reply (4xx, 5xx): the server's word, not the network's
        return _Stop(describe(error))
    except OSError as error:  # a reset, a timeout
        return _Lost(describe(error), in_doubt=False)
    return None


def _waiting(outcomes: queue.Queue) -> list:
    """The next outcome (waiting for it) and every other one already there."""
    batch = [outcomes.get()]
    while True:
        try:
            batch.append(outcomes.get_nowait())
        except queue.Empty:
            return batch


def _collect(outcomes: queue.Queue, workers: int, total: int, refused, sent, stop) -> BaseException | None:
    """Record outcomes as they come until every worker is done; the first reason to stop, if any."""
    progress = iter(track(range(total), "Sending"))
    count, problem, finished = 0, None, 0
    while finished < workers:
        taken = []
        for person, outcome in _waiting(outcomes):
            if person is None and outcome is None:
                finished += 1
                continue
            if person is not None:
                next(progress, None)
            if person is not None and outcome is None:
                taken.append(person)
            elif isinstance(outcome, str):
                refused(person, outcome)
            elif isinstance(outcome, _Lost):
                continue  # in doubt: the journal holds her, and the push names her at the end
            elif problem is None:  # a _Stop, or connecting failed
                problem = outcome
                stop.set()
        if taken:
            sent(taken)
            count += len(taken)
    if isinstance(problem, _Stop):
        return _stopped(str(problem), count, total)
    return problem


def _stopped(reason: str, sent: int, total: int) -> ProviderError:
    return ProviderError(
        f"smtp send stopped after {sent} of {total} messages this run: {reason}. "
        "Everyone sent to is recorded; push again to send to the rest."
    )
