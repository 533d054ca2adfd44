"""Accessibility: axe-core (npm) in Debian's Chromium, on one page of every blog template and on
the email of both builds. Bar: 0 violations of WCAG 2.0/2.1 level A and AA rules.
"""

from __future__ import annotations

from . import quality_support as qs


def test_the_page_has_no_wcag_a_or_aa_violations(template_target, open_target):
    opened = open_target(template_target)
    results = qs.run_axe(opened.page)
    violations = results["violations"]

    print(
        f"{template_target.id}: axe-core {results['testEngine']['version']}: {len(violations)} violations, "
        f"{len(results['passes'])} rules passed; {len(opened.blocked)} requests "
        f"off the machine refused {opened.blocked[:3]}"
    )
    assert not violations, f"axe-core (WCAG 2.1 A/AA):\n{qs.describe_axe_violations(template_target, violations)}"


def test_axe_reports_an_image_without_alt_text(browser):
    """The canary: the same setup finds a missing alt text and an unlabelled form field."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(
            '<!DOCTYPE html><html lang="en"><title>x</title><main><img src="data:,"><input type="text"></main></html>'
        )

        violations = {v["id"] for v in qs.run_axe(page)["violations"]}
    finally:
        context.close()

    assert {"image-alt", "label"} <= violations
