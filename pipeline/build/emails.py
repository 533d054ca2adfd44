"""The week's emails in a build: every stage version rendered, and written to dist/email/<week>/
in one swap; what a build returns (BuildResult).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from pipeline.content.assemble import assemble_issues
from pipeline.core.config import Config
from pipeline.core.model import Content, Finding, MailingList, RenderedEmail, WebCopy
from pipeline.core.stages import GENERAL_STAGE
from pipeline.render.blog import render_web_copies
from pipeline.render.email import ConvertedFields, render_email
from pipeline.render.images import Pictures
from pipeline.render.mime import make_eml
from pipeline.tools.files import remove_tree, write_tree


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
    load_warnings: list[Finding] = field(default_factory=list)  # what the loader forgave (unknown keys)

    @property
    def email(self) -> EmailBuild | None:
        """The email readers without a stage tag get: the only one, or the `general` version
        (None: nothing to send, or no general version this week)."""
        return next((built for built in self.emails if built.stage in (None, GENERAL_STAGE)), None)


def email_dir(config: Config, week: str) -> Path:
    return config.dist_dir / "email" / week


def render_week_emails(
    config: Config, content: Content, week: str, provider: MailingList, now: datetime, pictures: Pictures | None = None
) -> list[tuple[RenderedEmail, bytes]]:
    """Every version of the week's email, rendered; [] when nothing goes out. Each Markdown field
    is converted once for all the versions."""
    fields = ConvertedFields(config, pictures)
    emails = [
        render_email(
            issue,
            config,
            provider.unsubscribe_url(),
            pictures,
            preferences_url=provider.preferences_url(),
            personal_line=provider.personal_line(),
            fields=fields,
        )
        for issue in assemble_issues(content, config, week)
    ]
    web_copies = render_web_copies(emails, content, config, provider.signup_form(), now, pictures)
    emails = [replace(email, web_copy=web_copy) for email, web_copy in zip(emails, web_copies, strict=True)]
    return [(email, make_eml(email, config, now)) for email in emails]


def with_week(archive: Sequence[WebCopy], emails: list[RenderedEmail]) -> list[WebCopy]:
    """The archive to show: every pushed issue as it went out (the ledger's copy wins, even if its
    content was edited since), and each version of the week being built that was not pushed yet."""
    pushed = {copy.issue_key for copy in archive}
    built = [
        WebCopy(e.issue.key, e.issue.week, e.issue.stage, e.subject, e.preview_text, e.issue.monday, e.web_copy)
        for e in emails
        if e.issue.key not in pushed
    ]
    return [*archive, *built]


def version_folder(stage: str | None) -> str:
    """Where a version lives under dist/email/<week>/: the top for the one email for everyone
    and for `general`, a sub-folder named after the stage otherwise."""
    return "" if stage in (None, GENERAL_STAGE) else f"{stage}/"


def output_folders(config: Config, week: str) -> list[Path]:
    return [config.dist_dir / "site", email_dir(config, week)]


def write_emails(
    config: Config, week: str, rendered: list[tuple[RenderedEmail, bytes]], into: Path | None = None
) -> list[EmailBuild]:
    """Every version of the week's email into dist/email/<week>/ in one swap, so a stale stage
    folder never survives a rebuild; a week with nothing to send any more loses the folder.
    `into`: the staged copy of dist/ to write instead (tools/files.py `staged`); the builds
    still name their place in dist/."""
    builds: list[EmailBuild] = []
    on_disk = email_dir(config, week)
    if into is not None:
        on_disk = into / on_disk.relative_to(config.dist_dir)
    email_files: dict[str, bytes] = {}
    for email, eml in rendered:
        folder = version_folder(email.issue.stage)
        email_files |= {
            f"{folder}index.html": email.html.encode(),
            f"{folder}email.txt": email.text.encode(),
            f"{folder}email.eml": eml,
        }
        builds.append(EmailBuild(email, eml, email_dir(config, week) / folder))
    if email_files:
        write_tree(on_disk, email_files)
    else:
        remove_tree(on_disk)
    return builds
