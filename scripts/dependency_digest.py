"""Prints a digest of pyproject.toml's dependencies, written into requirements/*.txt by
scripts/lock.sh; tests/test_lock.py compares it, so a dependency changed without `make lock` fails."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def dependency_digest(pyproject: Path = PYPROJECT) -> str:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    wanted = {"dependencies": project["dependencies"], "optional": project.get("optional-dependencies", {})}
    return "sha256:" + hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


if __name__ == "__main__":
    print(dependency_digest())
