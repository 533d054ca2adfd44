"""Plain helpers of the quality checks: building the real output, finding its pages and the email
parts, locating the installed checkers. The fixtures that use them live in conftest.py.

Builds run once per test session (at collection, so tests can be parametrised by page) in a
temporary folder: the demo content of the repo, and a larger generated fixture week.
"""

from __future__ import annotations

import email
import email.policy
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import NoReturn

import pytest
from helpers import copy_repo_project

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / "node_modules"
ARTIFACTS = REPO / "test-artifacts" / "quality"
INSTALL_HINT = "run scripts/install-test-deps.sh (make test runs it)"

DEMO_WEEK = "2026-W48"
FIXTURE_WEEK = "2026-W47"
BUILD_NAMES = ("demo", "fixture")


# ---------------------------------------------------------------- the installed checkers


def missing(what: str) -> NoReturn:
    pytest.fail(f"{what} is not installed: {INSTALL_HINT}", pytrace=False)


def require_command(name: str, *fallbacks: str) -> str:
    for candidate in (name, *fallbacks):
        found = shutil.which(candidate) or (candidate if os.access(candidate, os.X_OK) else None)
        if found:
            return found
    missing(f"the command `{name}`")


def require_file(path: Path, what: str) -> Path:
    if not path.exists():
        missing(f"{what} ({path.relative_to(REPO) if path.is_relative_to(REPO) else path})")
    return path


def require_module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"the Python package providing `{name}`")


def vnu_jar() -> Path:
    return require_file(NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar", "vnu-jar (npm)")


def axe_script() -> Path:
    return require_file(NODE_MODULES / "axe-core" / "axe.min.js", "axe-core (npm)")


# ---------------------------------------------------------------- building real output


class BuildFailed(Exception):
    pass


@dataclass
class Build:
    """One project folder and what `newsletter build` made of it."""

    name: str
    week: str
    root: Path
    error: str = ""  # why the build failed; every test of this build fails with it

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def site_dir(self) -> Path:
        return self.dist / "site"

    @property
    def email_dir(self) -> Path:
        return self.dist / "email" / self.week

    def ensure_ok(self) -> Build:
        if self.error:
            pytest.fail(f"`newsletter build` of the {self.name} project failed:\n{self.error}", pytrace=False)
        return self

    @cached_property
    def config(self):
        from pipeline.core.config import load_config

        return load_config(self.root)

    @cached_property
    def eml_bytes(self) -> bytes:
        path = self.email_dir / "email.eml"
        if not path.exists():
            pytest.fail(
                f"{self.name}: `newsletter build --week {self.week}` wrote no {path.relative_to(self.root)}",
                pytrace=False,
            )
        return path.read_bytes()

    @cached_property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.eml_bytes, policy=email.policy.default)

    def _part(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            pytest.fail(f"{self.name}: email.eml has no text/{subtype} part", pytrace=False)
        return part.get_content()

    @cached_property
    def email_html(self) -> str:
        """The HTML exactly as the .eml carries it to readers."""
        return self._part("html")

    @cached_property
    def email_text(self) -> str:
        return self._part("plain")

    @cached_property
    def email_html_file(self) -> Path:
        """The sent HTML as a file beside the site, for the browser checks."""
        path = self.root / "email-as-sent.html"
        path.write_text(self.email_html, encoding="utf-8")
        return path

    def pages(self) -> list[str]:
        """Every HTML page of the blog, as paths relative to dist/site/."""
        return sorted(p.relative_to(self.site_dir).as_posix() for p in self.site_dir.rglob("*.html"))

    def stylesheets(self) -> list[str]:
        return sorted(p.relative_to(self.site_dir).as_posix() for p in self.site_dir.rglob("*.css"))

    @cached_property
    def issue(self):
        """The week's issue as the pipeline assembles it: what the email must contain."""
        from pipeline.content.assemble import assemble_issue
        from pipeline.content.load import load_content

        return assemble_issue(load_content(self.config), self.config, self.week)


def run_build(name: str, root: Path, week: str) -> Build:
    command = [sys.executable, "-m", "pipeline", "build", "--root", str(root), "--week", week]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    build = Build(name=name, week=week, root=root)
    if result.returncode != 0:
        build.error = f"$ {' '.join(command[1:])}\nexit {result.returncode}\n{result.stdout}{result.stderr}".strip()
    elif not (build.email_dir / "email.eml").exists():
        build.error = f"the build made no email for {week}:\n{result.stdout}{result.stderr}".strip()
    return build


_session_dir: Path | None = None
_builds: dict[str, Build] = {}


def session_dir() -> Path:
    global _session_dir
    if _session_dir is None:
        _session_dir = Path(tempfile.mkdtemp(prefix="newsletter-quality-"))
    return _session_dir


def cleanup_session_dir() -> None:
    global _session_dir
    if _session_dir is not None:
        shutil.rmtree(_session_dir, ignore_errors=True)
        _session_dir = None
    _builds.clear()


def get_build(name: str) -> Build:
    """The demo or fixture build of this session, built on first use."""
    if name not in _builds:
        from .fixture_week import write_fixture_content

        root = copy_repo_project(session_dir() / name)
        week = DEMO_WEEK
        if name == "fixture":
            write_fixture_content(root, FIXTURE_WEEK)
            week = FIXTURE_WEEK
        _builds[name] = run_build(name, root, week)
    return _builds[name]


# ---------------------------------------------------------------- pages and templates

_PAGE_KINDS = (
    (re.compile(r"^index\.html$"), "home"),
    (re.compile(r"^page/\d+/index\.html$"), "home-page-n"),
    (re.compile(r"^articles/[^/]+/index\.html$"), "article"),
    (re.compile(r"^exercises/index\.html$"), "exercise-index"),
    (re.compile(r"^exercises/[^/]+/index\.html$"), "exercise"),
    (re.compile(r"^tags/index\.html$"), "tag-index"),
    (re.compile(r"^tags/[^/]+/index\.html$"), "tag"),
)


def page_kind(page: str) -> str:
    """Which template made a page, judged by its place on the site (see pipeline/core/urls.py)."""
    for pattern, kind in _PAGE_KINDS:
        if pattern.match(page):
            return kind
    return re.sub(r"(/index)?\.html$", "", page) or "home"


def template_pages(build: Build) -> dict[str, str]:
    """One page per template: the largest, so the most content meets each check. For the fixture
    build, pages the demo build also has come last, so the two builds check different pages."""
    demo = get_build("demo")
    shared = set(demo.pages()) if build.name != "demo" and not demo.error else set()

    def weight(page: str) -> tuple[bool, int]:
        return page not in shared, (build.site_dir / page).stat().st_size

    chosen: dict[str, str] = {}
    for page in build.pages():
        kind = page_kind(page)
        if kind not in chosen or weight(page) > weight(chosen[kind]):
            chosen[kind] = page
    return dict(sorted(chosen.items()))


def largest_article(build: Build) -> str:
    return template_pages(build)["article"]


@dataclass(frozen=True)
class Target:
    """Something a check looks at: a blog page or the email of one build."""

    build_name: str
    page: str | None  # path under dist/site/, or None for the email
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.build_name}:{self.label or self.page or 'email'}"

    @property
    def is_email(self) -> bool:
        return self.page is None

    @property
    def build(self) -> Build:
        return get_build(self.build_name).ensure_ok()

    def __str__(self) -> str:
        return self.id


