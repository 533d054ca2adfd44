"""A year of weekly sends: does every reader get the version her dates call for?

52 pushes, one each Monday at 08:00 in `[email] timezone`, of a week with stage versions (the
repo's own 2026-W48 content, built once) to 1,000 readers whose due dates and birth dates are
spread over the year, from the real subscriber table, with the smtp provider's clock set to each
send. The script compares what each reader got each week with what an independent reading of
the rule (written here, not taken from pipeline/core/stage_calendar.py) calls for, and prints
the mismatches (must be 0) and the time taken.

By default each week's versions are handed their readers by the smtp provider exactly as a send
picks them (`readers_of_version`, the list `send_now` sends to), without rendering 52,000
messages. `--smtp` pushes every version for real (`push_issue --send-now`) through a local
aiosmtpd server and reads each message's version from a header it carries: the same check end
to end, about 0.1 s a message here, so run it with fewer readers.

    .venv/bin/python bench/stage_simulation.py                        # 52 weeks x 1,000 readers
    .venv/bin/python bench/stage_simulation.py --smtp --readers 100   # every message over SMTP
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from email.parser import BytesHeaderParser
from pathlib import Path
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.build.run import build  # noqa: E402
from pipeline.core.config import load_config  # noqa: E402
from pipeline.core.stages import version_key  # noqa: E402
from pipeline.deliver.ledger import Ledger, ledger_path  # noqa: E402
from pipeline.deliver.providers.smtp import SmtpProvider  # noqa: E402
from pipeline.deliver.push import push_issue  # noqa: E402
from pipeline.deliver.subscribers import Subscriber, SubscriberStore  # noqa: E402

WEEK = "2026-W48"  # the repo's staged week: one version per stage and a general one
BUILT_AT = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # what the content was written for
ZONE = "Europe/London"
HEADER = "X-Simulated-Version"
ENV = {"NEWSLETTER_UNSUBSCRIBE_SECRET": "simulation-secret-0123456789", "NEWSLETTER_SMTP_PASSWORD": ""}


class Mailbox:
    """Keeps (recipient, version header) of every message accepted."""

    def __init__(self):
        self.received: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - the name aiosmtpd calls
        version = BytesHeaderParser().parsebytes(envelope.content).get(HEADER, "?")
        with self.lock:
            self.received += [(recipient, version) for recipient in envelope.rcpt_tos]
        return "250 OK"


def expected_version(day: date, due: date | None, birth: date | None, chosen: str | None) -> str:
    """The rule, read again from the issue: pregnant before the birth (the due date without a
    birth date), 0-6 weeks for 42 days, then 6w+ until two years after, then general."""
    start = birth or due
    if start is None:
        return chosen or "general"
    if day < start:
        return "pregnant"
    if (day - start).days < 42:
        return "postpartum-0-6w"
    try:
        end = start.replace(year=start.year + 2)
    except ValueError:  # 29 February: the end is the last day of February
        end = date(start.year + 2, 2, 28)
    return "postpartum-6w-plus" if day < end else "general"


def readers(count: int, first_day: date, rng: random.Random) -> list[Subscriber]:
    consent = datetime.combine(first_day - timedelta(days=1), clock_time(9), tzinfo=UTC)
    people = []
    for number in range(count):
        kind, extra = number % 10, {}
        if kind < 4:  # due during the year; some born early or late
            extra["due_date"] = first_day + timedelta(days=rng.randint(-20, 380))
            if kind == 3:
                extra["birth_date"] = extra["due_date"] + timedelta(days=rng.randint(-70, 14))
        elif kind < 8:  # born before the year started: crosses six weeks or the two-year end
            extra["birth_date"] = first_day - timedelta(days=rng.randint(0, 2 * 365 + 30))
        stage = rng.choice([None, "pregnant", "postpartum-6w-plus", "general"]) if kind >= 8 else None
        tags = (rng.choice(["pregnant", "postpartum-0-6w", "postpartum-6w-plus"]),) if rng.random() < 0.5 else ()
        people.append(
            Subscriber(
                f"reader{number:04d}@example.com",
                f"Reader {number}",
                tags=tags,
                stage=stage,
                dates_consent_at=consent if extra else None,
                **extra,
            )
        )
    return people


def chosen_of(person: Subscriber, stages) -> str | None:
    if person.stage:
        return None if person.stage == "general" else person.stage
    return next((stage for stage in stages if stage in person.tags), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_project(folder: Path, port: int) -> Path:
    for name in ("content", "templates"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, folder / name)
    base = (REPO / "newsletter.toml").read_text(encoding="utf-8").split("[provider]")[0]
    provider = (
        f'[provider]\nname = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nrate_per_second = 100000\n'
    )
    (folder / "newsletter.toml").write_text(base.replace('"Europe/London"', f'"{ZONE}"') + provider, encoding="utf-8")
    return folder


def simulate(reader_count: int, weeks: int, seed: int, over_smtp: bool) -> tuple[int, int, int]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = make_project(Path(folder), port)
            config = load_config(root)
            today = datetime.now(ZoneInfo(ZONE)).date()
            first_monday = today + timedelta(days=7 - today.weekday())
            people = readers(reader_count, first_monday, random.Random(seed))
            with SubscriberStore.for_config(config) as store:
                store.import_subscribers(people)
            versions = build(config, WEEK, provider=SmtpProvider(config, ENV), now=BUILT_AT).emails
            return run_weeks(config, versions, people, first_monday, weeks, mailbox if over_smtp else None)
    finally:
        controller.stop()


def run_weeks(config, versions, people, first_monday: date, weeks: int, mailbox: Mailbox | None):
    stages, mismatches, sent = config.audience.stages, 0, 0
    with Ledger(ledger_path(config.state_dir)) as ledger:
        for week in range(weeks):
            day = first_monday + timedelta(weeks=week)
            instant = datetime.combine(day, clock_time(8), tzinfo=ZoneInfo(ZONE))
            provider = SmtpProvider(config, ENV, clock=lambda instant=instant: instant)
            received = send_week(provider, ledger, versions, week, instant, mailbox)
            got: dict[str, list[str]] = {}
            for recipient, version in received:
                got.setdefault(recipient, []).append(version)
            sent += len(received)
            for person in people:
                wanted = expected_version(day, person.due_date, person.birth_date, chosen_of(person, stages))
                mismatches += got.get(person.email, []) != [wanted]
    return mismatches, sent, weeks * len(people)


def send_week(provider, ledger, versions, week: int, instant: datetime, mailbox: Mailbox | None) -> list:
    """(recipient, version) of everything this week's push hands out."""
    if mailbox is None:
        everyone = provider.readers_of_version(None)
        return [
            (p.email, built.stage) for built in versions for p in provider.readers_of_version(built.stage, everyone)
        ]
    mailbox.received.clear()
    for built in versions:
        key = version_key(f"simulation-week-{week:02d}", built.stage)
        email = replace(built.email, issue=replace(built.email.issue, key=key))
        eml = f"{HEADER}: {built.stage}\r\n".encode() + built.eml
        push_issue(provider, ledger, email, eml, send_now=True, now=instant)
    return list(mailbox.received)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--smtp", action="store_true", help="push every version for real over a local SMTP server")
    options = parser.parse_args()
    os.environ.setdefault("NO_COLOR", "1")
    started = time.perf_counter()
    mismatches, sent, checks = simulate(options.readers, options.weeks, options.seed, options.smtp)
    took = time.perf_counter() - started
    how = "messages sent over SMTP" if options.smtp else "readers handed a version"
    print(f"readers: {options.readers}, weekly pushes: {options.weeks}, {how}: {sent}")
    print(f"reader-weeks checked: {checks}, mismatches: {mismatches} (must be 0)")
    print(f"time: {took:.1f} s ({took / max(options.weeks, 1):.2f} s per weekly push)")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
