"""Mailchimp Marketing API 3.0 (https://mailchimp.com/developer/marketing/api/campaigns/).

A regular campaign on one audience (`list_id`). Campaigns have no metadata field, so the issue
is tied to its campaign through `settings.title`, which readers never see.

Stage versions go to a segment of the audience built from its tags (`[provider] stage_tags`:
each stage's tag id): `recipients.segment_opts` with `match: all` and static-segment conditions
(in Mailchimp a tag is a static segment) - tagged with the version's stage and not with any
earlier stage, or, for `general`, with none of the stage tags. So nobody matches two versions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from requests.auth import HTTPBasicAuth

from pipeline.core.errors import ConfigError, ProviderError
from pipeline.core.model import RenderedEmail, SignupForm
from pipeline.deliver.providers.base import Campaign, ListReader, StageChange, UnsupportedFeature
from pipeline.deliver.providers.http import (
    ErrorDetail,
    HttpProvider,
    issue_marker,
    json_body,
    stage_answers,
    utc_iso,
)
from pipeline.deliver.reader_stages import DATE_ORDERS, MONTH_FIRST

DATA_CENTRE = re.compile(r"-([a-z]+[0-9]+)$")
STATUSES = {"save": "draft", "schedule": "scheduled"}  # sending, sent, canceled...: out of our hands
PAGE_SIZE = 100
LOOKUP_PAGES = 10
CAMPAIGN_FIELDS = "id,web_id,status,settings.title"
MEMBER_PAGE = 1000  # the most `count` takes
MEMBER_FIELDS = "total_items,members.id,members.email_address,members.merge_fields,members.tags"
SEGMENT_BATCH = 500  # members added or removed per static-segment call


class Mailchimp(HttpProvider):
    name = "mailchimp"
    secret_env = ("NEWSLETTER_MAILCHIMP_API_KEY",)
    option_keys = ("list_id", "form_action", "stage_tags", "due_date_field", "birth_date_field", "date_format")
    option_types = {
        "list_id": str,
        "form_action": str,
        "stage_tags": dict,
        "due_date_field": str,
        "birth_date_field": str,
        "date_format": str,
    }
    targets_stages = True
    syncs_stages = True
    default_date_fields = ("DUEDATE", "BIRTHDATE")  # merge tags: capitals, at most 10 characters

    def api_key(self) -> str:
        return self.secret(self.secret_env[0])

    def date_order(self) -> str:
        """A Mailchimp date field holds MM/DD/YYYY or DD/MM/YYYY, as the audience's field is set
        (`options.date_format`); `[provider] date_format` says which (default MM/DD/YYYY, Mailchimp's)."""
        chosen = self.config.provider.options.get("date_format") or MONTH_FIRST
        if chosen not in DATE_ORDERS:
            raise ConfigError(
                f"newsletter.toml: [provider] date_format = '{chosen}' is not one of Mailchimp's date formats: "
                f"use {' or '.join(repr(order) for order in DATE_ORDERS)}, as the audience's date field is set"
            )
        return chosen

    def data_centre(self) -> str | None:
        match = DATA_CENTRE.search(self.api_key())
        return match[1] if match else None

    def api_url(self) -> str:
        if self.config.provider.base_url:
            return self.config.provider.base_url.rstrip("/")
        centre = self.data_centre()
        if not centre:
            raise ConfigError(
                f"{self.secret_env[0]} should end in its data centre, like -us21: copy the whole key "
                "from Mailchimp (Profile > Extras > API keys)"
            )
        return f"https://{centre}.api.mailchimp.com/3.0"

    def auth(self):
        return HTTPBasicAuth("newsletter", self.api_key())  # Mailchimp ignores the user name

    def parse_error(self, response) -> ErrorDetail | None:
        body = json_body(response)
        if not isinstance(body, dict):
            return None
        message = ": ".join(str(body[k]) for k in ("title", "detail") if body.get(k))
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        if errors:
            message += " - " + "; ".join(f"{e.get('field', '')}: {e.get('message', '')}" for e in errors)
        return ErrorDetail(message, errors[0].get("field") if errors else None)

    # What the email and the blog show.
    def unsubscribe_url(self) -> str:
        return "*|UNSUB|*"

    def signup_form(self) -> SignupForm:
        action = self.config.provider.options.get("form_action") or self.config.provider.signup_url
        if not action:
            self.option("form_action", "the form action URL from Audience > Signup forms > Embedded forms")
        query = parse_qs(urlsplit(action).query)
        honeypot = {}
        if "u" in query and "id" in query:  # Mailchimp's bot trap: a field people leave empty
            honeypot[f"b_{query['u'][0]}_{query['id'][0]}"] = ""
        stages = stage_answers(self, "stage_tags")  # the embed form's `tags`: tag ids
        # A form posting straight to the provider cannot refuse a date given without the consent
        # box ticked (no JavaScript), so dates are asked on the self-hosted form only.
        return SignupForm(
            action=action,
            email_field="EMAIL",
            hidden_fields=honeypot,
            note="We'll send you an email to confirm your address.",
            name_field="FNAME",
            stage_field="tags" if stages else "",
            stage_values=stages,
            left_out=("dates",) if stages else ("stage", "dates"),
        )

    # Campaign operations.
    def list_id(self) -> str:
        return self.option("list_id", "the audience ID from Audience > Settings > Audience name and defaults")

    def find_campaign(self, issue_key: str, known_id: str | None) -> Campaign | None:
        if known_id:
            response = self.http.get(
                f"/campaigns/{quote(known_id)}",
                "look up the campaign",
                params={"fields": CAMPAIGN_FIELDS},
                ok_statuses=(404,),
            )
            if response.status_code != 404:
                return self._campaign(response.json())
        return self._search(issue_marker(issue_key))

    def _search(self, title: str) -> Campaign | None:
        fields = "total_items," + ",".join(f"campaigns.{f}" for f in CAMPAIGN_FIELDS.split(","))
        for page in range(LOOKUP_PAGES):
            params = {
                "list_id": self.list_id(),
                "fields": fields,
                "count": PAGE_SIZE,
                "offset": page * PAGE_SIZE,
                "sort_field": "create_time",
                "sort_dir": "DESC",
            }
            body = self.http.get("/campaigns", "look for the issue's campaign", params=params).json()
            for campaign in body.get("campaigns", []):
                if (campaign.get("settings") or {}).get("title") == title:
                    return self._campaign(campaign)
            if (page + 1) * PAGE_SIZE >= body.get("total_items", 0):
                return None
        return None

    # The stage sync. A tag is a static segment: its id is the one `[provider] stage_tags` holds.
    def list_readers(self) -> Iterator[ListReader]:
        stage_of_id = {tag: stage for stage, tag in self.stage_ids("stage_tags", "Mailchimp tag id", (int,)).items()}
        path, offset = f"/lists/{quote(self.list_id())}/members", 0
        while True:
            params = {"count": MEMBER_PAGE, "offset": offset, "status": "subscribed", "fields": MEMBER_FIELDS}
            body = self.http.get(path, "list the audience's members", params=params).json()
            members = body.get("members") or []
            for member in members:
                held = frozenset(
                    stage_of_id[t.get("id")] for t in member.get("tags") or [] if t.get("id") in stage_of_id
                )
                yield self.reader_from_fields(
                    member["id"], member.get("email_address", ""), held, member.get("merge_fields")
                )
            offset += len(members)
            if not members or offset >= body.get("total_items", 0):
                return

    def change_stages(self, changes: Sequence[StageChange]) -> None:
        tag_ids = self.stage_ids("stage_tags", "Mailchimp tag id", (int,))
        moves: dict[str, dict[str, list[str]]] = {}
        for change in changes:
            for stage in change.remove:
                moves.setdefault(stage, {"members_to_add": [], "members_to_remove": []})["members_to_remove"].append(
                    change.reader.email
                )
            if change.add:
                moves.setdefault(change.add, {"members_to_add": [], "members_to_remove": []})["members_to_add"].append(
                    change.reader.email
                )
        for stage, lists in moves.items():
            path = f"/lists/{quote(self.list_id())}/segments/{tag_ids[stage]}"
            for key, emails in lists.items():
                for start in range(0, len(emails), SEGMENT_BATCH):
                    body = {key: emails[start : start + SEGMENT_BATCH]}
                    reply = self.http.post(path, f"change who has the stage tag '{stage}'", json=body).json()
                    if reply.get("error_count"):
                        raise ProviderError(
                            f"mailchimp refused {reply['error_count']} of the stage tag changes for '{stage}' "
                            f"({(reply.get('errors') or [{}])[0].get('error', 'no reason given')}); run the sync again"
                        )

    def audience(self) -> str:
        return f"every subscribed member of Mailchimp audience {self.list_id()}"

    def check_stage_target(self, stage: str) -> None:
        self._recipients(stage)  # raises ConfigError for a missing tag id

    def create_draft(self, email: RenderedEmail, eml: bytes) -> Campaign:
        payload = {
            "type": "regular",
            "recipients": self._recipients(email.issue.stage),
            "settings": self._settings(email),
        }
        campaign = self.http.post("/campaigns", "create the campaign", json=payload).json()
        self._put_content(str(campaign["id"]), email)
        return self._campaign(campaign)

    def update_draft(self, campaign_id: str, email: RenderedEmail, eml: bytes) -> Campaign:
        path = f"/campaigns/{quote(campaign_id)}"
        body = {"settings": self._settings(email)}
        if email.issue.stage:
            body["recipients"] = self._recipients(email.issue.stage)
        campaign = self.http.patch(path, "update the campaign settings", json=body).json()
        self._put_content(campaign_id, email)
        return self._campaign(campaign)

    def test_send(self, campaign_id: str, recipients: list[str]) -> None:
        body = {"test_emails": recipients, "send_type": "html"}
        self.http.post(f"/campaigns/{quote(campaign_id)}/actions/test", "send the test email", json=body)

    def check_schedule(self, when: datetime) -> None:
        check_quarter_hour(when)

    def schedule(self, campaign_id: str, when: datetime) -> Campaign:
        check_quarter_hour(when)
        body = {"schedule_time": utc_iso(when)}
        self.http.post(f"/campaigns/{quote(campaign_id)}/actions/schedule", "schedule the campaign", json=body)
        return Campaign(id=campaign_id, status="scheduled", url=self._admin_url(None))

    def send_now(self, campaign_id: str) -> Campaign:
        self.http.post(f"/campaigns/{quote(campaign_id)}/actions/send", "send the campaign")
        return Campaign(id=campaign_id, status="sent", url=self._admin_url(None))

    def _recipients(self, stage: str | None) -> dict[str, Any]:
        recipients: dict[str, Any] = {"list_id": self.list_id()}
        if stage is None:
            return recipients
        rule, tag_ids = self.targeting(stage), self.stage_ids("stage_tags", "Mailchimp tag id", (int,))
        conditions = [_tag_condition("static_is", tag_ids[rule.include])] if rule.include else []
        conditions += [_tag_condition("static_not", tag_ids[tag]) for tag in rule.exclude]
        if conditions:
            recipients["segment_opts"] = {"match": "all", "conditions": conditions}
        return recipients

    def _settings(self, email: RenderedEmail) -> dict[str, Any]:
        return {
            "subject_line": email.subject,
            "preview_text": email.preview_text,
            "title": issue_marker(email.issue.key),
            "from_name": self.config.email.sender_name,
            "reply_to": self.reply_to(),
        }

    def _put_content(self, campaign_id: str, email: RenderedEmail) -> None:
        body = {"html": email.html, "plain_text": email.text}
        self.http.put(f"/campaigns/{quote(campaign_id)}/content", "upload the campaign content", json=body)

    def _campaign(self, campaign: dict) -> Campaign:
        return Campaign(
            id=str(campaign["id"]),
            status=STATUSES.get(campaign.get("status"), "sent"),
            url=self._admin_url(campaign.get("web_id")),
        )

    def _admin_url(self, web_id: int | None) -> str:
        centre = self.data_centre()
        if not centre:
            return ""
        suffix = f"edit?id={web_id}" if web_id else ""
        return f"https://{centre}.admin.mailchimp.com/campaigns/{suffix}"


def _tag_condition(op: str, tag_id: int) -> dict[str, Any]:
    return {"condition_type": "StaticSegment", "field": "static_segment", "op": op, "value": tag_id}


def check_quarter_hour(when: datetime) -> None:
    """Mailchimp schedules only at :00, :15, :30 or :45; say so before asking it."""
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if utc.minute % 15 == 0 and utc.second == 0 and utc.microsecond == 0:
        return
    floor = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
    later = floor + timedelta(minutes=15)
    raise UnsupportedFeature(
        f"mailchimp can only schedule on the quarter hour (:00, :15, :30 or :45): "
        f"{utc:%Y-%m-%d %H:%M:%S} UTC is not; choose {floor:%H:%M} or {later:%H:%M} UTC"
    )


PROVIDER = Mailchimp
