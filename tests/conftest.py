"""Shared fixtures: a throwaway project tree built from a dict, golden files."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import REPO, assert_golden, write_tree


@pytest.fixture
def make_project(tmp_path):
    """make_project({"content/articles/a.md": "..."}) -> a project root with the repo's templates
    and newsletter.toml, plus the given files (dedented)."""

    def make(files: dict[str, str] | None = None, with_repo_content: bool = False) -> Path:
        root = tmp_path / "project"
        root.mkdir(exist_ok=True)
        shutil.copytree(REPO / "templates", root / "templates", dirs_exist_ok=True)
        shutil.copy(REPO / "newsletter.toml", root / "newsletter.toml")
        if with_repo_content:
            shutil.copytree(REPO / "content", root / "content", dirs_exist_ok=True)
        else:
            (root / "content" / "articles").mkdir(parents=True, exist_ok=True)
            (root / "content" / "exercises").mkdir(parents=True, exist_ok=True)
        return write_tree(root, files or {})

    return make


@pytest.fixture
def golden():
    """assert_golden as a fixture."""
    return assert_golden
