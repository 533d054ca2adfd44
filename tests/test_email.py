"""The weekly email: what the HTML and the text part show, safety notes, links, size, errors."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter
from datetime import date
from html import unescape
from html.parser import HTMLParser

import markdown
import pytest
from helpers import REPO, assert_golden, override_template

from pipeline.build.images import prepare_pictures
from pipeline.content.assemble import assemble_issue, assemble_issues
from pipeline.content.load import load_content
from pipeline.core.config import load_config
from pipeline.core.errors import ContentError, PipelineError
from pipeline.core.model import (
    Article,
    Content,
    ExerciseBlock,
    IssueNote,
    Prose,
    Source,
)
from pipeline.render.email import (
    GMAIL_CLIP_BYTES,
    NO_EQUIPMENT,
    SIZE_BUDGET_BYTES,
    ConvertedFields,
    content_hash,
    render_email,
    youtube_id,
)
from pipeline.tools.images import ImageStore

WEEK = "2026-W48"
UNSUBSCRIBE = "https://strongfromwithin.example/unsubscribe/"
ARTICLE_PATH = "content/articles/wake-up-your-glutes.md"


# --- building blocks ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config():
    return load_config(REPO)


def excerpt_config(config):
    return dataclasses.replace(config, email=dataclasses.replace(config.email, content="excerpt"))


def hip_extension(**changes) -> ExerciseBlock:
    block = ExerciseBlock(
        name="Hip extension",
        slug="hip-extension",
        source=Source(ARTICLE_PATH, 20),
        summary="A small bridge that teaches your glutes to lift you.",
        benefits="Wakes up the glutes and the deep core.",
        steps=[
            "Lie on your back with your knees bent and feet flat.",
            "Breathe out, lift your pelvic floor and lift your hips from the **hip**.",
            "Lower slowly and let everything relax.",
        ],
        tips=[
            "Only do as many as you can with your pelvic floor switched on.",
            "Once you can do 20 with good form, move on to the [clam](../exercises/side-lying-clam.md).",
            "Take a full breath between every repetition.",
        ],
        progression="When 20 clean repetitions feel easy, add a second set.",
        safety="Stop if you feel heaviness or dragging in your pelvis.",
        before="Stretch your piriformis first if your glutes feel tight.",
        equipment=[],
        pregnancy="safe",
        cautions=["With a prolapse, keep the lift small."],
    )
    return dataclasses.replace(block, **changes)


def article(slug="wake-up-your-glutes", day=date(2026, 11, 24), parts=None, **fields) -> Article:
    fields.setdefault("title", "Wake up your glutes")
    fields.setdefault("summary", "Why your glutes *grip*, and how to wake them up.")
    if parts is None:
        parts = [
            Prose("Your gluteus maximus is the biggest muscle in your bottom.", Source(ARTICLE_PATH, 8)),
            hip_extension(),
            Prose("Questions? Read [about breathing](breathing.md) first.", Source(ARTICLE_PATH, 40)),
        ]
    return Article(slug=slug, date=day, source=Source(f"content/articles/{slug}.md"), parts=parts, **fields)


def issue_of(*articles: Article, config, intro: str = "", subject: str | None = None):
    notes = {WEEK: IssueNote(week=WEEK, source=Source(f"content/issues/{WEEK}.md"), intro=intro, subject=subject)}
    content = Content(articles=list(articles), exercises={}, issue_notes=notes)
    return assemble_issue(content, config, WEEK)


def render(*articles: Article, config=None, unsubscribe_url=UNSUBSCRIBE, **note):
    config = config or load_config(REPO)
    return render_email(issue_of(*(articles or (article(),)), config=config, **note), config, unsubscribe_url)


class Links(HTMLParser):
    """Every href and src of a document, and the alt of every image."""

    def __init__(self, html: str):
        super().__init__()
        self.urls: list[str] = []
        self.images: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.urls += [value for name, value in attrs if name in ("href", "src") and value]
        if tag == "img":
            self.images.append(attributes)


def visible_text(html: str) -> str:
    """The words a reader sees, in order: inline tags vanish, other tags separate words."""
    body = html[html.index("<body") :]
    words = re.sub(r"</?(?:a|em|strong|span|b|i|code)\b[^>]*>", "", body)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", words)).split())


# --- the real content: golden files, safety, size --------------------------------------------


@pytest.fixture(scope="module")
def real_issue(config):
    return assemble_issue(load_content(config), config, WEEK)


@pytest.fixture(scope="module")
def real_pictures(config, tmp_path_factory):
    """The real week's pictures, resized as the build resizes them (into a scratch store)."""
    return prepare_pictures(config, load_content(config), ImageStore(tmp_path_factory.mktemp("pictures"))).pictures


