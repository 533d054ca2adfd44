"""Signup benchmark: N signups from C concurrent clients against the real reader service
(`newsletter serve` on waitress, in its own process, outbox relay), then a count of what arrived.

    .venv/bin/python bench/signups.py                        # 500 signups, 50 clients (the issue's target)
    .venv/bin/python bench/signups.py --clients 1,10,50      # closed loop at three loads
    .venv/bin/python bench/signups.py --rate 250             # open loop: 250 signups/s offered by 50 clients
    .venv/bin/python bench/signups.py --diagnose             # + the runs that say which resource is the limit

The clients run in their own process (`--client-processes`, default 1), so their CPU is
measured apart from the server's. Closed loop (the default): each client sends its next signup
when the last is answered, as fast as it can, so by Little's law the mean latency is clients /
throughput. Open loop (`--rate R`): signups are offered at R a second in all, spread over the
clients, and each latency is counted from the time the signup was due (so a server that falls
behind is not flattered by clients that wait for it).

For each run it prints signups per second, latency p50/p95/max, CPU milliseconds per signup of
the server while it answered (`srv`), of the server for the whole signup including sending its
confirmation (`srv+mail`), and of the clients (`cli`), the share of a core each used, the load
average, and the checks: every signup stored once as a pending reader (lost, duplicated), and
every confirmation email written once to outbox/readers/ after the sender drained the queue.
Last, the subscriber table alone and the WSGI app alone (no HTTP) say how much of a signup's
CPU is our Python, SQLite's statements and the sync to disk.

`--diagnose` repeats the 50-client closed loop with the sender held back until the load is over
(the cost of the email off the request path), with SQLite `synchronous=OFF` (no sync to disk:
the share of fsync; a diagnostic only, never the service's setting), and with the clients in two
processes; then it prints which resource limits the service, with those figures as evidence.
Not part of `make test`; figures vary up to 2x between runs on these shared 2-core machines.
"""

from __future__ import annotations

import argparse
import email
import http.client
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SECRET = "a-long-random-secret-for-the-benchmark"
ORIGIN = "https://strongfromwithin.example"  # the repo's [site] base_url
CORES = os.cpu_count() or 1


@dataclass
class Setup:
    signups: int = 500
    clients: int = 50
    rate: float = 0.0  # signups a second offered in all; 0: closed loop
    client_processes: int = 1
    synchronous: str = ""  # "" the service's own setting; "off" as a diagnostic
    hold_mail: bool = False  # the sender starts only when the load is over
    threads: int = 0  # waitress threads; 0: the service's default

    def label(self) -> str:
        parts = [f"{self.clients} clients", f"open {self.rate:.0f}/s" if self.rate else "closed"]
        if self.client_processes > 1:
            parts.append(f"{self.client_processes} client procs")
        if self.threads:
            parts.append(f"{self.threads} threads")
        if self.hold_mail:
            parts.append("mail after")
        if self.synchronous:
            parts.append(f"sync={self.synchronous}")
        return ", ".join(parts)


@dataclass
class Result:
    setup: Setup
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    server_cpu: float = 0.0  # seconds, while the clients ran
    server_total_cpu: float = 0.0  # seconds, until the last confirmation was written
    client_cpu: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after
    lost: int = 0
    duplicated: int = 0
    mails: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.setup.signups / self.elapsed

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(int(len(ordered) * share) - 1, 0)] * 1000 if ordered else float("nan")

    def ms_per_signup(self, seconds: float) -> float:
        return seconds / self.setup.signups * 1000

    def cores(self, seconds: float) -> float:
        return seconds / self.elapsed

    @property
    def ok(self) -> bool:
        mails_once = sorted(self.mails) == sorted(set(self.mails)) and len(self.mails) == self.setup.signups
        return not (self.lost or self.duplicated or self.failures) and mails_once


# ---------------------------------------------------------------------- the server
def make_project(folder: Path) -> Path:
    for name in ("content", "templates"):
        shutil.copytree(REPO / name, folder / name)
    config = (REPO / "newsletter.toml").read_text(encoding="utf-8")
    # One IP sends every signup here; the per-IP limit is for the internet, not for this test.
    (folder / "newsletter.toml").write_text(config + "\n[readers]\nposts_per_minute_per_ip = 1000000\n")
    return folder


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path, port: int, setup: Setup, log: Path) -> subprocess.Popen:
    env = {**os.environ, "NEWSLETTER_UNSUBSCRIBE_SECRET": SECRET, "PYTHONPATH": str(REPO)}
    command = [sys.executable, __file__, "--as-server", "--synchronous", setup.synchronous or "service"]
    command += ["--hold-mail"] if setup.hold_mail else []
    command += ["--", "serve", "--root", str(root), "--port", str(port)]
    command += ["--threads", str(setup.threads)] if setup.threads else []
    # stderr to a file: a pipe nobody reads fills up and stops the server's logging thread
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=log.open("w"), text=True)
    line = process.stdout.readline()
    if "Reader service on" not in line:
        raise SystemExit(f"the server did not start: {line}{log.read_text()}")
    return process


