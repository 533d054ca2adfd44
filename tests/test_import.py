"""`newsletter import`: other tools' posts and readers brought in, each file accounted for.

The real-corpus bar (95% per tool) is tests/test_import_corpus.py; these are the behaviours, one
by one, on small inputs written here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.authoring.importers.headers import read_header
from pipeline.authoring.importers.run import detect_tool, import_archive
from pipeline.authoring.importers.shortcodes import Context, convert
from pipeline.content.load import load_content
from pipeline.core.config import load_config
from pipeline.deliver.subscribers import ACTIVE, UNSUBSCRIBED, Subscriber, SubscriberStore


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def run(project: Path, source: Path, tool: str | None = None, dry_run: bool = False):
    return import_archive(load_config(project), source, tool, dry_run)


def article_text(project: Path, slug: str) -> str:
    return (project / "content" / "articles" / f"{slug}.md").read_text(encoding="utf-8")


HUGO_TOML = """+++
title = "Breathing, slowly"
date = 2021-08-13T03:12:00Z
categories = ["breath"]
tags = ["core"]
aliases = ["/old/breathing/"]
+++

The first paragraph, about the breath.

<!--more-->

{{< youtube ZJthWmvUzzc >}}
"""
JEKYLL_POST = """---
title: Rest days
categories: recovery rest
redirect_from: /2019/rest.html
---
Rest is training too.
"""
PELICAN_POST = """Title: Pelvic floor: the basics
Date: 2015-12-29 20:28
Tags: pelvic floor, core
Summary: What it is and why it matters.

