"""`newsletter subscribers sync`: each subscriber's stage tag at the provider set from the dates
stored there, for the day the next issue goes out.

Read every subscriber (the provider pages through the list), work out her stage on the day with
pipeline/core/stage_calendar.py, and change only what differs: add her stage tag, take off her
other stage tags. A reader with no date keeps whatever stage tag she has; no other tag, field or
status is ever touched. A second run finds nothing to change. Dates are health data: the report
counts readers and names stages, never a date.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date

from pipeline.core.stages import GENERAL_STAGE, version_for_tags, versions
from pipeline.deliver.providers.base import ListReader, Provider, StageChange
from pipeline.tools.console import plural


@dataclass
class SyncPlan:
    provider: str
    day: date
    read: int = 0
    changes: list[StageChange] = field(default_factory=list)
    without_dates: int = 0
    problems: list[str] = field(default_factory=list)  # one line per reader whose dates were refused
    versions: Counter = field(default_factory=Counter)  # version -> readers it reaches on the day

    def counts(self) -> Counter:
        """'+pregnant' / '-pregnant' -> how many readers get that tag added or taken off."""
        counted: Counter = Counter()
        for change in self.changes:
            if change.add:
                counted[f"+{change.add}"] += 1
            for stage in change.remove:
                counted[f"-{stage}"] += 1
        return counted

    def describe_changes(self) -> str:
        counted = self.counts()
        return ", ".join(
            f"{'add' if key[0] == '+' else 'remove'} '{key[1:]}' for {plural(n, 'reader')}"
            for key, n in sorted(counted.items())
        )

    def describe(self, done: bool) -> str:
        head = f"{self.provider}: {plural(self.read, 'subscriber')} read, stages for {self.day.isoformat()}"
        lines = [head]
        if not self.changes:
            lines.append("- nothing to change: every stage tag already matches the readers' dates")
        else:
            verb = "changed" if done else "would change"
            lines.append(f"- {verb} {plural(len(self.changes), 'reader')}: {self.describe_changes()}")
        lines.append(f"- {plural(self.without_dates, 'reader')} without dates keep the stage they have")
        if self.problems:
            lines.append(f"- {plural(len(self.problems), 'reader')} whose dates were refused, left as they are:")
            lines.extend(f"  - {line}" for line in self.problems)
        return "\n".join(lines)


STAGE_ID_KEYS = ("stage_tags", "stage_lists")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def sync_configured(provider: Provider) -> bool:
    """Whether `push` syncs before a send: the provider can, dates pick stages, and the stage
    tags (or lists) are set up. Without them there is nothing to sync to, and a push goes on."""
    options = provider.config.provider.options
    return (
        provider.syncs_stages
        and provider.config.audience.calendar.uses_dates
        and any(options.get(key) for key in STAGE_ID_KEYS)
    )


def plan_sync(provider: Provider, day: date) -> SyncPlan:
    """Read the whole list and work out every change; changes nothing."""
    audience = provider.config.audience
    calendar, stages = audience.calendar, audience.stages
    result = SyncPlan(provider.name, day)
    for reader in provider.list_readers():
        result.read += 1
        reader = _checked(reader, calendar, day, result)
        if reader.due_date is None and reader.birth_date is None:
            result.without_dates += 1
            result.versions[version_for_tags(reader.stages, stages)] += 1
            continue
        stage = calendar.stage_on(day, due_date=reader.due_date, birth_date=reader.birth_date)
        result.versions[stage if stage in stages else GENERAL_STAGE] += 1
        change = _change_for(reader, stage, provider)
        if change:
            result.changes.append(change)
    return result


def _checked(reader: ListReader, calendar, day: date, result: SyncPlan) -> ListReader:
    """Her dates, or none when the one date rule (StageCalendar.date_problem, the form's and the
    import's) refuses them; every refusal a line of the report naming her, never her dates."""
    problem = reader.problem
    refused = calendar.date_problem(day, due_date=reader.due_date, birth_date=reader.birth_date, at_entry=False)
    if refused:
        problem = f"{problem}; {refused}" if problem else refused
        reader = replace(reader, due_date=None, birth_date=None)
    if problem:
        result.problems.append(f"{reader.email or reader.id}: {_without_dates(problem)}")
    return reader


def _without_dates(problem: str) -> str:
    """The calendar's words name the date; the report says only which one and why."""
    return ISO_DAY.sub("", problem).replace("  ", " ")


def _change_for(reader: ListReader, stage: str | None, provider: Provider) -> StageChange | None:
    stages = provider.config.audience.stages
    wanted = stage if stage in stages else provider.stage_of_general
    held = set(reader.stages) & set(versions(stages))
    remove = tuple(sorted(held - {wanted}))
    add = wanted if wanted and wanted not in held else None
    return StageChange(reader, add, remove) if add or remove else None


def sync_stages(provider: Provider, day: date, *, only_plan: bool = False) -> SyncPlan:
    """Plan, then (unless `only_plan`) carry the changes out."""
    result = plan_sync(provider, day)
    if result.changes and not only_plan:
        provider.change_stages(result.changes)
    return result


def version_summary(result: SyncPlan, stages) -> str:
    """'pregnant 120, postpartum-0-6w 14, ..., general 3': readers per version on the day."""
    return ", ".join(f"{version} {result.versions.get(version, 0)}" for version in versions(stages))
