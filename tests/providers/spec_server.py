"""Checks HTTP exchanges against a provider's OpenAPI document in ../shared/provider-specs/.

The test server listens on 127.0.0.1; each request is validated as if it had been sent to the
spec's own server (a request for http://127.0.0.1:PORT/v1/emails is checked as
https://api.buttondown.com/v1/emails). A few documents have known gaps (listed in
/work/shared/provider-specs/README.md); `SPEC_FIXES` patches exactly those, each with its reason,
and nothing else.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from werkzeug import Request
from werkzeug.datastructures import ImmutableMultiDict

# CI lays shared/ beside the clone: <clone>/../shared/provider-specs
SPEC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "provider-specs"


def _drop_kit_authorization_header(spec: dict) -> None:
    """Every Kit operation lists a required `Authorization` header parameter, a leftover of the
    docs generator: Kit authenticates with `X-Kit-Api-Key` (securityScheme `API Key`)."""
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p
                    for p in operation["parameters"]
                    if not (p.get("in") == "header" and p.get("name") == "Authorization")
                ]


def _kit_broadcast_replies(spec: dict) -> None:
    """The create/update replies declare `send_at`, `published_at` and `email_address` as plain
    strings, but a draft has them null (the get and list replies say nullable); and they require
    `ids` in every `subscriber_filter` entry, but "everyone" comes back as
    `{"type": "all_subscribers"}` (the spec's own get and list examples)."""
    for path in ("/v4/broadcasts", "/v4/broadcasts/{id}"):
        for operation in spec["paths"][path].values():
            for response in operation.get("responses", {}).values():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                broadcast = schema.get("properties", {}).get("broadcast", {}).get("properties", {})
                for name in ("send_at", "published_at", "email_address", "preview_text", "description", "content"):
                    if name in broadcast:
                        broadcast[name]["nullable"] = True
                groups = broadcast.get("subscriber_filter", {}).get("items", {}).get("properties", {})
                if "all" in groups:
                    groups["all"]["items"]["required"] = ["type"]


def _kit_filter_group_replies(spec: dict) -> None:
    """Broadcast replies require `all` in every `subscriber_filter` group (the update reply knows
    no other kind), because the one example they were drawn from has only `all`; the request
    schema (and Kit's own description: "all, any, or none") takes a group of one kind, so a
    `none` group comes back without `all`."""

    def relax(node) -> None:
        if isinstance(node, dict):
            kinds = set(node.get("properties", {}))
            if "all" in kinds and kinds <= {"all", "any", "none"} and node.get("required") == ["all"]:
                del node["required"]
            for value in node.values():
                relax(value)
        elif isinstance(node, list):
            for value in node:
                relax(value)

    for path in ("/v4/broadcasts", "/v4/broadcasts/{id}"):
        for operation in spec["paths"][path].values():
            relax(operation.get("responses", {}))


def _listmonk_campaign_fields(spec: dict) -> None:
    """`CampaignRequest` lacks `body`, `altbody` and the rest, and YAML indentation put
    `headers` and `template_id` under `send_at` (an object). The fields are those of
    docs/docs/content/apis/campaigns.md and listmonk's cmd/campaigns.go (campaignReq)."""
    schema = spec["components"]["schemas"]["CampaignRequest"]
    schema["properties"].update(
        {
            "send_at": {"type": "string", "format": "date-time", "nullable": True},
            "headers": {"type": "array", "items": {"type": "object"}},
            "template_id": {"type": "integer"},
            "body": {"type": "string"},
            "altbody": {"type": "string", "nullable": True},
            "archive": {"type": "boolean"},
            "archive_template_id": {"type": "integer"},
            "archive_meta": {"type": "object"},
            "media": {"type": "array", "items": {"type": "integer"}},
            "subscribers": {"type": "array", "items": {"type": "string"}},  # test sends only
        }
    )


def _listmonk_campaign_replies(spec: dict) -> None:
    """A draft's `send_at` is null, and create/update answer with the whole campaign
    (cmd/campaigns.go returns models.Campaign), whose `lists` are `{id, name}` objects; the
    spec's `Campaign` has `send_at` non-null and `CampaignUpdate` has it as an object."""
    schemas = spec["components"]["schemas"]
    for name in ("Campaign", "CampaignUpdate"):
        schemas[name]["properties"]["send_at"] = {"type": "string", "nullable": True}
    schemas["CampaignUpdate"]["properties"]["lists"] = {"type": "array", "items": {}}


def _listmonk_error_replies(spec: dict) -> None:
    """Operations declare only their 200 reply; failures are `{"message": "..."}` with a 4xx or
    5xx status (docs/docs/content/apis/apis.md)."""
    error = {
        "description": "Failure",
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
            }
        },
    }
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("default", error)


