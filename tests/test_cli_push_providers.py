"""`newsletter push` to an HTTP provider, end to end through the command: exit code 3 when the
provider refuses or fails, 2 when the config or environment is wrong, and the API key never shown -
`--verbose` included - even when the provider echoes it back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

KEY = "bd-secret-7f3a9c41e2d84b6fa0c5"
KEY_ENV = "NEWSLETTER_BUTTONDOWN_API_KEY"
ARTICLE = """\
---
title: Gentle glute work
date: 2026-11-24
summary: Three moves for week 48.
---

Lie on your back and breathe.
"""


@pytest.fixture
def refusing_server():
    """Buttondown's address, answering every call with a 401 that quotes the key it was given."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/v1/emails").respond_with_json(
        {"detail": f"Invalid token: {KEY}", "code": "invalid_token"}, status=401
    )
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def project(make_project, refusing_server):
    return buttondown_project(make_project, refusing_server)


def buttondown_project(make_project, server: HTTPServer) -> Path:
    root = make_project({"content/articles/glutes.md": ARTICLE})
    config = root / "newsletter.toml"
    provider = f'[provider]\nname = "buttondown"\nbase_url = "{server.url_for("/v1")}"\nusername = "strongfromwithin"\n'
    text = config.read_text(encoding="utf-8")
    start = text.find("[provider]")
    if start >= 0:  # replace the repo's [provider] table, up to the next table
        end = text.find("\n[", start + 1)
        text = text[:start] + text[end + 1 if end >= 0 else len(text) :]
    config.write_text(text + "\n" + provider, encoding="utf-8")
    return root


def push(root: Path, *args: str, key: str | None = KEY) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("NEWSLETTER_")}
    if key is not None:
        env[KEY_ENV] = key
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "--verbose", "push", "--week", "2026-W48", "--root", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("options", [(), ("--plan",)], ids=["push", "plan"])
def test_a_refused_key_exits_3_naming_the_variable_and_never_the_key(project, options):
    result = push(project, *options)
    assert result.returncode == 3, result.stderr
    assert f"the API key in {KEY_ENV} was refused" in result.stderr
    assert KEY not in result.stdout and KEY not in result.stderr
    assert KEY[: len(KEY) // 2] not in result.stdout + result.stderr


def test_a_missing_key_is_a_config_error_exit_2(project, refusing_server):
    result = push(project, key=None)
    assert result.returncode == 2
    assert f"set the environment variable {KEY_ENV}" in result.stderr
    assert refusing_server.log == []  # refused before any call


def test_a_missing_provider_option_is_a_config_error_exit_2(project):
    config = project / "newsletter.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('username = "strongfromwithin"\n', ""), encoding="utf-8"
    )
    result = push(project)
    assert result.returncode == 2
    assert "set username in [provider]" in result.stderr
    assert KEY not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "bad_key",
    [KEY + "\r", KEY + "\n", " " + KEY, KEY + "\t", KEY[:10] + "\x1b" + KEY[10:], " " * 16],
    ids=["cr", "lf", "leading-space", "tab", "escape", "only-spaces"],
)
def test_a_key_with_stray_whitespace_is_a_config_error_that_never_shows_it(project, refusing_server, bad_key):
    result = push(project, key=bad_key)
    assert result.returncode == 2, result.stderr
    assert KEY_ENV in result.stderr and "set it again" in result.stderr
    assert "Traceback" not in result.stderr
    assert KEY[:8] not in result.stdout + result.stderr
    assert refusing_server.log == []  # refused before any call


@pytest.fixture
def html_answering_server():
    """A captive portal or a wrong base_url: HTTP 200 with an HTML page to every call."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/v1/emails").respond_with_data(
        "<html><body>Please log in</body></html>", content_type="text/html"
    )
    server.start()
    yield server
    server.clear()
    server.stop()


def test_a_provider_answering_200_with_an_html_page_is_a_server_error_exit_3(make_project, html_answering_server):
    root = buttondown_project(make_project, html_answering_server)
    result = push(root)
    assert result.returncode == 3, result.stderr
    assert "text/html, not JSON ('<html><body>Please log in</body></html>')" in result.stderr
    assert "check [provider] base_url" in result.stderr
    assert "Traceback" not in result.stderr
