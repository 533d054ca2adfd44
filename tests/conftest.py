"""Shared fixtures: a throwaway project tree built from a dict, the real repo, golden files."""
from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


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


def assert_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/<name>; `make golden` (UPDATE_GOLDEN=1) rewrites it instead."""
    path = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file tests/golden/{name} is missing: run `make golden` and review the diff")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from tests/golden/{name}: review, then `make golden` if intended"
