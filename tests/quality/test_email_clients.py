"""Email clients: which HTML and CSS features of our email do Gmail, Outlook and Apple Mail not
support, according to the `caniemail` npm package (its detection and caniemail.com's data)?

Bar: nothing unsupported beyond what MJML's own output already uses (MJML ships fallbacks for
those). The baseline is a plain MJML newsletter compiled the way pipeline/render/email.py
compiles ours. Partly supported extras are printed, not failed.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass

import pytest

from . import quality_support as qs

CLIENTS = {
    "gmail.desktop-webmail": "Gmail web",
    "gmail.android": "Gmail Android",
    "gmail.ios": "Gmail iOS",
    "outlook.windows": "Outlook Windows",
    "outlook.macos": "Outlook Mac",
    "outlook.outlook-com": "Outlook web",
    "apple-mail.macos": "Apple Mail Mac",
    "apple-mail.ios": "Apple Mail iOS",
}

# caniemail folds every media query into "@media"; these features have entries of their own.
MEDIA_FEATURES = {
    "prefers-color-scheme": "@media (prefers-color-scheme)",
    "prefers-reduced-motion": "@media (prefers-reduced-motion)",
    "hover": "@media (hover), @media (any-hover)",
    "any-hover": "@media (hover), @media (any-hover)",
    "orientation": "@media (orientation)",
    "-webkit-device-pixel-ratio": "@media (-webkit-device-pixel-ratio)",
    "-webkit-min-device-pixel-ratio": "@media (-webkit-device-pixel-ratio)",
    "-webkit-max-device-pixel-ratio": "@media (-webkit-device-pixel-ratio)",
}

BASELINE_MJML = """
<mjml>
  <mj-head>
    <mj-title>Plain newsletter</mj-title>
    <mj-preview>What this week's issue is about</mj-preview>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-text font-size="16px" line-height="1.5" color="#222222" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#f4f4f4" width="600px">
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-image src="https://example.com/logo.png" alt="Logo" width="120px" href="https://example.com/" />
        <mj-text><h1>This week</h1><p>An introduction with a <a href="https://example.com/">link</a>,
          <strong>bold</strong> and <em>italic</em> words.</p>
          <ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol></mj-text>
        <mj-button href="https://example.com/article/">Read on the blog</mj-button>
        <mj-divider border-color="#dddddd" />
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column><mj-image src="https://example.com/a.jpg" alt="A" /></mj-column>
      <mj-column><mj-text><h2>Second story</h2><p>Text beside an image.</p></mj-text></mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-spacer height="16px" />
        <mj-text font-size="12px" color="#555555"><p>Postal address. <a href="https://example.com/unsubscribe/">Unsubscribe</a></p></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""


@dataclass(frozen=True)
class Finding:
    title: str
    client: str
    support: str  # "none" or "partial"


@dataclass
class Analysis:
    version: str
    findings: set[Finding]
    where: dict[str, str]  # title -> where it was first seen
    notes: dict[tuple[str, str], list[str]]


def style_sheets(html: str) -> list[str]:
    """The text of every <style> element outside conditional comments (what caniemail reads)."""
    lxml_html = qs.require_module("lxml.html")
    document = lxml_html.document_fromstring(html)
    return [style.text or "" for style in document.iter("style")]


@dataclass
class Block:
    css: str  # the inside of an @media or @supports block
    requires: list[str]  # the features a client needs to apply it at all


def media_blocks(css: str, outer: tuple[str, ...] = ()) -> list[Block]:
    """The insides of @media/@supports blocks (nested ones too), each with what it requires."""
    tinycss2 = qs.require_module("tinycss2")
    blocks = []
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports") and rule.content is not None:
            prelude = tinycss2.serialize(rule.prelude).lower()
            features = {
                MEDIA_FEATURES[name] for name in re.findall(r"\(\s*([-a-z]+)", prelude) if name in MEDIA_FEATURES
            }
            requires = tuple(dict.fromkeys([*outer, f"@{rule.lower_at_keyword}", *sorted(features)]))
            inner = tinycss2.serialize(rule.content)
            blocks += [Block(inner, list(requires)), *media_blocks(inner, requires)]
    return blocks


