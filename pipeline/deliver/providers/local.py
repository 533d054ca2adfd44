"""What the providers that keep campaigns on this machine (outbox, smtp) share: one folder per
campaign holding campaign.json (the record) and email.eml, each written atomically."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

from pipeline.core.errors import ProviderError
from pipeline.deliver.providers.base import Campaign
from pipeline.tools.files import atomic_write

CAMPAIGN_FILE = "campaign.json"
EML_FILE = "email.eml"


def read_campaign_file(path: Path) -> dict | None:
    """A campaign record kept on disk; None if there is none."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as error:
        raise ProviderError(f"{path} is not valid JSON ({error}); fix or remove it") from error


class LocalCampaigns:
    """Mixin for a Provider with `clock()` and `_folder(campaign_id) -> Path`."""

    def _read(self, campaign_id: str) -> dict | None:
        return read_campaign_file(self._folder(campaign_id) / CAMPAIGN_FILE)

    def _write_record(self, record: dict) -> Campaign:
        text = json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        atomic_write(self._folder(record["id"]) / CAMPAIGN_FILE, text.encode("utf-8"))
        return self._campaign(record)

    def _campaign(self, record: dict) -> Campaign:
        return Campaign(
            id=record["id"],
            status=record["status"],
            content_hash=record.get("content_hash"),
            url=self._folder(record["id"]).resolve().as_uri(),
        )

    def _now(self) -> str:
        return self.clock().astimezone(UTC).isoformat()
