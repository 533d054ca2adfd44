"""Kit, formerly ConvertKit, API v4 (https://developers.kit.com/api-reference/broadcasts).

One broadcast per issue. `send_at: null` keeps it a draft; scheduling and sending set `send_at`.
Kit's schema marks every broadcast field required, so each write sends them all (nulls too).
Broadcasts have no metadata field: the issue's marker and the build's content hash go in
`description`, which readers never see. Kit has no API for test emails.

Stage versions carry a `subscriber_filter` on tags (`[provider] stage_tags`: each stage's tag
id). Kit's API takes one kind of filter group at a time ("all", "any" or "none", no
combinations), so a stage version goes to everyone with its stage tag and cannot leave out the
readers who also carry an earlier stage's tag; `general` goes to readers with none of the stage
tags. Before a stage version is scheduled or sent, the readers of each stage tag are therefore
read (`GET /v4/tags/{id}/subscribers`), and anyone with two stage tags stops the push.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pipeline.core.clock import now as utc_now
from pipeline.core.errors import ProviderError
from pipeline.core.model import RenderedEmail, SignupForm
from pipeline.deliver.providers.base import Campaign, ListReader, StageChange
from pipeline.deliver.providers.http import (
    ErrorDetail,
    HeaderAuth,
    HttpProvider,
    hash_from_labels,
    hash_label,
    issue_marker,
    json_body,
    stage_answers,
    utc_iso,
)

PAGE_SIZE = 100
LOOKUP_PAGES = 20
TAGGED_PAGES = 100  # of 1000 subscribers each
LIST_PAGES = 10_000  # of 1000 subscribers each
BULK_TAGGINGS = 100  # Kit handles a bulk request of up to 100 at once; more go to a background job
STATUSES = {"draft": "draft", "scheduled": "scheduled"}


class Kit(HttpProvider):
    name = "kit"
    secret_env = ("NEWSLETTER_KIT_API_KEY",)
    option_keys = ("form_id", "email_template_id", "stage_tags", "due_date_field", "birth_date_field")
    option_types = {
        "form_id": (str, int),
        "email_template_id": int,
        "stage_tags": dict,
        "due_date_field": str,
        "birth_date_field": str,
    }
    targets_stages = True
    syncs_stages = True
    default_api_url = "https://api.kit.com/v4"
    backoff_base = 5.0  # a 429 carries no Retry-After; the limit is per 60 s window

    def auth(self):
        return HeaderAuth({"X-Kit-Api-Key": self.secret(self.secret_env[0])})

    def parse_error(self, response) -> ErrorDetail | None:
        body = json_body(response)
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            return ErrorDetail("; ".join(str(e) for e in body["errors"]))
        return None  # e.g. the plain-text "Retry later" of a 429

    # What the email and the blog show.
    def unsubscribe_url(self) -> str:
        return "{{ unsubscribe_url }}"

    def signup_form(self) -> SignupForm:
        form_id = self.option(
            "form_id", "the number in your Kit form's embed code, app.kit.com/forms/<form_id>/subscriptions"
        )
        stages = stage_answers(self, "stage_tags")  # Kit's `tags[]` takes a tag's id
        # A form posting straight to the provider cannot refuse a date given without the consent
        # box ticked (no JavaScript), so dates are asked on the self-hosted form only.
        return SignupForm(
            action=f"https://app.kit.com/forms/{quote(str(form_id))}/subscriptions",
            email_field="email_address",
            note="Check your inbox: we'll send you an email to confirm your subscription.",
            name_field="fields[first_name]",
            stage_field="tags[]" if stages else "",
            stage_values=stages,
            left_out=("dates",) if stages else ("stage", "dates"),
        )

    # Campaign operations.
    def find_campaign(self, issue_key: str, known_id: str | None) -> Campaign | None:
        if known_id:
            response = self.http.get(f"/broadcasts/{quote(known_id)}", "look up the broadcast", ok_statuses=(404,))
            if response.status_code != 404:
                return self._campaign(response.json()["broadcast"])
        return self._search(issue_marker(issue_key))

    def _search(self, marker: str) -> Campaign | None:
        params: dict[str, Any] = {"per_page": PAGE_SIZE}
        for _ in range(LOOKUP_PAGES):
            body = self.http.get("/broadcasts", "look for the issue's broadcast", params=params).json()
            for broadcast in body.get("broadcasts", []):
                if (broadcast.get("description") or "").split(" ")[0] == marker:
                    return self._campaign(broadcast)
            pagination = body.get("pagination") or {}
            if not pagination.get("has_next_page") or not pagination.get("end_cursor"):
                return None
            params["after"] = pagination["end_cursor"]
        return None

    def audience(self) -> str:
        return "every subscriber of the Kit account (a broadcast with no subscriber filter)"

    def check_stage_target(self, stage: str) -> None:
        self._subscriber_filter(stage)  # raises ConfigError for a missing tag id

    def readers_in_two_versions(self, stage: str) -> list[str]:
        """Readers with this version's stage tag who also carry another stage tag."""
        rule = self.targeting(stage)
        if rule.include is None:
            return []  # `general` leaves out everyone with a stage tag
        tag_ids = self.stage_ids("stage_tags", "Kit tag id", (int,))
        readers = {stage: self._tagged(tag_id) for stage, tag_id in tag_ids.items()}
        others = set().union(*(emails for other, emails in readers.items() if other != rule.include))
        return sorted(readers[rule.include] & others)

    # The stage sync. The subscriber list carries no tags: each stage tag's subscribers are read first.
    def list_readers(self) -> Iterator[ListReader]:
        tag_ids = self.stage_ids("stage_tags", "Kit tag id", (int,))
        holders = {stage: self._tagged(tag_id, key="id") for stage, tag_id in tag_ids.items()}
        params: dict[str, Any] = {"per_page": 1000, "status": "active"}
        for _ in range(LIST_PAGES):
            body = self.http.get("/subscribers", "list the subscribers", params=params).json()
            for person in body.get("subscribers", []):
                held = frozenset(stage for stage, ids in holders.items() if str(person["id"]) in ids)
                yield self.reader_from_fields(person["id"], person.get("email_address", ""), held, person.get("fields"))
            pagination = body.get("pagination") or {}
            if not pagination.get("has_next_page") or not pagination.get("end_cursor"):
                return
            params["after"] = pagination["end_cursor"]

    def change_stages(self, changes: Sequence[StageChange]) -> None:
        tag_ids = self.stage_ids("stage_tags", "Kit tag id", (int,))
        removals = [(tag_ids[stage], change.reader.id) for change in changes for stage in change.remove]
        additions = [(tag_ids[change.add], change.reader.id) for change in changes if change.add]
        for method, taggings, what in (
            ("DELETE", removals, "remove stage tags"),
            ("POST", additions, "add stage tags"),
        ):
            for start in range(0, len(taggings), BULK_TAGGINGS):
                chunk = [
                    {"tag_id": tag, "subscriber_id": int(person)}
                    for tag, person in taggings[start : start + BULK_TAGGINGS]
                ]
                response = self.http.request(method, "/bulk/tags/subscribers", what, json={"taggings": chunk})
                failures = (json_body(response) or {}).get("failures") or []
                if failures:
                    raise ProviderError(f"kit could not {what} for {len(failures)} subscribers; run the sync again")

    def _tagged(self, tag_id: int, key: str = "email_address") -> set[str]:
        """The addresses of the active subscribers with this tag."""
        params: dict[str, Any] = {"per_page": 1000, "status": "active"}
        found: set[str] = set()
        for _ in range(TAGGED_PAGES):
            body = self.http.get(f"/tags/{tag_id}/subscribers", "read who has a stage tag", params=params).json()
            found |= {str(person.get(key, "")).lower() for person in body.get("subscribers", [])}
            pagination = body.get("pagination") or {}
            if not pagination.get("has_next_page") or not pagination.get("end_cursor"):
                return found
            params["after"] = pagination["end_cursor"]
        raise ProviderError(
            f"kit: tag {tag_id} has more than {TAGGED_PAGES * 1000} subscribers; "
            "check for readers with two stage tags in Kit itself"
        )

    def create_draft(self, email: RenderedEmail, eml: bytes) -> Campaign:
        response = self.http.post("/broadcasts", "create the broadcast", json=self._broadcast_fields(email))
        return self._campaign(response.json()["broadcast"])

    def update_draft(self, campaign_id: str, email: RenderedEmail, eml: bytes) -> Campaign:
        path = f"/broadcasts/{quote(campaign_id)}"
        response = self.http.put(path, "update the broadcast", json=self._broadcast_fields(email))
        return self._campaign(response.json()["broadcast"])

    # No test_send: Kit's API has none, so the base class raises UnsupportedFeature and
    # pipeline/deliver/push.py refuses `--test-to` before changing anything.

    def schedule(self, campaign_id: str, when: datetime) -> Campaign:
        return self._set_send_at(campaign_id, when, "schedule the broadcast", "scheduled")

    def send_now(self, campaign_id: str) -> Campaign:
        return self._set_send_at(campaign_id, utc_now(), "send the broadcast", "sent")

    def _set_send_at(self, campaign_id: str, when: datetime, what: str, status: str) -> Campaign:
        """Kit has no send call: a broadcast goes out at its `send_at`. The PUT needs every field,
        so the broadcast is read first and written back with only `send_at` changed."""
        path = f"/broadcasts/{quote(campaign_id)}"
        current = self.http.get(path, "read the broadcast").json()["broadcast"]
        fields = _writable_fields(current) | {"send_at": utc_iso(when)}
        broadcast = self.http.put(path, what, json=fields).json()["broadcast"]
        return Campaign(id=str(broadcast["id"]), status=status, content_hash=self._campaign(broadcast).content_hash)

    def _broadcast_fields(self, email: RenderedEmail) -> dict[str, Any]:
        return {
            "email_template_id": self.config.provider.options.get("email_template_id"),
            "email_address": None,  # the account's default sending address
            "content": email.html,
            "description": f"{issue_marker(email.issue.key)} {hash_label(email.content_hash)}",
            "public": False,  # not on Kit's web archive: the blog is the archive
            "published_at": None,
            "send_at": None,  # null keeps it a draft
            "thumbnail_alt": None,
            "thumbnail_url": None,
            "preview_text": email.preview_text,
            "subject": email.subject,
            "subscriber_filter": self._subscriber_filter(email.issue.stage),  # None: everyone
        }

    def _subscriber_filter(self, stage: str | None) -> list[dict] | None:
        if stage is None:
            return None
        rule, tag_ids = self.targeting(stage), self.stage_ids("stage_tags", "Kit tag id", (int,))
        if rule.include:
            return [{"all": [{"type": "tag", "ids": [tag_ids[rule.include]]}], "any": None, "none": None}]
        if not rule.exclude:
            return None
        # The spec types "none" ids as strings (and "all" ids as integers).
        return [
            {"all": None, "any": None, "none": [{"type": "tag", "ids": [str(tag_ids[tag]) for tag in rule.exclude]}]}
        ]

    def _campaign(self, broadcast: dict) -> Campaign:
        labels = (broadcast.get("description") or "").split(" ")
        return Campaign(
            id=str(broadcast["id"]), status=broadcast_status(broadcast), content_hash=hash_from_labels(labels)
        )