@pytest.fixture(scope="module")
def real_email(real_issue, config, real_pictures):
    return render_email(real_issue, config, config.unsubscribe_url, real_pictures)


def test_golden_email_html_of_the_real_week(real_email):
    # One tag per line, so a change shows as a readable diff (MJML writes the body on one line).
    assert_golden("email/2026-W48.html", real_email.html.replace("><", ">\n<"))


def test_golden_email_text_of_the_real_week(real_email):
    assert_golden("email/2026-W48.txt", real_email.text)


def test_golden_email_text_of_the_real_week_in_excerpt_mode(real_issue, config, real_pictures):
    email = render_email(real_issue, excerpt_config(config), config.unsubscribe_url, real_pictures)
    assert_golden("email/2026-W48-excerpt.txt", email.text)


def test_the_versions_of_a_week_rendered_with_shared_fields_are_those_rendered_alone(config, real_pictures):
    issues = assemble_issues(load_content(config), config, WEEK)
    assert len(issues) > 1, "the real week has a version per stage"
    fields = ConvertedFields(config, real_pictures)
    shared = [render_email(issue, config, UNSUBSCRIBE, real_pictures, fields=fields) for issue in issues]
    alone = [render_email(issue, config, UNSUBSCRIBE, real_pictures) for issue in issues]
    assert [(email.html, email.text) for email in shared] == [(email.html, email.text) for email in alone]


def test_each_markdown_field_is_converted_once_for_all_the_versions_of_a_week(config, real_pictures):
    issues = assemble_issues(load_content(config), config, WEEK)
    fields = ConvertedFields(config, real_pictures)
    conversions: Counter[tuple[str, str]] = Counter()
    convert = fields.markdown._convert

    def counted(text, source_path, with_text=False):
        conversions[(text, source_path)] += 1
        return convert(text, source_path, with_text)

    fields.markdown._convert = counted
    for issue in issues:
        render_email(issue, config, UNSUBSCRIBE, real_pictures, fields=fields)
    assert conversions and max(conversions.values()) == 1
    body = real_issue_body(issues[0])
    assert (body, issues[0].articles[0].source.path) in conversions


def real_issue_body(issue) -> str:
    return next(part.markdown for part in issue.articles[0].parts if isinstance(part, Prose))


def test_every_exercise_of_the_real_week_shows_its_safety_note_in_both_parts(real_issue, real_email):
    exercises = [block for a in real_issue.articles for block in a.exercises]
    assert exercises, "the real week should have exercises"
    html_words, text_words = visible_text(real_email.html), " ".join(real_email.text.replace("!!", "").split())
    for block in exercises:
        safety_words = " ".join(re.sub(r"[*_`]", "", block.safety).split())[:60]
        assert safety_words in html_words, block.name
        assert safety_words in text_words, block.name
    assert real_email.html.count("Safety first") == len(exercises)
    assert real_email.text.count("!! SAFETY FIRST") == len(exercises)


def test_the_real_week_stays_under_gmails_clipping_limit(real_email):
    assert len(real_email.html.encode("utf-8")) < GMAIL_CLIP_BYTES