def run_as_server(synchronous: str, hold_mail: bool, arguments: list[str]) -> None:
    """`newsletter serve` with the benchmark's diagnostics applied in this process only."""
    # A shell's background job starts with SIGINT ignored, and Python keeps that: Ctrl+C's
    # KeyboardInterrupt is how `serve` stops, so give it back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from pipeline.cli.main import main as cli
    from pipeline.deliver import subscribers
    from pipeline.readers import mail

    if synchronous != "service":
        opened = subscribers.open_database

        def open_database(*args, **kwargs):
            db = opened(*args, **kwargs)
            db.execute(f"PRAGMA synchronous={synchronous}")
            return db

        subscribers.open_database = open_database
    if hold_mail:
        released = threading.Event()
        signal.signal(signal.SIGUSR1, lambda *_: released.set())
        start = mail.MailSender.start

        def held_start(sender) -> None:
            threading.Thread(target=lambda: (released.wait(), start(sender)), daemon=True).start()

        mail.MailSender.start = held_start
    cli(arguments, prog_name="newsletter")


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
        raise


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------- the clients
def client(port: int, addresses: list[str], due: list[float], latencies: list[float], failures: list[str]) -> None:
    """One client on one keep-alive connection; `due` are the send times (open loop) or empty."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": ORIGIN}
    for n, address in enumerate(addresses):
        body = urlencode({"email": address, "name": "Reader", "where": "general"})
        if due:
            time.sleep(max(due[n] - time.perf_counter(), 0))
        started = due[n] if due else time.perf_counter()
        try:
            connection.request("POST", "/subscribe/", body=body, headers=headers)
            response = connection.getresponse()
            page = response.read()
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"{address}: {error}")
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append(time.perf_counter() - started)
        if response.status != 200 or b"Check your inbox" not in page:
            failures.append(f"{address}: {response.status}")


def client_process(port: int, shares: list[list[str]], rate: float, clients: int, start_at: float, results) -> None:
    """A process of client threads; sends back latencies, failures and its own CPU seconds. In
    the open loop each client sends every clients / rate seconds, from a random offset."""
    latencies: list[float] = []
    failures: list[str] = []
    offsets = random.Random(len(shares))
    gap = clients / rate if rate else 0.0
    threads = []
    for share in shares:
        first = start_at + offsets.uniform(0, gap)
        due = [first + n * gap for n in range(len(share))] if rate else []
        threads.append(threading.Thread(target=client, args=(port, share, due, latencies, failures)))
    cpu = time.process_time()
    time.sleep(max(start_at - time.perf_counter(), 0))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((latencies, failures, time.process_time() - cpu))


def run_clients(port: int, setup: Setup, addresses: list[str], result: Result) -> None:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    shares = [addresses[n :: setup.clients] for n in range(setup.clients)]
    groups = [shares[n :: setup.client_processes] for n in range(setup.client_processes)]
    # perf_counter is system-wide CLOCK_MONOTONIC on Linux: one start time for every process
    start_at = time.perf_counter() + 1.5
    processes = [
        context.Process(target=client_process, args=(port, group, setup.rate, setup.clients, start_at, results))
        for group in groups
    ]
    for process in processes:
        process.start()
    for _ in processes:
        latencies, failures, cpu = results.get(timeout=600)
        result.latencies += latencies
        result.failures += failures
        result.client_cpu += cpu
    result.elapsed = time.perf_counter() - start_at
    for process in processes:
        process.join()


# ---------------------------------------------------------------------- one run
def run_load(setup: Setup) -> Result:
    result = Result(setup)
    with tempfile.TemporaryDirectory(prefix="signup-bench-") as folder:
        root = make_project(Path(folder))
        port = free_port()
        server = start_server(root, port, setup, Path(folder) / "server.log")
        try:
            addresses = [f"reader{n:05d}@example.com" for n in range(setup.signups)]
            result.load = (os.getloadavg()[0], 0.0)
            before = cpu_seconds(server.pid)
            run_clients(port, setup, addresses, result)
            result.server_cpu = cpu_seconds(server.pid) - before
            if setup.hold_mail:
                server.send_signal(signal.SIGUSR1)
            result.mails = wait_for_mail(root, setup.signups)
            result.server_total_cpu = cpu_seconds(server.pid) - before
            result.load = (result.load[0], os.getloadavg()[0])
        finally:
            stop(server)
        stored = stored_readers(root)
        result.lost = len(set(addresses) - set(stored))
        result.duplicated = len(stored) - len(set(stored))
    return result


def wait_for_mail(root: Path, expected: int, timeout: float = 300) -> list[str]:
    folder = root / "outbox" / "readers"
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if folder.is_dir() and len(list(folder.glob("*.eml"))) >= expected:
            break
        time.sleep(0.05)
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)["To"].addresses[0].addr_spec
        for path in folder.glob("*.eml")
    ]


def stored_readers(root: Path) -> list[str]:
    with sqlite3.connect(root / ".newsletter" / "subscribers.sqlite3") as db:
        return [email for (email,) in db.execute("SELECT email FROM subscribers WHERE status = 'pending'")]


def table_alone(signups: int, synchronous: str = "") -> float:
    """Signups a second into the subscriber table itself: one process, one transaction each."""
    from pipeline.deliver.subscribers import Subscriber, SubscriberStore

    with (
        tempfile.TemporaryDirectory(prefix="signup-bench-db-") as folder,
        SubscriberStore(Path(folder) / "subscribers.sqlite3") as store,
    ):
        if synchronous:
            store.db.execute(f"PRAGMA synchronous={synchronous}")
        started = time.perf_counter()
        for n in range(signups):
            store.sign_up(Subscriber(f"reader{n:05d}@example.com", "Reader", stage="general"), mails_per_day=3)
        return signups / (time.perf_counter() - started)


def app_alone(signups: int, synchronous: str, honeypot: bool = False) -> float:
    """CPU ms per form post of the WSGI app called directly in this thread: no HTTP, no
    threads, one commit per signup. With `honeypot` the post is a bot's: nothing is written."""
    import io

    from pipeline.core.config import load_config
    from pipeline.deliver import subscribers
    from pipeline.readers.service import ReaderService

    opened = subscribers.open_database

    def open_database(*args, **kwargs):
        db = opened(*args, **kwargs)
        db.execute(f"PRAGMA synchronous={synchronous}")
        return db

    subscribers.open_database = open_database
    try:
        with tempfile.TemporaryDirectory(prefix="signup-bench-app-") as folder:
            app = ReaderService(load_config(make_project(Path(folder))), SECRET)
            bodies = [
                urlencode(
                    {"email": f"reader{n:05d}@example.com", "where": "general", "website": "x" * honeypot}
                ).encode()
                for n in range(signups)
            ]
            started = time.process_time()
            for body in bodies:
                environ = {
                    "REQUEST_METHOD": "POST",
                    "PATH_INFO": "/subscribe/",
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_ADDR": "127.0.0.1",
                    "HTTP_ORIGIN": ORIGIN,
                    "wsgi.input": io.BytesIO(body),
                }
                app(environ, lambda status, headers: None)
            return (time.process_time() - started) / signups * 1000
    finally:
        subscribers.open_database = opened


