"""The provider interface. pipeline/deliver/push.py owns the exactly-once flow; a provider only knows
how to talk to one service. Each provider is one module in this package (like anymail backends).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from pipeline.core.config import Config
from pipeline.core.errors import ConfigError, ProviderError
from pipeline.core.model import RenderedEmail, SignupForm
from pipeline.core.secrets import read_secret
from pipeline.core.stages import Targeting, targeting


@dataclass
class Campaign:
    """A campaign (draft email, broadcast) as the provider holds it."""

    id: str
    status: str  # "draft", "scheduled" or "sent"
    content_hash: str | None = None  # when the provider can store it for us
    url: str = ""


@dataclass(frozen=True)
class ListReader:
    """One subscriber as a provider's list holds her, for the stage sync: her id there, the dates
    stored in her custom fields (None when absent or unreadable; `problem` then says which field
    and why, without its value), and the stages she is in now (stage tags, or stage lists for
    listmonk, by stage name)."""

    id: str
    email: str
    stages: frozenset[str]
    due_date: date | None = None
    birth_date: date | None = None
    problem: str | None = None


@dataclass(frozen=True)
class StageChange:
    """Put `reader` into `add` (a stage name, or None) and take her out of `remove`."""

    reader: ListReader
    add: str | None
    remove: tuple[str, ...]


class UnsupportedFeature(ProviderError):
    """The provider cannot do this (e.g. Kit has no test-send endpoint): what was asked must change."""

    exit_code = 2


class Provider:
    name: ClassVar[str]
    secret_env: ClassVar[tuple[str, ...]] = ()  # environment variables holding secrets
    option_keys: ClassVar[tuple[str, ...]] = ()  # keys allowed in [provider] beside name/base_url

    def __init__(self, config: Config, env: Mapping[str, str] | None = None):
        self.config = config
        self.env = os.environ if env is None else env
        unknown = sorted(set(config.provider.options) - set(self.option_keys))
        if unknown:
            allowed = ", ".join(self.option_keys) or "none"
            raise ConfigError(
                f"newsletter.toml: unknown key '{unknown[0]}' in [provider] for provider "
                f"'{self.name}' (allowed: {allowed})"
            )

    def secret(self, variable: str) -> str:
        return read_secret(variable, f"to push with provider '{self.name}'", self.env)

    # What the provider puts into the email and the blog.
    def unsubscribe_url(self) -> str:
        return self.config.unsubscribe_url

    def preferences_url(self) -> str | None:
        """The reader's preferences page, for the email's footer; None: the provider has its own."""
        return None

    def personal_line(self) -> str | None:
        """What the email shows as the reader's personal line ("You are 24 weeks pregnant"): a
        placeholder this provider fills in for each reader, or None when it cannot (then the
        email has no such line)."""
        return None

    def signup_form(self) -> SignupForm:
        """The self-hosted form (outbox, smtp): it posts to the reader service, `newsletter serve`,
        with every question (docs/readers.md); `[provider] signup_url` sends it elsewhere instead."""
        if self.config.provider.signup_url:
            return SignupForm(action=self.config.provider.signup_url)
        on_site = not self.config.readers.url  # the service answers on the blog's own address
        return SignupForm(
            action="subscribe/" if on_site else self.config.readers_url + "subscribe/",
            on_site=on_site,
            note="We'll send you an email to confirm your address.",
            name_field="name",
            stage_field="where",
            stage_values={answer: answer for answer in ("pregnant", "had-baby", "general")},
            date_fields={"due_date": "due_date", "birth_date": "birth_date"},
            consent_field="dates_consent",
            honeypot_field="website",
        )

    def audience(self) -> str:
        """Who a send reaches, in words, for `push --plan` and the send-now confirmation."""
        return "everyone on the provider's list"

    # Stage versions (pipeline/core/stages.py). A version's stage is `email.issue.stage`: None for
    # the one email for everyone, else a configured stage or "general". A provider that can
    # target a stage sets `targets_stages` and sends each version to `self.targeting(stage)`
    # only - readers of that stage's audience, never anyone else - in create_draft and
    # update_draft.
    targets_stages: ClassVar[bool] = False

    def stage_audience(self, stage: str | None, send_at: datetime | None = None) -> str:
        """Who the version for `stage` reaches, in words, on the day of `send_at` (default: now).
        Raises UnsupportedFeature when this provider cannot target a stage, ConfigError when an
        id it needs is missing. push.plan() calls it before anything changes."""
        if stage is None:
            return self.audience()
        if not self.targets_stages:
            raise UnsupportedFeature(
                f"provider '{self.name}' cannot send a version of the issue to one stage ('{stage}') of the list; "
                "this week has stage-specific content, so use a provider that can (see docs/providers.md)"
            )
        self.check_stage_target(stage)
        return self.describe_stage_audience(stage, self.targeting(stage).describe(), send_at=send_at)

    def check_stage_target(self, stage: str) -> None:
        """Raise ConfigError when an id this provider needs to reach `stage` (a tag, a list) is
        missing, so the push stops before anything changes. Nothing to check by default."""

    def describe_stage_audience(self, stage: str, rule: str, send_at: datetime | None = None) -> str:
        """`rule` (the stage's audience rule in words) with what this provider adds to it; a
        provider that works out each reader's stage itself counts them for the day of `send_at`."""
        return rule

    def targeting(self, stage: str) -> Targeting:
        """The audience rule of the version for `stage`: its stage tag, minus earlier stages."""
        return targeting(self.config.audience.stages, stage)

    def readers_in_two_versions(self, stage: str) -> list[str]:
        """Before a version is scheduled or sent: readers of its audience who are also in the
        audience of another version (and so would get two). A provider whose targeting rules
        that out, as `targeting()` does, has none; one that relies on lists or filters it
        cannot combine looks."""
        return []

    # The stage sync (pipeline/deliver/stage_sync.py): read every subscriber's dates and stages,
    # then change only stage tags (or stage lists). A provider that can sets `syncs_stages`.
    syncs_stages: ClassVar[bool] = False
    stage_of_general: ClassVar[str | None] = None  # the stage a reader past her dated stages is put in

    def list_readers(self) -> Iterator[ListReader]:
        """Every subscriber on the list, page by page."""
        raise UnsupportedFeature(f"provider '{self.name}' cannot sync reader stages")

    def change_stages(self, changes: Sequence[StageChange]) -> None:
        """Carry out `changes`, touching no other tag, field or status."""
        raise UnsupportedFeature(f"provider '{self.name}' cannot sync reader stages")

    # Campaign operations used by pipeline/deliver/push.py.
    def find_campaign(self, issue_key: str, known_id: str | None) -> Campaign | None:
        raise NotImplementedError

    def create_draft(self, email: RenderedEmail, eml: bytes) -> Campaign:
        raise NotImplementedError

    def update_draft(self, campaign_id: str, email: RenderedEmail, eml: bytes) -> Campaign:
        raise NotImplementedError

    def test_send(self, campaign_id: str, recipients: list[str]) -> None:
        raise UnsupportedFeature(f"provider '{self.name}' cannot send a test email")

    def check_schedule(self, when: datetime) -> None:
        """Refuse a send time this provider cannot take, before anything is created."""

    def schedule(self, campaign_id: str, when: datetime) -> Campaign:
        raise UnsupportedFeature(f"provider '{self.name}' cannot schedule a campaign")

    def send_now(self, campaign_id: str) -> Campaign:
        raise UnsupportedFeature(f"provider '{self.name}' cannot send a campaign")
