#!/usr/bin/env bash
# `make lock`: requirements/*.txt from pyproject.toml, every version pinned with its hashes (uv),
# so `make demo` and `make test` install on any machine exactly what was tested here.
# Run it after changing a dependency in pyproject.toml; tests/test_lock.py fails until you do.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.8
TOOLS=.tools/uv-$UV_VERSION
if [ ! -x "$TOOLS/bin/uv" ]; then
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install -q "uv==$UV_VERSION"
fi
compile() { "$TOOLS/bin/uv" pip compile --quiet --generate-hashes --universal --python-version 3.11 "$@"; }
# test.txt first: demo.txt is held to the same versions (-c), so the demo runs what the tests ran.
compile pyproject.toml --extra test -o requirements/test.txt
compile pyproject.toml -c requirements/test.txt -o requirements/demo.txt
compile requirements/build.in -o requirements/build.txt
digest=$(.venv/bin/python scripts/dependency_digest.py 2>/dev/null || python3 scripts/dependency_digest.py)
for lock in requirements/test.txt requirements/demo.txt; do
    echo "# pyproject.toml dependencies: $digest" >> "$lock"
done