def long_article(number: int) -> Article:
    slug = f"long-read-{number}"
    path = f"content/articles/{slug}.md"
    paragraph = (
        "Recovery after birth is rarely a straight line. Some days your core feels steady and the "
        "next it feels like starting again; both are normal, and neither means you are doing it "
        "wrong. What matters is coming back to the basics: an easy breath, a pelvic floor that "
        "lifts and lets go, and movements small enough that you can keep good form from the first "
        "repetition to the last. See [the breathing guide](breathing.md) for the first step."
    )
    prose = [Prose(f"## Part {n}\n\n" + "\n\n".join([paragraph] * 3), Source(path, 10 * n)) for n in range(1, 4)]
    cards = [
        hip_extension(
            name=f"Exercise {number}.{n}",
            slug=f"exercise-{n}",
            steps=hip_extension().steps * 2,
            tips=hip_extension().tips * 2,
        )
        for n in range(1, 3)
    ]
    parts = [prose[0], cards[0], prose[1], cards[1], prose[2]]
    return article(slug=slug, day=date(2026, 11, 23 + number % 7), parts=parts, title=f"A long read, part {number}")


def test_a_week_of_several_long_articles_stays_under_gmails_clipping_limit(config):
    articles = [long_article(n) for n in range(1, 6)]  # five articles of 1,200 words with two exercises each
    email = render(*articles, intro="A bumper issue this week.")
    assert len(email.text.split()) > 5000
    assert email.excerpted == []
    assert len(email.html.encode("utf-8")) < SIZE_BUDGET_BYTES < GMAIL_CLIP_BYTES


def test_a_week_too_long_for_one_email_cuts_its_last_articles_to_excerpts():
    articles = [long_article(n) for n in range(1, 11)]  # ten: too much for one email
    email = render(*articles)
    assert len(email.html.encode("utf-8")) <= SIZE_BUDGET_BYTES
    newest_first = [a.slug for a in sorted(articles, key=lambda a: a.date, reverse=True)]
    kept, cut = newest_first[: -len(email.excerpted)], newest_first[-len(email.excerpted) :]
    assert email.excerpted == cut and len(kept) >= 5
    text = visible_text(email.html)
    for slug in kept:
        assert f"Exercise {slug.rpartition('-')[2]}.1 Equipment" in text  # the card is there...
    for slug in cut:
        assert f"Exercise {slug.rpartition('-')[2]}.1 Equipment" not in text  # ...or only its name, linking to the blog
    assert text.count("Read on the blog") == len(cut)
    assert text.count("Safety first") == 2 * len(kept)
    assert text.endswith(load_config(REPO).email.disclaimer)  # the footer is not clipped


def test_cutting_a_week_to_excerpts_converts_its_markdown_no_more_than_one_rendering_does(config, monkeypatch):
    conversions: Counter[str] = Counter()
    convert = markdown.Markdown.convert

    def counting_convert(md, text):
        conversions[text] += 1
        return convert(md, text)

    monkeypatch.setattr(markdown.Markdown, "convert", counting_convert)
    articles = [long_article(n) for n in range(1, 11)]
    render(*articles, config=excerpt_config(config))  # fits at the first try
    rendered_once, conversions = conversions, Counter()
    email = render(*articles)
    assert len(email.excerpted) >= 2  # full, all excerpts, then one more article whole per try
    assert conversions == rendered_once


def test_a_week_too_long_even_as_excerpts_is_refused():
    summary = "A long summary that goes on and on about breathing, posture and patience. " * 12
    articles = [article(slug=f"note-{n}", summary=summary, parts=[]) for n in range(80)]
    with pytest.raises(PipelineError) as error:
        render(*articles)
    assert "even with every article as an excerpt" in str(error.value)
    assert "move some articles to another week" in str(error.value)


# --- what the HTML shows ------------------------------------------------------------------------


