"""`newsletter build`: gather everything first, then write.

Loading, assembly and rendering happen in memory; only when every page and the email rendered
without error does anything reach dist/, each tree swapped in whole.

A week with one email for everyone writes it to dist/email/<week>/. A week with stage versions
(pipeline/stages.py) writes the version for readers without a stage tag (`general`) there, and
each stage's version to dist/email/<week>/<stage>/ - so dist/email/<week>/email.eml is always
an email anyone may safely read.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .clock import EPOCH_VARIABLE, build_time
from .cache import CACHE_FOLDER, BuildCache, BuildInputs, code_fingerprint, output_manifest, stat_fingerprint
from .config import CONFIG_FILE, Config
from .issue import assemble_issues, latest_week
from .load import load_content
from .model import Content, RenderedEmail
from .output import remove_tree, write_tree
from .rebuild import quick_rebuild, site_facts
from .providers import get_provider
from .providers.base import Provider
from .render.blog import render_site
from .render.email import render_email
from .render.mime import build_eml
from .stages import GENERAL_STAGE
from .weeks import week_of


@dataclass
class EmailBuild:
    email: RenderedEmail
    eml: bytes
    directory: Path

    @property
    def stage(self) -> str | None:
        """Which version this is: None for the one email for everyone (Issue.stage)."""
        return self.email.issue.stage


@dataclass
class BuildResult:
    week: str
    site_dir: Path
    site_files: int
    emails: list[EmailBuild] = field(default_factory=list)  # every version, in order; []: nothing to send this week

    @property
    def email(self) -> EmailBuild | None:
        """The email readers without a stage tag get: the only one, or the `general` version
        (None: nothing to send, or no general version this week)."""
        return next((built for built in self.emails if built.stage in (None, GENERAL_STAGE)), None)


def resolve_week(content: Content, week: str | None, config: Config, now: datetime) -> str:
    """None means this week (the build's day in the writer's time zone); 'latest' the newest
    week that has something to send, or this week when none has."""
    if week not in (None, "latest"):
        return week
    newest = latest_week(content) if week == "latest" else None
    return newest or week_of(now.astimezone(ZoneInfo(config.email.timezone)).date())


def email_dir(config: Config, week: str) -> Path:
    return config.dist_dir / "email" / week


def render_week_emails(config: Config, content: Content, week: str, provider: Provider, now: datetime) -> list[tuple[RenderedEmail, bytes]]:
    """Every version of the week's email, rendered; [] when nothing goes out."""
    rendered = []
    for issue in assemble_issues(content, config, week):
        email = render_email(issue, config, provider.unsubscribe_url())
        rendered.append((email, build_eml(email, config, now)))
    return rendered


def version_folder(stage: str | None) -> str:
    """Where a version lives under dist/email/<week>/: the top for the one email for everyone
    and for `general`, a sub-folder named after the stage otherwise."""
    return "" if stage in (None, GENERAL_STAGE) else f"{stage}/"


def output_folders(config: Config, week: str) -> list[Path]:
    return [config.dist_dir / "site", email_dir(config, week)]


def build_inputs(config: Config, week: str | None, provider: Provider, now: datetime) -> BuildInputs:
    """What a build reads, cheap to take on every build: a fingerprint of the code, the settings,
    the templates (stat), the provider's signup form, the week asked for and the day (or
    SOURCE_DATE_EPOCH); and the stat of every content file, which changes whenever one is saved."""
    settings = [code_fingerprint(), repr(config), type(provider).__name__, repr(provider.signup_form()), repr(week),
                now.astimezone(ZoneInfo(config.email.timezone)).date().isoformat()]
    settings.append(os.environ.get(EPOCH_VARIABLE, ""))
    templates = [config.templates_dir] if config.templates_dir.is_dir() else []
    return BuildInputs(stat_fingerprint(templates, settings + _file_stats(config.root / CONFIG_FILE)), output_manifest([config.content_dir]))


def _file_stats(path: Path) -> list[str]:
    try:
        stat = path.stat()
    except OSError:
        return ["no config file"]
    return [f"{stat.st_size}|{stat.st_mtime_ns}"]


def build(config: Config, week: str | None, provider: Provider | None = None, now: datetime | None = None, use_cache: bool = True) -> BuildResult:
    """`use_cache=False` (--no-cache) ignores .newsletter/cache/ and builds everything; either
    way the cache left behind lets the next build redo only what changed (pipeline/cache.py):
    nothing when nothing changed, only the pages showing an article when its body changed
    (pipeline/rebuild.py)."""
    now = now or build_time()
    provider = provider or get_provider(config)
    cache = BuildCache(config.state_dir / CACHE_FOLDER, use=use_cache)
    try:
        inputs = build_inputs(config, week, provider, now)
        unchanged = cache.unchanged_result(inputs, lambda result: output_folders(config, result.week))
        if unchanged is not None:
            return unchanged
        quick = quick_rebuild(config, inputs, cache, provider, now)
        if quick is not None:
            return quick
        return _full_build(config, week, provider, now, cache, inputs)
    finally:
        cache.close()


def _full_build(config: Config, week: str | None, provider: Provider, now: datetime, cache: BuildCache, inputs: BuildInputs) -> BuildResult:
    content = load_content(config, cache.parsed)
    week = resolve_week(content, week, config, now)
    pages = cache.pages(config.dist_dir / "site")
    site_files = render_site(content, config, provider.signup_form(), now, pages, cache.feed_entries)
    rendered = render_week_emails(config, content, week, provider, now)
    write_tree(config.dist_dir / "site", site_files, previous=cache.previous_files(config.dist_dir / "site"))
    builds = write_emails(config, week, rendered)
    result = BuildResult(week=week, site_dir=config.dist_dir / "site", site_files=len(site_files), emails=builds)
    cache.save(inputs, output_folders(config, week), result, pages.keys, site_facts(content, week))
    return result


def write_emails(config: Config, week: str, rendered: list[tuple[RenderedEmail, bytes]]) -> list[EmailBuild]:
    """Every version of the week's email into dist/email/<week>/ in one swap, so a stale stage
    folder never survives a rebuild; a week with nothing to send any more loses the folder."""
    builds: list[EmailBuild] = []
    email_files: dict[str, bytes] = {}
    for email, eml in rendered:
        folder = version_folder(email.issue.stage)
        email_files |= {f"{folder}index.html": email.html.encode(), f"{folder}email.txt": email.text.encode(), f"{folder}email.eml": eml}
        builds.append(EmailBuild(email, eml, email_dir(config, week) / folder))
    if email_files:
        write_tree(email_dir(config, week), email_files)
    else:
        remove_tree(email_dir(config, week))
    return builds
