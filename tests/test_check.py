"""`newsletter check`: each finding, on a small content tree that contains the mistake.

CLEAN is a tree with one of everything (an article with an inline exercise, a library card used
from it, a picture, links to a card, a tag and an anchor, an issue note) that yields no finding;
each case adds or replaces one file and names the findings it must produce, as
`path:line: severity rule`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from helpers import override_template, picture

from pipeline.authoring.check.runner import CONTENT_RULES, PROJECT_RULES, check_project
from pipeline.cli.main import main
from pipeline.render.email import GMAIL_CLIP_BYTES

# The trees below are a writer's content for week 48 of 2026 (Monday 23 to Sunday 29 November),
# reviewed on 1 November, and every test checks them on the Thursday of that week: the clock is
# pinned there, so the dates mean the same on any day the suite runs.
WEEK = "2026-W48"
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def checked_in_week_48(time_machine):
    time_machine.move_to(NOW, tick=False)


CLEAN_ARTICLE = """\
---
title: A clean article
date: 2026-11-24
summary: A short summary that fits in any inbox.
tags: [core]
reviewed_by: Dr Anouk Verhoeven, pelvic health physiotherapist
last_reviewed: 2026-11-01
---

An opening with [the clam card](../exercises/clam.md), [more on the core](/tags/core/)
and [the exercise below](#exercise-hip-extension).

![A woman lying on a mat](../images/mat.jpg)

## Exercise - the hip extension

A small bridge.

### How to do it

1. Lie on your back.
2. Lift from the hip.

### Tips

1. Breathe out as you lift.

### Progression

At 20 easy repetitions, lift one foot.

### Safety

pregnancy: safe

Stop if anything hurts. With a prolapse or a diastasis (tummy gap), keep the lift small.

```exercise
ref: clam
reps: 10
```
"""

CLEAN_CARD = """\
---
name: Side-lying clam
pregnancy: safe
reviewed_by: Dr Anouk Verhoeven, pelvic health physiotherapist
last_reviewed: 2026-11-01
---

A gentle hip opener.

### How to do it

1. Lie on your side.

### Tips

1. Keep your feet together.

### Progression

Add a light band at 20 easy repetitions.

### Safety

Fine in pregnancy; stop if the hip pinches. Fine with a prolapse or a diastasis.
"""

CLEAN = {
    "content/articles/clean.md": CLEAN_ARTICLE,
    "content/exercises/clam.md": CLEAN_CARD,
    "content/issues/2026-W48.md": "---\nsubject: A clean week\n---\n\nHello.\n",
    "content/images/mat.jpg": picture(),
}


def other_article(body: str, front: str = "", day: str = "2026-11-17") -> str:
    """A second article, dated outside the week unless `day` says otherwise. Its body starts on line 7."""
    return f"---\ntitle: Another article\ndate: {day}\nsummary: Short.\n{front}---\n\n{body}"


@pytest.fixture
def check(make_project):
    def run(files: dict[str, str] | None = None, week: str = WEEK):
        root = make_project({**CLEAN, **(files or {})})
        return check_project(root, week)

    return run


def located(findings) -> list[str]:
    """Findings as `path:line: severity rule`, without the safety rules (pipeline/authoring/check/rules/safety.py,
    tested in their own module) that the small exercises of these cases would also trigger."""
    return [f"{f.path}:{f.line}: {f.severity} {f.rule}" for f in findings if not f.rule.startswith("safety.")]


# ---------------------------------------------------------------- the clean trees


def test_the_clean_tree_has_no_findings(check):
    report = check()
    assert report.findings == []
    assert report.exit_code == 0
    assert report.email_checked


def test_the_repos_own_content_has_no_errors(make_project):
    report = check_project(make_project(with_repo_content=True), WEEK)
    assert report.errors == [], "\n".join(map(str, report.errors))


# ---------------------------------------------------------------- every finding

CASES = {
    # front matter: the loader's errors, each an error finding at its line
    "missing required key": (
        {"content/articles/b.md": "---\ntitle: B\ndate: 2026-11-17\n---\n\nText.\n"},
        ["content/articles/b.md:1: error load"],
        "missing required key 'summary'",
    ),
    "wrong type": (
        {"content/articles/b.md": other_article("Text.\n", front="tags: 5\n")},
        ["content/articles/b.md:5: error load"],
        "'tags' must be a list",
    ),
    "impossible date": (
        {"content/articles/b.md": "---\ntitle: B\ndate: 2026-02-30\nsummary: S.\n---\n\nText.\n"},
        ["content/articles/b.md:3: error load"],
        "is not a real date",
    ),
    "duplicate slug": (
        {"content/articles/later.md": other_article("Text.\n", front="slug: clean\n")},
        ["content/articles/later.md:5: error load"],
        "the slug 'clean' is already used by the article content/articles/clean.md",
    ),
    "unknown key with a suggestion": (
        {"content/articles/b.md": other_article("Text.\n", front="tagz: [core]\n")},
        ["content/articles/b.md:5: warning load.unknown-key"],
        "unknown key 'tagz' ignored: did you mean 'tags'?; [content] strict = true in newsletter.toml makes",
    ),
    # exercises
    "exercise block without tips": (
        {"content/articles/b.md": other_article("## Exercise - wall push\n\n### Safety\n\nGo gently.\n")},
        ["content/articles/b.md:7: warning exercise.no-tips"],
        "exercise 'wall push' has no tips",
    ),
    "exercise block without safety, outside the week": (
        {"content/articles/b.md": other_article("## Exercise - wall push\n\n### Tips\n\n1. Go slowly.\n")},
        ["content/articles/b.md:7: warning exercise.no-safety"],
        "has no safety section",
    ),
    "exercise block without safety, in the week's email": (
        {
            "content/articles/b.md": other_article(
                "## Exercise - wall push\n\n### Tips\n\n1. Go slowly.\n", day="2026-11-25"
            )
        },
        ["content/articles/b.md:7: error render.email", "content/articles/b.md:7: warning exercise.no-safety"],
        "before it can go in an email",
    ),
    "library card without a pregnancy value": (
        {"content/exercises/clam.md": CLEAN_CARD.replace("pregnancy: safe\n", "")},
        ["content/exercises/clam.md:1: error exercise.no-pregnancy"],
        "add  pregnancy: safe | modify | avoid",
    ),
    "library card without tips": (
        {"content/exercises/clam.md": CLEAN_CARD.replace("### Tips\n\n1. Keep your feet together.\n\n", "")},
        ["content/exercises/clam.md:1: warning exercise.no-tips"],
        "exercise card 'Side-lying clam' has no tips",
    ),
    "unknown exercise ref": (
        {"content/articles/b.md": other_article("```exercise\nref: clams\n```\n")},
        ["content/articles/b.md:7: error load"],
        "unknown exercise 'clams': did you mean 'clam'?",
    ),
    # links
    "link to an article file that does not exist": (
        {"content/articles/b.md": other_article("See [the clean one](claen.md).\n")},
        ["content/articles/b.md:7: error links.unknown-article"],
        "which does not exist: did you mean content/articles/clean.md?",
    ),
    "link to an exercise file that does not exist": (
        {"content/articles/b.md": other_article("Text.\n\nDo [the bridge](../exercises/bridge.md).\n")},
        ["content/articles/b.md:9: error links.unknown-exercise"],
        "the exercise card content/exercises/bridge.md, which does not exist",
    ),
    "link to a page of an article that does not exist": (
        {"content/articles/b.md": other_article("See [it](/articles/clen/).\n")},
        ["content/articles/b.md:7: error links.unknown-article"],
        "no published article 'clen': did you mean 'clean'?",
    ),
    "link to a tag nobody uses": (
        {"content/articles/b.md": other_article("More [on the core](/tags/cores/).\n")},
        ["content/articles/b.md:7: error links.unknown-tag"],
        "no published article has that tag: did you mean 'core'?",
    ),
    "link to an anchor that is not on the page": (
        {"content/articles/b.md": other_article("Try\n[the bridge](clean.md#exercise-bridge).\n")},
        ["content/articles/b.md:8: error links.unknown-anchor"],
        "'#exercise-bridge' is not an anchor on content/articles/clean.md: did you mean #exercise-clam?",
    ),
    "link to an anchor missing on its own page": (
        {"content/articles/b.md": other_article("Jump [down](#the-end).\n")},
        ["content/articles/b.md:7: error links.unknown-anchor"],
        "'#the-end' is not an anchor on this page",
    ),
    "link in single-quoted HTML to an article that does not exist": (
        {"content/articles/b.md": other_article("See <a href='clen.md'>the clean article</a>.\n")},
        ["content/articles/b.md:7: error links.unknown-article"],
        "links to the article content/articles/clen.md, which does not exist",
    ),
    "link to a heading that is not on the page": (
        {"content/articles/b.md": other_article("## Where to start\n\nJump [up](#where-to-begin).\n")},
        ["content/articles/b.md:9: error links.unknown-anchor"],
        "'#where-to-begin' is not an anchor on this page",
    ),
    "script in an article": (
        {"content/articles/b.md": other_article("Text.\n\n<script src='https://t.example/x.js'></script>\n")},
        ["content/articles/b.md:9: warning email.embed"],
        "a <script> is left out of the email (mail apps remove it)",
    ),
    "template tag from another tool": (
        {"content/articles/b.md": other_article("Text `{{< tabs >}}` here.\n")},
        ["content/articles/b.md:7: warning content.template-tag"],
        "'{{< tabs >}}' is another tool's template tag",
    ),
    "link to a draft": (
        {
            "content/articles/b.md": other_article("See [the plan](c.md).\n"),
            "content/articles/c.md": other_article("Not yet.\n", front="draft: true\n"),
        },
        ["content/articles/b.md:7: error links.draft"],
        "links to the draft content/articles/c.md",
    ),
    "picture that does not exist": (
        {"content/articles/b.md": other_article("![A mat](../images/mats.jpg)\n")},
        ["content/articles/b.md:7: error images.missing"],
        "there is no content/images/mats.jpg: did you mean content/images/mat.jpg?",
    ),
    "picture without alt text": (
        {"content/articles/b.md": other_article("Text.\n\n![](../images/mat.jpg)\n")},
        ["content/articles/b.md:9: error images.no-alt"],
        "has no alt text",
    ),
    "picture in the front matter that does not exist": (
        {"content/articles/b.md": other_article("Text.\n", front="image: ../images/nope.jpg\nimage_alt: A mat\n")},
        ["content/articles/b.md:5: error images.missing"],
        "there is no content/images/nope.jpg",
    ),
    "http link": (
        {"content/articles/b.md": other_article("Read [the study](http://journal.example/study).\n")},
        ["content/articles/b.md:7: warning links.http"],
        "use https://journal.example/study",
    ),
    # accessibility
    "skipped heading level": (
        {"content/articles/b.md": other_article("## Part one\n\nText.\n\n#### A detail\n\nMore.\n")},
        ["content/articles/b.md:11: warning a11y.heading-level"],
        "jumps from heading level 2 to 4",
    ),
    "a level-1 heading in the body": (
        {"content/articles/b.md": other_article("# Big\n\nText.\n")},
        ["content/articles/b.md:7: warning a11y.heading-level"],
        "the article's title is the page's only one",
    ),
    "click here": (
        {"content/articles/b.md": other_article("For the card [click here](../exercises/clam.md).\n")},
        ["content/articles/b.md:7: warning a11y.link-text"],
        "'click here' does not say where it leads",
    ),
    "here": (
        {"content/articles/b.md": other_article("The card is [here](../exercises/clam.md).\n")},
        ["content/articles/b.md:7: warning a11y.link-text"],
        "'here' does not say where it leads",
    ),
    # unfinished text
    "TODO left in": (
        {"content/articles/b.md": other_article("Text.\n\nTODO: the ending.\n")},
        ["content/articles/b.md:9: error content.todo"],
        "unfinished text",
    ),
    "TODO in a draft": (
        {"content/articles/b.md": other_article("TODO: all of it.\n", front="draft: true\n")},
        ["content/articles/b.md:8: warning content.todo"],
        "unfinished text",
    ),
    # the week's email
    "subject over 60 characters": (
        {
            "content/issues/2026-W48.md": "---\nsubject: "
            + "A subject that goes on and on and on, far past what a phone shows"
            + "\n---\n"
        },
        ["content/issues/2026-W48.md:2: warning email.subject-length"],
        "the email subject is 65 characters long",
    ),
    "article title as subject over 60 characters": (
        {
            "content/issues/2026-W48.md": "---\n---\n",
            "content/articles/clean.md": CLEAN_ARTICLE.replace("title: A clean article", "title: " + "Long " * 13),
        },
        ["content/articles/clean.md:2: warning email.subject-length"],
        "the email subject is 64 characters long",
    ),
    "preview text over 140 characters": (
        {
            "content/articles/clean.md": CLEAN_ARTICLE.replace(
                "summary: A short summary that fits in any inbox.", "summary: " + "Words go here. " * 10
            )
        },
        ["content/articles/clean.md:4: warning email.preview-text-length"],
        "is 149 characters long",
    ),
}


@pytest.mark.parametrize("files, expected, message", CASES.values(), ids=CASES.keys())
def test_each_mistake_is_found_where_it_was_made(check, files, expected, message):
    report = check(files)
    assert located(report.findings) == expected
    assert message in next(f for f in report.findings if not f.rule.startswith("safety.")).message


def test_an_empty_week_is_a_warning(check):
    report = check(week="2026-W10")
    assert located(report.findings) == ["content/articles:1: warning email.empty-week"]
    assert "no article dated 2026-03-02 to 2026-03-08" in report.findings[0].message
    assert report.exit_code == 0


def test_an_email_over_gmails_clipping_limit_is_an_error(check):
    long_summary = "A long summary of a long article that goes on. " * 600  # ~28 KB, shown in an excerpt
    long_body = "\n\n".join(["A paragraph of ordinary length that says something useful. " * 8] * 60)  # ~30 KB
    files = {
        f"content/articles/long-{n}.md": f"---\ntitle: Long {n}\ndate: 2026-11-25\nsummary: "
        f"{long_summary}\n---\n\n{long_body}\n"
        for n in range(5)
    }
    report = check(files)
    size_errors = [f for f in report.findings if f.rule == "email.size"]
    assert located(size_errors) == ["content/issues/2026-W48.md:1: error email.size"]
    assert f"Gmail clips emails over {GMAIL_CLIP_BYTES // 1024} KB" in size_errors[0].message
    assert report.exit_code == 1


def test_articles_cut_to_excerpts_for_size_are_warned_about(check):
    long_body = "\n\n".join(["A paragraph of ordinary length that says something useful. " * 8] * 40)  # ~20 KB each
    files = {
        f"content/articles/big-{n}.md": f"---\ntitle: Big {n}\ndate: 2026-11-2{n}\nsummary: "
        f"Short.\n---\n\n{long_body}\n"
        for n in range(3, 9)
    }
    report = check(files)
    excerpted = [f for f in report.findings if f.rule == "email.excerpted"]
    assert excerpted, "the week should be too long to send whole"
    assert all(f.severity == "warning" and "goes out as an excerpt" in f.message for f in excerpted)


def test_every_stage_version_of_the_email_is_checked(check):
    """Only the pregnant version is too long; its findings say so, the other versions have none."""
    long_part = "\n\n".join(["A paragraph for pregnant readers that says something useful. " * 8] * 250)  # ~120 KB
    report = check(
        {
            "content/articles/big.md": other_article(
                f"For everyone.\n\n::: only pregnant\n{long_part}\n:::\n", day="2026-11-25"
            )
        }
    )
    excerpted = [f for f in report.findings if f.rule == "email.excerpted"]
    assert located(excerpted) == [
        "content/articles/big.md:1: warning email.excerpted",
        "content/articles/clean.md:1: warning email.excerpted",
    ]
    assert all("the 2026-W48 email (pregnant version) is too long" in f.message for f in excerpted)


# ---------------------------------------------------------------- partial loading


def test_a_file_that_does_not_load_does_not_hide_the_others_findings(check):
    report = check(
        {
            "content/articles/broken.md": "---\ntitle: Broken\ndate: 2026-13-01\nsummary: S.\n---\n\nText.\n",
            "content/articles/b.md": other_article("See [it](nowhere.md).\n"),
        }
    )
    assert located(report.findings) == [
        "content/articles/b.md:7: error links.unknown-article",
        "content/articles/broken.md:3: error load",
    ]


def test_links_into_a_file_that_did_not_load_are_left_to_that_files_errors(check):
    report = check(
        {
            "content/articles/broken.md": "---\ntitle: Broken\ndate: 2026-13-01\nsummary: S.\n---\n\nText.\n",
            "content/articles/b.md": other_article("See [the broken one](broken.md#part).\n"),
        }
    )
    assert located(report.findings) == ["content/articles/broken.md:3: error load"]


def test_an_article_that_needs_a_broken_card_is_still_checked(check):
    broken_card = CLEAN_CARD.replace("pregnancy: safe", "pregnancy: sometimes")
    report = check(
        {"content/exercises/clam.md": broken_card, "content/articles/b.md": other_article("![](../images/mat.jpg)\n")}
    )
    assert located(report.findings) == [
        "content/articles/b.md:7: error images.no-alt",
        # the loader: "unknown exercise 'clam'", since the card did not load
        "content/articles/clean.md:38: error load",
        "content/exercises/clam.md:3: error load",
    ]


@pytest.mark.parametrize(
    "template, rule", [("site/tags.html.j2", "render.site"), ("email/issue.mjml.j2", "render.email")]
)
def test_a_template_that_does_not_render_is_an_error_at_its_line(make_project, template, rule):
    root = make_project(CLEAN)
    path = override_template(root, template)
    path.write_text("{% if %}\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    findings = check_project(root, WEEK).findings
    assert located(findings) == [f"templates/{template}:1: error {rule}"]
    assert "template syntax error" in findings[0].message


def test_a_broken_config_is_one_error_finding(make_project):
    root = make_project(CLEAN)
    (root / "newsletter.toml").write_text("[site]\ntitel = 'x'\n", encoding="utf-8")
    report = check_project(root, WEEK)
    assert located(report.findings) == ["newsletter.toml:1: error config"]
    assert "unknown key 'titel' in [site]" in report.findings[0].message


def test_a_rule_is_one_line_in_a_list():
    """Where a new rule module (e.g. the safety rules) plugs in."""
    assert all(callable(rule) for rule in CONTENT_RULES + PROJECT_RULES)
    assert any(rule.__name__ == "exercise_findings" for rule in CONTENT_RULES)


# ---------------------------------------------------------------- the command


def run_cli(root, *args: str):
    return CliRunner().invoke(main, ["check", "--root", str(root), "--week", WEEK, *args])


def test_text_output_is_one_line_per_finding_then_a_count(make_project):
    root = make_project({**CLEAN, "content/articles/b.md": other_article("See [x](nowhere.md) or [here](clean.md).\n")})
    result = run_cli(root)
    lines = result.output.splitlines()
    assert (
        lines[0]
        == "content/articles/b.md:7: error: links to the article content/articles/nowhere.md, which does not exist"
    )
    assert lines[1].startswith("content/articles/b.md:7: warning: the link text 'here' does not say where it leads")
    assert lines[2].startswith(f"1 error, 1 warning in 4 content files and the {WEEK} email (")
    assert len(lines) == 3
    assert result.exit_code == 1


def test_warnings_alone_exit_0(make_project):
    root = make_project({**CLEAN, "content/articles/b.md": other_article("[Here](clean.md).\n")})
    result = run_cli(root)
    assert result.exit_code == 0
    assert "1 warning in" in result.output


def test_a_clean_tree_says_so_and_exits_0(make_project):
    result = run_cli(make_project(CLEAN))
    assert result.exit_code == 0
    assert result.output.startswith("No problems found in 3 content files and the 2026-W48 email (")


def test_json_output_lists_the_same_findings_as_objects(make_project):
    root = make_project({**CLEAN, "content/articles/b.md": other_article("See [x](nowhere.md) or [here](clean.md).\n")})
    as_json = json.loads(run_cli(root, "--format", "json").output)
    as_text = run_cli(root).output.splitlines()[:-1]
    assert [f"{item['path']}:{item['line']}: {item['severity']}: {item['message']}" for item in as_json] == as_text
    assert {tuple(item) for item in as_json} == {("path", "line", "severity", "message", "rule")}


def test_json_output_of_a_clean_tree_is_an_empty_list(make_project):
    result = run_cli(make_project(CLEAN), "--format", "json")
    assert json.loads(result.output) == []
    assert result.exit_code == 0


def test_quiet_prints_the_findings_without_the_count(make_project):
    root = make_project({**CLEAN, "content/articles/b.md": other_article("[Here](clean.md).\n")})
    result = CliRunner().invoke(main, ["--quiet", "check", "--root", str(root), "--week", WEEK])
    assert result.output.splitlines() == [
        "content/articles/b.md:7: warning: the link text 'Here' does not say where it leads (screen readers list "
        "links out of context): name the destination, like [the piriformis stretch](…)"
    ]


def test_check_writes_nothing(make_project):
    root = make_project(CLEAN)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    run_cli(root)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_a_link_to_a_heading_on_the_page_is_found(check):
    files = {"content/articles/b.md": other_article("## Where to start\n\nJump [up](#where-to-start).\n")}
    assert [f for f in check(files).findings if f.rule.startswith("links.")] == []


def test_a_todo_inside_a_code_block_is_code(check):
    files = {"content/articles/b.md": other_article("```\n# TODO: the reader's own note\n```\n")}
    assert [f for f in check(files).findings if f.rule == "content.todo"] == []
