"""Decorators every `newsletter` subcommand shares (cli.py and cli_subscribers.py)."""

from __future__ import annotations

import sys
import traceback
from functools import wraps
from pathlib import Path

import click

from pipeline.core.errors import BUG_EXIT_CODE, INTERRUPTED_EXIT_CODE, REPORT_BUGS_TO, PipelineError
from pipeline.core.secrets import redact

ROOT_HELP = "Project folder holding newsletter.toml, content/ and templates/."


def fail_cleanly(command):
    """Turn a PipelineError into its message on stderr and its exit code, and anything else (a bug
    in us) into where to report it; a traceback only with --debug. Secrets never get through."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PipelineError as error:
            _say(_traceback() if debugging() else str(error))
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            _say("Stopped (Ctrl+C).")
            sys.exit(INTERRUPTED_EXIT_CODE)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as error:  # a bug in us: say so, and where to report it
            _say(_traceback() if debugging() else bug_report(error))
            sys.exit(BUG_EXIT_CODE)

    return wrapper


def bug_report(error: BaseException) -> str:
    command = click.get_current_context(silent=True)
    name = command.command_path if command else "newsletter"
    return (
        f"`{name}` stopped on a bug in newsletter ({type(error).__name__}: {error}).\n"
        f"This is not your mistake. Please report it to {REPORT_BUGS_TO}, with the output of the same "
        "command run again with --debug (it shows the traceback; secrets are blanked out)."
    )


def _say(text: str) -> None:
    click.secho(redact(text), fg="red", err=True)


def _traceback() -> str:
    return traceback.format_exc().rstrip()


def debugging() -> bool:
    context = click.get_current_context(silent=True)
    return bool(context and context.meta.get(DEBUG_KEY))


DEBUG_KEY = "newsletter.debug"


def _turn_on_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[DEBUG_KEY] = True


def debug_option(command):
    """`--debug`, before or after the subcommand: a bug or an error shows its traceback."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_turn_on_debug,
        help="Show the traceback of an error (for a bug report); secrets are still blanked out.",
    )(command)


def root_option(command=None, *, help: str = ROOT_HELP):
    """`--root DIR`, default the current folder. Use bare (@root_option) or with another help text."""

    def decorate(function):
        return click.option(
            "--root",
            type=click.Path(file_okay=False, path_type=Path),
            default=".",
            show_default=True,
            help=help,
        )(function)

    return decorate(command) if command is not None else decorate
