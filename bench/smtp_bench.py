"""Sending speed: the smtp provider against a local SMTP sink that takes 50 ms per message, as a
remote relay does, and the cost of making each reader's copy (her tokens, her personal line).

    .venv/bin/python bench/smtp_bench.py                       # 10,000 readers: unlimited, then at 100/s
    .venv/bin/python bench/smtp_bench.py --readers 2000 --rates unlimited,50 --connections 4,8,16
    .venv/bin/python bench/smtp_bench.py --personalise-only    # per-reader copy, no sending

A project is made in bench/work/smtp/ from the repo's content, templates and settings, with
`--readers` subscribers and the week's email built. The sink (aiosmtpd, in its own process so
it does not share our interpreter) holds each message `--latency` seconds before answering 250
and keeps the time it answered. For each rate and number of connections the ledger and the
campaign are reset and `send_now` (what `push --send-now` calls: personalising, pacing,
sending, journaling and recording each reader in the ledger) is timed. Printed: messages a
second (readers / wall time of send_now), the CPU time of our process, the rate between the
first and last message begun at the sink (MAIL FROM), the most begun and accepted (250) in any
one second, and whether every reader got exactly one message and is in the ledger and the send
journal.

The per-reader cost is everything `send_now` does for one reader before SMTP: her unsubscribe
and preferences tokens, the link, her personal line from her dates for the send day, and the
bytes of her copy - by `MessageTemplate` (what is sent) and by the email package (the reference
the quick copy is tested against), wall and CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))

WEEK = "2026-W48"
SECRET = "bench-unsubscribe-secret-0123456789"


# ---- the sink ------------------------------------------------------------------------------


def run_sink(port: int, latency: float, times_file: Path) -> None:
    """An SMTP server answering each message after `latency` seconds; on SIGTERM it writes the
    acceptance times and recipients to `times_file`."""
    from aiosmtpd.controller import Controller

    accepted: list[tuple[float, float, str]] = []  # (MAIL FROM came, 250 went, recipient)

    class SlowRelay:
        async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 (aiosmtpd's name)
            envelope.mail_from, envelope.started = address, time.monotonic()
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            await asyncio.sleep(latency)
            accepted.append((envelope.started, time.monotonic(), envelope.rcpt_tos[0]))
            return "250 OK"

    controller = Controller(SlowRelay(), hostname="127.0.0.1", port=port, data_size_limit=None)
    controller.start()
    print("ready", flush=True)

    def dump(*_):
        controller.stop()
        times_file.write_text(json.dumps(accepted))
        sys.exit(0)

    signal.signal(signal.SIGTERM, dump)
    while True:
        time.sleep(3600)


class Sink:
    def __init__(self, latency: float, folder: Path):
        self.port = free_port()
        self.times_file = folder / f"sink-{self.port}.json"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(self.port), "--latency", str(latency), str(self.times_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> list[tuple[float, float, str]]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        return [tuple(row) for row in json.loads(self.times_file.read_text())]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- the project ---------------------------------------------------------------------------


def make_project(folder: Path, readers: int) -> Path:
    from pipeline.core.config import load_config
    from pipeline.deliver.subscribers import Subscriber, SubscriberStore

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in ("content", "templates"):
        shutil.copytree(REPO / name, folder / name)
    shutil.copy(REPO / "newsletter.toml", folder / "newsletter.toml")
    set_provider(folder, port=25, rate="unlimited", connections=1)
    people = [Subscriber(f"reader{n:05d}@example.com", f"Reader {n}") for n in range(readers)]
    with SubscriberStore.for_config(load_config(folder)) as store:
        store.import_subscribers(people)
    return folder


def set_provider(root: Path, port: int, rate: str, connections: int) -> None:
    base = (REPO / "newsletter.toml").read_text(encoding="utf-8").split("[provider]")[0]
    rate_value = '"unlimited"' if rate == "unlimited" else rate
    (root / "newsletter.toml").write_text(
        base + '[provider]\nname = "smtp"\nhost = "127.0.0.1"\n'
        f'port = {port}\nsecurity = "none"\nrate_per_second = {rate_value}\nconnections = {connections}\n',
        encoding="utf-8",
    )


def built_email(root: Path):
    from pipeline.build.run import build
    from pipeline.core.config import load_config
    from pipeline.deliver.providers import get_provider

    config = load_config(root)
    provider = get_provider(config, {"NEWSLETTER_UNSUBSCRIBE_SECRET": SECRET})
    built = build(config, WEEK, provider=provider).email  # the email for readers without a stage tag
    return built.email, built.eml


def send_once(root: Path, email, eml) -> dict:
    """Reset the ledger and campaigns, draft, and time send_now alone."""
    from pipeline.core.config import load_config
    from pipeline.deliver.ledger import Ledger, ledger_path
    from pipeline.deliver.providers import get_provider

    for leftover in (root / ".newsletter" / "smtp", ledger_path(root / ".newsletter")):
        shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(ledger_path(root / ".newsletter")) + suffix).unlink(missing_ok=True)
    config = load_config(root)
    provider = get_provider(config, {"NEWSLETTER_UNSUBSCRIBE_SECRET": SECRET})
    campaign = provider.create_draft(email, eml)
    begun: list[float] = []  # the throttle's own reading of each moment it let a message go

    class NotedMoments(deque):
        def append(self, moment: float) -> None:
            begun.append(moment)
            super().append(moment)

    throttle = provider.throttle
    throttle._let_go = NotedMoments(maxlen=throttle._let_go.maxlen)  # noqa: SLF001 (a benchmark looking in)
    cpu, wall = time.process_time(), time.perf_counter()
    provider.send_now(campaign.id)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    with Ledger(ledger_path(config.state_dir)) as ledger:
        recorded = sorted(ledger.recipients(email.issue.key, "smtp"))
    journal = (config.state_dir / "smtp" / campaign.id / "sent.log").read_text(encoding="utf-8").splitlines()
    journaled = sorted(line[2:] for line in journal if line.startswith("+ "))
    return {"wall_s": wall, "cpu_s": cpu, "recorded": recorded, "journaled": journaled, "begun": sorted(begun)}


def busiest_second(times: list[float]) -> int:
    """The most acceptances in any window of one second."""
    most, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def bench_send(args, root: Path, email, eml) -> list[dict]:
    everyone = [f"reader{n:05d}@example.com" for n in range(args.readers)]
    rows = []
    for rate in args.rates.split(","):
        for connections in [int(c) for c in args.connections.split(",")]:
            sink = Sink(args.latency, root)
            set_provider(root, sink.port, rate, connections)
            try:
                result = send_once(root, email, eml)
            finally:
                accepted = sink.stop()
            starts = sorted(started for started, _, _ in accepted)
            answers = sorted(answered for _, answered, _ in accepted)
            received = sorted(rcpt for _, _, rcpt in accepted)
            span = starts[-1] - starts[0] if len(starts) > 1 else 0.0
            row = {
                "rate": rate,
                "connections": connections,
                "readers": args.readers,
                "wall_s": round(result["wall_s"], 3),
                "cpu_s": round(result["cpu_s"], 3),
                "messages_per_s": round(args.readers / result["wall_s"], 1),
                "started_per_s_at_sink": round((len(starts) - 1) / span, 1) if span else None,
                "busiest_second_let_go_here": busiest_second(result["begun"]),
                "busiest_second_started": busiest_second(starts),
                "busiest_second_accepted": busiest_second(answers),
                "exactly_once": received == everyone and result["recorded"] == everyone == result["journaled"],
            }
            if rate != "unlimited":
                row["of_limit"] = round(row["messages_per_s"] / float(rate), 4)
                if row["started_per_s_at_sink"]:
                    row["started_of_limit"] = round(row["started_per_s_at_sink"] / float(rate), 4)
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def bench_personalise(root: Path, eml: bytes, count: int) -> dict:
    """Per reader: tokens, link, personal line, the copy's bytes - all `send_now` does before SMTP."""
    from datetime import timedelta

    from pipeline.core.config import load_config
    from pipeline.deliver.reader_stages import issue_day, personal_line
    from pipeline.deliver.smtp.message import MessageTemplate, personalised_message, wire_format
    from pipeline.deliver.subscribers import Subscriber
    from pipeline.deliver.tokens import PREFERENCES, link_with_token, make_reader_token, make_token

    config = load_config(root)
    template = BytesParser(policy=policy.SMTP).parsebytes(eml)
    sender = config.email.sender_address
    quick = MessageTemplate(template, sender, None)
    now = datetime.now(UTC)
    day = issue_day(now, config.email.timezone)
    consent = now
    people = [  # a third pregnant, a third with a baby, a third without dates
        Subscriber(
            f"reader{n:05d}@example.com",
            f"Reader {n}",
            due_date=day + timedelta(days=n % 200),
            dates_consent_at=consent,
        )
        if n % 3 == 0
        else Subscriber(
            f"reader{n:05d}@example.com",
            f"Reader {n}",
            birth_date=day - timedelta(days=n % 300),
            dates_consent_at=consent,
        )
        if n % 3 == 1
        else Subscriber(f"reader{n:05d}@example.com", f"Reader {n}")
        for n in range(count)
    ]

    def personal(person):
        token = make_token(person.email, SECRET, config.base_url)
        preferences = make_reader_token(person.email, PREFERENCES, SECRET)
        line = personal_line(person, day, config.audience)
        return token, link_with_token(config.unsubscribe_url, token), preferences, line

    def quick_copy(person):
        token, link, preferences, line = personal(person)
        return quick.wire_bytes(person, token, link, now, preferences, line)

    def email_package_copy(person):
        token, link, preferences, line = personal(person)
        message = personalised_message(template, person, token, link, sender, None, now, preferences, line)
        return wire_format(message, [sender, person.email])

    first = quick_copy(people[0])[0]
    result = {
        "message_bytes": len(first),
        "readers": count,
        "with_a_personal_line": sum(bool(personal(p)[3]) for p in people),
    }
    for name, make in (("quick", quick_copy), ("email_package", email_package_copy)):
        cpu, wall = time.process_time(), time.perf_counter()
        for person in people:
            make(person)
        result[f"{name}_ms"] = round((time.perf_counter() - wall) / count * 1000, 3)
        result[f"{name}_cpu_ms"] = round((time.process_time() - cpu) / count * 1000, 3)
    print(json.dumps(result), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=10_000)
    parser.add_argument("--rates", default="unlimited,100", help='"unlimited" or messages a second, comma-separated')
    parser.add_argument("--connections", default="16", help="comma-separated")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the sink takes per message")
    parser.add_argument("--personalise-only", action="store_true")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("times_file", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink, args.latency, Path(args.times_file))
        return 0
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores", flush=True)
    root = make_project(BENCH_DIR / "work" / "smtp", args.readers)
    email, eml = built_email(root)
    bench_personalise(root, eml, min(args.readers, 1000))
    if not args.personalise_only:
        bench_send(args, root, email, eml)
    load = os.getloadavg()
    print(f"load average after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
