"""Issue -> the weekly email: Jinja2 templates in templates/email/ make MJML, compiled to HTML with
mjml-python, and a plain-text part rendered from the same view of the issue.

Both templates receive the same context (see `_context`): `issue`, `site`, `email`, `subject`,
`preview_text`, `week_label`, `intro`, `articles`, `unsubscribe_url`, `base_url`, `web_url` (this
version's page on the blog, for "View in browser"). Every Markdown
field is a `RenderedField` value with `.html` (for issue.mjml.j2) and `.text` (for email.txt.j2); each
article says whether it is shown whole or as an `excerpt`.

Safety: every exercise card in the email carries its safety note, before the steps. In `excerpt`
mode the email shows no cards at all, only each exercise's name linking to its card in the
article on the blog (safety note, reps, sets and the article's note included): instructions
never reach a reader without their safety note, and an excerpt stays short. An exercise block
without a safety note is refused with a ContentError at the block.

Size: Gmail clips HTML over 102 KB, which would hide the last safety notes and the unsubscribe
link. When the whole week does not fit in SIZE_BUDGET_BYTES, the last articles become excerpts,
one at a time from the end, until it does (`RenderedEmail.excerpted` lists them); a week that
does not fit even as excerpts is refused.

Article HTML never goes through the MJML parser: the templates see a placeholder for each
fragment, swapped for the real HTML after compiling, so a writer's hand-written HTML cannot
break the MJML compile. Styles from `<mj-style inline="inline">` (which mjml-python leaves in a
`<style>` block) are then inlined with css-inline.
"""

from __future__ import annotations

import functools
import hashlib
import re
import traceback
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import css_inline
import jinja2
import mjml
from markupsafe import Markup

from pipeline.core.config import Config
from pipeline.core.errors import ContentError, PipelineError
from pipeline.core.model import Article, CardLink, ExerciseBlock, Issue, RenderedEmail
from pipeline.core.theme import display_path, template_files, template_folders
from pipeline.core.urls import (
    CONTENT_EXERCISES,
    absolute,
    article_path,
    exercise_anchor,
    exercise_path,
    issue_path,
    resolve_content_link,
)
from pipeline.render.images import Pictures, email_size, shown_image_bytes, variant_path
from pipeline.render.markdown import MarkdownRenderer
from pipeline.render.text import html_to_line, wrap_text
from pipeline.render.video import parse_video, thumbnail_path, youtube_id  # noqa: F401  (youtube_id: part of this module's interface)
from pipeline.tools.cache_store import template_bytecode_cache

TEMPLATE_FOLDER = "email"
HTML_TEMPLATE = "issue.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"
GMAIL_CLIP_BYTES = 102 * 1024  # Gmail cuts messages whose HTML is larger than this
SIZE_BUDGET_BYTES = GMAIL_CLIP_BYTES - 12 * 1024  # room for what a provider adds: tracked links, its footer

NO_EQUIPMENT = "No equipment needed"
PREGNANCY_LABELS = {
    "safe": "Suitable at any stage of pregnancy.",
    "modify": "In pregnancy: change it as the safety note says.",
    "avoid": "Not during pregnancy: leave this one until after the birth.",
}


@dataclass(frozen=True)
class RenderedField:
    """One Markdown field, ready for both parts: `.html` for the MJML, `.text` for plain text."""

    html: Markup
    text: str

    def __bool__(self) -> bool:
        return bool(self.text.strip())


EMPTY = RenderedField(Markup(""), "")


@dataclass(frozen=True)
class Video:
    url: str
    thumbnail: str | None  # absolute URL of the PNG the blog build draws (render/video.py); None: a text link only
    host: str = ""  # "YouTube" or "Vimeo", for the thumbnail's alt text


@dataclass(frozen=True)
class CardLinkView:
    """A "do this first" / "ready for more?" link to a card in the blog's exercise library."""

    name: str
    url: str


