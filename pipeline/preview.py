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
  failed, the page also shows its errors, `file:line: message`, over the last good output.
"""
from __future__ import annotations

import errno
import json
import mimetypes
import posixpath
import secrets
import signal
import threading
import time
import traceback
import webbrowser
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import jinja2
import watchfiles
from markupsafe import Markup

from .clock import now as utc_now
from .build import BuildResult, EmailBuild, build
from .checks.email import PREVIEW_TEXT_LIMIT, SUBJECT_LIMIT
from .config import CONFIG_FILE, Config, load_config
from .console import Output, seconds
from .errors import ContentErrors, PipelineError

HOST = "127.0.0.1"
KEEPALIVE_SECONDS = 15  # an SSE comment this often keeps proxies and the browser from giving up
WATCH_STEP_MS = 30  # how long the files must be quiet before a batch of changes is reported
EMAIL_FILES = {"index.html": "text/html; charset=utf-8", "email.txt": "text/plain; charset=utf-8", "email.eml": "message/rfc822"}


# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class Snapshot:
    """What the preview shows: the last good build, and the errors of the last build if it failed."""

    tag: str  # changes with every finished build; the pages reload when it does
    errors: list[str] = field(default_factory=list)  # "file:line: message" lines; empty when the last build worked
    good: BuildResult | None = None  # the last build that worked
    config: Config | None = None  # the config of that build
    finished_at: datetime | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


class Builder:
    """Runs builds on request on one thread, and tells waiting pages when one has finished."""

    def __init__(self, root: Path, week: str, output: Output):
        self.root = root
        self.week = week
        self.output = output
        self._instance = secrets.token_hex(4)  # a restarted server's pages reload too
        self._count = 0
        self._snapshot = Snapshot(tag=self._next_tag())
        self._changed = threading.Condition()
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="preview-builder", daemon=True)

    def _next_tag(self) -> str:
        self._count += 1
        return f"{self._instance}-{self._count}"

    @property
    def snapshot(self) -> Snapshot:
        with self._changed:
            return self._snapshot

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def rebuild(self) -> Snapshot:
        """Build now, on the calling thread; returns the new snapshot."""
        started = time.perf_counter()
        errors, result, config = [], None, None
        try:
            config = load_config(self.root)
            result = build(config, self.week)
        except ContentErrors as failure:
            errors = [str(error) for error in failure.errors]
        except PipelineError as failure:
            errors = str(failure).splitlines() or [type(failure).__name__]
        except Exception as failure:  # a bug must not stop the preview: show it, keep serving
            errors = [f"internal error: {type(failure).__name__}: {failure} (details in the terminal)"]
            self.output.error(traceback.format_exc())
        elapsed = time.perf_counter() - started
        with self._changed:
            previous = self._snapshot
            self._snapshot = Snapshot(
                tag=self._next_tag(),
                errors=errors,
                good=result or previous.good,
                config=config if result else previous.config,
                finished_at=utc_now().astimezone(),  # the writer's own clock, for the terminal
                seconds=elapsed,
            )
            self._changed.notify_all()
        self._report(self._snapshot)
        return self._snapshot

    def _report(self, snapshot: Snapshot) -> None:
        clock = snapshot.finished_at.strftime("%H:%M:%S")
        if snapshot.ok:
            count = len(snapshot.good.emails)
            emails = f"{count} versions of the {snapshot.good.week} email" if count > 1 else f"the {snapshot.good.week} email"
            what = f"{emails} and the blog" if count else f"the blog ({snapshot.good.week} has no email)"
            self.output.info(f"{clock} built {what} in {seconds(snapshot.seconds)}", style="green")
        else:
            self.output.error(f"{clock} the build failed; the preview shows the last good version and these errors:")
            for line in snapshot.errors:
                self.output.error(f"  {line}")

    def request(self) -> None:
        """Ask for a build soon; requests during a build cause one more build after it."""
        self._wanted.set()

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if self._wanted.wait(timeout=0.2) and not self._stopping.is_set():
                self._wanted.clear()
                self.rebuild()

    def wait_for_change(self, seen: str | None, timeout: float) -> Snapshot:
        """The snapshot as soon as its tag differs from `seen`, or after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self._snapshot.tag != seen or self._stopping.is_set(), timeout=timeout)
            return self._snapshot

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=30)


# ---------------------------------------------------------------- watching


