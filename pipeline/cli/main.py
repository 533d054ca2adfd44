"""The `newsletter` command. Each subcommand loads the config, calls one function and maps
errors to exit codes (pipeline/core/errors.py, README "Exit codes and bugs")."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from pipeline.cli.options import debug_option, fail_cleanly, root_option
from pipeline.core import clock
from pipeline.core.config import Config, load_config
from pipeline.core.errors import PipelineError
from pipeline.core.weeks import parse_week
from pipeline.readers import DEFAULT_THREADS
from pipeline.tools.console import NORMAL, QUIET, VERBOSE, Console, plural, seconds

pass_output = click.make_pass_decorator(Console, ensure=True)


def week_option(command):
    return click.option(
        "--week",
        default=None,
        metavar="YYYY-Www",
        help="ISO week of the issue, e.g. 2026-W48, or 'latest' for the newest week with content. Default: this week.",
    )(command)


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value:
        return
    console = ctx.ensure_object(Console)
    wanted = QUIET if param.name == "quiet" else VERBOSE
    if console.verbosity not in (NORMAL, wanted):
        raise click.UsageError("--quiet and --verbose cannot be used together", ctx)
    console.verbosity = wanted


def output_options(command):
    """--quiet, --verbose and --debug, accepted before the subcommand (`newsletter -q build`) and after it."""
    command = debug_option(command)
    command = click.option(
        "--verbose",
        "-v",
        is_flag=True,
        expose_value=False,
        callback=_set_verbosity,
        help="Say more: timings, the email's details, each request the preview serves.",
    )(command)
    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        expose_value=False,
        callback=_set_verbosity,
        help="Print only warnings, errors and check findings.",
    )(command)


def chosen_week(week: str | None) -> str | None:
    """None (no --week) is this week, worked out by the build in the writer's time zone."""
    if week is None or week == "latest":
        return week
    return parse_week(week)


def open_config(root: Path) -> Config:
    return load_config(root)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="newsletter")
@output_options
@click.pass_context
def main(ctx: click.Context):
    """Turn Markdown in content/ into a weekly email and a static blog, and push the email to
    your mailing list (a local outbox by default).

    \b
    The writer's week (start with `newsletter init DIR`):
      newsletter new article "Title"   start an article (also: new exercise "Name")
      newsletter preview               see the blog and the email, live, while you write
      newsletter check                 find mistakes before subscribers do
      newsletter build                 write the blog and the email into dist/
      newsletter push                  hand the email to the mailing list

    Run `newsletter COMMAND --help` for the options of each. Colours and progress bars appear
    only on a terminal.
    """
    ctx.ensure_object(Console)


@main.command()
@root_option
@week_option
@click.option(
    "--no-cache", "no_cache", is_flag=True, help="Ignore .newsletter/cache/ and rebuild everything (a cold build)."
)
@output_options
@pass_output
@fail_cleanly
def build(console: Console, root: Path, week: str | None, no_cache: bool):
    """Build the blog into dist/site/ and the week's email into dist/email/<week>/.

    Nothing in dist/ changes unless everything builds. `newsletter check` finds the problems a
    build does not refuse (broken links, long subjects, missing tips) as well. Only what changed
    since the last build is parsed and rendered again (cache in .newsletter/cache/).
    """
    started = time.perf_counter()
    config = open_config(root)
    with console.reporting():
        result = build_for_list(config, chosen_week(week), use_cache=not no_cache)
    warnings = report_build(console, result) + report_reviews(console, result, config)
    took = seconds(time.perf_counter() - started)
    console.summary(
        f"Built in {took}, {plural(warnings, 'warning')}." if warnings else f"Built in {took}.", ok=not warnings
    )


def build_for_list(config: Config, week: str | None, **options):
    """The build for the configured provider's list: its signup form on the blog, its unsubscribe
    link in the email. The command line is the one place that puts the two together."""
    from pipeline.build.run import build as run_build
    from pipeline.deliver.providers import get_provider

    return run_build(config, week, get_provider(config), archive=pushed_web_copies(config), **options)


def pushed_web_copies(config: Config) -> list:
    """The web copy of every issue pushed so far, from the ledger (none before the first push;
    a build never creates the ledger)."""
    from pipeline.deliver.ledger import Ledger, ledger_path

    path = ledger_path(config.state_dir)
    if not path.exists():
        return []
    with Ledger(path) as ledger:
        return ledger.web_copies()


