"""CPU time of one email render, for comparing two trees of the code in the same hour.

    PYTHONPATH=TREE .venv/bin/python bench/email_cpu.py [RENDERS]   # default 100

Renders issue 2026-W48 of the 1k bench corpus (bench/work/corpus-1000, made by bench/run.py)
RENDERS times after 5 warm-ups with the `pipeline` found first on PYTHONPATH, and prints the
median and min CPU time (process_time) of one `render_email`. CPU time is steadier than wall
time on a shared machine; alternate the trees in one run.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import corpus as corpus_module  # noqa: E402

from pipeline.content.assemble import assemble_issue  # noqa: E402
from pipeline.content.load import load_content  # noqa: E402
from pipeline.core.config import load_config  # noqa: E402
from pipeline.render import email  # noqa: E402


def main() -> None:
    renders = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    project = corpus_module.ensure_corpus(1000, BENCH_DIR / "work" / "corpus-1000", log=print) / "ours"
    config = load_config(project)
    issue = assemble_issue(load_content(config), config, corpus_module.ISSUE_WEEK)
    for _ in range(5):
        email.render_email(issue, config, config.unsubscribe_url)
    times = []
    for _ in range(renders):
        started = time.process_time()
        email.render_email(issue, config, config.unsubscribe_url)
        times.append((time.process_time() - started) * 1000)
    print(f"{email.__file__}: median {statistics.median(times):.2f} ms min {min(times):.2f} ms CPU")


if __name__ == "__main__":
    main()