class Watcher:
    """Calls `on_change` when a file changes under content/ or templates/, or newsletter.toml."""

    def __init__(self, root: Path, on_change):
        self.root = root
        self.on_change = on_change
        self._stop = threading.Event()
        folders = [root / name for name in ("content", "templates") if (root / name).is_dir()]
        self._threads = [
            threading.Thread(target=self._watch, args=(folders, True, None), name="preview-watch", daemon=True),
            # The project folder itself, not recursively (dist/ and .venv/ are in it), for newsletter.toml only.
            threading.Thread(target=self._watch, args=([root], False, self._is_config), name="preview-watch-config", daemon=True),
        ]
        if not folders:
            self._threads.pop(0)

    def _is_config(self, change, path: str) -> bool:
        return Path(path).name == CONFIG_FILE

    def _watch(self, paths: list[Path], recursive: bool, only) -> None:
        watch_filter = only or watchfiles.DefaultFilter()
        for _changes in watchfiles.watch(
            *paths, watch_filter=watch_filter, step=WATCH_STEP_MS, stop_event=self._stop,
            recursive=recursive, raise_interrupt=False, rust_timeout=500,
        ):
            self.on_change()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


# ---------------------------------------------------------------- serving


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, builder: Builder, output: Output):
        self.builder = builder
        self.output = output
        try:
            super().__init__((HOST, port), PreviewHandler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PipelineError(f"port {port} is already in use: choose another with --port, or --port 0 for any free port") from None
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
        self.server.output.detail(f"{self.address_string()} {format % args}")


def _inside(folder: Path, relative: str) -> Path | None:
    """`folder/relative`, or None if `relative` tries to leave the folder."""
    normal = posixpath.normpath("/" + relative).lstrip("/")
    if normal.startswith(".."):
        return None
    return folder / normal if normal not in ("", ".") else folder


def chosen_version(good: BuildResult | None, version: str | None) -> EmailBuild | None:
    """The email version asked for by stage name; by default the one for readers without a stage."""
    if good is None or not good.emails:
        return None
    if version:
        return next((built for built in good.emails if built.stage == version), None)
    return good.email or good.emails[0]


def status(snapshot: Snapshot) -> dict:
    good = snapshot.good
    return {
        "tag": snapshot.tag,
        "ok": snapshot.ok,
        "errors": snapshot.errors,
        "week": good.week if good else None,
        "email": bool(good and good.emails),
        "versions": [built.stage for built in good.emails] if good else [],
        "seconds": round(snapshot.seconds, 3),
    }


# ---------------------------------------------------------------- pages

_PAGES = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)

ERROR_PANEL = _PAGES.from_string("""
<div id="newsletter-preview-error" role="alert" style="{{ position }}z-index:2147483647;max-height:60vh;overflow:auto;margin:0;padding:16px 20px;background:#fff4f2;color:#7a1200;border-bottom:3px solid #c42b1c;font:15px/1.5 system-ui,sans-serif;box-shadow:0 4px 16px rgba(0,0,0,.2)">
{%- if closable %}<button type="button" onclick="this.parentNode.remove()" aria-label="Hide" style="float:right;font:inherit;border:0;background:none;color:inherit;cursor:pointer">&times;</button>{% endif %}
<strong>The last change did not build.</strong> Showing the last version that did. Fix this and save:
<pre style="margin:8px 0 0;white-space:pre-wrap;font:14px/1.5 ui-monospace,monospace">{{ errors | join("\n") }}</pre>
</div>
""")

RELOAD_SCRIPT = _PAGES.from_string("""
{%- if errors %}{{ error_panel(errors, "position:fixed;left:0;right:0;top:0;", true) }}{% endif %}
<script>
(function () {
  var shown = {{ tag | tojson }};
  var events = new EventSource("/_preview/events");
  events.onmessage = function (event) {
    if (event.data !== shown) { events.close(); window.location.reload(); }
  };
})();
</script>
""")

