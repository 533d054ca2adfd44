"""The browser of the browser tests: Debian's Chromium (/usr/bin/chromium, installed by
scripts/install-test-deps.sh, which `make test` runs) driven by Playwright, never a downloaded
browser. Launched the way tests/quality/conftest.py launches it."""
from __future__ import annotations

import importlib
import os

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
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
