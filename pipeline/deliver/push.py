"""The exactly-once push, the same for every provider.

`plan()` decides everything before anything changes: it reads the ledger, then always asks the
provider for the issue's campaign (a lost ledger, or a crash between the provider's answer and
the ledger write, must never lead to a second campaign). `push_issue()` carries the plan out, one
step at a time, and records each step in the ledger as soon as the provider confirmed it:

    draft (create, update or unchanged) -> test send -> schedule or send now

Rules:
- the same content again is a no-op that says when it was pushed;
- a changed draft is updated only with --force;
- a scheduled or sent campaign is never changed and never sent again, --force or not;
- whatever the provider already has but the ledger lacks is recorded first ("catch-up").

A week with stage versions (pipeline/core/stages.py) is pushed one version at a time, each its own
campaign under its own issue key, so the rules above hold per version. Two more rules keep every
reader to one email: a week never goes out both as one email for everyone and as versions (a
change of content that switches between the two is refused once either was scheduled or sent),
and a version is not scheduled or sent while the provider reports readers who are in the
audience of two versions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email

from pipeline.core.clock import now as utc_now
from pipeline.core.errors import PipelineError, PushRefused
from pipeline.core.model import Issue, PushResult, RenderedEmail, WebCopy
from pipeline.core.stages import base_key, version_key, versions
from pipeline.deliver.ledger import (
    STATUS_RANK,
    IssueState,
    Ledger,
    StepRecord,
    scheduled_detail,
)
from pipeline.deliver.providers.base import Campaign, Provider, UnsupportedFeature

STEP_OF_STATUS = {"draft": "drafted", "scheduled": "scheduled", "sent": "sent"}
# Later steps: (provider method, what it does, the option that asks for it).
LATER_STEPS = {
    "test": ("test_send", "send a test email", "--test-to"),
    "schedule": ("schedule", "schedule a campaign", "--schedule"),
    "send": ("send_now", "send a campaign", "--send-now"),
}


@dataclass
class PushPlan:
    """What a push would do; `describe()` is the text for `newsletter push --plan`."""

    issue_key: str
    week: str  # the issue as messages name it: "2026-W48", or "2026-W48 (pregnant)" for a stage version
    provider: str
    timezone: str = "UTC"
    stage: str | None = None  # the version (Issue.stage); None: the one email for everyone
    audience: str = ""  # who it reaches, in words
    action: str = ""  # "create", "update", "unchanged" or "refused"
    campaign: Campaign | None = None  # the issue's campaign at the provider, if it has one
    state: IssueState | None = None  # what the ledger says
    catch_up: list[str] = field(default_factory=list)  # ledger steps for what the provider already has
    steps: list[str] = field(default_factory=list)  # later steps: "test", "schedule", "send"
    test_to: tuple[str, ...] = ()
    schedule_at: datetime | None = None
    notes: list[str] = field(default_factory=list)
    refusal: str | None = None

    @property
    def known_state(self) -> IssueState | None:
        """The ledger's state if it is about the campaign the provider has."""
        if self.state and self.campaign and self.state.campaign_id == self.campaign.id:
            return self.state
        return None

    @property
    def status(self) -> str:
        """Where the campaign stands before the push: the further of the provider's and the
        ledger's word, so a "sent" on either side is never sent again."""
        if self.campaign is None:
            return "draft"
        known = self.known_state.status if self.known_state else "draft"
        return max(self.campaign.status, known, key=STATUS_RANK.__getitem__)

    def refuse(self, reason: str) -> None:
        self.action, self.refusal = "refused", reason

    def shown(self, when: datetime | None) -> str:
        return _shown(when, self.timezone)

    def describe(self) -> str:
        heading = f"Plan for issue {self.week} at {self.provider} (nothing has been changed):"
        if self.stage:
            heading += f"\n- issue key {self.issue_key}" + (f", for {self.audience}" if self.audience else "")
        if self.refusal:
            return f"{heading}\n- refused: {self.refusal}"
        campaign = f" (campaign {self.campaign.id})" if self.campaign else ""
        lines = (
            [f"- record in the ledger what {self.provider} already has: {', '.join(self.catch_up)}"]
            if self.catch_up
            else []
        )
        lines.append(
            {
                "create": "- create a new draft",
                "update": f"- update the draft{campaign} with this build",
                "unchanged": f"- leave campaign {self.campaign.id if self.campaign else ''} ({self.status}) as it is",
            }[self.action]
        )
        for step in self.steps:
            lines.append(
                {
                    "test": f"- send a test to {', '.join(self.test_to)}",
                    "schedule": f"- schedule it for {self.shown(self.schedule_at)}",
                    "send": "- send it now",
                }[step]
            )
        lines += [f"- note: {note}" for note in self.notes]
        return "\n".join([heading, *lines])


