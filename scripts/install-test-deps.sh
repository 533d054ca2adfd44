#!/usr/bin/env bash
# Installs what the quality checks in tests/quality/ need, idempotently and quietly:
#   Debian: chromium (axe-core, screenshots), spamassassin + spamd + spamc (spam score),
#           a Java runtime only if `java` is missing (Nu HTML Checker), DejaVu fonts (screenshots)
#   npm:    vnu-jar, axe-core, caniemail from package-lock.json into node_modules/
#   PyPI:   requirements/test.txt (the locked dependencies and `test` extra) into the venv, if any is missing
# Does nothing, in well under 2 s, when everything is there. Never downloads a browser or a JRE
# of its own: Playwright uses /usr/bin/chromium, vnu.jar the system Java.
# TEST_PYTHON may name the venv's interpreter (default: .venv/bin/python, else python3).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO"

say() { echo "install-test-deps: $*" >&2; }

# --- Debian packages ------------------------------------------------------------------------
missing_debs=()
[ -x /usr/bin/chromium ] || missing_debs+=(chromium)
command -v spamassassin >/dev/null 2>&1 || missing_debs+=(spamassassin)
command -v spamd >/dev/null 2>&1 || [ -x /usr/sbin/spamd ] || missing_debs+=(spamd)
command -v spamc >/dev/null 2>&1 || missing_debs+=(spamc)
command -v java >/dev/null 2>&1 || missing_debs+=(default-jre-headless)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing_debs+=(fonts-dejavu-core)
command -v node >/dev/null 2>&1 || missing_debs+=(nodejs)
command -v npm >/dev/null 2>&1 || missing_debs+=(npm)

if [ ${#missing_debs[@]} -gt 0 ]; then
    say "apt-get install ${missing_debs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_options=(-y -q -o DPkg::Lock::Timeout=600 --no-install-recommends)
    apt-get -q -o DPkg::Lock::Timeout=600 update >/dev/null
    apt-get install "${apt_options[@]}" "${missing_debs[@]}" >/dev/null
fi

# --- npm devDependencies (stamp = sha256 of package-lock.json) --------------------------------
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp="node_modules/.package-lock.sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
    say "npm ci"
    # --ignore-scripts: vnu-jar's postinstall would try to download a JRE; we use the system Java.
    npm ci --ignore-scripts --silent --no-audit --no-fund >/dev/null
    echo "$lock_sum" > "$stamp"
fi

# --- Python packages: the project's dependencies and its `test` extra -------------------------
if [ -z "${TEST_PYTHON:-}" ]; then
    if [ -x "$REPO/.venv/bin/python" ]; then TEST_PYTHON="$REPO/.venv/bin/python"; else TEST_PYTHON=python3; fi
fi
missing_python="$("$TEST_PYTHON" - <<'EOF'
import tomllib
from importlib.metadata import PackageNotFoundError, version

try:
    from packaging.requirements import Requirement
except ImportError:  # a bare venv: install everything
    Requirement = None

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
wanted = project["dependencies"] + project["optional-dependencies"]["test"]
for line in wanted:
    if Requirement is None:
        print(line)
        continue
    requirement = Requirement(line)
    try:
        if requirement.specifier.contains(version(requirement.name), prereleases=True):
            continue
    except PackageNotFoundError:
        pass
    print(line)
EOF
)"
if [ -n "$missing_python" ]; then
    # From the lock file, as `make install` does: the versions that were tested, hash-checked. A
    # package still missing afterwards is one pyproject.toml names and the lock does not: `make lock`.
    say "missing: $(echo "$missing_python" | tr '\n' ' '); pip install -r requirements/test.txt"
    # pip.conf here names local mirrors that may be absent: drop pip's warnings about them.
    "$TEST_PYTHON" -m pip install -q --disable-pip-version-check --require-hashes -r requirements/test.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
fi