class TestHtml:
    def test_has_the_site_title_the_week_and_the_language(self):
        html = render().html
        assert '<html lang="en"' in html
        assert "Strong From Within" in visible_text(html)
        assert "Week of 23 November 2026" in visible_text(html)

    def test_hides_the_preview_text_in_a_preheader(self):
        html = render().html
        preheader = re.search(r'<div style="display:none;[^"]*">([^<]*)</div>', html)
        assert preheader.group(1) == "Why your glutes grip, and how to wake them up."

    def test_shows_the_intro_of_the_issue_note(self):
        assert "Hello, and welcome to this week." in visible_text(
            render(intro="Hello, and *welcome* to this week.").html
        )

    def test_the_article_title_links_to_the_article_on_the_blog(self):
        html = render().html
        assert re.search(
            r'<a href="https://strongfromwithin.example/articles/wake-up-your-glutes/"[^>]*>Wake up your glutes</a>',
            html,
        )

    def test_shows_the_whole_article_in_full_mode(self):
        text = visible_text(render().html)
        assert "Your gluteus maximus is the biggest muscle in your bottom." in text
        assert "Questions? Read about breathing first." in text

    def test_an_exercise_card_shows_every_part_of_the_exercise(self):
        text = visible_text(render().html)
        for expected in (
            "Hip extension",
            "Equipment: No equipment needed",
            "A small bridge that teaches your glutes to lift you.",
            "Safety first Stop if you feel heaviness or dragging in your pelvis.",
            "Suitable at any stage of pregnancy.",
            "With a prolapse, keep the lift small.",
            "Before you start Stretch your piriformis first",
            "Why it helps Wakes up the glutes",
            "How to do it",
            "Top tips",
            "When to progress When 20 clean repetitions feel easy",
        ):
            assert expected in text

    def test_steps_and_tips_are_numbered_lists(self):
        html = render().html
        lists = re.findall(r"<ol[^>]*>(.*?)</ol>", html, re.DOTALL)
        assert [len(re.findall(r"<li\b", items)) for items in lists] == [3, 3]

    def test_the_safety_note_comes_before_the_steps(self):
        text = visible_text(render().html)
        assert text.index("Safety first") < text.index("How to do it")

    def test_the_safety_note_keeps_its_highlight_without_a_style_sheet(self):
        # Clients that strip <style> still see the box: its styles are inline.
        safety_cell = re.search(r'<td class="safety"[^>]*>', render().html).group()
        assert re.search(r"border-left: ?4px solid", safety_cell) and "background-color:" in safety_cell

    @pytest.mark.parametrize("equipment, shown", [([], NO_EQUIPMENT), (["mat", "cushion"], "Equipment: mat, cushion")])
    def test_equipment(self, equipment, shown):
        assert shown in visible_text(render(article(parts=[hip_extension(equipment=equipment)])).html)

    def test_says_nothing_about_equipment_the_writer_did_not_mention(self):
        assert "Equipment" not in visible_text(render(article(parts=[hip_extension(equipment=None)])).html)

    def test_a_library_exercise_shows_the_articles_reps_sets_and_note(self):
        block = hip_extension(ref="hip-extension", reps="10", sets="2", note="Keep the movement *small*.")
        text = visible_text(render(article(parts=[block])).html)
        assert "Reps: 10 · Sets: 2" in text
        assert "Note: Keep the movement small." in text

    def test_a_youtube_video_is_a_thumbnail_from_the_blog_linking_out(self):
        # The thumbnail is the PNG the blog build draws (tests/test_video.py), never the host's picture.
        html = render(article(parts=[hip_extension(video="https://youtu.be/dQw4w9WgXcQ")])).html
        thumbnail = next(image for image in Links(html).images if "/media/video/" in image["src"])
        assert thumbnail["src"] == "https://strongfromwithin.example/media/video/wake-up-your-glutes/hip-extension.png"
        assert thumbnail["alt"] == "Play the video: Hip extension (opens YouTube)"
        assert re.search(
            r'<a href="https://youtu.be/dQw4w9WgXcQ"[^>]*><img src="https://strongfromwithin.example/media/video/', html
        )
        assert not re.search(r"<(iframe|video|embed|object)\b", html)
        assert "youtube.com" not in " ".join(image["src"] for image in Links(html).images)

    def test_another_video_host_gets_a_text_link(self):
        html = render(article(parts=[hip_extension(video="https://videos.example.org/hip-extension")])).html
        assert re.search(
            r'<a class="video-link" href="https://videos.example.org/hip-extension"[^>]*>▶ Watch the video</a>', html
        )
        assert not any("/media/video/" in image["src"] for image in Links(html).images)

    def test_the_footer_says_why_how_to_leave_where_we_are_and_the_disclaimer(self, config):
        html = render(unsubscribe_url="{{ unsubscribe_url }}").html
        footer = visible_text(html)[-600:]
        assert config.email.why_you_get_this in footer
        assert config.email.postal_address in footer
        assert config.email.disclaimer in footer
        assert '<a href="{{ unsubscribe_url }}"' in html  # a provider's merge tag passes through untouched

    def test_every_link_and_image_is_absolute(self):
        page = article(image="../images/glutes.jpg", image_alt="Lying on a mat")
        links = Links(render(page).html).urls
        assert "https://strongfromwithin.example/exercises/side-lying-clam/" in links
        assert "https://strongfromwithin.example/articles/breathing/" in links
        assert "https://strongfromwithin.example/images/glutes.jpg" in links
        assert [url for url in links if not url.startswith(("https://", "mailto:"))] == []

    def test_every_image_has_alt_text(self):
        page = article(
            image="../images/glutes.jpg", parts=[hip_extension(video="https://www.youtube.com/watch?v=dQw4w9WgXcQ")]
        )
        images = Links(render(page).html).images
        assert len(images) == 2 and all(image.get("alt") for image in images)

    def test_an_article_image_without_alt_text_falls_back_to_the_title(self):
        images = Links(render(article(image="../images/glutes.jpg")).html).images
        assert images[0]["alt"] == "Wake up your glutes"

    def test_fits_a_600px_column_and_a_phone(self):
        html = render().html
        assert "max-width:600px" in html
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "@media only screen and (max-width: 479px)" in html

    def test_uses_no_dark_mode_css_that_gmail_and_outlook_lack(self):
        # caniemail: prefers-color-scheme and the color-scheme meta are unsupported in Gmail and
        # Outlook; the light design keeps its contrast when a client darkens it by itself.
        html = render().html
        assert "prefers-color-scheme" not in html
        assert 'name="color-scheme"' not in html

    def test_hand_written_html_in_an_article_cannot_break_the_email(self):
        messy = Prose(
            '<p>An unclosed paragraph<p>and <img src="images/x.jpg" alt="x"> a second', Source(ARTICLE_PATH, 3)
        )
        html = render(article(parts=[messy])).html
        assert "An unclosed paragraph" in html and "a second" in html

    def test_an_autolinked_address_stays_a_mailto_link(self):
        prose = Prose("Write to <hello@strongfromwithin.example>.", Source(ARTICLE_PATH, 3))
        email = render(article(parts=[prose]))
        assert "Write to hello@strongfromwithin.example." in visible_text(email.html)
        assert "Write to hello@strongfromwithin.example." in email.text


