"""The smtp provider against a real SMTP server (aiosmtpd on 127.0.0.1): one personalised
message per subscriber, exactly once, over plain, STARTTLS or SSL connections with login, one or
several at a time."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time as time_module
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser, Parser
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from pipeline.content.assemble import assemble_issue
from pipeline.content.load import load_content
from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError, ProviderError, PushRefused
from pipeline.deliver.ledger import Ledger, ledger_path
from pipeline.deliver.providers import get_provider
from pipeline.deliver.providers.smtp import SmtpProvider
from pipeline.deliver.push import push_issue
from pipeline.deliver.smtp.journal import SendJournal, send_journaled
from pipeline.deliver.smtp.message import (
    PERSONAL_LINE_PLACEHOLDER,
    MessageTemplate,
    personalised_message,
    wire_format,
)
from pipeline.deliver.smtp.relay import Throttle
from pipeline.deliver.subscribers import Subscriber, SubscriberStore
from pipeline.deliver.tokens import (
    PREFERENCES,
    PREFERENCES_PLACEHOLDER,
    TOKEN_PLACEHOLDER,
    link_with_token,
    make_reader_token,
    make_token,
    read_reader_token,
    read_token,
)
from pipeline.render.email import render_email
from pipeline.render.mime import make_eml

REPO = Path(__file__).resolve().parent.parent
WEEK = "2026-W48"
BUILT_AT = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SECRET = "unsubscribe-secret-for-the-smtp-tests"
# The list every token names: the demo project's [site] base_url (its newsletter.toml is the base here).
LIST = "https://strongfromwithin.example/"
PASSWORD = "correct horse battery staple"
ENV = {"NEWSLETTER_UNSUBSCRIBE_SECRET": SECRET, "NEWSLETTER_SMTP_PASSWORD": PASSWORD}
TOKEN_IN_LINK = re.compile(r"/unsubscribe/\?token=([A-Za-z0-9_.-]+)")


# A real SMTP server.
class Mailbox:
    """An aiosmtpd handler that keeps every accepted message and the connection (client port) it
    came over. `reply(envelope, session)` may answer instead of accepting (e.g. "550 no such
    user") by returning an SMTP reply for a message."""

    def __init__(self, reply=None):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.connections: list[int] = []
        self.reply = reply
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        answer = self.reply(envelope, session) if self.reply else None
        if answer:
            return answer
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            self.connections.append(session.peer[1])
        return "250 OK"

    def parsed(self) -> list[EmailMessage]:
        # Headers may hold UTF-8 (RFC 6532, sent with SMTPUTF8): decode before parsing.
        return [Parser(policy=policy.default).parsestr(content.decode("utf-8")) for _, _, content in self.messages]

    def recipients(self) -> list[str]:
        return [rcpt for _, rcpts, _ in self.messages for rcpt in rcpts]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(mailbox: Mailbox, **options):
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def accept_login(server, session, envelope, mechanism, auth_data):
    # handled=False: let aiosmtpd answer 535 itself on a wrong password.
    return AuthResult(success=(auth_data.login, auth_data.password) == (b"writer", PASSWORD.encode()), handled=False)


@pytest.fixture(scope="session")
def certificates(tmp_path_factory):
    """A throwaway CA and a certificate for 127.0.0.1 signed by it."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server_context, ca_file


# A project that sends over smtp.
def toml(server_port: int, /, **options) -> str:
    settings = {"host": "127.0.0.1", "port": server_port, "security": "none", "rate_per_second": 1000, **options}
    lines = [f"{key} = {value!r}".replace("'", '"') for key, value in settings.items()]
    base = (REPO / "newsletter.toml").read_text(encoding="utf-8").split("[provider]")[0]
    return base + '[provider]\nname = "smtp"\n' + "\n".join(lines) + "\n"


@pytest.fixture
def project(make_project):
    def make(server_port: int, /, people: int | list[Subscriber] = 3, **options) -> Path:
        root = make_project(with_repo_content=True)
        (root / "newsletter.toml").write_text(toml(server_port, **options), encoding="utf-8")
        if isinstance(people, int):
            people = [Subscriber(f"reader{n:03d}@example.com", f"Reader {n}") for n in range(people)]
        with SubscriberStore.for_config(load_config(root)) as store:
            store.import_subscribers(people)
        return root

    return make


def provider_for(root: Path, env: dict | None = None, **kwargs) -> SmtpProvider:
    config = load_config(root)
    return SmtpProvider(config, ENV if env is None else env, **kwargs)


def rendered(provider: SmtpProvider):
    """The week's real email, rendered with the provider's unsubscribe URL."""
    config = provider.config
    issue = assemble_issue(load_content(config), config, WEEK)
    email = render_email(issue, config, provider.unsubscribe_url())
    return email, make_eml(email, config, BUILT_AT)


def drafted(provider: SmtpProvider) -> str:
    email, eml = rendered(provider)
    return provider.create_draft(email, eml).id


def sent_to(root: Path, issue_key: str) -> dict:
    with Ledger(ledger_path(root / ".newsletter")) as ledger:
        return ledger.recipients(issue_key, "smtp")


def unsubscribe_tokens(message: EmailMessage) -> dict[str, list[str]]:
    """The tokens of the unsubscribe links in each part and in List-Unsubscribe."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return {
        "text": TOKEN_IN_LINK.findall(text),
        "html": TOKEN_IN_LINK.findall(html),
        "header": TOKEN_IN_LINK.findall(str(message["List-Unsubscribe"])),
    }


