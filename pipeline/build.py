"""`newsletter build`: gather everything first, then write.

Loading, assembly and rendering happen in memory; only when every page and the email rendered
without error does anything reach dist/, each tree swapped in whole.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .config import Config
from .issue import assemble_issue, latest_week
from .load import load_content
from .model import Content, RenderedEmail
from .output import write_tree
from .providers import get_provider
from .providers.base import Provider
from .render.blog import render_site
from .render.email import render_email
from .render.mime import build_eml


@dataclass
class EmailBuild:
    email: RenderedEmail
    eml: bytes
    directory: Path


@dataclass
class BuildResult:
    week: str
    site_dir: Path
    site_files: int
    email: EmailBuild | None  # None: nothing to send this week


def build_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH when set, so builds can be reproduced byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def resolve_week(content: Content, week: str) -> str:
    """'latest' means the newest week that has something to send."""
    if week != "latest":
        return week
    newest = latest_week(content)
    if newest is None:
        from .weeks import current_week

        return current_week()
    return newest


def email_dir(config: Config, week: str) -> Path:
    return config.dist_dir / "email" / week


def render_week_email(config: Config, content: Content, week: str, provider: Provider, now: datetime) -> tuple[RenderedEmail, bytes] | None:
    issue = assemble_issue(content, config, week)
    if issue is None:
        return None
    email = render_email(issue, config, provider.unsubscribe_url())
    return email, build_eml(email, config, now)


def build(config: Config, week: str, provider: Provider | None = None, now: datetime | None = None) -> BuildResult:
    now = now or build_time()
    provider = provider or get_provider(config)
    content = load_content(config)
    week = resolve_week(content, week)
    site_files = render_site(content, config, provider.signup_form(), now)
    rendered = render_week_email(config, content, week, provider, now)

    write_tree(config.dist_dir / "site", site_files)
    email_build = None
    if rendered is not None:
        email, eml = rendered
        directory = email_dir(config, week)
        write_tree(directory, {"index.html": email.html.encode(), "email.txt": email.text.encode(), "email.eml": eml})
        email_build = EmailBuild(email, eml, directory)
    return BuildResult(week=week, site_dir=config.dist_dir / "site", site_files=len(site_files), email=email_build)
