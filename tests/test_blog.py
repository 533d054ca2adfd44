"""The static blog: every page, the feed, the sitemap, and what each page must carry."""

from __future__ import annotations

import json
import posixpath
import re
from datetime import UTC, date, datetime

import feedparser
import lxml.html
import pytest
from helpers import override_template

from pipeline.build.images import prepare_pictures
from pipeline.content.load import load_content
from pipeline.core.config import load_config
from pipeline.core.errors import ContentError
from pipeline.core.model import (
    Article,
    CardLink,
    Content,
    Exercise,
    ExerciseBlock,
    Prose,
    Section,
    SignupForm,
    Source,
)
from pipeline.core.theme import PACKAGED_TEMPLATES, template_file
from pipeline.render.blog import render_site
from pipeline.tools.images import ImageStore

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
BASE = "https://strongfromwithin.example/"
SIGNUP = SignupForm(
    action="https://lists.example/subscribe",
    method="post",
    email_field="subscriber[email]",
    hidden_fields={"list_id": "42", "source": "blog"},
    note="We'll send you an email to confirm.",
)


# -- building content ------------------------------------------------------------------------------


def card_block(slug: str = "hip-extension", **fields) -> ExerciseBlock:
    values = {
        "name": "Hip extension",
        "slug": slug,
        "source": Source(f"content/exercises/{slug}.md", 1),
        "summary": "A slow, small bridge that wakes up the glutes.",
        "benefits": "Trains pelvic alignment and the spinal stabilisers.",
        "steps": [
            "Lie on your back, knees bent.",
            "Breathe out and lift the pelvic floor.",
            "Lift the hips from the hip joint.",
        ],
        "tips": ["Stop when the pelvic floor lets go.", "Breathe between every repetition."],
        "progression": "At 20 clean repetitions, move on to a harder version.",
        "safety": "If lying on your back makes you dizzy, roll onto your side and rest.",
        "before": "Stretch the [piriformis](piriformis-stretch.md) first.",
        "equipment": [],
        "muscles": ["gluteus maximus", "pelvic floor"],
        "video": "https://www.youtube.com/watch?v=abc123",
        "level": "beginner",
        "pregnancy": "safe",
        "cautions": ["Stop if you feel heaviness or dragging."],
        "other_sections": [
            Section("Common mistakes", "Pushing up from the ribs.", Source(f"content/exercises/{slug}.md", 30))
        ],
    }
    values.update(fields)
    return ExerciseBlock(**values)


def library(*blocks: ExerciseBlock) -> dict[str, Exercise]:
    return {block.slug: Exercise(slug=block.slug, block=block, source=block.source) for block in blocks}


def used_in_article(block: ExerciseBlock, **fields) -> ExerciseBlock:
    """The block an article gets from a ```exercise fence: the card plus the article's dose,
    located at the fence (as pipeline/content/load.py does)."""
    fence = Source("content/articles/wake-up-your-glutes.md", 20)
    values = dict(
        block.__dict__, ref=block.slug, reps="Up to 20", sets="1", note="Rest as long as you need.", source=fence
    )
    values.update(fields)
    return ExerciseBlock(**values)


def article(slug: str, day: date, **fields) -> Article:
    source = Source(f"content/articles/{slug}.md", 1)
    values = {
        "slug": slug,
        "title": f"Article {slug}",
        "date": day,
        "summary": f"Summary of {slug}.",
        "source": source,
        "parts": [Prose(f"Body of {slug}.", Source(source.path, 6))],
        "tags": ["postpartum"],
    }
    values.update(fields)
    return Article(**values)


def many_articles(count: int) -> list[Article]:
    """`count` articles, newest first, one a day back from 1 November 2026."""
    return [article(f"post-{n:02d}", date.fromordinal(date(2026, 11, 1).toordinal() - n)) for n in range(count)]


