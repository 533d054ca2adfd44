"""Which articles go into a week's issue, in what order, under which subject."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.content.assemble import assemble_issue, issue_key, latest_week
from pipeline.core.config import Config, SiteConfig
from pipeline.core.errors import ContentError
from pipeline.core.model import Article, Content, IssueNote, Source

WEEK = "2026-W48"  # Monday 23 to Sunday 29 November 2026
CONFIG = Config(
    root=Path("."), site=SiteConfig(title="Strong From Within", base_url="https://strongfromwithin.example")
)


def article(slug: str, day: date, **fields) -> Article:
    fields.setdefault("title", slug.replace("-", " ").capitalize())
    fields.setdefault("summary", f"Summary of {slug}.")
    return Article(slug=slug, date=day, source=Source(f"content/articles/{slug}.md"), **fields)


def content(*articles: Article, notes: list[IssueNote] = ()) -> Content:
    newest_first = sorted(articles, key=lambda a: a.date, reverse=True)
    return Content(articles=newest_first, exercises={}, issue_notes={note.week: note for note in notes})


def note(**fields) -> IssueNote:
    return IssueNote(week=WEEK, source=Source(f"content/issues/{WEEK}.md"), **fields)


def slugs(issue) -> list[str]:
    return [a.slug for a in issue.articles]


class TestWeekSelection:
    def test_takes_articles_from_monday_to_sunday_inclusive(self):
        articles = [
            article("sunday-before", date(2026, 11, 22)),
            article("monday", date(2026, 11, 23)),
            article("sunday", date(2026, 11, 29)),
            article("monday-after", date(2026, 11, 30)),
        ]
        issue = assemble_issue(content(*articles), CONFIG, WEEK)
        assert sorted(slugs(issue)) == ["monday", "sunday"]

    def test_leaves_out_drafts(self):
        issue = assemble_issue(
            content(article("ready", date(2026, 11, 24)), article("unfinished", date(2026, 11, 25), draft=True)),
            CONFIG,
            WEEK,
        )
        assert slugs(issue) == ["ready"]

    def test_leaves_out_articles_marked_newsletter_false(self):
        issue = assemble_issue(
            content(
                article("for-email", date(2026, 11, 24)), article("blog-only", date(2026, 11, 25), newsletter=False)
            ),
            CONFIG,
            WEEK,
        )
        assert slugs(issue) == ["for-email"]

    def test_a_week_without_articles_gives_no_issue(self):
        assert assemble_issue(content(article("last-week", date(2026, 11, 20))), CONFIG, WEEK) is None

    def test_a_week_with_only_drafts_and_blog_only_articles_gives_no_issue(self):
        articles = [
            article("draft", date(2026, 11, 24), draft=True),
            article("blog", date(2026, 11, 25), newsletter=False),
        ]
        assert assemble_issue(content(*articles), CONFIG, WEEK) is None

    def test_an_issue_note_alone_gives_no_issue(self):
        assert assemble_issue(content(notes=[note(subject="Hello", intro="Nothing yet.")]), CONFIG, WEEK) is None

    def test_issue_knows_its_week_and_monday(self):
        issue = assemble_issue(content(article("a", date(2026, 11, 27))), CONFIG, WEEK)
        assert (issue.week, issue.monday) == (WEEK, date(2026, 11, 23))


class TestOrder:
    ARTICLES = (
        article("oldest", date(2026, 11, 23)),
        article("middle", date(2026, 11, 25)),
        article("newest", date(2026, 11, 28)),
    )

    def test_without_a_note_the_newest_comes_first(self):
        assert slugs(assemble_issue(content(*self.ARTICLES), CONFIG, WEEK)) == ["newest", "middle", "oldest"]

    def test_the_note_order_comes_first_then_the_rest_newest_first(self):
        issue = assemble_issue(content(*self.ARTICLES, notes=[note(order=["oldest"])]), CONFIG, WEEK)
        assert slugs(issue) == ["oldest", "newest", "middle"]

    def test_the_note_can_order_every_article(self):
        issue = assemble_issue(
            content(*self.ARTICLES, notes=[note(order=["middle", "oldest", "newest"])]), CONFIG, WEEK
        )
        assert slugs(issue) == ["middle", "oldest", "newest"]

    def test_a_slug_listed_twice_appears_once(self):
        issue = assemble_issue(content(*self.ARTICLES, notes=[note(order=["middle", "middle"])]), CONFIG, WEEK)
        assert slugs(issue) == ["middle", "newest", "oldest"]

    @pytest.mark.parametrize(
        "other, reason",
        [
            (article("held-back", date(2026, 11, 24), draft=True), "is a draft"),
            (article("held-back", date(2026, 11, 24), newsletter=False), "has newsletter: false"),
            (article("held-back", date(2026, 12, 1)), "dated 2026-12-01, outside 2026-W48"),
        ],
    )
    def test_ordering_an_article_that_does_not_go_out_this_week_is_an_error(self, other, reason):
        notes = [note(order=["held-back", "newest"])]
        with pytest.raises(ContentError) as error:
            assemble_issue(content(*self.ARTICLES, other, notes=notes), CONFIG, WEEK)
        assert str(error.value).startswith(f"content/issues/{WEEK}.md:1: order lists 'held-back'")
        assert reason in str(error.value)
        assert "(newest, middle, oldest)" in str(error.value)


class TestSubjectAndPreview:
    ARTICLES = (
        article("first", date(2026, 11, 28), title="Wake up your glutes", summary="A gentle hip extension."),
        article("second", date(2026, 11, 24), title="Breathe", summary="Your breath and your pelvic floor."),
    )

    def test_subject_defaults_to_the_first_articles_title(self):
        assert assemble_issue(content(*self.ARTICLES), CONFIG, WEEK).subject == "Wake up your glutes"

    def test_the_note_sets_subject_and_intro(self):
        notes = [note(subject="Breathe, then wake up your glutes", intro="Hello, and welcome.")]
        issue = assemble_issue(content(*self.ARTICLES, notes=notes), CONFIG, WEEK)
        assert (issue.subject, issue.intro) == ("Breathe, then wake up your glutes", "Hello, and welcome.")

    def test_a_note_without_subject_keeps_the_default_subject(self):
        issue = assemble_issue(content(*self.ARTICLES, notes=[note(intro="Hi.")]), CONFIG, WEEK)
        assert issue.subject == "Wake up your glutes"

    def test_subject_and_preview_follow_the_note_order(self):
        issue = assemble_issue(content(*self.ARTICLES, notes=[note(order=["second"])]), CONFIG, WEEK)
        assert (issue.subject, issue.preview_text) == ("Breathe", "Your breath and your pelvic floor.")

    def test_preview_text_is_the_first_articles_summary(self):
        assert assemble_issue(content(*self.ARTICLES), CONFIG, WEEK).preview_text == "A gentle hip extension."

    def test_without_a_note_the_intro_is_empty(self):
        assert assemble_issue(content(*self.ARTICLES), CONFIG, WEEK).intro == ""


class TestIssueKey:
    def test_is_the_site_host_and_the_week(self):
        issue = assemble_issue(content(article("a", date(2026, 11, 24))), CONFIG, WEEK)
        assert issue.key == "strongfromwithin-example-2026-W48"

    def test_does_not_change_when_the_content_changes(self):
        before = assemble_issue(content(article("a", date(2026, 11, 24))), CONFIG, WEEK)
        after = assemble_issue(
            content(article("a", date(2026, 11, 24), title="New title"), article("b", date(2026, 11, 26))), CONFIG, WEEK
        )
        assert before.key == after.key

    @pytest.mark.parametrize(
        "base_url",
        [
            "https://www.strongfromwithin.example/",
            "https://strongfromwithin.example/blog/",
            "http://StrongFromWithin.example:8080",
        ],
    )
    def test_ignores_www_path_port_and_case(self, base_url):
        config = Config(root=Path("."), site=SiteConfig(base_url=base_url))
        assert issue_key(config, WEEK) == "strongfromwithin-example-2026-W48"

    def test_differs_between_weeks(self):
        assert issue_key(CONFIG, "2026-W48") != issue_key(CONFIG, "2026-W49")


class TestLatestWeek:
    def test_is_the_week_of_the_newest_article_that_goes_out(self):
        articles = [
            article("old", date(2026, 11, 17)),
            article("sent", date(2026, 11, 24)),
            article("draft", date(2026, 12, 2), draft=True),
            article("blog-only", date(2026, 12, 9), newsletter=False),
        ]
        assert latest_week(content(*articles)) == "2026-W48"

    def test_is_none_when_nothing_would_go_out(self):
        assert latest_week(content(article("draft", date(2026, 11, 24), draft=True))) is None
        assert latest_week(content()) is None

    def test_uses_iso_weeks_across_new_year(self):
        # 1 January 2027 is a Friday: ISO week 53 of 2026.
        assert latest_week(content(article("new-year", date(2027, 1, 1)))) == "2026-W53"
