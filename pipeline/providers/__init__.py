"""Provider registry: name -> module, imported only when used."""
from __future__ import annotations

import importlib

from ..errors import ConfigError

PROVIDERS = {"outbox": "outbox"}
PROVIDERS["smtp"] = "smtp"
PROVIDERS.update(buttondown="buttondown", mailchimp="mailchimp", kit="kit", listmonk="listmonk")  # HTTP APIs


def provider_class(name: str):
    if name not in PROVIDERS:
        raise ConfigError(f"newsletter.toml: unknown provider '{name}' (known: {', '.join(sorted(PROVIDERS))})")
    module = importlib.import_module(f"{__name__}.{PROVIDERS[name]}")
    return module.PROVIDER


def get_provider(config, env=None):
    return provider_class(config.provider.name)(config, env)