def glute_article(**fields) -> Article:
    source = Source("content/articles/wake-up-your-glutes.md", 1)
    values = {
        "title": "Wake up your glutes",
        "summary": "Why your glutes grip, and a gentle *hip extension* to retrain them.",
        "author": "Maren Ellis",
        "tags": ["glutes", "Pelvic floor"],
        "image": "../images/glutes.jpg",
        "image_alt": "A woman lying on a mat, lifting her hips",
        "parts": [
            Prose(
                "Your glutes are built for power. See the [stretch](../exercises/piriformis-stretch.md).",
                Source(source.path, 8),
            ),
            used_in_article(card_block()),
            Prose("## Afterwards\n\nBe patient with yourself.", Source(source.path, 40)),
        ],
    }
    values.update(fields)
    return article("wake-up-your-glutes", date(2026, 11, 23), **values)


def stretch_block() -> ExerciseBlock:
    return card_block(
        "piriformis-stretch",
        name="Piriformis stretch",
        summary="A gentle stretch.",
        before="",
        video=None,
        other_sections=[],
        equipment=["a mat"],
        pregnancy="modify",
    )


def site_content(*articles: Article) -> Content:
    return Content(articles=list(articles), exercises=library(card_block(), stretch_block()))


# -- rendering and reading it back ---------------------------------------------------------------------


@pytest.fixture
def config(make_project):
    return load_config(make_project())


def render(content: Content, config, signup: SignupForm = SIGNUP) -> dict:
    return render_site(content, config, signup, NOW)


def page(files: dict, path: str):
    return lxml.html.fromstring(files[path])


def html_pages(files: dict) -> dict:
    return {path: lxml.html.fromstring(data) for path, data in files.items() if path.endswith(".html")}


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def jsonld(document) -> list[dict]:
    return [json.loads(script.text) for script in document.xpath('//script[@type="application/ld+json"]')]


def page_url(path: str) -> str:
    return BASE + path.removesuffix("index.html")


def local_target(page_path: str, href: str) -> str | None:
    """The file a relative link on `page_path` opens, or None for external links and fragments."""
    if re.match(r"^[a-z]+:", href) or href.startswith("#"):
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), href.split("#")[0]))
    return "index.html" if target == "." else target + "/index.html" if href.split("#")[0].endswith("/") else target


# -- golden ---------------------------------------------------------------------------------------------


def test_golden_glute_article_page(make_project, golden, tmp_path):
    config = load_config(make_project(with_repo_content=True))
    content = load_content(config)
    pictures = prepare_pictures(config, content, ImageStore(tmp_path / "pictures")).pictures
    files = render_site(content, config, SIGNUP, NOW, pictures=pictures)
    golden("site/articles/why-your-glutes-grip/index.html", files["articles/why-your-glutes-grip/index.html"].decode())


# -- the set of files --------------------------------------------------------------------------------


def test_every_page_feed_and_asset_is_rendered_at_its_path(config):
    files = render(site_content(glute_article()), config)
    assert set(files) == {
        "index.html",
        "articles/wake-up-your-glutes/index.html",
        "exercises/index.html",
        "exercises/hip-extension/index.html",
        "exercises/piriformis-stretch/index.html",
        "tags/index.html",
        "tags/glutes/index.html",
        "tags/pelvic-floor/index.html",
        "subscribe/index.html",
        "privacy/index.html",
        "404.html",
        "issues/index.html",  # the archive of past issues: empty until an email is built or pushed
        "issues/feed.xml",
        "feed.xml",
        "sitemap.xml",
        "robots.txt",
        "static/style.css",
        "static/favicon.svg",
        "static/video.js",
        "media/video/hip-extension.png",  # the thumbnail of the card's YouTube video
    }


def test_static_assets_and_content_media_are_copied_not_rendered(make_project):
    root = make_project(
        {
            "content/images/glutes.jpg": "jpeg bytes",
            "content/images/.DS_Store": "junk",
            "content/articles/notes.txt": "x",
        }
    )
    config = load_config(root)
    files = render(site_content(glute_article()), config)
    assert files["static/style.css"] == PACKAGED_TEMPLATES / "site/static/style.css"
    assert files["static/favicon.svg"] == root / "templates/site/static/favicon.svg"  # the demo's own
    assert files["images/glutes.jpg"] == root / "content/images/glutes.jpg"
    assert files["articles/notes.txt"] == root / "content/articles/notes.txt"
    assert "images/.DS_Store" not in files
    assert not any(path.endswith(".md") for path in files)


