"""Headers and the plain-text part of the built email.eml: what mailbox providers require of bulk
senders (Gmail and Yahoo, 2024: one-click unsubscribe, RFC 8058) and what a reader of the text
part sees.
"""

from __future__ import annotations

import re
from email.utils import getaddresses, parsedate_to_datetime

import pytest

MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
LONGEST_LINE = 78  # a wrapped line's limit; only a lone URL may run longer

# Markup that means the text part was not really turned into plain text.
LEFTOVERS = {
    "an HTML tag": re.compile(r"</?(?:p|div|span|table|td|tr|br|img|a|strong|em|b|i|h[1-6]|ul|ol|li)\b[^>]*>", re.I),
    "an HTML entity": re.compile(r"&(?:[a-z]+|#\d+|#x[0-9a-f]+);", re.I),
    "Markdown bold (**)": re.compile(r"\*\*\S"),
    "Markdown bold (__)": re.compile(r"(?<![\w_])__\S"),
    "a Markdown image": re.compile(r"!\[[^\]]*\]\("),
    "a Markdown link": re.compile(r"\]\((?:https?:|mailto:|\.|/)"),
    "a Markdown escape": re.compile(r"\\[-*_.#!\[\]()`>+]"),
    "a relative link": re.compile(r"(?:^|[\s(])\.\./"),
    "preheader filler (zero-width characters)": re.compile("[\u200b\u200c\u034f\u00ad\u2007\ufeff]{3,}"),
}


def header_problems(build) -> list[str]:
    message, email_config = build.message, build.config.email
    problems = []
    senders = getaddresses([message.get("From", "")])
    if senders != [(email_config.sender_name, email_config.sender_address)]:
        problems.append(
            f"From is {message.get('From')!r}, expected {email_config.sender_name} <{email_config.sender_address}>"
        )
    try:
        date = parsedate_to_datetime(message.get("Date", ""))
        if date.tzinfo is None:
            problems.append(
                f"Date {message.get('Date')!r} says its zone is unknown (-0000): write "
                "+0000 (email.utils.format_datetime of an aware datetime)"
            )
    except (TypeError, ValueError):
        problems.append(f"Date {message.get('Date')!r} is not an RFC 5322 date")
    if not MESSAGE_ID.match(str(message.get("Message-ID", ""))):
        problems.append(f"Message-ID {message.get('Message-ID')!r} is not <unique@domain>")
    if not message.get("Subject", "").strip():
        problems.append("Subject is empty")
    unsubscribe = str(message.get("List-Unsubscribe", ""))
    targets = re.findall(r"<([^>]+)>", unsubscribe)
    if not any(t.startswith("https://") for t in targets):
        problems.append(f"List-Unsubscribe {unsubscribe!r} needs an <https://...> one-click URL")
    if not any(t.startswith("mailto:") for t in targets):
        problems.append(f"List-Unsubscribe {unsubscribe!r} needs a <mailto:...> address too")
    if str(message.get("List-Unsubscribe-Post", "")).strip() != "List-Unsubscribe=One-Click":
        problems.append(
            f"List-Unsubscribe-Post is {message.get('List-Unsubscribe-Post')!r}, must "
            "be 'List-Unsubscribe=One-Click' (RFC 8058)"
        )
    if message.get_content_type() != "multipart/alternative":
        problems.append(f"the message is {message.get_content_type()}, expected multipart/alternative")
    else:
        order = [part.get_content_type() for part in message.iter_parts()]
        if order != ["text/plain", "text/html"]:
            problems.append(
                f"parts are {order}; put text/plain first and text/html last (clients show the last they can)"
            )
    return problems


def text_problems(text: str, build) -> list[str]:
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        for what, pattern in LEFTOVERS.items():
            if pattern.search(line):
                problems.append(f"line {number} has {what}: {line.strip()[:100]!r}")
        if len(line) > LONGEST_LINE and len(line.split()) > 1:
            problems.append(f"line {number} is {len(line)} characters; wrap at {LONGEST_LINE}: {line[:60]!r}...")
    if re.search(r"\n[ \t]*\n[ \t]*\n[ \t]*\n", text):
        problems.append("three or more blank lines in a row")
    words = normalise(text)
    for what, phrase in expected_phrases(build).items():
        if normalise(phrase) not in words:
            problems.append(f"{what} is missing")
    return problems


def expected_phrases(build) -> dict[str, str]:
    """What a reader of the text part alone must find: every title, exercise and safety note."""
    expected = {
        "the unsubscribe link": build.config.unsubscribe_url,
        "the postal address": build.config.email.postal_address,
    }
    for article in build.issue.articles:
        expected[f"the article title {article.title!r}"] = article.title
        for block in article.exercises:
            expected[f"the exercise name {block.name!r}"] = block.name
            if build.config.email.content == "full" and block.safety:
                opening = " ".join(normalise(block.safety).split()[:12])
                expected[f"the safety note of {block.name!r} ({opening}...)"] = opening
    return expected


def normalise(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # Markdown links in content: keep the words
    return " ".join(re.sub(r"[^a-z0-9:/.]+", " ", text.lower().replace("’", "'").replace("'", "")).split())


def test_the_eml_carries_the_headers_bulk_senders_need(build):
    problems = header_problems(build)

    print(
        f"{build.name}: From {build.message['From']}; List-Unsubscribe "
        f"{build.message['List-Unsubscribe']}; {len(problems)} problems"
    )
    assert not problems, f"{build.name} email.eml headers (pipeline/render/mime.py):\n  " + "\n  ".join(problems)


def test_the_plain_text_part_reads_well_on_its_own(build):
    text = build.email_text
    problems = text_problems(text, build)

    print(
        f"{build.name}: text part {len(text.splitlines())} lines, {len(text.split())} words, "
        f"{len(expected_phrases(build))} titles/exercises/safety notes looked for; {len(problems)} problems"
    )
    assert not problems, (
        f"{build.name} text/plain part (templates/email/*.txt.j2, pipeline/render/text.py):\n  "
        + "\n  ".join(problems[:40])
    )


@pytest.mark.parametrize(
    "text, problem",
    [
        ("Read <strong>this</strong>", "an HTML tag"),
        ("Fish &amp; chips", "an HTML entity"),
        ("A **bold** claim", "Markdown bold (**)"),
        ("See [the card](https://x.example/card/)", "a Markdown link"),
        ("Step 1\\. Breathe", "a Markdown escape"),
        ("More at ../../articles/x/", "a relative link"),
        ("Hi\u200c\u200c\u200c\u200c there", "preheader filler (zero-width characters)"),
    ],
)
def test_leftover_markup_in_the_text_part_is_caught(text, problem):
    assert LEFTOVERS[problem].search(text)


@pytest.mark.parametrize(
    "text", ["Plain words, a URL https://x.example/a_b_c/ and *emphasis* as mail writes it.", "1. Lie on your back."]
)
def test_plain_writing_is_not_mistaken_for_markup(text):
    assert not [what for what, pattern in LEFTOVERS.items() if pattern.search(text)]