def report_build(console: Console, result) -> int:
    """The build's lines; returns how many warnings they held."""
    from pipeline.authoring.check.rules.email import quick_warnings

    for finding in result.load_warnings:
        console.finding(finding)
    console.info(f"Blog: {plural(result.site_files, 'file')} in {_shown(result.site_dir)}/")
    if not result.emails:
        console.info(f"No email this week ({result.week}): no articles dated in it are ready to send.")
        return len(result.load_warnings)
    if result.emails[0].stage:
        console.info(
            f"{result.week} has stage-specific content: one email per stage, and a "
            "general one for readers with no stage tag."
        )
    warnings: list[str] = []
    for built in result.emails:  # stage versions: see pipeline/core/stages.py
        email = built.email
        size_kb = len(email.html.encode()) / 1024
        version = f" [{built.stage}]" if built.stage else ""
        console.info(
            f'Email {result.week}{version}: "{email.subject}" ({size_kb:.1f} KB HTML) in {_shown(built.directory)}/'
        )
        console.detail(f"  Preview text: {email.preview_text}")
        console.detail(f"  Articles: {', '.join(article.slug for article in email.issue.articles)}")
        console.detail(
            f"  Text part {len(email.text.encode()) / 1024:.1f} KB, whole message {len(built.eml) / 1024:.1f} KB"
        )
        warnings += [warning for warning in quick_warnings(email) if warning not in warnings]
    for warning in warnings:
        console.warning(warning)
    return len(warnings) + len(result.load_warnings)


def report_reviews(console: Console, result, config: Config) -> int:
    """A stale (or future) review of an exercise the week's email shows: always said, never
    fatal (README, "Reviews that go stale"); returns how many."""
    from pipeline.content.reviews import review_warnings

    findings = review_warnings([built.email.issue for built in result.emails], config)
    for finding in findings:
        console.finding(finding)
    return len(findings)


@main.command()
@root_option
@week_option
@click.option(
    "--provider",
    "provider_name",
    metavar="NAME",
    help="Push to this provider instead of [provider] name in newsletter.toml.",
)
@click.option("--plan", "only_plan", is_flag=True, help="Change nothing; print what the push would do.")
@click.option(
    "--test-to",
    "test_to",
    multiple=True,
    metavar="ADDR",
    help="Send a test email to ADDR after the draft is in place (repeatable).",
)
@click.option(
    "--schedule",
    "schedule_at",
    metavar="ISO8601",
    help="Schedule the send, e.g. 2026-11-27T07:30+00:00 (a time zone is required).",
)
@click.option("--send-now", is_flag=True, help="Send to the whole list now (asks for confirmation on a terminal).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation before --send-now.")
@click.option("--force", is_flag=True, help="Update a draft that was already pushed with different content.")
@click.option(
    "--no-sync",
    "no_sync",
    is_flag=True,
    help="Do not set the readers' stage tags from their dates before a send (newsletter subscribers sync).",
)
@output_options
@pass_output
@fail_cleanly
def push(
    console: Console,
    root: Path,
    week: str | None,
    provider_name: str | None,
    only_plan: bool,
    test_to: tuple[str, ...],
    schedule_at: str | None,
    send_now: bool,
    yes: bool,
    force: bool,
    no_sync: bool,
):
    """Build the week's email and hand it to the mailing-list provider, exactly once.

    Without --schedule or --send-now a push only creates or updates the draft. Pushing the same
    issue again does nothing; a changed issue needs --force; a scheduled or sent issue is never
    sent again.
    """
    from pipeline.build.run import build as run_build
    from pipeline.deliver.ledger import Ledger, ledger_path
    from pipeline.deliver.providers import get_provider
    from pipeline.deliver.push import plan, push_issue
    from pipeline.deliver.reader_stages import issue_day
    from pipeline.deliver.stage_sync import sync_configured, sync_stages

    started = time.perf_counter()
    config = open_config(root)
    if provider_name:
        config.provider.name = provider_name
    provider = get_provider(config)
    when = parse_schedule(schedule_at)
    with console.reporting():
        result = run_build(config, chosen_week(week), provider=provider, archive=pushed_web_copies(config))
    if not result.emails:
        console.info(f"No email this week ({result.week}): nothing to push.")
        return
    report_reviews(console, result, config)
    ledger = Ledger(ledger_path(config.state_dir))
    options = {"force": force, "test_to": test_to, "schedule_at": when, "send_now": send_now}
    sync = not no_sync and sync_configured(provider)
    if only_plan:
        if sync:
            click.echo(_sync_plan_text(provider, when, config))
        for number, built in enumerate(result.emails):  # each stage version is its own campaign
            click.echo(("\n" if number else "") + describe_email(built.email, provider, when))
            click.echo(plan(provider, ledger, built.email, **options).describe())
        return
    if send_now and not yes:
        confirm_send_now([built.email for built in result.emails], provider)
    if sync and (send_now or when):
        day = issue_day(when or clock.now(), config.email.timezone)
        console.info(sync_stages(provider, day).describe(done=True))
    for built in result.emails:
        with console.reporting():
            outcome = push_issue(provider, ledger, built.email, built.eml, **options)
        console.info(outcome.message)
    console.summary(f"Done in {seconds(time.perf_counter() - started)}.")