Text.
"""


class TestHeaders:
    def test_toml_dates_come_back_as_text(self):
        assert read_header(HUGO_TOML).meta["date"] == "2021-08-13T03:12:00+00:00"

    def test_pelican_lines_with_two_colons(self):
        header = read_header(PELICAN_POST)
        assert (header.kind, header.meta["title"], header.body_line) == ("pelican", "Pelvic floor: the basics", 6)

    def test_a_yaml_key_given_twice_keeps_the_last(self):
        assert read_header("---\ntitle: a\ntitle: b\n---\n").meta == {"title": "b"}


class TestSites:
    def test_a_hugo_post_with_its_date_time_summary_tags_and_aliases(self, make_project, tmp_path):
        project = make_project({})
        run(project, write(tmp_path / "site", {"content/posts/breathing.md": HUGO_TOML}), "hugo")
        text = article_text(project, "breathing")
        assert "date: '2021-08-13 03:12:00+00:00'" in text
        assert "summary: The first paragraph, about the breath." in text
        assert "tags:\n- core\n- breath\n" in text
        assert "aliases:\n- old/breathing/\n- posts/breathing/\n" in text
        assert "```video\nurl: https://www.youtube.com/watch?v=ZJthWmvUzzc\n```" in text

    def test_a_jekyll_post_dated_by_its_file_name(self, make_project, tmp_path):
        project = make_project({})
        site = write(tmp_path / "site", {"_posts/2022-06-21-rest-days.markdown": JEKYLL_POST})
        result = run(project, site)
        assert result.tool == "jekyll"
        text = article_text(project, "rest-days")
        assert "date: '2022-06-21'" in text and "tags:\n- recovery\n- rest\n" in text
        assert "- 2019/rest.html\n- recovery/rest/2022/06/21/rest-days.html\n" in text

    def test_an_undated_page_is_imported_as_a_blog_only_draft_dated_by_its_file(self, make_project, tmp_path):
        site = write(tmp_path / "site", {"content/about.md": "---\ntitle: About me\n---\n\nI teach pilates.\n"})
        page = site / "content" / "about.md"
        written = page.stat().st_mtime - 400 * 86400  # saved long ago; not in git, so its file time counts
        os.utime(page, (written, written))
        day = datetime.fromtimestamp(written, UTC).date().isoformat()
        project = make_project({})
        (outcome,) = run(project, site, "hugo").outcomes
        assert (outcome.state, outcome.is_post) == ("review", True)
        assert outcome.notes[0] == (
            f"undated page: imported as a draft dated {day} from the file's time: review the date, "
            "then set draft: false to publish it (blog only: newsletter: false)"
        )
        text = article_text(project, "about")
        assert f"date: '{day}'" in text and "draft: true\nnewsletter: false\n" in text
        (article,) = load_content(load_config(project)).articles
        assert article.draft and not article.newsletter

    def test_a_summary_from_the_first_paragraph_is_marked_for_review(self, make_project, tmp_path):
        project = make_project({})
        result = run(project, write(tmp_path / "site", {"_posts/2022-06-21-rest-days.md": JEKYLL_POST}), "jekyll")
        (outcome,) = result.outcomes
        assert outcome.state == "review"
        assert outcome.notes == [
            "summary written from the first paragraph: read it, it is also the email's preview text"
        ]

    def test_pelican_metadata(self, make_project, tmp_path):
        project = make_project({})
        run(project, write(tmp_path / "site", {"content/basics.md": PELICAN_POST}), "pelican")
        text = article_text(project, "basics")
        assert "summary: What it is and why it matters." in text and "- pelvic floor\n- core\n" in text

    def test_a_page_bundle_brings_its_pictures(self, make_project, tmp_path):
        project = make_project({})
        site = write(
            tmp_path / "site",
            {"content/post/squat/index.md": "---\ntitle: Squat\ndate: 2024-01-02\n---\n\n![A deep squat](deep.png)\n"},
        )
        (site / "content/post/squat/deep.png").write_bytes(b"\x89PNG picture")
        run(project, site, "hugo")
        assert "![A deep squat](../images/squat/deep.png)" in article_text(project, "squat")
        assert (project / "content/images/squat/deep.png").read_bytes() == b"\x89PNG picture"

    def test_every_file_not_imported_says_why(self, make_project, tmp_path):
        project = make_project({})
        site = write(
            tmp_path / "site",
            {"content/_index.md": "+++\ntitle = 'Blog'\n+++\n", "content/.notes.md": "+++\ntitle = 'Notes'\n+++\n"},
        )
        result = run(project, site, "zola")
        assert [(o.source, o.state, o.is_post) for o in result.outcomes] == [
            ("content/.notes.md", "not-imported", False),
            ("content/_index.md", "not-imported", False),
        ]
        assert all(o.why for o in result.outcomes)

    def test_a_header_that_does_not_parse_is_not_imported_with_the_reason(self, make_project, tmp_path):
        project = make_project({})
        result = run(project, write(tmp_path / "site", {"content/a.md": "+++\ntitle = \n+++\n"}), "hugo")
        (outcome,) = result.outcomes
        assert outcome.state == "not-imported" and outcome.why.startswith("the TOML header does not parse")


class TestRuns:
    SITE = {"content/posts/breathing.md": HUGO_TOML}

    def test_dry_run_writes_nothing(self, make_project, tmp_path):
        project = make_project({})
        result = run(project, write(tmp_path / "site", self.SITE), "hugo", dry_run=True)
        assert [o.path for o in result.outcomes] == ["content/articles/breathing.md"]
        assert list((project / "content" / "articles").iterdir()) == []
        assert not (project / ".newsletter").exists()

    def test_a_second_run_changes_nothing(self, make_project, tmp_path):
        project = make_project({})
        site = write(tmp_path / "site", self.SITE)
        run(project, site, "hugo")
        again = run(project, site, "hugo")
        assert [o.state for o in again.outcomes] == ["unchanged"]
        assert [p.name for p in (project / "content" / "articles").iterdir()] == ["breathing.md"]

    def test_a_file_edited_since_is_never_overwritten(self, make_project, tmp_path):
        project = make_project({})
        site = write(tmp_path / "site", self.SITE)
        run(project, site, "hugo")
        edited = article_text(project, "breathing").replace("The first", "My first")
        (project / "content/articles/breathing.md").write_text(edited)
        (site / "content/posts/breathing.md").write_text(HUGO_TOML.replace("slowly", "slower"))
        again = run(project, site, "hugo")
        assert [o.state for o in again.outcomes] == ["kept"]
        assert article_text(project, "breathing") == edited

    def test_a_slug_already_taken_by_her_own_article_gets_another(self, make_project, tmp_path):
        project = make_project(
            {"content/articles/breathing.md": "---\ntitle: Mine\ndate: 2026-01-01\nsummary: x\n---\n"}
        )
        site = write(tmp_path / "site", self.SITE)
        run(project, site, "hugo")
        again = run(project, site, "hugo")
        assert [o.path for o in again.outcomes] == ["content/articles/breathing-2.md"]
        assert [o.state for o in again.outcomes] == ["unchanged"]

    def test_imported_posts_load_and_their_old_addresses_redirect(self, make_project, tmp_path):
        project = make_project({})
        run(project, write(tmp_path / "site", self.SITE), "hugo")
        (article,) = load_content(load_config(project)).articles
        assert article.aliases == ["old/breathing/", "posts/breathing/"]
        built = subprocess.run(
            [sys.executable, "-m", "pipeline", "build", "--root", str(project), "--week", "2021-W32"],
            capture_output=True,
            text=True,
        )
        assert built.returncode == 0, built.stderr
        page = (project / "dist/site/old/breathing/index.html").read_text()
        assert '<meta http-equiv="refresh" content="0; url=../../articles/breathing/">' in page

    def test_the_tool_is_detected(self, tmp_path):
        assert detect_tool(write(tmp_path / "j", {"_posts/2022-01-01-a.md": JEKYLL_POST})) == "jekyll"
        assert detect_tool(write(tmp_path / "p", {"content/a.md": PELICAN_POST})) == "pelican"
        assert detect_tool(write(tmp_path / "h", {"content/a.md": HUGO_TOML})) == "hugo"

    def test_the_command_prints_the_report(self, make_project, tmp_path):
        project = make_project({})
        site = write(tmp_path / "site", {**self.SITE, "content/_index.md": "+++\ntitle = 'Blog'\n+++\n"})
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", "import", str(site), "--from", "hugo", "--root", str(project)],
            capture_output=True,
            text=True,
            env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        )
        assert result.returncode == 0, result.stderr
        assert "not imported: content/_index.md: a section's list page" in result.stdout
        assert "hugo: 1 post imported, 0 with something to look at" in result.stdout

    def test_a_source_that_is_not_there_is_a_clear_error(self, make_project, tmp_path):
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", "import", str(tmp_path / "nothing"), "--root", str(make_project({}))],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr


class TestShortcodes:
    def convert(self, text: str, tool: str = "hugo") -> tuple[str, list[str]]:
        context = Context(tool, first_line=10)
        return convert(text, context), context.notes

    def test_figure_becomes_a_picture_with_its_caption(self):
        text, _ = self.convert('{{< figure src="https://example.com/a.jpg" caption="A plank" >}}')
        assert text == "![A plank](https://example.com/a.jpg)\n*A plank*"

    def test_tweet_and_gist_become_links(self):
        assert self.convert("{{< tweet user=sandiegozoo id=145 >}}")[0] == (
            "[Read the post by @sandiegozoo on X](https://x.com/sandiegozoo/status/145)"
        )
        assert self.convert("{{< gist spf13 7896402 >}}")[0] == (
            "[View the code on GitHub Gist](https://gist.github.com/spf13/7896402)"
        )

    def test_a_notice_becomes_a_callout(self):
        assert self.convert("{{< notice warning >}}\nGo slowly.\n{{< /notice >}}")[0].strip() == (
            "> [!WARNING]\n> Go slowly."
        )

    def test_an_unknown_shortcode_stays_visible_with_a_note_at_its_line(self):
        text, notes = self.convert("Intro.\n\n{{< tabs >}}\n")
        assert text == "Intro.\n\n`{{< tabs >}}`\n"
        assert notes == ["line 12: the Hugo shortcode {{< tabs >}} kept as text: rewrite it"]

    def test_code_is_never_touched(self):
        written = "```\n{{< youtube x >}}\n```\n\nAnd `{{< figure >}}` inline.\n"
        assert self.convert(written) == (written, [])

    @pytest.mark.parametrize(
        "written, tool, block",
        [
            ("{{< youtube ZJthWmvUzzc >}}", "hugo", "url: https://www.youtube.com/watch?v=ZJthWmvUzzc"),
            (
                '{{< youtube id="w7Ft2ymGmfc" title="A slow bridge" start="12" >}}',
                "hugo",
                "url: https://www.youtube.com/watch?v=w7Ft2ymGmfc&t=12s\ntitle: A slow bridge",
            ),
            ("{{< vimeo_simple 48912912 >}}", "hugo", "url: https://vimeo.com/48912912"),
            ('{{ vimeo(id="76979871") }}', "zola", "url: https://vimeo.com/76979871"),
            ('{% include youtube.html id="abcdefgh" %}', "jekyll", "url: https://www.youtube.com/watch?v=abcdefgh"),
            ('{% include video id="1234567" provider="vimeo" %}', "jekyll", "url: https://vimeo.com/1234567"),
            ("{% youtube https://youtu.be/abcdefgh %}", "jekyll", "url: https://www.youtube.com/watch?v=abcdefgh"),
            (
                '<iframe src="//www.youtube.com/embed/NU7W7qe2R0A?rel=0&amp;start=640" title="YouTube video player">'
                "</iframe>",
                "pelican",
                "url: https://www.youtube.com/watch?v=NU7W7qe2R0A&t=640s",
            ),
        ],
        ids=[
            "hugo",
            "hugo-title-start",
            "hugo-vimeo",
            "zola-vimeo",
            "jekyll-include",
            "jekyll-video",
            "liquid-tag",
            "iframe",
        ],
    )
    def test_a_youtube_or_vimeo_shortcode_becomes_our_video_block(self, written, tool, block):
        text, notes = self.convert(f"Before.\n\n{written}\n\nAfter.\n", tool)
        assert f"\n\n```video\n{block}\n```\n\n" in text and notes == []
        assert text.startswith("Before.") and text.rstrip().endswith("After.")

    def test_zola_and_liquid(self):
        assert self.convert('{{ youtube(id="e1C9kpMV2e8") }}', "zola")[0].strip() == (
            "```video\nurl: https://www.youtube.com/watch?v=e1C9kpMV2e8\n```"
        )
        text, notes = self.convert("{% highlight ruby %}\nputs 1\n{% endhighlight %}\n{% include sig.md %}", "jekyll")
        assert text == "```ruby\nputs 1\n```\n`{% include sig.md %}`"
        assert notes == ["line 13: the Liquid tag {% include sig.md %} kept as text: rewrite it"]


SUBSTACK_POSTS = (
    "post_id,post_date,is_published,email_sent_at,type,audience,title,subtitle,podcast_url\n"
    '101.first-week,2024-03-01T08:00:00.000Z,true,,newsletter,everyone,First week,"Small steps, daily",\n'
)
SUBSTACK_HTML = (
    "<h2>Start</h2><p>Breathe <em>out</em> as you lift.</p>"
    '<iframe src="https://www.youtube.com/embed/abcdefgh"></iframe><script>track()</script>'
)
SUBSTACK_LIST = """email,active_subscription,expiry,email_disabled,prefer_digests,created_at
ann@example.com,false,,false,false,2024-01-01T00:00:00.000Z
bea@example.com,false,,true,false,2024-01-01T00:00:00.000Z
"""


class TestExports:
    def substack(self, tmp_path: Path) -> Path:
        return write(
            tmp_path / "export",
            {
                "posts.csv": SUBSTACK_POSTS,
                "posts/101.first-week.html": SUBSTACK_HTML,
                "email_list.pub.csv": SUBSTACK_LIST,
            },
        )

    def test_a_substack_post_in_our_markdown(self, make_project, tmp_path):
        project = make_project({})
        result = run(project, self.substack(tmp_path))
        assert result.tool == "substack"
        text = article_text(project, "first-week")
        assert "summary: Small steps, daily" in text and "- p/first-week/" in text
        assert (
            "## Start\n\nBreathe *out* as you lift.\n\n```video\nurl: https://www.youtube.com/watch?v=abcdefgh\n```"
            in text
        )
        assert "track()" not in text
        assert result.outcomes[0].notes == [
            "<script> dropped: neither the blog nor an email can show it; add a link to it if it matters"
        ]

    def test_readers_who_unsubscribed_stay_unsubscribed(self, make_project, tmp_path):
        project = make_project({})
        with SubscriberStore.for_config(load_config(project)) as store:
            store.import_subscribers([Subscriber("bea@example.com")])
        result = run(project, self.substack(tmp_path))
        with SubscriberStore.for_config(load_config(project)) as store:
            assert (store.get("ann@example.com").status, store.get("bea@example.com").status) == (ACTIVE, UNSUBSCRIBED)
        assert result.subscribers.added == ["ann@example.com"]

    def test_a_dry_run_touches_no_subscriber(self, make_project, tmp_path):
        project = make_project({})
        run(project, self.substack(tmp_path), dry_run=True)
        assert not (project / ".newsletter").exists()

    def test_a_ghost_export_with_tags_authors_and_members(self, make_project, tmp_path):
        export = {
            "db": [
                {
                    "meta": {"version": "2.2.0"},
                    "data": {
                        "posts": [
                            {
                                "id": "p1",
                                "title": "Hips",
                                "slug": "hips",
                                "html": "<p>Open them.</p>",
                                "status": "published",
                                "published_at": "2018-10-09 08:17:38",
                                "custom_excerpt": "Why hips.",
                                "page": 0,
                            },
                            {
                                "id": "p2",
                                "title": "About",
                                "slug": "about",
                                "html": "<p>Me.</p>",
                                "status": "published",
                                "published_at": "2018-10-09 08:17:38",
                                "page": 1,
                            },
                        ],
                        "tags": [{"id": "t1", "name": "Mobility"}],
                        "posts_tags": [{"post_id": "p1", "tag_id": "t1"}],
                        "users": [{"id": "u1", "name": "Ines"}],
                        "posts_authors": [{"post_id": "p1", "author_id": "u1"}],
                        "settings": [{"key": "permalinks", "value": "/:year/:month/:slug/"}],
                    },
                }
            ]
        }
        members = "email,name,note,subscribed_to_emails,labels,created_at\ncat@example.com,Cat,,false,,\n"
        folder = write(tmp_path / "ghost", {"export.json": json.dumps(export), "members.csv": members})
        project = make_project({})
        result = run(project, folder)
        assert result.tool == "ghost"
        text = article_text(project, "hips")
        assert "date: '2018-10-09 08:17:38+00:00'" in text and "author: Ines" in text and "- Mobility" in text
        assert "- 2018/10/hips/" in text
        assert [(o.source, o.is_post) for o in result.having("not-imported")] == [("export.json: post 'about'", False)]
        with SubscriberStore.for_config(load_config(project)) as store:
            assert store.get("cat@example.com").status == UNSUBSCRIBED


@pytest.mark.parametrize("kind", ["check"])
def test_check_finds_a_template_tag_left_in_an_article_but_not_in_code(kind, make_project):
    from pipeline.authoring.check.runner import check_project

    body = "Text `{{< tabs >}}` here.\n\n```\n{{< youtube x >}} TODO\n```\n"
    project = make_project({"content/articles/a.md": f"---\ntitle: A\ndate: 2026-11-24\nsummary: x\n---\n\n{body}"})
    findings = check_project(project, "2026-W48").findings
    assert [(f.line, f.rule) for f in findings if f.rule in ("content.template-tag", "content.todo")] == [
        (7, "content.template-tag")
    ]


def test_a_reader_already_on_the_list_keeps_her_stage(make_project, tmp_path):
    project = make_project({})
    with SubscriberStore.for_config(load_config(project)) as store:
        store.import_subscribers([Subscriber("ann@example.com", stage="pregnant")])
    export = write(
        tmp_path / "export",
        {"posts.csv": SUBSTACK_POSTS, "posts/101.first-week.html": SUBSTACK_HTML, "email_list.pub.csv": SUBSTACK_LIST},
    )
    result = run(project, export)
    with SubscriberStore.for_config(load_config(project)) as store:
        assert store.get("ann@example.com").stage == "pregnant"
    assert result.subscribers.unchanged == ["ann@example.com"]