def assert_personal_and_complete(message: EmailMessage, recipient: str) -> None:
    """Both parts, addressed to `recipient`, with their own unsubscribe link everywhere."""
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"].addresses[0].addr_spec == recipient
    tokens = unsubscribe_tokens(message)
    assert len(tokens["text"]) == len(tokens["html"]) == len(tokens["header"]) == 1, tokens
    assert {read_token(found[0], SECRET, LIST) for found in tokens.values()} == {recipient}
    assert f"subject=unsubscribe%20{tokens['header'][0]}>" in str(message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert TOKEN_PLACEHOLDER not in message.as_string()


def assert_headers_readable_as_sent(raw: bytes) -> None:
    """A mail client reads List-Unsubscribe as written: angle-bracketed URIs, no encoded words."""
    head = raw.split(b"\r\n\r\n")[0].decode("ascii")
    [unsubscribe] = re.findall(r"^List-Unsubscribe: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.MULTILINE)
    assert re.fullmatch(r"<https://\S+\?token=\S+>,\s+<mailto:\S+>", unsubscribe), unsubscribe


# Drafts.
def test_the_renderer_gets_an_unsubscribe_url_with_a_placeholder_for_the_token(project):
    provider = provider_for(project(free_port()))
    assert provider.unsubscribe_url() == f"https://strongfromwithin.example/unsubscribe/?token={TOKEN_PLACEHOLDER}"


def test_a_draft_is_kept_in_the_state_folder_and_found_again(project):
    root = project(free_port())
    provider = provider_for(root)
    email, eml = rendered(provider)
    campaign = provider.create_draft(email, eml)
    folder = root / ".newsletter" / "smtp" / email.issue.key
    assert (folder / "email.eml").read_bytes() == eml
    assert (campaign.id, campaign.status, campaign.content_hash) == (email.issue.key, "draft", email.content_hash)
    assert provider_for(root).find_campaign(email.issue.key, None) == campaign


def test_an_issue_never_drafted_has_no_campaign(project):
    assert provider_for(project(free_port())).find_campaign("strongfromwithin-example-2026-W01", None) is None


def test_an_email_without_the_unsubscribe_placeholder_in_a_part_is_refused(project):
    provider = provider_for(project(free_port()))
    email, _ = rendered(provider)
    message = EmailMessage()
    message["Subject"] = email.subject
    message.set_content(email.text.replace(TOKEN_PLACEHOLDER, "fixed"))
    message.add_alternative(email.html, subtype="html")
    with pytest.raises(ProviderError, match="no per-recipient unsubscribe link in its text/plain part"):
        provider.create_draft(email, message.as_bytes())


# Sending.
def test_send_now_sends_each_subscriber_one_personal_message(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=3)
        provider = provider_for(root)
        campaign = provider.send_now(drafted(provider))
    assert campaign.status == "sent"
    assert sorted(mailbox.recipients()) == ["reader000@example.com", "reader001@example.com", "reader002@example.com"]
    for (mail_from, [recipient], raw), message in zip(mailbox.messages, mailbox.parsed(), strict=True):
        assert mail_from == "hello@strongfromwithin.example"
        assert_personal_and_complete(message, recipient)
        assert_headers_readable_as_sent(raw)
    assert len({message["Message-ID"] for message in mailbox.parsed()}) == 3


def test_each_message_links_to_her_own_preferences_page(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        provider = provider_for(project(server.port, people=2))
        config = provider.config
        issue = assemble_issue(load_content(config), config, WEEK)
        email = render_email(issue, config, provider.unsubscribe_url(), preferences_url=provider.preferences_url())
        provider.send_now(provider.create_draft(email, make_eml(email, config, BUILT_AT)).id)
    for (_, [recipient], _), message in zip(mailbox.messages, mailbox.parsed(), strict=True):
        for part in ("plain", "html"):
            [token] = re.findall(r"/preferences/\?token=([A-Za-z0-9_.-]+)", message.get_body((part,)).get_content())
            assert read_reader_token(token, PREFERENCES, SECRET)[0] == recipient
        assert PREFERENCES_PLACEHOLDER not in message.as_string()


def test_apart_from_the_token_each_message_is_the_built_email(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        provider = provider_for(project(server.port, people=1))
        email, eml = rendered(provider)
        provider.send_now(provider.create_draft(email, eml).id)
    [message] = mailbox.parsed()
    built = BytesParser(policy=policy.default).parsebytes(eml)
    token = unsubscribe_tokens(message)["text"][0]
    for kind in ("plain", "html"):
        part, original = message.get_body((kind,)), built.get_body((kind,))
        assert part.get_content().replace(token, TOKEN_PLACEHOLDER) == original.get_content()
        assert part["Content-Transfer-Encoding"] == original["Content-Transfer-Encoding"]
    for header in ("Subject", "From", "Reply-To", "MIME-Version"):
        assert message[header] == built[header]
    assert message["Message-ID"] != built["Message-ID"]


def test_the_subscribers_name_is_in_the_to_header(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=[Subscriber("ann@example.com", "Ann Lee")])
        provider = provider_for(root)
        provider.send_now(drafted(provider))
    assert str(mailbox.parsed()[0]["To"]) == "Ann Lee <ann@example.com>"


def test_an_address_with_non_ascii_letters_is_sent_with_smtputf8(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=[Subscriber("zoë@example.com", "Zoë")])
        provider = provider_for(root)
        provider.send_now(drafted(provider))
    assert mailbox.recipients() == ["zoë@example.com"]
    assert_personal_and_complete(mailbox.parsed()[0], "zoë@example.com")


def test_unsubscribed_people_are_not_sent_to(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=3)
        with SubscriberStore.for_config(load_config(root)) as store:
            store.unsubscribe("reader001@example.com")
        provider = provider_for(root)
        provider.send_now(drafted(provider))
    assert sorted(mailbox.recipients()) == ["reader000@example.com", "reader002@example.com"]


def test_a_csv_list_named_in_the_config_is_used_instead_of_the_table(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=[], subscribers="people.csv")
        (root / "people.csv").write_text("email,name\nann@example.com,Ann\nleft@example.com,Left\n", encoding="utf-8")
        with SubscriberStore.for_config(load_config(root)) as store:
            store.unsubscribe("left@example.com")
        provider = provider_for(root)
        provider.send_now(drafted(provider))
    assert mailbox.recipients() == ["ann@example.com"]


def test_a_bad_csv_list_stops_the_send_with_file_and_line(project):
    with smtp_server(Mailbox()) as server:
        root = project(server.port, people=[], subscribers="people.csv")
        (root / "people.csv").write_text("email\nann@example.com\nann-at-example\n", encoding="utf-8")
        provider = provider_for(root)
        with pytest.raises(Exception, match=r"people.csv:3: 'ann-at-example' is not an email address"):
            provider.send_now(drafted(provider))


def test_nobody_to_send_to_is_an_error_not_a_silent_success(project):
    with smtp_server(Mailbox()) as server:
        root = project(server.port, people=[])
        provider = provider_for(root)
        campaign_id = drafted(provider)
        with pytest.raises(ProviderError, match="nobody subscribed"):
            provider.send_now(campaign_id)
        assert provider.find_campaign(campaign_id, None).status == "draft"


def test_the_from_override_sets_the_header_and_the_envelope(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=1, from_address="news@mail.strongfromwithin.example", from_name="SFW Weekly")
        provider = provider_for(root)
        provider.send_now(drafted(provider))
    [(mail_from, _, _)] = mailbox.messages
    message = mailbox.parsed()[0]
    assert mail_from == "news@mail.strongfromwithin.example"
    assert str(message["From"]) == "SFW Weekly <news@mail.strongfromwithin.example>"
    assert "mailto:news@mail.strongfromwithin.example?" in str(message["List-Unsubscribe"])


def test_each_recipient_is_recorded_in_the_ledger(project):
    with smtp_server(Mailbox()) as server:
        root = project(server.port, people=3)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        provider.send_now(campaign_id)
    assert sorted(sent_to(root, campaign_id)) == [
        "reader000@example.com",
        "reader001@example.com",
        "reader002@example.com",
    ]


def test_a_sent_campaign_is_never_sent_again(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=2)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        provider.send_now(campaign_id)
        with pytest.raises(ProviderError, match="already sent"):
            provider.send_now(campaign_id)
    assert len(mailbox.messages) == 2


def test_a_send_stopped_by_the_server_resumes_with_the_rest(project):
    refusing = {"on": True}

    def busy_after_two(envelope, session):
        return "421 too busy, come back later" if refusing["on"] and len(mailbox.messages) >= 2 else None

    mailbox = Mailbox(reply=busy_after_two)
    with smtp_server(mailbox) as server:
        root = project(server.port, people=5)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        with pytest.raises(ProviderError, match=r"stopped after 2 of 5 messages this run: 421 too busy.*push again"):
            provider.send_now(campaign_id)
        assert provider.find_campaign(campaign_id, None).status == "draft"
        refusing["on"] = False
        assert provider_for(root).send_now(campaign_id).status == "sent"
    assert sorted(mailbox.recipients()) == [f"reader{n:03d}@example.com" for n in range(5)]


class RefusingOneAddress(Mailbox):
    """Refuses reader001 at RCPT TO, as a server does for an address it knows is gone."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == "reader001@example.com":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_recipient_the_server_rejects_for_good_is_skipped_and_not_retried(project):
    mailbox = RefusingOneAddress()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=3)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        assert provider.send_now(campaign_id).status == "sent"
    assert sorted(mailbox.recipients()) == ["reader000@example.com", "reader002@example.com"]
    record = (root / ".newsletter" / "smtp" / campaign_id / "campaign.json").read_text()
    assert '"reader001@example.com": "550 5.1.1 no such user"' in record


def test_a_second_send_at_the_same_time_is_refused(project):
    with smtp_server(Mailbox()) as server:
        root = project(server.port, people=1)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        with open(root / ".newsletter" / "smtp" / campaign_id / "send.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with pytest.raises(ProviderError, match="another push is sending"):
                provider.send_now(campaign_id)


def test_a_partly_sent_issue_cannot_be_changed(project):
    def busy_after_one(envelope, session):
        return "421 busy" if len(mailbox.messages) >= 1 else None

    mailbox = Mailbox(reply=busy_after_one)
    with smtp_server(mailbox) as server:
        root = project(server.port, people=3)
        provider = provider_for(root)
        email, eml = rendered(provider)
        campaign_id = provider.create_draft(email, eml).id
        with pytest.raises(ProviderError):
            provider.send_now(campaign_id)
        with pytest.raises(PushRefused, match="already sent to 1 subscriber over smtp"):
            provider.update_draft(campaign_id, email, eml)


def test_a_draft_not_yet_sent_can_be_updated(project):
    provider = provider_for(project(free_port()))
    email, eml = rendered(provider)
    campaign_id = provider.create_draft(email, eml).id
    email.content_hash = "changed"
    assert provider.update_draft(campaign_id, email, eml).content_hash == "changed"


def test_a_test_send_goes_only_to_the_given_addresses_and_is_not_recorded(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=3)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        provider.test_send(campaign_id, ["editor@example.com"])
    [message] = mailbox.parsed()
    assert mailbox.recipients() == ["editor@example.com"]
    assert str(message["Subject"]).startswith("[Test] ")
    assert_personal_and_complete(message, "editor@example.com")
    assert sent_to(root, campaign_id) == {}
    assert provider.find_campaign(campaign_id, None).status == "draft"


def test_push_sends_once_and_a_second_push_sends_nothing(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=2)
        provider = provider_for(root)
        email, eml = rendered(provider)
        with Ledger(ledger_path(root / ".newsletter")) as ledger:
            first = push_issue(provider, ledger, email, eml, send_now=True)
            second = push_issue(provider_for(root), ledger, email, eml, send_now=True)
    assert first.steps == ["drafted", "sent"]
    assert second.steps == []
    assert "already sent" in second.message
    assert len(mailbox.messages) == 2


def test_push_cannot_schedule_over_smtp(project):
    root = project(free_port())
    provider = provider_for(root)
    email, eml = rendered(provider)
    with Ledger(ledger_path(root / ".newsletter")) as ledger, pytest.raises(PushRefused, match="smtp cannot schedule"):
        push_issue(provider, ledger, email, eml, schedule_at=datetime.now(UTC) + timedelta(days=1))


def test_sending_needs_the_unsubscribe_secret(project):
    with smtp_server(Mailbox()) as server:
        provider = provider_for(project(server.port), env={})
        campaign_id = drafted(provider)
        with pytest.raises(ConfigError, match="NEWSLETTER_UNSUBSCRIBE_SECRET"):
            provider.send_now(campaign_id)


# Throttling.
class FakeTime:
    """A clock that moves only when slept, or when a send takes time."""

    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_throttle_spaces_messages_by_one_over_the_rate():
    time = FakeTime()
    throttle = Throttle(4, clock=time.clock, sleep=time.sleep)
    for _ in range(5):
        throttle.wait()
    assert time.sleeps == [0.25] * 4


def test_the_throttle_does_not_sleep_when_sending_is_slower_than_the_rate():
    time = FakeTime()
    throttle = Throttle(4, clock=time.clock, sleep=time.sleep)
    throttle.wait()
    time.now += 0.1
    throttle.wait()
    time.now += 0.3
    throttle.wait()
    assert time.sleeps == [pytest.approx(0.15)]


def test_send_now_waits_as_the_configured_rate_asks(project):
    time = FakeTime()
    with smtp_server(Mailbox()) as server:
        root = project(server.port, people=5, rate_per_second=2, connections=1)
        provider = provider_for(
            root, throttle=Throttle(load_config(root).provider.options["rate_per_second"], time.clock, time.sleep)
        )
        provider.send_now(drafted(provider))
    assert time.sleeps == [0.5] * 4


def test_the_configured_rate_is_what_the_provider_paces_to(project):
    assert provider_for(project(free_port(), rate_per_second=2.5)).throttle.interval == 0.4


def test_a_start_missed_while_sending_was_slow_is_made_up_later():
    time = FakeTime()
    throttle = Throttle(4, clock=time.clock, sleep=time.sleep)
    starts = []
    for late in [0, 0.6, 0, 0, 0, 0, 0, 0]:  # the second message began 0.35 s late
        time.now += late
        throttle.wait()
        starts.append(time.now - 100)
    # Made up at once (0.6), then back on the schedule (0.75, 1.0), and the sixth waits until
    # four have begun in the last second, no more (0.6 + 1).
    assert starts == pytest.approx([0, 0.6, 0.6, 0.75, 1.0, 1.6, 1.6, 1.75])


def test_making_up_never_starts_more_than_the_rate_within_a_second():
    time = FakeTime()
    throttle = Throttle(10, clock=time.clock, sleep=time.sleep)
    starts = []
    for number in range(200):
        time.now += 0.5 if number % 25 == 0 else 0.0  # stalls, then every connection asks at once
        throttle.wait()
        starts.append(time.now)
    assert all(later - earlier >= 1.0 - 1e-9 for earlier, later in zip(starts, starts[10:], strict=False))
    assert 200 / (starts[-1] - starts[0] + 0.1) == pytest.approx(10, rel=0.02)  # the stalls are made up


def test_a_sleep_that_wakes_late_never_lets_more_than_the_rate_go_within_a_second():
    time = FakeTime()
    late = iter([0.3, 0, 0, 0, 0.45, 0, 0, 0] * 10)  # some sleeps overrun, as on a loaded machine

    def sleep(seconds: float) -> None:
        time.sleep(seconds + next(late, 0))

    throttle = Throttle(5, clock=time.clock, sleep=sleep)
    starts = []
    for _ in range(60):
        throttle.wait()
        starts.append(time.now)
    assert all(later - earlier >= 1.0 - 1e-9 for earlier, later in zip(starts, starts[5:], strict=False))


class SharedFakeTime:
    """A clock for several threads that moves only when one sleeps: to the moment it sleeps until."""

    def __init__(self):
        self.now = 100.0
        self.lock = threading.Lock()
        self.seen = threading.local()

    def clock(self) -> float:
        with self.lock:
            self.seen.at = self.now
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now = max(self.now, self.seen.at + seconds)


def test_threads_sharing_the_throttle_keep_one_schedule():
    time = SharedFakeTime()
    throttle = Throttle(10, clock=time.clock, sleep=time.sleep)
    threads = [threading.Thread(target=lambda: [throttle.wait() for _ in range(10)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.now == pytest.approx(100 + 39 / 10)  # 40 starts 0.1 s apart, not 4 x 10 side by side


def test_without_a_rate_limit_the_throttle_never_sleeps():
    time = FakeTime()
    throttle = Throttle(None, clock=time.clock, sleep=time.sleep)
    for _ in range(5):
        throttle.wait()
    assert time.sleeps == []


def test_the_rate_holds_over_all_connections_together(project):
    time = SharedFakeTime()
    with smtp_server(Mailbox()) as server:
        root = project(server.port, people=20, rate_per_second=4, connections=4)
        provider = provider_for(root, throttle=Throttle(4, clock=time.clock, sleep=time.sleep))
        provider.send_now(drafted(provider))
    assert time.now == pytest.approx(100 + 19 / 4)  # one schedule of starts for all 20


def test_an_unlimited_rate_sends_without_pacing(project):
    assert provider_for(project(free_port(), rate_per_second="unlimited")).throttle.interval == 0


# Several connections.
def test_messages_go_out_over_the_configured_number_of_connections(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=30, connections=3)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        provider.send_now(campaign_id)
    everyone = [f"reader{n:03d}@example.com" for n in range(30)]
    assert sorted(mailbox.recipients()) == everyone
    assert len(set(mailbox.connections)) == 3
    assert sorted(sent_to(root, campaign_id)) == everyone
    journal = root / ".newsletter" / "smtp" / campaign_id / "sent.log"
    assert last_marked(journal, "+") == set(everyone)
    assert len(journal.read_text().splitlines()) == 2 * 30  # a whole "?" and "+" line each, none mixed


def test_the_default_is_four_connections(project):
    assert provider_for(project(free_port())).settings.connections == 4


def test_one_connection_sends_in_list_order(project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=6, connections=1)
        provider = provider_for(root)
        provider.send_now(drafted(provider))
    assert mailbox.recipients() == [f"reader{n:03d}@example.com" for n in range(6)]
    assert len(set(mailbox.connections)) == 1


class DroppingConnections(Mailbox):
    """Drops the connection once for each address in `before_data` (at RCPT TO: the message has
    not gone yet) and in `after_data` (once the whole message is in, before answering: the sender
    cannot know whether it was taken; it was)."""

    def __init__(self, before_data=(), after_data=()):
        super().__init__()
        self.before_data, self.after_data = set(before_data), set(after_data)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.before_data:
            self.before_data.discard(address)
            server.transport.abort()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        [address] = envelope.rcpt_tos
        answer = await super().handle_DATA(server, session, envelope)
        if address in self.after_data:
            self.after_data.discard(address)
            server.transport.abort()
        return answer


@pytest.mark.parametrize("connections", [1, 4])
def test_a_connection_lost_before_the_message_went_is_opened_again_and_she_gets_one_copy(project, connections):
    dropped = ["reader003@example.com", "reader011@example.com"]
    mailbox = DroppingConnections(before_data=dropped)
    with smtp_server(mailbox) as server:
        root = project(server.port, people=20, connections=connections)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        assert provider.send_now(campaign_id).status == "sent"
    everyone = [f"reader{n:03d}@example.com" for n in range(20)]
    assert sorted(mailbox.recipients()) == everyone  # each exactly once, the dropped ones included
    assert len(set(mailbox.connections)) > connections  # new connections were opened
    assert sorted(sent_to(root, campaign_id)) == everyone


@pytest.mark.parametrize("connections", [1, 4])
def test_a_connection_lost_as_the_relay_took_the_message_sends_her_no_second_copy(project, connections):
    mailbox = DroppingConnections(after_data=["reader005@example.com"])
    with smtp_server(mailbox) as server:
        root = project(server.port, people=20, connections=connections)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        with pytest.raises(ProviderError, match=r"1 reader of .* may or may not have the issue \(reader005@example"):
            provider.send_now(campaign_id)
        assert provider_for(root).find_campaign(campaign_id, None).status == "draft"
    everyone = [f"reader{n:03d}@example.com" for n in range(20)]
    assert sorted(mailbox.recipients()) == everyone  # she has it once, from the dropped connection
    assert sorted(sent_to(root, campaign_id)) == [reader for reader in everyone if reader != "reader005@example.com"]


class RefusingConnectionsAfterADrop(Mailbox):
    """Drops the connection at reader002's RCPT TO, once, and then every new connection at its
    greeting until told otherwise (the relay is down): reopening fails."""

    def __init__(self):
        super().__init__()
        self.down = False
        self.dropped = False

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if self.down:
            server.transport.abort()
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == "reader002@example.com" and not self.dropped:
            self.down = self.dropped = True
            server.transport.abort()
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_connection_that_cannot_be_opened_again_stops_the_send_to_resume_later(project, monkeypatch):
    monkeypatch.setattr("pipeline.deliver.smtp.relay.RECONNECT_PAUSE", 0.01)
    mailbox = RefusingConnectionsAfterADrop()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=5, connections=1)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        with pytest.raises(ProviderError, match=r"stopped after 2 of 5 messages .*could not be opened again"):
            provider.send_now(campaign_id)
        mailbox.down = False
        assert provider_for(root).send_now(campaign_id).status == "sent"
    assert sorted(mailbox.recipients()) == [f"reader{n:03d}@example.com" for n in range(5)]


class AllowingTwoClients(Mailbox):
    """Drops every connection after the first two at its greeting, as a host limiting each client
    to a few connections does."""

    def __init__(self):
        super().__init__()
        self.allowed: set[int] = set()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if len(self.allowed) < 2:
            self.allowed.add(session.peer[1])
        if session.peer[1] not in self.allowed:
            server.transport.abort()
        session.host_name = hostname
        return responses


def test_connections_the_server_will_not_keep_are_done_without(project, monkeypatch):
    monkeypatch.setattr("pipeline.deliver.smtp.relay.RECONNECT_PAUSE", 0.01)
    mailbox = AllowingTwoClients()
    with smtp_server(mailbox) as server:
        root = project(server.port, people=20, connections=4)
        provider = provider_for(root)
        campaign_id = drafted(provider)
        assert provider.send_now(campaign_id).status == "sent"
    everyone = [f"reader{n:03d}@example.com" for n in range(20)]
    assert sorted(mailbox.recipients()) == everyone  # each exactly once, over the two it kept
    assert set(mailbox.connections) == mailbox.allowed
    assert sorted(sent_to(root, campaign_id)) == everyone


@pytest.mark.parametrize("body", [b".first\r\nmiddle\r\n..two\r\n", b"no dot opens a line. Not one.\r\n"])
def test_lines_opening_with_a_dot_arrive_as_written(tmp_path, body):
    mailbox = Mailbox()
    data = b"Subject: dots\r\n\r\n" + body
    with smtp_server(mailbox) as server:
        smtp = smtplib.SMTP("127.0.0.1", server.port)
        send_journaled(smtp, "news@example.com", "ann@example.com", data, (), SendJournal(tmp_path / "sent.log"), "ann")
        smtp.quit()
    assert mailbox.messages[0][2] == data


# Each reader's copy, made quickly.
@pytest.mark.parametrize(
    "person",
    [
        Subscriber("ann@example.com", "Ann Lee"),
        Subscriber("ann@example.com", ""),
        Subscriber("mo@example.com", "Mo O'Brien-Smith"),
        Subscriber("jane@example.com", 'Smith, "Jane" (J.)'),
        Subscriber("zoe@example.com", "Zoë Ångström"),
        Subscriber("zoë@example.com", "Zoë"),  # SMTPUTF8: the email package's way
    ],
    ids=["name", "no-name", "apostrophe", "specials", "non-ascii-name", "non-ascii-address"],
)
@pytest.mark.parametrize("sender", [None, Address("Strong From Within, News", addr_spec="news@example.com")])
@pytest.mark.parametrize("personal_line", [None, "You are 24 weeks pregnant", 'Your baby is 3 weeks old <& "é">'])
def test_the_quick_copy_is_byte_for_byte_the_email_packages(project, person, sender, personal_line):
    provider = provider_for(project(free_port()))
    _, eml = rendered(provider)
    template = BytesParser(policy=policy.SMTP).parsebytes(eml)
    sender_address = "news@example.com"
    token = make_token(person.email, SECRET, LIST)
    preferences = make_reader_token(person.email, PREFERENCES, SECRET)
    link = link_with_token(provider.config.unsubscribe_url, token)
    message_id = "<fixed@example.com>"
    quick = MessageTemplate(template, sender_address, sender).wire_bytes(
        person, token, link, BUILT_AT, preferences, personal_line, message_id
    )
    slow = personalised_message(
        template, person, token, link, sender_address, sender, BUILT_AT, preferences, personal_line, message_id
    )
    assert quick == wire_format(slow, [sender_address, person.email])


def awkward_template() -> EmailMessage:
    """Lines the quick copy must wrap as the email package does: a placeholder next to a soft
    break, near an =XX, after non-ASCII text, at the end of a line ending in a space."""
    link = "https://example.com/unsubscribe/?token=" + TOKEN_PLACEHOLDER
    text = "\n".join(
        [
            "é" * 20 + link + "=" * 5 + "x" * 60,
            "\t" + "y" * 71 + TOKEN_PLACEHOLDER + " ",
            "z" * 74 + PREFERENCES_PLACEHOLDER + "\t",
            "Hello " + PERSONAL_LINE_PLACEHOLDER + " and " + TOKEN_PLACEHOLDER + " = ünïcode " * 12,
            "plain line",
        ]
    )
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "News <news@example.com>"
    message["Subject"] = "Awkward"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative("<p>" + text.replace("\n", "</p><p>") + "</p>", subtype="html", cte="quoted-printable")
    return BytesParser(policy=policy.SMTP).parsebytes(message.as_bytes())


@pytest.mark.parametrize("address", ["a@example.com", "a-much-longer-address-for-a-longer-token@example.com"])
@pytest.mark.parametrize("personal_line", [None, "Ünïcode & <line> ="])
def test_the_quick_copy_wraps_awkward_lines_as_the_email_package_does(address, personal_line):
    template, person = awkward_template(), Subscriber(address, "Ann")
    token, preferences = make_token(address, SECRET, LIST), make_reader_token(address, PREFERENCES, SECRET)
    link, message_id = "https://example.com/unsubscribe/?token=" + token, "<fixed@example.com>"
    quick = MessageTemplate(template, "news@example.com", None).wire_bytes(
        person, token, link, BUILT_AT, preferences, personal_line, message_id
    )
    slow = personalised_message(
        template, person, token, link, "news@example.com", None, BUILT_AT, preferences, personal_line, message_id
    )
    assert quick == wire_format(slow, ["news@example.com", address])


# Connections and login.
def test_starttls_with_login(project, certificates):
    server_context, ca_file = certificates
    mailbox = Mailbox()
    with smtp_server(
        mailbox, tls_context=server_context, require_starttls=True, authenticator=accept_login, auth_require_tls=True
    ) as server:
        root = project(server.port, people=2, security="starttls", username="writer", ca_file=str(ca_file))
        provider = provider_for(root)
        provider.send_now(drafted(provider))
    assert len(mailbox.messages) == 2


def test_ssl_with_login(project, certificates):
    server_context, ca_file = certificates
    mailbox = Mailbox()
    with smtp_server(mailbox, ssl_context=server_context, authenticator=accept_login, auth_require_tls=False) as server:
        root = project(server.port, people=2, security="ssl", username="writer", ca_file=str(ca_file))
        provider = provider_for(root)
        provider.send_now(drafted(provider))
    assert len(mailbox.messages) == 2


def test_a_wrong_password_is_a_provider_error_that_never_shows_the_password(project, certificates):
    server_context, ca_file = certificates
    with smtp_server(
        Mailbox(), tls_context=server_context, require_starttls=True, authenticator=accept_login
    ) as server:
        root = project(server.port, security="starttls", username="writer", ca_file=str(ca_file))
        wrong = "not-the-password-1234"
        provider = provider_for(root, env={**ENV, "NEWSLETTER_SMTP_PASSWORD": wrong})
        campaign_id = drafted(provider)
        with pytest.raises(ProviderError) as error:
            provider.send_now(campaign_id)
    assert "refused the login of user 'writer'" in str(error.value)
    assert "NEWSLETTER_SMTP_PASSWORD" in str(error.value)
    assert wrong not in str(error.value) and wrong not in repr(error.value.__dict__)


def test_a_login_needs_the_password_in_the_environment(project):
    root = project(free_port(), username="writer")
    provider = provider_for(root, env={"NEWSLETTER_UNSUBSCRIBE_SECRET": SECRET})
    with pytest.raises(ConfigError, match="set the environment variable NEWSLETTER_SMTP_PASSWORD"):
        provider.test_send(drafted(provider), ["editor@example.com"])


def test_a_certificate_from_an_unknown_authority_is_refused_with_a_hint(project, certificates):
    server_context, _ = certificates
    with smtp_server(Mailbox(), ssl_context=server_context) as server:
        root = project(server.port, security="ssl")
        provider = provider_for(root)
        with pytest.raises(ProviderError, match="TLS with 127.0.0.1:.* failed: .*ca_file"):
            provider.send_now(drafted(provider))


def test_a_server_without_starttls_is_refused_when_starttls_is_configured(project):
    with smtp_server(Mailbox()) as server:
        root = project(server.port, security="starttls")
        provider = provider_for(root)
        with pytest.raises(ProviderError, match="STARTTLS extension not supported"):
            provider.send_now(drafted(provider))


def test_nothing_listening_is_a_provider_error_naming_the_server(project):
    port = free_port()
    provider = provider_for(project(port))
    with pytest.raises(ProviderError, match=f"cannot connect to SMTP server 127.0.0.1:{port}"):
        provider.send_now(drafted(provider))


# Configuration.
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"host": ""}, "host is required"),
        ({"security": "tls"}, "security must be one of starttls, ssl, none"),
        ({"port": "587"}, "port must be a whole number"),
        ({"rate_per_second": 0}, "rate_per_second must be a number above 0"),
        ({"rate_per_second": "fast"}, 'rate_per_second must be a number above 0 or "unlimited"'),
        ({"connections": 0}, "connections must be a whole number from 1 to 64"),
        ({"connections": 2.5}, "connections must be a whole number from 1 to 64"),
        ({"from_address": "news"}, "from_address 'news' is not an email address"),
        (
            {"host": "smtp.example.com", "username": "writer"},
            "would send the SMTP password to smtp.example.com unencrypted",
        ),
        ({"api_key": "x"}, "unknown key 'api_key' in [provider] for provider 'smtp'"),
    ],
)
def test_bad_settings_are_config_errors(project, options, message):
    root = project(free_port(), **options)
    with pytest.raises(ConfigError, match=re.escape(message)):
        get_provider(load_config(root), ENV)


def test_the_port_defaults_to_the_one_of_the_security_mode(project):
    root = project(free_port())
    text = (root / "newsletter.toml").read_text()
    (root / "newsletter.toml").write_text(
        re.sub(r"port = \d+\n", "", text).replace('security = "none"', 'security = "ssl"')
    )
    assert provider_for(root).settings.port == 465


# Killed half-way.
KILL_AFTER = 100
SUBSCRIBERS = 200
PUSH_SCRIPT = textwrap.dedent("""
    # What `newsletter push --send-now` does: build the week, then push it exactly once.
    import sys
    from pipeline.build.run import build
    from pipeline.core.config import load_config
    from pipeline.deliver.ledger import Ledger, ledger_path
    from pipeline.deliver.providers import get_provider
    from pipeline.deliver.push import push_issue

    config = load_config(sys.argv[1])
    provider = get_provider(config)
    built = build(config, sys.argv[2], provider=provider).email
    with Ledger(ledger_path(config.state_dir)) as ledger:
        print(push_issue(provider, ledger, built.email, built.eml, send_now=True).message)
""")


def push_in_a_process(root: Path) -> subprocess.Popen:
    env = {**os.environ, **ENV, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", PUSH_SCRIPT, str(root), WEEK], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_a_send_killed_half_way_and_run_again_reaches_everyone_exactly_once(project):
    """Over several connections (the default): killed when the server has taken KILL_AFTER
    messages and the sender recorded them; whatever the dead sender had under way on its other
    connections is refused, as a dead client's would be."""
    sender: dict[str, subprocess.Popen] = {}
    first_sessions: set[int] = set()

    def kill_on_message_after_the_limit(envelope, session):
        if "first" in sender:
            first_sessions.add(session.peer[1])
            if len(mailbox.messages) == KILL_AFTER:
                wait_for(lambda: len(sent_to(root, campaign_id)) == KILL_AFTER)
                os.kill(sender.pop("first").pid, signal.SIGKILL)  # before the server accepts this one
        return "451 sender gone" if session.peer[1] in first_sessions and "first" not in sender else None

    mailbox = Mailbox(reply=kill_on_message_after_the_limit)
    with smtp_server(mailbox) as server:
        root = project(server.port, people=SUBSCRIBERS)
        provider = provider_for(root)
        assert provider.settings.connections > 1
        campaign_id = rendered(provider)[
            0
        ].issue.key  # the real week has stage versions: untagged readers get `general`

        first = sender["first"] = push_in_a_process(root)
        assert first.wait(timeout=120) == -signal.SIGKILL, first.stderr.read().decode()
        assert len(mailbox.messages) == KILL_AFTER
        assert len(sent_to(root, campaign_id)) == KILL_AFTER
        assert provider.find_campaign(campaign_id, None).status == "draft"

        # The kill came as the relay was taking one message on each open connection: whether those
        # readers have it is unknown here, so the next push sends everyone else and names them.
        journal = root / ".newsletter" / "smtp" / campaign_id / "sent.log"
        uncertain = last_marked(journal, "?")
        assert 1 <= len(uncertain) <= provider.settings.connections
        second = push_in_a_process(root)
        output, errors = second.communicate(timeout=120)
        assert second.returncode == 1, errors.decode()  # PUSH_SCRIPT's uncaught ProviderError
        assert f"{len(uncertain)} reader{'s' if len(uncertain) > 1 else ''} of {WEEK} may or may not" in errors.decode()
        assert all(reader in errors.decode() for reader in uncertain)
        assert not uncertain & set(mailbox.recipients()) and len(mailbox.messages) == SUBSCRIBERS - len(uncertain)

        # The relay's log (the mailbox) shows they did not get it: as docs/smtp.md says, delete their lines.
        lines = journal.read_text(encoding="utf-8").splitlines()
        journal.write_text("".join(line + "\n" for line in lines if line.partition(" ")[2] not in uncertain))
        third = push_in_a_process(root)
        output, errors = third.communicate(timeout=120)
        assert third.returncode == 0, errors.decode()
        assert f"Sent campaign {campaign_id}." in output.decode()

    everyone = [f"reader{n:03d}@example.com" for n in range(SUBSCRIBERS)]
    assert sorted(mailbox.recipients()) == everyone  # each exactly once
    for (_, [recipient], raw), message in zip(mailbox.messages, mailbox.parsed(), strict=True):
        assert_personal_and_complete(message, recipient)
        assert_headers_readable_as_sent(raw)
    assert len({tuple(unsubscribe_tokens(message)["text"]) for message in mailbox.parsed()}) == SUBSCRIBERS
    assert sorted(sent_to(root, campaign_id)) == everyone
    assert provider.find_campaign(campaign_id, None).status == "sent"


def last_marked(journal: Path, mark: str) -> set[str]:
    """The readers whose last line in a send journal has `mark`."""
    last: dict[str, str] = {}
    for line in journal.read_text(encoding="utf-8").splitlines():
        found, _, who = line.partition(" ")
        last[who] = found
    return {who for who, found in last.items() if found == mark}


def wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time_module.monotonic() + seconds
    while not condition():
        assert time_module.monotonic() < deadline, "the condition did not come true in time"
        time_module.sleep(0.01)


def push_command(root: Path) -> subprocess.CompletedProcess:
    """`newsletter push --send-now --yes`, as the writer runs it."""
    env = {**os.environ, **ENV, "PYTHONPATH": str(REPO), "SOURCE_DATE_EPOCH": str(int(BUILT_AT.timestamp()))}
    command = [sys.executable, "-m", "pipeline", "push", "--week", WEEK, "--send-now", "--yes", "--root", str(root)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)


def ledger_files(root: Path) -> list[Path]:
    return sorted((root / ".newsletter").glob("ledger.sqlite3*"))


def stop_relay_at(count: int, mailbox_holder: list):
    """A relay that closes for the day (421) at message `count`: the push stops cleanly there."""

    def reply(envelope, session):
        return "421 closing for today" if len(mailbox_holder[0].messages) == count else None

    return reply


def test_a_ledger_deleted_half_way_through_a_send_brings_nobody_a_second_copy(project):
    holder: list = []
    mailbox = Mailbox(reply=stop_relay_at(KILL_AFTER // 2, holder))
    holder.append(mailbox)
    with smtp_server(mailbox) as server:
        root = project(server.port, people=SUBSCRIBERS // 2)
        stopped = push_command(root)
        assert stopped.returncode == 3, stopped.stderr
        assert len(mailbox.messages) == KILL_AFTER // 2
        for path in ledger_files(root):
            path.unlink()  # the ledger is lost: a clean-up script, a restore from an old backup
        mailbox.reply = None
        again = push_command(root)
        assert again.returncode == 0, again.stderr
    everyone = [f"reader{n:03d}@example.com" for n in range(SUBSCRIBERS // 2)]
    assert sorted(mailbox.recipients()) == everyone  # each exactly once


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed-header"])
def test_a_damaged_ledger_is_a_clear_error_and_moving_it_aside_sends_nobody_twice(project, damage):
    holder: list = []
    mailbox = Mailbox(reply=stop_relay_at(10, holder))
    holder.append(mailbox)
    with smtp_server(mailbox) as server:
        root = project(server.port, people=30)
        assert push_command(root).returncode == 3  # stopped by the relay after 10
        ledger = root / ".newsletter" / "ledger.sqlite3"
        for path in ledger_files(root):
            if path != ledger:
                path.unlink()
        data = ledger.read_bytes()
        ledger.write_bytes(
            {"garbage": b"not a database " * 200, "truncated": data[: len(data) // 2], "zeroed-header": bytes(100)}[
                damage
            ]
            + (data[100:] if damage == "zeroed-header" else b"")
        )
        mailbox.reply = None
        refused = push_command(root)
        assert refused.returncode == 2, refused.stderr
        assert f"{ledger} is damaged" in refused.stderr and f"mv {ledger} {ledger}.damaged" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert len(mailbox.messages) == 10  # nothing sent
        ledger.rename(ledger.with_name("ledger.sqlite3.damaged"))
        for path in ledger_files(root):
            path.unlink()
        again = push_command(root)
        assert again.returncode == 0, again.stderr
    assert sorted(mailbox.recipients()) == [f"reader{n:03d}@example.com" for n in range(30)]


# The blog's signup form: the endpoint the writer documents, or a mailto fallback.
def test_the_signup_form_posts_to_the_reader_service_with_every_question(project):
    form = provider_for(project(free_port())).signup_form()
    assert (form.action, form.on_site, form.method) == ("subscribe/", True, "post")
    assert (form.name_field, form.stage_field, form.consent_field) == ("name", "where", "dates_consent")
    assert form.stage_values == {"pregnant": "pregnant", "had-baby": "had-baby", "general": "general"}
    assert form.date_fields == {"due_date": "due_date", "birth_date": "birth_date"} and form.left_out == ()


def test_the_signup_form_posts_to_the_configured_endpoint(project):
    form = provider_for(project(free_port(), signup_url="https://forms.example.com/subscribe")).signup_form()
    assert (form.action, form.method, form.email_field) == ("https://forms.example.com/subscribe", "post", "email")