def test_media_file_that_would_replace_a_page_is_an_error(make_project):
    config = load_config(make_project({"content/feed.xml": "<feed/>"}))
    with pytest.raises(ContentError, match=r"^content/feed.xml:1: would overwrite the blog's own feed.xml"):
        render(site_content(glute_article()), config)


def test_rendering_writes_nothing(make_project):
    root = make_project()
    before = sorted(root.rglob("*"))
    render(site_content(glute_article()), load_config(root))
    assert sorted(root.rglob("*")) == before


# -- index and pagination -------------------------------------------------------------------------------


def test_index_is_paginated_newest_first(config):
    config.site.per_page = 10
    articles = many_articles(25)
    files = render(Content(articles=list(reversed(articles)), exercises={}), config)
    pages = ["index.html", "page/2/index.html", "page/3/index.html"]
    listed = [
        [a.get("href") for a in page(files, path).xpath("//main//article/*[self::h2 or self::h3]/a")] for path in pages
    ]
    assert [len(hrefs) for hrefs in listed] == [10, 10, 5]
    assert listed[0][0] == "articles/post-00/" and listed[2][-1] == "../../articles/post-24/"
    assert "page/4/index.html" not in files


def test_index_pages_link_to_newer_and_older_pages(config):
    config.site.per_page = 10
    files = render(Content(articles=many_articles(25), exercises={}), config)

    def links(path):
        nav = page(files, path).xpath('//nav[@class="pagination"]')[0]
        return {a.get("rel"): a.get("href") for a in nav.xpath(".//a")}

    assert links("index.html") == {"next": "page/2/"}
    assert links("page/2/index.html") == {"prev": "../../", "next": "../../page/3/"}
    assert links("page/3/index.html") == {"prev": "../../page/2/"}


def test_a_short_blog_has_one_index_page_without_pagination(config):
    files = render(Content(articles=many_articles(3), exercises={}), config)
    assert not page(files, "index.html").xpath('//nav[@class="pagination"]')
    assert not any(path.startswith("page/") for path in files)


def test_an_empty_blog_still_has_a_home_page(config):
    files = render(Content(articles=[], exercises={}), config)
    assert "No articles yet" in text_of(page(files, "index.html"))


# -- article pages -------------------------------------------------------------------------------------


def test_article_page_shows_title_date_author_tags_and_image(config):
    files = render(site_content(glute_article()), config)
    document = page(files, "articles/wake-up-your-glutes/index.html")
    header = document.xpath("//main//article/header")[0]
    assert text_of(header.xpath("h1")[0]) == "Wake up your glutes"
    assert header.xpath(".//time/@datetime") == ["2026-11-23"]
    assert "By Maren Ellis" in text_of(header)
    assert [(a.text, a.get("href")) for a in header.xpath('.//ul[@class="tags"]//a')] == [
        ("glutes", "../../tags/glutes/"),
        ("Pelvic floor", "../../tags/pelvic-floor/"),
    ]
    image = document.xpath("//main//figure/img")[0]
    assert (image.get("src"), image.get("alt")) == (
        "../../images/glutes.jpg",
        "A woman lying on a mat, lifting her hips",
    )


def test_article_without_author_is_signed_by_the_site(config):
    files = render(site_content(glute_article(author=None)), config)
    header = page(files, "articles/wake-up-your-glutes/index.html").xpath("//main//article/header")[0]
    assert f"By {config.site.author}" in text_of(header)


def test_article_shows_who_reviewed_it(config):
    reviewed = glute_article(meta={"reviewed_by": "Dr Anouk Verhoeven", "last_reviewed": date(2026, 11, 10)})
    files = render(site_content(reviewed), config)
    line = page(files, "articles/wake-up-your-glutes/index.html").xpath('//p[@class="reviewed"]')[0]
    assert text_of(line) == "Reviewed on 10 November 2026 by Dr Anouk Verhoeven"