NOT_FOUND_PAGE = _PAGES.from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found - preview</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;margin:2em">
<h1>Not in this build</h1>
<p>Nothing is built at <code>{{ path }}</code>. <a href="/">Back to the preview</a> or <a href="/site/">the blog</a>.</p>
</body></html>
""")

PREVIEW_PAGE = _PAGES.from_string("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preview{% if email %}: {{ email.subject }}{% endif %}</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; background: #eef0f3; }
  header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; padding: 12px 24px; background: #fff; border-bottom: 1px solid #d5d8dd; }
  header h1 { font-size: 18px; margin: 0; }
  header nav a { margin-right: 14px; }
  .status { font-size: 14px; color: #2f6b2f; }
  .status.failed { color: #a4200f; font-weight: 600; }
  main { padding: 16px 24px 48px; }
  h2 { font-size: 16px; margin: 24px 0 8px; }
  .notice { background: #fff; border: 1px solid #d5d8dd; border-radius: 8px; padding: 16px; max-width: 900px; }
  .inboxes { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
  .inbox { background: #fff; border: 1px solid #d5d8dd; border-radius: 8px; overflow: hidden; }
  .inbox .label { font-size: 12px; color: #5b6068; padding: 6px 12px; border-bottom: 1px solid #e6e8eb; }
  .row { display: flex; gap: 8px; padding: 10px 12px; white-space: nowrap; overflow: hidden; width: 600px; box-sizing: border-box; }
  .row .sender { font-weight: 700; flex: 0 0 150px; overflow: hidden; text-overflow: ellipsis; }
  .row .line { overflow: hidden; text-overflow: ellipsis; }
  .subject { font-weight: 700; }
  .preheader { color: #5b6068; }
  .phone-row { width: 375px; box-sizing: border-box; padding: 10px 14px; }
  .phone-row .sender { font-weight: 700; }
  .phone-row .subject { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .phone-row .preheader { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
  .counts { font-size: 13px; color: #5b6068; margin: 6px 0 0; }
  .counts .over { color: #a4200f; font-weight: 600; }
  .frames { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
  figure { margin: 0; }
  figcaption { font-size: 13px; color: #5b6068; margin-bottom: 6px; }
  iframe { display: block; border: 0; background: #fff; box-shadow: 0 1px 4px rgba(0,0,0,.15); height: 1200px; }
  .versions { margin: 0 0 8px; }
  .versions a { margin-left: 10px; }
  .versions a[aria-current] { font-weight: 700; color: inherit; text-decoration: none; }
  pre.text { background: #fff; border: 1px solid #d5d8dd; border-radius: 8px; padding: 16px; max-width: 80ch; white-space: pre-wrap; font: 13px/1.5 ui-monospace, monospace; }
</style>
</head>
<body>
<header>
  <h1>Preview: {{ site_title }}{% if week %}, {{ week }}{% endif %}</h1>
  {% if ok %}<span class="status" id="build-status">Built at {{ finished }} in {{ took }}</span>
  {% else %}<span class="status failed" id="build-status">The last change did not build</span>{% endif %}
  <nav><a href="/site/">The blog</a>{% if email %}<a href="/email/index.html{{ query }}">Email HTML</a><a href="/email/email.txt{{ query }}">Text part</a><a href="/email/email.eml{{ query }}">.eml</a>{% endif %}</nav>
</header>
{% if errors %}{{ error_panel(errors, "", false) }}{% endif %}
<main>
{% if versions | length > 1 %}
  <nav class="versions" id="versions" aria-label="Versions of this week's email">This week has a version per reader stage:
  {% for label, href, current in versions %}<a href="{{ href }}"{% if current %} aria-current="page"{% endif %}>{{ label }}</a>{% endfor %}</nav>
{% endif %}
{% if not email %}
  <div class="notice" id="no-email">
  {% if week and versions %}<p><strong>This week has no version '{{ asked }}'.</strong> Pick one of the versions above.</p>
  {% elif week %}<p><strong>No email for {{ week }}:</strong> no article dated in that week is ready to send.
    Date an article in it, or preview another week: <code>newsletter preview --week latest</code>.</p>
  {% else %}<p><strong>Nothing has built yet.</strong> Fix the errors above and save; this page reloads by itself.</p>{% endif %}
  </div>
{% else %}
  <h2>In the inbox</h2>
  <div class="inboxes">
    <div class="inbox">
      <div class="label">Desktop</div>
      <div class="row"><span class="sender">{{ sender }}</span>
        <span class="line"><span class="subject" id="inbox-subject">{{ email.subject }}</span>
        <span class="preheader" id="inbox-preview"> - {{ email.preview_text }}</span></span></div>
    </div>
    <div class="inbox">
      <div class="label">Phone</div>
      <div class="phone-row"><div class="sender">{{ sender }}</div>
        <div class="subject">{{ email.subject }}</div><div class="preheader">{{ email.preview_text }}</div></div>
    </div>
  </div>
  <p class="counts">Subject: <span{% if email.subject | length > subject_limit %} class="over"{% endif %}>{{ email.subject | length }} characters</span> (inboxes show about {{ subject_limit }}).
    Preview text: <span{% if email.preview_text | length > preview_limit %} class="over"{% endif %}>{{ email.preview_text | length }} characters</span> (inboxes show at most {{ preview_limit }}).
    HTML: {{ size_kb }} KB (Gmail clips over 102 KB).</p>

  <h2>The email</h2>
  <div class="frames">
    <figure><figcaption>Desktop, 600 px</figcaption>
      <iframe name="email-600" id="email-600" title="The email at 600 pixels wide" src="/email/index.html?{{ frame_query }}" width="600"></iframe></figure>
    <figure><figcaption>Phone, 375 px</figcaption>
      <iframe name="email-375" id="email-375" title="The email at 375 pixels wide" src="/email/index.html?{{ frame_query }}" width="375"></iframe></figure>
  </div>

  <h2>Plain-text part</h2>
  <pre class="text" id="text-part">{{ email.text }}</pre>
{% endif %}
</main>
<script>
  // Each frame as tall as its email, so the page scrolls instead of the frames.
  document.querySelectorAll("iframe").forEach(function (frame) {
    frame.addEventListener("load", function () {
      var doc = frame.contentDocument;
      if (doc) { frame.style.height = doc.documentElement.scrollHeight + "px"; }
    });
  });
</script>
</body>
</html>
""")


