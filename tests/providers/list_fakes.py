"""The four fakes with a subscriber list for the stage sync: each person a record with her tags
(or lists), custom fields and status, served page by page as the provider does, and the tag or
list calls the sync makes. Every request and reply is still checked against the spec.

`people` maps the provider's subscriber id to a `Person`; `snapshot()` is everything about each
person except her stage tags, so a test can show that nothing else changed.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from .fakes import NOW, FakeButtondown, FakeKit, FakeListmonk, FakeMailchimp

# The providers' ids of the stage tags (lists for listmonk), as [provider] stage_tags holds them.
STAGE_IDS = {
    "buttondown": {
        "pregnant": "tag_pregnant01",
        "postpartum-0-6w": "tag_early0001",
        "postpartum-6w-plus": "tag_later001",
    },
    "mailchimp": {"pregnant": 48401, "postpartum-0-6w": 48402, "postpartum-6w-plus": 48403},
    "kit": {"pregnant": 5101, "postpartum-0-6w": 5102, "postpartum-6w-plus": 5103},
    "listmonk": {"pregnant": 11, "postpartum-0-6w": 12, "postpartum-6w-plus": 13, "general": 14},
}
OTHER_TAG = {"buttondown": "tag_workshop01", "mailchimp": 48499, "kit": 5199, "listmonk": 21}
DATE_FIELDS = {"mailchimp": ("DUEDATE", "BIRTHDATE")}


@dataclass
class Person:
    email: str
    tags: set  # the provider's ids of her tags (lists for listmonk)
    fields: dict  # custom fields / metadata / merge fields / attribs
    status: str
    extra: dict = field(default_factory=dict)  # list statuses for listmonk


class ListFake:
    """Mixin: a roster of people for the stage sync."""

    people: dict

    def load(self, people: dict) -> None:
        self.people = people

    def stage_ids(self) -> set:
        return set(STAGE_IDS[self.name].values())

    def snapshot(self) -> dict:
        """Everything about every person except her stage tags."""
        stage = self.stage_ids()
        return {
            key: (p.email, sorted(map(str, p.tags - stage)), dict(p.fields), p.status, dict(p.extra))
            for key, p in self.people.items()
        }

    def stages_held(self) -> dict[str, set[str]]:
        """Subscriber id -> the stage names she holds."""
        by_id = {tag: stage for stage, tag in STAGE_IDS[self.name].items()}
        return {key: {by_id[tag] for tag in p.tags if tag in by_id} for key, p in self.people.items()}


class ListButtondown(ListFake, FakeButtondown):
    page = 100  # Buttondown's page of subscribers

    def __init__(self):
        super().__init__()
        self.bulk_actions: dict[str, dict] = {}

    def route_table(self):
        return [
            *super().route_table(),
            ("GET", "/subscribers", self.list_subscribers),
            ("GET", "/tags", self.list_tags),
            ("POST", "/bulk_actions", self.bulk_action),
            ("GET", "/bulk_actions/(?P<id>[^/]+)", self.get_bulk_action),
        ]

    def tag_names(self) -> dict:
        names = {tag: stage for stage, tag in STAGE_IDS["buttondown"].items()}
        return names | {OTHER_TAG["buttondown"]: "workshop-2025"}

    def list_subscribers(self, request, body):
        page = int(request.args.get("page", 1))
        types = request.args.getlist("type")  # Buttondown's filter: only these subscriber types
        keys = sorted(key for key in self.people if not types or self.people[key].status in types)
        chunk = keys[(page - 1) * self.page : page * self.page]
        more = page * self.page < len(keys)
        names = self.tag_names()
        results = [
            {
                "id": key,
                "creation_date": NOW,
                "email_address": self.people[key].email,
                "referral_code": key[-6:],
                "secondary_id": index,
                "source": "api",
                "tags": sorted(names[tag] for tag in self.people[key].tags),
                "type": self.people[key].status,
                "utm_campaign": "",
                "utm_medium": "",
                "utm_source": "",
                "metadata": dict(self.people[key].fields),
            }
            for index, key in enumerate(chunk, (page - 1) * self.page + 1)
        ]
        return 200, {
            "results": results,
            "count": len(keys),
            "next": f"https://api.buttondown.com/v1/subscribers?page={page + 1}" if more else None,
            "previous": None,
        }

    def list_tags(self, request, body):
        tags = [
            {
                "id": tag,
                "creation_date": NOW,
                "name": name,
                "color": "#aabbcc",
                "subscriber_editable": False,
                "secondary_id": index,
            }
            for index, (tag, name) in enumerate(sorted(self.tag_names().items()), 1)
        ]
        return 200, {"results": tags, "count": len(tags), "next": None, "previous": None}

    def bulk_action(self, request, body):
        metadata = body["metadata"]
        if len(metadata["ids"]) > 200:
            return 400, {"detail": "Too many ids.", "code": "max_bulk_actions_exceeded"}
        for key in metadata["ids"]:
            for tag in metadata["tag_ids"]:
                (self.people[key].tags.add if metadata["action"] == "add" else self.people[key].tags.discard)(tag)
        action_id = f"bulk_{len(self.exchanges):06d}"
        self.bulk_actions[action_id] = metadata
        return 201, self._bulk(action_id, metadata, "in_progress")

    def get_bulk_action(self, request, body, id):
        return 200, self._bulk(id, self.bulk_actions[id], "processed")

    @staticmethod
    def _bulk(action_id, metadata, status):
        return {"id": action_id, "creation_date": NOW, "type": "apply_tags", "metadata": metadata, "status": status}


class ListMailchimp(ListFake, FakeMailchimp):
    def route_table(self):
        return [
            *super().route_table(),
            ("GET", "/lists/(?P<list_id>[^/]+)/members", self.members),
            ("POST", "/lists/(?P<list_id>[^/]+)/segments/(?P<segment_id>[0-9]+)", self.segment_members),
        ]

    def members(self, request, body, list_id):
        count, offset = int(request.args.get("count", 10)), int(request.args.get("offset", 0))
        status = request.args.get("status")
        keys = [key for key in sorted(self.people) if not status or self.people[key].status == status]
        chunk = keys[offset : offset + count]
        members = [
            {
                "id": key,
                "email_address": self.people[key].email,
                "status": self.people[key].status,
                "merge_fields": dict(self.people[key].fields),
                "tags": [{"id": tag, "name": f"tag {tag}"} for tag in sorted(self.people[key].tags)],
            }
            for key in chunk
        ]
        return 200, {"members": members, "list_id": list_id, "total_items": len(keys)}

    def segment_members(self, request, body, list_id, segment_id):
        by_email = {p.email: (key, p) for key, p in self.people.items()}
        added, removed = [], []
        for email in body.get("members_to_add", []):
            key, person = by_email[email]
            person.tags.add(int(segment_id))
            added.append({"id": key, "email_address": email, "status": person.status})
        for email in body.get("members_to_remove", []):
            key, person = by_email[email]
            person.tags.discard(int(segment_id))
            removed.append({"id": key, "email_address": email, "status": person.status})
        return 200, {
            "members_added": added,
            "members_removed": removed,
            "errors": [],
            "total_added": len(added),
            "total_removed": len(removed),
            "error_count": 0,
        }


class ListKit(ListFake, FakeKit):
    def route_table(self):
        table = [route for route in super().route_table() if "tags" not in route[1]]
        return [
            *table,
            ("GET", "/v4/subscribers", self.list_subscribers),
            ("GET", "/v4/tags/(?P<tag_id>[0-9]+)/subscribers", self.tagged_people),
            ("POST", "/v4/bulk/tags/subscribers", self.bulk_tag),
            ("DELETE", "/v4/bulk/tags/subscribers", self.bulk_untag),
        ]

    def _page(self, request, keys):
        per_page = min(int(request.args.get("per_page", 500)), 1000)
        start = int(base64.b64decode(request.args["after"])) if "after" in request.args else 0
        chunk = keys[start : start + per_page]
        end = start + len(chunk)
        pagination = {
            "has_previous_page": start > 0,
            "has_next_page": end < len(keys),
            "start_cursor": base64.b64encode(str(start).encode()).decode() if chunk else None,
            "end_cursor": base64.b64encode(str(end).encode()).decode() if chunk else None,
            "per_page": per_page,
        }
        return chunk, pagination

    def _shown(self, key, **more):
        person = self.people[key]
        return {
            "id": key,
            "first_name": person.extra.get("first_name", ""),
            "email_address": person.email,
            "state": person.status,
            "created_at": NOW,
            "fields": {"category": ""} | person.fields,
        } | more

    def list_subscribers(self, request, body):
        status = request.args.get("status", "active")
        keys = [key for key in sorted(self.people) if status == "all" or self.people[key].status == status]
        chunk, pagination = self._page(request, keys)
        return 200, {"subscribers": [self._shown(key) for key in chunk], "pagination": pagination}

    def tagged_people(self, request, body, tag_id):
        keys = [key for key in sorted(self.people) if int(tag_id) in self.people[key].tags]
        chunk, pagination = self._page(request, keys)
        return 200, {"subscribers": [self._shown(key, tagged_at=NOW) for key in chunk], "pagination": pagination}

    def bulk_tag(self, request, body):
        tagged = []
        for tagging in body["taggings"]:
            person = self.people[tagging["subscriber_id"]]
            person.tags.add(tagging["tag_id"])
            tagged.append(
                {
                    "id": tagging["subscriber_id"],
                    "first_name": person.extra.get("first_name", ""),
                    "email_address": person.email,
                    "created_at": NOW,
                    "tagged_at": NOW,
                }
            )
        return 200, {"subscribers": tagged, "failures": []}

    def bulk_untag(self, request, body):
        for tagging in body["taggings"]:
            self.people[tagging["subscriber_id"]].tags.discard(tagging["tag_id"])
        return 200, {"failures": []}


class ListListmonk(ListFake, FakeListmonk):
    page_size = 50  # listmonk's MaxPerPage

    def route_table(self):
        table = [route for route in super().route_table() if route[1] != "/subscribers"]
        return [
            *table,
            ("GET", "/subscribers", self.list_people),
            ("PUT", "/subscribers/lists", self.manage_lists),
        ]

    def list_people(self, request, body):
        wanted = {int(number) for number in request.args.getlist("list_id")}
        keys = [key for key in sorted(self.people) if not wanted or wanted & self.people[key].tags]
        page, per_page = int(request.args.get("page", 1)), min(int(request.args.get("per_page", 20)), self.page_size)
        chunk = keys[(page - 1) * per_page : page * per_page]
        results = [
            {
                "id": key,
                "uuid": f"00000000-0000-4000-9000-{key:012d}",
                "email": self.people[key].email,
                "name": "",
                "status": self.people[key].status,
                "attribs": dict(self.people[key].fields),
                "created_at": NOW,
                "updated_at": NOW,
                "lists": [
                    {
                        "id": number,
                        "name": f"List {number}",
                        "subscription_status": self.people[key].extra.get(number, "confirmed"),
                    }
                    for number in sorted(self.people[key].tags)
                ],
            }
            for key in chunk
        ]
        return 200, {"data": {"results": results, "query": "", "total": len(keys), "per_page": per_page, "page": page}}

    def manage_lists(self, request, body):
        if not body.get("ids") or not body.get("target_list_ids"):
            return 400, {"message": "invalid ID(s)"}
        if body["action"] == "add" and not body.get("status"):
            return 400, {"message": "invalid status"}
        for key in body["ids"]:
            person = self.people[key]
            for number in body["target_list_ids"]:
                if body["action"] == "add":
                    person.tags.add(number)
                    person.extra[number] = body["status"]
                elif body["action"] == "remove":
                    person.tags.discard(number)
                    person.extra.pop(number, None)
        return 200, {"data": True}

    def snapshot(self) -> dict:
        """Everything but stage-list membership (and the status on a stage list)."""
        stage = self.stage_ids()
        return {
            key: (
                p.email,
                sorted(p.tags - stage),
                dict(p.fields),
                p.status,
                {k: v for k, v in p.extra.items() if k not in stage},
            )
            for key, p in self.people.items()
        }


LIST_FAKES = {f.name: f for f in (ListButtondown, ListMailchimp, ListKit, ListListmonk)}


def subscriber_id(name: str, number: int):
    """A subscriber id as each provider writes it."""
    if name == "buttondown":
        return f"sub_{number:08d}"
    if name == "mailchimp":
        return hashlib.md5(f"reader{number}@example.com".encode()).hexdigest()  # noqa: S324 - Mailchimp's id
    return number
