"""The tool as a writer installs it: the built wheel in a fresh venv outside this repository,
then `newsletter init`, `build`, `check` and `push` (to the outbox) in a new project.

No network: the wheel is built from a copy of the package with the setuptools already installed
here (requirements/build.txt), and installed with `--no-deps --no-index`. The fresh venv finds its
dependencies, at the locked versions, in this venv's site-packages through a .pth file; the
editable install of `pipeline` there stays out (a .pth line adds a folder, it does not run the
editable finder), and the test shows `pipeline` is imported from the fresh venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from helpers import REPO

WHEEL_FILES = ("pipeline/templates/site/base.html.j2", "pipeline/authoring/starter/newsletter.toml")


def run(*command, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copytree(REPO / "pipeline", source / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        out,
        source,
        cwd=out,
    )
    (built,) = out.glob("newsletter-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv.parent)
    python = venv / "bin" / "python"
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        wheel,
        cwd=venv.parent,
    )
    site_packages = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=venv.parent)
    ours = sysconfig.get_paths()["purelib"]  # the locked dependencies, already installed here
    (Path(site_packages.stdout.strip()) / "locked-dependencies.pth").write_text(ours + "\n", encoding="utf-8")
    return venv


def clean_env() -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return {**env, "NO_COLOR": "1"}


def test_the_wheel_carries_the_templates_and_the_starter_project(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(WHEEL_FILES) <= names
    assert not [name for name in names if name.startswith(("content/", "templates/", "tests/"))]


def test_installed_wheel_inits_builds_checks_and_pushes_a_new_project(fresh_venv, tmp_path):
    newsletter = fresh_venv / "bin" / "newsletter"
    env = clean_env()
    where = run(fresh_venv / "bin" / "python", "-c", "import pipeline; print(pipeline.__file__)", cwd=tmp_path, env=env)
    assert Path(where.stdout.strip()).is_relative_to(fresh_venv)
    assert run(newsletter, "--version", cwd=tmp_path, env=env).stdout.startswith("newsletter, version ")

    run(newsletter, "init", "my-news", "--title", "Fresh Start", cwd=tmp_path, env=env)
    project = tmp_path / "my-news"
    run(newsletter, "build", cwd=project, env=env)
    run(newsletter, "check", cwd=project, env=env)
    pushed = run(newsletter, "push", cwd=project, env=env)

    assert "Pushed issue" in pushed.stdout
    (campaign,) = project.glob("outbox/*/campaign.json")
    assert "Start here" in campaign.read_text(encoding="utf-8")
    assert "Fresh Start" in (project / "dist/site/index.html").read_text(encoding="utf-8")
    packaged = where.stdout.strip().replace("__init__.py", "templates/site/static/style.css")
    assert (project / "dist/site/static/style.css").read_bytes() == Path(packaged).read_bytes()
