"""Buttondown (https://docs.buttondown.com/api-introduction): one email per issue.

⚠ `POST /emails` SENDS at once unless the body says `status: "draft"`. Every create here sets
it, and the tests check that the fake server (which mimics that default) never sees a create
without it.

Stage versions carry `filters` on subscriber tags (`[provider] stage_tags`: each stage's tag
id, as Buttondown's filters need ids, not names): the version's stage tag and none of the
earlier stages', or, for `general`, none of the stage tags - so nobody matches two versions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pipeline.core.errors import ProviderError
from pipeline.core.model import RenderedEmail, SignupForm
from pipeline.core.stages import answer_stages
from pipeline.deliver.providers.base import Campaign, ListReader, StageChange
from pipeline.deliver.providers.http import (
    ErrorDetail,
    HeaderAuth,
    HttpProvider,
    json_body,
    utc_iso,
)

EDITOR_MODE_HTML = "<!-- buttondown-editor-mode: fancy -->"
ISSUE_KEY = "newsletter_issue"  # our keys in the email's metadata
CONTENT_HASH = "newsletter_content_hash"
API_VERSION = "2026-04-01"  # pinned so a newsletter's own default version cannot change behaviour
LOOKUP_PAGES = 20  # newest emails first; an issue's email is near the top
# Subscriber types (the spec's SubscriberType) of readers who get the newsletter's emails: free
# (`regular`) and paying ones. Not `unactivated` (not confirmed), `unsubscribed`, `removed`,
# `blocked`, `complained`, `undeliverable`, `paused`, `churned`, `unpaid`, `upcoming`.
RECEIVING_TYPES = ("regular", "premium", "gifted", "trialed", "churning", "past_due")
STATUSES = {"draft": "draft", "scheduled": "scheduled"}  # every other live status: out of our hands
LIST_PAGES = 10_000  # of 100 subscribers (Buttondown's page; the list has no page_size)
BULK_IDS = 200  # subscribers per bulk action (more is a 400 max_bulk_actions_exceeded)
BULK_POLLS = 30  # a bulk action runs in the background; look at it this many times, a second apart


class Buttondown(HttpProvider):
    name = "buttondown"
    secret_env = ("NEWSLETTER_BUTTONDOWN_API_KEY",)
    option_keys = ("username", "stage_tags", "due_date_field", "birth_date_field")
    option_types = {"username": str, "stage_tags": dict, "due_date_field": str, "birth_date_field": str}
    targets_stages = True
    syncs_stages = True
    default_api_url = "https://api.buttondown.com/v1"

    def auth(self):
        return HeaderAuth({"Authorization": f"Token {self.secret(self.secret_env[0])}"})

    def extra_headers(self) -> dict[str, str]:
        return {"X-API-Version": API_VERSION}

    def parse_error(self, response) -> ErrorDetail | None:
        body = json_body(response)
        if not isinstance(body, dict):
            return None
        detail = body.get("detail")
        if isinstance(detail, list):  # 422: [{"loc": [...], "msg": ..., "type": ...}]
            first = detail[0] if detail else {}
            location = [str(part) for part in first.get("loc", []) if part != "body"]
            messages = "; ".join(
                f"{'.'.join(str(p) for p in d.get('loc', []) if p != 'body')}: {d.get('msg', '')}" for d in detail
            )
            return ErrorDetail(messages, location[-1] if location else None)
        code = str(body.get("code") or "")
        message = f"{detail} ({code})" if code else str(detail or "")
        field = code.rsplit("_", 1)[0] if code.endswith(("_invalid", "_missing")) else None
        return ErrorDetail(message, field)

    # What the email and the blog show.
    def unsubscribe_url(self) -> str:
        return "{{ unsubscribe_url }}"

    def signup_form(self) -> SignupForm:
        username = self.option("username", "your Buttondown username, as in buttondown.com/<username>")
        # Buttondown's `tag` takes a tag's id or its name (and makes the tag), so every answer can go.
        audience, ids = self.config.audience, self.config.provider.options.get("stage_tags") or {}
        stages = answer_stages(audience.stages, audience.pregnant_stage)
        # A form posting straight to the provider cannot refuse a date given without the consent
        # box ticked (no JavaScript), so dates are asked on the self-hosted form only.
        return SignupForm(
            action=f"https://buttondown.com/api/emails/embed-subscribe/{quote(username)}",
            hidden_fields={"embed": "1"},
            note="We'll send you an email to confirm your address.",
            name_field="metadata__first_name",
            stage_field="tag",
            stage_values={answer: str(ids.get(stage, stage)) for answer, stage in stages.items()},
            left_out=("dates",),
        )

    # Campaign operations.
    def find_campaign(self, issue_key: str, known_id: str | None) -> Campaign | None:
        if known_id:
            response = self.http.get(f"/emails/{quote(known_id)}", "look up the email", ok_statuses=(404,))
            if response.status_code != 404:
                return self._campaign(response.json())
        return self._search(issue_key)

    def _search(self, issue_key: str) -> Campaign | None:
        params: dict[str, Any] = {"ordering": "-creation_date", "excluded_fields": "body"}
        for page in range(1, LOOKUP_PAGES + 1):
            params["page"] = page
            body = self.http.get("/emails", "look for the issue's email", params=params).json()
            for email in body.get("results", []):
                if (email.get("metadata") or {}).get(ISSUE_KEY) == issue_key and email.get("status") != "deleted":
                    return self._campaign(email)
            if not body.get("next"):
                return None
        return None

    def audience(self) -> str:
        username = self.config.provider.options.get("username")
        newsletter = f"buttondown.com/{username}" if username else "the newsletter of the API key"
        return f"every active subscriber of {newsletter} (no filter)"

    def check_stage_target(self, stage: str) -> None:
        self._filters(stage)  # raises ConfigError for a missing tag id

    def create_draft(self, email: RenderedEmail, eml: bytes) -> Campaign:
        payload = self._email_fields(email) | {"status": "draft"}
        return self._campaign(self.http.post("/emails", "create the draft", json=payload).json())

    def update_draft(self, campaign_id: str, email: RenderedEmail, eml: bytes) -> Campaign:
        response = self.http.patch(f"/emails/{quote(campaign_id)}", "update the draft", json=self._email_fields(email))
        return self._campaign(response.json())

    def test_send(self, campaign_id: str, recipients: list[str]) -> None:
        self.http.post(
            f"/emails/{quote(campaign_id)}/send-draft", "send the test email", json={"recipients": recipients}
        )

    def schedule(self, campaign_id: str, when: datetime) -> Campaign:
        body = {"publish_date": utc_iso(when)}
        response = self.http.post(
            f"/emails/{quote(campaign_id)}/publish", "schedule the email", json=body, headers=_SENDING
        )
        return self._campaign(response.json())

    def send_now(self, campaign_id: str) -> Campaign:
        response = self.http.post(f"/emails/{quote(campaign_id)}/publish", "send the email", json={}, headers=_SENDING)
        return self._campaign(response.json())

    def _email_fields(self, email: RenderedEmail) -> dict[str, Any]:
        fields = {
            "subject": email.subject,
            "body": f"{EDITOR_MODE_HTML}\n{email.html}",
            "description": email.preview_text,
            "metadata": {ISSUE_KEY: email.issue.key, CONTENT_HASH: email.content_hash},
        }
        if email.issue.stage:
            fields["filters"] = self._filters(email.issue.stage)
        return fields

    # The stage sync. Subscribers carry tag *names*; bulk actions and filters take tag ids.
    def list_readers(self) -> Iterator[ListReader]:
        """Only readers who get the emails (RECEIVING_TYPES): an unsubscribed, unconfirmed,
        removed or blocked one is not read, so her tags stay as they are."""
        stage_of_name = self._stage_tag_names()
        for page in range(1, LIST_PAGES + 1):
            params = {"page": page, "type": list(RECEIVING_TYPES)}
            body = self.http.get("/subscribers", "list the subscribers", params=params).json()
            for person in body.get("results", []):
                if person.get("type") not in RECEIVING_TYPES:  # the filter is asked for; this makes sure
                    continue
                held = frozenset(stage_of_name[tag] for tag in person.get("tags") or [] if tag in stage_of_name)
                yield self.reader_from_fields(
                    person["id"], person.get("email_address", ""), held, person.get("metadata")
                )
            if not body.get("next"):
                return

    def _stage_tag_names(self) -> dict[str, str]:
        """Tag name -> stage, from `GET /tags` and `[provider] stage_tags` (ids)."""
        stage_of_id = {
            tag_id: stage for stage, tag_id in self.stage_ids("stage_tags", "Buttondown tag id", (str,)).items()
        }
        names: dict[str, str] = {}
        for page in range(1, LIST_PAGES + 1):
            body = self.http.get("/tags", "list the tags", params={"page": page, "page_size": 1000}).json()
            names |= {
                tag["name"]: stage_of_id[tag["id"]] for tag in body.get("results", []) if tag["id"] in stage_of_id
            }
            if not body.get("next"):
                break
        return names

    def change_stages(self, changes: Sequence[StageChange]) -> None:
        tag_ids = self.stage_ids("stage_tags", "Buttondown tag id", (str,))
        batches: dict[tuple[str, str], list[str]] = {}
        for change in changes:
            for stage in change.remove:
                batches.setdefault(("remove", stage), []).append(change.reader.id)
            if change.add:
                batches.setdefault(("add", change.add), []).append(change.reader.id)
        for (action, stage), ids in sorted(batches.items(), key=lambda item: item[0][0] != "remove"):
            for start in range(0, len(ids), BULK_IDS):
                metadata = {"action": action, "tag_ids": [tag_ids[stage]], "ids": ids[start : start + BULK_IDS]}
                body = {"type": "apply_tags", "metadata": metadata}
                made = self.http.post("/bulk_actions", f"{action} the stage tag '{stage}'", json=body).json()
                self._wait_for_bulk_action(made)

    def _wait_for_bulk_action(self, action: dict) -> None:
        for _ in range(BULK_POLLS):
            if action.get("status") == "processed":
                return
            if action.get("status") == "failed":
                raise ProviderError(
                    f"buttondown could not change stage tags: bulk action {action.get('id')} failed; run the sync again"
                )
            type(self.http).sleep(1.0)
            action = self.http.get(f"/bulk_actions/{quote(action['id'])}", "check a bulk action").json()
        raise ProviderError(
            f"buttondown is still working on bulk action {action.get('id')}; run the sync again in a minute "
            "to check it finished"
        )

    def _filters(self, stage: str) -> dict[str, Any]:
        rule, tag_ids = self.targeting(stage), self.stage_ids("stage_tags", "Buttondown tag id", (str,))
        wanted = [("contains", rule.include)] if rule.include else []
        wanted += [("not_contains", tag) for tag in rule.exclude]
        filters = [
            {"field": "subscriber.tags", "operator": operator, "value": tag_ids[tag]} for operator, tag in wanted
        ]
        return {"filters": filters, "groups": [], "predicate": "and"}

    def _campaign(self, email: dict) -> Campaign:
        return Campaign(
            id=str(email["id"]),
            status=STATUSES.get(email.get("status"), "sent"),
            content_hash=(email.get("metadata") or {}).get(CONTENT_HASH),
            url=email.get("absolute_url") or "",
        )


# Since API version 2026-04-01 a key must confirm once that it means to send
# (error code `sending_requires_confirmation`); only the publish calls say so.
_SENDING = {"X-Buttondown-Live-Dangerously": "true"}


PROVIDER = Buttondown
