"""Content -> every file of the static blog: pages, Atom feed, sitemap, robots.txt and assets.

Pure: returns {path under dist/site/: bytes, or a Path meaning "copy this file"}; the writer puts
them on disk. Links between pages are relative ("../../articles/x/") so the site works from any
base path and from disk; canonical, OpenGraph, feed and sitemap URLs are absolute. The one
exception is 404.html: servers show it at whatever depth the missing URL had, so its links are
absolute.

Drafts never appear anywhere: everything below works from `content.published_articles()`.
"""

from __future__ import annotations

import dataclasses
import html
import math
import os
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, tostring

import jinja2
from markupsafe import Markup

from pipeline.content.frontmatter import key_lines
from pipeline.content.progressions import prerequisite_chain
from pipeline.core import urls
from pipeline.core.config import Config
from pipeline.core.errors import ContentError, ContentErrors
from pipeline.core.model import (
    Article,
    Content,
    Exercise,
    ExerciseBlock,
    Prose,
    RenderedEmail,
    SignupForm,
    Source,
    WebCopy,
)
from pipeline.core.paths import outside_project_message, resolves_inside
from pipeline.core.privacy import consent_text, privacy_paragraphs
from pipeline.core.stages import GENERAL_STAGE
from pipeline.core.theme import display_path, template_file, template_files, template_folders
from pipeline.render import jsonld, video
from pipeline.render.feed import (
    FEED_PATH,
    FEED_SIZE,
    IssueEntry,
    article_author,
    article_updated,
    feed_xml,
    issues_feed_xml,
)
from pipeline.render.images import Pictures, variant_path
from pipeline.render.markdown import MarkdownRenderer
from pipeline.render.video import VideoLink, parse_video
from pipeline.tools.cache_store import PageCache, ResultStore, template_bytecode_cache
from pipeline.tools.fingerprint import code_fingerprint, digest, tree_digest
from pipeline.tools.parallel import parallel_map
from pipeline.tools.progress import track

TEMPLATE_FOLDER = "site"
STATIC_FOLDER = "static"
SITEMAP_PATH = "sitemap.xml"
NOT_FOUND_PATH = "404.html"
PREGNANCY_LABELS = {"safe": "Suitable in pregnancy", "modify": "Modify in pregnancy", "avoid": "Avoid in pregnancy"}
ISSUES_FEED_PATH = urls.ISSUES_FEED_PATH
VIDEO_SCRIPT = "static/video.js"  # swaps a video's thumbnail for the player when the reader presses play


@dataclass(frozen=True)
class VideoPlayer:
    link: VideoLink
    thumbnail: str  # site path of the PNG drawn by render/video.py


@dataclass
class Tag:
    name: str  # as first written by the writer
    path: str
    articles: list[Article] = field(default_factory=list)


@dataclass
class Page:
    """One HTML page: where it lives, which template draws it and what the <head> says about it."""

    path: str  # site path as linked: "" (home), "articles/x/"
    template: str
    title: str
    description: str
    lastmod: date
    context: dict = field(default_factory=dict)
    file: str = ""  # output file; default path + "index.html"
    nav: str = ""  # the main-menu entry this page belongs to
    og_type: str = "website"
    image: str | None = None  # absolute URL, for OpenGraph / Twitter
    image_alt: str = ""
    jsonld: list[Markup] = field(default_factory=list)
    in_sitemap: bool = True
    scripts: list[str] = field(default_factory=list)  # site paths of scripts the page loads (deferred)

    def __post_init__(self) -> None:
        self.file = self.file or self.path + "index.html"


class _PageLinks:
    """URL and Markdown helpers for one page, given the prefix from the page to the site root."""

    def __init__(self, root: str, renderer: MarkdownRenderer):
        self.root = root
        self.renderer = renderer

    def url(self, site_path: str) -> str:
        return (self.root + site_path) or "./"

    def asset(self, href: str, source: Source) -> str:
        """A link written in a content file (an article's image, say), as seen from this page."""
        site_path = urls.resolve_content_link(href, source.path)
        return href if site_path is None else self.url(site_path)

    def markdown(self, text: str, source: Source) -> Markup:
        return Markup(self.renderer.convert(text, source.path))

    def picture(self, href: str, source: Source, alt: str) -> Markup:
        """A picture named in front matter: its resized variants when the build prepared them."""
        site_path = urls.resolve_content_link(href, source.path)
        prepared = self.renderer.pictures.get(site_path) if site_path else None
        if prepared is None:
            return Markup('<img src="{}" alt="{}">').format(self.asset(href, source), alt)
        element = self.renderer.picture_element(Element("img", alt=alt), prepared, lazy=False)
        return Markup(tostring(element, encoding="unicode", method="html"))

    def inline(self, text: str, source: Source) -> Markup:
        return Markup(self.renderer.inline(text, source.path))

    def plain(self, text: str, source: Source) -> str:
        return Markup(self.renderer.inline(text, source.path)).striptags()

    def template_globals(self) -> dict:
        return {
            "url": self.url,
            "asset": self.asset,
            "markdown": self.markdown,
            "inline": self.inline,
            "picture": self.picture,
        }


