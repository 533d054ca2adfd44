"""Rules for the week's email as the build renders it: an empty week, a subject or preview text
that inboxes cut off, articles cut to excerpts to stay under Gmail's clipping limit.

The size error itself (HTML over 102 KB) comes from rendering, in pipeline/authoring/check/runner.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.content.frontmatter import key_lines
from pipeline.core.model import Finding, RenderedEmail
from pipeline.core.urls import CONTENT_ARTICLES
from pipeline.core.weeks import week_days
from pipeline.render.email import GMAIL_CLIP_BYTES

if TYPE_CHECKING:
    from pipeline.authoring.check.project import Project

SUBJECT_LIMIT = 60  # characters most inboxes show of a subject
IMAGES_LIMIT_BYTES = 1024 * 1024  # pictures of one email together: more is slow on mobile data
NEAR_CLIP_BYTES = 80 * 1024  # HTML this close to Gmail's clip: a provider's tracked links and footer may push it over
PREVIEW_TEXT_LIMIT = 140  # characters inboxes show of the preview text at most


def email_findings(project: Project) -> list[Finding]:
    if not project.issues:
        if any(path.startswith(CONTENT_ARTICLES) for path in project.unloaded):
            return []  # an article that did not load may be this week's
        return [empty_week_finding(project)]
    findings = []
    for email in project.emails:  # versions that did not render are reported as errors already
        findings += [
            *subject_findings(project, email),
            *preview_text_findings(project, email),
            *excerpt_findings(email),
            *weight_findings(project, email),
        ]
    return findings


def empty_week_finding(project: Project) -> Finding:
    monday, sunday = week_days(project.week)
    note = project.content.issue_notes.get(project.week)
    path = note.source.path if note else "content/articles"
    return Finding(
        path,
        1,
        "warning",
        f"the {project.week} email is empty: no article dated {monday.isoformat()} to {sunday.isoformat()} is ready "
        "to send (drafts and 'newsletter: false' are left out); date an article "
        "in that week, or check another with --week",
        "email.empty-week",
    )


def subject_findings(project: Project, email: RenderedEmail) -> list[Finding]:
    subject = email.subject
    if len(subject) <= SUBJECT_LIMIT:
        return []
    note = project.content.issue_notes.get(email.issue.week)
    if note and note.subject:
        path, key = note.source.path, "subject"
    else:
        path, key = email.issue.articles[0].source.path, "title"
    return [
        Finding(
            path,
            _line_of(project, path, key),
            "warning",
            f"the email subject is {len(subject)} characters long: inboxes show about {SUBJECT_LIMIT}, so its end "
            "would be cut off; shorten it",
            "email.subject-length",
        )
    ]


def preview_text_findings(project: Project, email: RenderedEmail) -> list[Finding]:
    preview = email.preview_text
    if len(preview) <= PREVIEW_TEXT_LIMIT:
        return []
    first = email.issue.articles[0]
    return [
        Finding(
            first.source.path,
            _line_of(project, first.source.path, "summary"),
            "warning",
            f"this summary is the {email.issue.week} email's preview text and is "
            f"{len(preview)} characters long: inboxes show "
            f"at most {PREVIEW_TEXT_LIMIT}; shorten it to one sentence",
            "email.preview-text-length",
        )
    ]


def excerpt_findings(email: RenderedEmail) -> list[Finding]:
    by_slug = {article.slug: article for article in email.issue.articles}
    version = f" ({email.issue.stage} version)" if email.issue.stage else ""
    findings = []
    for slug in email.excerpted:
        article = by_slug[slug]
        findings.append(
            Finding(
                article.source.path,
                1,
                "warning",
                f"'{article.title}' goes out as an excerpt (summary and a link to the "
                f"blog): the {email.issue.week} email{version} is "
                f"too long for Gmail's {GMAIL_CLIP_BYTES // 1024} KB limit in full; move "
                "an article to another week to send it whole",
                "email.excerpted",
            )
        )
    return findings


def weight_findings(project: Project, email: RenderedEmail) -> list[Finding]:
    """Warnings about what the email weighs: its pictures together, its HTML near the clip."""
    note = project.content.issue_notes.get(email.issue.week)
    where = note.source if note else email.issue.articles[0].source
    version = f" ({email.issue.stage} version)" if email.issue.stage else ""
    findings = []
    if email.image_bytes > IMAGES_LIMIT_BYTES:
        findings.append(
            Finding(
                where.path,
                where.line,
                "warning",
                f"the pictures of the {email.issue.week} email{version} weigh {email.image_bytes / 1024:.0f} KB "
                f"together, over {IMAGES_LIMIT_BYTES // 1024} KB: slow to open on mobile data; show fewer "
                "pictures or move an article to another week",
                "email.images-weight",
            )
        )
    size = len(email.html.encode("utf-8"))
    if NEAR_CLIP_BYTES < size <= GMAIL_CLIP_BYTES:
        findings.append(
            Finding(
                where.path,
                where.line,
                "warning",
                f"the {email.issue.week} email{version} is {size / 1024:.0f} KB of HTML, near Gmail's "
                f"{GMAIL_CLIP_BYTES // 1024} KB clip (a provider's tracked links and footer add more): move an "
                'article to another week or set [email] content = "excerpt"',
                "email.near-clip",
            )
        )
    return findings


def _line_of(project: Project, path: str, key: str) -> int:
    return key_lines(project.texts[path], path).get(key, 1)


def quick_warnings(email: RenderedEmail) -> list[str]:
    """What `newsletter build` warns about the email it built: nothing here costs extra work."""
    warnings = []
    if len(email.subject) > SUBJECT_LIMIT:
        warnings.append(f"the subject is {len(email.subject)} characters long; inboxes show about {SUBJECT_LIMIT}")
    if len(email.preview_text) > PREVIEW_TEXT_LIMIT:
        warnings.append(
            "the preview text (the first article's summary) is "
            f"{len(email.preview_text)} characters long; inboxes show at most "
            f"{PREVIEW_TEXT_LIMIT}"
        )
    if email.excerpted:
        warnings.append(f"Shortened to excerpts so Gmail does not clip the email: {', '.join(email.excerpted)}")
    return warnings
