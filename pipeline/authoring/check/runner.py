"""`newsletter check`: find every problem before subscribers do, without writing anything.

First gather (MkDocs-style): read every content file, load what loads, render the blog and the
week's email in memory. Every error met on the way (a `ContentError` from the loader, a template
that does not render, an email Gmail would clip) becomes an error `Finding`. Then every rule runs
over what was gathered and adds its findings. `newsletter check` prints them, one
`file:line: severity: message` line each, and exits 1 if any is an error.

The loader refuses the whole content tree if one file is wrong; check loads again without the
files that failed, so link, accessibility and email rules still look at everything else. Links
into a file that did not load are not reported: that file's own errors are.

A rule is a function returning a list of `Finding`s. Adding one is one line in a list below.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from pipeline.authoring.check.project import Project
from pipeline.authoring.check.rules import (
    accessibility,
    email,
    exercises,
    foreign_tags,
    links,
    placeholders,
    templates,
)
from pipeline.authoring.check.rules.safety import safety_findings
from pipeline.build.images import image_store, prepare_pictures
from pipeline.content.assemble import assemble_issues, resolve_week
from pipeline.content.load import content_from_texts, read_content_files
from pipeline.content.welcome import load_welcome
from pipeline.core.clock import build_time
from pipeline.core.config import CONFIG_FILE, Config, load_config
from pipeline.core.errors import ConfigError, ContentError, ContentErrors, PipelineError
from pipeline.core.model import ERROR, WARNING, Content, Finding, Issue
from pipeline.deliver.providers import get_provider
from pipeline.render.blog import render_site
from pipeline.render.email import GMAIL_CLIP_BYTES, ConvertedFields, render_email
from pipeline.tools.images import ImageStore

ContentRule = Callable[[Content, Config], list[Finding]]
ProjectRule = Callable[["Project"], list[Finding]]

# Rules over the loaded model alone: rule(content, config) -> list[Finding].
CONTENT_RULES: list[ContentRule] = [
    exercises.exercise_findings,
    safety_findings,
]

# Rules that also need the files as written or what the build would render: rule(project).
PROJECT_RULES: list[ProjectRule] = [
    links.link_findings,
    accessibility.accessibility_findings,
    email.email_findings,
    placeholders.placeholder_findings,
    templates.template_findings,
    foreign_tags.template_tag_findings,
    foreign_tags.embed_findings,
]


@dataclass
class Report:
    findings: list[Finding]
    week: str | None = None
    files_checked: int = 0
    email_checked: bool = False
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def check_project(root: Path | str, week: str | None) -> Report:
    """Check the project at `root` for `week` (an ISO week, "latest", or None for this week)."""
    started = time.perf_counter()
    try:
        config = load_config(root)
        provider = get_provider(config)
    except ConfigError as error:
        return Report([config_finding(error)], seconds=time.perf_counter() - started)
    project, findings = gather(config, week, provider, build_time())
    findings += run_rules(project)
    return Report(
        findings=sorted_findings(findings),
        week=project.week,
        files_checked=len(project.texts) + len(project.unloaded - set(project.texts)),
        email_checked=bool(project.emails),
        seconds=time.perf_counter() - started,
    )


def gather(config: Config, week: str | None, provider, now: datetime) -> tuple[Project, list[Finding]]:
    texts, unreadable = read_content_files(config.root)
    content, load_errors = load_what_loads(texts, unreadable, config.audience.stages, config.content.strict)
    findings = [finding_from_error(error, "load") for error in load_errors] + content.warnings
    project = Project(
        config=config,
        week=resolve_week(content, week, config, now),
        texts=texts,
        content=content,
        unloaded={error.path for error in load_errors},
        site=None,
    )
    form = provider.signup_form()
    with tempfile.TemporaryDirectory(prefix="newsletter-check-") as scratch:  # check writes nothing
        store = ImageStore(image_store(config).folder, scratch=Path(scratch))
        prepared = prepare_pictures(config, content, store, strict=False)
    project.pictures = prepared.pictures
    # A picture that does not exist is the links rule's finding (images.missing), with a "did you mean".
    findings += [
        finding_from_error(error, "images.unusable")
        for error in prepared.errors
        if "does not exist" not in error.message
    ]
    try:
        project.site = render_site(content, config, form, now, pictures=prepared.pictures)
    except ContentError as error:
        findings.append(finding_from_error(error, "render.site"))
    findings += signup_findings(config, form)
    findings += welcome_findings(config, content)
    findings += _render_week_email(project, provider)
    return project, findings


LEFT_OUT = {
    "stage": "'Where are you now?' (set [provider] stage_tags, or stage_list_uuids for listmonk, to ask it)",
    "dates": "the due date and birth date (a form posting straight to the provider cannot refuse a date "
    "given without the consent box; the self-hosted form asks them)",
}


def signup_findings(config: Config, form) -> list[Finding]:
    """Once: what the blog's form leaves out because the provider's form cannot take it."""
    if not form.left_out:
        return []
    questions = "; ".join(LEFT_OUT[what] for what in form.left_out)
    return [
        Finding(
            "newsletter.toml",
            1,
            WARNING,
            f"the signup form posts to {config.provider.name}, so it leaves out {questions}",
            "signup.left-out",
        )
    ]


def welcome_findings(config: Config, content) -> list[Finding]:
    """content/welcome.md, the welcome email of `newsletter serve`, loads (when there is one)."""
    try:
        load_welcome(config, content)
    except ContentErrors as errors:
        return [finding_from_error(error, "load") for error in errors.errors]
    return []


def _render_week_email(project: Project, provider) -> list[Finding]:
    """Every version of the week's email, as the build renders it (pipeline/core/stages.py)."""
    try:
        project.issues = assemble_issues(project.content, project.config, project.week)
    except ContentError as error:
        return [finding_from_error(error, "render.email")]
    findings = []
    fields = ConvertedFields(project.config, project.pictures)  # each Markdown field once for all versions
    for issue in project.issues:
        try:
            email = render_email(
                issue,
                project.config,
                provider.unsubscribe_url(),
                project.pictures,
                preferences_url=provider.preferences_url(),
                personal_line=provider.personal_line(),
                fields=fields,
            )
        except ContentError as error:
            findings.append(finding_from_error(error, "render.email"))
            continue
        except PipelineError as error:  # too big for Gmail even with every article as an excerpt
            findings.append(_email_finding(project, issue, f"{error}{version_label(issue)}", "email.size"))
            continue
        size = len(email.html.encode("utf-8"))
        if size > GMAIL_CLIP_BYTES:
            message = (
                f"the {issue.week} email{version_label(issue)} is {size / 1024:.0f} KB of "
                "HTML; Gmail clips emails over "
                f"{GMAIL_CLIP_BYTES // 1024} KB: move an article to another week"
            )
            findings.append(_email_finding(project, issue, message, "email.size"))
        project.emails.append(email)
    return findings


