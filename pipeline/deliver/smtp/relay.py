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
    relay (the journal holds her as uncertain: never sent twice). A connection that cannot be
    opened (again) gives up; the others send to the rest. A temporary refusal (4xx), or every
    connection given up, stops the run: no new message starts, those under way finish and are
    recorded."""
    if not pending:
        return
    readers = iter(pending)
    handed_back: list[Reader] = []  # taken by a connection that gave up before sending to them
    in_flight = [0]  # taken and not yet done with: a connection still trying may hand one back
    turn = threading.Condition()
    stop = threading.Event()
    outcomes: queue.Queue = queue.Queue()

    def next_reader():
        with turn:
            while not stop.is_set():
                person = handed_back.pop() if handed_back else next(readers, None)
                if person is not None:
                    in_flight[0] += 1
                    return person
                if not in_flight[0]:
                    return None
                turn.wait(timeout=0.1)  # until another connection is done with hers (or the run stops)
            return None

    def done_with(person: Reader, hand_back: bool = False) -> None:
        with turn:
            in_flight[0] -= 1
            if hand_back:
                handed_back.append(person)
            turn.notify_all()

    def work() -> None:
        try:
            _work(open_sender, next_reader, done_with, lambda person, outcome: outcomes.put((person, outcome)), stop)
        except BaseException as error:  # a bug, not a refusal: the loop below raises it in this thread
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


_CONNECTED = "connected"  # a connection's first opening worked


class _GaveUp(Exception):
    """A connection that could not be opened (or opened again): the others go on without it."""

    def __init__(self, error: Exception, ever_connected: bool):
        super().__init__(str(error))
        self.error = error
        self.ever_connected = ever_connected


class _Stop(Exception):
    """Why sending stops: a temporary refusal or a connection that cannot be had, described."""


class _Lost(Exception):
    """The connection broke while sending a reader's message; `in_doubt`: after her whole
    message reached the relay, so she may have it and must not be sent it again."""

    def __init__(self, reason: str, in_doubt: bool):
        super().__init__(reason)
        self.in_doubt = in_doubt


def _work(open_sender, next_reader, done_with, report, stop: threading.Event) -> None:
    """One connection's loop: send to readers until none are left or the run stops. A lost
    connection is opened again (RECONNECTS times in a row at most, waiting a little longer each
    time) and the reader it was sending to retried when that cannot give her a second copy. A
    connection that cannot be had (a server allowing fewer at once, or one that went away) gives
    up and hands its reader back to the others."""
    person, failures, connected = None, 0, False
    while True:
        try:
            with open_sender() as send_one:
                if not connected:
                    connected = True
                    report(None, _CONNECTED)
                while person is not None or (person := next_reader()) is not None:
                    outcome = _outcome(send_one, person)
                    if isinstance(outcome, _Lost) and not outcome.in_doubt:
                        raise outcome  # she is retried on the next connection
                    if isinstance(outcome, _Stop):
                        stop.set()  # before anything else starts on any connection
                    report(person, outcome)
                    done_with(person)
                    person, failures = None, 0
                    if isinstance(outcome, _Lost):
                        raise outcome
                return
        except (_Lost, ProviderError) as error:
            failures += 1
            if stop.is_set():
                return
            if not connected or failures > RECONNECTS:
                if person is not None:
                    done_with(person, hand_back=True)
                report(None, _GaveUp(error, connected))
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
    """Record outcomes as they come until every worker is done; the reason the run stopped, if
    it did: the first 4xx or error, or every connection given up with readers left."""
    progress = iter(track(range(total), "Sending"))
    count, handled, finished, connected = 0, 0, 0, False
    problem: BaseException | None = None
    gave_up: _GaveUp | None = None
    while finished < workers:
        taken = []
        for person, outcome in _waiting(outcomes):
            if person is None:
                finished += outcome is None
                connected |= outcome is _CONNECTED
                if isinstance(outcome, _GaveUp):
                    gave_up = gave_up or outcome
                elif isinstance(outcome, BaseException) and problem is None:
                    problem = outcome
                    stop.set()
                continue
            next(progress, None)
            handled += 1
            if outcome is None:
                taken.append(person)
            elif isinstance(outcome, str):
                refused(person, outcome)
            elif isinstance(outcome, _Stop) and problem is None:
                problem = outcome
                stop.set()
            # a _Lost in doubt: the journal holds her, and the push names her at the end
        if taken:
            sent(taken)
            count += len(taken)
    if problem is None and handled < total and gave_up is not None:
        if not connected and isinstance(gave_up.error, ProviderError):
            return gave_up.error  # no connection could be opened at all: what connecting said
        problem = _Stop(f"the connection was lost and could not be opened again: {gave_up.error}")
    if isinstance(problem, _Stop):
        return _stopped(str(problem), count, total)
    return problem


def _stopped(reason: str, sent: int, total: int) -> ProviderError:
    return ProviderError(
        f"smtp send stopped after {sent} of {total} messages this run: {reason}. "
        "Everyone sent to is recorded; push again to send to the rest."
    )
