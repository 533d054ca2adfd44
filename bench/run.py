"""Build-speed benchmark: newsletter against Hugo and Pelican on the same generated corpora.

    /work/main/.venv/bin/python bench/run.py                      # everything, default rounds
    /work/main/.venv/bin/python bench/run.py --sizes 1000 --only hugo,pelican
    /work/main/.venv/bin/python bench/run.py --sizes 10000 --rounds 2 --scenarios cold,noop
    /work/main/.venv/bin/python bench/run.py --only ours --no-builds   # the email render alone

For each corpus size and round, each scenario runs every tool in turn (the order rotates each
round, so drift on these machines hits all tools alike):
  cold   no output, no cache (ours with --no-cache): a full build of blog (+ the week's email)
  noop   the same build again with nothing changed
  touch  one article's text changed, then build
Each build's wall time, CPU time (user+sys of the whole process tree) and peak memory (the larger
of the biggest single process and the sampled sum over the process tree) are recorded; the
summary gives median and min-max, and our time over Hugo's and over Pelican's.

The email benchmark renders one issue in-process (Jinja -> MJML -> HTML + text) many times, and
compiles the very same MJML with mjml-python in-process and with the reference npm `mjml` in a
node process that loops `mjml2html` (node startup excluded).

Results go to bench/results/<date>-<host>.json and .md; a later run on the same day and host
replaces the (size, tool) entries it measured and keeps the others, each marked with its run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORK = BENCH_DIR / "work"
RESULTS = BENCH_DIR / "results"
sys.path.insert(0, str(BENCH_DIR))

import corpus as corpus_module  # noqa: E402  (bench/ is not a package)

OUR_PYTHON = REPO / ".venv" / "bin" / "python"
OUR_CLI = REPO / ".venv" / "bin" / "newsletter"
PELICAN = WORK / "pelican-venv" / "bin" / "pelican"
NODE_MJML = WORK / "node_modules" / "mjml"
SCENARIOS = ("cold", "noop", "touch")
TOOLS_ORDER = ("ours", "hugo", "pelican")
DEFAULT_ROUNDS = {1000: 3, 10000: 2}
EDITED_ARTICLE = 2  # one of the issue week's articles: the edit a writer makes most often
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

TARGETS = """\
Targets (issue): cold build <= Hugo and >= 5x faster than Pelican; at 10k, no-change and
one-article rebuilds under 1 s; peak memory under Hugo's; email render under 10 ms."""


# ---- tools --------------------------------------------------------------------------------


@dataclass
class Tool:
    """How to build one tool's copy of the corpus. `command(project, cold)` is the build."""

    name: str
    command: Callable[[Path, bool], list[str]]
    outputs: Callable[[Path], list[Path]]  # output and cache folders a cold build starts without
    expected: Callable[[Path], list[Path]]  # files a finished build must have written
    version: Callable[[], str]
    available: Callable[[], str | None]  # None when usable, else why not
    env: dict[str, str] | None = None  # extra environment for the build


def run_text(command: list[str], cwd: Path | None = None, env: dict | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )
    return (done.stdout or done.stderr).strip()


def our_cli() -> list[str]:
    """The installed `newsletter` script, or the package run from the repo when not installed."""
    return [str(OUR_CLI)] if OUR_CLI.exists() else [str(OUR_PYTHON), "-m", "pipeline"]


OUR_ENV = {"PYTHONPATH": str(REPO)}  # for `python -m pipeline` from the corpus folder


