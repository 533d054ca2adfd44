"""Secrets from the environment: read and checked in one place, and kept out of every message.

A secret is any `NEWSLETTER_*` variable whose name ends in KEY, PASSWORD, SECRET or TOKEN. One
with stray whitespace or a control character (a pasted newline, a `\r` from a Windows file) is
refused before it reaches a header or a login, by name and never by value; `redact` takes every
secret's value, in every spelling an error might show it, out of a text before it is printed.
"""

from __future__ import annotations

import base64
import os
import re
import unicodedata
from collections.abc import Mapping

from pipeline.core.errors import ConfigError

SECRET_VARIABLE = re.compile(r"^NEWSLETTER_\w*(KEY|PASSWORD|SECRET|TOKEN)$")
# Shorter values would blank out ordinary words in a message; they are refused as too short anyway.
MIN_REDACTED_LENGTH = 4


def read_secret(variable: str, purpose: str, env: Mapping[str, str] | None = None) -> str:
    """The variable's value, or a ConfigError naming the variable (never showing the value)."""
    value = (os.environ if env is None else env).get(variable, "")
    if not value:
        raise ConfigError(f"set the environment variable {variable} {purpose}")
    problem = secret_problem(value)
    if problem:
        raise ConfigError(
            f"the environment variable {variable} {problem}: set it again with the secret alone "
            "(its value is not shown here)"
        )
    return value


def secret_problem(value: str) -> str:
    """What is wrong with a secret's bytes, or "" if nothing is."""
    if not value.strip():
        return "holds only whitespace"
    if value != value.strip():
        return "has whitespace or a line break at its start or end"
    if any(unicodedata.category(char)[0] == "C" or unicodedata.category(char) in ("Zl", "Zp") for char in value):
        return "holds a control character or line break"
    return ""


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    return [value for name, value in env.items() if SECRET_VARIABLE.match(name) and value]


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """`text` with every secret of the environment replaced by `***`: as given, stripped, as
    Python's repr shows it (`key\\r`), percent- or base64-encoded."""
    for spelling in sorted(_spellings(secret_values(env)), key=len, reverse=True):
        text = text.replace(spelling, "***")
    return text


def _spellings(values: list[str]) -> set[str]:
    from urllib.parse import quote

    spellings: set[str] = set()
    for value in values:
        for form in (value, value.strip()):
            spellings |= {form, repr(form)[1:-1], quote(form, safe=""), base64.b64encode(form.encode()).decode()}
    return {spelling for spelling in spellings if len(spelling) >= MIN_REDACTED_LENGTH}