def analyse(html: str) -> Analysis:
    node = qs.require_command("node")
    script = qs.require_file(
        qs.REPO / "tests" / "quality" / "caniemail_report.mjs", "tests/quality/caniemail_report.mjs"
    )
    qs.require_file(qs.NODE_MODULES / "caniemail" / "package.json", "caniemail (npm)")
    blocks = [block for sheet in style_sheets(html) for block in media_blocks(sheet)]
    media_features = {title for block in blocks for title in block.requires if title.startswith("@media (")}
    request = {
        "html": html,
        "clients": list(CLIENTS),
        "titles": sorted(media_features),
        "blocks": [vars(b) for b in blocks],
    }
    result = subprocess.run(
        [node, str(script)], input=json.dumps(request), capture_output=True, text=True, cwd=qs.REPO, timeout=120
    )
    if result.returncode != 0:
        pytest.fail(f"caniemail_report.mjs failed:\n{result.stderr[-3000:]}", pytrace=False)
    report = json.loads(result.stdout)
    findings, where, notes = set(), {}, {}
    lines = html.splitlines()
    for issue in report["issues"]:
        finding = Finding(issue["title"], issue["client"], issue["support"])
        findings.add(finding)
        notes[(finding.title, finding.client)] = issue["notes"]
        if finding.title not in where:
            where[finding.title] = _location(issue, lines)
    return Analysis(report["version"], findings, where, notes)


def _location(issue: dict, lines: list[str]) -> str:
    line = issue.get("line")
    if issue["source"] == "media-query":
        return "the query of a @media block in a <style> element"
    if issue["source"] != "html":
        return "inside a @media block of a <style> element"
    if not line or line > len(lines):
        return "a <style> element (caniemail gives no line for at-rules)"
    snippet = " ".join(lines[line - 1].split())[:140]
    return f"HTML line {line}: {snippet}"


@pytest.fixture(scope="session")
def baseline() -> Analysis:
    mjml = qs.require_module("mjml")
    return analyse(mjml.mjml2html(BASELINE_MJML, disable_comments=True))  # as pipeline/render/email.py compiles


def extras(ours: Analysis, baseline: Analysis, support: str) -> dict[str, list[str]]:
    by_title: dict[str, list[str]] = defaultdict(list)
    for finding in sorted(ours.findings - baseline.findings, key=lambda f: (f.title, f.client)):
        if finding.support == support:
            by_title[finding.title].append(CLIENTS[finding.client])
    return dict(by_title)


def describe(title: str, clients: list[str], ours: Analysis) -> str:
    notes = sorted({note for client in CLIENTS for note in ours.notes.get((title, client), [])})
    text = f"  `{title}` unsupported in {', '.join(clients)}; first at {ours.where.get(title, '?')}"
    return text + "".join(f"\n      note: {note}" for note in notes[:3])


def test_the_email_uses_no_feature_these_clients_lack_beyond_mjmls_own(build, baseline):
    ours = analyse(build.email_html)
    unsupported = extras(ours, baseline, "none")
    partial = extras(ours, baseline, "partial")

    print(
        f"{build.name}: caniemail {ours.version}: {len({f.title for f in ours.findings})} flagged features "
        f"(baseline MJML {len({f.title for f in baseline.findings})}); extra unsupported {len(unsupported)}: "
        f"{sorted(unsupported)}; extra partly supported {len(partial)}: {sorted(partial)}"
    )
    assert not unsupported, (
        f"{build.name} email uses features that MJML's own output does not, unsupported by some clients "
        f"(change the email templates or the CSS they add):\n"
        + "\n".join(describe(t, c, ours) for t, c in unsupported.items())
    )


def test_the_comparison_spots_a_feature_mjml_does_not_use(baseline):
    """The canary: flexbox in a plain MJML email is flagged (Outlook on Windows lacks it)."""
    mjml = qs.require_module("mjml")
    flexed = BASELINE_MJML.replace("<p>Text beside an image.</p>", '<p style="display:flex">Text beside an image.</p>')

    unsupported = extras(analyse(mjml.mjml2html(flexed, disable_comments=True)), baseline, "none")

    assert "Outlook Windows" in unsupported.get("display:flex", [])
