"""Readers who gave their dates get the version their dates call for on the day the issue goes
out, over real SMTP (aiosmtpd on 127.0.0.1), whatever stage tag they carry; `push --plan` counts
each version's readers for that day. The send day is taken in `[email] timezone`, so the same
instant can be the due day in Auckland and the day before in London."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from test_smtp import ENV, Mailbox, smtp_server, toml
from test_stages_smtp import MARKS, NOW, WEEK, version_received

from pipeline.build.run import build
from pipeline.core import clock
from pipeline.core.config import load_config
from pipeline.deliver.ledger import Ledger, ledger_path
from pipeline.deliver.providers.smtp import SmtpProvider
from pipeline.deliver.push import push_issue
from pipeline.deliver.subscribers import Subscriber, SubscriberStore

TODAY = clock.today("UTC")
CONSENT = datetime.now(UTC) - timedelta(days=1)


def reader(address: str, tags=(), **dates) -> Subscriber:
    return Subscriber(address, address.split("@")[0].title(), tuple(tags), dates_consent_at=CONSENT, **dates)


READERS = [
    reader("ana@example.com", ("pregnant",), due_date=TODAY - timedelta(days=10)),  # her due date has passed
    reader("bea@example.com", ("postpartum-0-6w",), birth_date=TODAY - timedelta(days=50)),  # six weeks are over
    reader("cat@example.com", ("pregnant",)),  # no dates: keeps her tag
    reader("dee@example.com", due_date=TODAY + timedelta(days=60)),  # no tag, dates say pregnant
    reader("eve@example.com", ("postpartum-6w-plus",), birth_date=TODAY - timedelta(days=2)),  # a new baby
]
EXPECTED = {
    "ana@example.com": "postpartum-0-6w",
    "bea@example.com": "postpartum-6w-plus",
    "cat@example.com": "pregnant",
    "dee@example.com": "pregnant",
    "eve@example.com": "postpartum-0-6w",
}


def project_with(make_project, port: int, readers, zone: str = "UTC"):
    root = make_project(with_repo_content=True)
    text = toml(port).replace('timezone = "Europe/London"', f'timezone = "{zone}"')
    (root / "newsletter.toml").write_text(text, encoding="utf-8")
    with SubscriberStore.for_config(load_config(root)) as store:
        store.import_subscribers(readers)
    return root


def send_all(root, at: datetime | None = None):
    config = load_config(root)
    provider = SmtpProvider(config, ENV, **({"clock": lambda: at} if at else {}))
    with Ledger(ledger_path(config.state_dir)) as ledger:
        for built in build(config, WEEK, provider=provider, now=NOW).emails:
            push_issue(provider, ledger, built.email, built.eml, send_now=True, now=at)
    return provider


def test_each_reader_gets_the_version_her_dates_call_for_on_the_send_day(make_project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        send_all(project_with(make_project, server.port, READERS))

    assert version_received(mailbox) == {address: [version] for address, version in EXPECTED.items()}


@pytest.mark.parametrize(
    "zone, expected",
    [("Pacific/Auckland", "postpartum-0-6w"), ("Europe/London", "pregnant")],
)
def test_the_send_day_is_the_day_in_the_writers_time_zone(make_project, zone, expected):
    due = TODAY + timedelta(days=3)
    # 11:30 UTC on the day before her due date: already the due day in Auckland (UTC+12/+13).
    instant = datetime.combine(due - timedelta(days=1), time(11, 30), tzinfo=UTC)
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project_with(make_project, server.port, [reader("zoe@example.com", due_date=due)], zone)
        send_all(root, at=instant)

    assert version_received(mailbox) == {"zoe@example.com": [expected]}


def test_the_plan_counts_each_versions_readers_for_the_scheduled_day(make_project):
    root = project_with(make_project, 2525, READERS)
    provider = SmtpProvider(load_config(root), ENV)
    later = datetime.combine(TODAY + timedelta(days=61), time(8), tzinfo=ZoneInfo("UTC"))  # Dee's baby is due

    today = {stage: provider.stage_audience(stage) for stage in MARKS}
    then = {stage: provider.stage_audience(stage, send_at=later) for stage in MARKS}

    assert [today[stage].rsplit(": ", 1)[1].split()[0] for stage in MARKS] == ["2", "2", "1"]
    assert [then[stage].rsplit(": ", 1)[1].split()[0] for stage in MARKS] == ["1", "1", "3"]
    assert f"on {(TODAY + timedelta(days=61)).isoformat()}" in then["pregnant"]


def test_a_reader_who_removes_her_dates_goes_back_to_her_stage_tag(make_project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        root = project_with(make_project, server.port, READERS[:1])
        with SubscriberStore.for_config(load_config(root)) as store:
            store.import_subscribers([READERS[0].without_dates()])
        send_all(root)

    assert version_received(mailbox) == {"ana@example.com": ["pregnant"]}


def parts_by_reader(mailbox: Mailbox) -> dict[str, tuple[str, str]]:
    """Recipient -> (text part, HTML part) of her message."""
    found = {}
    for (_, [recipient], _), message in zip(mailbox.messages, mailbox.parsed(), strict=True):
        found[recipient] = (
            message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content(),
        )
    return found


def test_each_reader_sees_her_own_personal_line_and_none_is_shown_wrong(make_project):
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        send_all(project_with(make_project, server.port, READERS))
    parts = parts_by_reader(mailbox)

    weeks = (280 - 60) // 7  # Dee is due in 60 days of a 280-day pregnancy
    for address, line in (
        ("dee@example.com", f"You are {weeks} weeks pregnant"),
        ("eve@example.com", "Your baby is 2 days old"),
    ):
        text, html = parts[address]
        assert line in text and line in html
    for address in ("ana@example.com", "cat@example.com"):  # a due date gone by without a birth date; no dates
        text, html = parts[address]
        assert "weeks pregnant" not in text + html and "Your baby is" not in text + html
    assert not any("NEWSLETTER-PERSONAL-LINE" in text + html for text, html in parts.values())