def render_site(
    content: Content,
    config: Config,
    signup_form: SignupForm,
    now: datetime,
    cache: PageCache | None = None,
    feed_entries: ResultStore | None = None,
    pictures: Pictures | None = None,
    archive: Sequence[WebCopy] = (),
) -> dict[str, bytes | Path]:
    """`cache`: the pages of the previous build (pipeline/build/cache.py); a page whose key is
    unchanged comes back as the Path of its previous file instead of being rendered again.
    `feed_entries`: the feed entries of earlier builds, reused while their article is unchanged.
    `pictures`: the resized variants of the pictures shown (pipeline/build/images.py); a picture
    not in it is linked as it is. `archive`: the web copy of every issue to show under issues/
    (render_web_copy made each one)."""
    blog = _SiteRenderer(
        content, config, signup_form, now, cache, feed_entries=feed_entries, pictures=pictures, archive=archive
    )
    files = blog.files()
    if feed_entries is not None:
        feed_entries.keep_only({article.source.path for article in blog.articles[:FEED_SIZE]})
    return files


def render_article_pages(
    content: Content,
    config: Config,
    signup_form: SignupForm,
    now: datetime,
    cache: PageCache,
    paths: set[str],
    tag_names: dict[str, str],
    with_feed: bool,
    feed_entries: ResultStore | None = None,
    pictures: Pictures | None = None,
    archive: Sequence[WebCopy] | None = None,
) -> dict[str, bytes | Path]:
    """The quick rebuild's share of render_site (pipeline/build/rebuild.py): the pages of the articles
    whose source is in `paths`, and the feed when `with_feed`; each the previous file (a Path)
    when its key is unchanged. `content` holds only some articles - these, and all the feed
    shows - and every card; `tag_names` are the names the whole site gives its tags."""
    blog = _SiteRenderer(content, config, signup_form, now, cache, tag_names, feed_entries, pictures, archive or ())
    files = blog.render_jobs([blog.article_job(article) for article in blog.articles if article.source.path in paths])
    if with_feed:
        files[FEED_PATH] = blog.feed_file()
    if archive is not None:  # the week's web copy changed with its email
        files |= blog.render_jobs([PageJob.of_page(page) for page in blog.archive_pages()])
        files[ISSUES_FEED_PATH] = blog.issues_feed()
    return files


REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="refresh" content="0; url={target}">
<link rel="canonical" href="{target}">
<meta name="robots" content="noindex">
</head>
<body>
<p>This article has moved: <a href="{target}">{title}</a>.</p>
</body>
</html>
"""


def redirect_page(target: str, title: str) -> str:
    return REDIRECT_PAGE.format(target=html.escape(target, quote=True), title=html.escape(title))


def render_web_copies(
    emails: Sequence[RenderedEmail],
    content: Content,
    config: Config,
    signup_form: SignupForm,
    now: datetime,
    pictures: Pictures | None = None,
) -> list[str]:
    """The body of the page on the blog that shows each email (issues/<week>/[<stage>/]): its intro
    and articles as the blog shows them, each article an excerpt where the email had one. Pure,
    and the same for every reader: no token, merge tag, unsubscribe link or tracking."""
    if not emails:
        return []
    blog = _SiteRenderer(content, config, signup_form, now, pictures=pictures)
    return [blog.web_copy(email) for email in emails]


_ID_ATTRIBUTE = re.compile(r'(\sid=")([^"]+)(")')


def _unique_ids(page: str) -> str:
    """One page that shows several articles can meet the same heading id twice ("next-week"):
    the second and later ones get -2, -3... so every id on the page is unique."""
    seen: dict[str, int] = {}

    def renamed(match: re.Match) -> str:
        name = match.group(2)
        seen[name] = seen.get(name, 0) + 1
        return match.group(0) if seen[name] == 1 else f"{match.group(1)}{name}-{seen[name]}{match.group(3)}"

    return _ID_ATTRIBUTE.sub(renamed, page)


def newest_first(content: Content) -> list[Article]:
    """The published articles in the order of the index and the feed."""
    return sorted(content.published_articles(), key=lambda a: a.order_key)


@dataclass
class PageJob:
    """A page to write: what the sitemap needs, what its cache key is made of, and how to make it
    (article pages are only built when they must be rendered: their JSON-LD is the costly part)."""

    file: str
    path: str
    lastmod: date
    in_sitemap: bool
    make: Callable[[], Page]
    key_parts: Callable[[], object]  # everything the page shows; hashed into its cache key
    lists_articles: bool = True  # every page but an article's own shows articles as list entries

    @classmethod
    def of_page(cls, page: Page) -> PageJob:
        """A page already built: the page itself is what its key is made of."""
        return cls(page.file, page.path, page.lastmod, page.in_sitemap, lambda: page, lambda: page)


# What a list of articles (index, topic and exercise pages) shows of each: never the body.
# A list template that starts showing more must have the field added here.
LISTED_FIELDS = (
    "slug",
    "title",
    "date",
    "summary",
    "source",
    "tags",
    "author",
    "image",
    "image_alt",
    "draft",
    "newsletter",
    "meta",
)


class _SiteRenderer:
    def __init__(
        self,
        content: Content,
        config: Config,
        signup_form: SignupForm,
        now: datetime,
        cache: PageCache | None = None,
        tag_names: dict[str, str] | None = None,
        feed_entries: ResultStore | None = None,
        pictures: Pictures | None = None,
        archive: Sequence[WebCopy] = (),
    ):
        self.pictures = pictures or {}
        self.archive = list(archive)
        self.cache = cache
        self.feed_entries = feed_entries
        self._text_digests: dict[str, str] = {}
        self._fingerprints: dict[tuple, str] = {}
        self.content = content
        self.config = config
        self.signup_form = signup_form
        self.now = now
        self.articles = newest_first(content)
        self.exercises = sorted(content.exercises.values(), key=lambda e: e.name.lower())
        if tag_names is None:
            self.tags = collect_tags(self.articles)
        else:  # some articles only: the names, without the lists of articles
            self.tags = {slug: Tag(name=name, path=urls.tag_path(name)) for slug, name in tag_names.items()}
        self.env = template_environment(config)
        self._renderers: dict[tuple[str, bool], MarkdownRenderer] = {}

    # -- the files ---------------------------------------------------------------------------

    def files(self) -> dict[str, bytes | Path]:
        jobs = self.page_jobs()
        files = self.render_jobs(jobs)
        files[FEED_PATH] = self.feed_file()
        files[ISSUES_FEED_PATH] = self.issues_feed()
        files[SITEMAP_PATH] = self.render_template("sitemap.xml.j2", {"entries": self.sitemap_entries(jobs)}).encode()
        files["robots.txt"] = self.render_template(
            "robots.txt.j2", {"sitemap_url": urls.absolute(self.config.base_url, SITEMAP_PATH)}
        ).encode()
        files.update(self.video_thumbnails())
        for name, data in self.redirect_files().items():
            if name in files:
                raise ContentError(
                    data[0], 1, f"the old address '{name}' in 'aliases' is a page of the blog: remove it"
                )
            files[name] = data[1]
        for name, path in [*self.static_files(), *self.media_files()]:
            if name in files:
                raise ContentError(
                    _relative(path, self.config.root), 1, f"would overwrite the blog's own {name}: rename or move it"
                )
            files[name] = path
        return files

    def feed_file(self) -> bytes | Path:
        feed = self.reused(FEED_PATH, lambda: ("feed", self.articles[:FEED_SIZE], None if self.articles else self.now))
        return feed or feed_xml(self.articles, self.config, self.feed_entry, self.now)

    def page_jobs(self) -> list[PageJob]:
        """Every HTML page of the blog, in sitemap order."""
        ready = PageJob.of_page
        return [
            *(ready(page) for page in self.index_pages()),
            *(self.article_job(article) for article in self.articles),
            ready(self.exercise_index_page()),
            *(ready(self.exercise_page(exercise)) for exercise in self.exercises),
            ready(self.tag_index_page()),
            *(ready(self.tag_page(tag)) for tag in self.tags.values()),
            ready(self.subscribe_page()),
            ready(self.privacy_page()),
            *(ready(page) for page in self.archive_pages()),
            ready(self.not_found_page()),
        ]

    def article_job(self, article: Article) -> PageJob:
        path = urls.article_path(article.slug)
        tags = [
            (tag.name, tag.path) for tag in (self.tags[_tag_slug(name)] for name in _unique_tag_slugs(article.tags))
        ]
        return PageJob(
            path + "index.html",
            path,
            article_updated(article).date(),
            True,
            lambda: self.article_page(article),
            lambda: (article, tags),
            lists_articles=False,
        )

    def render_jobs(self, jobs: list[PageJob]) -> dict[str, bytes | Path]:
        """Each page's previous file when its key is unchanged, else the page rendered - on every
        core when there are many."""
        files: dict[str, bytes | Path] = {}
        for job in jobs:
            files[job.file] = self.reused(job.file, job.key_parts, listed=job.lists_articles)
        missing = [job for job in jobs if files[job.file] is None]
        rendered = parallel_map(
            lambda job: self.render_page(job.make()).encode("utf-8"),
            missing,
            progress=lambda items: track(items, "Rendering blog pages"),
        )
        files.update((job.file, data) for job, data in zip(missing, rendered, strict=True))
        return files

    # -- the page cache ---------------------------------------------------------------------------

    def reused(self, file: str, key_parts: Callable[[], object], listed: bool = False) -> Path | None:
        """The previous build's file when nothing this page shows has changed (`listed`: a page
        that lists articles rather than showing them whole)."""
        if self.cache is None:
            return None
        return self.cache.reuse(file, digest(self.site_key, file, self.fingerprint(key_parts(), listed)))

    @cached_property
    def site_key(self) -> str:
        """What every page depends on: code, templates, settings, the signup form, the year in the
        footer, and the exercise library (articles show cards' text, every page links cards)."""
        cards = sorted((exercise.source.path, self.text_digest(exercise.source.path)) for exercise in self.exercises)
        return digest(
            code_fingerprint(),
            *(tree_digest(folder) for folder in template_folders(self.config, TEMPLATE_FOLDER)),
            repr(self.config),
            repr(self.signup_form),
            str(self.now.year),
            repr(cards),
            repr(sorted((path, picture.digest) for path, picture in self.pictures.items())),
        )

    def text_digest(self, path: str) -> str:
        if path not in self._text_digests:
            self._text_digests[path] = digest(self.content.source_texts.get(path, ""))
        return self._text_digests[path]

    def fingerprint(self, value, listed: bool = False) -> str:
        """A stable text for `value`. An article or card stands for the text of its file, which is
        all it is made of (with the library, in site_key) - or, with `listed`, for what lists of
        articles show (LISTED_FIELDS), so editing an article's body leaves the lists alone."""
        if isinstance(value, Article) and listed:
            return self._memo(
                ("listed", id(value)), lambda: digest(repr([getattr(value, name) for name in LISTED_FIELDS]))
            )
        if isinstance(value, (Article, Exercise)):
            return f"<{type(value).__name__} {value.source.path} {self.text_digest(value.source.path)}>"
        if isinstance(value, Tag):  # lives as long as the build, like articles: remembered by id
            return self._memo(
                (listed, id(value)), lambda: self.fingerprint((value.name, value.path, value.articles), listed)
            )
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return (
                f"{type(value).__name__}("
                + ", ".join(
                    f"{item.name}={self.fingerprint(getattr(value, item.name), listed)}"
                    for item in dataclasses.fields(value)
                )
                + ")"
            )
        if isinstance(value, dict):
            return (
                "{"
                + ", ".join(
                    f"{self.fingerprint(key, listed)}: {self.fingerprint(item, listed)}" for key, item in value.items()
                )
                + "}"
            )
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.fingerprint(item, listed) for item in value) + "]"
        if isinstance(value, (set, frozenset)):
            return "{" + ", ".join(sorted(self.fingerprint(item, listed) for item in value)) + "}"
        return repr(value)

    def _memo(self, key: tuple, make: Callable[[], str]) -> str:
        """Objects of one build live as long as the build: their id is a fine key."""
        if key not in self._fingerprints:
            self._fingerprints[key] = make()
        return self._fingerprints[key]

    def redirect_files(self) -> dict[str, tuple[str, bytes]]:
        """An article's old addresses (`aliases`, from another tool's site): a page at each that
        sends the reader on to the article. {file: (the article's path, the page)}."""
        files: dict[str, tuple[str, bytes]] = {}
        for article in self.articles:
            for alias in article.aliases:
                file = alias + "index.html" if alias.endswith("/") else alias
                target = "../" * file.count("/") + urls.article_path(article.slug)
                files[file] = (article.source.path, redirect_page(target, article.title).encode())
        return files

    def static_files(self) -> list[tuple[str, Path]]:
        """The packaged static files and the project's, a project file replacing the packaged one of its name."""
        return list(template_files(self.config, TEMPLATE_FOLDER, under=STATIC_FOLDER).items())

    def media_files(self) -> list[tuple[str, Path]]:
        """Images and other media under content/ are copied as they are (content/images/x.jpg -> images/x.jpg)."""
        return self._inside_project(
            _visible_files(self.config.content_dir, lambda p: p.suffix.lower() not in (".md", ".markdown"))
        )

    def _inside_project(self, files: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
        """Every file, or a ContentError for each symbolic link that leads out of the project."""
        root = self.config.root
        folders_inside: dict[Path, bool] = {}

        def inside(path: Path) -> bool:  # a file that is no link is where its folder is: one resolve a folder
            if path.is_symlink():
                return resolves_inside(path, root)
            if path.parent not in folders_inside:
                folders_inside[path.parent] = resolves_inside(path.parent, root)
            return folders_inside[path.parent]

        errors = [
            ContentError(_relative(path.absolute(), root, resolve=False), 1, outside_project_message(path))
            for _, path in files
            if not inside(path)
        ]
        if errors:
            raise ContentErrors(errors)
        return files

    # -- pages ----------------------------------------------------------------------------------

    def index_pages(self) -> list[Page]:
        per_page = self.config.site.per_page
        count = max(1, math.ceil(len(self.articles) / per_page))
        pages = []
        for number in range(1, count + 1):
            chunk = self.articles[(number - 1) * per_page : number * per_page]
            title = self.config.site.title if number == 1 else f"Articles, page {number} of {count}"
            context = {
                "articles": chunk,
                "page_number": number,
                "page_count": count,
                "newer_path": urls.index_path(number - 1) if number > 1 else None,
                "older_path": urls.index_path(number + 1) if number < count else None,
            }
            pages.append(
                Page(
                    path=urls.index_path(number),
                    template="index.html.j2",
                    title=title,
                    description=self.config.site.description,
                    lastmod=self.newest_date(chunk),
                    context=context,
                    nav="articles" if number == 1 else "",
                )
            )
        return pages

    def article_page(self, article: Article) -> Page:
        path = urls.article_path(article.slug)
        page_url = urls.absolute(self.config.base_url, path)
        anchors = _exercise_anchors(article)
        image = self.absolute_asset(article.image, article.source) if article.image else None
        links = self.links_for(path + "index.html")
        description = links.plain(article.summary, article.source)
        data = [
            jsonld.medical_web_page(
                page_url,
                article.title,
                description,
                article.meta,
                self.config.site.language,
                jsonld.posting_id(page_url),
            ),
            jsonld.blog_posting(article, page_url, description, self.config.site.author, image, self.config.site.title),
        ]
        for index, part in enumerate(article.parts):
            if isinstance(part, ExerciseBlock):
                url = f"{page_url}#{anchors[index]}"
                shown = self.video_data(part, article.slug, article.date)
                data.append(jsonld.exercise(part, url, self.plain_text(links, part), video=shown))
        has_video = any(self.video_player(block, article.slug) for block in article.exercises) or bool(
            video.fence_thumbnails(part.markdown for part in article.parts if isinstance(part, Prose))
        )
        return Page(
            path=path,
            template="article.html.j2",
            title=article.title,
            description=description,
            lastmod=article_updated(article).date(),
            context={
                "article": article,
                "author": article_author(article, self.config),
                "tags": [self.tags[urls.tag_slug(tag)] for tag in _unique_tag_slugs(article.tags)],
                "anchors": anchors,
            },
            og_type="article",
            image=image,
            image_alt=article.image_alt or "",
            jsonld=[jsonld.script_body(item) for item in data],
            scripts=[VIDEO_SCRIPT] if has_video else [],
        )

    def exercise_index_page(self) -> Page:
        return Page(
            path="exercises/",
            template="exercises.html.j2",
            title="Exercise library",
            description=f"Every exercise from {self.config.site.title}, with steps, tips and safety notes.",
            lastmod=self.newest_date(self.articles),
            context={"exercises": self.exercises},
            nav="exercises",
        )

    def exercise_page(self, exercise: Exercise) -> Page:
        path = urls.exercise_path(exercise.slug)
        page_url = urls.absolute(self.config.base_url, path)
        using = [article for article in self.card_users.get(exercise.slug, []) if not article.draft]
        links = self.links_for(path + "index.html")
        description = links.plain(exercise.block.summary, exercise.block.source) or f"How to do {exercise.name}."
        first_shown = min((article.date for article in using), default=None)
        shown = self.video_data(exercise.block, None, first_shown)
        node_id = f"{page_url}#exercise"
        data = [
            jsonld.medical_web_page(
                page_url, exercise.name, description, exercise.meta, self.config.site.language, node_id
            ),
            jsonld.exercise(
                exercise.block, page_url, self.plain_text(links, exercise.block), node_id=node_id, video=shown
            ),
        ]
        return Page(
            path=path,
            template="exercise.html.j2",
            title=exercise.name,
            description=description,
            lastmod=self.newest_date(using),
            context={
                "exercise": exercise,
                "block": exercise.block,
                "articles": using,
                "chain": self.library_cards(prerequisite_chain(self.content.exercises, exercise.slug)),
                "next_steps": self.library_cards([link.slug for link in exercise.block.progresses_to]),
            },
            jsonld=[jsonld.script_body(item) for item in data],
            scripts=[VIDEO_SCRIPT] if self.video_player(exercise.block, None) else [],
        )

    @cached_property
    def card_users(self) -> dict[str, list[Article]]:
        """Content.articles_using for every card at once (one pass over the articles, not one per card)."""
        users: dict[str, list[Article]] = {}
        for article in self.content.articles:
            for slug in dict.fromkeys(block.ref for block in article.exercises if block.ref):
                users.setdefault(slug, []).append(article)
        return users

    def library_cards(self, slugs: list[str]) -> list[Exercise]:
        return [self.content.exercises[slug] for slug in slugs if slug in self.content.exercises]

    # -- exercise videos ----------------------------------------------------------------------------

    def video_player(self, block: ExerciseBlock, article_slug: str | None) -> VideoPlayer | None:
        """The click-to-play player of a YouTube or Vimeo video; None for no video or another host."""
        link = parse_video(block.video) if block.video else None
        return VideoPlayer(link, video.thumbnail_path(block, article_slug)) if link else None

    def video_data(
        self, block: ExerciseBlock, article_slug: str | None, shown_since: date | None
    ) -> jsonld.VideoData | None:
        if not block.video:
            return None
        player = self.video_player(block, article_slug)
        thumbnail = urls.absolute(self.config.base_url, player.thumbnail) if player else None
        return jsonld.VideoData(player.link if player else None, block.video, thumbnail, shown_since)

    def video_thumbnails(self) -> dict[str, bytes]:
        """A PNG for every YouTube or Vimeo video on the blog (media/video/...), drawn here: the
        email links to the same files."""
        wanted: dict[str, tuple[ExerciseBlock, Exercise | None]] = {}
        for exercise in self.exercises:
            wanted[video.thumbnail_path(exercise.block)] = (exercise.block, exercise)
        for article in self.articles:
            for block in article.exercises:
                if block.ref is None:
                    wanted[video.thumbnail_path(block, article.slug)] = (block, None)
        thumbnails = {}
        for path, (block, card) in sorted(wanted.items()):
            player = self.video_player(block, None)
            if player:
                poster = self.poster(card) if card else None
                thumbnails[path] = video.thumbnail_png(block.name, player.link.provider_name, poster)
        for path, (fenced, link) in sorted(video.fence_thumbnails(self.prose_texts()).items()):
            thumbnails[path] = video.fence_thumbnail_png(fenced, link)
        return thumbnails

    def prose_texts(self) -> list[str]:
        """The Markdown a ```video fence may be written in: articles' prose, issue notes' intros."""
        texts = [part.markdown for article in self.articles for part in article.parts if isinstance(part, Prose)]
        return texts + [note.intro for note in self.content.issue_notes.values()]

    def poster(self, card: Exercise) -> bytes | None:
        """The picture a card names in `video_poster`, written relative to the card's file."""
        href = card.meta.get("video_poster")
        if not href:
            return None
        site_path = urls.resolve_content_link(href, card.source.path)
        picture = (self.config.content_dir / site_path) if site_path else None
        if picture is None or not picture.is_file() or not resolves_inside(picture, self.config.content_dir):
            text = self.content.source_texts.get(card.source.path)
            line = key_lines(text, card.source.path).get("video_poster", 1) if text else 1
            raise ContentError(
                card.source.path,
                line,
                f"video_poster '{href}' is not a file: give the picture's path from this file, e.g. ../images/clam.jpg",
            )
        return picture.read_bytes()

    def plain_text(self, links: _PageLinks, block: ExerciseBlock):
        """Markdown of this exercise as plain text; a card's text resolves links from its own file."""
        source = self.content.exercises[block.ref].source if block.ref in self.content.exercises else block.source
        return lambda text: links.plain(text, source)

    # -- past issues ------------------------------------------------------------------------------

    def web_copy(self, email: RenderedEmail) -> str:
        issue = email.issue
        excerpted = {a.slug for a in issue.articles} if self.config.email.content == "excerpt" else email.excerpted
        links = self.links_for(urls.issue_path(issue.week, issue.stage) + "index.html")
        context = {
            **self.common_context(),
            **links.template_globals(),
            "issue": issue,
            "intro": issue.intro,
            "intro_source": Source(f"content/issues/{issue.week}.md"),
            "articles": issue.articles,
            "excerpted": set(excerpted),
            # one page shows several articles: their exercise anchors must not collide
            "anchors_of": {
                a.slug: {i: f"{a.slug}-{anchor}" for i, anchor in _exercise_anchors(a).items()} for a in issue.articles
            },
        }
        return _unique_ids(self.render_template("_issue_body.html.j2", context))

    def archive_weeks(self) -> list[dict]:
        """Each week of the archive, newest first: its main version and every version's label and path."""
        weeks: dict[str, list[WebCopy]] = {}
        for copy in self.archive:
            weeks.setdefault(copy.week, []).append(copy)
        shown = []
        for week in sorted(weeks, reverse=True):
            copies = sorted(weeks[week], key=lambda c: _version_order(c.stage, self.config.audience.stages))
            versions = [(_version_label(c.stage), urls.issue_path(c.week, c.stage)) for c in copies]
            shown.append({"main": {"issue": copies[0], "path": versions[0][1]}, "versions": versions, "copies": copies})
        return shown

    def archive_pages(self) -> list[Page]:
        weeks = self.archive_weeks()
        pages = [
            Page(
                path=urls.ISSUES_PATH,
                template="issues.html.j2",
                title="Past issues",
                description=f"Every weekly email of {self.config.site.title}, newest first.",
                lastmod=max((_copy_date(week["main"]["issue"]) for week in weeks), default=self.now.date()),
                context={"weeks": _listed(weeks), "issues_feed_path": ISSUES_FEED_PATH},
                nav="issues",
            )
        ]
        for week in weeks:
            for copy in week["copies"]:
                pages.append(
                    Page(
                        path=urls.issue_path(copy.week, copy.stage),
                        template="issue.html.j2",
                        title=copy.subject,
                        description=copy.preview_text,
                        lastmod=_copy_date(copy),
                        context={"copy": copy, "body": Markup(copy.body_html), "versions": week["versions"]},
                        nav="issues",
                        og_type="article",
                    )
                )
        return pages

    def issues_feed(self) -> bytes:
        entries = [
            IssueEntry(
                urls.absolute(self.config.base_url, week["main"]["path"]),
                week["main"]["issue"].subject,
                week["main"]["issue"].preview_text,
                _copy_time(week["main"]["issue"]),
            )
            for week in self.archive_weeks()[:FEED_SIZE]
        ]
        return issues_feed_xml(entries, self.config, self.now)

    def tag_index_page(self) -> Page:
        return Page(
            path="tags/",
            template="tags.html.j2",
            title="Topics",
            description=f"Articles from {self.config.site.title} by topic.",
            lastmod=self.newest_date(self.articles),
            context={"tags": list(self.tags.values())},
            nav="tags",
        )

    def tag_page(self, tag: Tag) -> Page:
        return Page(
            path=tag.path,
            template="tag.html.j2",
            title=f"Articles about {tag.name}",
            description=f"Articles from {self.config.site.title} about {tag.name}.",
            lastmod=self.newest_date(tag.articles),
            context={"tag": tag, "articles": tag.articles},
        )

    def subscribe_page(self) -> Page:
        """The signup form on a page of its own (the form itself is the one every page ends with)."""
        return Page(
            path="subscribe/",
            template="subscribe.html.j2",
            title=f"Subscribe to {self.config.site.title}",
            description=f"Get {self.config.site.title} by email every week.",
            lastmod=self.newest_date(self.articles),
        )

    def privacy_page(self) -> Page:
        contact = self.config.email.reply_to or self.config.email.sender_address
        return Page(
            path="privacy/",
            template="privacy.html.j2",
            title="Your details and your privacy",
            description=f"What {self.config.site.title} keeps about subscribers, and why.",
            lastmod=self.newest_date(self.articles),
            context={"paragraphs": privacy_paragraphs(self.config.site.title, contact)},
        )

    def not_found_page(self) -> Page:
        return Page(
            path=NOT_FOUND_PATH,
            file=NOT_FOUND_PATH,
            template="404.html.j2",
            title="Page not found",
            description=self.config.site.description,
            lastmod=self.now.date(),
            context={"inline_css": self.stylesheet()},
            in_sitemap=False,
        )

    def stylesheet(self) -> Markup:
        """The stylesheet's text, for 404.html: it is shown at any depth, so it carries its own styles."""
        path = template_file(self.config, TEMPLATE_FOLDER, f"{STATIC_FOLDER}/style.css")
        css = path.read_text(encoding="utf-8") if path else ""
        return Markup(css.replace("</", "<\\/"))

    # -- rendering --------------------------------------------------------------------------------

    def render_page(self, page: Page) -> str:
        links = self.links_for(page.file)
        context = {
            **self.common_context(),
            **links.template_globals(),
            "page": page,
            "canonical": urls.absolute(self.config.base_url, page.path),
            **page.context,
        }
        return self.render_template(page.template, context)

    def feed_entry(self, article: Article) -> str:
        """An article's feed entry, from the cache while neither it nor the site changed."""
        if self.feed_entries is None:
            return self.feed_content(article)
        path = article.source.path
        key = digest(self.site_key, self.text_digest(path))
        stored = self.feed_entries.get(path, key)
        if stored is not None:
            return stored.decode("utf-8")
        html = self.feed_content(article)
        self.feed_entries.put(path, key, html.encode("utf-8"))
        return html

    def feed_content(self, article: Article) -> str:
        links = _PageLinks(self.config.base_url, self.renderer(self.config.base_url, absolute=True, sanitise=True))
        context = {
            **self.common_context(),
            **links.template_globals(),
            "article": article,
            "anchors": _exercise_anchors(article),
        }
        return self.render_template("feed_entry.html.j2", context)

    def common_context(self) -> dict:
        return {
            "site": self.config.site,
            "disclaimer": self.config.email.disclaimer,
            "signup": self.signup_form,
            "consent_text": consent_text(self.config.site.title),
            "now": self.now,
            "feed_path": FEED_PATH,
            "exercise_slugs": set(self.content.exercises),
            # A card's text was written in its own file: resolve its links from there.
            "card_sources": {slug: exercise.source for slug, exercise in self.content.exercises.items()},
            "pregnancy_labels": PREGNANCY_LABELS,
            "video_player": self.video_player,
            "article_path": urls.article_path,
            "exercise_path": urls.exercise_path,
            "host": _host,
        }

    def render_template(self, name: str, context: dict) -> str:
        try:
            return self.env.get_template(name).render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise ContentError(
                self.template_path(exc.filename, name), exc.lineno or 1, f"template syntax error: {exc.message}"
            ) from exc
        except ContentError:  # the content a template shows, not the template
            raise
        except Exception as exc:
            filename, line = self.template_frame(exc)
            if filename is None and isinstance(exc, jinja2.TemplateNotFound):
                raise ContentError(
                    self.template_path(None, exc.name),
                    1,
                    "template is missing (not in templates/site/ nor the packaged ones): fix the name that includes it",
                ) from exc
            if filename is None:
                raise
            raise ContentError(self.template_path(filename, name), line, f"template error: {_describe(exc)}") from exc

    def template_path(self, filename: str | None, name: str) -> str:
        if filename is None:
            return f"templates/{TEMPLATE_FOLDER}/{name}"
        return display_path(filename, self.config)

    def template_frame(self, exc: Exception) -> tuple[str | None, int]:
        """The innermost template line in the traceback (Jinja maps its frames to template lines)."""
        folders = [folder.resolve() for folder in template_folders(self.config, TEMPLATE_FOLDER)]
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename and any(Path(frame.filename).resolve().is_relative_to(f) for f in folders):
                return frame.filename, frame.lineno or 1
        return None, 1

    # -- helpers ---------------------------------------------------------------------------------

    def links_for(self, file: str) -> _PageLinks:
        if file == NOT_FOUND_PATH:
            return _PageLinks(self.config.base_url, self.renderer(self.config.base_url, absolute=True))
        root = "../" * file.count("/")
        return _PageLinks(root, self.renderer(root, absolute=False))

    def renderer(self, root: str, absolute: bool, sanitise: bool = False) -> MarkdownRenderer:
        """`sanitise`: for the feed, read by other people's software (pipeline/render/sanitise.py)."""
        key = (root, absolute, sanitise)
        if key not in self._renderers:
            self._renderers[key] = MarkdownRenderer(
                self.config.base_url,
                absolute=absolute,
                site_root=root,
                sanitise=sanitise,
                pictures=self.pictures,
                for_email=absolute,
            )
        return self._renderers[key]

    def absolute_asset(self, href: str, source: Source) -> str:
        """The full URL of a picture or file named in content: for a prepared picture, its email
        variant (at most 1200 px wide, the size OpenGraph asks for)."""
        site_path = urls.resolve_content_link(href, source.path)
        if site_path in self.pictures:
            site_path = variant_path(self.pictures[site_path].email)
        return href if site_path is None else urls.absolute(self.config.base_url, site_path)

    def newest_date(self, articles: list[Article]) -> date:
        return max((article_updated(a).date() for a in articles), default=self.now.date())

    def sitemap_entries(self, pages: list[Page] | list[PageJob]) -> list[dict]:
        return [
            {"loc": urls.absolute(self.config.base_url, page.path), "lastmod": page.lastmod.isoformat()}
            for page in pages
            if page.in_sitemap
        ]


def template_environment(config: Config) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_folders(config, TEMPLATE_FOLDER)),  # the project's first
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2", "xml.j2"), disabled_extensions=("txt.j2",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=template_bytecode_cache(config.state_dir),
        auto_reload=False,  # one environment per build: no need to check each template's file on every page
    )
    env.tests["exercise_block"] = lambda part: isinstance(part, ExerciseBlock)
    return env


