"""Decorators every `newsletter` subcommand shares (cli.py and cli_subscribers.py)."""

from __future__ import annotations

import sys
from functools import wraps
from pathlib import Path

import click

from pipeline.core.errors import PipelineError

ROOT_HELP = "Project folder holding newsletter.toml, content/ and templates/."


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