def plan(
    provider: Provider,
    ledger: Ledger,
    email: RenderedEmail,
    *,
    force: bool = False,
    test_to: Sequence[str] = (),
    schedule_at: datetime | None = None,
    send_now: bool = False,
    now: datetime | None = None,
) -> PushPlan:
    """What `push_issue` with the same arguments would do. Reads the ledger and the provider;
    changes nothing."""
    now = now or utc_now()
    _check_request(test_to, schedule_at, send_now, now, provider.config.email.timezone)
    if schedule_at is not None:
        provider.check_schedule(schedule_at)
    stage = email.issue.stage
    try:
        audience, unsupported = provider.stage_audience(stage, send_at=schedule_at or now), None
    except UnsupportedFeature as error:
        audience, unsupported = "", str(error)
    state = ledger.state(email.issue.key, provider.name)
    campaign = provider.find_campaign(email.issue.key, state.campaign_id if state else None)
    result = PushPlan(
        issue_key=email.issue.key,
        week=issue_label(email.issue),
        provider=provider.name,
        timezone=provider.config.email.timezone,
        stage=stage,
        audience=audience,
        campaign=campaign,
        state=state,
        test_to=tuple(test_to),
        schedule_at=schedule_at,
    )
    if unsupported:
        result.refuse(unsupported)
        return result
    _plan_draft(result, email.content_hash, force)
    if not result.refusal:
        _plan_later_steps(result, provider, send_now)
    if not result.refusal and (result.action in ("create", "update") or result.steps):
        _check_other_versions(result, ledger, provider, email.issue.week)
    if not result.refusal and stage and {"schedule", "send"} & set(result.steps):
        _check_readers_in_two_versions(result, provider)
    return result


def issue_label(issue: Issue) -> str:
    """How messages name an issue: "2026-W48", or "2026-W48 (pregnant)" for a stage version."""
    return f"{issue.week} ({issue.stage})" if issue.stage else issue.week


def _check_other_versions(plan: PushPlan, ledger: Ledger, provider: Provider, week: str) -> None:
    """A week goes out either as one email for everyone or as stage versions, never both: when
    the content switched between the two after a push, the other kind is still in the ledger."""
    if plan.stage is None:
        others = [version_key(plan.issue_key, stage) for stage in versions(provider.config.audience.stages)]
        this_kind, other_kind = "one email for everyone", "stage versions"
    else:
        others = [base_key(plan.issue_key, plan.stage)]
        this_kind, other_kind = "stage versions", "one email for everyone"
    for key in others:
        state = ledger.state(key, plan.provider)
        if state is None:
            continue
        if state.status != "draft":
            plan.refuse(
                f"issue {week} was already {state.status} by {plan.provider} as {other_kind} "
                f"(issue key {key}, campaign {state.campaign_id}); this build makes "
                f"{this_kind}, and pushing it would give "
                "readers a second email. Leave this week as it went out."
            )
            return
        plan.notes.append(
            f"{plan.provider} still has a draft from when this week was {other_kind} (issue key {key}, campaign "
            f"{state.campaign_id}); delete it there so it is never sent."
        )


def _check_readers_in_two_versions(plan: PushPlan, provider: Provider) -> None:
    doubled = provider.readers_in_two_versions(plan.stage)
    if doubled:
        shown = ", ".join(doubled[:5]) + (f" and {len(doubled) - 5} more" if len(doubled) > 5 else "")
        plan.refuse(
            f"{len(doubled)} reader{'s' if len(doubled) != 1 else ''} of issue {plan.week} at {plan.provider} "
            f"{'are' if len(doubled) != 1 else 'is'} also in the audience of another "
            f"version and would get two emails: {shown}. "
            "Give each reader one stage (see docs/providers.md), then push again."
        )


def push_issue(
    provider: Provider,
    ledger: Ledger,
    email: RenderedEmail,
    eml: bytes,
    *,
    force: bool = False,
    test_to: Sequence[str] = (),
    schedule_at: datetime | None = None,
    send_now: bool = False,
    now: datetime | None = None,
) -> PushResult:
    """Push one issue exactly once; raises PushRefused when that promise would break.
    `now` pins the time written to the ledger (tests); by default each step gets its own."""
    clock: Callable[[], datetime] = (lambda: now) if now else utc_now
    with ledger.exclusive():
        the_plan = plan(
            provider,
            ledger,
            email,
            force=force,
            test_to=test_to,
            schedule_at=schedule_at,
            send_now=send_now,
            now=clock(),
        )
        if the_plan.refusal:
            raise PushRefused(the_plan.refusal)
        return _carry_out(the_plan, provider, ledger, email, eml, clock)


