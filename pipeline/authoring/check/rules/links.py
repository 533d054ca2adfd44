"""Link rules: every link and picture in the content leads somewhere that exists on the blog.

A link is followed the way the blog follows it (`urls.resolve_content_link`), then looked up in
the blog that check rendered in memory, anchors included: what is reported here is exactly what
would be broken on the site and in the email. `http://` addresses are warnings.
"""

from __future__ import annotations

import difflib
import posixpath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pipeline.authoring.check.documents import Link
from pipeline.content.fields import suggestion
from pipeline.content.frontmatter import key_lines
from pipeline.core.model import Finding
from pipeline.core.paths import resolves_inside
from pipeline.core.urls import (
    CONTENT_ARTICLES,
    CONTENT_EXERCISES,
    article_path,
    exercise_path,
    resolve_content_link,
    tag_slug,
)

if TYPE_CHECKING:
    from pipeline.authoring.check.project import Project

NOT_PAGES = ("mailto:", "tel:", "data:")


def link_findings(project: Project) -> list[Finding]:
    findings: list[Finding] = []
    for path, document in project.documents.items():
        page = _page_showing(project, path)
        for link in document.links:
            findings += _link_problems(project, path, page, link)
        for image in document.images:
            findings += _image_problems(project, path, image)
        findings += [_http_warning(path, link) for link in document.bare_http]
    findings += _front_matter_image_problems(project)
    return findings


def _page_showing(project: Project, path: str) -> str | None:
    """The built page that shows this file's text, for its `#anchor` links (None: no page)."""
    article = project.articles_by_path.get(path)
    if article is not None:
        return None if article.draft else project.site_file(article_path(article.slug))
    exercise = project.exercises_by_path.get(path)
    return project.site_file(exercise_path(exercise.slug)) if exercise else None


# ---------------------------------------------------------------- links


def _link_problems(project: Project, source: str, page: str | None, link: Link) -> list[Finding]:
    href = link.href.strip()
    if not href:
        return [
            _error(
                source,
                link,
                f"the link '{link.text}' has no address: write it like "
                f"[{link.text or 'text'}](../articles/some-article.md)",
                "links.empty",
            )
        ]
    parts = urlsplit(href)
    if parts.scheme == "http":
        return [_http_warning(source, link)]
    if parts.scheme or parts.netloc or href.lower().startswith(NOT_PAGES):
        return []  # an address on another site: not checked offline
    fragment = unquote(parts.fragment)
    if not parts.path:
        return _anchor_problems(project, source, link, page, fragment, "this page") if page else []
    if parts.path.endswith(".md"):
        target = posixpath.normpath(posixpath.join(posixpath.dirname(source), unquote(parts.path)))
        return _content_file_problems(project, source, link, target, fragment)
    site_path = unquote(resolve_content_link(href, source).partition("#")[0])
    site_file = project.site_file(site_path)
    if site_file is None:
        return _missing_page(project, source, link, site_path)
    return _anchor_problems(project, source, link, site_file, fragment, site_path or "the home page")


def _content_file_problems(project: Project, source: str, link: Link, target: str, fragment: str) -> list[Finding]:
    """A link written to another content file, `../exercises/piriformis-stretch.md`."""
    if target in project.unloaded:
        return []  # that file's own errors are reported
    article = project.articles_by_path.get(target)
    exercise = project.exercises_by_path.get(target)
    if article is not None:
        source_article = project.articles_by_path.get(source)
        if article.draft and not (source_article and source_article.draft):
            return [
                _error(
                    source,
                    link,
                    f"links to the draft {target}, which is not on the blog: publish it "
                    "(draft: false) or remove the link",
                    "links.draft",
                )
            ]
        stem = posixpath.basename(target)[:-3]
        if article.slug != stem:
            return [
                _error(
                    source,
                    link,
                    f"links to {target}, but that article sets 'slug: {article.slug}': a link to the file leads to "
                    f"articles/{stem}/, which does not exist; remove 'slug' from {target} or "
                    f"link to /articles/{article.slug}/",
                    "links.slug-mismatch",
                )
            ]
        page = project.site_file(article_path(article.slug))
        return _anchor_problems(project, source, link, page, fragment, target) if page else []
    if exercise is not None:
        page = project.site_file(exercise_path(exercise.slug))
        return _anchor_problems(project, source, link, page, fragment, target) if page else []
    if target in project.texts:
        return [
            _error(
                source,
                link,
                f"links to {target}, which has no page on the blog: link to an article or an exercise card",
                "links.no-page",
            )
        ]
    return [_missing_content_file(project, source, link, target)]


