"""Warm `make demo`: the time from typing it to the demo built and pushed, when the venv is
installed and nothing changed (the target: under 5 s). Prints each run's wall and CPU time
(user+sys of make and everything it starts), the median, and the load average, since on a shared
machine the wall time follows the load while the CPU time does not.

    python3 bench/warm_demo.py [--rounds 7]        # from the repository root

The first run installs whatever is missing and is not counted."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 5.0


def timed_make_demo() -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(["make", "demo"], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    timed_make_demo()  # installs if needed; builds the cache the warm runs reuse
    walls, cpus = [], []
    for number in range(1, rounds + 1):
        wall, cpu = timed_make_demo()
        walls.append(wall)
        cpus.append(cpu)
        print(f"run {number}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    median = statistics.median(walls)
    print(
        f"warm make demo: median {median:.2f} s wall (min {min(walls):.2f}, max {max(walls):.2f}), "
        f"median {statistics.median(cpus):.2f} s CPU; target {TARGET_SECONDS:.0f} s: "
        f"{median / TARGET_SECONDS:.2f} of it; load average {os.getloadavg()[0]:.1f}"
    )
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
