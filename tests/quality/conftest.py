"""Session fixtures of the quality checks: the two builds, one local web server for the built
output, one Chromium driven by Playwright, one SpamAssassin daemon.

Tests are parametrised by what they look at (a page, a template, the email of a build); the
builds run once, at collection, so each page gets a test id of its own.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from . import quality_support as qs


def pytest_generate_tests(metafunc):
    names = metafunc.fixturenames
    for fixture, targets in (
        ("site_file", qs.page_targets),
        ("template_target", qs.template_targets),
        ("phone_target", qs.phone_targets),
    ):
        if fixture in names:
            chosen = targets()
            metafunc.parametrize(fixture, chosen, ids=[t.id for t in chosen])
    if "build_name" in names:
        metafunc.parametrize("build_name", qs.BUILD_NAMES)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    qs.cleanup_session_dir()


@pytest.fixture
def build(build_name) -> qs.Build:
    return qs.get_build(build_name).ensure_ok()


@pytest.fixture(scope="session")
def demo_build() -> qs.Build:
    return qs.get_build("demo").ensure_ok()


@pytest.fixture(scope="session")
def fixture_build() -> qs.Build:
    return qs.get_build("fixture").ensure_ok()


# ---------------------------------------------------------------- a local web server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def end_headers(self):
        self.send_header("LinkChecker", "allow")  # lets LinkChecker exceed 10 requests/s on our own server
        super().end_headers()


@dataclass
class SiteServer:
    """Serves the session folder: <url>/<build>/dist/site/ is a blog, under a sub-path on purpose
    (links that assume the site sits at the domain root break here, as they would in a subfolder)."""

    url: str
    root: Path

    def site_url(self, build: qs.Build, page: str = "") -> str:
        """The page's address as a reader follows it: a folder URL for an index.html."""
        url = self.file_url(build.site_dir / page) if page else self.file_url(build.site_dir) + "/"
        return url.removesuffix("index.html") if url.endswith("/index.html") else url

    def file_url(self, path: Path) -> str:
        return f"{self.url}/{path.relative_to(self.root).as_posix()}"


@pytest.fixture(scope="session")
def site_server():
    root = qs.session_dir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SiteServer(url=f"http://127.0.0.1:{server.server_address[1]}", root=root)
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- one browser


@dataclass
class OpenPage:
    page: object  # playwright Page
    blocked: list[str]  # requests to the internet that were refused


@pytest.fixture
def open_target(browser, site_server):
    """open_target(target, width=1280, dark=False, phone=False) -> OpenPage with the page loaded.

    Blog pages come from the local server; the email is the HTML part of the .eml. Requests for
    the site's own absolute URLs (the email's images and links) are answered from dist/site/;
    anything else that would leave the machine is refused and listed."""
    contexts = []

    def open_(target: qs.Target, width: int = 1280, dark: bool = False, phone: bool = False) -> OpenPage:
        build = target.build
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            color_scheme="dark" if dark else "light",
            device_scale_factor=1,
            is_mobile=phone,  # honours <meta name="viewport"> as a phone does
            has_touch=phone,
        )
        contexts.append(context)
        blocked: list[str] = []
        context.route("**/*", functools.partial(_route_offline, build=build, server=site_server, blocked=blocked))
        page = context.new_page()
        url = (
            site_server.file_url(build.email_html_file) if target.is_email else site_server.site_url(build, target.page)
        )
        page.goto(url, wait_until="load")
        return OpenPage(page=page, blocked=blocked)

    yield open_
    for context in contexts:
        context.close()


def _route_offline(route, request, build: qs.Build, server: SiteServer, blocked: list[str]):
    url = request.url
    if url.startswith((server.url + "/", "data:", "blob:")):
        return route.continue_()
    base = build.config.base_url
    if url.startswith(base):
        path = urlsplit(url).path[len(urlsplit(base).path) :]
        local = build.site_dir / path
        if local.is_dir():
            local = local / "index.html"
        if local.is_file():
            return route.fulfill(path=str(local))
        return route.fulfill(status=404, body="not in dist/site")
    blocked.append(url)
    return route.abort("blockedbyclient")


# ---------------------------------------------------------------- one SpamAssassin daemon


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SpamDaemon:
    port: int
    spamc: str

    def report(self, message: bytes) -> str:
        """spamc's report: first line `score/threshold`, then the rules that hit."""
        result = subprocess.run(
            [self.spamc, "-d", "127.0.0.1", "-p", str(self.port), "-x", "-s", "10000000", "-R"],
            input=message,
            capture_output=True,
            timeout=120,
        )
        if result.returncode not in (0, 1) or not result.stdout:
            pytest.fail(
                f"spamc failed (exit {result.returncode}): {result.stderr.decode(errors='replace')}", pytrace=False
            )
        return result.stdout.decode("utf-8", errors="replace")


@pytest.fixture(scope="session")
def spamd(tmp_path_factory):
    spamd_bin = qs.require_command("spamd", "/usr/sbin/spamd")
    spamc = qs.require_command("spamc")
    home = tmp_path_factory.mktemp("spamd-home")
    os.chmod(home, 0o777)
    log_path = home / "spamd.log"
    port = free_port()
    command = [
        spamd_bin,
        "--local",
        "--nouser-config",
        "--listen",
        f"127.0.0.1:{port}",
        "--max-children",
        "2",
        "--helper-home-dir",
        str(home),
        "--syslog",
        "stderr",
        "--cf",
        "use_bayes 0",
        "--cf",
        "bayes_auto_learn 0",  # same score every run: no learning
    ]
    if os.geteuid() == 0:
        command += ["--username", "nobody"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_spamd(process, spamc, port, log_path)
        yield SpamDaemon(port=port, spamc=spamc)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_spamd(process, spamc: str, port: int, log_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"spamd exited ({process.returncode}) at start:\n{log_path.read_text(errors='replace')[-2000:]}",
                pytrace=False,
            )
        ping = subprocess.run([spamc, "-d", "127.0.0.1", "-p", str(port), "-K"], capture_output=True)
        if ping.returncode == 0:
            return
        time.sleep(0.2)
    pytest.fail(
        f"spamd did not answer on 127.0.0.1:{port} within {timeout:.0f} "
        f"s:\n{log_path.read_text(errors='replace')[-2000:]}",
        pytrace=False,
    )