def collect_tags(articles: list[Article]) -> dict[str, Tag]:
    """Tags by slug, alphabetically; "Core" and "core" are one tag, named as first written."""
    tags: dict[str, Tag] = {}
    for article in articles:
        for slug, name in _unique_tag_slugs(article.tags).items():
            tag = tags.setdefault(slug, Tag(name=name, path=urls.tag_path(name)))
            tag.articles.append(article)
    return dict(sorted(tags.items()))


def _unique_tag_slugs(names: list[str]) -> dict[str, str]:
    slugs: dict[str, str] = {}
    for name in names:
        slugs.setdefault(_tag_slug(name), name)
    return slugs


_tag_slug = lru_cache(maxsize=4096)(urls.tag_slug)  # a few dozen tags, written on thousands of articles


def _exercise_anchors(article: Article) -> dict[int, str]:
    """A unique HTML id for each exercise block of an article, by part index."""
    anchors: dict[int, str] = {}
    seen: dict[str, int] = {}
    for index, part in enumerate(article.parts):
        if isinstance(part, ExerciseBlock):
            seen[part.slug] = seen.get(part.slug, 0) + 1
            suffix = "" if seen[part.slug] == 1 else f"-{seen[part.slug]}"
            anchors[index] = f"exercise-{part.slug}{suffix}"
    return anchors