@dataclass
class ExerciseView:
    kind = "exercise"
    name: str
    blog_url: str  # the card on the article's page, with the article's reps, sets and note
    equipment: str | None
    summary: RenderedField
    benefits: RenderedField
    before: RenderedField
    steps: list[RenderedField]
    tips: list[RenderedField]
    progression: RenderedField
    safety: RenderedField
    pregnancy: str | None
    cautions: list[RenderedField]
    sections: list[tuple[str, RenderedField]]
    level: str | None
    reps: str | None
    sets: str | None
    note: RenderedField
    video: Video | None
    rest: str | None = None
    do_first: list[CardLinkView] = field(default_factory=list)
    next_steps: list[CardLinkView] = field(default_factory=list)

    @property
    def facts(self) -> list[str]:
        """The short facts line: equipment, level, and the article's reps and sets."""
        labelled = [
            ("Equipment", self.equipment),
            ("Level", self.level),
            ("Reps", self.reps),
            ("Sets", self.sets),
            ("Rest", self.rest),
        ]
        return [f"{label}: {value}" for label, value in labelled if value]


@dataclass
class ProseView:
    kind = "prose"
    body: RenderedField


@dataclass
class ArticleView:
    title: str
    url: str
    date_label: str
    summary: RenderedField
    image: str | None
    image_alt: str
    parts: list[ProseView | ExerciseView]
    excerpt: bool  # show the summary and a link to the blog instead of the parts
    exercises: list[ExerciseView] = field(default_factory=list)
    image_width: int | None = None  # px the picture is shown at; None: not a prepared picture


class ConvertedFields:
    """Each Markdown field of a build's emails converted once, HTML and text: the stage versions
    of a week share most of their articles, and a render with excerpts shares them all. One per
    build (the fields of a week's articles: a few hundred kilobytes at most)."""

    def __init__(self, config: Config, pictures: Pictures | None = None):
        self.base_url = config.base_url
        self.pictures = pictures
        self.markdown = MarkdownRenderer(
            config.base_url, absolute=True, sanitise=True, pictures=pictures or {}, for_email=True
        )
        self._fields: dict[tuple[str, str, bool], tuple[str, str]] = {}

    def serves(self, config: Config, pictures: Pictures | None) -> bool:
        return config.base_url == self.base_url and pictures is self.pictures

    def field(self, markdown: str, source_path: str, inline: bool) -> tuple[str, str]:
        """The HTML and plain text of one field; `inline`: a one-paragraph snippet, without its <p>."""
        key = (markdown, source_path, inline)
        converted = self._fields.get(key)
        if converted is None:
            convert = self.markdown.inline_with_text if inline else self.markdown.convert_with_text
            converted = self._fields[key] = convert(markdown, source_path)
        return converted


def render_email(
    issue: Issue,
    config: Config,
    unsubscribe_url: str,
    pictures: Pictures | None = None,
    preferences_url: str | None = None,
    personal_line: str | None = None,
    fields: ConvertedFields | None = None,
) -> RenderedEmail:
    """`pictures`: the resized variants of the pictures shown (pipeline/build/images.py); the
    email shows each picture's email variant, and `RenderedEmail.image_bytes` is their weight.
    `preferences_url`: her preferences page (None: the provider has its own); `personal_line`:
    the placeholder a sender fills in per reader, or None for no such line. `fields`: the
    build's converted Markdown fields, shared by every email it renders (None: this email's own)."""
    if fields is None or not fields.serves(config, pictures):
        fields = ConvertedFields(config, pictures)
    fragments = _Fragments()
    context = _context(issue, config, unsubscribe_url, fragments, fields)  # every Markdown field converted once
    context["preferences_url"] = preferences_url
    context["personal_line"] = personal_line

    def render(first_excerpt: int) -> RenderedEmail:
        return _render_email(issue, config, context, fragments, first_excerpt, pictures or {})

    full = config.email.content == "full"
    email = render(len(issue.articles) if full else 0)
    if _fits(email):
        return email
    all_excerpts = render(0) if full else email
    if not _fits(all_excerpts):
        raise PipelineError(
            f"the email for {issue.week} is {_kilobytes(all_excerpts)} KB even with every article as an excerpt; "
            f"Gmail clips emails over {GMAIL_CLIP_BYTES // 1024} KB: move some articles to another week"
        )
    for first_excerpt in range(len(issue.articles) - 1, 0, -1):
        email = render(first_excerpt)
        if _fits(email):
            return email
    return all_excerpts


