"""`newsletter preview`, for real: the command started on a free port in a copy of the repo,
its pages fetched over HTTP, files changed on disk and the rebuilt pages served.

Every wait is bounded; the server is stopped (Ctrl+C) after each test.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from helpers import override_template
from preview_process import (
    REBUILD_TIMEOUT,
    START_TIMEOUT,
    running_preview,
    start_preview,
    stop,
    url_from,
)

WEEK = "2026-W48"


@pytest.fixture
def project(make_project):
    return make_project(with_repo_content=True)


@pytest.fixture
def preview(project):
    with running_preview(project, "--week", WEEK) as running:
        yield running


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


ISSUE_NOTE = Path("content/issues/2026-W48.md")
SUBJECT = "Breathe, then wake up your glutes"


# ---------------------------------------------------------------- what it serves


def test_the_preview_page_shows_the_email_as_inbox_phone_and_desktop_see_it(preview):
    status, headers, page = preview.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    text_part = (preview.root / "dist" / "email" / WEEK / "email.txt").read_text(encoding="utf-8")
    assert f'id="inbox-subject">{SUBJECT}</span>' in page
    assert 'id="inbox-preview"> - When your deep core is struggling, your glutes grip' in page
    assert '<iframe name="email-600"' in page and 'width="600"' in page
    assert '<iframe name="email-375"' in page and 'width="375"' in page
    first_text_line = next(line for line in text_part.splitlines() if line.strip())
    assert first_text_line.replace("&", "&amp;") in page  # the plain-text part, shown as it is sent


def test_the_email_is_served_with_its_blog_links_pointing_at_the_local_blog(preview):
    status, headers, html = preview.get("/email/index.html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "https://strongfromwithin.example/" not in html
    assert 'href="/site/articles/why-your-glutes-grip/' in html
    status, headers, text = preview.get("/email/email.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert text == (preview.root / "dist" / "email" / WEEK / "email.txt").read_text(encoding="utf-8")


def test_the_blog_is_served_with_the_live_reload_script(preview):
    status, _, home = preview.get("/site/")
    assert status == 200
    assert "Strong From Within" in home
    assert 'new EventSource("/_preview/events")' in home
    assert home.index("EventSource") < home.rindex("</body>")
    status, _, article = preview.get("/site/articles/why-your-glutes-grip/")
    assert status == 200 and "glutes" in article.lower()


def test_a_folder_without_its_slash_is_redirected_so_relative_links_work(preview):
    connection = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=10)
    connection.request("GET", "/site/articles/why-your-glutes-grip")
    response = connection.getresponse()
    assert (response.status, response.getheader("Location")) == (301, "/site/articles/why-your-glutes-grip/")
    connection.close()


def test_nothing_outside_the_built_site_is_served(preview):
    connection = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=10)
    connection.request("GET", "/site/../../newsletter.toml")
    response = connection.getresponse()
    assert response.status == 404
    assert b"[site]" not in response.read()
    connection.close()


def test_each_stage_version_of_the_week_can_be_previewed(preview):
    """The demo week has `::: only <stage>` paragraphs, so it goes out in one version per stage."""
    assert preview.status()["versions"] == ["pregnant", "postpartum-0-6w", "postpartum-6w-plus", "general"]
    page = preview.get("/?version=pregnant")[2]
    assert 'id="versions"' in page
    assert '<a href="/?version=pregnant" aria-current="page">pregnant</a>' in page
    assert 'src="/email/index.html?version=pregnant&amp;v=' in page
    pregnant = preview.get("/email/index.html?version=pregnant")[2]
    later = preview.get("/email/index.html?version=postpartum-6w-plus")[2]
    assert (
        "make the hip extension a little harder" in pregnant and "make the hip extension a little harder" not in later
    )
    assert "prone leg lift" in later.lower() and "prone leg lift" not in pregnant.lower()
    assert "This week has no version 'twins'" in preview.get("/?version=twins")[2]


# ---------------------------------------------------------------- rebuilding


def test_a_saved_change_is_rebuilt_and_served(preview):
    before = preview.status()
    edit(preview.root / ISSUE_NOTE, f"subject: {SUBJECT}", "subject: A new subject line")
    after = preview.wait_for_build_after(before["tag"])
    assert after["ok"]
    page = preview.get("/")[2]
    assert 'id="inbox-subject">A new subject line</span>' in page
    assert SUBJECT not in page


def test_a_template_change_is_rebuilt(preview):
    before = preview.status()
    edit(override_template(preview.root, "site/base.html.j2"), "</body>", "<p>Template edited.</p></body>")
    assert preview.wait_for_build_after(before["tag"])["ok"]
    assert "Template edited." in preview.get("/site/")[2]


def test_a_change_to_newsletter_toml_is_rebuilt(preview):
    before = preview.status()
    edit(preview.root / "newsletter.toml", 'title = "Strong From Within"', 'title = "Stronger Every Week"')
    assert preview.wait_for_build_after(before["tag"])["ok"]
    assert "Preview: Stronger Every Week" in preview.get("/")[2]


def test_a_broken_edit_shows_its_error_on_the_page_and_fixing_it_recovers(preview):
    before = preview.status()
    broken = preview.root / "content" / "articles" / "broken.md"
    broken.write_text("---\ntitle: Broken\ndate: 2026-13-40\nsummary: x\n---\nBody\n", encoding="utf-8")

    failed = preview.wait_for_build_after(before["tag"])
    assert not failed["ok"]
    assert failed["errors"][0].startswith("content/articles/broken.md:3: ")
    page = preview.get("/")[2]
    assert 'id="newsletter-preview-error"' in page
    assert "content/articles/broken.md:3: " in page
    assert f'id="inbox-subject">{SUBJECT}</span>' in page  # the last good email is still shown
    assert "content/articles/broken.md:3: " in preview.get("/site/")[2]  # on the blog's pages too
    assert preview.get("/email/index.html")[0] == 200

    broken.unlink()
    fixed = preview.wait_for_build_after(failed["tag"])
    assert fixed["ok"] and fixed["errors"] == []
    assert 'id="newsletter-preview-error"' not in preview.get("/")[2]
    assert preview.process.poll() is None


def test_the_event_stream_announces_each_finished_build(preview):
    port = preview.port
    with socket.create_connection(("127.0.0.1", port), timeout=REBUILD_TIMEOUT) as connection:
        connection.sendall(b"GET /_preview/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        stream = connection.makefile("rb")
        assert b"text/event-stream" in b"".join(iter(stream.readline, b"\r\n"))

        def next_data() -> str:
            for line in iter(stream.readline, b""):
                if line.startswith(b"data: "):
                    return line[len(b"data: ") :].decode().strip()
            pytest.fail("the event stream ended")

        current = next_data()
        assert current == preview.status()["tag"]
        edit(preview.root / ISSUE_NOTE, f"subject: {SUBJECT}", "subject: Another subject")
        announced = next_data()
        assert announced != current
        assert announced == preview.status()["tag"]
        assert "Another subject" in preview.get("/")[2]  # announced only once the build is served


# ---------------------------------------------------------------- starting and stopping


def test_ctrl_c_stops_the_server(project):
    process, lines, fresh = start_preview(project, "--week", WEEK)
    url = url_from(fresh, lines, process)
    assert stop(process) == 0, "".join(lines)  # on a hang: every thread's stack (stop())
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)
    assert "Preview stopped." in "".join(lines)


def test_ctrl_c_stops_a_preview_started_as_a_background_job(project):
    process, lines, fresh = start_preview(project, "--week", WEEK, as_background_job=True)
    url_from(fresh, lines, process)
    assert stop(process) == 0, "".join(lines)
    assert "Preview stopped." in "".join(lines)


def test_a_port_in_use_is_a_clear_error(project):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", "preview", "--root", str(project), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
    assert result.returncode == 2
    assert f"port {port} is already in use" in result.stderr


def test_a_week_without_an_email_says_so(project):
    with running_preview(project, "--week", "2026-W10") as running:
        page = running.get("/")[2]
    assert "No email for 2026-W10" in page
    assert "--week latest" in page


def test_a_project_that_does_not_build_at_first_still_starts_and_recovers(project):
    broken = project / "content" / "articles" / "broken.md"
    broken.write_text("---\ntitle: Broken\n---\n", encoding="utf-8")
    with running_preview(project, "--week", WEEK) as running:
        first = running.status()
        assert not first["ok"]
        assert "Nothing has built yet" in running.get("/")[2]
        broken.unlink()
        assert running.wait_for_build_after(first["tag"])["ok"]
        assert f'id="inbox-subject">{SUBJECT}</span>' in running.get("/")[2]