def ours_tool() -> Tool:
    week = corpus_module.ISSUE_WEEK
    no_cache = None

    def command(project: Path, cold: bool) -> list[str]:
        nonlocal no_cache
        if no_cache is None:
            no_cache = "--no-cache" in run_text([*our_cli(), "build", "--help"], env=OUR_ENV)
        flags = ["--no-cache"] if cold and no_cache else []
        return [*our_cli(), "build", "--root", str(project), "--week", week, *flags]

    def available() -> str | None:
        probe = subprocess.run(
            [str(OUR_PYTHON), "-c", "import pipeline.build.run, pipeline.cli.main"],
            capture_output=True,
            text=True,
            env={**os.environ, **OUR_ENV},
        )
        if probe.returncode != 0:
            return f"the pipeline does not import yet: {probe.stderr.strip().splitlines()[-1]}"
        return None

    def version() -> str:
        commit = run_text(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
        dirty = run_text(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
        import tomllib

        version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
        return f"newsletter {version} (git {commit}{'+changes' if dirty else ''})"

    return Tool(
        name="ours",
        command=command,
        outputs=lambda p: [p / "dist", p / ".newsletter"],
        expected=lambda p: [p / "dist" / "site" / "index.html", p / "dist" / "email" / week],
        version=version,
        available=available,
        env=OUR_ENV,
    )


def hugo_tool() -> Tool:
    def command(project: Path, cold: bool) -> list[str]:
        return [
            "hugo",
            "--source",
            str(project),
            "--destination",
            "public",
            "--cacheDir",
            str(project / ".hugo-cache"),
            "--quiet",
        ]

    return Tool(
        name="hugo",
        command=command,
        outputs=lambda p: [p / "public", p / "resources", p / ".hugo-cache", p / ".hugo_build.lock"],
        expected=lambda p: [p / "public" / "index.html", p / "public" / "index.xml"],
        version=lambda: run_text(["hugo", "version"]).split("+")[0],
        available=lambda: None if shutil.which("hugo") else "hugo is not installed (bench/setup.sh)",
    )


def pelican_tool() -> Tool:
    def command(project: Path, cold: bool) -> list[str]:
        return [str(PELICAN), "content", "-s", "pelicanconf.py", "-o", "output", "-q"]

    return Tool(
        name="pelican",
        command=command,
        outputs=lambda p: [p / "output", p / "cache", p / "__pycache__"],
        expected=lambda p: [p / "output" / "index.html", p / "output" / "feed.xml"],
        version=lambda: f"pelican {run_text([str(PELICAN), '--version'])}",
        available=lambda: None if PELICAN.exists() else "pelican is not installed (bench/setup.sh)",
    )


TOOLS: dict[str, Callable[[], Tool]] = {"ours": ours_tool, "hugo": hugo_tool, "pelican": pelican_tool}


# ---- measuring one build ------------------------------------------------------------------


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # user + sys seconds of the process and every descendant it waited for
    peak_rss: int  # bytes
    load: float  # the machine's 1-minute load average when the build started: other work skews wall time


class TreeMemorySampler(threading.Thread):
    """Polls the summed RSS of a process and its descendants (tools may fork workers)."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak = max(self.peak, sum(rss_bytes(pid) for pid in process_tree(self.pid)))
            self.stopped.wait(self.interval)


def process_tree(root: int) -> list[int]:
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    pending.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


class BuildFailed(Exception):
    pass


def build_environment(extra: dict | None) -> dict[str, str]:
    """This environment plus a tool's own variables, without PYTHONDONTWRITEBYTECODE: some
    sandboxes set it, and then every run of a Python tool compiles its modules again, which no
    user's machine does (about 0.1 s of each of our builds)."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {**environment, **(extra or {})}


def measure(command: list[str], cwd: Path, log: Path, timeout: float, env: dict | None = None) -> Sample:
    with open(log, "ab") as output:
        output.write(f"\n$ {' '.join(command)}\n".encode())
        output.flush()
        load = os.getloadavg()[0]
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=build_environment(env),
        )
        sampler = TreeMemorySampler(process.pid)
        sampler.start()
        killer = threading.Timer(timeout, kill_group, (process.pid,))
        killer.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        killer.cancel()
        sampler.stopped.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
    if process.returncode != 0:
        reason = f"killed after {timeout:.0f} s" if process.returncode == -9 else f"exit {process.returncode}"
        raise BuildFailed(f"{' '.join(command)}: {reason}; see {log}\n{tail(log)}")
    peak = max(sampler.peak, usage.ru_maxrss * 1024)
    return Sample(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_rss=peak, load=load)


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have finished just now
        os.killpg(pid, 9)


def tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# ---- rounds -------------------------------------------------------------------------------


@dataclass
class ToolRun:
    tool: Tool
    project: Path
    edited: Path
    original_text: str
    built: bool = False
    failure: str | None = None
    samples: dict[str, list[Sample]] = field(default_factory=dict)


def clean(run: ToolRun) -> None:
    for path in run.tool.outputs(run.project):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    run.built = False


def edit_article(run: ToolRun, round_number: int) -> None:
    """Add a closing paragraph, different each round, the same way for every tool."""
    marker = "\n\nEdited for the benchmark"
    run.edited.write_text(run.original_text + f"{marker}, round {round_number}: one more gentle sentence.\n")


def build_once(run: ToolRun, scenario: str, round_number: int, log: Path, timeout: float) -> Sample:
    if scenario == "cold":
        clean(run)
    elif not run.built:  # a rebuild needs a finished build to start from
        measure(run.tool.command(run.project, False), run.project, log, timeout, run.tool.env)
    if scenario == "touch":
        edit_article(run, round_number)
    sample = measure(run.tool.command(run.project, scenario == "cold"), run.project, log, timeout, run.tool.env)
    missing = [str(p) for p in run.tool.expected(run.project) if not p.exists()]
    if missing:
        raise BuildFailed(f"{run.tool.name} {scenario}: the build did not write {', '.join(missing)}; see {log}")
    run.built = True
    return sample


def rotated(items: list, by: int) -> list:
    by %= max(1, len(items))
    return items[by:] + items[:by]


def bench_size(
    size: int, tools: list[Tool], scenarios: list[str], rounds: int, timeout: float, deadline: float, say
) -> dict[str, ToolRun]:
    root = corpus_module.ensure_corpus(size, WORK / f"corpus-{size}", log=say)
    article = corpus_module.article_file_name(size, EDITED_ARTICLE)
    runs = {}
    for tool in tools:
        project = root / tool.name
        edited = project / "content" / "articles" / article
        runs[tool.name] = ToolRun(tool, project, edited, edited.read_text())
    log = WORK / f"build-{size}.log"
    log.write_text("")
    try:
        for round_number in range(1, rounds + 1):
            if round_number > 1 and time.monotonic() > deadline:
                say(f"  time budget spent: stopping {size} after {round_number - 1} round(s)")
                break
            for scenario in scenarios:
                for run in rotated([r for r in runs.values() if not r.failure], round_number - 1):
                    try:
                        sample = build_once(run, scenario, round_number, log, timeout)
                    except BuildFailed as failure:
                        run.failure = f"round {round_number} {scenario}: {failure}"
                        say(f"  {run.tool.name} FAILED, left out from now on: {failure}")
                        continue
                    run.samples.setdefault(scenario, []).append(sample)
                    say(
                        f"  {size:>6} round {round_number} {scenario:<5} {run.tool.name:<8} "
                        f"wall {sample.wall:7.2f} s  cpu {sample.cpu:7.2f} s  peak "
                        f"{mib(sample.peak_rss):6.0f} MiB  load {sample.load:4.1f}"
                    )
    finally:
        for run in runs.values():
            run.edited.write_text(run.original_text)
    return runs


# ---- email render -------------------------------------------------------------------------


def timings_ms(function: Callable[[], object], iterations: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(iterations):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def our_issue(project: Path):
    sys.path.insert(0, str(REPO))
    from pipeline.content.assemble import assemble_issue
    from pipeline.content.load import load_content
    from pipeline.core.config import load_config

    config = load_config(project)
    issue = assemble_issue(load_content(config), config, corpus_module.ISSUE_WEEK)
    if issue is None:
        raise BuildFailed(f"no issue for {corpus_module.ISSUE_WEEK} in {project}")
    return config, issue


class _MjmlRecorder:
    """Stands in for the `mjml` module inside our renderer and keeps what it is asked to compile."""

    def __init__(self, real):
        self.real = real
        self.sources: list[str] = []
        self.options: dict = {}

    def __getattr__(self, name):
        return getattr(self.real, name)

    def mjml2html(self, source, *args, **kwargs):
        self.sources.append(source)
        self.options = kwargs
        return self.real.mjml2html(source, *args, **kwargs)


def our_email_mjml(email_module, issue, config, unsubscribe_url: str) -> tuple[str, dict, str]:
    """The MJML string our renderer hands to the MJML compiler for this issue, the keyword
    options it compiles with, and how it was got.

    Prefers a public `render_mjml(issue, config, unsubscribe_url)`; otherwise renders once with
    the renderer's `mjml` module replaced by a recorder (article HTML stays out of that MJML as
    placeholders, exactly as our compile sees it)."""
    public = getattr(email_module, "render_mjml", None)
    if public is not None:
        return public(issue, config, unsubscribe_url), {}, "render_mjml"
    import mjml as mjml_python

    recorder = _MjmlRecorder(mjml_python)
    if getattr(email_module, "mjml", None) is mjml_python:
        name, stand_in = "mjml", recorder
    elif getattr(email_module, "mjml2html", None) is mjml_python.mjml2html:
        name, stand_in = "mjml2html", recorder.mjml2html
    else:
        raise BuildFailed("pipeline.render.email neither has render_mjml nor calls mjml-python's mjml2html")
    original = getattr(email_module, name)
    setattr(email_module, name, stand_in)
    try:
        email_module.render_email(issue, config, unsubscribe_url)
    finally:
        setattr(email_module, name, original)
    if len(recorder.sources) != 1:
        raise BuildFailed(f"render_email compiled {len(recorder.sources)} MJML documents; expected one")
    return recorder.sources[0], recorder.options, "recorded from render_email's call to mjml2html"


def node_mjml_timings(mjml_path: Path, iterations: int) -> list[float]:
    script = BENCH_DIR / "mjml_bench.js"
    done = subprocess.run(
        ["node", str(script), str(mjml_path), str(iterations)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NODE_PATH": str(WORK / "node_modules")},
    )
    if done.returncode != 0:
        raise BuildFailed(f"node mjml failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)["ms"]


def bench_email(iterations: int, say) -> dict:
    project = corpus_module.ensure_corpus(1000, WORK / "corpus-1000", log=say) / "ours"
    config, issue = our_issue(project)
    from pipeline.render import email as email_module

    unsubscribe = config.unsubscribe_url
    result = {
        "issue": {"week": issue.week, "articles": len(issue.articles)},
        "iterations": iterations,
        "ours_render_ms": timings_ms(lambda: email_module.render_email(issue, config, unsubscribe), iterations),
    }
    say(f"  email: our full render {summary(result['ours_render_ms'])['median']:.2f} ms median")
    mjml, options, how = our_email_mjml(email_module, issue, config, unsubscribe)
    result["mjml_from"] = how
    mjml_path = WORK / "email.mjml"
    mjml_path.write_text(mjml)
    result["mjml_bytes"] = len(mjml.encode())
    import mjml as mjml_python

    result["mjml_python_compile_ms"] = timings_ms(lambda: mjml_python.mjml2html(mjml, **options), iterations)
    if NODE_MJML.exists():
        result["node_mjml_compile_ms"] = node_mjml_timings(mjml_path, iterations)
    for key in ("mjml_python_compile_ms", "node_mjml_compile_ms"):
        if key in result:
            say(f"  email: {key} {summary(result[key])['median']:.2f} ms median")
    return result


# ---- machine, summary, results ------------------------------------------------------------


def machine_info() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "host": socket.gethostname(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": run_text(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": platform.python_version(),
    }


def tool_versions(tools: list[Tool], with_email: bool) -> dict:
    versions = {tool.name: tool.version() for tool in tools}
    if with_email:
        versions["node"] = run_text(["node", "--version"])
        if NODE_MJML.exists():
            versions["mjml (npm)"] = json.loads((NODE_MJML / "package.json").read_text())["version"]
        from importlib.metadata import version

        versions["mjml-python"] = version("mjml-python")
    return versions


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def mib(value: float) -> float:
    return value / 1024**2


def runs_to_json(runs: dict[str, ToolRun], started: str) -> dict:
    entries = {}
    for name, run in runs.items():
        entries[name] = {
            "run": started,
            "failure": run.failure,
            "scenarios": {
                scenario: {
                    "wall_s": [s.wall for s in samples],
                    "cpu_s": [s.cpu for s in samples],
                    "peak_rss_bytes": [s.peak_rss for s in samples],
                    "load_1min": [s.load for s in samples],
                }
                for scenario, samples in run.samples.items()
            },
        }
    return entries


def merge_results(path: Path, new: dict) -> dict:
    """Keep (size, tool) entries from an earlier run today that this run did not measure."""
    if not path.exists():
        return new
    old = json.loads(path.read_text())
    merged = {**old, **{k: v for k, v in new.items() if k not in ("builds", "email", "versions")}}
    merged["versions"] = {**old.get("versions", {}), **new["versions"]}
    merged["runs"] = {**old.get("runs", {}), **new["runs"]}
    merged["builds"] = old.get("builds", {})
    for size, tools in new["builds"].items():
        merged["builds"].setdefault(size, {}).update(tools)
    merged["email"] = new.get("email") or old.get("email")
    return merged


def format_range(values: list[float], unit: str, scale: float = 1.0) -> str:
    s = summary([v * scale for v in values])
    digits = 2 if s["median"] < 100 and unit != "MiB" else 0
    return f"{s['median']:.{digits}f} {unit} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def load_text(data: dict) -> str:
    loads = data.get("load_1min")
    return f"{statistics.median(loads):.1f}" if loads else "-"


def ratio(ours: list[float], other: list[float]) -> str:
    return f"{statistics.median(ours) / statistics.median(other):.2f}"


def report_markdown(results: dict) -> str:
    machine, lines = results["machine"], []
    lines += [f"# Build benchmark, {results['started'][:10]} on {machine['host']}", ""]
    lines += [
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"{machine['os']}, kernel {machine['kernel']}, Python {machine['python']}.",
        "",
    ]
    lines += ["Versions: " + "; ".join(f"{k}: {v}" for k, v in results["versions"].items()) + ".", ""]
    lines += ["Runs (UTC start, command, load average at start):", ""]
    lines += [
        f"- {started[11:19]}: `{run['command']}` (load {run['load']:.1f}"
        f"{'; ' + run['versions']['ours'] if 'ours' in run.get('versions', {}) else ''})"
        for started, run in sorted(results["runs"].items())
    ]
    lines += [""]
    lines += [
        "Times are median (min-max) over the rounds; CPU is user+sys of the process tree; load is the "
        f"median 1-minute load average when the builds started (above {machine['cores']}, other work on "
        "the machine inflated wall times: trust the CPU column more).",
        "",
    ]
    for size, tools in sorted(results["builds"].items(), key=lambda item: int(item[0])):
        lines += [
            f"## {int(size):,} articles",
            "",
            "| tool | scenario | rounds | wall | CPU | peak memory | load | run |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name in sorted(tools, key=lambda n: TOOLS_ORDER.index(n) if n in TOOLS_ORDER else 99):
            for scenario, data in tools[name]["scenarios"].items():
                lines.append(
                    f"| {name} | {scenario} | {len(data['wall_s'])} | {format_range(data['wall_s'], 's')} | "
                    f"{format_range(data['cpu_s'], 's')} | "
                    f"{format_range(data['peak_rss_bytes'], 'MiB', 1 / 1024**2)} | "
                    f"{load_text(data)} | {tools[name]['run'][11:19]} |"
                )
            if tools[name].get("failure"):
                lines.append(f"| {name} | FAILED | | {tools[name]['failure'].splitlines()[0]} | | | | |")
        lines += [""] + ratio_lines(tools) + [""]
    email = results.get("email")
    if email and "failure" in email:
        lines += ["## Email render, one issue", "", f"FAILED: {email['failure']}", ""]
    elif email:
        lines += [
            "## Email render, one issue",
            "",
            f"Issue {email['issue']['week']} with {email['issue']['articles']} articles, "
            f"{email['iterations']} iterations each. The MJML ({email.get('mjml_bytes', 0):,} bytes, "
            f"{email.get('mjml_from', 'not extracted')}) keeps article HTML out as "
            "placeholders, as our compile sees it.",
            "",
            "| what | time per issue |",
            "|---|---|",
        ]
        for key, label in (
            ("ours_render_ms", "ours: Jinja -> MJML -> HTML + text (render_email)"),
            ("mjml_python_compile_ms", "mjml-python compiling our MJML"),
            ("node_mjml_compile_ms", "npm mjml compiling our MJML (in node, no startup)"),
        ):
            if key in email:
                lines.append(f"| {label} | {format_range(email[key], 'ms')} |")
        if "note" in email:
            lines += ["", email["note"]]
        lines.append("")
    lines += [TARGETS, ""]
    return "\n".join(lines)


def ratio_lines(tools: dict) -> list[str]:
    if "ours" not in tools:
        return ["Ratios: ours was not measured in this file."]
    lines = []
    for other in ("hugo", "pelican"):
        if other not in tools:
            continue
        same_run = " (different runs)" if tools[other]["run"] != tools["ours"]["run"] else ""
        for scenario, data in tools["ours"]["scenarios"].items():
            theirs = tools[other]["scenarios"].get(scenario)
            if theirs:
                lines.append(
                    f"- ours / {other}, {scenario}: wall {ratio(data['wall_s'], theirs['wall_s'])}, "
                    f"CPU {ratio(data['cpu_s'], theirs['cpu_s'])}, "
                    f"peak memory {ratio(data['peak_rss_bytes'], theirs['peak_rss_bytes'])}{same_run}"
                )
    return lines


# ---- command line -------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated (default 1000,10000)")
    parser.add_argument("--only", default=",".join(TOOLS_ORDER), help="tools to run: ours,hugo,pelican")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="cold,noop,touch")
    parser.add_argument("--rounds", type=int, help="rounds per size (default 3 at 1k, 2 at 10k)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before one build is killed")
    parser.add_argument("--budget", type=float, default=90, help="minutes; no new round starts after this")
    parser.add_argument("--no-builds", action="store_true", help="skip the build benchmark")
    parser.add_argument("--no-email", action="store_true", help="skip the email render benchmark")
    parser.add_argument("--email-iterations", type=int, default=200)
    parser.add_argument("--no-setup", action="store_true", help="do not run bench/setup.sh first")
    parser.add_argument("--no-write", action="store_true", help="print only; write nothing to bench/results/")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.only = [t for t in args.only.split(",") if t]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    for name in args.only:
        if name not in TOOLS:
            parser.error(f"unknown tool '{name}' (known: {', '.join(TOOLS)})")
    for name in args.scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario '{name}' (known: {', '.join(SCENARIOS)})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    say = lambda text: print(text, flush=True)  # noqa: E731
    WORK.mkdir(exist_ok=True)
    if not args.no_setup:
        subprocess.run(["bash", str(BENCH_DIR / "setup.sh")], check=True, stdout=subprocess.DEVNULL)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    deadline = time.monotonic() + args.budget * 60
    tools = []
    for name in args.only:
        tool = TOOLS[name]()
        problem = tool.available()
        if problem:
            say(f"skipping {name}: {problem}")
        else:
            tools.append(tool)
    with_email = not args.no_email and "ours" in [t.name for t in tools]
    results = {
        "started": started,
        "runs": {
            started: {
                "command": "python bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
                "load": os.getloadavg()[0],
            }
        },
        "machine": machine_info(),
        "versions": tool_versions(tools, with_email),
        "corpus": {
            "version": corpus_module.CORPUS_VERSION,
            "seed": corpus_module.SEED,
            "week": corpus_module.ISSUE_WEEK,
            "edited_article": EDITED_ARTICLE,
        },
        "builds": {},
    }
    results["runs"][started]["versions"] = results["versions"]
    say(
        f"{results['machine']['cpu']}, {results['machine']['cores']} cores; "
        + "; ".join(f"{k}: {v}" for k, v in results["versions"].items())
    )
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        say(f"warning: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall times will be inflated")
    if not args.no_builds and tools:
        for size in args.sizes:
            rounds = args.rounds or DEFAULT_ROUNDS.get(size, 2)
            runs = bench_size(size, tools, args.scenarios, rounds, args.timeout, deadline, say)
            results["builds"][str(size)] = runs_to_json(runs, started)
    if with_email:
        try:
            results["email"] = bench_email(args.email_iterations, say)
        except Exception as failure:  # the pipeline is young: report, keep the build figures
            results["email"] = {"failure": f"{type(failure).__name__}: {failure}"}
            say(f"  email benchmark FAILED: {results['email']['failure']}")
    report = report_markdown(results)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        stem = RESULTS / f"{started[:10]}-{results['machine']['host']}"
        results = merge_results(stem.with_suffix(".json"), results)
        stem.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
        report = report_markdown(results)
        stem.with_suffix(".md").write_text(report)
        say(f"\nwrote {stem}.json and .md")
    say("\n" + report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
