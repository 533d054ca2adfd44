"""Fixtures for the provider tests: one real HTTP server on 127.0.0.1 for the session, a fake
provider behind it per test, and a project (config, ledger, emails) to push from."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from pipeline.core.config import config_from_dict
from pipeline.core.model import Issue, PushResult, RenderedEmail
from pipeline.deliver.ledger import Ledger, ledger_path
from pipeline.deliver.providers import get_provider
from pipeline.deliver.providers.base import Provider
from pipeline.deliver.providers.http import HttpTransport
from pipeline.deliver.push import push_issue

from .fakes import FAKES, FakeProvider
from .spec_server import SPEC_DIR, spec

PROVIDER_NAMES = list(FAKES)
ISSUE_KEY = "strongfromwithin-example-2026-W48"

OPTIONS = {
    "buttondown": {"username": "strongfromwithin"},
    "mailchimp": {
        "list_id": "a1b2c3d4e5",
        "form_action": "https://example.us21.list-manage.com/subscribe/post?u=0a1b2c3d4e5f&id=a1b2c3d4e5",
    },
    "kit": {"form_id": "7463169"},
    "listmonk": {"list_ids": [3], "list_uuid": "5cd3d6d1-65ea-4c27-be75-fed09ae8a312"},
}


@pytest.fixture(scope="session", autouse=True)
def provider_specs_present():
    if not SPEC_DIR.is_dir():
        pytest.fail(
            f"{SPEC_DIR} is missing: the provider tests validate against the OpenAPI "
            "specs in shared/provider-specs/ beside the clone"
        )


@pytest.fixture(scope="session")
def specs() -> Callable:
    """The OpenAPI documents, each loaded once per session on first use."""
    return spec


@pytest.fixture(scope="session")
def provider_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Waits the transport asked for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(HttpTransport, "sleep", staticmethod(recorded.append))
    return recorded


@pytest.fixture
def short_timeouts(monkeypatch):
    monkeypatch.setattr(HttpTransport, "timeout", (2.0, 0.4))


def make_email(provider: Provider, version: str = "A", key: str = ISSUE_KEY) -> RenderedEmail:
    issue = Issue(
        week="2026-W48",
        key=key,
        subject=f"Gentle glute work ({version})",
        preview_text=f"Three moves for week 48 ({version})",
        intro="",
        articles=[],
        monday=date(2026, 11, 23),
    )
    unsubscribe = provider.unsubscribe_url()
    html = (
        f"<!doctype html><html><body><h1>{issue.subject}</h1><p>Bridge with a pillow under your head ({version}).</p>"
        f'<p><a href="{unsubscribe}">Unsubscribe</a></p></body></html>'
    )
    text = f"{issue.subject}\n\nBridge with a pillow under your head ({version}).\n\nUnsubscribe: {unsubscribe}\n"
    digest = hashlib.sha256("\0".join([issue.subject, issue.preview_text, html, text]).encode()).hexdigest()
    return RenderedEmail(
        issue=issue, subject=issue.subject, preview_text=issue.preview_text, html=html, text=text, content_hash=digest
    )


@dataclass
class Harness:
    """One provider client wired to its fake, plus a ledger to push with."""

    name: str
    fake: FakeProvider
    provider: Provider
    ledger: Ledger
    root: str
    emails: dict[str, RenderedEmail] = field(default_factory=dict)

    def email(self, version: str = "A") -> RenderedEmail:
        return self.emails.setdefault(version, make_email(self.provider, version))

    def push(self, version: str = "A", **options: Any) -> PushResult:
        return push_issue(self.provider, self.ledger, self.email(version), b"", **options)

    def campaigns(self) -> list[dict]:
        return self.fake.our_view()


@pytest.fixture
def make_harness(provider_server, tmp_path, sleeps) -> Callable[..., Harness]:
    made: list[Harness] = []

    def make(
        name: str, options: dict | None = None, env: dict | None = None, fake: FakeProvider | None = None
    ) -> Harness:
        fake = fake or FAKES[name]()
        provider_server.clear()
        provider_server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
        root = provider_server.url_for("").rstrip("/")
        raw = {
            "site": {"title": "Strong From Within", "base_url": "https://strongfromwithin.example"},
            "email": {"sender_name": "Strong From Within", "sender_address": "hello@strongfromwithin.example"},
            "provider": {"name": name, "base_url": fake.base_url(root), **OPTIONS[name], **(options or {})},
        }
        config = config_from_dict(raw, Path(tmp_path))
        provider = get_provider(config, env=fake.secrets | (env or {}))
        harness = Harness(name, fake, provider, Ledger(ledger_path(config.state_dir)), root)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.ledger.close()
        assert not harness.fake.spec_errors, f"{harness.name}: requests or replies off the OpenAPI spec:\n" + "\n".join(
            harness.fake.spec_errors
        )


@pytest.fixture(params=PROVIDER_NAMES)
def harness(request, make_harness) -> Harness:
    return make_harness(request.param)
