"""`newsletter preview`: the blog and the week's email on http://127.0.0.1:PORT/, rebuilt on every
change and reloaded in the browser by itself.

Three parts, each on its own thread:

- `Builder` runs the same `build()` as `newsletter build` whenever asked, one build at a time,
  and keeps the outcome: the last good build (still what dist/ holds, since a failed build
  leaves dist/ untouched) and the errors of the last failed one. Every finished build, good or
  bad, gets a new version.
- `Watcher` (watchfiles) asks for a build when anything changes under content/ or templates/,
  or newsletter.toml.
- `PreviewServer` (stdlib http.server) serves `/` (the email side by side at 600 and 375 px, as
  an inbox shows its subject and preview text, with its plain-text part), `/site/` (the blog),
  `/email/` (the email's files) and `/_preview/events`, a Server-Sent Events stream of the build
  version. Every HTML page it serves carries a small script that reloads the page when the
  version changes, so the reload comes only after the build has finished; when the last build
  failed, the page also shows its errors, `file:line: message`, over the last good console.
"""

from __future__ import annotations

import errno
import json
import mimetypes
import posixpath
import signal
import threading
import time
import webbrowser
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from pipeline.authoring.preview.builder import Builder, RunBuild, Snapshot
from pipeline.authoring.preview.pages import (
    NOT_FOUND_PAGE,
    chosen_version,
    preview_page,
    status,
    with_reload_script,
)
from pipeline.authoring.preview.watcher import Watcher
from pipeline.core.errors import PipelineError
from pipeline.core.paths import resolves_inside
from pipeline.tools.console import Console

HOST = "127.0.0.1"
KEEPALIVE_SECONDS = 15  # an SSE comment this often keeps proxies and the browser from giving up
EMAIL_FILES = {
    "index.html": "text/html; charset=utf-8",
    "email.txt": "text/plain; charset=utf-8",
    "email.eml": "message/rfc822",
}


# ---------------------------------------------------------------- serving


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, builder: Builder, console: Console):
        self.builder = builder
        self.console = console
        try:
            super().__init__((HOST, port), PreviewHandler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PipelineError(
                    f"port {port} is already in use: choose another with --port, or --port 0 for any free port"
                ) from None
            raise

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.0"  # one request per connection: simple, and the event stream ends with it

    head_only = False

    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        self.head_only = True
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        version = parse_qs(parts.query).get("version", [""])[0] or None  # a stage's version of the email
        snapshot = self.server.builder.snapshot
        try:
            if path == "/":
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", preview_page(snapshot, version).encode())
            elif path == "/_preview/events" and not self.head_only:
                self._events()
            elif path == "/_preview/status":
                self._send(HTTPStatus.OK, "application/json", json.dumps(status(snapshot)).encode())
            elif path == "/site":
                self._redirect("/site/")
            elif path.startswith("/site/"):
                self._site_file(snapshot, path.removeprefix("/site/"))
            elif path.startswith("/email/"):
                self._email_file(snapshot, path.removeprefix("/email/"), version)
            else:
                self._not_found(snapshot)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a reload, a closed tab)

    def _site_file(self, snapshot: Snapshot, relative: str) -> None:
        site = snapshot.good.site_dir if snapshot.good else None
        target = _inside(site, relative) if site else None
        if target is not None and target.is_dir():
            if relative and not relative.endswith("/"):
                return self._redirect(f"/site/{relative}/")  # relative links need the trailing slash
            target = target / "index.html"
        if target is None or not target.is_file():
            return self._not_found(snapshot)
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        body = target.read_bytes()
        if content_type == "text/html":
            body = with_reload_script(body.decode("utf-8", "replace"), snapshot).encode()
            content_type += "; charset=utf-8"
        self._send(HTTPStatus.OK, content_type, body)

    def _email_file(self, snapshot: Snapshot, name: str, version: str | None) -> None:
        email = chosen_version(snapshot.good, version)
        if email is None or name not in EMAIL_FILES or not (email.directory / name).is_file():
            return self._not_found(snapshot)
        body = (email.directory / name).read_bytes()
        if name == "index.html":
            # The email links to the blog at its real address; point those links at the local build.
            body = body.replace(snapshot.config.base_url.encode(), b"/site/")
        self._send(HTTPStatus.OK, EMAIL_FILES[name], body)

    def _events(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(b"retry: 500\n\n")
        builder, seen = self.server.builder, None
        while not builder.stopping:
            snapshot = builder.wait_for_change(seen, timeout=KEEPALIVE_SECONDS)
            if builder.stopping:
                break
            if snapshot.tag != seen:
                seen = snapshot.tag
                self.wfile.write(f"data: {seen}\n\n".encode())
            else:
                self.wfile.write(b": keep-alive\n\n")
            self.wfile.flush()

    def _not_found(self, snapshot: Snapshot) -> None:
        page = NOT_FOUND_PAGE.render(path=self.path)
        self._send(HTTPStatus.NOT_FOUND, "text/html; charset=utf-8", with_reload_script(page, snapshot).encode())

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status_code: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status_code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not self.head_only:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        self.server.console.detail(f"{self.address_string()} {format % args}")


def _inside(folder: Path, relative: str) -> Path | None:
    """`folder/relative`, or None if `relative` tries to leave the folder."""
    normal = posixpath.normpath("/" + relative).lstrip("/")
    if normal.startswith(".."):
        return None
    target = folder / normal if normal not in ("", ".") else folder
    return target if resolves_inside(target, folder) else None  # a symbolic link out of dist/ is not served


# ---------------------------------------------------------------- running


@dataclass
class RunningPreview:
    builder: Builder
    watcher: Watcher
    server: PreviewServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.watcher.stop()
        self.builder.stop()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def start_preview(root: Path, week: str, port: int, console: Console, run_build: RunBuild) -> RunningPreview:
    """Build once, then serve and watch in the background; `stop()` ends it all. `run_build` is
    the same build `newsletter build` runs, given by the command line (cli/main.py)."""
    builder = Builder(Path(root).resolve(), week, console, run_build)
    builder.rebuild()
    server = PreviewServer(port, builder, console)
    watcher = Watcher(builder.root, builder.request)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="preview-server", daemon=True
    )
    builder.start()
    watcher.start()
    thread.start()
    return RunningPreview(builder, watcher, server, thread)


def serve(root: Path, week: str, port: int, console: Console, run_build: RunBuild, open_browser: bool = False) -> None:
    """`newsletter preview`: run until Ctrl+C (or SIGTERM)."""
    running = start_preview(root, week, port, console, run_build)
    # SIGINT as well: a process started from a background job inherits it ignored, and Python
    # then never raises KeyboardInterrupt - Ctrl+C or `kill -INT` would do nothing.
    previous_handlers = {number: signal.signal(number, _interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        console.print((f"Preview: {running.url}", "bold"))  # even with --quiet: it is what the command is for
        console.info(
            "Watching content/, templates/ and newsletter.toml; the page reloads after each change. Ctrl+C stops."
        )
        if open_browser:
            webbrowser.open(running.url)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for number, handler in previous_handlers.items():
            signal.signal(number, handler)
        running.stop()
    console.info("Preview stopped.")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
