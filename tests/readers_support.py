"""A reader service on a throwaway project, called as a WSGI server would, with a clock the test
moves and the reader emails read back from outbox/readers/ (or a real SMTP server)."""

from __future__ import annotations

import email
import io
import re
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from urllib.parse import urlencode

from pipeline.core.config import load_config
from pipeline.deliver.subscribers import SubscriberStore
from pipeline.readers.mail import Composer, Links, MailSender, relay_for
from pipeline.readers.service import ReaderService

SECRET = "a-long-random-secret-for-the-reader-tests"
ENV = {"NEWSLETTER_UNSUBSCRIBE_SECRET": SECRET}
ORIGIN = "https://strongfromwithin.example"  # the repo's newsletter.toml [site] base_url
LINK = re.compile(r"https?://[^\s\"<>]+/(confirm|preferences|unsubscribe)/\?token=([A-Za-z0-9_.-]+)")


class Clock:
    def __init__(self):
        self.moment = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)


class Service:
    def __init__(self, root: Path, env: dict | None = None):
        self.root = root
        self.config = load_config(root)
        self.clock = Clock()
        env = {**ENV, **(env or {})}
        self.relay = relay_for(self.config, env)
        self.sender = MailSender(
            root / ".newsletter" / "subscribers.sqlite3",
            Composer(self.config, Links(self.config, SECRET, self.clock), self.clock),
            self.relay,
            self.clock,
        )
        self.app = ReaderService(self.config, SECRET, wake_sender=lambda: None, clock=self.clock)

    def request(self, method: str, path: str, fields: dict | None = None, query: str = "", headers=None, body=None):
        data = body if body is not None else urlencode(fields or {}).encode()
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "REMOTE_ADDR": "192.0.2.10",
            "wsgi.input": io.BytesIO(data),
        }
        if method == "POST":
            environ["HTTP_ORIGIN"] = ORIGIN
        for name, value in (headers or {}).items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value
        answer = {}

        def start_response(status, response_headers):
            answer["status"], answer["headers"] = status, dict(response_headers)

        page = b"".join(self.app(environ, start_response)).decode()
        return answer["status"], page, answer["headers"]

    def sign_up(self, **fields):
        return self.request("POST", "/subscribe/", {"email": "ann@example.com", **fields})

    def store(self) -> SubscriberStore:
        return SubscriberStore(self.root / ".newsletter" / "subscribers.sqlite3", clock=self.clock)

    def person(self, address: str = "ann@example.com"):
        with self.store() as store:
            return store.get(address)

    def send_mail(self) -> int:
        return self.sender.send_due()

    def mails(self) -> list[email.message.EmailMessage]:
        folder = self.root / "outbox" / "readers"
        files = sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns) if folder.is_dir() else []
        return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in files]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def token_in(message, purpose: str) -> str:
    for found in LINK.finditer(text_of(message)):
        if found.group(1) == purpose:
            return found.group(2)
    raise AssertionError(f"no {purpose} link in {message['Subject']!r}")


def heading(page: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
