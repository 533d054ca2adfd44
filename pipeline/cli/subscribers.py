"""`newsletter subscribers ...`: the subscriber list of the SMTP provider
(`.newsletter/subscribers.sqlite3`, see pipeline/deliver/subscribers.py)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from pipeline.cli.options import debug_option, fail_cleanly, root_option
from pipeline.core import clock
from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError
from pipeline.deliver.subscribers import (
    ACTIVE,
    CSV_COLUMNS,
    PENDING,
    UNSUBSCRIBED,
    Subscriber,
    SubscriberStore,
    normalise_email,
    parse_stage,
    parse_subscribers_csv,
    parse_tags,
    subscriber_row,
)


def _open_store(root: Path) -> SubscriberStore:
    return SubscriberStore.for_config(load_config(root))


def _checked_email(address: str) -> str:
    try:
        return normalise_email(address)
    except ValueError as reason:
        raise click.BadParameter(f"'{address}' is not an email address: {reason}") from None


@click.group()
@debug_option
def subscribers():
    """The subscriber list the smtp provider sends to."""


@subscribers.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@root_option(help="Project folder holding newsletter.toml; the list lives in its .newsletter/ folder.")
@fail_cleanly
def import_command(csv_file: Path, root: Path):
    """Add or update the people in FILE.csv (columns: email, optional name, tags, stage,
    due_date, birth_date, dates_consent_at).

    Names, tags, stages and dates of people already on the list are updated; people who
    unsubscribed stay unsubscribed. A date needs dates_consent_at (when she agreed to our keeping
    it). Nothing is imported if any row is wrong."""
    config = load_config(root)
    today = clock.today(config.email.timezone)

    def check_dates(due, born):
        return config.audience.calendar.date_problem(today, due_date=due, birth_date=born)

    people = parse_subscribers_csv(
        csv_file.read_text(encoding="utf-8-sig"), str(csv_file), stages=config.audience.stages, check_dates=check_dates
    )
    with SubscriberStore.for_config(config) as store:
        report = store.import_subscribers(people)
    click.echo(f"Imported {csv_file}: {report.summary()}.")


@subscribers.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also list people who unsubscribed, with a status column.")
@root_option(help="Project folder holding newsletter.toml; the list lives in its .newsletter/ folder.")
@fail_cleanly
def list_command(show_all: bool, root: Path):
    """Print the list as CSV (email,name,tags,stage,due_date,birth_date,dates_consent_at), which
    `subscribers import` reads back. --all adds those who have not confirmed yet or left."""
    with _open_store(root) as store:
        people = store.all() if show_all else store.active()
    columns = [*CSV_COLUMNS] + (["status"] if show_all else [])
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for person in people:
        writer.writerow(subscriber_row(person) + ([person.status] if show_all else []))
    counts = {status: sum(person.status == status for person in people) for status in (ACTIVE, PENDING, UNSUBSCRIBED)}
    summary = f"{counts[ACTIVE]} subscribed"
    if show_all:
        summary += f", {counts[PENDING]} not confirmed yet, {counts[UNSUBSCRIBED]} unsubscribed"
    click.echo(summary, err=True)


@subscribers.command("add")
@click.argument("address", metavar="EMAIL")
@click.option("--name", default="", help="The person's name.")
@click.option("--tags", default="", help="Tags separated by spaces or commas, e.g. 'pregnant'.")
@click.option("--stage", default="", help="The stage she told you: one of [audience] stages, or 'general'.")
@root_option(help="Project folder holding newsletter.toml; the list lives in its .newsletter/ folder.")
@fail_cleanly
def add_command(address: str, name: str, tags: str, stage: str, root: Path):
    """Subscribe one person (e.g. who asked by email). This re-subscribes someone who left."""
    config = load_config(root)
    try:
        tag_list = parse_tags(tags)
    except ValueError as reason:
        raise click.BadParameter(str(reason), param_hint="--tags") from None
    try:
        chosen = parse_stage(stage, config.audience.stages)
    except ValueError as reason:
        raise click.BadParameter(str(reason), param_hint="--stage") from None
    person = Subscriber(email=_checked_email(address), name=name.strip(), tags=tag_list, stage=chosen)
    with SubscriberStore.for_config(config) as store:
        outcome = store.add(person)
    click.echo(f"{person.email}: {outcome}.")


@subscribers.command("remove")
@click.argument("address", metavar="EMAIL")
@click.option(
    "--forget",
    is_flag=True,
    help="Delete every trace of the address instead (an erasure request): her row, stage, dates, the record "
    "of her changes and any email waiting for her; a later import may add it again.",
)
@root_option(help="Project folder holding newsletter.toml; the list lives in its .newsletter/ folder.")
@fail_cleanly
def remove_command(address: str, forget: bool, root: Path):
    """Unsubscribe EMAIL. The address is kept, marked unsubscribed, so no later import or CSV
    list sends to it again."""
    with _open_store(root) as store:
        if forget:
            found = store.forget(address)
            click.echo(f"{address.strip()}: {'forgotten' if found else 'was not on the list'}.")
            return
        email = _checked_email(address)
        outcome = store.unsubscribe(email)
    if outcome == "recorded":
        click.echo(f"{email} was not on the list; recorded as unsubscribed so it is never sent to.")
    else:
        click.echo(f"{email}: {outcome}.")


@subscribers.command("sync")
@click.option("--plan", "only_plan", is_flag=True, help="Change nothing; print what the sync would change.")
@click.option("--provider", "provider_name", metavar="NAME", help="Sync this provider instead of [provider] name.")
@root_option
@fail_cleanly
def sync_command(only_plan: bool, provider_name: str | None, root: Path):
    """Set each subscriber's stage tag at the provider from the due date or birth date stored
    there, for today in [email] timezone.

    Only stage tags (listmonk: stage lists) change, never another tag, field or status; readers
    without dates keep the stage tag they have. Running it again changes nothing."""
    from pipeline.deliver.providers import get_provider
    from pipeline.deliver.stage_sync import sync_stages

    config = load_config(root)
    if provider_name:
        config.provider.name = provider_name
    provider = get_provider(config)
    if not provider.syncs_stages:
        click.echo(
            f"Nothing to sync: provider '{provider.name}' keeps no dates of its own; smtp works out each "
            "reader's stage from the subscriber list at every send."
        )
        return
    if not config.audience.calendar.uses_dates:
        raise ConfigError(
            "newsletter.toml: [audience] dated_stages is empty, so dates pick no stage; set it to sync stage tags"
        )
    result = sync_stages(provider, clock.today(config.email.timezone), only_plan=only_plan)
    click.echo(result.describe(done=not only_plan))