def _listmonk_target_list_ids(spec: dict) -> None:
    """`SubscriberQueryRequest.target_list_ids` says `type: integer` with `items`: a YAML slip for
    an array, which is what the server binds (`subQueryReq.TargetListIDs []int`,
    cmd/subscribers.go) and what docs/docs/content/apis/subscribers.md sends."""
    schema = spec["components"]["schemas"]["SubscriberQueryRequest"]["properties"]["target_list_ids"]
    schema["type"] = "array"


def _mailchimp_empty_bodies(spec: dict) -> None:
    """204 replies carry `content: {}`: no body, in OpenAPI terms, but openapi-core then
    expects one. Dropping the empty map says the same thing in a form it reads right."""
    for item in spec["paths"].values():
        for operation in item.values():
            for response in (operation.get("responses", {}) if isinstance(operation, dict) else {}).values():
                if response.get("content") == {}:
                    del response["content"]


@dataclass(frozen=True)
class SpecFile:
    filename: str
    fixes: tuple[Callable[[dict], None], ...] = ()


SPEC_FILES = {
    "buttondown": SpecFile("buttondown.json"),
    "mailchimp": SpecFile("mailchimp.json", (_mailchimp_empty_bodies,)),
    "kit": SpecFile("kit.json", (_drop_kit_authorization_header, _kit_broadcast_replies, _kit_filter_group_replies)),
    "listmonk": SpecFile(
        "listmonk.yaml",
        (_listmonk_campaign_fields, _listmonk_campaign_replies, _listmonk_error_replies, _listmonk_target_list_ids),
    ),
}


class Spec:
    """One provider's OpenAPI document, loaded on first use."""

    def __init__(self, name: str):
        self.name = name
        self.file = SPEC_FILES[name]

    @cached_property
    def document(self) -> dict:
        path = SPEC_DIR / self.file.filename
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: the provider tests need shared/provider-specs/ beside the repository clone"
            )
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        for fix in self.file.fixes:
            fix(document)
        return document

    @cached_property
    def api(self) -> OpenAPI:
        # The documents pass openapi-spec-validator (README.md); checking them again costs ~5 s.
        return OpenAPI.from_dict(self.document, config=Config(spec_validator_cls=None))

    @property
    def server_url(self) -> str:
        return self.document["servers"][0]["url"].rstrip("/")

    @property
    def base_path(self) -> str:
        """The path part of the spec's server URL, e.g. "/v1" for Buttondown."""
        return urlsplit(self.server_url).path

    @property
    def host_url(self) -> str:
        parts = urlsplit(self.server_url)
        return f"{parts.scheme}://{parts.netloc}"

    def _mock_request(self, request: Request) -> MockRequest:
        return MockRequest(
            self.host_url,
            request.method,
            request.path,
            args=ImmutableMultiDict(list(request.args.items(multi=True))),
            headers=dict(request.headers),
            data=request.get_data(),
            content_type=request.mimetype or "application/json",
        )

    def request_errors(self, request: Request) -> list[str]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openapi-core warns about OAuth2 schemes it skips
            try:
                self.api.validate_request(self._mock_request(request))
            except Exception as exc:  # noqa: BLE001 - every validator error is a finding
                return [f"{request.method} {request.path}: {describe(exc)}"]
        return []

    def response_errors(
        self, request: Request, status: int, body: bytes, content_type: str, headers: dict
    ) -> list[str]:
        response = MockResponse(body, status_code=status, headers=headers, content_type=content_type)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self.api.validate_response(self._mock_request(request), response)
            except Exception as exc:  # noqa: BLE001
                return [f"fake reply {status} to {request.method} {request.path}: {describe(exc)}"]
        return []


def describe(exc: Exception) -> str:
    """The validator's message, with each schema error as `where: what` instead of the whole schema."""
    details = []
    cause = exc.__cause__
    for error in getattr(cause, "schema_errors", None) or []:
        where = "/".join(str(part) for part in error.absolute_path) or "(whole value)"
        details.append(f"{where}: {error.message}")
    head = str(exc).split("\n")[0]
    if details:
        head = head.split(": Value ")[0]
        return f"{head}: " + "; ".join(details)
    return head if not cause else f"{head} ({str(cause).splitlines()[0]})"


_LOADED: dict[str, Spec] = {}


def spec(name: str) -> Spec:
    """The same Spec object for the whole test session (loading buttondown.json is the slow part)."""
    if name not in _LOADED:
        _LOADED[name] = Spec(name)
    return _LOADED[name]