def _sync_plan_text(provider, when, config) -> str:
    """What the sync before the send would change, and each version's readers on the send day."""
    from pipeline.deliver.reader_stages import issue_day
    from pipeline.deliver.stage_sync import plan_sync, version_summary

    day = issue_day(when or clock.now(), config.email.timezone)
    result = plan_sync(provider, day)
    return (
        f"Stage sync before the send (--no-sync to skip):\n{result.describe(done=False)}\n"
        f"Readers per version on {day.isoformat()}: {version_summary(result, config.audience.stages)}\n"
    )


def parse_schedule(text: str | None):
    if text is None:
        return None
    from datetime import datetime

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise PipelineError(
            f"--schedule '{text}' is not an ISO 8601 time: write it like 2026-11-27T07:30+00:00"
        ) from None
    if when.tzinfo is None:
        raise PipelineError(f"--schedule '{text}' has no time zone: add one, e.g. {text}+00:00")
    return when


def describe_email(email, provider, send_at=None) -> str:
    from pipeline.render.email import GMAIL_CLIP_BYTES

    size_kb = len(email.html.encode()) / 1024
    version = f"Version:      {email.issue.stage} (issue key {email.issue.key})\n" if email.issue.stage else ""
    return (
        version + f"Provider:     {provider.name}\n"
        f"Subject:      {email.subject}\n"
        f"Preview text: {email.preview_text}\n"
        f"Size:         {size_kb:.1f} KB HTML (Gmail clips over {GMAIL_CLIP_BYTES // 1024} KB), "
        f"{email.image_bytes / 1024:.1f} KB of pictures, {len(email.text.encode()) / 1024:.1f} KB text\n"
        f"Audience:     {_audience(provider, email.issue.stage, send_at)}"
    )


def _audience(provider, stage: str | None, send_at=None) -> str:
    from pipeline.deliver.providers.base import UnsupportedFeature

    try:
        return provider.stage_audience(stage, send_at=send_at)
    except UnsupportedFeature:
        return f"none: {provider.name} cannot send a version to one stage"


def confirm_send_now(emails, provider) -> None:
    if not sys.stdin.isatty():
        raise PipelineError("--send-now sends to the whole list: confirm with --yes when not running on a terminal")
    for number, email in enumerate(emails):
        click.echo(("\n" if number else "") + describe_email(email, provider))
    question = (
        "Send this issue to the whole list now?"
        if len(emails) == 1
        else f"Send these {len(emails)} versions, each to its audience, now?"
    )
    if not click.confirm(question, default=False):
        raise PipelineError("Not sent.")


@main.command()
@root_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard console.",
)
@output_options
@pass_output
@fail_cleanly
def export(console: Console, root: Path, output: Path | None):
    """Print the whole parsed content model as JSON."""
    from pipeline.content.export import content_to_json
    from pipeline.content.load import load_content

    config = open_config(root)
    text = json.dumps(content_to_json(load_content(config)), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        from pipeline.tools.files import atomic_write

        atomic_write(output, text.encode())
        console.info(f"Wrote {_shown(output)}")


@main.command()
@root_option
@week_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one 'file:line: severity: message' line per finding, then a count. json: a list of objects, for CI.",
)
@output_options
@pass_output
@fail_cleanly
def check(console: Console, root: Path, week: str | None, output_format: str):
    """Find every problem before subscribers do, without writing anything.

    Checks every content file (front matter, exercise blocks, links, pictures, headings, link
    text, leftover TODOs), renders the blog and the week's email in memory, and checks the email
    (subject and preview text length, Gmail's 102 KB clipping limit, an empty week).

    Exit code 1 if any finding is an error, 0 if there are only warnings or none.
    """
    from pipeline.authoring.check.runner import check_project, count_line, findings_json

    with console.reporting():
        report = check_project(root, chosen_week(week))
    if output_format == "json":
        click.echo(findings_json(report.findings), nl=False)
    else:
        for finding in report.findings:
            console.finding(finding)
        console.summary(count_line(report), ok=not report.findings)
    sys.exit(report.exit_code)


@main.command()
@root_option
@click.option(
    "--week",
    default=None,
    metavar="YYYY-Www",
    help="ISO week of the email to show, e.g. 2026-W48, or 'latest' for the "
    "newest week with content. Default: this week.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    metavar="PORT",
    help="Port on 127.0.0.1; 0 picks a free one.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in your web browser.")
