"""The `newsletter` command. Each subcommand loads the config, calls one function and maps
errors to exit codes: 0 done, 1 the provider refused or a push was refused, 2 bad input or config."""
from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path

import click

from .config import Config, load_config
from .errors import PipelineError
from .weeks import current_week, parse_week


def fail_cleanly(command):
    """Turn a PipelineError into its message on stderr and its exit code, no traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PipelineError as error:
            click.secho(str(error), fg="red", err=True)
            sys.exit(error.exit_code)

    return wrapper


def root_option(command):
    return click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=".",
        show_default=True,
        help="Project folder holding newsletter.toml, content/ and templates/.",
    )(command)


def week_option(command):
    return click.option(
        "--week",
        default=None,
        metavar="YYYY-Www",
        help="ISO week of the issue, e.g. 2026-W48, or 'latest' for the newest week with content. Default: this week.",
    )(command)


def chosen_week(week: str | None) -> str:
    if week is None:
        return current_week()
    return "latest" if week == "latest" else parse_week(week)


def open_config(root: Path) -> Config:
    return load_config(root)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsletter")
def main():
    """Turn Markdown in content/ into a weekly email and a static blog, and push the email to
    your mailing list (a local outbox by default)."""


@main.command()
@root_option
@week_option
@fail_cleanly
def build(root: Path, week: str | None):
    """Build the blog into dist/site/ and the week's email into dist/email/<week>/."""
    from .build import build as run_build

    config = open_config(root)
    result = run_build(config, chosen_week(week))
    click.echo(f"Blog: {result.site_files} files in {_shown(result.site_dir)}/")
    if result.email is None:
        click.echo(f"No email this week ({result.week}): no articles dated in it are ready to send.")
        return
    email = result.email
    size_kb = len(email.email.html.encode()) / 1024
    click.echo(f"Email {result.week}: \"{email.email.subject}\" ({size_kb:.1f} KB HTML) in {_shown(email.directory)}/")
    if email.email.excerpted:
        click.echo(f"Shortened to excerpts so Gmail does not clip the email: {', '.join(email.email.excerpted)}")


@main.command()
@root_option
@week_option
@click.option("--provider", "provider_name", metavar="NAME", help="Push to this provider instead of [provider] name in newsletter.toml.")
@click.option("--plan", "only_plan", is_flag=True, help="Change nothing; print what the push would do.")
@click.option("--test-to", "test_to", multiple=True, metavar="ADDR", help="Send a test email to ADDR after the draft is in place (repeatable).")
@click.option("--schedule", "schedule_at", metavar="ISO8601", help="Schedule the send, e.g. 2026-11-27T07:30+00:00 (a time zone is required).")
@click.option("--send-now", is_flag=True, help="Send to the whole list now (asks for confirmation on a terminal).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation before --send-now.")
@click.option("--force", is_flag=True, help="Update a draft that was already pushed with different content.")
@fail_cleanly
def push(root: Path, week: str | None, provider_name: str | None, only_plan: bool, test_to: tuple[str, ...],
         schedule_at: str | None, send_now: bool, yes: bool, force: bool):
    """Build the week's email and hand it to the mailing-list provider, exactly once.

    Without --schedule or --send-now a push only creates or updates the draft. Pushing the same
    issue again does nothing; a changed issue needs --force; a scheduled or sent issue is never
    sent again.
    """
    from .build import build as run_build
    from .ledger import Ledger, ledger_path
    from .providers import get_provider
    from .push import plan, push_issue

    config = open_config(root)
    if provider_name:
        config.provider.name = provider_name
    provider = get_provider(config)
    when = parse_schedule(schedule_at)
    result = run_build(config, chosen_week(week), provider=provider)
    if result.email is None:
        click.echo(f"No email this week ({result.week}): nothing to push.")
        return
    email, eml = result.email.email, result.email.eml
    ledger = Ledger(ledger_path(config.state_dir))
    options = dict(force=force, test_to=test_to, schedule_at=when, send_now=send_now)
    if only_plan:
        click.echo(describe_email(email, provider))
        click.echo(plan(provider, ledger, email, **options).describe())
        return
    if send_now and not yes:
        confirm_send_now(email, provider)
    outcome = push_issue(provider, ledger, email, eml, **options)
    click.echo(outcome.message)


def parse_schedule(text: str | None):
    if text is None:
        return None
    from datetime import datetime

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise PipelineError(f"--schedule '{text}' is not an ISO 8601 time: write it like 2026-11-27T07:30+00:00") from None
    if when.tzinfo is None:
        raise PipelineError(f"--schedule '{text}' has no time zone: add one, e.g. {text}+00:00")
    return when


def describe_email(email, provider) -> str:
    size_kb = len(email.html.encode()) / 1024
    return (
        f"Provider:     {provider.name}\n"
        f"Subject:      {email.subject}\n"
        f"Preview text: {email.preview_text}\n"
        f"Size:         {size_kb:.1f} KB HTML, {len(email.text.encode()) / 1024:.1f} KB text\n"
        f"Audience:     {provider.audience()}"
    )


def confirm_send_now(email, provider) -> None:
    if not sys.stdin.isatty():
        raise PipelineError("--send-now sends to the whole list: confirm with --yes when not running on a terminal")
    click.echo(describe_email(email, provider))
    if not click.confirm("Send this issue to the whole list now?", default=False):
        raise PipelineError("Not sent.")


@main.command()
@root_option
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of standard output.")
@fail_cleanly
def export(root: Path, output: Path | None):
    """Print the whole parsed content model as JSON."""
    from .export import content_to_json
    from .load import load_content

    config = open_config(root)
    text = json.dumps(content_to_json(load_content(config)), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        from .output import atomic_write

        atomic_write(output, text.encode())
        click.echo(f"Wrote {_shown(output)}")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


from .cli_subscribers import subscribers  # noqa: E402  (registered after main exists)

main.add_command(subscribers)