# ---------------------------------------------------------------------- reporting
HEADER = (
    f"{'run':<34} {'sign/s':>6} {'p50':>6} {'p95':>6} {'max':>6} {'srv':>5} {'srv+mail':>8} {'cli':>5} "
    f"{'srv core':>8} {'cli core':>8} {'load':>9} {'lost':>4} {'dup':>3} {'err':>3} {'emails':>7}"
)


def line(r: Result) -> str:
    return (
        f"{r.setup.label():<34} {r.per_second:>6.0f} {r.percentile(0.5):>6.1f} {r.percentile(0.95):>6.1f} "
        f"{r.percentile(1.0):>6.0f} {r.ms_per_signup(r.server_cpu):>5.2f} {r.ms_per_signup(r.server_total_cpu):>8.2f} "
        f"{r.ms_per_signup(r.client_cpu):>5.2f} {r.cores(r.server_cpu):>8.2f} {r.cores(r.client_cpu):>8.2f} "
        f"{r.load[0]:>4.1f}-{r.load[1]:<4.1f} {r.lost:>4} {r.duplicated:>3} {len(r.failures):>3} "
        f"{len(set(r.mails))}/{len(r.mails)}"
    )


def run_and_print(setup: Setup) -> Result:
    result = run_load(setup)
    print(line(result), flush=True)
    for failure in result.failures[:5]:
        print("   ", failure)
    return result