def _fits(email: RenderedEmail) -> bool:
    return len(email.html.encode("utf-8")) <= SIZE_BUDGET_BYTES


def _kilobytes(email: RenderedEmail) -> int:
    return round(len(email.html.encode("utf-8")) / 1024)


def _render_email(
    issue: Issue, config: Config, context: dict, fragments: _Fragments, first_excerpt: int, pictures: Pictures
) -> RenderedEmail:
    """The email with articles from index `first_excerpt` on shown as excerpts."""
    articles = [replace(view, excerpt=index >= first_excerpt) for index, view in enumerate(context["articles"])]
    context = {**context, "articles": articles}
    templates = _environment(config)
    mjml_source, inline_css = _split_inline_css(_render(templates, HTML_TEMPLATE, context, config))
    # The templates' indentation is kilobytes of the size budget; a newline keeps words apart.
    mjml_source = re.sub(r"\n[ \t]+", "\n", mjml_source)
    html = _inline_css(fragments.fill(_compile(mjml_source, config)), inline_css)
    text = wrap_text(_render(templates, TEXT_TEMPLATE, context, config))
    if config.email.utm:
        unsubscribe = context["unsubscribe_url"]
        html = with_utm(html, config.base_url, issue.week, True, unsubscribe)
        text = with_utm(text, config.base_url, issue.week, False, unsubscribe)
    subject, preview = context["subject"], context["preview_text"]
    excerpted = [] if config.email.content == "excerpt" else [a.slug for a in issue.articles[first_excerpt:]]
    return RenderedEmail(
        issue=issue,
        subject=subject,
        preview_text=preview,
        html=html,
        text=text,
        content_hash=content_hash(subject, preview, html, text),
        excerpted=excerpted,
        image_bytes=shown_image_bytes(html, pictures),
    )


def with_utm(document: str, base_url: str, week: str, html: bool, unsubscribe_url: str = "") -> str:
    """Every link to the blog in `document` with UTM parameters naming the newsletter, the email and
    the week ([email] utm = true); pictures and the unsubscribe link keep their plain address.
    Web copies never get them."""
    site = re.escape(base_url.rstrip("/") + "/")
    pattern = re.compile(rf"(?<![\w/]){site}[^\s\"'<>)]*")
    ampersand = "&amp;" if html else "&"
    tags = ampersand.join(("utm_source=newsletter", "utm_medium=email", f"utm_campaign={week}"))

    def tagged(match: re.Match) -> str:
        url = match.group(0)
        if "/media/" in url or "utm_" in url or (unsubscribe_url and url.startswith(unsubscribe_url)):
            return url
        head, hash_mark, fragment = url.partition("#")
        return f"{head}{ampersand if '?' in head else '?'}{tags}{hash_mark}{fragment}"

    return pattern.sub(tagged, document)