def test_article_body_links_are_relative_to_the_page(config):
    files = render(site_content(glute_article()), config)
    prose = page(files, "articles/wake-up-your-glutes/index.html").xpath('//div[@class="prose"]')[0]
    assert prose.xpath('.//a[text()="stretch"]/@href') == ["../../exercises/piriformis-stretch/"]


def test_exercise_card_shows_every_part_of_the_exercise(config):
    files = render(site_content(glute_article()), config)
    card = page(files, "articles/wake-up-your-glutes/index.html").xpath('//section[@class="exercise"]')[0]
    text = text_of(card)
    assert text_of(card.xpath("header/h2")[0]) == "Hip extension"
    for expected in [
        "A slow, small bridge that wakes up the glutes.",
        "Trains pelvic alignment and the spinal stabilisers.",
        "No equipment needed",
        "gluteus maximus, pelvic floor",
        "At 20 clean repetitions, move on to a harder version.",
        "Suitable in pregnancy",
        "Level: beginner",
        "Up to 20",
        "Rest as long as you need.",
        "Common mistakes Pushing up from the ribs.",
    ]:
        assert expected in text
    assert [text_of(li) for li in card.xpath('.//ol[@class="steps"]/li')] == card_block().steps
    assert [text_of(li) for li in card.xpath('.//ol[@class="tips"]/li')] == card_block().tips
    assert card.xpath('.//a[@class="video-link"]/@href') == ["https://www.youtube.com/watch?v=abc123"]
    assert card.xpath('.//a[contains(text(), "in the exercise library")]/@href') == ["../../exercises/hip-extension/"]


def test_card_links_resolve_from_the_file_they_were_written_in(config):
    block = used_in_article(card_block(), note="Stretch [first](../exercises/piriformis-stretch.md).")
    files = render(site_content(glute_article(parts=[block])), config)
    card = page(files, "articles/wake-up-your-glutes/index.html").xpath('//section[@class="exercise"]')[0]
    assert card.xpath('.//a[text()="piriformis"]/@href') == [
        "../../exercises/piriformis-stretch/"
    ]  # written in the card
    assert card.xpath('.//a[text()="first"]/@href') == ["../../exercises/piriformis-stretch/"]  # written in the article


def test_safety_note_and_cautions_are_highlighted_in_the_card(config):
    files = render(site_content(glute_article()), config)
    safety = page(files, "articles/wake-up-your-glutes/index.html").xpath(
        '//section[@class="exercise"]//div[@class="safety"]'
    )[0]
    assert safety.get("role") == "note"
    assert "roll onto your side and rest" in text_of(safety)
    assert "Stop if you feel heaviness or dragging." in text_of(safety)


def test_equipment_is_listed_and_left_out_when_unknown(config):
    with_mat = glute_article(parts=[used_in_article(card_block(equipment=["a mat", "a cushion"]))])
    unknown = article("unknown-kit", date(2026, 11, 2), parts=[card_block(equipment=None)])
    files = render(site_content(with_mat, unknown), config)
    assert "Equipment a mat, a cushion" in text_of(page(files, "articles/wake-up-your-glutes/index.html"))
    assert "Equipment" not in text_of(page(files, "articles/unknown-kit/index.html").xpath("//main")[0])


def test_an_exercise_used_twice_gets_two_unique_anchors(config):
    twice = glute_article(parts=[used_in_article(card_block()), used_in_article(card_block())])
    files = render(site_content(twice), config)
    ids = page(files, "articles/wake-up-your-glutes/index.html").xpath('//section[@class="exercise"]/@id')
    assert ids == ["exercise-hip-extension", "exercise-hip-extension-2"]


def test_text_from_content_is_escaped(config):
    files = render(site_content(glute_article(title='Bump & <script>alert("x")</script>')), config)
    html = files["articles/wake-up-your-glutes/index.html"].decode()
    assert "<script>alert" not in html
    assert "Bump &amp; &lt;script&gt;" in html