def _per_build(targets_of) -> list[Target]:
    """targets_of(build) for each build; a build that failed gets one target that fails with its error."""
    targets: list[Target] = []
    for name in BUILD_NAMES:
        build = get_build(name)
        targets += [Target(name, "", label="build-failed")] if build.error else targets_of(build)
    return targets


def page_targets() -> list[Target]:
    """Every page and style sheet of each build."""
    return _per_build(lambda build: [Target(build.name, page) for page in build.pages() + build.stylesheets()])


def template_targets() -> list[Target]:
    """The email and one page per blog template, of each build."""
    return _per_build(
        lambda build: (
            [Target(build.name, None)]
            + [Target(build.name, page, label=f"{kind}={page}") for kind, page in template_pages(build).items()]
        )
    )


def phone_targets() -> list[Target]:
    """The email and the longest article of each build."""
    return _per_build(
        lambda build: [
            Target(build.name, None),
            Target(build.name, largest_article(build), label=f"article={largest_article(build)}"),
        ]
    )


_artifacts_cleared = False


def artifact_path(*parts: str) -> Path:
    """A file under test-artifacts/quality/; the first call of a session clears older runs' files."""
    global _artifacts_cleared
    if not _artifacts_cleared:
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        _artifacts_cleared = True
    path = ARTIFACTS.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "page"


# ---------------------------------------------------------------- axe-core in the browser


def run_axe(page, rules: list[str] | None = None) -> dict:
    """axe-core's results for the loaded page: WCAG 2.0/2.1 A and AA, or only `rules`."""
    page.add_script_tag(path=str(axe_script()))
    run_only = (
        {"type": "rule", "values": rules}
        if rules
        else {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
    )
    return page.evaluate("options => axe.run(document, {runOnly: options, resultTypes: ['violations']})", run_only)


def describe_axe_violations(target: Target, violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"{target.id}: [{violation['id']}] {violation['help']} ({violation['impact']}) - {violation['helpUrl']}"
        )
        for node in violation["nodes"][:5]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    at {' '.join(map(str, node['target']))}: {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more elements")
    return "\n".join(lines)
