"""Shared fixtures: a throwaway project tree built from a dict, golden files."""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

import pytest
from clock_shift.plugin import pytest_addoption, pytest_configure, pytest_report_header  # noqa: F401  (--clock-shift-days)
from helpers import REPO, assert_golden, copy_repo_project, write_tree
from hypothesis import HealthCheck, settings

# Hypothesis (tests/test_hostile_inputs.py): a few hundred examples per test in `make test`, to keep
# the suite's time; 10,000 in `make test-hostile` (HYPOTHESIS_PROFILE=thorough). No deadline: the
# machine is shared, and a slow example is not a failure. The database stays out of the repo.
settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
settings.register_profile(
    "thorough", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def make_project(tmp_path):
    """make_project({"content/articles/a.md": "..."}) -> a project root with the demo's templates
    (its overrides of the packaged ones) and newsletter.toml, plus the given files (dedented)."""

    def make(files: dict[str, str] | None = None, with_repo_content: bool = False) -> Path:
        root = tmp_path / "project"
        root.mkdir(exist_ok=True)
        if with_repo_content:
            copy_repo_project(root)
        else:
            shutil.copytree(REPO / "templates", root / "templates", dirs_exist_ok=True)
            shutil.copy(REPO / "newsletter.toml", root / "newsletter.toml")
            (root / "content" / "articles").mkdir(parents=True, exist_ok=True)
            (root / "content" / "exercises").mkdir(parents=True, exist_ok=True)
        return write_tree(root, files or {})

    return make


@pytest.fixture
def golden():
    """assert_golden as a fixture."""
    return assert_golden


# One browser for the whole session (tests/browser and tests/quality share it: a second
# sync_playwright() in the same process fails): Debian's Chromium driven by Playwright, never a
# downloaded browser.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = "run scripts/install-test-deps.sh (make test runs it)"


@pytest.fixture(scope="session")
def browser():
    try:
        sync_api = importlib.import_module("playwright.sync_api")
    except ImportError:
        pytest.fail(f"Playwright for Python is not installed: {INSTALL_HINT}", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Debian's Chromium ({CHROMIUM}) is not installed: {INSTALL_HINT}", pytrace=False)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
