"""`newsletter subscribers ...`: the subscriber list of the SMTP provider
(`.newsletter/subscribers.sqlite3`, see pipeline/deliver/subscribers.py)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from pipeline.cli.options import fail_cleanly, root_option
from pipeline.core.config import load_config
from pipeline.deliver.subscribers import (
    ACTIVE,
    Subscriber,
    SubscriberStore,
    normalise_email,
    parse_subscribers_csv,
    parse_tags,
)


def _open_store(root: Path) -> SubscriberStore:
    return SubscriberStore.for_config(load_config(root))


def _checked_email(address: str) -> str:
    try:
        return normalise_email(address)
    except ValueError as reason:
        raise click.BadParameter(f"'{address}' is not an email address: {reason}") from None


@click.group()
def subscribers():
    """The subscriber list the smtp provider sends to."""


@subscribers.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@root_option(help="Project folder holding newsletter.toml; the list lives in its .newsletter/ folder.")
@fail_cleanly
def import_command(csv_file: Path, root: Path):
    """Add or update the people in FILE.csv (columns: email, optional name and tags).

    Names and tags of people already on the list are updated; people who unsubscribed stay
    unsubscribed. Nothing is imported if any row is wrong."""
    people = parse_subscribers_csv(csv_file.read_text(encoding="utf-8-sig"), str(csv_file))
    with _open_store(root) as store:
        report = store.import_subscribers(people)
    click.echo(f"Imported {csv_file}: {report.summary()}.")


@subscribers.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also list people who unsubscribed, with a status column.")
@root_option(help="Project folder holding newsletter.toml; the list lives in its .newsletter/ folder.")
@fail_cleanly
def list_command(show_all: bool, root: Path):
    """Print the list as CSV (email,name,tags), which `subscribers import` reads back."""
    with _open_store(root) as store:
        people = store.all() if show_all else store.active()
    columns = ["email", "name", "tags"] + (["status"] if show_all else [])
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for person in people:
        writer.writerow([person.email, person.name, " ".join(person.tags)] + ([person.status] if show_all else []))
    active = sum(person.status == ACTIVE for person in people)
    click.echo(f"{active} subscribed" + (f", {len(people) - active} unsubscribed" if show_all else ""), err=True)


@subscribers.command("add")
@click.argument("address", metavar="EMAIL")
@click.option("--name", default="", help="The person's name.")
@click.option("--tags", default="", help="Tags separated by spaces or commas, e.g. 'pregnant'.")
@root_option(help="Project folder holding newsletter.toml; the list lives in its .newsletter/ folder.")
@fail_cleanly
def add_command(address: str, name: str, tags: str, root: Path):
    """Subscribe one person (e.g. who asked by email). This re-subscribes someone who left."""
    try:
        tag_list = parse_tags(tags)
    except ValueError as reason:
        raise click.BadParameter(str(reason), param_hint="--tags") from None
    person = Subscriber(email=_checked_email(address), name=name.strip(), tags=tag_list)
    with _open_store(root) as store:
        outcome = store.add(person)
    click.echo(f"{person.email}: {outcome}.")


@subscribers.command("remove")
@click.argument("address", metavar="EMAIL")
@click.option(
    "--forget",
    is_flag=True,
    help="Delete every trace of the address instead (an erasure request); a later import may add it again.",
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