# -- structured data -------------------------------------------------------------------------------------


# The exercises' structured data (HowTo, ExercisePlan, VideoObject, MedicalWebPage): tests/test_jsonld.py


def test_article_has_blogposting_jsonld(config):
    files = render(site_content(glute_article()), config)
    (posting,) = [
        d for d in jsonld(page(files, "articles/wake-up-your-glutes/index.html")) if d["@type"] == "BlogPosting"
    ]
    assert posting["headline"] == "Wake up your glutes"
    assert posting["datePublished"] == "2026-11-23"
    assert posting["author"] == {"@type": "Person", "name": "Maren Ellis"}
    assert posting["image"] == BASE + "images/glutes.jpg"
    assert posting["description"] == "Why your glutes grip, and a gentle hip extension to retrain them."


def test_jsonld_cannot_close_its_script_element(config):
    hostile = "Lift </script><script>alert(1)</script> gently <!-- & -->"
    files = render(site_content(glute_article(parts=[card_block(name=hostile)])), config)
    document = page(files, "articles/wake-up-your-glutes/index.html")
    assert not document.xpath("//script[not(@type) and not(@src)]")  # no inline script: only our own files
    (howto,) = [d for d in jsonld(document) if "HowTo" in d["@type"]]
    assert howto["name"] == hostile


# -- exercise library -------------------------------------------------------------------------------------


def test_exercise_library_lists_every_card(config):
    files = render(site_content(glute_article()), config)
    cards = page(files, "exercises/index.html").xpath('//ul[@class="cards"]/li')
    assert [(text_of(c.xpath("h2")[0]), c.xpath("h2/a/@href")[0]) for c in cards] == [
        ("Hip extension", "../exercises/hip-extension/"),
        ("Piriformis stretch", "../exercises/piriformis-stretch/"),
    ]
    assert "Equipment: a mat" in text_of(cards[1])


def test_exercise_page_shows_the_card_and_its_howto(config):
    files = render(site_content(glute_article()), config)
    document = page(files, "exercises/hip-extension/index.html")
    assert text_of(document.xpath("//main//h1")[0]) == "Hip extension"
    assert "roll onto your side and rest" in text_of(document.xpath('//div[@class="safety"]')[0])
    assert {d["url"] for d in jsonld(document)} == {BASE + "exercises/hip-extension/"}


def test_exercise_page_lists_the_published_articles_that_use_it(config):
    draft = article("draft-use", date(2026, 11, 25), draft=True, parts=[used_in_article(card_block())])
    other = article("other-use", date(2026, 11, 20), parts=[used_in_article(card_block())])
    files = render(site_content(draft, glute_article(), other), config)
    used_in = page(files, "exercises/hip-extension/index.html").xpath('//section[@class="used-in"]//h3/a/@href')
    assert used_in == ["../../articles/wake-up-your-glutes/", "../../articles/other-use/"]
    assert "No article uses this exercise yet" in text_of(page(files, "exercises/piriformis-stretch/index.html"))


def test_exercise_page_links_what_to_do_first_and_next(config):
    content = site_content(glute_article())
    stretch = CardLink(
        "piriformis-stretch", Source("content/exercises/hip-extension.md", 3), "'before'", "Piriformis stretch"
    )
    content.exercises["hip-extension"].block.prerequisites = [stretch]
    files = render(content, config)
    related = page(files, "exercises/hip-extension/index.html").xpath('//section[@class="related"]')[0]
    assert related.xpath('.//ol[@class="chain"]//a/@href') == ["../../exercises/piriformis-stretch/"]
    assert "Ready for more?" not in text_of(related)


# -- tags ---------------------------------------------------------------------------------------------------


def test_tag_page_lists_the_articles_with_that_tag(config):
    core_one = article("core-one", date(2026, 11, 10), tags=["Core", "breathing"])
    core_two = article("core-two", date(2026, 11, 12), tags=["core"])
    files = render(site_content(core_two, core_one), config)
    document = page(files, "tags/core/index.html")
    assert text_of(document.xpath("//h1")[0]) == "Articles about core"
    assert document.xpath("//main//article/h2/a/@href") == ["../../articles/core-two/", "../../articles/core-one/"]