def _keep_web_copy(ledger: Ledger, email: RenderedEmail, at: datetime) -> None:
    """What went out, as its page on the blog will show it (pipeline/render/blog.py's archive pages)."""
    if email.web_copy:
        ledger.record_web_copy(web_copy_of(email), email.content_hash, at)


def web_copy_of(email: RenderedEmail) -> WebCopy:
    issue = email.issue
    return WebCopy(issue.key, issue.week, issue.stage, email.subject, email.preview_text, issue.monday, email.web_copy)


def _carry_out(
    the_plan: PushPlan,
    provider: Provider,
    ledger: Ledger,
    email: RenderedEmail,
    eml: bytes,
    clock: Callable[[], datetime],
) -> PushResult:
    done: list[str] = []
    lines: list[str] = []

    def took(step: str, campaign: Campaign, line: str, detail: str = "") -> StepRecord:
        """Record a step the provider confirmed, before doing anything else."""
        record = ledger.record(
            the_plan.issue_key,
            provider.name,
            step,
            campaign_id=campaign.id,
            content_hash=email.content_hash,
            detail=detail,
            at=clock(),
        )
        done.append(step)
        lines.append(line)
        return record

    campaign = the_plan.campaign
    for step in the_plan.catch_up:
        ledger.record(
            the_plan.issue_key,
            provider.name,
            step,
            campaign_id=campaign.id,
            content_hash=campaign.content_hash,
            detail=f"found at {provider.name}, missing from the ledger",
            at=clock(),
        )
    known = the_plan.known_state
    pushed_at = known.pushed_at if known and not set(the_plan.catch_up) & {"drafted", "updated"} else None

    if the_plan.action == "create":
        campaign = provider.create_draft(email, eml)
        pushed_at = took(
            "drafted",
            campaign,
            f"Pushed issue {the_plan.week} to {provider.name} as a new draft (campaign {campaign.id}).",
        ).at
    elif the_plan.action == "update":
        campaign = provider.update_draft(campaign.id, email, eml)
        pushed_at = took(
            "updated",
            campaign,
            f"Updated the draft of issue {the_plan.week} at {provider.name} (campaign {campaign.id}).",
        ).at
    else:
        lines.append(_unchanged_message(the_plan, pushed_at))
    if the_plan.catch_up:
        lines.append(f"The ledger here had lost track of campaign {campaign.id}; recorded it now.")
    if the_plan.action in ("create", "update") or not ledger.has_web_copy(email.issue.key):
        _keep_web_copy(ledger, email, clock())

    for step in the_plan.steps:
        if step == "test":
            provider.test_send(campaign.id, list(the_plan.test_to))
            addresses = ", ".join(the_plan.test_to)
            took("tested", campaign, f"Sent a test to {addresses}.", detail=addresses)
        elif step == "schedule":
            campaign = provider.schedule(campaign.id, the_plan.schedule_at)
            took(
                "scheduled",
                campaign,
                f"Scheduled for {the_plan.shown(the_plan.schedule_at)}.",
                detail=scheduled_detail(the_plan.schedule_at),
            )
        elif step == "send":
            campaign = provider.send_now(campaign.id)
            took("sent", campaign, f"Sent campaign {campaign.id}.")

    lines += the_plan.notes
    if campaign.url:
        lines.append(f"See it at {campaign.url}")
    return PushResult(
        provider=provider.name,
        action={"create": "created", "update": "updated"}.get(the_plan.action, "unchanged"),
        issue_key=the_plan.issue_key,
        campaign_id=campaign.id,
        pushed_at=pushed_at,
        message="\n".join(lines),
        steps=done,
    )


def _check_request(
    test_to: Sequence[str], schedule_at: datetime | None, send_now: bool, now: datetime, zone: str
) -> None:
    if schedule_at is not None and send_now:
        raise PipelineError("choose either --schedule or --send-now, not both")
    if schedule_at is not None:
        if schedule_at.tzinfo is None:
            raise PipelineError(f"--schedule {schedule_at.isoformat()} needs a time zone, e.g. 2026-11-23T08:00+00:00")
        if schedule_at <= now:
            raise PipelineError(f"--schedule {_shown(schedule_at, zone)} is in the past; give a time from now on")
    for address in test_to:
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as exc:
            raise PipelineError(f"--test-to '{address}' is not an email address: {exc}") from None