# --- the plain-text part ------------------------------------------------------------------------


class TestText:
    def test_has_the_title_article_and_link(self):
        text = render().text
        web_copy = "https://strongfromwithin.example/issues/2026-W48/"
        assert text.startswith(f"View in browser:\n{web_copy}\n\nStrong From Within\nWeek of 23 November 2026\n")
        assert (
            "Wake up your glutes\n===================\n24 November 2026\nhttps://strongfromwithin.example/articles/wake-up-your-glutes/\n"
            in text
        )

    def test_steps_and_tips_stay_numbered(self):
        text = render().text
        assert "How to do it:\n1. Lie on your back with your knees bent and feet flat.\n2. Breathe out," in text
        assert "Top tips:\n1. Only do as many as you can" in text
        assert "\n3. Take a full breath between every repetition.\n" in text

    def test_links_are_spelled_out_after_their_text(self):
        assert "move on to the clam\n   (https://strongfromwithin.example/exercises/side-lying-clam/)." in render().text

    def test_the_safety_note_is_marked_on_every_line(self):
        long_note = "Stop if you feel heaviness or dragging in your pelvis. " * 4
        text = render(article(parts=[hip_extension(safety=long_note)])).text
        block = text[text.index("!! SAFETY FIRST") :].split("\n\n")[0].splitlines()
        assert len(block) >= 6  # the title, the wrapped note, the pregnancy line and the caution
        assert all(line.startswith("!! ") for line in block)

    def test_has_the_footer(self, config):
        text = render(unsubscribe_url="*|UNSUB|*").text
        assert "Unsubscribe: *|UNSUB|*\n" in text
        for line in (config.email.why_you_get_this, config.email.postal_address):
            assert line in text
        assert " ".join(config.email.disclaimer.split()) in " ".join(text.split())

    def test_wraps_at_72_columns_without_breaking_urls(self):
        long_url = "https://strongfromwithin.example/articles/a-very-long-address-that-is-longer-than-one-line-of-text/"
        prose = Prose(
            f"Read [this piece]({long_url}) and also <{long_url}> before you start. " * 3, Source(ARTICLE_PATH, 3)
        )
        text = render(article(parts=[prose])).text
        too_long = [line for line in text.splitlines() if len(line) > 72]
        assert too_long and all(long_url in line for line in too_long)
        assert text.count(long_url) == 6

    def test_needs_no_markdown_to_read(self):
        text = render(
            article(
                parts=[Prose("Lift from the **hip**, not the back.\n\n2\\. is not a list", Source(ARTICLE_PATH, 3))]
            )
        ).text
        assert "Lift from the hip, not the back." in text
        assert "\n2. is not a list" in text