def test_tags_index_links_every_tag_with_its_count(config):
    files = render(
        site_content(
            article("a", date(2026, 11, 1), tags=["core", "breathing"]), article("b", date(2026, 11, 2), tags=["core"])
        ),
        config,
    )
    items = page(files, "tags/index.html").xpath('//ul[@class="tag-index"]/li')
    assert [(li.xpath("a/@href")[0], text_of(li)) for li in items] == [
        ("../tags/breathing/", "breathing (1 article)"),
        ("../tags/core/", "core (2 articles)"),
    ]


# -- drafts ------------------------------------------------------------------------------------------------


def test_drafts_appear_nowhere(config):
    draft = article("secret-plan", date(2026, 11, 26), title="Secret plan", tags=["draft-only-tag"], draft=True)
    files = render(site_content(draft, glute_article()), config)
    for path, data in files.items():
        if isinstance(data, bytes):
            assert b"secret-plan" not in data and b"Secret plan" not in data, path
    assert "tags/draft-only-tag/index.html" not in files


def test_articles_kept_out_of_the_newsletter_are_still_on_the_blog(config):
    files = render(site_content(glute_article(newsletter=False)), config)
    assert "articles/wake-up-your-glutes/index.html" in files
    assert feedparser.parse(files["feed.xml"]).entries[0].title == "Wake up your glutes"


# -- feed ----------------------------------------------------------------------------------------------------


def test_feed_holds_the_newest_20_articles_with_unique_ids(config):
    files = render(Content(articles=many_articles(25), exercises={}), config)
    feed = feedparser.parse(files["feed.xml"])
    assert not feed.bozo
    assert [entry.link for entry in feed.entries] == [BASE + f"articles/post-{n:02d}/" for n in range(20)]
    assert len({entry.id for entry in feed.entries}) == 20
    assert feed.feed.updated == "2026-11-01T00:00:00+00:00"


def test_feed_entries_have_dates_author_and_absolute_content_links(config):
    files = render(site_content(glute_article()), config)
    feed = feedparser.parse(files["feed.xml"])
    (entry,) = feed.entries
    assert (entry.published, entry.updated) == ("2026-11-23T00:00:00+00:00", "2026-11-23T00:00:00+00:00")
    assert entry.author == "Maren Ellis"
    assert feed.feed.links[0].href == BASE + "feed.xml"
    content = lxml.html.fromstring(entry.content[0].value)
    references = content.xpath("//@href | //@src")
    assert BASE + "exercises/piriformis-stretch/" in references
    assert BASE + "images/glutes.jpg" in references
    assert all(ref.startswith("https://") for ref in references)


def test_feed_keeps_the_exercise_safety_note(config):
    files = render(site_content(glute_article()), config)
    entry = feedparser.parse(files["feed.xml"]).entries[0]
    assert "roll onto your side and rest" in entry.content[0].value


def test_a_later_review_updates_the_feed_entry(config):
    reviewed = glute_article(meta={"reviewed_by": "Dr Anouk Verhoeven", "last_reviewed": date(2026, 11, 25)})
    entry = feedparser.parse(render(site_content(reviewed), config)["feed.xml"]).entries[0]
    assert (entry.published, entry.updated) == ("2026-11-23T00:00:00+00:00", "2026-11-25T00:00:00+00:00")


# -- sitemap, robots, 404 -----------------------------------------------------------------------------------


def test_sitemap_lists_every_page_with_lastmod(config):
    files = render(site_content(glute_article(), *many_articles(3)), config)
    sitemap = lxml.etree.fromstring(files["sitemap.xml"])
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    entries = {url.findtext("s:loc", namespaces=ns): url.findtext("s:lastmod", namespaces=ns) for url in sitemap}
    pages = {page_url(path) for path in files if path.endswith("index.html")}
    assert set(entries) == pages
    assert entries[BASE + "articles/wake-up-your-glutes/"] == "2026-11-23"
    assert entries[BASE] == "2026-11-23"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", lastmod) for lastmod in entries.values())


