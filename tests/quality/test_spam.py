"""Spam: SpamAssassin (Debian's package and rules, local tests only) scores the built email.eml.

Bar: 1.0 points at most (SpamAssassin calls a message spam at 5.0). MJML's hidden preheader
alone costs about 0.7 (HTML_FONT_LOW_CONTRAST), so there is little room for anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SCORE = 1.0

# What usually fixes the rules our kind of email can hit.
ADVICE = {
    "HTML_FONT_LOW_CONTRAST": "text coloured like its background: the hidden preheader does this; "
    "avoid any other hidden or faint text",
    "HTML_FONT_SIZE_TINY": "text in a tiny font: keep every visible font-size at 10px or more",
    "HTML_IMAGE_RATIO_02": "too little text for the images: add text or drop an image",
    "HTML_IMAGE_RATIO_04": "too little text for the images: add text or drop an image",
    "HTML_IMAGE_ONLY_16": "mostly images: add text",
    "MIME_HTML_ONLY": "no text/plain part: send multipart/alternative",
    "MIME_HTML_MOSTLY": "the text/plain part is much shorter than the HTML: render the full text",
    "MPART_ALT_DIFF": "the text/plain and HTML parts say different things: render both from the same content",
    "HTML_MIME_NO_HTML_TAG": "the HTML part lacks <html>",
    "MISSING_MID": "add a Message-ID header",
    "MISSING_DATE": "add a Date header",
    "DATE_IN_FUTURE_03_06": "the Date header is in the future: use the build time",
    "DATE_IN_PAST_96_XX": "the Date header is days old: use the build time",
    "TVD_SPACE_RATIO": "many spaces between words: check for padding characters",
    "HTML_SHORT_LINK_IMG_1": "a short message that is mostly a linked image",
    "EMPTY_MESSAGE": "the message has no text",
}


@dataclass
class Hit:
    points: float
    rule: str
    description: str


def parse_report(report: str) -> tuple[float, list[Hit]]:
    score = float(report.split("/", 1)[0])
    hits: list[Hit] = []
    table = report.split("---- ----------------------", 1)[-1].split("\n", 1)[-1]
    for line in table.splitlines():
        match = re.match(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$", line)
        if match:
            hits.append(Hit(float(match[1]), match[2], match[3].strip()))
        elif hits and line.startswith(" " * 10) and line.strip():
            hits[-1].description += " " + line.strip()
    return score, hits


def explain(hits: list[Hit]) -> str:
    lines = []
    for hit in sorted(hits, key=lambda h: -h.points):
        if hit.points <= 0:
            continue
        advice = ADVICE.get(hit.rule, "see the rule's description")
        lines.append(f"  {hit.points:+.1f} {hit.rule}: {hit.description} -> {advice}")
    return "\n".join(lines)


def test_the_email_scores_well_below_spamassassins_threshold(build, spamd):
    score, hits = parse_report(spamd.report(build.eml_bytes))

    print(
        f"{build.name}: SpamAssassin score {score:.1f} (bar {MAX_SCORE}); rules: "
        f"{', '.join(f'{h.rule} {h.points:+.1f}' for h in hits)}"
    )
    assert score <= MAX_SCORE, (
        f"{build.name} email.eml scores {score:.1f} with SpamAssassin (bar "
        f"{MAX_SCORE}); rules that cost points:\n{explain(hits)}"
    )


def test_spamd_flags_a_known_spam_message(spamd):
    """The canary: GTUBE, SpamAssassin's standard test string, must score as spam."""
    gtube = (
        b"From: someone@example.org\r\nTo: you@example.org\r\nSubject: test\r\n\r\n"
        b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n"
    )
    score, hits = parse_report(spamd.report(gtube))

    assert score >= 5.0 and any(hit.rule == "GTUBE" for hit in hits)