def _missing_content_file(project: Project, source: str, link: Link, target: str) -> Finding:
    for folder, what, rule in (
        (CONTENT_ARTICLES, "article", "links.unknown-article"),
        (CONTENT_EXERCISES, "exercise card", "links.unknown-exercise"),
    ):
        if target.startswith(folder):
            stems = {posixpath.basename(path)[:-3]: path for path in project.texts if path.startswith(folder)}
            closest = _closest(posixpath.basename(target)[:-3], stems)
            hint = f": did you mean {stems[closest]}?" if closest else ""
            return _error(source, link, f"links to the {what} {target}, which does not exist{hint}", rule)
    return _error(
        source,
        link,
        f"links to {target}, which is not an article or an exercise card: link to "
        f"a file in {CONTENT_ARTICLES} or {CONTENT_EXERCISES}",
        "links.unknown-file",
    )


def _missing_page(project: Project, source: str, link: Link, site_path: str) -> list[Finding]:
    if project.site is None:
        return []  # the blog did not render; that error is reported
    folder, _, rest = site_path.partition("/")
    name = rest.strip("/")
    if folder == "tags" and name:
        if any(path.startswith(CONTENT_ARTICLES) for path in project.unloaded):
            return []  # the tag may belong to an article that did not load
        tags = {tag_slug(tag) for article in project.content.published_articles() for tag in article.tags}
        hint = suggestion(name, tags) or f" (tags in use: {', '.join(sorted(tags)) or 'none'})"
        return [
            _error(
                source,
                link,
                f"links to the tag page {site_path}, but no published article has that tag{hint}",
                "links.unknown-tag",
            )
        ]
    if folder == "articles" and name:
        slugs = {article.slug for article in project.content.published_articles()}
        hint = suggestion(name, slugs) or ""
        return [
            _error(
                source,
                link,
                f"links to {site_path}, but there is no published article '{name}'{hint}",
                "links.unknown-article",
            )
        ]
    if folder == "exercises" and name:
        hint = suggestion(name, project.content.exercises) or ""
        return [
            _error(
                source,
                link,
                f"links to {site_path}, but there is no exercise card '{name}'{hint}",
                "links.unknown-exercise",
            )
        ]
    return [
        _error(
            source,
            link,
            f"links to '{link.href}', which is not on the blog (no page or file "
            f"{site_path or '/'}); links are relative to this file",
            "links.unknown-page",
        )
    ]


def _anchor_problems(
    project: Project, source: str, link: Link, site_file: str, fragment: str, where: str
) -> list[Finding]:
    if not fragment:
        return []
    ids = project.page_ids(site_file)
    if fragment in ids:
        return []
    closest = _closest(fragment, ids)
    hint = f": did you mean #{closest}?" if closest else ""
    exercises = sorted(i for i in ids if i.startswith("exercise-"))
    if not hint and exercises:
        hint = f" (its exercise anchors: {', '.join('#' + i for i in exercises)})"
    return [_error(source, link, f"'#{fragment}' is not an anchor on {where}{hint}", "links.unknown-anchor")]


# ---------------------------------------------------------------- pictures


def _image_problems(project: Project, source: str, image: Link) -> list[Finding]:
    findings = []
    if not image.text and not image.decorative:
        findings.append(
            _error(
                source,
                image,
                f"the picture '{image.href}' has no alt text: describe what it shows for readers who cannot see it, "
                "like ![A woman kneeling on a mat](…), or mark a purely decorative one ![](…){: .decorative}",
                "images.no-alt",
            )
        )
    return findings + _picture_file_problems(project, source, image.href, image.line)


def _picture_file_problems(project: Project, source: str, src: str, line: int) -> list[Finding]:
    src = src.strip()
    parts = urlsplit(src)
    if parts.scheme == "http":
        return [_http_warning(source, Link(src, "", line))]
    if parts.scheme or parts.netloc:
        return []
    site_path = unquote((resolve_content_link(src, source) or "").partition("#")[0])
    picture = project.config.content_dir / site_path
    if picture.is_file() and resolves_inside(picture, project.config.content_dir):
        return []
    if project.site is not None and site_path in project.site and not site_path.startswith(".."):
        return []
    media = [path for path in (project.site or {}) if not path.endswith((".html", ".xml", ".txt"))]
    closest = _closest(site_path, media)
    hint = f": did you mean content/{closest}?" if closest else ""
    return [
        Finding(
            source,
            line,
            "error",
            f"the picture '{src}' does not exist: there is no "
            f"content/{site_path}{hint} (paths are relative to this file)",
            "images.missing",
        )
    ]


def _front_matter_image_problems(project: Project) -> list[Finding]:
    findings = []
    for path, article in project.articles_by_path.items():
        if article.image:
            line = key_lines(project.texts[path], path).get("image", 1)
            findings += _picture_file_problems(project, path, article.image, line)
    return findings


# ---------------------------------------------------------------- helpers


def _closest(word: str, choices) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def _http_warning(source: str, link: Link) -> Finding:
    secure = "https://" + link.href.strip()[len("http://") :]
    return Finding(
        source,
        link.line,
        "warning",
        f"'{link.href}' is an http:// address: use {secure} if the site has it (browsers and mail apps warn about http://)",
        "links.http",
    )


def _error(source: str, link: Link, message: str, rule: str) -> Finding:
    return Finding(source, link.line, "error", message, rule)