def test_robots_txt_points_to_the_sitemap(config):
    robots = render(site_content(), config)["robots.txt"].decode()
    assert f"Sitemap: {BASE}sitemap.xml" in robots.splitlines()


def test_not_found_page_works_at_any_depth(config):
    files = render(site_content(), config)
    document = page(files, "404.html")
    links = document.xpath("//a/@href")
    assert all(href.startswith((BASE, "#", "https://lists.example")) for href in links)
    assert document.xpath("//style") and not document.xpath('//link[@rel="stylesheet"]')
    assert document.xpath('//meta[@name="robots"]/@content') == ["noindex"]


# -- on every page ----------------------------------------------------------------------------------------------


@pytest.fixture
def every_page(config):
    return html_pages(render(site_content(glute_article(), *many_articles(3)), config))


def test_every_page_has_language_viewport_description_and_canonical(every_page):
    for path, document in every_page.items():
        assert document.get("lang") == "en", path
        assert document.xpath('//meta[@name="viewport"]/@content') == ["width=device-width, initial-scale=1"], path
        assert document.xpath('//meta[@name="description"]/@content')[0].strip(), path
        assert document.xpath('//link[@rel="canonical"]/@href') == [page_url(path)], path


def test_every_page_has_opengraph_and_twitter_tags(every_page):
    for path, document in every_page.items():
        meta = {m.get("property") or m.get("name"): m.get("content") for m in document.xpath("//meta")}
        assert meta["og:url"] == page_url(path), path
        assert meta["og:title"] and meta["og:type"] and meta["og:site_name"], path
        assert meta["twitter:card"] in ("summary", "summary_large_image"), path
    article_meta = {
        m.get("property") or m.get("name"): m.get("content")
        for m in every_page["articles/wake-up-your-glutes/index.html"].xpath("//meta")
    }
    assert (article_meta["og:type"], article_meta["og:image"]) == ("article", BASE + "images/glutes.jpg")
    assert article_meta["twitter:card"] == "summary_large_image"


def test_every_page_announces_the_feed(every_page):
    for path, document in every_page.items():
        (href,) = document.xpath('//link[@rel="alternate"][@type="application/atom+xml"]/@href')
        assert href == BASE + "feed.xml" if path == "404.html" else local_target(path, href) == "feed.xml", path


def test_every_page_has_landmarks_a_skip_link_and_one_h1(every_page):
    for path, document in every_page.items():
        body = document.xpath("//body")[0]
        assert body.xpath("a[1]/@href") == ["#main"], path
        assert body.xpath("header") and body.xpath("header//nav") and body.xpath("footer"), path
        assert body.xpath("main/@id") == ["main"], path
        assert len(document.xpath("//h1")) == 1, path


def test_headings_never_skip_a_level(every_page):
    for path, document in every_page.items():
        levels = [int(h.tag[1]) for h in document.iter("h1", "h2", "h3", "h4", "h5", "h6")]
        assert levels[0] == 1, path
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), (path, levels)


def test_ids_are_unique_and_every_image_has_alt_text(every_page):
    for path, document in every_page.items():
        ids = document.xpath("//@id")
        assert len(ids) == len(set(ids)), path
        assert all(img.get("alt") is not None for img in document.xpath("//img")), path


def test_every_internal_link_opens_a_rendered_file(config):
    files = render(site_content(glute_article(), *many_articles(12)), config)
    files.setdefault("images/glutes.jpg", b"")  # content media, not part of this fixture project
    for path, document in html_pages(files).items():
        if path == "404.html":
            continue
        for href in document.xpath("//a/@href | //link/@href | //img/@src"):
            target = local_target(path, href)
            assert target is None or target in files, (path, href)


