"""Phones: the email and the longest article page at 375 px (a small phone) and 600 px (a large
phone / the email's own width). Bar: no horizontal scrolling. Full-page screenshots are kept in
test-artifacts/quality/ for a person to look at.
"""

from __future__ import annotations

import pytest

from . import quality_support as qs

WIDTHS = (375, 600)

# The elements that stick out past the right edge, outermost first, skipping any inside a box
# that clips or scrolls them itself (a table wrapper with overflow-x: auto is fine).
FIND_OVERFLOW = r"""
() => {
  const limit = document.documentElement.clientWidth;
  const clipped = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
  };
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    [...el.classList].slice(0, 3).map(c => '.' + c).join('');
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right > limit + 1 && box.width > 0 && !clipped(el)) {
      if (!wide.some(outer => outer.el.contains(el))) {
        wide.push({el, right: Math.round(box.right), width: Math.round(box.width)});
      }
    }
  }
  const offenders = wide.slice(0, 8).map(w => `${describe(w.el)} (${w.width}px wide, right edge at ${w.right}px)`);
  // Text that runs out of a box that itself fits: a long word or URL that does not wrap.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node && offenders.length < 8; node = walker.nextNode()) {
    if (!node.data.trim() || clipped(node.parentElement)) continue;
    if (wide.some(w => w.el.contains(node.parentElement))) continue;
    range.selectNodeContents(node);
    const right = Math.round(range.getBoundingClientRect().right);
    if (right > limit + 1) {
      const word = node.data.split(/\s+/).sort((a, b) => b.length - a.length)[0];
      const where = describe(node.parentElement);
      offenders.push(`text in ${where} runs to ${right}px: "${word.slice(0, 60)}" does not wrap`);
    }
  }
  return {scrollWidth: document.scrollingElement.scrollWidth, clientWidth: limit, offenders};
}
"""


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_the_page_does_not_scroll_sideways_on_a_phone(phone_target, width, open_target):
    opened = open_target(phone_target, width=width, phone=True)
    layout = opened.page.evaluate(FIND_OVERFLOW)
    screenshot = qs.artifact_path(
        phone_target.build_name, f"phone-{width}px-{qs.safe_name(phone_target.label or 'email')}.png"
    )
    opened.page.screenshot(path=str(screenshot), full_page=True)

    assert layout["clientWidth"] == width, (
        f"{phone_target.id} lays out {layout['clientWidth']}px wide on a {width}px phone, so it shows zoomed out: "
        f'add <meta name="viewport" content="width=device-width, initial-scale=1"> to its <head>'
    )
    print(
        f"{phone_target.id} at {width}px: page is {layout['scrollWidth']}px wide "
        f"for a {layout['clientWidth']}px screen; screenshot "
        f"{screenshot.relative_to(qs.REPO)}"
    )
    assert layout["scrollWidth"] <= layout["clientWidth"], (
        f"{phone_target.id} scrolls sideways at {width}px: "
        f"{layout['scrollWidth']}px of content for {layout['clientWidth']}px. "
        "Too wide (give them max-width: 100%, wrap long words with "
        "overflow-wrap: anywhere, or put tables in a scrolling box):\n  "
        + "\n  ".join(layout["offenders"] or ["(no single element found: check margins and negative offsets)"])
        + f"\nscreenshot: {screenshot.relative_to(qs.REPO)}"
    )


def test_a_page_that_is_too_wide_is_caught(browser):
    """The canary: a 500 px wide image and an unbreakable word make a 375 px screen scroll sideways, and are named."""
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True)
    try:
        page = context.new_page()
        page.set_content(
            '<!DOCTYPE html><meta name="viewport" '
            'content="width=device-width"><body><p>ok</p><img id="big" width="500" '
            'height="10" src="data:,"><p id="long">' + "x" * 120 + "</p></body>"
        )

        layout = page.evaluate(FIND_OVERFLOW)
    finally:
        context.close()

    assert layout["scrollWidth"] > layout["clientWidth"]
    assert layout["offenders"][0].startswith("img#big") and layout["offenders"][1].startswith("text in p#long")
