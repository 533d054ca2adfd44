"""In-memory stand-ins for the four providers, served over real HTTP by pytest-httpserver.

Each fake keeps its campaigns in memory, answers with bodies shaped like its spec, and checks
every request (and its own reply) against the provider's OpenAPI document. It mimics the
behaviours the client must cope with: Buttondown sending at once when `status` is left out,
Mailchimp refusing off-quarter schedule times, listmonk needing `lists` on every update.
Faults (errors, rate limits, slow answers) are queued with `add_fault`.

Each fake also has a roster of readers (`readers`: address -> the provider's ids of her tags,
or of her lists for listmonk) and delivers a campaign when it is sent, to the readers its
audience fields select (Mailchimp `segment_opts`, Buttondown `filters`, Kit `subscriber_filter`,
listmonk `lists`), recording each in `deliveries`; a campaign is delivered at most once.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from werkzeug import Request, Response

from .spec_server import Spec, spec

NOW = "2026-11-20T09:00:00Z"
OUR_STATUS = {"draft", "scheduled", "sent"}


@dataclass
class Fault:
    """Answer matching requests with `status`/`body` instead of the real handler.
    `delay` waits before answering; `handle_first` lets the real handler change the state
    first (a server that acts, then answers too late or with an error)."""

    method: str | None = None
    path: str = ""
    status: int = 0
    body: Any = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    handle_first: bool = False
    times: int = 1
    check_reply: bool = True  # False for bodies deliberately off the spec
    skip: int = 0  # let this many matching requests through first (a fault in the middle of a run)

    def matches(self, request: Request) -> bool:
        return (self.method is None or request.method == self.method) and re.search(self.path, request.path) is not None


@dataclass
class Exchange:
    method: str
    path: str
    query: dict
    json: Any
    headers: dict
    status: int


class FakeProvider:
    name: ClassVar[str]
    secrets: ClassVar[dict[str, str]]  # environment for the client
    page_size: ClassVar[int] = 2  # small, so that the client's paging is exercised

    def __init__(self):
        self.spec: Spec = spec(self.name)
        self.campaigns: dict[str, dict] = {}
        self.exchanges: list[Exchange] = []
        self.spec_errors: list[str] = []
        self.faults: list[Fault] = []
        self.tests_sent: list[list[str]] = []
        self.readers: dict[str, set] = {}  # address -> tag ids (list ids for listmonk)
        self.deliveries: list[tuple[str, str]] = []  # (campaign id, address), one per message sent
        self.lock = threading.RLock()
        self.routes = [(m, re.compile(f"^{self.spec.base_path}{p}$"), h) for m, p, h in self.route_table()]

    # Test-facing API --------------------------------------------------------------------------
    def base_url(self, root: str) -> str:
        """What [provider] base_url is set to for a server at `root` (http://127.0.0.1:PORT)."""
        return root + self.spec.base_path

    def add_fault(self, **kwargs) -> Fault:
        fault = Fault(**kwargs)
        self.faults.append(fault)
        return fault

    def writes(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.method != "GET"]

    def received(self) -> dict[str, list[str]]:
        """Address -> the ids of the campaigns she was sent."""
        got: dict[str, list[str]] = {}
        for campaign_id, address in self.deliveries:
            got.setdefault(address, []).append(campaign_id)
        return got

    def deliver(self, campaign_id: str, selects: Callable[[set], bool]) -> None:
        """Send campaign `campaign_id` to every reader whose ids `selects` accepts, once."""
        if any(sent == campaign_id for sent, _ in self.deliveries):
            return
        self.deliveries += [(campaign_id, address) for address, ids in sorted(self.readers.items()) if selects(ids)]

    def our_view(self) -> list[dict]:
        """Every campaign as {id, status (draft/scheduled/sent), subject, html}."""
        raise NotImplementedError

    # Provider-shaped bodies for the shared cases.
    def auth_error(self) -> tuple[int, Any]:
        raise NotImplementedError

    def validation_error(self) -> tuple[int, Any, str, str | None]:
        """(status, body, the provider's message, the field it names or None) for a bad create."""
        raise NotImplementedError

    def rate_limited(self, retry_after: str | None) -> dict:
        raise NotImplementedError

    def server_error(self) -> tuple[int, Any]:
        raise NotImplementedError

    def create_path(self) -> str:
        """A regex for the path of the request that creates a campaign."""
        raise NotImplementedError

    # Serving ----------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        errors = self.spec.request_errors(request)
        if errors:
            self.spec_errors.extend(errors)
            return self._reply(request, 400, {"spec_error": errors[0]}, validate=False)
        fault = self._take_fault(request)
        if fault:
            if fault.handle_first:
                self._route(request)
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status:
                return self._reply(request, fault.status, fault.body, fault.headers, validate=fault.check_reply)
            if fault.handle_first:
                return self._reply(request, 200, None, validate=False)  # the client gave up anyway
        if not self.authorised(request):
            return self._reply(request, *self.auth_error())
        return self._reply(request, *self._route(request))

    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times and fault.matches(request):
                    if fault.skip:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    return fault
        return None

    def _route(self, request: Request) -> tuple:
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                body = request.get_json(silent=True)
                with self.lock:
                    return handler(request, body, **match.groupdict())
        return 404, {"error": f"the fake {self.name} has no route for {request.method} {request.path}"}

    def _reply(
        self, request: Request, status: int, body: Any, headers: dict | None = None, validate: bool = True
    ) -> Response:
        if body is None:
            payload, content_type = b"", "application/json"
        elif isinstance(body, str):
            payload, content_type = body.encode(), "text/plain"
        else:
            payload, content_type = json.dumps(body).encode(), "application/json"
        if validate and status < 500 and status != 429:
            self.spec_errors.extend(self.spec.response_errors(request, status, payload, content_type, headers or {}))
        self.exchanges.append(
            Exchange(
                request.method,
                request.path,
                dict(request.args),
                request.get_json(silent=True),
                dict(request.headers),
                status,
            )
        )
        return Response(payload, status=status, headers=headers or {}, content_type=content_type if payload else None)

    def authorised(self, request: Request) -> bool:
        raise NotImplementedError

    def route_table(self) -> list[tuple[str, str, Callable]]:
        raise NotImplementedError


def _new_id(alphabet: str, length: int) -> str:
    return "".join(random.choice(alphabet) for _ in range(length))


def _is_future(iso: str) -> bool:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")) > datetime.now(UTC)


# Buttondown -----------------------------------------------------------------------------------


class FakeButtondown(FakeProvider):
    name = "buttondown"
    secrets = {"NEWSLETTER_BUTTONDOWN_API_KEY": "bd-test-key-0123456789"}

    def route_table(self):
        return [
            ("POST", "/emails", self.create),
            ("GET", "/emails", self.list),
            ("GET", "/emails/(?P<id>[^/]+)", self.get),
            ("PATCH", "/emails/(?P<id>[^/]+)", self.update),
            ("POST", "/emails/(?P<id>[^/]+)/send-draft", self.send_draft),
            ("POST", "/emails/(?P<id>[^/]+)/publish", self.publish),
        ]

    def authorised(self, request):
        return request.headers.get("Authorization") == f"Token {self.secrets['NEWSLETTER_BUTTONDOWN_API_KEY']}"

    def create(self, request, body):
        email_id = "em_" + random.choice("01234567") + _new_id("0123456789abcdefghjkmnpqrstvwxyz", 25)
        self.campaigns[email_id] = {
            "id": email_id,
            "subject": body["subject"],
            "body": body.get("body", ""),
            "description": body.get("description", ""),
            "metadata": body.get("metadata", {}),
            # Buttondown's own default: a create without a status goes out at once.
            "status": body.get("status", "about_to_send"),
            "publish_date": body.get("publish_date"),
            "creation_date": NOW,
            "filters": body.get("filters") or {"filters": [], "groups": [], "predicate": "and"},
        }
        return 201, self._email(email_id)

    def list(self, request, body):
        emails = sorted(self.campaigns.values(), key=lambda e: e["creation_date"], reverse=True)
        page = int(request.args.get("page", 1))
        chunk = emails[(page - 1) * self.page_size : page * self.page_size]
        more = page * self.page_size < len(emails)
        results = [self._email(e["id"], with_body="body" not in request.args.getlist("excluded_fields")) for e in chunk]
        next_url = f"https://api.buttondown.com/v1/emails?page={page + 1}" if more else None
        return 200, {"results": results, "next": next_url, "previous": None, "count": len(emails)}

    def get(self, request, body, id):
        if id not in self.campaigns:
            return 404, {"detail": "Not found.", "code": "not_found"}
        return 200, self._email(id)

    def update(self, request, body, id):
        if id not in self.campaigns:
            return 404, {"detail": "Not found.", "code": "not_found"}
        self.campaigns[id].update({k: v for k, v in body.items() if v is not None})
        return 200, self._email(id)

    def send_draft(self, request, body, id):
        self.tests_sent.append(body.get("recipients") or [])
        return 200, None

    def publish(self, request, body, id):
        email = self.campaigns[id]
        if body.get("publish_date"):
            email.update(status="scheduled", publish_date=body["publish_date"])
        else:
            email.update(status="about_to_send", publish_date=NOW)
            self.deliver(id, lambda tags: _buttondown_selects(email["filters"], tags))
        return 200, self._email(id)

    def _email(self, email_id: str, with_body: bool = True) -> dict:
        e = self.campaigns[email_id]
        return {
            "id": e["id"],
            "creation_date": e["creation_date"],
            "modification_date": NOW,
            "absolute_url": f"https://buttondown.com/example/archive/{e['id']}/",
            "body": e["body"] if with_body else "",
            "canonical_url": "",
            "commenting_mode": "enabled",
            "description": e["description"],
            "archival_mode": "enabled",
            "featured": False,
            "filters": e["filters"],
            "image": "",
            "metadata": e["metadata"],
            "publish_date": e["publish_date"],
            "related_email_ids": [],
            "should_trigger_pay_per_email_billing": False,
            "source": "api",
            "status": e["status"],
            "subject": e["subject"],
        }

    def our_view(self):
        status = {"draft": "draft", "scheduled": "scheduled"}
        return [
            {"id": e["id"], "status": status.get(e["status"], "sent"), "subject": e["subject"], "html": e["body"]}
            for e in self.campaigns.values()
        ]

    def auth_error(self):
        return 401, {"detail": "Invalid token.", "code": "invalid_token"}

    def validation_error(self):
        message = "String should have at most 2000 characters"
        body = {"detail": [{"loc": ["body", "subject"], "msg": message, "type": "string_too_long"}]}
        return 422, body, message, "subject"

    def rate_limited(self, retry_after):
        headers = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1735776060"}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        return {"status": 429, "body": {"detail": "Request was throttled.", "code": "rate_limited"}, "headers": headers}

    def server_error(self):
        return 500, {"detail": "Something went wrong on our end.", "code": "server_error"}

    def create_path(self):
        return r"/v1/emails$"


# Mailchimp ------------------------------------------------------------------------------------


class FakeMailchimp(FakeProvider):
    name = "mailchimp"
    secrets = {"NEWSLETTER_MAILCHIMP_API_KEY": "0123456789abcdef0123456789abcdef-us21"}
    page_size = 1000  # Mailchimp honours `count`
    web_ids = itertools.count(101)

    def route_table(self):
        campaign = "/campaigns/(?P<id>[0-9a-f]+)"
        return [
            ("POST", "/campaigns", self.create),
            ("GET", "/campaigns", self.list),
            ("GET", campaign, self.get),
            ("PATCH", campaign, self.update),
            ("PUT", campaign + "/content", self.set_content),
            ("POST", campaign + "/actions/test", self.test),
            ("POST", campaign + "/actions/schedule", self.schedule),
            ("POST", campaign + "/actions/send", self.send),
        ]

    def authorised(self, request):
        auth = request.authorization
        return bool(auth) and auth.password == self.secrets["NEWSLETTER_MAILCHIMP_API_KEY"]

    def create(self, request, body):
        campaign_id = _new_id("0123456789abcdef", 10)
        self.campaigns[campaign_id] = {
            "id": campaign_id,
            "web_id": next(self.web_ids),
            "type": body["type"],
            "create_time": NOW,
            "status": "save",
            "content_type": "html",
            "recipients": dict(body["recipients"]),
            "settings": dict(body.get("settings", {})),
            "content": {},
        }
        return 200, self._campaign(campaign_id)

    def list(self, request, body):
        wanted = [
            c
            for c in self.campaigns.values()
            if c["recipients"]["list_id"] == request.args.get("list_id", c["recipients"]["list_id"])
        ]
        wanted.sort(key=lambda c: c["create_time"], reverse=request.args.get("sort_dir") == "DESC")
        offset, count = int(request.args.get("offset", 0)), int(request.args.get("count", 10))
        return 200, {
            "campaigns": [self._campaign(c["id"]) for c in wanted[offset : offset + count]],
            "total_items": len(wanted),
        }

    def get(self, request, body, id):
        if id not in self.campaigns:
            return self._problem(404, "Resource Not Found", "The requested resource could not be found.")
        return 200, self._campaign(id)

    def update(self, request, body, id):
        self.campaigns[id]["settings"].update(body.get("settings", {}))
        if "recipients" in body:
            self.campaigns[id]["recipients"] = dict(body["recipients"])
        return 200, self._campaign(id)

    def set_content(self, request, body, id):
        self.campaigns[id]["content"] = {"html": body.get("html"), "plain_text": body.get("plain_text")}
        return 200, {"html": body.get("html", ""), "plain_text": body.get("plain_text", "")}

    def test(self, request, body, id):
        self.tests_sent.append(body["test_emails"])
        return 204, None

    def schedule(self, request, body, id):
        when = datetime.fromisoformat(body["schedule_time"].replace("Z", "+00:00"))
        if when.minute % 15 or when.second:
            return self._problem(400, "Bad Request", "Schedule time must be on the quarter-hour (:00, :15, :30, :45).")
        self.campaigns[id]["status"] = "schedule"
        return 204, None

    def send(self, request, body, id):
        self.campaigns[id]["status"] = "sent"
        self.deliver(id, lambda tags: _mailchimp_selects(self.campaigns[id]["recipients"].get("segment_opts"), tags))
        return 204, None

    def _campaign(self, campaign_id: str) -> dict:
        c = self.campaigns[campaign_id]
        return {k: v for k, v in c.items() if k != "content"}

    @staticmethod
    def _problem(status: int, title: str, detail: str, errors: list | None = None) -> tuple[int, dict]:
        body = {
            "type": "https://mailchimp.com/developer/marketing/docs/errors/",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": "995c5cb0-3280-4a6e-808b-3b096d0bb219",
        }
        if errors:
            body["errors"] = errors
        return status, body

    def our_view(self):
        status = {"save": "draft", "schedule": "scheduled"}
        return [
            {
                "id": c["id"],
                "status": status.get(c["status"], "sent"),
                "subject": c["settings"].get("subject_line"),
                "html": c["content"].get("html"),
            }
            for c in self.campaigns.values()
        ]

    def auth_error(self):
        return self._problem(
            401, "API Key Invalid", "Your API key may be invalid, or you've attempted to access the wrong datacenter."
        )

    def validation_error(self):
        message = "This value should not be blank."
        status, body = self._problem(
            400,
            "Invalid Resource",
            "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
            [{"field": "settings.subject_line", "message": message}],
        )
        return status, body, message, "settings.subject_line"

    def rate_limited(self, retry_after):
        status, body = self._problem(
            429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections."
        )
        return {
            "status": status,
            "body": body,
            "headers": {"Retry-After": retry_after} if retry_after is not None else {},
        }

    def server_error(self):
        return self._problem(500, "Internal Server Error", "An unexpected internal error has occurred.")

    def create_path(self):
        return r"/3.0/campaigns$"


# Kit ------------------------------------------------------------------------------------------


class FakeKit(FakeProvider):
    name = "kit"
    secrets = {"NEWSLETTER_KIT_API_KEY": "kit_0123456789abcdef0123"}
    ids = itertools.count(21)

    def base_url(self, root):
        return root + "/v4"

    def route_table(self):
        return [
            ("POST", "/v4/broadcasts", self.create),
            ("GET", "/v4/broadcasts", self.list),
            ("GET", "/v4/broadcasts/(?P<id>[0-9]+)", self.get),
            ("PUT", "/v4/broadcasts/(?P<id>[0-9]+)", self.update),
            ("GET", "/v4/tags/(?P<tag_id>[0-9]+)/subscribers", self.tagged),
        ]

    def authorised(self, request):
        return request.headers.get("X-Kit-Api-Key") == self.secrets["NEWSLETTER_KIT_API_KEY"]

    def create(self, request, body):
        broadcast_id = str(next(self.ids))
        self.campaigns[broadcast_id] = {"id": int(broadcast_id), "created_at": NOW} | self._fields(body)
        return 201, {"broadcast": self._broadcast(broadcast_id)}

    def list(self, request, body):
        broadcasts = sorted(self.campaigns.values(), key=lambda b: b["id"], reverse=True)
        start = int(base64.b64decode(request.args["after"])) if "after" in request.args else 0
        chunk = broadcasts[start : start + self.page_size]
        end = start + len(chunk)
        pagination = {
            "has_previous_page": start > 0,
            "has_next_page": end < len(broadcasts),
            "start_cursor": base64.b64encode(str(start).encode()).decode() if chunk else None,
            "end_cursor": base64.b64encode(str(end).encode()).decode() if chunk else None,
            "per_page": int(request.args.get("per_page", 500)),
        }
        return 200, {"broadcasts": [self._broadcast(str(b["id"]), stats=True) for b in chunk], "pagination": pagination}

    def get(self, request, body, id):
        if id not in self.campaigns:
            return 404, {"errors": ["Not Found"]}
        return 200, {"broadcast": self._broadcast(id, stats=True)}

    def update(self, request, body, id):
        if id not in self.campaigns:
            return 404, {"errors": ["Not Found"]}
        self.campaigns[id].update(self._fields(body))
        broadcast = self.campaigns[id]
        if broadcast.get("send_at") and not _is_future(broadcast["send_at"]):
            self.deliver(id, lambda tags: _kit_selects(broadcast.get("subscriber_filter"), tags))
        return 200, {"broadcast": self._broadcast(id)}

    def tagged(self, request, body, tag_id):
        people = [address for address, tags in sorted(self.readers.items()) if int(tag_id) in tags]
        start = int(base64.b64decode(request.args["after"])) if "after" in request.args else 0
        chunk = people[start : start + self.page_size]
        end = start + len(chunk)
        pagination = {
            "has_previous_page": start > 0,
            "has_next_page": end < len(people),
            "start_cursor": base64.b64encode(str(start).encode()).decode() if chunk else None,
            "end_cursor": base64.b64encode(str(end).encode()).decode() if chunk else None,
            "per_page": int(request.args.get("per_page", 500)),
        }
        subscribers = [
            {
                "id": 800 + index,
                "first_name": None,
                "email_address": address,
                "state": "active",
                "created_at": NOW,
                "tagged_at": NOW,
                "fields": {"category": ""},
            }
            for index, address in enumerate(chunk, start)
        ]
        return 200, {"subscribers": subscribers, "pagination": pagination}

    @staticmethod
    def _fields(body: dict) -> dict:
        fields = dict(body)
        template_id = fields.pop("email_template_id")
        fields["email_template"] = {"id": template_id or 6, "name": "Text Only"}
        return fields

    def _status(self, b: dict) -> str:
        if not b.get("send_at"):
            return "draft"
        return "scheduled" if _is_future(b["send_at"]) else "completed"

    def _broadcast(self, broadcast_id: str, stats: bool = False) -> dict:
        b = dict(self.campaigns[broadcast_id])
        b["subscriber_filter"] = _kit_filter_as_shown(b.get("subscriber_filter"))
        b["publication_id"] = b["id"]
        if stats:
            b["stats"] = {
                "recipients": 20,
                "open_rate": 0.0,
                "emails_opened": 0,
                "click_rate": 0.0,
                "unsubscribe_rate": 0.0,
                "unsubscribes": 0,
                "total_clicks": 0,
                "show_total_clicks": False,
                "status": self._status(b),
                "progress": 0.0,
                "open_tracking_disabled": False,
                "click_tracking_disabled": False,
            }
        return b

    def our_view(self):
        status = {"draft": "draft", "scheduled": "scheduled"}
        return [
            {
                "id": str(b["id"]),
                "status": status.get(self._status(b), "sent"),
                "subject": b["subject"],
                "html": b["content"],
            }
            for b in self.campaigns.values()
        ]

    def auth_error(self):
        return 401, {"errors": ["The access token is invalid"]}

    def validation_error(self):
        message = "Subject can't be blank"
        return 422, {"errors": [message]}, message, None

    def rate_limited(self, retry_after):
        # Kit's real 429: plain text, no Retry-After (rate-limits page); the header is added only when asked.
        return {
            "status": 429,
            "body": "Retry later",
            "headers": {"Retry-After": retry_after} if retry_after is not None else {},
        }

    def server_error(self):
        return 500, {"errors": ["Something went wrong"]}

    def create_path(self):
        return r"/v4/broadcasts$"


# listmonk -------------------------------------------------------------------------------------


class FakeListmonk(FakeProvider):
    name = "listmonk"
    secrets = {
        "NEWSLETTER_LISTMONK_API_USER": "newsletter-bot",
        "NEWSLETTER_LISTMONK_API_KEY": "lm-token-0123456789abcdef",
    }
    known_subscribers = {"editor@example.com"}
    ids = itertools.count(7)

    def base_url(self, root):
        return root  # the listmonk address; the client adds /api

    def route_table(self):
        campaign = "/campaigns/(?P<id>[0-9]+)"
        return [
            ("POST", "/campaigns", self.create),
            ("GET", "/campaigns", self.list),
            ("GET", campaign, self.get),
            ("PUT", campaign, self.update),
            ("POST", campaign + "/test", self.test),
            ("PUT", campaign + "/status", self.set_status),
            ("GET", "/subscribers", self.subscribers),
        ]

    def authorised(self, request):
        user, key = self.secrets["NEWSLETTER_LISTMONK_API_USER"], self.secrets["NEWSLETTER_LISTMONK_API_KEY"]
        return request.headers.get("Authorization") == f"token {user}:{key}"

    def create(self, request, body):
        problem = self._invalid(body)
        if problem:
            return 400, {"message": problem}
        campaign_id = str(next(self.ids))
        self.campaigns[campaign_id] = {
            "id": int(campaign_id),
            "uuid": f"00000000-0000-4000-8000-{int(campaign_id):012d}",
            "created_at": NOW,
            "updated_at": NOW,
            "status": "draft",
            "send_at": None,
            "template_id": 1,
        } | self._fields(body)
        return 200, {"data": self._campaign(campaign_id)}

    def list(self, request, body):
        tags = set(request.args.getlist("tag")) | set(request.args.getlist("tags"))
        found = [c for c in self.campaigns.values() if not tags or tags & set(c["tags"])]
        page, per_page = int(request.args.get("page", 1)), min(int(request.args.get("per_page", 20)), self.page_size)
        chunk = found[(page - 1) * per_page : page * per_page]
        return 200, {
            "data": {
                "results": [self._campaign(str(c["id"])) for c in chunk],
                "query": "",
                "total": len(found),
                "per_page": per_page,
                "page": page,
            }
        }

    def get(self, request, body, id):
        if id not in self.campaigns:
            return 404, {"message": "Campaign not found."}
        return 200, {"data": self._campaign(id)}

    def update(self, request, body, id):
        campaign = self.campaigns[id]
        if campaign["status"] in ("running", "cancelled", "finished"):
            return 400, {"message": "Cannot update a running or a finished campaign."}
        merged = campaign | self._fields(body)
        problem = self._invalid(body | {"name": merged["name"], "subject": merged["subject"]})
        if problem:
            return 400, {"message": problem}
        campaign.update(merged)
        return 200, {"data": self._campaign(id)}

    def test(self, request, body, id):
        problem = self._invalid(body)
        unknown = [s for s in body.get("subscribers", []) if s not in self.known_subscribers]
        if problem or unknown or not body.get("subscribers"):
            return 400, {"message": problem or f"Subscriber(s) not found: {', '.join(unknown) or 'none given'}"}
        self.tests_sent.append(body["subscribers"])
        return 200, {"data": True}

    def set_status(self, request, body, id):
        campaign = self.campaigns[id]
        if body["status"] == "scheduled" and not campaign.get("send_at"):
            return 400, {"message": "Campaign needs a send_at date to be scheduled."}
        campaign["status"] = body["status"]
        if body["status"] == "running":
            lists = {item["id"] for item in campaign["lists"]}
            self.deliver(id, lambda subscribed: bool(lists & subscribed))
        return 200, {"data": self._campaign(id)}

    def subscribers(self, request, body):
        wanted = {int(number) for number in request.args.getlist("list_id")}
        people = [(address, lists) for address, lists in sorted(self.readers.items()) if not wanted or wanted & lists]
        page, per_page = int(request.args.get("page", 1)), min(int(request.args.get("per_page", 20)), self.page_size)
        chunk = people[(page - 1) * per_page : page * per_page]
        results = [
            {
                "id": index,
                "uuid": f"00000000-0000-4000-9000-{index:012d}",
                "email": address,
                "name": "",
                "status": "enabled",
                "attribs": {},
                "created_at": NOW,
                "updated_at": NOW,
                "lists": [
                    {"id": number, "name": f"List {number}", "subscription_status": "confirmed"}
                    for number in sorted(lists)
                ],
            }
            for index, (address, lists) in enumerate(chunk, (page - 1) * per_page + 1)
        ]
        return 200, {
            "data": {"results": results, "query": "", "total": len(people), "per_page": per_page, "page": page}
        }

    @staticmethod
    def _invalid(body: dict) -> str | None:
        if not body.get("lists"):
            return "Invalid lists."  # cmd/campaigns.go: lists are required on every write
        if not body.get("name") or not body.get("subject"):
            return "Invalid length for subject."
        if body.get("send_at") and not _is_future(body["send_at"]):
            return "send_at date should be in the future."
        return None

    @staticmethod
    def _fields(body: dict) -> dict:
        fields = {k: v for k, v in body.items() if k not in ("subscribers", "send_later")}
        if "lists" in fields:
            fields["lists"] = [{"id": i, "name": f"List {i}"} for i in fields["lists"]]
        return fields

    def _campaign(self, campaign_id: str) -> dict:
        return dict(self.campaigns[campaign_id])

    def our_view(self):
        status = {"draft": "draft", "scheduled": "scheduled"}
        return [
            {
                "id": str(c["id"]),
                "status": status.get(c["status"], "sent"),
                "subject": c["subject"],
                "html": c.get("body"),
            }
            for c in self.campaigns.values()
        ]

    def auth_error(self):
        return 403, {"message": "Invalid API credentials"}

    def validation_error(self):
        message = "Invalid length for subject."
        return 400, {"message": message}, message, None

    def rate_limited(self, retry_after):
        return {
            "status": 429,
            "body": {"message": "Too many requests"},
            "headers": {"Retry-After": retry_after} if retry_after is not None else {},
        }

    def server_error(self):
        return 500, {"message": "Error fetching campaign: pq: connection refused"}

    def create_path(self):
        return r"/api/campaigns$"


def _kit_filter_as_shown(groups: list | None) -> list:
    """A filter as Kit's replies show it: only the kinds a group has, ids as integers, and
    "everyone" as {"type": "all_subscribers"} (the spec's examples)."""
    if not groups:
        return [{"all": [{"type": "all_subscribers"}]}]
    return [
        {
            kind: [{**f, "ids": [int(i) for i in f["ids"]]} for f in conditions]
            for kind, conditions in group.items()
            if conditions
        }
        for group in groups
    ]


# Audience rules, as each provider documents them ------------------------------------------------


def _buttondown_selects(group: dict, tags: set) -> bool:
    results = [
        (f["value"] in tags) if f["operator"] == "contains" else (f["value"] not in tags)
        for f in group.get("filters", [])
        if f["field"] == "subscriber.tags"
    ] + [_buttondown_selects(inner, tags) for inner in group.get("groups", [])]
    return all(results) if group.get("predicate", "and") == "and" else any(results)


def _mailchimp_selects(segment_opts: dict | None, tags: set) -> bool:
    if not segment_opts:
        return True
    results = [
        (c["value"] in tags) == (c["op"] == "static_is")
        for c in segment_opts["conditions"]
        if c["condition_type"] == "StaticSegment"
    ]
    return all(results) if segment_opts["match"] == "all" else any(results)


def _kit_selects(groups: list | None, tags: set) -> bool:
    """Every group must hold; within one, `all` needs every tag, `any` one, `none` none."""
    for group in groups or []:
        for kind, test in (("all", all), ("any", any), ("none", lambda held: not any(held))):
            for condition in group.get(kind) or []:
                if condition.get("type") == "tag" and not test(int(i) in tags for i in condition["ids"]):
                    return False
    return True


FAKES: dict[str, type[FakeProvider]] = {f.name: f for f in (FakeButtondown, FakeMailchimp, FakeKit, FakeListmonk)}
