"""The reader service (pipeline/readers/): signup with double opt-in, the welcome email,
preferences and unsubscribe, and what it refuses. Each test runs the real app on a throwaway
project; reader emails go through the outbox relay (outbox/readers/*.eml) unless said otherwise."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from readers_support import ORIGIN, SECRET, Service, heading, text_of, token_in
from test_smtp import Mailbox, free_port, smtp_server, toml

from pipeline.core.errors import ConfigError
from pipeline.core.stage_calendar import add_months
from pipeline.deliver.reader_stages import reader_version
from pipeline.deliver.subscribers import ACTIVE, PENDING, UNSUBSCRIBED
from pipeline.deliver.tokens import CONFIRM, PREFERENCES, make_reader_token, make_token
from pipeline.readers.serve import reader_service

# The demo project's list (newsletter.toml [site] base_url), for tokens made before a service exists.
LIST = "https://strongfromwithin.example/"


@pytest.fixture
def service(make_project):
    return Service(make_project(with_repo_content=True))


def due_in(service: Service, days: int) -> str:
    return (service.clock().date() + timedelta(days=days)).isoformat()


def confirm(service: Service, address: str = "ann@example.com") -> None:
    service.send_mail()
    [mail] = [m for m in service.mails() if m["To"].addresses[0].addr_spec == address and "Confirm" in m["Subject"]][
        -1:
    ]
    status, page, _ = service.request("POST", "/confirm/", {"token": token_in(mail, "confirm")})
    assert status == "200 OK", page


# Signing up.
def test_a_signup_stores_a_pending_reader_and_sends_her_a_confirmation(service):
    status, page, _ = service.sign_up(name="Ann", where="pregnant")
    assert (status, heading(page)) == ("200 OK", "Check your inbox")
    ann = service.person()
    assert (ann.status, ann.name, ann.stage) == (PENDING, "Ann", "pregnant")
    assert service.send_mail() == 1
    [mail] = service.mails()
    assert mail["Subject"] == "Confirm your subscription to Strong From Within"
    assert str(mail["To"]) == "Ann <ann@example.com>"
    assert "/confirm/?token=" in text_of(mail)


def test_a_reader_who_gives_no_stage_or_date_still_subscribes(service):
    service.sign_up()
    assert (service.person().status, service.person().stage, service.person().due_date) == (PENDING, None, None)


def test_the_answer_is_the_same_whether_or_not_the_address_is_known(service):
    _, new, _ = service.sign_up()
    confirm(service)
    _, known, _ = service.sign_up(name="Mallory", where="general")
    assert known == new
    assert (service.person().name, service.person().stage) == ("", None)  # an active reader is left as she was
    service.send_mail()
    assert service.mails()[-1]["Subject"] == "You are already subscribed to Strong From Within"


def test_a_due_date_is_kept_only_with_the_consent_box_ticked(service):
    due = due_in(service, 120)
    status, page, _ = service.sign_up(where="pregnant", due_date=due)
    assert status == "400 Bad Request" and "tick the box" in page
    assert service.person() is None
    service.sign_up(where="pregnant", due_date=due, dates_consent="yes")
    assert service.person().due_date.isoformat() == due
    assert service.person().dates_consent_at == service.clock()


def test_only_the_date_that_goes_with_her_answer_is_stored(service):
    service.sign_up(
        where="had-baby", due_date=due_in(service, 30), birth_date=due_in(service, -10), dates_consent="yes"
    )
    ann = service.person()
    assert (ann.stage, ann.due_date, ann.birth_date.isoformat()) == ("postpartum-0-6w", None, due_in(service, -10))


# Confirming.
def test_opening_the_confirmation_link_shows_a_button_and_confirms_nothing(service):
    service.sign_up()
    service.send_mail()
    token = token_in(service.mails()[0], "confirm")
    status, page, _ = service.request("GET", "/confirm/", query=f"token={token}")
    assert status == "200 OK" and '<button type="submit">' in page and 'method="post"' in page
    assert service.person().status == PENDING


def test_the_button_confirms_and_sends_the_welcome_of_her_stage(service):
    service.sign_up(where="pregnant")
    confirm(service)
    assert service.person().status == ACTIVE
    service.send_mail()
    welcome = service.mails()[-1]
    assert welcome["Subject"] == "Welcome to Strong From Within"
    assert "While you are pregnant" in text_of(welcome) and "In the first weeks" not in text_of(welcome)
    assert "/preferences/?token=" in text_of(welcome) and "/unsubscribe/?token=" in text_of(welcome)
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_replayed_confirmation_changes_nothing_and_sends_no_second_welcome(service):
    service.sign_up()
    confirm(service)
    service.send_mail()
    token = token_in(service.mails()[0], "confirm")
    status, page, _ = service.request("POST", "/confirm/", {"token": token})
    assert (status, heading(page)) == ("200 OK", "You are already subscribed")
    service.send_mail()
    assert [m["Subject"].split()[0] for m in service.mails()] == ["Confirm", "Welcome"]


def test_a_confirmation_link_expires_after_the_configured_days(service):
    service.sign_up()
    service.send_mail()
    token = token_in(service.mails()[0], "confirm")
    service.clock.advance(days=7, seconds=1)
    status, page, _ = service.request("POST", "/confirm/", {"token": token})
    assert status == "400 Bad Request" and "expired" in page and "works for 7 days" in page
    assert service.person().status == PENDING


def test_the_link_of_an_earlier_signup_stops_working_when_she_signs_up_again(service):
    service.sign_up()
    service.send_mail()
    service.clock.advance(minutes=5)
    service.sign_up()
    service.send_mail()
    first, latest = (token_in(mail, "confirm") for mail in service.mails())
    status, page, _ = service.request("POST", "/confirm/", {"token": first})
    assert status == "400 Bad Request" and "newer confirmation link" in page
    assert service.request("POST", "/confirm/", {"token": latest})[0] == "200 OK"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-token", id="forged"),
        pytest.param(make_reader_token("ann@example.com", PREFERENCES, SECRET), id="preferences-token"),
        pytest.param(make_token("ann@example.com", SECRET, LIST), id="unsubscribe-token"),
        pytest.param(
            make_reader_token("ann@example.com", CONFIRM, "another-secret-of-someone-else"), id="other-secret"
        ),
    ],
)
def test_a_token_not_made_for_confirming_confirms_nobody(service, token):
    service.sign_up()
    status, page, _ = service.request("POST", "/confirm/", {"token": token})
    assert (status, heading(page)) == ("400 Bad Request", "Link not valid")
    assert service.person().status == PENDING


def test_a_token_edited_to_another_address_is_refused(service):
    service.sign_up()
    service.sign_up(email="bea@example.com")
    service.send_mail()
    ann_token = token_in(service.mails()[0], "confirm")
    payload, _, signature = ann_token.partition(".")
    bea_payload = make_reader_token("bea@example.com", CONFIRM, "x" * 20).partition(".")[0]
    status, _, _ = service.request("POST", "/confirm/", {"token": f"{bea_payload}.{signature}"})
    assert status == "400 Bad Request"
    assert service.person("bea@example.com").status == PENDING


# Preferences.
def preferences_token(service: Service) -> str:
    service.send_mail()
    return token_in(service.mails()[-1], "preferences")


def test_the_preferences_page_shows_her_details_and_changes_nothing_on_get(service):
    service.sign_up(name="Ann", where="pregnant", due_date=due_in(service, 90), dates_consent="yes")
    confirm(service)
    token = preferences_token(service)
    status, page, _ = service.request("GET", "/preferences/", query=f"token={token}")
    assert status == "200 OK"
    assert 'value="Ann"' in page and 'value="pregnant" checked' in page and f'value="{due_in(service, 90)}"' in page
    assert service.person().status == ACTIVE


def test_changing_stage_on_the_preferences_page_is_stored_and_recorded(service):
    service.sign_up(where="pregnant")
    confirm(service)
    token = preferences_token(service)
    service.clock.advance(days=3)
    status, page, _ = service.request(
        "POST", "/preferences/", {"token": token, "name": "Ann", "where": "had-baby", "action": "save"}
    )
    assert status == "200 OK" and "Saved" in page
    assert (service.person().name, service.person().stage) == ("Ann", "postpartum-0-6w")
    with service.store() as store:
        events = store.events("ann@example.com")
    assert events[-1] == (service.clock().isoformat(), "stage", "postpartum-0-6w", "preferences")


def test_unticking_consent_deletes_her_date(service):
    service.sign_up(where="pregnant", due_date=due_in(service, 60), dates_consent="yes")
    confirm(service)
    token = preferences_token(service)
    service.request("POST", "/preferences/", {"token": token, "where": "pregnant", "due_date": "", "action": "save"})
    assert (service.person().due_date, service.person().dates_consent_at) == (None, None)


def test_my_baby_has_arrived_stores_today_as_the_birth_date_and_moves_her_at_once(service):
    due = due_in(service, 20)
    service.sign_up(name="Ann", where="pregnant", due_date=due, dates_consent="yes")
    confirm(service)
    token = preferences_token(service)
    _, page, _ = service.request("GET", "/preferences/", query=f"token={token}")
    assert 'value="arrived">My baby has arrived</button>' in page and "with today as your baby" in page
    service.clock.advance(days=2)

    status, page, _ = service.request("POST", "/preferences/", {"token": token, "action": "arrived"})

    assert status == "200 OK" and "Congratulations" in page and "My baby has arrived" not in page
    ann, today = service.person(), service.app._today()
    assert (ann.birth_date, ann.stage, ann.due_date.isoformat()) == (today, "postpartum-0-6w", due)
    assert reader_version(ann, today, service.config.audience) == "postpartum-0-6w"
    with service.store() as store:
        events = store.events("ann@example.com")
    now = service.clock().isoformat()
    assert events[-2:] == [(now, "stage", "postpartum-0-6w", "preferences"), (now, "dates", "changed", "preferences")]


def test_my_baby_has_arrived_without_consent_to_dates_stores_no_date(service):
    service.sign_up(where="pregnant")
    confirm(service)
    token = preferences_token(service)
    _, page, _ = service.request("GET", "/preferences/", query=f"token={token}")
    assert "My baby has arrived" in page and "with today as your baby" not in page

    service.request("POST", "/preferences/", {"token": token, "action": "arrived"})

    ann = service.person()
    assert (ann.stage, ann.birth_date, ann.dates_consent_at) == ("postpartum-0-6w", None, None)


def test_the_welcome_sent_after_my_baby_has_arrived_is_her_new_stages(service):
    service.sign_up(where="pregnant", due_date=due_in(service, 30), dates_consent="yes")
    service.send_mail()
    confirmation = service.mails()[-1]
    service.request("POST", "/confirm/", {"token": token_in(confirmation, "confirm")})  # the welcome is queued
    service.request(
        "POST",
        "/preferences/",
        {"token": make_reader_token("ann@example.com", PREFERENCES, SECRET), "action": "arrived"},
    )
    service.send_mail()
    text = " ".join(text_of(service.mails()[-1]).split())
    assert "In the first weeks after the birth" in text and "While you are pregnant" not in text


def test_my_baby_has_arrived_is_offered_only_while_she_is_pregnant_and_changes_nothing_else(service):
    service.sign_up(where="had-baby", birth_date=due_in(service, -3), dates_consent="yes")
    confirm(service)
    token = preferences_token(service)
    _, page, _ = service.request("GET", "/preferences/", query=f"token={token}")
    assert "My baby has arrived" not in page
    before = service.person()
    status, page, _ = service.request("POST", "/preferences/", {"token": token, "action": "arrived"})
    assert status == "200 OK" and "Nothing has changed" in page
    assert service.person() == before


@pytest.mark.parametrize(
    "token, origin, status",
    [
        pytest.param("confirm", ORIGIN, "400 Bad Request", id="confirmation-token"),
        pytest.param("unsubscribe", ORIGIN, "400 Bad Request", id="unsubscribe-token"),
        pytest.param("preferences", "https://evil.example", "403 Forbidden", id="other-origin"),
    ],
)
def test_my_baby_has_arrived_needs_her_preferences_token_and_our_origin(service, token, origin, status):
    service.sign_up(where="pregnant")
    confirm(service)
    tokens = {
        "confirm": make_reader_token("ann@example.com", CONFIRM, SECRET),
        "unsubscribe": make_token("ann@example.com", SECRET, LIST),
        "preferences": make_reader_token("ann@example.com", PREFERENCES, SECRET),
    }
    answer, _, _ = service.request(
        "POST", "/preferences/", {"token": tokens[token], "action": "arrived"}, headers={"Origin": origin}
    )
    assert answer == status
    assert service.person().stage == "pregnant"


def test_leaving_from_the_preferences_page_unsubscribes(service):
    service.sign_up()
    confirm(service)
    token = preferences_token(service)
    status, page, _ = service.request("POST", "/preferences/", {"token": token, "action": "leave"})
    assert (status, heading(page)) == ("200 OK", "You are unsubscribed")
    assert service.person().status == UNSUBSCRIBED


def test_a_confirmation_token_does_not_open_the_preferences(service):
    service.sign_up()
    service.send_mail()
    token = token_in(service.mails()[0], "confirm")
    status, _, _ = service.request("POST", "/preferences/", {"token": token, "action": "leave"})
    assert status == "400 Bad Request"
    assert service.person().status == PENDING


# Unsubscribing (the links of every email, and one-click).
def test_opening_an_unsubscribe_link_asks_and_unsubscribes_nobody(service):
    service.sign_up()
    confirm(service)
    token = make_token("ann@example.com", SECRET, service.config.base_url)
    status, page, _ = service.request("GET", "/unsubscribe/", query=f"token={token}")
    assert status == "200 OK" and "Unsubscribe ann@example.com" in page
    assert service.person().status == ACTIVE


def test_a_one_click_post_from_a_mail_client_unsubscribes_without_an_origin(service):
    service.sign_up()
    confirm(service)
    token = make_token("ann@example.com", SECRET, service.config.base_url)
    status, _, _ = service.request(
        "POST", "/unsubscribe/", query=f"token={token}", body=b"List-Unsubscribe=One-Click", headers={"Origin": None}
    )
    assert status == "200 OK"
    assert service.person().status == UNSUBSCRIBED


def test_an_unsubscribe_link_of_another_newsletter_unsubscribes_nobody(service):
    service.sign_up()
    confirm(service)
    token = make_token("ann@example.com", SECRET, "https://another-newsletter.example/")
    status, page, _ = service.request(
        "POST", "/unsubscribe/", query=f"token={token}", body=b"List-Unsubscribe=One-Click"
    )
    assert status == "400 Bad Request" and "another newsletter" in page
    assert service.person().status == ACTIVE


def test_an_unsubscribe_link_from_before_the_blog_moved_still_unsubscribes(make_project):
    root = make_project(with_repo_content=True)
    config = root / "newsletter.toml"
    config.write_text(config.read_text() + '\n[readers]\nformer_base_urls = ["https://old-blog.example"]\n')
    service = Service(root)
    service.sign_up()
    confirm(service)
    token = make_token("ann@example.com", SECRET, "https://old-blog.example/")
    status, _, _ = service.request("POST", "/unsubscribe/", query=f"token={token}", body=b"List-Unsubscribe=One-Click")
    assert status == "200 OK"
    assert service.person().status == UNSUBSCRIBED


def test_a_former_blog_address_that_is_not_an_address_is_a_config_error(make_project):
    from pipeline.core.config import load_config
    from pipeline.core.errors import ConfigError

    root = make_project(with_repo_content=True)
    (root / "newsletter.toml").write_text(
        (root / "newsletter.toml").read_text() + '\n[readers]\nformer_base_urls = ["old-blog"]\n'
    )
    with pytest.raises(ConfigError, match=r"\[readers\] former_base_urls: 'old-blog'"):
        load_config(root)


def test_an_address_in_a_page_is_escaped(service):
    token = make_token("<script>@example.com", SECRET, service.config.base_url)
    _, page, _ = service.request("GET", "/unsubscribe/", query=f"token={token}")
    assert "<script>@" not in page and "&lt;script&gt;" in page


# What it refuses.
def test_a_post_without_our_origin_is_refused_and_stores_nothing(service):
    for origin in (None, "https://evil.example", "null", ORIGIN + ".evil.example"):
        status, _, _ = service.request("POST", "/subscribe/", {"email": "ann@example.com"}, headers={"Origin": origin})
        assert status == "403 Forbidden"
    assert service.person() is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        pytest.param({"email": "ann"}, "email", "not an email address", id="invalid"),
        pytest.param({"email": "a" * 250 + "@example.com"}, "email", "too long", id="over-long-email"),
        pytest.param({"name": "Ann" * 40}, "name", "too long", id="over-long-name"),
        pytest.param({"email": "ann@example.com\r\nBcc: all@example.com"}, "email", "Line breaks", id="crlf-email"),
        pytest.param({"name": "Ann\nBcc: all@example.com"}, "name", "Line breaks", id="lf-name"),
        pytest.param({"where": "toddler"}, "where", "Choose one", id="unknown-answer"),
        pytest.param(
            {"where": "pregnant", "due_date": "1 March", "dates_consent": "yes"},
            "due_date",
            "year-month-day",
            id="bad-date",
        ),
    ],
)
def test_bad_input_is_a_400_page_that_keeps_what_she_typed_and_stores_nothing(service, fields, field, message):
    status, page, _ = service.sign_up(**fields)
    assert status == "400 Bad Request"
    assert message in page and f'id="{field}-error"' in page
    if field in ("email", "name") and "\n" not in fields[field]:
        assert f'value="{fields[field]}"' in page
    assert service.person() is None and service.person(fields.get("email", "x@x.x").split("\r")[0]) is None
    assert service.send_mail() == 0


@pytest.mark.parametrize(
    "where, field, months, days, message",
    [
        ("pregnant", "due_date", 0, 7 * 60, "is more than 44 weeks away; check the year"),
        ("pregnant", "due_date", -60, 0, "is more than 24 months ago"),
        ("had-baby", "birth_date", 0, 9, "is in the future; check the date"),
        ("had-baby", "birth_date", -480, 0, "is more than 24 months ago"),
    ],
)
def test_the_form_refuses_the_dates_the_import_refuses_in_the_same_words(service, where, field, months, days, message):
    day = add_months(service.clock().date(), months) + timedelta(days=days)
    status, page, _ = service.sign_up(where=where, **{field: day.isoformat()}, dates_consent="yes")
    assert status == "400 Bad Request"
    words = f"The {field.replace('_', ' ')} {day.isoformat()} {message}"  # test_reader_dates: the import's
    assert f'<p class="error" id="{field}-error">{words}' in page
    assert service.person() is None


def test_the_honeypot_gets_the_same_page_and_nothing_is_stored(service):
    _, human, _ = service.request("POST", "/subscribe/", {"email": "bea@example.com"})
    status, bot, _ = service.sign_up(website="http://spam.example")
    assert (status, bot) == ("200 OK", human)
    assert service.person() is None


def test_a_body_over_the_limit_is_refused(service):
    status, _, _ = service.request("POST", "/subscribe/", body=b"email=" + b"a" * 9000)
    assert status == "413 Content Too Large"
    assert service.person() is None


def test_one_address_gets_a_bounded_number_of_emails_a_day(service):
    for _ in range(5):
        assert service.sign_up()[0] == "200 OK"
    assert service.send_mail() == 3  # [readers] confirmations_per_day
    service.clock.advance(days=1, seconds=1)
    service.sign_up()
    assert service.send_mail() == 1


def test_one_ip_address_may_post_a_bounded_number_of_times_a_minute(service):
    answers = [service.sign_up(email=f"reader{n}@example.com")[0] for n in range(21)]
    assert answers[:20] == ["200 OK"] * 20
    status, _, headers = service.sign_up(email="late@example.com")
    assert status == "429 Too Many Requests" and int(headers["Retry-After"]) >= 1
    assert service.person("late@example.com") is None


def test_a_forged_x_forwarded_for_does_not_escape_the_per_ip_limit(service):
    answers = [
        service.request(
            "POST", "/subscribe/", {"email": f"reader{n}@example.com"}, headers={"X-Forwarded-For": f"203.0.113.{n}"}
        )[0]
        for n in range(21)
    ]
    assert answers[:20] == ["200 OK"] * 20
    assert answers[20] == "429 Too Many Requests"  # without trusted_proxies the header is ignored


@pytest.fixture
def behind_proxy(make_project):
    root = make_project(with_repo_content=True)
    config = root / "newsletter.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text + '\n[readers]\ntrusted_proxies = ["192.0.2.0/28", "::1"]\n', encoding="utf-8")
    return Service(root)  # its requests come from 192.0.2.10, inside the trusted network


def test_behind_a_trusted_proxy_each_reader_is_limited_by_her_own_address(behind_proxy):
    def post(n: int, forwarded: str) -> str:
        fields = {"email": f"reader{n}@example.com"}
        return behind_proxy.request("POST", "/subscribe/", fields, headers={"X-Forwarded-For": forwarded})[0]

    # The left of the header is hers to forge; the proxy appends the address it saw.
    answers = [post(n, f"198.51.100.{n}, 203.0.113.7") for n in range(21)]
    assert answers[:20] == ["200 OK"] * 20 and answers[20] == "429 Too Many Requests"
    assert post(30, "203.0.113.8") == "200 OK"  # another reader behind the same proxy is not held up
    assert post(31, "203.0.113.8, 192.0.2.3") == "200 OK"  # a second proxy of ours in between is skipped


@pytest.mark.parametrize("entry", ['"not-an-address"', '"10.0.0.0/33"', "8080"])
def test_a_trusted_proxy_that_is_not_an_address_is_a_config_error(make_project, entry):
    from pipeline.core.config import load_config

    root = make_project()
    config = root / "newsletter.toml"
    config.write_text(config.read_text(encoding="utf-8") + f"\n[readers]\ntrusted_proxies = [{entry}]\n")
    with pytest.raises(ConfigError, match=r"\[readers\] trusted_proxies: .* is not an IP address or network"):
        load_config(root)


@pytest.mark.parametrize("path", ["/confirm/", "/unsubscribe/", "/preferences/"])
def test_get_never_changes_anything_and_other_methods_are_refused(service, path):
    service.sign_up()
    status, _, headers = service.request("DELETE", path, query="token=x")
    assert status == "405 Method Not Allowed" and "POST" in headers["Allow"]
    assert service.person().status == PENDING


def test_a_missing_secret_is_a_config_error_naming_the_variable(make_project):
    from pipeline.core.config import load_config

    with pytest.raises(ConfigError, match="NEWSLETTER_UNSUBSCRIBE_SECRET"):
        reader_service(load_config(make_project()), {})


# Nothing lost, nothing kept that should not be.
def test_when_the_relay_is_down_the_signup_is_kept_and_its_email_sent_when_it_is_back(make_project, caplog):
    port = free_port()
    root = make_project(with_repo_content=True)
    (root / "newsletter.toml").write_text(toml(port), encoding="utf-8")
    service = Service(root)
    due = due_in(service, 100)
    with caplog.at_level(logging.INFO):
        assert service.sign_up(where="pregnant", due_date=due, dates_consent="yes")[0] == "200 OK"
        assert service.send_mail() == 0  # nobody listens on the port yet
    assert service.person().status == PENDING
    assert "trying again at" in caplog.text and due not in caplog.text and "ann@example.com" not in caplog.text
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        service.relay.settings = service.relay.settings.__class__(
            **{**service.relay.settings.__dict__, "port": server.port}
        )
        assert service.send_mail() == 0  # not due yet: the next try is 30 s later
        service.clock.advance(seconds=31)
        assert service.send_mail() == 1
    assert [rcpt for _, rcpt, _ in mailbox.messages] == [["ann@example.com"]]


def test_forget_erases_the_reader_her_history_and_her_queued_mail(service):
    service.sign_up(where="pregnant", due_date=due_in(service, 100), dates_consent="yes")
    with service.store() as store:
        assert store.forget("ann@example.com")
        dump = "\n".join(store.db.iterdump())
    assert "ann@example.com" not in dump
    assert service.send_mail() == 0


def test_the_service_answers_only_its_paths(service):
    status, _, _ = service.request("GET", "/wp-login.php")
    assert status == "404 Not Found"
    assert service.request("GET", "/privacy/")[0] == "200 OK"
    assert ORIGIN in service.request("GET", "/privacy/")[1]


def test_newsletter_serve_without_the_secret_exits_2_with_what_to_set(make_project):
    import os
    import subprocess
    import sys

    from helpers import REPO

    env = {key: value for key, value in os.environ.items() if key != "NEWSLETTER_UNSUBSCRIBE_SECRET"}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--root", str(make_project()), "--port", "0"],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert result.returncode == 2
    assert "set the environment variable NEWSLETTER_UNSUBSCRIBE_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_newsletter_serve_with_a_secret_of_sixteen_spaces_exits_2_without_showing_it(make_project):
    import os
    import subprocess
    import sys

    from helpers import REPO

    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--root", str(make_project()), "--port", "0"],
        capture_output=True,
        text=True,
        env={**os.environ, "NEWSLETTER_UNSUBSCRIBE_SECRET": " " * 16, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert result.returncode == 2
    assert "NEWSLETTER_UNSUBSCRIBE_SECRET holds only whitespace" in result.stderr
    assert "Traceback" not in result.stderr
