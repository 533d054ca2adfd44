"""requirements/*.txt, the lock files `make demo` and `make test` install from: current with
pyproject.toml, every version pinned with hashes, the demo's a subset of the tests' at the same
versions. A dependency changed in pyproject.toml without `make lock` fails here."""

from __future__ import annotations

import importlib.util
import re
import tomllib

import pytest
from helpers import REPO

LOCKS = REPO / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.MULTILINE)


def _digest_module():
    spec = importlib.util.spec_from_file_location("dependency_digest", REPO / "scripts" / "dependency_digest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pins(name: str) -> dict[str, str]:
    return {_normal(package): version for package, version in PIN.findall((LOCKS / name).read_text(encoding="utf-8"))}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    return {_normal(re.match(r"[A-Za-z0-9._-]+", line).group()) for line in requirements}


@pytest.mark.parametrize("lock", ["demo.txt", "test.txt"])
def test_the_lock_was_made_from_the_dependencies_in_pyproject(lock):
    digest = _digest_module().dependency_digest(REPO / "pyproject.toml")
    text = (LOCKS / lock).read_text(encoding="utf-8")
    assert f"# pyproject.toml dependencies: {digest}" in text, (
        f"requirements/{lock} is older than pyproject.toml's dependencies: run `make lock` and commit the result"
    )


def test_every_dependency_is_pinned_with_hashes():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert _names(project["dependencies"]) <= set(pins("demo.txt"))
    assert _names(project["dependencies"] + project["optional-dependencies"]["test"]) <= set(pins("test.txt"))
    for lock in ("demo.txt", "test.txt", "build.txt"):
        entries = re.split(r"\n(?=[A-Za-z0-9])", (LOCKS / lock).read_text(encoding="utf-8"))
        unhashed = [entry.split()[0] for entry in entries if PIN.match(entry) and "--hash=sha256:" not in entry]
        assert unhashed == [], f"requirements/{lock}"


def test_the_demo_installs_no_test_tools_and_the_versions_the_tests_ran():
    demo, test = pins("demo.txt"), pins("test.txt")
    assert not {"pytest", "playwright", "ruff", "openapi-core"} & set(demo)
    assert {name: test.get(name) for name in demo} == demo