def _plan_draft(plan: PushPlan, content_hash: str, force: bool) -> None:
    state, campaign, week, name = plan.state, plan.campaign, plan.week, plan.provider
    if campaign is None:
        if state is None:
            plan.action = "create"
        elif state.status != "draft":
            plan.refuse(
                f"{name} has no campaign for issue {week}, but the ledger says it was {state.status} on "
                f"{plan.shown(state.status_at)} as campaign {state.campaign_id}; not creating another one, "
                f"so nobody gets it twice. Check the campaign in {name}."
            )
        elif not force:
            plan.refuse(
                f"Issue {week} was pushed to {name} on {plan.shown(state.pushed_at)} as campaign {state.campaign_id}, "
                f"but {name} no longer has it (deleted?); run with --force to create a new draft."
            )
        else:
            plan.action = "create"
            plan.notes.append(f"Campaign {state.campaign_id} is gone from {name}; a new draft replaces it.")
        return

    known = plan.known_state
    plan.catch_up = _catch_up_steps(campaign, known)
    pushed_hash = campaign.content_hash or (known.content_hash if known else None)
    status = plan.status
    if pushed_hash == content_hash:
        plan.action = "unchanged"
    elif status != "draft":
        when = f" on {plan.shown(known.status_at)}" if known and known.status == status else ""
        if pushed_hash is None:
            plan.action = "unchanged"
            plan.notes.append(
                f"{name} cannot tell whether this build matches what was {status}; a {status} issue is never changed."
            )
        else:
            plan.refuse(
                f"Issue {week} was already {status} by {name}{when} (campaign {campaign.id}); "
                f"a {status} email cannot be changed, not even with --force."
            )
    elif force:
        plan.action = "update"
    elif known:
        plan.refuse(
            f"Issue {week} was already pushed to {name} on {plan.shown(known.pushed_at)} (campaign {campaign.id}); "
            "run with --force to update the draft."
        )
    else:
        plan.refuse(
            f"{name} already has a draft for issue {week} (campaign {campaign.id}) that the ledger here does not know "
            "with this content; run with --force to replace it with this build."
        )


def _catch_up_steps(campaign: Campaign, known: IssueState | None) -> list[str]:
    """Ledger steps that bring it level with what the provider has (after a lost ledger, or a
    crash between the provider's answer and the ledger write)."""
    steps = []
    if known is None:
        steps.append("drafted")
    elif campaign.content_hash and campaign.content_hash != known.content_hash:
        steps.append("updated")
    ledger_status = known.status if known else "draft"
    if STATUS_RANK[campaign.status] > STATUS_RANK[ledger_status]:
        steps.append(STEP_OF_STATUS[campaign.status])
    return steps


def _plan_later_steps(plan: PushPlan, provider: Provider, send_now: bool) -> None:
    status = "draft" if plan.action in ("create", "update") else plan.status
    known = plan.known_state
    since = f" on {plan.shown(known.status_at)}" if known and known.status == status else ""
    wanted = [
        step for step, asked in (("test", plan.test_to), ("schedule", plan.schedule_at), ("send", send_now)) if asked
    ]
    for step in wanted:
        if status == "draft":
            method, what, option = LATER_STEPS[step]
            if not _supports(provider, method):
                plan.refuse(f"{plan.provider} cannot {what}; leave out {option}, or do it in {plan.provider} itself.")
                return
            plan.steps.append(step)
        elif step == "test":
            plan.notes.append(f"No test sent: issue {plan.week} is already {status}{since}.")
        elif status == "sent":
            plan.notes.append(
                f"Issue {plan.week} was already sent{since}; not {'scheduled' if step == 'schedule' else 'sent'} again."
            )
        elif step == "send":
            plan.refuse(
                f"Issue {plan.week} is scheduled at {plan.provider}{_for(plan, known)}; it will go out then. "
                f"To send it now instead, cancel the schedule in {plan.provider} first."
            )
            return
        elif known and known.scheduled_for and known.scheduled_for != plan.schedule_at:
            plan.refuse(
                f"Issue {plan.week} is already scheduled at {plan.provider}{_for(plan, known)}; to change the time, "
                f"cancel the schedule in {plan.provider} first."
            )
            return
        else:
            plan.notes.append(f"Issue {plan.week} is already scheduled{_for(plan, known)}; not scheduled again.")


def _unchanged_message(plan: PushPlan, pushed_at: datetime | None) -> str:
    where = f"{plan.provider} (campaign {plan.campaign.id})"
    if pushed_at is None:
        return f"Issue {plan.week} is already at {where}; nothing to update."
    return (
        f"Issue {plan.week} was already pushed to {where} at {plan.shown(pushed_at)}; same content, nothing to update."
    )


def _for(plan: PushPlan, known: IssueState | None) -> str:
    return f" for {plan.shown(known.scheduled_for)}" if known and known.scheduled_for else ""


def _supports(provider: Provider, method: str) -> bool:
    return getattr(type(provider), method) is not getattr(Provider, method)


def _shown(when: datetime | None, zone: str) -> str:
    if when is None:
        return "an unknown time"
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
