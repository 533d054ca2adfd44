"""CPU time of one email render, for comparing two trees of the code in the same hour.

    .venv/bin/python bench/email_cpu.py [RENDERS]                  # default 100
    .venv/bin/python bench/email_cpu.py [RENDERS] --against TREE   # this tree and TREE, alternating 3 times
    .venv/bin/python bench/email_cpu.py [RENDERS] --phases         # where a first version's time goes
    .venv/bin/python bench/email_cpu.py RENDERS --just [--further]  # renders only, for instruction counts

Renders issue 2026-W48 of the 1k bench corpus (bench/work/corpus-1000, made by bench/run.py)
RENDERS times after 5 warm-ups with the `pipeline` found first on PYTHONPATH, and prints the
median and min CPU time (process_time) of one `render_email`, two ways:

- first version: every Markdown field converted (the build's first or only version of the week);
- further version: the fields converted already (`ConvertedFields`, shared by a build's stage
  versions); a tree without it prints only the first.

CPU time is steadier than wall time on a shared machine; `--against` alternates the trees in
one run and prints the ratio. BASELINE_MS is the issue's starting figure (issue 20).
`--just` renders RENDERS times after one warm-up and prints nothing: run it under
`valgrind --tool=callgrind` with two RENDERS and divide the difference of the "Collected" totals
by the difference of RENDERS (loading the corpus cancels out). `--phases` times the steps of a
first version by wrapping them (CPU per render; nested steps are inside their callers' figures,
the wrappers add a little).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASELINE_MS = 32.0  # main at 4ab1932 (issue 20: 31-34 ms CPU per render on 2026-12-04)


def just_render(renders: int, further: bool) -> None:
    sys.path.insert(0, str(BENCH_DIR))
    import corpus as corpus_module

    from pipeline.content.assemble import assemble_issue
    from pipeline.content.load import load_content
    from pipeline.core.config import load_config
    from pipeline.render import email

    project = corpus_module.ensure_corpus(1000, BENCH_DIR / "work" / "corpus-1000", log=print) / "ours"
    config = load_config(project)
    issue = assemble_issue(load_content(config), config, corpus_module.ISSUE_WEEK)
    shared = {"fields": email.ConvertedFields(config)} if further else {}
    email.render_email(issue, config, config.unsubscribe_url, **shared)
    for _ in range(renders):
        email.render_email(issue, config, config.unsubscribe_url, **shared)


def measure(renders: int, ways=("first version", "further version"), before_timing=None) -> dict:
    sys.path.insert(0, str(BENCH_DIR))
    import corpus as corpus_module

    from pipeline.content.assemble import assemble_issue
    from pipeline.content.load import load_content
    from pipeline.core.config import load_config
    from pipeline.render import email

    project = corpus_module.ensure_corpus(1000, BENCH_DIR / "work" / "corpus-1000", log=print) / "ours"
    config = load_config(project)
    issue = assemble_issue(load_content(config), config, corpus_module.ISSUE_WEEK)
    shared = email.ConvertedFields(config) if hasattr(email, "ConvertedFields") else None
    renderers = {"first version": lambda: email.render_email(issue, config, config.unsubscribe_url)}
    if shared is not None:
        renderers["further version"] = lambda: email.render_email(issue, config, config.unsubscribe_url, fields=shared)
    figures = {}
    for name, render in renderers.items():
        if name not in ways:
            continue
        for _ in range(5):
            render()
        if before_timing:
            before_timing()
        times = []
        for _ in range(renders):
            started = time.process_time()
            render()
            times.append((time.process_time() - started) * 1000)
        figures[name] = (statistics.median(times), min(times), statistics.mean(times))
    print(email.__file__)
    for name, (median, least, _) in figures.items():
        ratio = f"{median / BASELINE_MS:.2f}x of {BASELINE_MS:.0f} ms"
        print(f"  {name}: median {median:.2f} ms min {least:.2f} ms CPU ({ratio})")
    return figures


# step -> (module, function): what --phases wraps, where it is looked up (missing ones are skipped)
PHASES = {
    "Markdown, all of it": ("pipeline.render.markdown", "MarkdownRenderer._convert"),
    "  lists (markdown-it)": ("pipeline.render.markdown", "as_python_markdown"),
    "  block parsing": ("markdown.blockparser", "BlockParser.parseDocument"),
    "  inline patterns": ("pipeline.render.markdown", "_TriggeredInlineProcessor.run"),
    "  typography": ("pipeline.render.typography", "_TypographyProcessor.run"),
    "  toc (heading ids)": ("markdown.extensions.toc", "TocTreeprocessor.run"),
    "  sanitiser check / nh3": ("pipeline.render.markdown", "email_safe"),
    "  text from the tree": ("pipeline.render.markdown", "tree_to_text"),
    "  text by html2text": ("pipeline.render.markdown", "html_to_text"),
    "text by html2text (old)": ("pipeline.render.email", "html_to_text"),
    "Jinja": ("pipeline.render.email", "_render"),
    "MJML (mjml-python)": ("pipeline.render.email", "_compile"),
    "CSS inlining (css-inline)": ("pipeline.render.email", "_inline_css"),
    "wrapping the text": ("pipeline.render.email", "wrap_text"),
}


def phases(renders: int) -> None:
    import functools
    import importlib

    totals: dict[str, float] = {}

    def timed(name, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                totals[name] = totals.get(name, 0.0) + time.process_time() - started

        return wrapper

    for name, (module_name, attribute) in PHASES.items():
        owner = importlib.import_module(module_name)
        *path, last = attribute.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        if owner is not None and hasattr(owner, last):
            setattr(owner, last, timed(name, getattr(owner, last)))
    figures = measure(renders, ways=("first version",), before_timing=totals.clear)
    whole = figures["first version"][2]
    for name in PHASES:
        if name in totals:
            print(f"  {name:28s} {totals[name] / renders * 1000:6.2f} ms")
    print(f"  {'whole render (mean)':28s} {whole:6.2f} ms")


def against(renders: int, other: str) -> None:
    here = str(BENCH_DIR.parent)
    results: dict[str, list[float]] = {here: [], other: []}
    for _ in range(3):
        for tree in (other, here):
            environment = {**os.environ, "PYTHONPATH": tree}
            output = subprocess.run(
                [sys.executable, __file__, str(renders)], env=environment, capture_output=True, text=True, check=True
            ).stdout
            print(output, end="")
            first = next(line for line in output.splitlines() if "first version" in line)
            results[tree].append(float(first.split("median ")[1].split(" ms")[0]))
    mine, theirs = statistics.median(results[here]), statistics.median(results[other])
    print(f"first version, median of 3 runs: {here} {mine:.2f} ms, {other} {theirs:.2f} ms: {mine / theirs:.2f}x")


def main() -> None:
    arguments = sys.argv[1:]
    renders = int(arguments[0]) if arguments and arguments[0].isdigit() else 100
    if "--against" in arguments:
        against(renders, arguments[arguments.index("--against") + 1])
    elif "--just" in arguments:
        just_render(renders, "--further" in arguments)
    elif "--phases" in arguments:
        phases(renders)
    else:
        measure(renders)


if __name__ == "__main__":
    main()
