"""Dark mode: the email and one page of every blog template with `prefers-color-scheme: dark`
emulated in Chromium. Bars: axe-core's color-contrast rule finds nothing (4.5:1 for body text,
3:1 for large text), and the logo still stands out from what is behind it (3:1, WCAG's bar for
graphics). Screenshots are kept in test-artifacts/quality/.
"""

from __future__ import annotations

import io

from . import quality_support as qs

# The first of these found on the page is taken as the logo (an image or a text wordmark).
LOGO_SELECTORS = (
    '[class*="logo" i]',
    'img[alt*="logo" i]',
    'img[src*="logo" i]',
    ".site-title",
    ".masthead a",
    "header a",
)
LOGO_CONTRAST = 3.0
LOGO_MIN_INK = 0.01  # at least 1% of the logo's box must stand out
PAD = 6  # px of background around the logo's box

FIND_LOGO = """
selectors => {
  for (const selector of selectors) {
    const element = document.querySelector(selector);
    if (!element) continue;
    element.scrollIntoView({block: 'center'});
    const box = element.getBoundingClientRect();
    return {selector, x: box.x, y: box.y, width: box.width, height: box.height};
  }
  return null;
}
"""


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: float, b: float) -> float:
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


def logo_visibility(png: bytes) -> tuple[float, float]:
    """(share of the logo's pixels at >= 3:1 against the background around it, best contrast)."""
    image_module = qs.require_module("PIL.Image")
    image = image_module.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    pixels = image.load()
    ring = [
        pixels[x, y]
        for x in range(width)
        for y in range(height)
        if x < PAD or y < PAD or x >= width - PAD or y >= height - PAD
    ]
    background = luminance(max(set(ring), key=ring.count))
    inside = [luminance(pixels[x, y]) for x in range(PAD, width - PAD) for y in range(PAD, height - PAD)]
    ratios = [contrast(value, background) for value in inside] or [1.0]
    return sum(r >= LOGO_CONTRAST for r in ratios) / len(ratios), max(ratios)


def test_text_and_logo_stay_readable_in_dark_mode(template_target, open_target):
    opened = open_target(template_target, dark=True)
    page = opened.page
    shot = qs.artifact_path(template_target.build_name, f"dark-{qs.safe_name(template_target.label or 'email')}.png")
    page.screenshot(path=str(shot), full_page=True)
    violations = qs.run_axe(page, rules=["color-contrast"])["violations"]
    logo = page.evaluate(FIND_LOGO, list(LOGO_SELECTORS))
    assert logo and logo["width"] > 0 and logo["height"] > 0, (
        f"{template_target.id}: no visible logo in dark mode (looked for "
        f"{', '.join(LOGO_SELECTORS)}); screenshot {shot.relative_to(qs.REPO)}"
    )
    clip = {
        "x": max(logo["x"] - PAD, 0),
        "y": max(logo["y"] - PAD, 0),
        "width": logo["width"] + 2 * PAD,
        "height": logo["height"] + 2 * PAD,
    }
    ink, best = logo_visibility(page.screenshot(clip=clip))

    print(
        f"{template_target.id} dark: {len(violations)} color-contrast violations; logo {logo['selector']}: "
        f"{ink:.0%} of it at >= {LOGO_CONTRAST}:1, best {best:.1f}:1; screenshot {shot.relative_to(qs.REPO)}"
    )
    assert not violations, (
        "dark mode, axe "
        f"color-contrast:\n{qs.describe_axe_violations(template_target, violations)}\nscreenshot: "
        f"{shot.relative_to(qs.REPO)}"
    )
    assert ink >= LOGO_MIN_INK, (
        f"{template_target.id}: the logo ({logo['selector']}) fades into the dark "
        f"background: best contrast {best:.1f}:1, "
        f"needs {LOGO_CONTRAST}:1 - give it a dark-mode colour (or a light "
        f"outline for an image); screenshot {shot.relative_to(qs.REPO)}"
    )


def test_a_dark_logo_on_a_dark_background_is_caught(browser):
    """The canary: a near-black wordmark on a near-black page is reported as invisible."""
    context = browser.new_context(color_scheme="dark")
    try:
        page = context.new_page()
        page.set_content(
            '<body style="background:#111"><a class="site-title" style="color:#1a1a1a;font-size:30px">Logo</a></body>'
        )
        logo = page.evaluate(FIND_LOGO, list(LOGO_SELECTORS))
        clip = {
            "x": logo["x"] - PAD,
            "y": logo["y"] - PAD,
            "width": logo["width"] + 2 * PAD,
            "height": logo["height"] + 2 * PAD,
        }

        ink, best = logo_visibility(page.screenshot(clip=clip))
    finally:
        context.close()

    assert ink < LOGO_MIN_INK and best < LOGO_CONTRAST
