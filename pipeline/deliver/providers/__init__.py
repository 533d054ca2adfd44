"""Provider registry: name -> module, imported only when used."""

from __future__ import annotations

import importlib

from pipeline.core.errors import ConfigError

PROVIDERS = {  # the name in `[provider] name` -> its module here
    "outbox": "outbox",  # the default: a local folder, no account
    "smtp": "smtp",  # self-hosted: any relay, our own subscriber table
    "buttondown": "buttondown",  # the HTTP APIs of mailing-list services
    "mailchimp": "mailchimp",
    "kit": "kit",
    "listmonk": "listmonk",
}


def provider_class(name: str):
    if name not in PROVIDERS:
        raise ConfigError(f"newsletter.toml: unknown provider '{name}' (known: {', '.join(sorted(PROVIDERS))})")
    module = importlib.import_module(f"{__name__}.{PROVIDERS[name]}")
    return module.PROVIDER


def get_provider(config, env=None):
    return provider_class(config.provider.name)(config, env)