def version_label(issue: Issue) -> str:
    """ " (pregnant version)" for one stage's version of a week, "" for the one email for everyone."""
    return f" ({issue.stage} version)" if issue.stage else ""


def _email_finding(project: Project, issue: Issue, message: str, rule: str) -> Finding:
    """A problem of a whole email, at the week's issue note, else at its first article."""
    note = project.content.issue_notes.get(issue.week)
    where = note.source if note else issue.articles[0].source
    return Finding(where.path, where.line, ERROR, message, rule)


def load_what_loads(
    texts: dict[str, str], unreadable: list[ContentError], stages, strict: bool = False
) -> tuple[Content, list[ContentError]]:
    """The content as the loader sees it, and its errors; on errors, the content without the
    files that have them (repeated, since leaving out a card can break an article that uses it)."""
    try:
        return content_from_texts(texts, unreadable, stages=stages, strict=strict), []
    except ContentErrors as failure:
        errors = failure.errors
    remaining = dict(texts)
    failed = {error.path for error in errors}
    while failed & set(remaining):
        remaining = {path: text for path, text in remaining.items() if path not in failed}
        try:
            return content_from_texts(remaining, stages=stages, strict=strict), errors
        except ContentErrors as again:
            failed = {error.path for error in again.errors}
    return Content(articles=[], exercises={}), errors


def run_rules(project: Project) -> list[Finding]:
    findings: list[Finding] = []
    for rule in CONTENT_RULES:
        findings += _guarded(rule, project.content, project.config)
    for rule in PROJECT_RULES:
        findings += _guarded(rule, project)
    return findings


def _guarded(rule: Callable, *arguments) -> list[Finding]:
    """A rule that meets a ContentError (a template it renders, say) reports it as a finding."""
    try:
        return list(rule(*arguments))
    except ContentErrors as errors:
        return [finding_from_error(error, rule.__module__) for error in errors.errors]
    except ContentError as error:
        return [finding_from_error(error, rule.__module__)]


def finding_from_error(error: ContentError, rule: str) -> Finding:
    return Finding(error.path, error.line, ERROR, error.message, rule)


def config_finding(error: ConfigError) -> Finding:
    message = str(error).removeprefix(f"{CONFIG_FILE}: ")
    return Finding(CONFIG_FILE, 1, ERROR, message, "config")


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    unique = dict.fromkeys(findings)
    return sorted(unique, key=lambda f: (f.path, f.line, f.severity != ERROR, f.message))


def findings_json(findings: list[Finding]) -> str:
    return json.dumps([asdict(finding) for finding in findings], indent=2, ensure_ascii=False) + "\n"


def count_line(report: Report) -> str:
    """ "2 errors, 1 warning in 8 content files and the 2026-W48 email (0.31 s)."""
    errors, warnings = len(report.errors), len(report.warnings)
    parts = [f"{errors} error{'s' * (errors != 1)}"] if errors else []
    parts += [f"{warnings} warning{'s' * (warnings != 1)}"] if warnings else []
    head = ", ".join(parts) or "No problems found"
    checked = f"{report.files_checked} content file{'s' * (report.files_checked != 1)}"
    if report.week and report.email_checked:
        checked += f" and the {report.week} email"
    elif report.week:
        checked += f"; {report.week} has no email"
    return f"{head} in {checked} ({report.seconds:.2f} s)."