def broadcast_status(broadcast: dict, now: datetime | None = None) -> str:
    """Kit's own status when it gives one; otherwise told by `send_at` (null: still a draft)."""
    stated = (broadcast.get("stats") or {}).get("status")
    if stated:
        return STATUSES.get(stated, "sent")
    send_at = broadcast.get("send_at")
    if not send_at:
        return "draft"
    when = datetime.fromisoformat(send_at.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return "scheduled" if when > (now or utc_now()) else "sent"


def _writable_fields(broadcast: dict) -> dict[str, Any]:
    """A broadcast as GET returns it, shaped as PUT takes it."""
    template = broadcast.get("email_template") or {}
    return {
        "email_template_id": template.get("id"),
        "email_address": broadcast.get("email_address"),
        "content": broadcast.get("content"),
        "description": broadcast.get("description"),
        "public": bool(broadcast.get("public")),
        "published_at": broadcast.get("published_at"),
        "send_at": broadcast.get("send_at"),
        "thumbnail_alt": broadcast.get("thumbnail_alt"),
        "thumbnail_url": broadcast.get("thumbnail_url"),
        "preview_text": broadcast.get("preview_text"),
        "subject": broadcast.get("subject"),
        "subscriber_filter": _writable_filter(broadcast.get("subscriber_filter")),
    }


def _writable_filter(groups: list | None) -> list | None:
    """GET shows "everyone" as {"all": [{"type": "all_subscribers"}]}, which PUT does not take:
    keep only segment and tag filters, and send null (everyone) when there are none. GET gives
    every id as a number; PUT takes the ids of "any" and "none" as strings."""
    kept = []
    for group in groups or []:
        parts = {
            key: [
                {**f, "ids": [i if key == "all" else str(i) for i in f["ids"]]}
                for f in group.get(key) or []
                if "ids" in f
            ]
            or None
            for key in ("all", "any", "none")
        }
        if any(parts.values()):
            kept.append(parts)
    return kept or None


PROVIDER = Kit
