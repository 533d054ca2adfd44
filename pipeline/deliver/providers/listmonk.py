"""listmonk (https://listmonk.app/docs/apis/campaigns/), self-hosted: `base_url` is required.

One campaign per issue, tagged with the issue's marker (so a lookup finds it by tag) and with
the content hash of the build it holds. The HTML goes in `body` and the plain text in
`altbody`. listmonk has no preview-text field: the rendered HTML carries its own hidden
preheader.

Stage versions go to one list each (`[provider] stage_lists`: a list per stage, and `general`
for readers with no stage). listmonk sends a campaign to everyone on its lists and cannot leave
out readers of another list, so the lists must not share readers: before a stage version is
scheduled or sent, the subscribers of all the stage lists are read (`GET /api/subscribers`),
and anyone subscribed to two of them stops the push.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pipeline.core.errors import ConfigError, ProviderError
from pipeline.core.model import RenderedEmail, SignupForm
from pipeline.core.stages import GENERAL_STAGE, versions
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
SUBSCRIBER_PAGES = 1000
LIST_PAGES = 100_000  # of up to 50 (the server's cap on per_page)
SYNC_BATCH = 500  # subscriber ids per list change
STATUSES = {"draft": "draft", "scheduled": "scheduled"}  # running, paused, finished...: out of our hands


class Listmonk(HttpProvider):
    name = "listmonk"
    secret_env = ("NEWSLETTER_LISTMONK_API_USER", "NEWSLETTER_LISTMONK_API_KEY")
    option_keys = (
        "list_ids",
        "list_uuid",
        "template_id",
        "stage_lists",
        "stage_list_uuids",
        "due_date_field",
        "birth_date_field",
    )
    option_types = {
        "list_ids": list,
        "list_uuid": str,
        "template_id": int,
        "stage_lists": dict,
        "stage_list_uuids": dict,
        "due_date_field": str,
        "birth_date_field": str,
    }
    syncs_stages = True
    stage_of_general = GENERAL_STAGE  # readers past their dated stages go on the `general` list
    targets_stages = True

    def __init__(self, config, env=None):
        super().__init__(config, env)
        self._statuses: dict[str, str] = {}  # reader id -> her status on the newsletter's lists, from the sync's read
        list_ids = config.provider.options.get("list_ids", [])
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in list_ids):
            raise ConfigError(
                f"newsletter.toml: [provider] list_ids must be a list of list numbers, like [3], not {list_ids!r}"
            )

    def site_url(self) -> str:
        """The listmonk address people visit; the API lives under /api."""
        base = self.config.provider.base_url.rstrip("/")
        if not base:
            raise ConfigError(
                "newsletter.toml: set base_url in [provider] to your listmonk address, e.g. https://lists.example.com"
            )
        return base.removesuffix("/api")

    def api_url(self) -> str:
        return self.site_url() + "/api"

    def auth(self):
        user, token = self.secret_values()
        return HeaderAuth({"Authorization": f"token {user}:{token}"})

    def parse_error(self, response) -> ErrorDetail | None:
        body = json_body(response)
        if isinstance(body, dict) and body.get("message"):
            return ErrorDetail(str(body["message"]))
        return None

    # What the email and the blog show.
    def unsubscribe_url(self) -> str:
        return "{{ UnsubscribeURL }}"

    def signup_form(self) -> SignupForm:
        list_uuid = self.option("list_uuid", "the list's UUID, shown under Lists > (your list) in listmonk")
        # A stage is a list: one more `l` (a public list's UUID); listmonk adds lists, never removes.
        stages = stage_answers(self, "stage_list_uuids")
        return SignupForm(
            action=f"{self.site_url()}/subscription/form",
            hidden_fields={"l": list_uuid},
            note="If the list uses double opt-in, we'll send you an email to confirm your address.",
            name_field="name",
            stage_field="l" if stages else "",
            stage_values={answer: uuid for answer, uuid in stages.items() if uuid != list_uuid},
            left_out=("dates",) if stages else ("stage", "dates"),  # its form takes email, name, l only
        )

    # Campaign operations.
    def list_ids(self) -> list[int]:
        return self.option("list_ids", "the numbers of the lists to send to, e.g. list_ids = [3]")

    def stage_lists(self) -> dict[str, int]:
        """The list of each version: every stage, and `general`."""
        return self.stage_ids("stage_lists", "list number", (int,), versions(self.config.audience.stages))

    def lists_for(self, stage: str | None) -> list[int]:
        return self.list_ids() if stage is None else [self.stage_lists()[stage]]

    def audience(self) -> str:
        numbers = self.list_ids()
        return f"the subscribers of list{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))}"

    def describe_stage_audience(self, stage: str, rule: str, send_at=None) -> str:
        return f"the subscribers of list {self.lists_for(stage)[0]} ({rule})"

    def readers_in_two_versions(self, stage: str) -> list[str]:
        """Subscribers of this version's list who are also subscribed to another version's list."""
        lists = self.stage_lists()
        own, others = lists[stage], {number for version, number in lists.items() if version != stage}
        doubled = []
        for page in range(1, SUBSCRIBER_PAGES + 1):
            params = {"list_id": sorted(lists.values()), "per_page": PAGE_SIZE, "page": page}
            data = self.http.get("/subscribers", "read who is on the stage lists", params=params).json()["data"]
            results = data.get("results") or []
            for person in results:
                subscribed = {
                    item.get("id")
                    for item in person.get("lists") or []
                    if item.get("subscription_status") != "unsubscribed"
                }
                if own in subscribed and subscribed & others:
                    doubled.append(str(person.get("email", "")))
            if (
                page * (data.get("per_page") or PAGE_SIZE) >= data.get("total", 0) or not results
            ):  # the server may cap per_page
                return sorted(doubled)
        raise ProviderError(
            f"listmonk: the stage lists hold more than {SUBSCRIBER_PAGES * PAGE_SIZE} "
            "subscribers; check them for readers on two lists in listmonk itself"
        )

    # The stage sync: stage lists (and `general`) are joined with the status she has on the
    # newsletter's lists, so a reader who has not confirmed yet is not confirmed by a stage list.
    def list_readers(self) -> Iterator[ListReader]:
        stage_of_list = {number: stage for stage, number in self.stage_lists().items()}
        base = set(self.list_ids())
        params: dict[str, Any] = {"list_id": sorted(base | set(stage_of_list)), "per_page": PAGE_SIZE}
        for page in range(1, LIST_PAGES + 1):
            data = self.http.get("/subscribers", "list the subscribers", params=params | {"page": page}).json()["data"]
            results = data.get("results") or []
            for person in results:
                lists = {item.get("id"): item.get("subscription_status") for item in person.get("lists") or []}
                status = _base_status(lists, base)
                if status is None or person.get("status") == "blocklisted":
                    continue  # not (or no longer) a reader of the newsletter: left alone
                held = frozenset(
                    stage_of_list[n] for n, s in lists.items() if n in stage_of_list and s != "unsubscribed"
                )
                reader = self.reader_from_fields(person["id"], person.get("email", ""), held, person.get("attribs"))
                self._statuses[reader.id] = status
                yield reader
            if page * (data.get("per_page") or PAGE_SIZE) >= data.get("total", 0) or not results:
                return

    def change_stages(self, changes: Sequence[StageChange]) -> None:
        lists = self.stage_lists()
        batches: dict[tuple[str, str, str | None], list[int]] = {}
        for change in changes:
            for stage in change.remove:
                batches.setdefault(("remove", stage, None), []).append(int(change.reader.id))
            if change.add:
                status = self._statuses.get(change.reader.id, "unconfirmed")
                batches.setdefault(("add", change.add, status), []).append(int(change.reader.id))
        for (action, stage, status), ids in sorted(batches.items(), key=lambda item: item[0][0] != "remove"):
            for start in range(0, len(ids), SYNC_BATCH):
                body: dict[str, Any] = {"ids": ids[start : start + SYNC_BATCH], "action": action}
                body["target_list_ids"] = [lists[stage]]
                if status:
                    body["status"] = status
                self.http.put("/subscribers/lists", f"{action} readers on the '{stage}' list", json=body)

    def find_campaign(self, issue_key: str, known_id: str | None) -> Campaign | None:
        if known_id:
            response = self.http.get(
                f"/campaigns/{quote(known_id)}",
                "look up the campaign",
                params={"no_body": "true"},
                ok_statuses=(400, 404),
            )
            if response.ok:
                return self._campaign(response.json()["data"])
        return self._search(issue_marker(issue_key))

    def _search(self, marker: str) -> Campaign | None:
        for page in range(1, LOOKUP_PAGES + 1):
            # The spec names the filter `tags`; listmonk's code reads `tag`. Send both; match here.
            params = {"tags": marker, "tag": marker, "no_body": "true", "per_page": PAGE_SIZE, "page": page}
            data = self.http.get("/campaigns", "look for the issue's campaign", params=params).json()["data"]
            results = data.get("results") or []
            for campaign in results:
                if marker in (campaign.get("tags") or []):
                    return self._campaign(campaign)
            if page * PAGE_SIZE >= data.get("total", 0) or not results:
                return None
        return None

    def create_draft(self, email: RenderedEmail, eml: bytes) -> Campaign:
        data = self.http.post("/campaigns", "create the campaign", json=self._campaign_fields(email)).json()["data"]
        return self._campaign(data)

    def update_draft(self, campaign_id: str, email: RenderedEmail, eml: bytes) -> Campaign:
        path = f"/campaigns/{quote(campaign_id)}"
        data = self.http.put(path, "update the campaign", json=self._campaign_fields(email)).json()["data"]
        return self._campaign(data | {"id": data.get("id", campaign_id)})

    def test_send(self, campaign_id: str, recipients: list[str]) -> None:
        """listmonk's test call takes the campaign's fields, plus the e-mail addresses of
        existing subscribers to send it to."""
        path = f"/campaigns/{quote(campaign_id)}"
        current = self.http.get(path, "read the campaign").json()["data"]
        body = _test_fields(current) | {"subscribers": recipients}
        self.http.post(f"{path}/test", "send the test email", json=body)

    def schedule(self, campaign_id: str, when: datetime) -> Campaign:
        path = f"/campaigns/{quote(campaign_id)}"
        # listmonk keeps the fields a PUT leaves out, except the lists, which it always needs:
        # the campaign's own lists, so a stage version stays with its stage.
        current = self.http.get(path, "read the campaign's lists", params={"no_body": "true"}).json()["data"]
        body = {"lists": _list_numbers(current), "send_at": utc_iso(when), "send_later": True}
        self.http.put(path, "set the campaign's send time", json=body)
        return self._set_status(campaign_id, "scheduled", "schedule the campaign")

    def send_now(self, campaign_id: str) -> Campaign:
        return self._set_status(campaign_id, "running", "start the campaign")

    def _set_status(self, campaign_id: str, status: str, what: str) -> Campaign:
        path = f"/campaigns/{quote(campaign_id)}/status"
        data = self.http.put(path, what, json={"status": status}).json()["data"]
        return self._campaign(data)

    def _campaign_fields(self, email: RenderedEmail) -> dict[str, Any]:
        sender = self.config.email
        fields = {
            "name": email.subject,
            "subject": email.subject,
            "lists": self.lists_for(email.issue.stage),
            "from_email": f"{sender.sender_name} <{sender.sender_address}>",
            "type": "regular",
            "content_type": "html",
            "messenger": "email",
            "body": email.html,
            "altbody": email.text,
            "tags": [issue_marker(email.issue.key), hash_label(email.content_hash)],
        }
        template_id = self.config.provider.options.get("template_id")
        if template_id:
            fields["template_id"] = template_id
        return fields

    def _campaign(self, campaign: dict) -> Campaign:
        campaign_id = str(campaign["id"])
        return Campaign(
            id=campaign_id,
            status=STATUSES.get(campaign.get("status"), "sent"),
            content_hash=hash_from_labels(campaign.get("tags") or []),
            url=f"{self.site_url()}/admin/campaigns/{campaign_id}",
        )


def _test_fields(campaign: dict) -> dict[str, Any]:
    """A campaign as GET returns it, shaped as the test call takes it."""
    fields = {
        key: campaign[key]
        for key in (
            "name",
            "subject",
            "from_email",
            "type",
            "content_type",
            "messenger",
            "body",
            "altbody",
            "template_id",
            "tags",
        )
        if campaign.get(key) is not None
    }
    fields["lists"] = _list_numbers(campaign)
    return fields


def _list_numbers(campaign: dict) -> list[int]:
    return [item["id"] if isinstance(item, dict) else item for item in campaign.get("lists") or []]


PROVIDER = Listmonk


def _base_status(lists: dict, base: set[int]) -> str | None:
    """Her subscription status on the newsletter's own lists: confirmed if on any, else
    unconfirmed; None when she is on none of them (or unsubscribed from all)."""
    statuses = {status for number, status in lists.items() if number in base and status != "unsubscribed"}
    if not statuses:
        return None
    return "confirmed" if "confirmed" in statuses else "unconfirmed"
