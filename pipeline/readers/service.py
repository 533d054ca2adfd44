"""The reader service: a WSGI app for the self-hosted list (outbox or smtp), on the subscriber
table. Readers sign up (double opt-in), confirm, change their stage and details, and leave.

    POST /subscribe/    store a pending reader, queue her confirmation; the same page whoever she is
    GET  /subscribe/    the form on its own page
    GET  /confirm/      a page with a button (mail scanners open links) ...
    POST /confirm/      ... whose POST confirms, once, within [readers] confirm_days; queues the welcome
    GET/POST /preferences/   her name, stage and dates, or leave; "My baby has arrived" (POST only)
    GET/POST /unsubscribe/   the unsubscribe link of every email; one-click (RFC 8058) POST
    GET  /privacy/      the short privacy note the form links to

Every POST must come from one of our origins (Origin header), except a mail client's one-click
unsubscribe (`List-Unsubscribe=One-Click`, from no page of ours); bodies over MAX_BODY are refused, and each IP may post
`[readers] posts_per_minute_per_ip` times a minute. Any other path is handed to `fallback` (the
blog's files when `newsletter serve` serves them), else 404.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import jinja2

from pipeline.core.clock import now as utc_now
from pipeline.core.config import Config
from pipeline.core.privacy import consent_text, privacy_paragraphs
from pipeline.core.stages import answer_stages
from pipeline.deliver.reader_stages import baby_arrived, reader_version
from pipeline.deliver.subscribers import (
    ACTIVE,
    UNSUBSCRIBED,
    Subscriber,
    SubscriberStore,
    store_path,
)
from pipeline.deliver.tokens import (
    CONFIRM,
    PREFERENCES,
    TOKEN_PARAMETER,
    ExpiredToken,
    InvalidToken,
    checked_secret,
    read_reader_token,
    read_token,
)
from pipeline.readers.commits import GroupCommit
from pipeline.readers.forms import (
    HAD_BABY,
    answer_for_stage,
    chosen_stage,
    consent_time,
    first_values,
    read_answers,
)
from pipeline.readers.limits import RateLimit
from pipeline.readers.mail import Links

log = logging.getLogger("newsletter.readers")
MAX_BODY = 8 * 1024  # the form is well under 1 KB; a bigger body is not a reader
MAX_FIELDS = 30
ONE_CLICK = "List-Unsubscribe=One-Click"
ROUTES = ("subscribe", "confirm", "preferences", "unsubscribe", "privacy")
_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("pipeline.readers", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class Answer(Exception):
    """A finished page to send instead of going on (400, 403, 413, 429 ...)."""

    def __init__(self, status: str, page: bytes, headers=()):
        self.status, self.page, self.headers = status, page, list(headers)


class ReaderService:
    def __init__(
        self,
        config: Config,
        secret: str,
        wake_sender: Callable[[], None] = lambda: None,
        fallback=None,
        clock: Callable[[], datetime] = utc_now,
        writes: GroupCommit | None = None,
    ):
        self.config = config
        self.secret = checked_secret(secret)
        self.wake_sender = wake_sender
        self.fallback = fallback
        self.clock = clock
        self.store_path = store_path(config)
        self.limit = RateLimit(config.readers.posts_per_minute_per_ip)
        self.trusted = config.readers.trusted_networks()
        self.origins = {_origin(config.readers_url), _origin(config.base_url), *config.readers.allowed_origins}
        self.prefix = urlsplit(config.readers_url).path.rstrip("/")  # "" when it answers at the root
        self._connections = threading.local()
        self.writes = writes or GroupCommit(self.store_path, clock)  # signups: many in one commit
        self._thanks: Answer | None = None  # the same page for every signup: made once
        with SubscriberStore(self.store_path):  # creates or migrates the table now, not on the first request
            pass

    # ------------------------------------------------------------------ plumbing
    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        route = self._route(environ.get("PATH_INFO", "/"))
        if route is None:
            if self.fallback is not None:
                return self.fallback(environ, start_response)
            return self._send(start_response, self._page("404 Not Found", "Page not found", []))
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if method not in ("GET", "HEAD", "POST") or (route == "privacy" and method == "POST"):
                allowed = "GET, HEAD" if route == "privacy" else "GET, HEAD, POST"
                raise self._refuse("405 Method Not Allowed", "Not allowed", [], headers=[("Allow", allowed)])
            if method == "POST":
                fields = self._post_fields(environ)
                answer = getattr(self, f"post_{route}")(fields, environ)
            else:
                answer = getattr(self, f"get_{route}")(first_values(parse_qs(environ.get("QUERY_STRING", ""))))
        except Answer as refused:
            answer = refused
        return self._send(start_response, answer, head=method == "HEAD")

    def _route(self, path: str) -> str | None:
        if self.prefix and not path.startswith(self.prefix + "/"):
            return None
        name = path[len(self.prefix) :].strip("/")
        return name if name in ROUTES else None

    def _send(self, start_response, answer: Answer, head: bool = False) -> list[bytes]:
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(answer.page))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),  # her token stays here; no-referrer: Origin "null"
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
            *answer.headers,
        ]
        start_response(answer.status, headers)
        return [b""] if head else [answer.page]

    def _post_fields(self, environ: dict) -> dict[str, str]:
        """The POST's form fields after the checks every POST gets: size, origin, rate."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = MAX_BODY + 1
        if length > MAX_BODY:
            raise self._refuse("413 Content Too Large", "That was too much", ["The form sent far more than it holds."])
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            text = body.decode("utf-8")
            parsed = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            raise self._refuse("400 Bad Request", "The form could not be read", ["Please try again."]) from None
        one_click = text.strip() == ONE_CLICK
        origin = environ.get("HTTP_ORIGIN")
        if not one_click and origin not in self.origins:  # a mail client's one-click POST has no page
            raise self._refuse(
                "403 Forbidden",
                "This form must be sent from our own pages",
                [f"Please use the form on {self.config.base_url}."],
            )
        if not one_click:
            wait = self.limit.allow(client_address(environ, self.trusted))
            if wait:
                raise self._refuse(
                    "429 Too Many Requests",
                    "Too many tries",
                    [f"Please wait {round(wait)} seconds and send the form again."],
                    headers=[("Retry-After", str(round(wait)))],
                )
        fields = {name: values[-1] for name, values in parsed.items()}
        fields[TOKEN_PARAMETER] = fields.get(TOKEN_PARAMETER) or first_values(
            parse_qs(environ.get("QUERY_STRING", ""))
        ).get(TOKEN_PARAMETER, "")
        return fields

    def _store(self) -> contextlib.AbstractContextManager[SubscriberStore]:
        """This thread's connection to the table, opened once (a connection per request costs a
        third of a signup's time); each store method is still one transaction."""
        store = getattr(self._connections, "store", None)
        if store is None:
            store = self._connections.store = SubscriberStore(self.store_path, clock=self.clock)
        return contextlib.nullcontext(store)

    def _today(self) -> date:
        return self.clock().astimezone(ZoneInfo(self.config.email.timezone)).date()

    # ------------------------------------------------------------------ pages
    def _render(self, name: str, **context) -> bytes:
        base = {
            "site": self.config.site,
            "site_url": self.config.base_url,
            "message": [],
            "link": None,
        }
        return _templates.get_template(name).render({**base, **context}).encode()

    def _page(self, status: str, title: str, message: list[str], link=None, headers=()) -> Answer:
        return Answer(status, self._render("page.html.j2", title=title, message=message, link=link), headers)

    def _refuse(self, status: str, title: str, message: list[str], headers=()) -> Answer:
        return self._page(status, title, message, headers=headers)

    def _form(self, status: str, title: str, values: dict, errors: dict, message=(), **context) -> Answer:
        page = self._render(
            "form.html.j2",
            title=title,
            message=list(message),
            values={
                name: values.get(name, "")
                for name in ("email", "name", "where", "due_date", "birth_date", "dates_consent")
            },
            errors=errors,
            consent_text=consent_text(self.config.site.title),
            privacy_url=self.config.readers_url + "privacy/",
            **{"token": "", "ask_email": True, "leave": False, "submit": "Subscribe", "arrived": "", **context},
        )
        return Answer(status, page)

    def _subscribe_link(self) -> dict:
        return {"href": self.config.readers_url + "subscribe/", "text": "Sign up again"}

    # ------------------------------------------------------------------ subscribe
    def get_subscribe(self, query: dict) -> Answer:
        return self._form("200 OK", f"Subscribe to {self.config.site.title}", {}, {}, action=self._url("subscribe"))

    def post_subscribe(self, fields: dict, environ: dict) -> Answer:
        answers = read_answers(fields, self._today(), self.config.audience.calendar)
        if not answers.valid:
            return self._form(
                "400 Bad Request",
                f"Subscribe to {self.config.site.title}",
                answers.values,
                answers.errors,
                action=self._url("subscribe"),
            )
        if not answers.honeypot_filled:  # a bot gets the same page, and nothing is stored
            person = Subscriber(
                email=answers.email,
                name=answers.name,
                stage=chosen_stage(answers, self.config.audience.stages, self.config.audience.pregnant_stage),
                due_date=answers.due_date,
                birth_date=answers.birth_date,
                dates_consent_at=consent_time(answers, self.clock()),
            )
            per_day = self.config.readers.confirmations_per_day
            self.writes.run(lambda store: store.sign_up(person, mails_per_day=per_day))
            self.wake_sender()
        if self._thanks is None:
            self._thanks = self._page(
                "200 OK",
                "Check your inbox",
                [
                    "We have sent an email to the address you gave. Open the link in it to confirm your "
                    "subscription; until then you will get nothing else from us.",
                    f"No email within a few minutes? Look in your spam folder, or write to {self._contact()}.",
                ],
            )
        return self._thanks

    # ------------------------------------------------------------------ confirm
    def _confirm_token(self, token: str) -> tuple[str, str]:
        try:
            return read_reader_token(
                token, CONFIRM, self.secret, max_age=timedelta(days=self.config.readers.confirm_days), clock=self.clock
            )
        except ExpiredToken:
            raise self._refuse_link(
                f"This confirmation link has expired: it works for {self.config.readers.confirm_days} days. "
                "Sign up again for a new one.",
                link=self._subscribe_link(),
            ) from None
        except InvalidToken:
            raise self._refuse_link("This confirmation link is not valid (it may have been cut short).") from None

    def _refuse_link(self, text: str, link=None) -> Answer:
        return self._page("400 Bad Request", "Link not valid", [text], link=link or self._subscribe_link())

    def get_confirm(self, query: dict) -> Answer:
        token = query.get(TOKEN_PARAMETER, "")
        self._confirm_token(token)
        page = self._render(
            "button.html.j2",
            title="Confirm your subscription",
            message=["One more step: press the button to start getting the weekly email."],
            action=self._url("confirm"),
            token=token,
            submit="Yes, subscribe me",
        )
        return Answer("200 OK", page)

    def post_confirm(self, fields: dict, environ: dict) -> Answer:
        email, nonce = self._confirm_token(fields[TOKEN_PARAMETER])
        with self._store() as store:
            before = store.get(email)
            confirmed = store.confirm(email, nonce)
        if confirmed is None:
            if before is not None and before.status == UNSUBSCRIBED:
                raise self._refuse_link("You left the list after this link was sent. Sign up again to come back.")
            raise self._refuse_link("A newer confirmation link was sent since this one: use the newest email.")
        if before.status == ACTIVE:
            return self._page("200 OK", "You are already subscribed", ["Nothing has changed."], link=self._prefs(email))
        self.wake_sender()
        return self._page(
            "200 OK",
            "You are subscribed",
            ["Thank you. A welcome email is on its way, and the weekly email follows."],
            link=self._prefs(email),
        )

    # ------------------------------------------------------------------ preferences
    def _preferences_email(self, token: str) -> str:
        try:
            return read_reader_token(token, PREFERENCES, self.secret, clock=self.clock)[0]
        except InvalidToken:
            raise self._refuse_link(
                "This link to your preferences is not valid (it may have been cut short)."
            ) from None

    def _prefs(self, email: str) -> dict:
        return {"href": Links(self.config, self.secret, self.clock).preferences(email), "text": "Your preferences"}

    def _preferences_form(
        self, status: str, token: str, values: dict, errors: dict, message=(), person: Subscriber | None = None
    ) -> Answer:
        return self._form(
            status,
            "Your preferences",
            values,
            errors,
            message,
            action=self._url("preferences"),
            token=token,
            ask_email=False,
            leave=True,
            submit="Save",
            arrived=self._arrived_button(person),
        )

    def _arrived_button(self, person: Subscriber | None) -> str:
        """'My baby has arrived' is offered to a reader who is pregnant today: "with-date" when
        she let us keep dates (it stores today as the birth date), "" (no button) otherwise."""
        if person is None or self._stage_today(person) != self.config.audience.pregnant_stage:
            return ""
        return "with-date" if person.dates_consent_at else "without-date"

    def _stage_today(self, person: Subscriber) -> str:
        return reader_version(person, self._today(), self.config.audience)

    def _values_of(self, person: Subscriber) -> dict:
        return {
            "name": person.name,
            "where": answer_for_stage(person.stage, self.config.audience.pregnant_stage),
            "due_date": person.due_date.isoformat() if person.due_date else "",
            "birth_date": person.birth_date.isoformat() if person.birth_date else "",
            "dates_consent": "yes" if person.dates_consent_at else "",
        }

    def _current(self, email: str) -> Subscriber:
        with self._store() as store:
            person = store.get(email)
        if person is None or person.status == UNSUBSCRIBED:
            raise self._page(
                "404 Not Found", "You are not on the list", [f"{email} is not subscribed."], link=self._subscribe_link()
            )
        return person

    def get_preferences(self, query: dict) -> Answer:
        token = query.get(TOKEN_PARAMETER, "")
        person = self._current(self._preferences_email(token))
        return self._preferences_form("200 OK", token, self._values_of(person), {}, [f"For {person.email}."], person)

    def post_preferences(self, fields: dict, environ: dict) -> Answer:
        token = fields[TOKEN_PARAMETER]
        person = self._current(self._preferences_email(token))
        if fields.get("action") == "leave":
            with self._store() as store:
                store.unsubscribe(person.email, via="preferences")
            return self._left(person.email)
        if fields.get("action") == "arrived":
            return self._baby_arrived(token, person)
        answers = read_answers(fields, self._today(), self.config.audience.calendar, need_email=False)
        if not answers.valid:
            return self._preferences_form("400 Bad Request", token, answers.values, answers.errors)
        keeps_consent = person.dates_consent_at if answers.dates_consent and person.dates_consent_at else None
        changed = Subscriber(
            email=person.email,
            name=answers.name,
            tags=person.tags,
            stage=chosen_stage(answers, self.config.audience.stages, self.config.audience.pregnant_stage),
            due_date=answers.due_date,
            birth_date=answers.birth_date,
            dates_consent_at=keeps_consent or consent_time(answers, self.clock()),
        )
        with self._store() as store:
            saved = store.change(changed)
        return self._preferences_form(
            "200 OK", token, answers.values, {}, ["Saved. The next email follows your choice."], saved
        )

    def _baby_arrived(self, token: str, person: Subscriber) -> Answer:
        """ "My baby has arrived": her stage moves on at once, to the stage "I've had my baby"
        stands for. With her consent to keeping dates, today (in [email] timezone) is stored as
        the birth date, so the calendar moves her on from there; without it, no date is stored.
        The change is recorded in the events like any other; the next email follows it."""
        if self._stage_today(person) != self.config.audience.pregnant_stage:
            return self._preferences_form(
                "200 OK", token, self._values_of(person), {}, ["Nothing has changed: you are not down as pregnant."]
            )
        after = answer_stages(self.config.audience.stages, self.config.audience.pregnant_stage).get(HAD_BABY)
        if person.dates_consent_at:
            changed = replace(baby_arrived(person, self._today()), stage=after)
        else:
            changed = replace(person.without_dates(), stage=after)
        with self._store() as store:
            saved = store.change(changed, via="preferences")
        return self._preferences_form(
            "200 OK",
            token,
            self._values_of(saved),
            {},
            ["Congratulations! From the next email on you get the version for the first weeks after the birth."],
            saved,
        )

    def _left(self, email: str) -> Answer:
        return self._page(
            "200 OK", "You are unsubscribed", [f"{email} will get no more emails from {self.config.site.title}."]
        )

    # ------------------------------------------------------------------ unsubscribe
    def _unsubscribe_email(self, token: str) -> str:
        try:
            return read_token(token, self.secret, self.config.list_identities)
        except InvalidToken as error:
            raise self._refuse_link(f"{error}. Write to {self._contact()} and we will take you off the list.") from None

    def get_unsubscribe(self, query: dict) -> Answer:
        token = query.get(TOKEN_PARAMETER, "")
        email = self._unsubscribe_email(token)
        page = self._render(
            "button.html.j2",
            title=f"Unsubscribe from {self.config.site.title}?",
            message=[],
            action=self._url("unsubscribe"),
            token=token,
            submit=f"Unsubscribe {email}",
        )
        return Answer("200 OK", page)

    def post_unsubscribe(self, fields: dict, environ: dict) -> Answer:
        email = self._unsubscribe_email(fields[TOKEN_PARAMETER])
        with self._store() as store:
            store.unsubscribe(email, via="unsubscribe")
        return self._left(email)

    # ------------------------------------------------------------------ privacy
    def get_privacy(self, query: dict) -> Answer:
        return self._page(
            "200 OK", "Your details and your privacy", privacy_paragraphs(self.config.site.title, self._contact())
        )

    def _contact(self) -> str:
        return self.config.email.reply_to or self.config.email.sender_address

    def _url(self, route: str) -> str:
        return f"{self.prefix}/{route}/"


def client_address(environ: dict, trusted: tuple) -> str:
    """The address a request comes from, for the per-IP rate limit: the connection's, unless that
    is one of `[readers] trusted_proxies`; then the nearest address in X-Forwarded-For that is not
    a trusted proxy (read from the right: the proxies append, a client can forge only the left)."""
    address = environ.get("REMOTE_ADDR", "")
    if not trusted or not _is_trusted(address, trusted):
        return address
    for hop in reversed(environ.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = hop.strip()
        if not hop:
            continue
        if not _is_trusted(hop, trusted):
            return hop
        address = hop
    return address


def _is_trusted(address: str, trusted: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # not an address (a forged "unknown", a port left on): never a proxy of ours
    return any(ip in network for network in trusted)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
