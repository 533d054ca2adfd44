"""Nothing outside the project is read or published (README, "Files outside the project"):
symbolic links that lead out of the project are refused, ones inside it are followed, and a
picture path is looked up in content/, never on the machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.authoring.preview.server import _inside
from pipeline.cli.main import main

ARTICLE = "---\ntitle: A walk\ndate: 2026-11-24\nsummary: Out of the door.\n---\n\nBreathe out.\n"


@pytest.fixture
def outside(tmp_path) -> Path:
    """A private file on the same machine, beside the project but not in it."""
    folder = tmp_path / "private"
    folder.mkdir()
    (folder / "passwords.txt").write_text("root:x:0:0\n", encoding="utf-8")
    (folder / "article.md").write_text(ARTICLE.replace("A walk", "Not ours"), encoding="utf-8")
    return folder


def run(root: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--root", str(root)])


def test_a_picture_linked_from_outside_the_project_is_refused_and_not_published(make_project, outside):
    root = make_project({"content/articles/a.md": ARTICLE})
    (root / "content" / "images").mkdir()
    (root / "content" / "images" / "passwords.txt").symlink_to(outside / "passwords.txt")
    result = run(root, "build", "--week", "2026-W48")
    assert result.exit_code == 2, result.output
    assert "content/images/passwords.txt:1: is a symbolic link to" in result.output
    assert "outside the project folder" in result.output
    assert not (root / "dist").exists()  # nothing written at all


def test_an_article_linked_from_outside_the_project_is_refused(make_project, outside):
    root = make_project({"content/articles/a.md": ARTICLE})
    (root / "content" / "articles" / "theirs.md").symlink_to(outside / "article.md")
    for command, code in (("build", 2), ("check", 1)):
        result = run(root, command, "--week", "2026-W48")
        assert result.exit_code == code, result.output
        assert "content/articles/theirs.md:1: " in result.output, command
        assert "is a symbolic link to" in result.output and "outside the project folder" in result.output
    assert not (root / "dist").exists()


def test_a_symbolic_link_inside_the_project_is_followed(make_project):
    root = make_project({"content/articles/a.md": ARTICLE, "shared/logo.txt": "our logo\n"})
    (root / "content" / "images").mkdir()
    (root / "content" / "images" / "logo.txt").symlink_to(root / "shared" / "logo.txt")
    result = run(root, "build", "--week", "2026-W48")
    assert result.exit_code == 0, result.output
    assert (root / "dist" / "site" / "images" / "logo.txt").read_text(encoding="utf-8") == "our logo\n"


def test_check_looks_for_a_picture_in_content_not_on_the_machine(make_project, outside):
    depth = len((Path(make_project()) / "content" / "articles").resolve().parts)
    escape = "../" * depth + str(outside / "passwords.txt").lstrip("/")
    root = make_project({"content/articles/a.md": ARTICLE + f"\n![The list]({escape})\n"})
    assert (root / "content" / "articles" / escape).resolve().is_file()  # the file is there on the machine
    result = run(root, "check", "--week", "2026-W48")
    assert result.exit_code == 1
    assert f"content/articles/a.md:9: error: the picture '{escape}' does not exist" in result.output


def test_the_preview_serves_nothing_through_a_symbolic_link_out_of_dist(tmp_path, outside):
    site = tmp_path / "dist" / "site"
    site.mkdir(parents=True)
    (site / "page.html").write_text("<p>ours</p>", encoding="utf-8")
    (site / "leak.txt").symlink_to(outside / "passwords.txt")
    assert _inside(site, "page.html") == site / "page.html"
    assert _inside(site, "leak.txt") is None
    assert _inside(site, "../../private/passwords.txt") == site / "private" / "passwords.txt"  # never above site/