def _visible_files(folder: Path, wanted) -> list[tuple[str, Path]]:
    """(path under `folder`, file) for every wanted file, hidden files and folders left out."""
    if not folder.is_dir():
        return []
    found = []
    for directory, subfolders, names in os.walk(folder):  # os.walk: content/ holds thousands of files
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            path = Path(directory, name)
            if not name.startswith(".") and wanted(path) and path.is_file():
                found.append((path.relative_to(folder).as_posix(), path))
    return sorted(found)


def _describe(exc: Exception) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"it includes '{exc.name}', which does not exist"
    if isinstance(exc, jinja2.TemplateError):
        return exc.message or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def _host(url: str) -> str:
    return urlsplit(url).netloc.removeprefix("www.") or url


def _relative(path: Path, root: Path, resolve: bool = True) -> str:
    try:
        if not resolve:
            return path.relative_to(root).as_posix()
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _version_order(stage: str | None, stages: list[str]) -> tuple[int, int]:
    """The one email for everyone, or `general`, first; then the stages in their configured order."""
    if stage in (None, GENERAL_STAGE):
        return (0, 0)
    return (1, stages.index(stage) if stage in stages else len(stages))


def _version_label(stage: str | None) -> str:
    return "Everyone" if stage in (None, GENERAL_STAGE) else stage


def _copy_time(copy: WebCopy) -> datetime:
    """When the issue went out (the push), or its week's Monday while it is only built."""
    return copy.pushed_at or datetime.combine(copy.monday, time(0), tzinfo=UTC)


def _copy_date(copy: WebCopy) -> date:
    return _copy_time(copy).date()


def _listed(weeks: list[dict]) -> list[dict]:
    """What the archive index shows of each week: never the bodies (so it is not rendered again
    when only a body changed)."""
    return [
        {
            "main": {"issue": dataclasses.replace(week["main"]["issue"], body_html=""), "path": week["main"]["path"]},
            "versions": week["versions"],
        }
        for week in weeks
    ]
