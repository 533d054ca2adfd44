"""push.py and the outbox provider: every issue reaches the list exactly once.

Most cases run against the real outbox provider on disk. `MemoryProvider` below is a provider
held in memory, for what the outbox cannot show: an answer lost after the provider did the work,
a provider that cannot store our content hash, one that lacks a feature.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from pipeline.core.config import config_from_dict
from pipeline.core.errors import PipelineError, ProviderError, PushRefused
from pipeline.core.model import Issue, RenderedEmail
from pipeline.deliver.ledger import Ledger, ledger_path
from pipeline.deliver.providers import get_provider
from pipeline.deliver.providers.base import Campaign, Provider
from pipeline.deliver.providers.outbox import OutboxProvider
from pipeline.deliver.push import plan, push_issue

WEEK = "2026-W48"
KEY = f"strongfromwithin-example-{WEEK}"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=3)
SEND_AT = NOW + timedelta(days=1)


def make_email(html: str = "<p>Squeeze, then lift.</p>", week: str = WEEK, key: str = KEY) -> RenderedEmail:
    issue = Issue(
        week=week,
        key=key,
        subject="Stronger glutes",
        preview_text="One move",
        intro="",
        articles=[],
        monday=date.fromisocalendar(2026, int(week[-2:]), 1),
    )
    text = "Squeeze, then lift."
    digest = hashlib.sha256("\0".join([issue.subject, issue.preview_text, html, text]).encode()).hexdigest()
    return RenderedEmail(
        issue=issue, subject=issue.subject, preview_text=issue.preview_text, html=html, text=text, content_hash=digest
    )


def make_eml(email: RenderedEmail) -> bytes:
    message = EmailMessage()
    message["From"] = "Strong From Within <hello@strongfromwithin.example>"
    message["To"] = "Strong From Within readers <hello@strongfromwithin.example>"
    message["Subject"] = email.subject
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    message.set_boundary("boundary-of-a-pinned-build")
    return message.as_bytes(policy=policy.SMTP)


class MemoryProvider(Provider):
    """A provider held in memory that logs every call. `lose_answer_of` names a method whose
    answer is lost after the provider did the work (a dropped connection, a killed process)."""

    name = "memory"

    def __init__(self, config, stores_hash: bool = True):
        super().__init__(config, env={})
        self.stores_hash = stores_hash
        self.campaigns: dict[str, dict] = {}
        self.calls: list[str] = []
        self.lose_answer_of: str | None = None

    def find_campaign(self, issue_key, known_id):
        self.calls.append("find_campaign")
        matches = [cid for cid, campaign in self.campaigns.items() if campaign["key"] == issue_key]
        return self._campaign(matches[0]) if matches else None

    def create_draft(self, email, eml):
        campaign_id = f"c{len(self.campaigns) + 1}"
        self.campaigns[campaign_id] = {"key": email.issue.key, "status": "draft", "hash": email.content_hash}
        return self._answer("create_draft", campaign_id)

    def update_draft(self, campaign_id, email, eml):
        self.campaigns[campaign_id]["hash"] = email.content_hash
        return self._answer("update_draft", campaign_id)

    def test_send(self, campaign_id, recipients):
        self._answer(f"test_send {','.join(recipients)}", campaign_id)

    def schedule(self, campaign_id, when):
        self.campaigns[campaign_id]["status"] = "scheduled"
        return self._answer("schedule", campaign_id)

    def send_now(self, campaign_id):
        self.campaigns[campaign_id]["status"] = "sent"
        return self._answer("send_now", campaign_id)

    def _answer(self, call: str, campaign_id: str) -> Campaign:
        self.calls.append(call)
        if self.lose_answer_of == call:
            self.lose_answer_of = None
            raise ProviderError(f"connection lost waiting for the answer to {call}")
        return self._campaign(campaign_id)

    def _campaign(self, campaign_id: str) -> Campaign:
        stored = self.campaigns[campaign_id]
        return Campaign(
            id=campaign_id, status=stored["status"], content_hash=stored["hash"] if self.stores_hash else None
        )


class NoTestSendProvider(MemoryProvider):
    """Like Kit: no test-send endpoint."""

    name = "notest"
    test_send = Provider.test_send


@pytest.fixture
def config(tmp_path):
    return config_from_dict({}, tmp_path)


@pytest.fixture
def ledger(config):
    with Ledger(ledger_path(config.state_dir)) as opened:
        yield opened


@pytest.fixture
def outbox(config):
    return OutboxProvider(config, env={}, clock=lambda: NOW)


@pytest.fixture
def memory(config):
    return MemoryProvider(config)


def push(provider, ledger, email=None, **options):
    email = email or make_email()
    return push_issue(provider, ledger, email, make_eml(email), **{"now": NOW, **options})


def steps_in(ledger, provider_name="outbox"):
    state = ledger.state(KEY, provider_name)
    return [step.step for step in state.steps] if state else []


def campaign_json(config, week=WEEK) -> dict:
    return json.loads((config.outbox_dir / week / "campaign.json").read_text())


# Creating, pushing again, updating.
def test_first_push_creates_a_draft_and_records_it(outbox, ledger, config):
    result = push(outbox, ledger)

    assert (result.action, result.campaign_id, result.pushed_at, result.steps) == ("created", WEEK, NOW, ["drafted"])
    assert result.message.startswith(f"Pushed issue {WEEK} to outbox as a new draft (campaign {WEEK}).")
    assert ledger.state(KEY, "outbox").content_hash == make_email().content_hash
    assert campaign_json(config)["status"] == "draft"


def test_pushing_the_same_issue_again_is_a_noop_naming_when_it_was_pushed(outbox, ledger, config):
    push(outbox, ledger)
    files_before = {p: p.read_bytes() for p in (config.outbox_dir / WEEK).iterdir()}

    again = push(outbox, ledger, now=LATER)

    assert (again.action, again.pushed_at, again.steps) == ("unchanged", NOW, [])
    assert f"already pushed to outbox (campaign {WEEK}) at 2026-11-23 08:00 UTC" in again.message
    assert {p: p.read_bytes() for p in (config.outbox_dir / WEEK).iterdir()} == files_before
    assert steps_in(ledger) == ["drafted"]


def test_changed_issue_is_refused_without_force_and_nothing_changes(outbox, ledger, config):
    push(outbox, ledger)
    pushed = campaign_json(config)

    with pytest.raises(PushRefused) as refused:
        push(outbox, ledger, make_email(html="<p>Squeeze harder.</p>"), now=LATER)

    assert str(refused.value) == (
        f"Issue {WEEK} was already pushed to outbox on 2026-11-23 08:00 UTC (campaign {WEEK}); "
        "run with --force to update the draft."
    )
    assert campaign_json(config) == pushed
    assert steps_in(ledger) == ["drafted"]


def test_changed_issue_is_updated_with_force(outbox, ledger, config):
    push(outbox, ledger)
    changed = make_email(html="<p>Squeeze harder.</p>")

    result = push(outbox, ledger, changed, force=True, now=LATER)

    assert (result.action, result.pushed_at, result.steps) == ("updated", LATER, ["updated"])
    assert campaign_json(config)["html"] == "<p>Squeeze harder.</p>"
    assert (config.outbox_dir / WEEK / "email.eml").read_bytes() == make_eml(changed)
    assert ledger.state(KEY, "outbox").content_hash == changed.content_hash


def test_times_in_messages_are_in_the_writers_time_zone(tmp_path, ledger):
    london = config_from_dict({"email": {"timezone": "Europe/London"}}, tmp_path)
    provider = OutboxProvider(london, env={})
    june = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    email = make_email(week="2026-W23", key="strongfromwithin-example-2026-W23")
    push_issue(provider, ledger, email, make_eml(email), now=june)

    again = push_issue(provider, ledger, email, make_eml(email), now=june)

    assert "at 2026-06-01 09:00 BST" in again.message


# Never a duplicate campaign.
def test_provider_is_asked_for_the_campaign_before_every_create(memory, ledger):
    push(memory, ledger)

    assert memory.calls == ["find_campaign", "create_draft"]


def test_lost_ledger_does_not_create_a_second_campaign(outbox, ledger, config):
    push(outbox, ledger)
    ledger.close()
    for path in config.state_dir.iterdir():
        path.unlink()

    with Ledger(ledger_path(config.state_dir)) as fresh:
        result = push(outbox, fresh, now=LATER)
        state = fresh.state(KEY, "outbox")

    assert (result.action, result.campaign_id) == ("unchanged", WEEK)
    assert "lost track of campaign 2026-W48; recorded it now" in result.message
    assert [p.name for p in config.outbox_dir.iterdir()] == [WEEK]
    assert (state.campaign_id, state.content_hash, state.steps[0].detail) == (
        WEEK,
        make_email().content_hash,
        "found at outbox, missing from the ledger",
    )


def test_crash_after_create_before_the_ledger_write_reuses_the_campaign(outbox, ledger, monkeypatch):
    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies between the provider's answer and the ledger write

    with monkeypatch.context() as patch:
        patch.setattr(ledger, "record", killed)
        with pytest.raises(KeyboardInterrupt):
            push(outbox, ledger)
    created = []
    monkeypatch.setattr(outbox, "create_draft", lambda *args: created.append(args))

    result = push(outbox, ledger, now=LATER)

    assert (result.action, result.campaign_id, created) == ("unchanged", WEEK, [])
    assert steps_in(ledger) == ["drafted"]


def test_lost_answer_to_create_does_not_create_twice(memory, ledger):
    memory.lose_answer_of = "create_draft"
    with pytest.raises(ProviderError):
        push(memory, ledger)

    result = push(memory, ledger, now=LATER)

    assert memory.calls.count("create_draft") == 1
    assert (result.action, result.campaign_id) == ("unchanged", "c1")
    assert steps_in(ledger, "memory") == ["drafted"]


def test_draft_found_without_a_known_hash_is_only_replaced_with_force(config, ledger):
    provider = MemoryProvider(config, stores_hash=False)
    provider.campaigns["c7"] = {"key": KEY, "status": "draft", "hash": "someone else's"}

    with pytest.raises(
        PushRefused, match=r"memory already has a draft for issue 2026-W48 \(campaign c7\) .* run with --force"
    ):
        push(provider, ledger)
    result = push(provider, ledger, force=True)

    assert (result.action, result.campaign_id) == ("updated", "c7")
    assert provider.calls.count("create_draft") == 0
    assert steps_in(ledger, "memory") == ["drafted", "updated"]


def test_draft_gone_from_the_provider_is_only_recreated_with_force(memory, ledger):
    push(memory, ledger)
    memory.campaigns.clear()  # the writer deleted the draft in the provider's web app

    with pytest.raises(PushRefused, match="memory no longer has it .*run with --force to create a new draft"):
        push(memory, ledger, now=LATER)
    result = push(memory, ledger, force=True, now=LATER)

    assert (result.action, result.campaign_id) == ("created", "c1")
    assert memory.calls.count("create_draft") == 2


def test_sent_issue_gone_from_the_provider_is_never_created_again(memory, ledger):
    push(memory, ledger, send_now=True)
    memory.campaigns.clear()

    with pytest.raises(
        PushRefused,
        match="the ledger says it was sent on 2026-11-23 08:00 UTC as campaign c1; not creating another one",
    ):
        push(memory, ledger, force=True, send_now=True, now=LATER)

    assert memory.calls.count("send_now") == 1


def test_a_second_push_started_meanwhile_waits_and_then_finds_the_first(memory, ledger, config):
    results = []

    def second_push():
        with Ledger(ledger_path(config.state_dir)) as own_connection:  # as another process would
            results.append(push(memory, own_connection))

    with ledger.exclusive():  # the first push is between its look-up and its ledger write
        memory.campaigns["c1"] = {"key": KEY, "status": "draft", "hash": make_email().content_hash}
        waiting = threading.Thread(target=second_push)
        waiting.start()
        waiting.join(timeout=0.5)
        calls_while_held = list(memory.calls)
        ledger.record(KEY, "memory", "drafted", campaign_id="c1", content_hash=make_email().content_hash, at=NOW)
    waiting.join(timeout=10)

    assert calls_while_held == []
    assert [result.action for result in results] == ["unchanged"]
    assert "create_draft" not in memory.calls


# Test send, schedule, send now.
def test_test_send_comes_after_the_draft_and_before_the_schedule(memory, ledger):
    result = push(memory, ledger, test_to=["ada@example.com", "bea@example.com"], schedule_at=SEND_AT)

    assert memory.calls == ["find_campaign", "create_draft", "test_send ada@example.com,bea@example.com", "schedule"]
    assert result.steps == steps_in(ledger, "memory") == ["drafted", "tested", "scheduled"]
    assert ledger.state(KEY, "memory").scheduled_for == SEND_AT
    assert "Sent a test to ada@example.com, bea@example.com.\nScheduled for 2026-11-24 08:00 UTC." in result.message


def test_test_send_of_an_unchanged_draft_is_allowed(memory, ledger):
    push(memory, ledger)

    result = push(memory, ledger, test_to=["ada@example.com"], now=LATER)

    assert (result.action, result.steps) == ("unchanged", ["tested"])


def test_send_now_of_a_sent_issue_is_a_noop(memory, ledger):
    push(memory, ledger, send_now=True)

    again = push(memory, ledger, send_now=True, now=LATER)

    assert memory.calls.count("send_now") == 1
    assert again.steps == []
    assert f"Issue {WEEK} was already sent on 2026-11-23 08:00 UTC; not sent again." in again.message


def test_changed_content_of_a_sent_issue_is_refused_even_with_force(memory, ledger):
    push(memory, ledger, send_now=True)

    with pytest.raises(
        PushRefused, match="already sent by memory on 2026-11-23 08:00 UTC .*cannot be changed, not even with --force"
    ):
        push(memory, ledger, make_email(html="<p>typo fixed</p>"), force=True, now=LATER)

    assert "update_draft" not in memory.calls


def test_changed_content_of_a_scheduled_issue_is_refused_even_with_force(memory, ledger):
    push(memory, ledger, schedule_at=SEND_AT)

    with pytest.raises(PushRefused, match="already scheduled by memory .*not even with --force"):
        push(memory, ledger, make_email(html="<p>typo fixed</p>"), force=True, now=LATER)

    assert "update_draft" not in memory.calls


def test_scheduled_issue_is_not_also_sent_now(memory, ledger):
    push(memory, ledger, schedule_at=SEND_AT)

    with pytest.raises(PushRefused, match="is scheduled at memory for 2026-11-24 08:00 UTC; it will go out then"):
        push(memory, ledger, send_now=True, now=LATER)

    assert "send_now" not in memory.calls


def test_scheduling_again_for_the_same_time_is_a_noop_and_for_another_time_refused(memory, ledger):
    push(memory, ledger, schedule_at=SEND_AT)

    again = push(memory, ledger, schedule_at=SEND_AT, now=LATER)
    with pytest.raises(PushRefused, match="already scheduled at memory for 2026-11-24 08:00 UTC; to change the time"):
        push(memory, ledger, schedule_at=SEND_AT + timedelta(hours=2), now=LATER)

    assert memory.calls.count("schedule") == 1
    assert "already scheduled for 2026-11-24 08:00 UTC; not scheduled again" in again.message


def test_lost_answer_to_update_is_recorded_on_the_next_run(memory, ledger):
    push(memory, ledger)
    changed = make_email(html="<p>Squeeze harder.</p>")
    memory.lose_answer_of = "update_draft"
    with pytest.raises(ProviderError):
        push(memory, ledger, changed, force=True, now=LATER)

    again = push(memory, ledger, changed, now=LATER)

    assert (again.action, memory.calls.count("update_draft")) == ("unchanged", 1)
    assert steps_in(ledger, "memory") == ["drafted", "updated"]
    assert ledger.state(KEY, "memory").content_hash == changed.content_hash


def test_a_send_in_the_ledger_counts_even_when_the_provider_reports_a_draft(memory, ledger):
    push(memory, ledger, send_now=True)
    memory.campaigns["c1"]["status"] = "draft"  # e.g. a provider that derives status from dates

    again = push(memory, ledger, send_now=True, now=LATER)
    with pytest.raises(PushRefused, match="already sent"):
        push(memory, ledger, make_email(html="<p>typo fixed</p>"), force=True, now=LATER)

    assert memory.calls.count("send_now") == 1
    assert "not sent again" in again.message


def test_lost_answer_to_send_never_sends_twice(memory, ledger):
    push(memory, ledger)
    memory.lose_answer_of = "send_now"
    with pytest.raises(ProviderError):
        push(memory, ledger, send_now=True, now=LATER)

    again = push(memory, ledger, send_now=True, now=LATER)

    assert memory.calls.count("send_now") == 1
    assert steps_in(ledger, "memory") == ["drafted", "sent"]
    assert "not sent again" in again.message


def test_a_step_the_provider_cannot_do_is_refused_before_anything_is_created(config, ledger):
    provider = NoTestSendProvider(config)

    with pytest.raises(PushRefused, match="notest cannot send a test email; leave out --test-to"):
        push(provider, ledger, test_to=["ada@example.com"])

    assert provider.calls == ["find_campaign"]


@pytest.mark.parametrize(
    "options, error",
    [
        ({"schedule_at": NOW - timedelta(minutes=1)}, "is in the past"),
        ({"schedule_at": datetime(2026, 11, 24, 8, 0)}, "needs a time zone"),
        ({"schedule_at": SEND_AT, "send_now": True}, "either --schedule or --send-now, not both"),
        ({"test_to": ["not an address"]}, "--test-to 'not an address' is not an email address"),
    ],
)
def test_bad_options_are_refused_before_anything_happens(memory, ledger, options, error):
    with pytest.raises(PipelineError, match=error):
        push(memory, ledger, **options)

    assert memory.calls == []


# --plan.
def test_plan_of_a_first_push_changes_nothing(outbox, ledger, config):
    the_plan = plan(outbox, ledger, make_email(), test_to=["ada@example.com"], schedule_at=SEND_AT, now=NOW)

    assert (the_plan.action, the_plan.steps) == ("create", ["test", "schedule"])
    assert the_plan.describe() == (
        f"Plan for issue {WEEK} at outbox (nothing has been changed):\n"
        "- create a new draft\n"
        "- send a test to ada@example.com\n"
        "- schedule it for 2026-11-24 08:00 UTC"
    )
    assert not config.outbox_dir.exists()
    assert ledger.state(KEY, "outbox") is None


def test_plan_of_a_changed_issue_shows_the_refusal_and_changes_nothing(memory, ledger):
    push(memory, ledger)
    calls_before = list(memory.calls)

    the_plan = plan(memory, ledger, make_email(html="<p>new</p>"), now=LATER)

    assert the_plan.action == "refused"
    assert the_plan.describe().endswith("- refused: " + the_plan.refusal)
    assert "run with --force to update the draft" in the_plan.refusal
    assert memory.calls == calls_before + ["find_campaign"]
    assert steps_in(ledger, "memory") == ["drafted"]


def test_plan_shows_the_ledger_catch_up_for_what_the_provider_did_unrecorded(memory, ledger):
    push(memory, ledger)
    ledger.record(KEY, "memory", "drafted", campaign_id="c1", content_hash="stale", at=NOW)
    memory.campaigns["c1"]["status"] = "sent"  # sent from the web app; the ledger never heard

    the_plan = plan(memory, ledger, make_email(), send_now=True, now=LATER)

    assert (the_plan.action, the_plan.catch_up, the_plan.steps) == ("unchanged", ["updated", "sent"], [])
    assert "- record in the ledger what memory already has: updated, sent" in the_plan.describe()
    assert steps_in(ledger, "memory") == ["drafted", "drafted"]


# The outbox provider.
def test_outbox_is_the_default_provider_with_the_reader_services_signup_form(config):
    provider = get_provider(config)

    assert isinstance(provider, OutboxProvider)
    assert (provider.signup_form().action, provider.signup_form().on_site) == ("subscribe/", True)


def test_outbox_stores_the_issue_as_eml_and_campaign_json(outbox, ledger, config):
    email = make_email()
    push(outbox, ledger, email)

    assert (config.outbox_dir / WEEK / "email.eml").read_bytes() == make_eml(email)
    stored = campaign_json(config)
    assert {
        key: stored[key]
        for key in ("id", "issue_key", "subject", "preview_text", "html", "text", "content_hash", "status")
    } == {
        "id": WEEK,
        "issue_key": KEY,
        "subject": "Stronger glutes",
        "preview_text": "One move",
        "html": email.html,
        "text": email.text,
        "content_hash": email.content_hash,
        "status": "draft",
    }


def test_outbox_test_send_writes_one_message_per_address(outbox, ledger, config):
    push(outbox, ledger, test_to=["ada@example.com", "bea@example.com"])
    push(outbox, ledger, test_to=["ada@example.com"])

    tests = config.outbox_dir / WEEK / "tests"
    assert sorted(p.name for p in tests.iterdir()) == [
        "1-ada@example.com.eml",
        "2-bea@example.com.eml",
        "3-ada@example.com.eml",
    ]
    message = message_from_bytes((tests / "2-bea@example.com.eml").read_bytes(), policy=policy.default)
    assert (message["To"], message["Subject"]) == ("bea@example.com", "[Test] Stronger glutes")
    assert message.get_body(("html",)).get_content().strip() == make_email().html
    assert b"\r\n" in (tests / "1-ada@example.com.eml").read_bytes()  # line endings of the built message kept
    assert [test["to"] for test in campaign_json(config)["tests"]] == [
        "ada@example.com",
        "bea@example.com",
        "ada@example.com",
    ]


def test_outbox_schedule_records_the_time(outbox, ledger, config):
    push(outbox, ledger, schedule_at=SEND_AT)

    assert (campaign_json(config)["status"], campaign_json(config)["scheduled_for"]) == (
        "scheduled",
        "2026-11-24T08:00:00+00:00",
    )


def test_outbox_send_marks_the_campaign_as_handed_over_once(outbox, ledger, config):
    push(outbox, ledger, send_now=True)
    sent = campaign_json(config)

    with pytest.raises(ProviderError, match="already sent"):
        outbox.send_now(WEEK)

    assert (sent["status"], sent["sent_at"]) == ("sent", NOW.isoformat())
    assert campaign_json(config) == sent


def test_outbox_finds_a_campaign_without_its_id(outbox, ledger):
    push(outbox, ledger)
    push(outbox, ledger, make_email(week="2026-W49", key="strongfromwithin-example-2026-W49"))

    assert outbox.find_campaign("strongfromwithin-example-2026-W49", None).id == "2026-W49"
    assert outbox.find_campaign(KEY, "2026-W49").id == WEEK  # a wrong id is checked, then the outbox searched
    assert outbox.find_campaign("another-site-2026-W48", None) is None


def test_outbox_refuses_to_overwrite_another_issue_in_the_same_week(outbox, ledger):
    push(outbox, ledger)
    other = make_email(key="another-site-2026-W48")

    with pytest.raises(ProviderError, match="already holds issue 'strongfromwithin-example-2026-W48'"):
        outbox.create_draft(other, make_eml(other))


def test_outbox_refuses_campaign_ids_that_are_not_weeks(outbox):
    with pytest.raises(ProviderError, match="is not an ISO week"):
        outbox.send_now("../../etc")
