"""A reader's whole path, end to end: real Chromium on the blog's form, the real `newsletter
serve` (waitress) in its own process, a real SMTP server (aiosmtpd) as the relay, and the next
`push` over that relay. axe-core checks the form and the service's pages at 375 and 1280 px."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from helpers import REPO
from test_smtp import Mailbox, free_port, smtp_server, toml
from test_stages_smtp import WEEK, push_versions, version_received

from pipeline.core.config import load_config
from pipeline.deliver.subscribers import ACTIVE, SubscriberStore
from tests.quality import quality_support as qs

SECRET = "a-long-random-secret-for-the-journey-test"
ENV = {"NEWSLETTER_UNSUBSCRIBE_SECRET": SECRET, "NEWSLETTER_SMTP_PASSWORD": "unused"}
LINK = re.compile(r"https?://\S+/(confirm|preferences)/\?token=[A-Za-z0-9_.-]+")


def python_env() -> dict[str, str]:
    """Our code first on the path, keeping what is there (a shifted clock: tests/clock_shift/)."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, **ENV, "PYTHONPATH": path}


class Server:
    """`newsletter serve` in a process of its own, stopped with Ctrl+C (SIGINT) as a person would."""

    def __init__(self, root, port: int):
        env = python_env()
        command = [sys.executable, "-m", "pipeline", "serve", "--root", str(root), "--port", str(port)]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{port}"
        self.first_line = self.process.stdout.readline()

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=30)
        return self.process.returncode, self.first_line + out + err


def wait_for_mail(mailbox: Mailbox, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(mailbox.messages) < count:
        assert time.monotonic() < deadline, f"only {len(mailbox.messages)} of {count} emails arrived"
        time.sleep(0.1)


def link_in(message, purpose: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return next(found.group(0) for found in LINK.finditer(text) if found.group(1) == purpose)


def assert_no_axe_violations(page, what: str) -> None:
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        violations = qs.run_axe(page)["violations"]
        assert not violations, f"{what} at {width} px: " + "; ".join(
            f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in violations
        )


@pytest.fixture
def journey_project(make_project):
    def make(smtp_port: int, service_port: int):
        root = make_project(with_repo_content=True)
        config_text = toml(smtp_port) + f'\n[readers]\nurl = "http://127.0.0.1:{service_port}"\n'
        (root / "newsletter.toml").write_text(config_text, encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", "build", "--week", WEEK, "--root", str(root)],
            env=python_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return root

    return make


def test_a_reader_signs_up_confirms_changes_stage_and_gets_that_version_next(browser, journey_project):
    mailbox = Mailbox()
    service_port = free_port()
    with smtp_server(mailbox) as smtp:
        root = journey_project(smtp.port, service_port)
        server = Server(root, service_port)
        context = browser.new_context(bypass_csp=True)  # our pages forbid scripts; axe-core is injected
        try:
            page = context.new_page()
            # The blog's form, as the service serves the built blog.
            page.goto(f"{server.url}/articles/why-your-glutes-grip/")
            assert_no_axe_violations(page, "an article page with the form")
            page.fill("#signup-email", "ann@example.com")
            page.fill("#signup-name", "Ann")
            page.check("input[name=where][value=pregnant]")
            page.fill("#signup-due", (date.today() + timedelta(days=120)).isoformat())
            page.check("#signup-consent")
            page.click(".signup__form button[type=submit]")
            assert page.locator("h1").inner_text() == "Check your inbox"

            wait_for_mail(mailbox, 1)
            confirmation = mailbox.parsed()[0]
            assert confirmation["Subject"] == "Confirm your subscription to Strong From Within"
            page.goto(link_in(confirmation, "confirm"))
            assert_no_axe_violations(page, "the confirmation page")
            page.click("button[type=submit]")
            assert page.locator("h1").inner_text() == "You are subscribed"

            wait_for_mail(mailbox, 2)
            welcome = mailbox.parsed()[1]
            text = " ".join(welcome.get_body(("plain",)).get_content().split())
            assert welcome["Subject"] == "Welcome to Strong From Within"
            assert "While you are pregnant" in text and "In the first weeks after the birth" not in text

            page.goto(link_in(welcome, "preferences"))
            assert page.locator("input[name=where][value=pregnant]").is_checked()
            assert_no_axe_violations(page, "the preferences page")
            page.check("input[name=where][value=had-baby]")
            page.fill("#due_date", "")
            page.click("button[value=save]")
            assert "Saved" in page.content()

            page.goto(f"{server.url}/subscribe/")
            page.fill("#email", "not-an-address")
            page.click("button[value=save]")
            assert page.locator("#email-error").is_visible()
            assert page.locator("#email").get_attribute("aria-describedby") == "email-error"
            assert_no_axe_violations(page, "the form with an error")
        finally:
            context.close()
            code, output = server.stop()
        assert code == 0, output
        assert "ann@example.com" not in output and "Traceback" not in output

        with SubscriberStore.for_config(load_config(root)) as store:
            ann = store.get("ann@example.com")
        assert (ann.status, ann.stage, ann.due_date) == (ACTIVE, "postpartum-0-6w", None)

        mailbox.messages.clear()
        push_versions(root)
    assert version_received(mailbox)["ann@example.com"] == ["postpartum-0-6w"]


def test_my_baby_has_arrived_on_the_preferences_page_moves_her_for_the_next_push(browser, journey_project):
    mailbox = Mailbox()
    service_port = free_port()
    with smtp_server(mailbox) as smtp:
        root = journey_project(smtp.port, service_port)
        server = Server(root, service_port)
        context = browser.new_context(bypass_csp=True)  # our pages forbid scripts; axe-core is injected
        try:
            page = context.new_page()
            page.goto(f"{server.url}/subscribe/")
            page.fill("#email", "bea@example.com")
            page.check("input[name=where][value=pregnant]")
            page.fill("#due_date", (date.today() + timedelta(days=10)).isoformat())
            page.check("#dates_consent")
            page.click("button[value=save]")
            wait_for_mail(mailbox, 1)
            page.goto(link_in(mailbox.parsed()[0], "confirm"))
            page.click("button[type=submit]")
            wait_for_mail(mailbox, 2)

            page.goto(link_in(mailbox.parsed()[1], "preferences"))
            assert_no_axe_violations(page, "the preferences page with 'My baby has arrived'")
            page.click("button[value=arrived]")
            assert "Congratulations" in page.content()
            assert page.locator("button[value=arrived]").count() == 0
            assert page.locator("input[name=where][value=had-baby]").is_checked()
        finally:
            context.close()
            code, output = server.stop()
        assert code == 0, output
        assert "bea@example.com" not in output and "Traceback" not in output

        with SubscriberStore.for_config(load_config(root)) as store:
            bea = store.get("bea@example.com")
        assert (bea.stage, bea.birth_date is not None) == ("postpartum-0-6w", True)

        mailbox.messages.clear()
        push_versions(root)
    assert version_received(mailbox)["bea@example.com"] == ["postpartum-0-6w"]