def verdict(base: Result, held: Result, unsynced: Result, split: Result) -> list[str]:
    """Which resource limits the 50-client closed loop, from the diagnostic runs."""
    closed_mean = base.setup.clients / base.per_second * 1000
    server_ms = base.ms_per_signup(base.server_total_cpu)
    answer_ms = base.ms_per_signup(base.server_cpu)
    lines = [
        f"Little's law: {base.setup.clients} closed-loop clients / {base.per_second:.0f} signups/s = "
        f"{closed_mean:.0f} ms mean latency (measured p50 {base.percentile(0.5):.0f} ms).",
        f"the server spends {answer_ms:.2f} ms of CPU per signup while answering, {server_ms:.2f} with sending its "
        f"email: one Python process (one GIL, one core for its Python) answers at most about {1000 / answer_ms:.0f} "
        f"signups/s, and keeps up with about {1000 / server_ms:.0f} a second sustained (signups and their emails).",
        f"while answering it used {base.cores(base.server_cpu):.2f} of a core, the clients "
        f"{base.cores(base.client_cpu):.2f}, of {CORES} cores shared with other work (load {base.load[0]:.1f}).",
        f"the email off the request path (sent after the load): {held.per_second:.0f} signups/s, p95 "
        f"{held.percentile(0.95):.0f} ms, {held.ms_per_signup(held.server_cpu):.2f} ms server CPU per answer.",
        f"no sync to disk (synchronous=OFF, diagnostic only): {unsynced.per_second:.0f} signups/s against "
        f"{base.per_second:.0f}: fsync's share of the time is about {fsync_share(base, unsynced):.0%}.",
        f"clients in {split.setup.client_processes} processes: {split.per_second:.0f} signups/s against "
        f"{base.per_second:.0f}.",
    ]
    busy = base.cores(base.server_cpu) + base.cores(base.client_cpu)
    if fsync_share(base, unsynced) > 0.3:
        limit = "the sync to disk of each commit (fsync)"
    elif base.cores(base.server_cpu) > 0.8:
        limit = "the server's CPU: one Python process, so one core at most for its Python code"
    elif busy > 0.8 * CORES:
        limit = f"the machine's {CORES} cores: server and clients together used {busy:.2f}"
    elif base.cores(base.client_cpu) > 0.8:
        limit = "the clients' CPU"
    else:
        limit = "none of the three saturated: waiting (locks, other work on the machine)"
    lines.append(f"the limit: {limit}.")
    need = base.setup.clients / 0.030
    lines.append(
        f"p95 < 50 ms with {base.setup.clients} closed-loop clients needs a mean near 30 ms or less, so about "
        f"{need:.0f} signups/s: at most {1000 / need:.2f} ms of server CPU per answered signup (the clients run "
        f"beside it on the other core), against {answer_ms:.2f} ms measured."
    )
    return lines


def fsync_share(base: Result, unsynced: Result) -> float:
    return max(0.0, 1 - base.per_second / unsynced.per_second) if unsynced.per_second else 0.0


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--as-server":
        split = sys.argv.index("--")
        options = sys.argv[2:split]
        run_as_server(options[options.index("--synchronous") + 1], "--hold-mail" in options, sys.argv[split + 1 :])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signups", type=int, default=500)
    parser.add_argument("--clients", default="50", help="concurrent clients, or a comma-separated list of loads")
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: signups a second offered in all")
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="waitress threads (default: the service's)")
    parser.add_argument("--diagnose", action="store_true", help="also the runs that show where the limit is")
    arguments = parser.parse_args()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    print(f"commit {commit.stdout.strip()}, {CORES} cores, {arguments.signups} signups per run")
    print("latency in ms; srv / srv+mail / cli: CPU ms per signup; core: share of one core used")
    print(HEADER)
    common = {"signups": arguments.signups, "threads": arguments.threads}
    results = []
    for clients in (int(value) for value in arguments.clients.split(",")):
        setup = Setup(clients=clients, rate=arguments.rate, client_processes=arguments.client_processes, **common)
        results.append(run_and_print(setup))
    if arguments.diagnose:
        base = run_and_print(Setup(clients=50, **common)) if results[-1].setup.clients != 50 else results[-1]
        held = run_and_print(Setup(clients=50, hold_mail=True, **common))
        unsynced = run_and_print(Setup(clients=50, synchronous="off", **common))
        split = run_and_print(Setup(clients=50, client_processes=2, **common))
        results += [held, unsynced, split]
        print(*verdict(base, held, unsynced, split), sep="\n")
    print(
        f"the subscriber table alone (no HTTP, one process): {table_alone(arguments.signups):.0f} signups/s, "
        f"{table_alone(arguments.signups, 'off'):.0f} with synchronous=OFF"
    )
    print(
        f"the app alone (WSGI called directly, one commit each), CPU ms per post: a bot's (nothing written) "
        f"{app_alone(arguments.signups, 'full', honeypot=True):.2f}, "
        f"a signup {app_alone(arguments.signups, 'off'):.2f} with synchronous=OFF, "
        f"{app_alone(arguments.signups, 'full'):.2f} with the service's sync"
    )
    sys.exit(0 if all(r.ok for r in results) else 1)


if __name__ == "__main__":
    main()
