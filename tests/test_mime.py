"""The .eml: a complete multipart/alternative message, read back with Python's email package."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.policy import default
from email.utils import parsedate_to_datetime

import pytest
from helpers import REPO

from pipeline.content.assemble import assemble_issue
from pipeline.content.load import load_content
from pipeline.core.config import load_config
from pipeline.core.model import Issue, RenderedEmail
from pipeline.render.email import render_email
from pipeline.render.mime import PLACEHOLDER_RECIPIENT, make_eml

NOW = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def config():
    return load_config(REPO)


def with_email(config, **changes):
    return dataclasses.replace(config, email=dataclasses.replace(config.email, **changes))


def rendered(
    subject="Breathe, then wake up your glutes",
    html="<p>Hello ☀️ — <b>breathe</b></p>",
    text="Hello ☀️ — breathe\n",
    content_hash="ab" * 32,
):
    issue = Issue(
        week="2026-W48",
        key="strongfromwithin-example-2026-W48",
        subject=subject,
        preview_text="Preview",
        intro="",
        articles=[],
        monday=date(2026, 11, 23),
    )
    return RenderedEmail(
        issue=issue, subject=subject, preview_text="Preview", html=html, text=text, content_hash=content_hash
    )


def parse(eml: bytes):
    return message_from_bytes(eml, policy=default)


class TestHeaders:
    def test_from_to_and_subject(self, config):
        message = parse(make_eml(rendered(), config, NOW))
        assert message["From"] == "Strong From Within <hello@strongfromwithin.example>"
        assert message["To"] == PLACEHOLDER_RECIPIENT
        assert message["Subject"] == "Breathe, then wake up your glutes"

    def test_a_recipient_can_be_given(self, config):
        assert parse(make_eml(rendered(), config, NOW, to="reader@example.org"))["To"] == "reader@example.org"

    def test_a_subject_outside_ascii_survives_the_round_trip(self, config):
        eml = make_eml(rendered(subject="Zwölf Übungen für’s Becken ✨"), config, NOW)
        assert eml.isascii()
        assert parse(eml)["Subject"] == "Zwölf Übungen für’s Becken ✨"

    def test_date_is_now_in_the_writers_time_zone(self, config):
        header = parse(make_eml(rendered(), config, NOW))["Date"]
        assert parsedate_to_datetime(header) == NOW
        assert header == "Mon, 30 Nov 2026 07:30:00 +0000"  # Europe/London in winter

    def test_a_naive_now_is_taken_in_the_configured_time_zone(self, config):
        summer = datetime(2026, 7, 6, 9, 0)
        header = parse(make_eml(rendered(), config, summer))["Date"]
        assert header == "Mon, 06 Jul 2026 09:00:00 +0100"

    def test_message_id_comes_from_the_issue_key_and_content_hash(self, config):
        message_id = parse(make_eml(rendered(), config, NOW))["Message-ID"]
        assert message_id == "<strongfromwithin-example-2026-W48.abababababababab@strongfromwithin.example>"

    def test_message_id_is_stable_across_rebuilds_and_changes_with_the_content(self, config):
        first = parse(make_eml(rendered(), config, NOW))["Message-ID"]
        again = parse(make_eml(rendered(), config, datetime(2026, 12, 1, tzinfo=UTC)))["Message-ID"]
        changed = parse(make_eml(rendered(content_hash="cd" * 32), config, NOW))["Message-ID"]
        assert first == again != changed

    def test_reply_to_when_configured(self, config):
        assert (
            parse(make_eml(rendered(), with_email(config, reply_to="team@strongfromwithin.example"), NOW))["Reply-To"]
            == "team@strongfromwithin.example"
        )

    def test_no_reply_to_when_not_configured(self, config):
        assert "Reply-To" not in parse(make_eml(rendered(), with_email(config, reply_to=""), NOW))

    def test_one_click_unsubscribe(self, config):
        message = parse(make_eml(rendered(), config, NOW))
        assert message["List-Unsubscribe"] == (
            "<https://strongfromwithin.example/unsubscribe/>, "
            "<mailto:hello@strongfromwithin.example?subject=unsubscribe>"
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    def test_the_configured_unsubscribe_url_is_used(self, config):
        custom = with_email(config, unsubscribe_url="https://lists.example.net/u/strong")
        assert parse(make_eml(rendered(), custom, NOW))["List-Unsubscribe"].startswith(
            "<https://lists.example.net/u/strong>, <mailto:"
        )

    def test_no_one_click_header_without_https(self, config):
        # RFC 8058 one-click needs an https URI; the plain link and the mailto stay.
        plain_http = with_email(config, unsubscribe_url="http://strongfromwithin.example/unsubscribe/")
        message = parse(make_eml(rendered(), plain_http, NOW))
        assert message["List-Unsubscribe"].startswith("<http://strongfromwithin.example/unsubscribe/>")
        assert "List-Unsubscribe-Post" not in message


class TestBody:
    def test_is_multipart_alternative_with_text_first_and_html_second(self, config):
        message = parse(make_eml(rendered(), config, NOW))
        assert message.get_content_type() == "multipart/alternative"
        assert message["MIME-Version"] == "1.0"
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]

    def test_both_parts_are_utf8_and_decode_to_what_was_rendered(self, config):
        email = rendered()
        text_part, html_part = parse(make_eml(email, config, NOW)).iter_parts()
        assert text_part.get_content_charset() == html_part.get_content_charset() == "utf-8"
        assert text_part.get_content().replace("\r\n", "\n") == email.text
        assert html_part.get_content().replace("\r\n", "\n").rstrip("\n") == email.html

    def test_no_line_is_longer_than_smtp_allows(self, config):
        long_html = "<p>" + "x" * 5000 + "</p>"
        eml = make_eml(rendered(html=long_html), config, NOW)
        assert max(len(line) for line in eml.split(b"\r\n")) <= 998
        assert max(len(line) for line in eml.split(b"\r\n\r\n", 1)[1].split(b"\r\n")) <= 78  # the body
        assert parse(eml).get_body(("html",)).get_content().replace("\r\n", "\n").rstrip("\n") == long_html

    def test_the_real_weeks_email_round_trips(self, config):
        email = render_email(assemble_issue(load_content(config), config, "2026-W48"), config, config.unsubscribe_url)
        message = parse(make_eml(email, config, NOW))
        assert message["Subject"] == email.subject == "Breathe, then wake up your glutes"
        assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == email.text
        assert message.get_body(("html",)).get_content().replace("\r\n", "\n").rstrip("\n") == email.html

    def test_the_same_email_gives_the_same_bytes(self, config):
        assert make_eml(rendered(), config, NOW) == make_eml(rendered(), config, NOW)

    def test_uses_crlf_line_endings(self, config):
        eml = make_eml(rendered(), config, NOW)
        assert b"\r\n" in eml and b"\n" not in eml.replace(b"\r\n", b"")