def test_no_page_loads_css_scripts_or_fonts_from_elsewhere(every_page, config):
    for path, document in every_page.items():
        stylesheets = document.xpath('//link[@rel="stylesheet"]/@href | //link[@rel="preload"]/@href')
        scripts = document.xpath("//script/@src")
        assert not [url for url in stylesheets + scripts if re.match(r"(https?:)?//", url)], path
    css = template_file(config, "site", "static/style.css").read_text()
    assert not re.search(r"@import|@font-face|url\(", css)


def test_stylesheet_has_a_dark_palette_and_focus_styles(config):
    css = template_file(config, "site", "static/style.css").read_text()
    assert "@media (prefers-color-scheme: dark)" in css
    assert ":focus-visible" in css


# -- signup form ----------------------------------------------------------------------------------------------------


def test_every_page_has_the_providers_signup_form(every_page):
    for path, document in every_page.items():
        (form,) = document.xpath("//form")
        assert (form.get("action"), form.get("method")) == (SIGNUP.action, SIGNUP.method), path
        hidden = {i.get("name"): i.get("value") for i in form.xpath('.//input[@type="hidden"]')}
        assert hidden == SIGNUP.hidden_fields, path
        (email,) = form.xpath('.//input[@type="email"]')
        assert email.get("name") == SIGNUP.email_field
        assert email.get("required") is not None and email.get("autocomplete") == "email"
        assert form.xpath(f'.//label[@for="{email.get("id")}"]'), path
        assert SIGNUP.note in text_of(form), path
        assert "The latest articles and exercise videos in your inbox every week." in text_of(form.getparent()), path


def test_signup_form_without_a_note_or_hidden_fields(config):
    files = render(
        site_content(), config, SignupForm(action="mailto:hello@example.com?subject=Subscribe", method="get")
    )
    (form,) = page(files, "index.html").xpath("//form")
    assert form.get("method") == "get"
    assert not form.xpath('.//input[@type="hidden"]') and not form.xpath('.//p[@class="signup__note"]')


# -- template errors -------------------------------------------------------------------------------------------------


def test_template_syntax_error_names_the_file_and_line(make_project):
    root = make_project()
    template = override_template(root, "site/article.html.j2")
    lines = template.read_text().splitlines()
    lines.insert(4, "{% if %}")
    template.write_text("\n".join(lines))
    with pytest.raises(ContentError) as caught:
        render(site_content(glute_article()), load_config(root))
    assert (caught.value.path, caught.value.line) == ("templates/site/article.html.j2", 5)
    assert "syntax error" in caught.value.message


def test_undefined_variable_names_the_file_and_line(make_project):
    root = make_project()
    template = override_template(root, "site/_exercise.html.j2")
    text = template.read_text()
    line = text[: text.index("{{ block.name }}")].count("\n") + 1
    template.write_text(text.replace("{{ block.name }}", "{{ block.nmae }}", 1))
    with pytest.raises(ContentError) as caught:
        render(site_content(glute_article()), load_config(root))
    assert (caught.value.path, caught.value.line) == ("templates/site/_exercise.html.j2", line)
    assert "nmae" in caught.value.message


def test_error_in_an_imported_template_names_that_template(make_project):
    root = make_project()
    template = override_template(root, "site/_exercise.html.j2")
    template.write_text(template.read_text() + "\n{% endif %}\n")
    line = len(template.read_text().splitlines())
    with pytest.raises(ContentError) as caught:
        render(site_content(glute_article()), load_config(root))
    assert (caught.value.path, caught.value.line) == ("templates/site/_exercise.html.j2", line)


def test_include_of_a_missing_template_names_the_including_line(make_project):
    root = make_project()
    template = override_template(root, "site/base.html.j2")
    base = template.read_text().replace('{% include "_signup.html.j2" %}', '{% include "_sign_up.html.j2" %}')
    template.write_text(base)
    line = base[: base.index('{% include "_sign_up.html.j2" %}')].count("\n") + 1
    with pytest.raises(ContentError) as caught:
        render(site_content(glute_article()), load_config(root))
    assert (caught.value.path, caught.value.line) == ("templates/site/base.html.j2", line)
    assert "_sign_up.html.j2" in caught.value.message
