"""Every tag has a page of its own (tags/<slug>/): a tag with nothing to make its address from is
refused, and two spellings that would share one page are an error naming both."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pipeline.cli.main import main


def article(title: str, tags: str) -> str:
    return f"---\ntitle: {title}\ndate: 2026-11-24\nsummary: A walk.\ntags: {tags}\n---\n\nBreathe out.\n"


def check(make_project, files: dict[str, str]):
    root = make_project(files)
    return CliRunner().invoke(main, ["check", "--week", "2026-W48", "--root", str(root)])


def test_tags_that_differ_only_by_punctuation_are_an_error_naming_both(make_project):
    result = check(
        make_project,
        {"content/articles/a.md": article("A", '["C++"]'), "content/articles/b.md": article("B", '["c--"]')},
    )
    assert result.exit_code == 1
    assert "content/articles/b.md:5: error: the tag 'c--' and the tag 'C++' (content/articles/a.md)" in result.output
    assert "would share one page, tags/c/" in result.output


def test_tags_that_differ_only_by_case_share_their_page(make_project):
    result = check(
        make_project,
        {"content/articles/a.md": article("A", "[Glutes]"), "content/articles/b.md": article("B", "[glutes]")},
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("tag", ['""', '"!!!"', '"  "', '"—"'])
def test_a_tag_with_no_letters_is_refused(make_project, tag):
    result = check(make_project, {"content/articles/a.md": article("A", f"[glutes, {tag}]")})
    assert result.exit_code == 1
    assert "content/articles/a.md:5: error: the tag" in result.output and "has no letters or digits" in result.output


def test_build_refuses_them_too(make_project):
    root = make_project({"content/articles/a.md": article("A", '["!!!", Tag]')})
    result = CliRunner().invoke(main, ["build", "--week", "2026-W48", "--root", str(root)])
    assert result.exit_code == 2 and "the tag '!!!' has no letters or digits" in result.output
    assert not (root / "dist").exists()


@pytest.mark.parametrize("tag, page", [("ماركداون", "tags/ماركداون/"), ("Grossesse-Été", "tags/grossesse-été/")])
def test_a_tag_in_any_script_has_its_page(make_project, tag, page):
    root = make_project({"content/articles/a.md": article("A", f'["{tag}"]')})
    result = CliRunner().invoke(main, ["build", "--week", "2026-W48", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert (root / "dist" / "site" / page / "index.html").is_file()