def preview_page(snapshot: Snapshot, version: str | None = None) -> str:
    good, config = snapshot.good, snapshot.config
    chosen = chosen_version(good, version)
    email = chosen.email if chosen else None
    query = f"?version={quote(chosen.stage)}" if chosen and chosen.stage else ""
    page = PREVIEW_PAGE.render(
        versions=_versions(good, chosen),
        asked=version or "",
        query=query,
        frame_query=(query.lstrip("?") + "&" if query else "") + f"v={snapshot.tag}",
        site_title=config.site.title if config else "newsletter",
        sender=config.email.sender_name if config else "",
        week=good.week if good else None,
        ok=snapshot.ok,
        finished=snapshot.finished_at.strftime("%H:%M:%S") if snapshot.finished_at else "",
        took=seconds(snapshot.seconds),
        email=email,
        size_kb=f"{len(email.html.encode()) / 1024:.1f}" if email else "0",
        subject_limit=SUBJECT_LIMIT,
        preview_limit=PREVIEW_TEXT_LIMIT,
        tag=snapshot.tag,
        errors=snapshot.errors,
    )
    return with_reload_script(page, snapshot, overlay=False)


def _versions(good: BuildResult | None, chosen: EmailBuild | None) -> list[tuple[str, str, bool]]:
    """(label, link, is the one shown) for each version of the week's email."""
    if good is None:
        return []
    return [
        (built.stage or "everyone", f"/?version={quote(built.stage)}" if built.stage else "/", built is chosen)
        for built in good.emails
    ]


def error_panel(errors: list[str], position: str, closable: bool) -> Markup:
    return Markup(ERROR_PANEL.render(errors=errors, position=position, closable=closable))


_PAGES.globals["error_panel"] = error_panel


def with_reload_script(page: str, snapshot: Snapshot, overlay: bool = True) -> str:
    """The page with the live-reload script before </body>, and over it the last build's errors
    (the preview page shows them in its own layout instead: `overlay=False`)."""
    script = RELOAD_SCRIPT.render(tag=snapshot.tag, errors=snapshot.errors if overlay else [])
    position = page.lower().rfind("</body>")
    return page + script if position < 0 else page[:position] + script + page[position:]


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


def start_preview(root: Path, week: str, port: int, output: Output) -> RunningPreview:
    """Build once, then serve and watch in the background; `stop()` ends it all."""
    builder = Builder(Path(root).resolve(), week, output)
    builder.rebuild()
    server = PreviewServer(port, builder, output)
    watcher = Watcher(builder.root, builder.request)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="preview-server", daemon=True)
    builder.start()
    watcher.start()
    thread.start()
    return RunningPreview(builder, watcher, server, thread)


def serve(root: Path, week: str, port: int, output: Output, open_browser: bool = False) -> None:
    """`newsletter preview`: run until Ctrl+C (or SIGTERM)."""
    running = start_preview(root, week, port, output)
    # SIGINT as well: a process started from a background job inherits it ignored, and Python
    # then never raises KeyboardInterrupt - Ctrl+C or `kill -INT` would do nothing.
    previous_handlers = {number: signal.signal(number, _interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        output.print((f"Preview: {running.url}", "bold"))  # even with --quiet: it is what the command is for
        output.info("Watching content/, templates/ and newsletter.toml; the page reloads after each change. Ctrl+C stops.")
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
    output.info("Preview stopped.")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
