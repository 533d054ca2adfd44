"""Preview latency: from saving an article to the rebuilt page being served, at 1k articles.

    .venv/bin/python bench/preview_latency.py [PROJECT]    # default: bench/work/corpus-1000/ours

Starts `newsletter preview` in-process (pipeline/authoring/preview/), appends a line to one article six
times, and for each save times: the watcher noticing it, the rebuild, the new build version that
the open page's Server-Sent Events stream reloads on, and fetching the page. Build the project
once first (`newsletter build --root PROJECT`) so the cache is warm, as a writer's would be.
The article keeps the lines it got: the bench corpus is regenerated when corpus.py changes.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from pipeline.authoring.preview.server import start_preview  # noqa: E402
from pipeline.cli.main import build_for_list  # noqa: E402
from pipeline.tools.console import QUIET, Console  # noqa: E402

SAVES = 6


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else BENCH_DIR / "work" / "corpus-1000" / "ours"
    running = start_preview(
        root, "2026-W48", 0, Console(QUIET, color=False, stdout=io.StringIO(), stderr=io.StringIO()), build_for_list
    )
    article = sorted((root / "content" / "articles").glob("*.md"))[5]
    page = f"site/articles/{article.stem}/"
    times = []
    try:
        for _ in range(SAVES):
            seen = running.builder.snapshot.tag
            marker = f"Saved edit {time.time_ns()}."
            started = time.perf_counter()
            with open(article, "a", encoding="utf-8") as handle:
                handle.write(f"\n{marker}\n")
            running.builder.wait_for_change(seen, 30)
            body = urllib.request.urlopen(running.url + page, timeout=10).read().decode()
            if marker not in body:
                raise SystemExit(f"{page} was not rebuilt with the saved change")
            times.append(time.perf_counter() - started)
            time.sleep(0.3)  # let the watcher settle between saves
    finally:
        running.stop()
    print(
        f"save -> reloaded page: median {statistics.median(times):.3f} s "
        f"({min(times):.3f}-{max(times):.3f}) over {SAVES} saves"
    )


if __name__ == "__main__":
    main()