# --- excerpt mode ------------------------------------------------------------------------------


class TestExcerpt:
    def test_shows_the_summary_and_a_read_on_the_blog_button(self, config):
        email = render(config=excerpt_config(config))
        html = email.html
        assert email.excerpted == []  # the writer chose excerpts; nothing was cut for size
        assert "Why your glutes grip, and how to wake them up." in visible_text(html)
        assert re.search(
            r'<a href="https://strongfromwithin.example/articles/wake-up-your-glutes/"[^>]*>\s*Read on the blog\s*</a>',
            html,
        )
        assert "Your gluteus maximus" not in html

    def test_names_each_exercise_with_a_link_to_its_card_in_the_article_and_no_instructions(self, config):
        library = hip_extension(
            name="Side-lying clam", slug="side-lying-clam", ref="side-lying-clam", note="Keep it small."
        )
        email = render(article(parts=[hip_extension(), library, hip_extension()]), config=excerpt_config(config))
        article_url = "https://strongfromwithin.example/articles/wake-up-your-glutes/"
        exercise_links = [url for url in Links(email.html).urls if "#" in url]
        assert exercise_links == [
            f"{article_url}#exercise-hip-extension",
            f"{article_url}#exercise-side-lying-clam",
            f"{article_url}#exercise-hip-extension-2",
        ]
        for instruction in ("Lie on your back with your knees bent", "Only do as many as you can", "Safety first"):
            assert instruction not in email.html
            assert instruction not in email.text

    def test_the_text_part_has_the_summary_the_exercises_and_the_link(self, config):
        text = render(config=excerpt_config(config)).text
        assert "Why your glutes grip, and how to wake them up." in text
        words = " ".join(text.split())
        assert (
            "- Hip extension (https://strongfromwithin.example/articles/wake-up-your-glutes/#exercise-hip-extension)"
            in words
        )
        assert "Read on the blog: https://strongfromwithin.example/articles/wake-up-your-glutes/" in words


# --- subject, preview, hash --------------------------------------------------------------------


def test_subject_and_preview_are_plain_text():
    email = render(subject="Breathe,\n then  wake up")
    assert email.subject == "Breathe, then wake up"
    assert email.preview_text == "Why your glutes grip, and how to wake them up."


def test_content_hash_covers_subject_preview_html_and_text():
    email = render()
    assert email.content_hash == content_hash(email.subject, email.preview_text, email.html, email.text)
    assert (
        email.content_hash
        == hashlib.sha256(
            b"\0".join(part.encode() for part in (email.subject, email.preview_text, email.html, email.text)) + b"\0"
        ).hexdigest()
    )


def test_rendering_twice_gives_the_same_email():
    assert render().content_hash == render().content_hash


def test_a_change_in_any_article_changes_the_hash():
    changed = article(parts=[hip_extension(safety="Stop if anything hurts.")])
    assert render().content_hash != render(changed).content_hash


def test_an_exercise_without_a_safety_note_is_refused():
    with pytest.raises(ContentError) as error:
        render(article(parts=[hip_extension(safety="  ")]))
    assert str(error.value).startswith(f"{ARTICLE_PATH}:20: exercise 'Hip extension' has no safety note")


