"""Signup benchmark: N signups from C concurrent clients against the real reader service
(`newsletter serve` on waitress, in its own process, outbox relay), then a count of what arrived.

    .venv/bin/python bench/signups.py                       # 500 signups, 50 clients (the issue's target)
    .venv/bin/python bench/signups.py --clients 1,10,50,100 # where the limit is: the same at several loads
    .venv/bin/python bench/signups.py --signups 2000 --clients 50

For each load it prints signups per second, latency p50/p95/max, the server's CPU seconds per
signup, and the checks: every signup stored once as a pending reader (lost, duplicated), and
every confirmation email written once to outbox/readers/ after the sender drained the queue.
It also times the subscriber table alone (SubscriberStore.sign_up in one process, no HTTP), so
the HTTP and the database can be told apart. Not part of `make test`; figures vary up to 2x
between runs on these shared 2-core machines.
"""

from __future__ import annotations

import argparse
import email
import http.client
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email import policy
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SECRET = "a-long-random-secret-for-the-benchmark"
ORIGIN = "https://strongfromwithin.example"  # the repo's [site] base_url


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


def start_server(root: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "NEWSLETTER_UNSUBSCRIBE_SECRET": SECRET, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--root", str(root), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if "Reader service on" not in line:
        raise SystemExit(f"the server did not start: {line}{process.stderr.read()}")
    return process


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client(port: int, addresses: list[str], latencies: list[float], failures: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": ORIGIN}
    for address in addresses:
        body = urlencode({"email": address, "name": "Reader", "where": "general"})
        started = time.perf_counter()
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


def run_load(signups: int, clients: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="signup-bench-") as folder:
        root = make_project(Path(folder))
        port = free_port()
        server = start_server(root, port)
        try:
            addresses = [f"reader{n:05d}@example.com" for n in range(signups)]
            shares = [addresses[n::clients] for n in range(clients)]
            latencies: list[float] = []
            failures: list[str] = []
            cpu_before = cpu_seconds(server.pid)
            threads = [threading.Thread(target=client, args=(port, share, latencies, failures)) for share in shares]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(server.pid) - cpu_before
            mails, drained = wait_for_mail(root, signups)
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=30)
        stored = stored_readers(root)
        latencies.sort()
        return {
            "clients": clients,
            "signups": signups,
            "per_second": signups / elapsed,
            "p50": statistics.median(latencies) * 1000,
            "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
            "max": latencies[-1] * 1000,
            "cpu_ms": cpu / signups * 1000,
            "failures": failures,
            "lost": len(set(addresses) - set(stored)),
            "duplicated": len(stored) - len(set(stored)),
            "mails": mails,
            "mails_per_second": len(mails) / drained if drained else 0.0,
        }


def wait_for_mail(root: Path, expected: int, timeout: float = 300) -> tuple[list[str], float]:
    folder = root / "outbox" / "readers"
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        files = list(folder.glob("*.eml")) if folder.is_dir() else []
        if len(files) >= expected:
            break
        time.sleep(0.2)
    drained = time.perf_counter() - started
    recipients = [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)["To"].addresses[0].addr_spec
        for path in folder.glob("*.eml")
    ]
    return recipients, drained


def stored_readers(root: Path) -> list[str]:
    with sqlite3.connect(root / ".newsletter" / "subscribers.sqlite3") as db:
        return [email for (email,) in db.execute("SELECT email FROM subscribers WHERE status = 'pending'")]


def table_alone(signups: int) -> float:
    """Signups a second into the subscriber table itself: one process, one transaction each."""
    from pipeline.deliver.subscribers import Subscriber, SubscriberStore

    with (
        tempfile.TemporaryDirectory(prefix="signup-bench-db-") as folder,
        SubscriberStore(Path(folder) / "subscribers.sqlite3") as store,
    ):
        started = time.perf_counter()
        for n in range(signups):
            store.sign_up(Subscriber(f"reader{n:05d}@example.com", "Reader", stage="general"), mails_per_day=3)
        return signups / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signups", type=int, default=500)
    parser.add_argument("--clients", default="50", help="concurrent clients, or a comma-separated list of loads")
    arguments = parser.parse_args()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    print(f"commit {commit.stdout.strip()}, {os.cpu_count()} cores, {arguments.signups} signups per load")
    print(
        f"{'clients':>7} {'signups/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu ms':>7} "
        f"{'lost':>5} {'dup':>4} {'errors':>6} {'emails':>7} {'emails/s':>9}"
    )
    ok = True
    for clients in (int(value) for value in arguments.clients.split(",")):
        r = run_load(arguments.signups, clients)
        print(
            f"{r['clients']:>7} {r['per_second']:>10.0f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['max']:>8.1f} "
            f"{r['cpu_ms']:>7.2f} {r['lost']:>5} {r['duplicated']:>4} {len(r['failures']):>6} "
            f"{len(set(r['mails']))}/{len(r['mails'])}".ljust(0)
            + f" {r['mails_per_second']:>9.0f}"
        )
        ok = (
            ok and not (r["lost"] or r["duplicated"] or r["failures"]) and sorted(r["mails"]) == sorted(set(r["mails"]))
        )
        for failure in r["failures"][:5]:
            print("   ", failure)
    print(f"the subscriber table alone (no HTTP): {table_alone(arguments.signups):.0f} signups/s")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
