"""The preview in a real browser: the email at 375 px fits without sideways scrolling, and the
open page reloads by itself after a change, showing a broken edit's error and recovering.

Screenshots of the preview page and of each width land in test-artifacts/preview/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from preview_process import REBUILD_TIMEOUT, running_preview

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "preview"
WEEK = "2026-W48"


@pytest.fixture
def preview(make_project):
    with running_preview(make_project(with_repo_content=True), "--week", WEEK) as running:
        yield running


@pytest.fixture
def page(browser, preview):
    """The preview page open in Chromium; nothing may leave 127.0.0.1 (the email's video
    thumbnails, say, are refused)."""
    status = preview.status()
    assert status["ok"] and status["email"], f"the preview's first build failed: {status['errors']}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(preview.url) else route.abort()
    )
    opened = context.new_page()
    opened.goto(preview.url, wait_until="load")
    try:
        yield opened
    finally:
        context.close()


def email_frame(page, width: int):
    page.wait_for_function(
        f"document.getElementById('email-{width}').style.height !== ''", timeout=REBUILD_TIMEOUT * 1000
    )
    return page.frame(name=f"email-{width}")


def test_the_email_at_375_px_has_no_sideways_scrolling(page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    frame = email_frame(page, 375)
    size = frame.evaluate(
        "() => ({client: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth})"
    )
    page.screenshot(path=str(ARTIFACTS / "preview-page.png"), full_page=True)
    page.locator("#email-375").screenshot(path=str(ARTIFACTS / "email-375px.png"))
    page.locator("#email-600").screenshot(path=str(ARTIFACTS / "email-600px.png"))
    print(f"\nemail at 375 px: {size['scroll']} px of content in {size['client']} px; screenshots in {ARTIFACTS}")
    assert size["client"] == 375
    assert size["scroll"] <= size["client"], f"{size['scroll'] - size['client']} px of sideways scrolling at 375 px"


def test_the_email_at_600_px_fills_its_frame(page):
    frame = email_frame(page, 600)
    size = frame.evaluate(
        "() => ({client: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth})"
    )
    assert size["client"] == 600
    assert size["scroll"] <= size["client"]


def test_the_open_page_reloads_by_itself_after_a_change(page, preview):
    assert page.locator("#inbox-subject").inner_text() == "Breathe, then wake up your glutes"
    note = preview.root / "content" / "issues" / f"{WEEK}.md"
    note.write_text(
        note.read_text(encoding="utf-8").replace("Breathe, then wake up your glutes", "Reloaded by itself"),
        encoding="utf-8",
    )
    page.wait_for_function(
        "document.getElementById('inbox-subject') && "
        "document.getElementById('inbox-subject').textContent === 'Reloaded by "
        "itself'",
        timeout=REBUILD_TIMEOUT * 1000,
    )


def test_a_broken_edit_shows_its_error_in_the_open_page_until_fixed(page, preview):
    broken = preview.root / "content" / "articles" / "broken.md"
    broken.write_text("---\ntitle: Broken\ndate: 2026-13-40\nsummary: x\n---\nBody\n", encoding="utf-8")
    error = page.locator("#newsletter-preview-error")
    error.wait_for(state="visible", timeout=REBUILD_TIMEOUT * 1000)
    assert "content/articles/broken.md:3:" in error.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "preview-error.png"))

    broken.unlink()
    error.wait_for(state="detached", timeout=REBUILD_TIMEOUT * 1000)
    assert page.locator("#inbox-subject").inner_text() == "Breathe, then wake up your glutes"