@pytest.mark.parametrize(
    "url, video_id",
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42", "dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ?si=abc", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/embed/dQw4w9WgXcQ", "dQw4w9WgXcQ"),
        ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "dQw4w9WgXcQ"),
        ("https://m.youtube.com/shorts/dQw4w9WgXcQ", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/@strongfromwithin", None),
        ("https://vimeo.com/76979871", None),
    ],
)
def test_youtube_id(url, video_id):
    assert youtube_id(url) == video_id


# --- template and MJML errors --------------------------------------------------------------------


@pytest.fixture
def project_config(make_project):
    return load_config(make_project())


def edit_template(config, name: str, old: str, new: str) -> None:
    path = override_template(config.root, f"email/{name}")
    source = path.read_text(encoding="utf-8")
    assert old in source
    path.write_text(source.replace(old, new, 1), encoding="utf-8")


def line_of(config, name: str, text: str) -> int:
    source = (config.templates_dir / "email" / name).read_text(encoding="utf-8")
    return source[: source.index(text)].count("\n") + 1


def render_with(config):
    return render(config=config)


class TestTemplateErrors:
    def test_a_syntax_error_names_the_template_and_line(self, project_config):
        edit_template(project_config, "issue.mjml.j2", "{{ week_label }}", "{{ week_label ) }}")
        with pytest.raises(ContentError) as error:
            render_with(project_config)
        line = line_of(project_config, "issue.mjml.j2", "{{ week_label ) }}")
        assert str(error.value).startswith(f"templates/email/issue.mjml.j2:{line}: template syntax error")

    def test_an_undefined_variable_names_the_template_line_and_the_variables_there_are(self, project_config):
        edit_template(project_config, "issue.mjml.j2", "{{ week_label }}", "{{ week_lable }}")
        with pytest.raises(ContentError) as error:
            render_with(project_config)
        line = line_of(project_config, "issue.mjml.j2", "{{ week_lable }}")
        assert str(error.value).startswith(f"templates/email/issue.mjml.j2:{line}: 'week_lable' is undefined")
        assert "week_label" in str(error.value)

    def test_an_error_in_an_included_template_names_that_file(self, project_config):
        edit_template(project_config, "exercise.mjml.j2", "{{ exercise.name }}", "{{ exercise.title }}")
        with pytest.raises(ContentError) as error:
            render_with(project_config)
        line = line_of(project_config, "exercise.mjml.j2", "{{ exercise.title }}")
        assert str(error.value).startswith(f"templates/email/exercise.mjml.j2:{line}: ")
        assert "has no attribute 'title'" in str(error.value)

    def test_an_error_in_the_text_template_names_it(self, project_config):
        edit_template(project_config, "email.txt.j2", "{{ email.postal_address }}", "{{ postal_address }}")
        with pytest.raises(ContentError) as error:
            render_with(project_config)
        line = line_of(project_config, "email.txt.j2", "{{ postal_address }}")
        assert str(error.value).startswith(f"templates/email/email.txt.j2:{line}: 'postal_address' is undefined")

    def test_an_unclosed_mjml_tag_names_the_line_that_opens_it(self, project_config):
        edit_template(
            project_config, "issue.mjml.j2", "        </mj-text>\n{% if article.excerpt %}", "{% if article.excerpt %}"
        )
        with pytest.raises(ContentError) as error:
            render_with(project_config)
        message = str(error.value)
        assert message.startswith("templates/email/issue.mjml.j2:")
        assert "the MJML does not compile" in message and "</mj-column> closes a tag that is not open" in message

    def test_a_misspelt_mjml_element_names_its_line(self, project_config):
        edit_template(project_config, "issue.mjml.j2", "<mj-divider />", "<mj-divder />")
        with pytest.raises(ContentError) as error:
            render_with(project_config)
        line = line_of(project_config, "issue.mjml.j2", "<mj-divder />")
        assert str(error.value).startswith(f"templates/email/issue.mjml.j2:{line}: MJML has no element <mj-divder>")

    def test_a_missing_template_is_named(self, project_config):
        edit_template(project_config, "email.txt.j2", "{{ email.postal_address }}", '{% include "footer.txt.j2" %}')
        with pytest.raises(ContentError) as error:
            render_with(project_config)
        assert str(error.value).startswith("templates/email/footer.txt.j2:1: template not found")