def content_hash(subject: str, preview_text: str, html: str, text: str) -> str:
    digest = hashlib.sha256()
    for part in (subject, preview_text, html, text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")  # keeps ("ab", "c") and ("a", "bc") apart
    return digest.hexdigest()


# --- the view the templates see -------------------------------------------------------------


class _Fragments:
    """Article HTML kept out of the MJML: a placeholder in the template, the HTML after compiling."""

    def __init__(self):
        self._html: list[str] = []

    def add(self, html: str) -> Markup:
        self._html.append(html)
        return Markup(f"%%newsletter-fragment-{len(self._html) - 1}%%")

    def fill(self, compiled: str) -> str:
        return re.sub(r"%%newsletter-fragment-(\d+)%%", lambda m: self._html[int(m.group(1))], compiled)


class _Writer:
    """Turns the model's Markdown into `RenderedField` values with absolute links."""

    def __init__(self, config: Config, fragments: _Fragments, fields: ConvertedFields):
        self.config = config
        self.fields = fields
        self.markdown = fields.markdown
        self.fragments = fragments
        self.pictures = fields.pictures or {}

    def block(self, markdown: str, source_path: str) -> RenderedField:
        if not markdown.strip():
            return EMPTY
        html, text = self.fields.field(markdown, source_path, inline=False)
        return RenderedField(self.fragments.add(html), text)

    def inline(self, markdown: str, source_path: str) -> RenderedField:
        if not markdown.strip():
            return EMPTY
        html, text = self.fields.field(markdown, source_path, inline=True)
        return RenderedField(self.fragments.add(html), text)

    def url(self, href: str, source_path: str) -> str:
        return self.markdown.url_for(href, source_path)

    def picture(self, href: str, source_path: str) -> tuple[str, int | None]:
        """A front-matter picture: the URL of its email variant and the width it is shown at."""
        prepared = self.pictures.get(resolve_content_link(href, source_path) or "")
        if prepared is None:
            return self.url(href, source_path), None
        return absolute(self.config.base_url, variant_path(prepared.email)), email_size(prepared)[0]


def _context(
    issue: Issue, config: Config, unsubscribe_url: str, fragments: _Fragments, fields: ConvertedFields
) -> dict:
    """What both templates see; each article is shown whole until _render_email says otherwise."""
    writer = _Writer(config, fragments, fields)
    intro_path = f"content/issues/{issue.week}.md"
    return {
        "issue": issue,
        "site": config.site,
        "email": config.email,
        "base_url": config.base_url,
        "subject": " ".join(issue.subject.split()),
        "preview_text": html_to_line(writer.markdown.convert(issue.preview_text)),
        "week_label": issue.label or f"Week of {_long_date(issue.monday)}",
        "intro": writer.block(issue.intro, intro_path),
        "articles": [
            _article_view(article, writer, excerpt=False, on_blog=issue.on_blog) for article in issue.articles
        ],
        "unsubscribe_url": unsubscribe_url,
        "web_url": absolute(config.base_url, issue_path(issue.week, issue.stage)),  # this version's page on the blog
    }


def _article_view(article: Article, writer: _Writer, excerpt: bool, on_blog: bool = True) -> ArticleView:
    path = article.source.path
    url = absolute(writer.config.base_url, article_path(article.slug)) if on_blog else writer.config.base_url
    seen: Counter[str] = Counter()
    parts: list[ProseView | ExerciseView] = []
    for part in article.parts:
        if isinstance(part, ExerciseBlock):
            seen[part.slug] += 1
            parts.append(
                _exercise_view(part, f"{url}#{exercise_anchor(part.slug, seen[part.slug])}", writer, article.slug)
            )
        else:
            parts.append(ProseView(writer.block(part.markdown, path)))
    image, image_width = writer.picture(article.image, path) if article.image else (None, None)
    return ArticleView(
        title=article.title,
        url=url,
        date_label=_long_date(article.date),
        summary=writer.block(article.summary, path),
        image=image,
        image_width=image_width,
        image_alt=article.image_alt or "",
        parts=parts,
        excerpt=excerpt,
        exercises=[part for part in parts if isinstance(part, ExerciseView)],
    )


def _exercise_view(block: ExerciseBlock, blog_url: str, writer: _Writer, article_slug: str) -> ExerciseView:
    if not block.safety.strip():
        raise ContentError(
            block.source.path,
            block.source.line,
            f"exercise '{block.name}' has no safety note; add a '### Safety' section before it can go in an email",
        )
    # A library card's text was written in content/exercises/<ref>.md; its links resolve from there.
    path = f"{CONTENT_EXERCISES}{block.ref}.md" if block.ref else block.source.path
    return ExerciseView(
        name=block.name,
        blog_url=blog_url,
        equipment=None if block.equipment is None else (", ".join(block.equipment) or NO_EQUIPMENT),
        summary=writer.block(block.summary, path),
        benefits=writer.block(block.benefits, path),
        before=writer.block(block.before, path),
        steps=[writer.inline(step, path) for step in block.steps],
        tips=[writer.inline(tip, path) for tip in block.tips],
        progression=writer.block(block.progression, path),
        safety=writer.block(block.safety, path),
        pregnancy=PREGNANCY_LABELS.get(block.pregnancy or ""),
        cautions=[writer.inline(caution, path) for caution in block.cautions],
        sections=[
            (section.title, writer.block(section.markdown, section.source.path)) for section in block.other_sections
        ],
        level=block.level,
        reps=block.reps,
        sets=block.sets,
        note=writer.inline(block.note or "", block.source.path),
        video=_video(block, writer, article_slug) if block.video else None,
        rest=block.rest,
        do_first=[_card_link(link, writer) for link in block.prerequisites],
        next_steps=[_card_link(link, writer) for link in block.progresses_to],
    )


def _video(block: ExerciseBlock, writer: _Writer, article_slug: str) -> Video:
    """A YouTube or Vimeo video shows the thumbnail the blog build draws (never the host's own
    picture: no request to the host, and the same image every build); others a text link."""
    link = parse_video(block.video)
    if link is None:
        return Video(url=block.video, thumbnail=None)
    thumbnail = absolute(writer.config.base_url, thumbnail_path(block, article_slug))
    return Video(url=block.video, thumbnail=thumbnail, host=link.provider_name)


def _card_link(link: CardLink, writer: _Writer) -> CardLinkView:
    return CardLinkView(name=link.name or link.slug, url=absolute(writer.config.base_url, exercise_path(link.slug)))


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- templates, MJML and styles -------------------------------------------------------------


def _environment(config: Config) -> jinja2.Environment:
    return _environment_for(tuple(template_folders(config, TEMPLATE_FOLDER)), config.state_dir)


@functools.lru_cache(maxsize=8)
def _environment_for(folders: tuple[Path, ...], state_dir: Path) -> jinja2.Environment:
    """One environment per set of template folders (the project's, then the packaged ones), so
    templates compile once (edits still reload), and stay compiled between builds in the build cache."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        bytecode_cache=template_bytecode_cache(state_dir),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name) and name.endswith(".mjml.j2"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(environment: jinja2.Environment, name: str, context: dict, config: Config) -> str:
    try:
        return environment.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        path = _project_path(exc.filename, config) if exc.filename else _template_path(name)
        raise ContentError(
            path, exc.lineno, f"template syntax error: {exc.message}; fix the Jinja tag on this line"
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise ContentError(
            _template_path(exc.name or name),
            1,
            "template not found in templates/email/ or the packaged templates; fix the name that includes it",
        ) from exc
    except (jinja2.TemplateError, TypeError, ValueError, AttributeError) as exc:
        path, line = _failing_template_line(exc, config) or (_template_path(name), 1)
        variables = ", ".join(sorted(context))
        raise ContentError(
            path, line, f"{exc}; the email templates can use: {variables} (see pipeline/render/email.py)"
        ) from exc


def _failing_template_line(exc: BaseException, config: Config) -> tuple[str, int] | None:
    """The innermost template line in the traceback (Jinja maps its frames onto the .j2 files)."""
    folders = [folder.resolve() for folder in template_folders(config, TEMPLATE_FOLDER)]
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2") and any(Path(frame.filename).resolve().is_relative_to(f) for f in folders):
            return _project_path(frame.filename, config), frame.lineno or 1
    return None


def _template_path(name: str) -> str:
    return f"templates/{TEMPLATE_FOLDER}/{name}"


def _project_path(filename: str, config: Config) -> str:
    return display_path(filename, config)


def _compile(mjml_source: str, config: Config) -> str:
    try:
        html = mjml.mjml2html(mjml_source, disable_comments=True)
    except Exception as exc:  # mjml-python raises ValueError; whatever it raises, the template is to blame
        path, line, problem = _mjml_problem(config) or (
            _template_path(HTML_TEMPLATE),
            1,
            f"near line {_mjml_error_line(str(exc), mjml_source)} of the MJML it "
            "renders; check that every tag there is closed",
        )
        raise ContentError(path, line, f"the MJML does not compile ({exc}): {problem}") from exc
    unknown = re.search(r"<(mj-[a-z-]+)", html)  # mjml-python passes unknown elements through
    if unknown:
        path, line = _first_mention(config, f"<{unknown.group(1)}") or (_template_path(HTML_TEMPLATE), 1)
        raise ContentError(
            path, line, f"MJML has no element <{unknown.group(1)}>; check its spelling (e.g. <mj-text>, <mj-section>)"
        )
    return html


_MJ_TAG = re.compile(r"<(/?)(mjml|mj-[a-z-]+)\b[^>]*?(/?)>")
_JINJA_CODE = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)


def _email_templates(config: Config) -> list[Path]:
    files = template_files(config, TEMPLATE_FOLDER, pattern="*.mjml.j2")
    return [path for name, path in sorted(files.items(), key=lambda item: (item[0] != HTML_TEMPLATE, item[0]))]


def _mjml_problem(config: Config) -> tuple[str, int, str] | None:
    """The first <mj-...> tag left open or closed out of order, in any email template file."""
    for path in _email_templates(config):
        problem = _unbalanced_mj_tag(path.read_text(encoding="utf-8"))
        if problem:
            return (_project_path(str(path), config), *problem)
    return None


def _unbalanced_mj_tag(template_source: str) -> tuple[int, str] | None:
    # Blank out Jinja code (keeping its newlines) so only the literal MJML is checked.
    source = _JINJA_CODE.sub(lambda m: "\n" * m.group().count("\n"), template_source)
    open_tags: list[tuple[str, int]] = []
    for match in _MJ_TAG.finditer(source):
        closing, name, self_closing = match.groups()
        line = source.count("\n", 0, match.start()) + 1
        if self_closing:
            continue
        if not closing:
            open_tags.append((name, line))
        elif not open_tags or open_tags[-1][0] != name:
            opened = (
                f"<{open_tags[-1][0]}> from line {open_tags[-1][1]} is still open" if open_tags else "nothing is open"
            )
            return line, f"</{name}> closes a tag that is not open ({opened}); close tags in the order they were opened"
        else:
            open_tags.pop()
    if open_tags:
        name, line = open_tags[-1]
        return line, f"<{name}> is never closed; add </{name}>"
    return None


def _first_mention(config: Config, text: str) -> tuple[str, int] | None:
    for path in _email_templates(config):
        source = path.read_text(encoding="utf-8")
        if text in source:
            return _project_path(str(path), config), source.count("\n", 0, source.index(text)) + 1
    return None


def _mjml_error_line(message: str, mjml_source: str) -> int:
    """mjml-python reports `position START:END` in the MJML it was given."""
    match = re.search(r"position (\d+)", message)
    return mjml_source.count("\n", 0, int(match.group(1))) + 1 if match else 1


_INLINE_STYLE = re.compile(r"<mj-style\s+inline=\"inline\"\s*>(.*?)</mj-style>", re.DOTALL)


def _split_inline_css(mjml_source: str) -> tuple[str, str]:
    """Take out <mj-style inline="inline"> blocks: mjml-python would only copy them to <style>."""
    css = "\n".join(_INLINE_STYLE.findall(mjml_source))
    return _INLINE_STYLE.sub("", mjml_source), css


def _inline_css(html: str, css: str) -> str:
    if not css.strip():
        return html
    inliner = css_inline.CSSInliner(
        inline_style_tags=False, keep_style_tags=True, load_remote_stylesheets=False, minify_css=True, extra_css=css
    )
    return inliner.inline(html)
