"""`newsletter import SOURCE`: bring an archive from Hugo, Jekyll, Pelican, Zola, Substack or
Ghost (pipeline/authoring/importers/run.py does the work; this prints the report)."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.authoring.importers.run import TOOLS, ImportResult, import_archive
from pipeline.cli.options import fail_cleanly, root_option
from pipeline.core.config import load_config
from pipeline.tools.console import Console, plural

pass_output = click.make_pass_decorator(Console, ensure=True)


@click.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--from", "tool", type=click.Choice(TOOLS), help="The tool that wrote SOURCE (default: detected).")
@click.option(
    "--dry-run", is_flag=True, help="Read and convert everything, write nothing: the report of what would happen."
)
@root_option
@pass_output
@fail_cleanly
def import_command(console: Console, source: Path, tool: str | None, dry_run: bool, root: Path):
    """Import the posts (and, from Substack or Ghost, the subscribers) of SOURCE: a site's
    folder, or an export file. Writes content/articles/<slug>.md and content/images/<slug>/.

    Every post is listed: imported, imported with something to look at, or not imported and why.
    Running it again imports nothing twice and never overwrites a file edited since."""
    result = import_archive(load_config(root), source, tool, dry_run)
    report_import(console, result)


def report_import(console: Console, result: ImportResult) -> None:
    would = "would be " if result.dry_run else ""
    for outcome in result.having("review"):
        console.warning(f"{outcome.source} -> {outcome.path}: look at: {'; '.join(outcome.notes)}")
    for outcome in result.having("kept"):
        console.warning(f"{outcome.source} -> {outcome.path}: {outcome.notes[0]}")
    for outcome in result.having("not-imported"):
        console.print(("not imported", "red bold"), (f": {outcome.source}: {outcome.why}", ""))
    for outcome in result.having("imported"):
        console.detail(f"{outcome.source} -> {outcome.path}")
    if result.subscribers is not None:
        console.info(f"Subscribers {would}imported: {result.subscribers.summary()}.")
    for problem in result.subscriber_problems:
        console.warning(f"subscriber not imported: {problem}")
    counts = [
        f"{plural(len(result.having('imported', 'review')), 'post')} {would}imported",
        f"{len(result.having('review'))} with something to look at",
        f"{len(result.having('unchanged'))} already imported",
        f"{len(result.having('kept'))} edited since and left alone",
        f"{len(result.having('not-imported'))} not imported",
    ]
    console.summary(
        f"{result.tool}: {', '.join(counts)}." + (" Nothing was written (--dry-run)." if result.dry_run else "")
    )