@output_options
@pass_output
@fail_cleanly
def preview(console: Console, root: Path, week: str | None, port: int, open_browser: bool):
    """Show the blog and the week's email in your browser, updated as you write.

    Serves http://127.0.0.1:PORT/: the email side by side at 600 and 375 px wide, its subject
    and preview text as an inbox shows them, and its plain-text part; the blog is at /site/.
    Every change under content/ or templates/, or to newsletter.toml, rebuilds (into dist/, as
    `newsletter build` does) and reloads the page. A change that does not build shows its errors
    on the page, over the last version that did. Ctrl+C stops.
    """
    from pipeline.authoring.preview.server import serve

    serve(root, chosen_week(week), port, console, build_for_list, open_browser)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--title", default="My Newsletter", show_default=True, help="The newsletter's name, in newsletter.toml.")
@output_options
@pass_output
@fail_cleanly
def init(console: Console, folder: Path, title: str):
    """Start a new newsletter project in FOLDER (made if missing; default: here).

    Writes newsletter.toml with every setting explained, a sample article and a sample exercise
    card in content/, and a .gitignore. The templates come with the tool: copy one into
    templates/email/ or templates/site/ to change it. Nothing is ever overwritten.
    """
    from pipeline.authoring.starter_project import init_project

    written = init_project(folder, title)
    for path in written:
        console.success(f"Created {_shown(path)}")
    where = "" if folder.resolve() == Path.cwd() else f"cd {_shown(folder)} && "
    console.info(f"Next: {where}newsletter preview, and read content/articles/start-here.md.")


@main.command()
@root_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every one).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, metavar="PORT", help="0 picks a free one."
)
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=DEFAULT_THREADS,
    show_default=True,
    help="Requests answered at once; more wait their turn (see docs/readers.md).",
)
@output_options
@pass_output
@fail_cleanly
def serve(console: Console, root: Path, host: str, port: int, threads: int):
    """Run the reader service: signup with double opt-in, the welcome email, preferences and
    unsubscribe, on the subscriber list (providers outbox and smtp).

    Needs NEWSLETTER_UNSUBSCRIBE_SECRET, which signs every reader link. Reader emails go through
    the configured relay (the outbox: outbox/readers/*.eml); when it is down they wait in the
    list's database and are sent when it is back. The built blog (dist/site/) is served too, so
    its form works on this address. Ctrl+C stops. See docs/readers.md for TLS and systemd.
    """
    import os

    from pipeline.readers.serve import reader_service
    from pipeline.readers.serve import serve as run_server

    config = open_config(root)
    running = reader_service(config, os.environ)
    if not running.welcome:
        console.warning("content/welcome.md does not exist: confirmed readers get no welcome email")

    def ready(server) -> None:
        address = f"http://{server.effective_host}:{server.effective_port}/"
        console.success(f"Reader service on {address} (signup form: {address}subscribe/)")
        console.info(f"Reader emails go through {running.relay_name}. Ctrl+C stops.")

    try:
        run_server(running, host, port, threads=threads, ready=ready)
    except KeyboardInterrupt:
        console.info("Stopped.")


@main.group()
def new():
    """Start a new article or exercise card, with its front matter and headings filled in."""


@new.command("article")
@click.argument("title")
@root_option
@output_options
@pass_output
@fail_cleanly
def new_article(console: Console, title: str, root: Path):
    """Create content/articles/<slug>.md for TITLE, dated today.

    Replace every TODO (`newsletter check` lists them); an existing file is never overwritten.
    """
    from pipeline.authoring.scaffold import new_article as create_article

    path = create_article(open_config(root), title)
    _report_new(console, path)


@new.command("exercise")
@click.argument("name")
@root_option
@output_options
@pass_output
@fail_cleanly
def new_exercise(console: Console, name: str, root: Path):
    """Create the library card content/exercises/<slug>.md for NAME.

    Replace every TODO and set `pregnancy` (`newsletter check` lists what is missing); an
    existing file is never overwritten.
    """
    from pipeline.authoring.scaffold import new_exercise as create_exercise

    path = create_exercise(open_config(root), name)
    _report_new(console, path)


def _report_new(console: Console, path: Path) -> None:
    console.success(f"Created {_shown(path)}")
    console.info(
        "Replace each TODO, then run `newsletter preview` to see it and `newsletter check` to find what is left."
    )


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


from pipeline.cli.importing import import_command  # noqa: E402  (registered after main exists)
from pipeline.cli.subscribers import subscribers  # noqa: E402

main.add_command(subscribers)
main.add_command(import_command)
