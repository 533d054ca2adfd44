"""The write step of a cold build over an existing dist/site/, the two ways `write_tree` can do it.

    .venv/bin/python bench/site_write.py bench/work/nocache-10000/dist/site   # a site a build wrote

Reads every file of the built site into memory (what a build hands `write_tree`), then, in a
copy of the site, times each way over the copy, alternating, 3 rounds: a new tree written beside
the old one, swapped in and the old one deleted (what --no-cache did), and the update in place
that leaves files already holding their bytes (what it does now). Then the whole write step of
a build, which also stages dist/ so readers see the old tree or the new one (tools/files.staged):
the staged copy made of hard links and the old tree deleted after the swap (before), and the
staged copy taken from the spare tree the build before left (now). Wall and CPU time of this
process, median of the rounds.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.tools.files import files_in, staged, write_tree  # noqa: E402


def main() -> None:
    site = Path(sys.argv[1]).resolve()
    files = {relative: (site / relative).read_bytes() for relative in sorted(files_in(site))}
    copy = site.parent / "site-write-bench" / "site"
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(site, copy)
    ways = {
        "new tree, old one deleted": lambda: write_tree(copy, files),
        "in place, identical files kept": lambda: write_tree(copy, files, previous=files_in(copy), keep_identical=True),
        "staged, copy made and deleted": lambda: staged_write(copy, files, spare=None),
    }
    spare = site.parent / "site-write-spare"
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    for _ in range(3):
        for name, way in ways.items():
            wall, cpu = time.perf_counter(), time.process_time()
            way()
            timings[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    # The spare way in rounds of its own: the other ways write every file anew, which leaves the
    # spare nothing in common with the site; after a build the spare differs by that build's changes.
    staged_write(copy, files, spare=spare)  # makes the spare
    timings["staged from the spare"] = []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        staged_write(copy, files, spare=spare)
        timings["staged from the spare"].append((time.perf_counter() - wall, time.process_time() - cpu))
    timings["staged, into no dist/ (a first build)"] = []
    empty = site.parent / "site-write-first" / "site"
    for _ in range(3):
        shutil.rmtree(empty.parent, ignore_errors=True)  # not timed: a first build finds nothing there
        wall, cpu = time.perf_counter(), time.process_time()
        staged_write(empty, files, spare=None)
        timings["staged, into no dist/ (a first build)"].append((time.perf_counter() - wall, time.process_time() - cpu))
    shutil.rmtree(empty.parent, ignore_errors=True)
    print(f"{len(files):,} files, {sum(map(len, files.values())) / 2**20:.0f} MiB")
    for name, runs in timings.items():
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        print(f"{name:38} wall {wall:6.2f} s  cpu {cpu:6.2f} s  (walls {', '.join(f'{r[0]:.2f}' for r in runs)})")
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.rmtree(site.parent / "site-write-spare", ignore_errors=True)


def staged_write(site: Path, files: dict[str, bytes], spare: Path | None) -> None:
    """What build/run.py does with --no-cache over an existing dist/: stage, update in place, swap."""
    with staged(site.parent, spare=spare) as scratch:
        write_tree(scratch / site.name, files, previous=files_in(scratch / site.name), keep_identical=True)


if __name__ == "__main__":
    main()
