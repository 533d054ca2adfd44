#!/usr/bin/env bash
# Installs the comparison tools for bench/run.py, idempotently:
#   hugo     - Debian package
#   pelican  - its own venv in bench/work/pelican-venv (its deps stay out of ours)
#   mjml     - the reference npm compiler in bench/work/node_modules
# Prints the installed versions. Safe to run again: does nothing when all are present.
set -euo pipefail
BENCH="$(cd "$(dirname "$0")" && pwd)"
WORK="$BENCH/work"
# Pinned so figures from different days compare the same tools; Hugo is Debian's.
PELICAN_VERSION=4.12.0
MJML_VERSION=5.4.1
mkdir -p "$WORK"

if ! command -v hugo >/dev/null 2>&1; then
    if ! apt-get install -y -q hugo >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q hugo >/dev/null
    fi
fi

if [ ! -x "$WORK/pelican-venv/bin/pelican" ]; then
    python3 -m venv "$WORK/pelican-venv"
    "$WORK/pelican-venv/bin/pip" install -q "pelican[markdown]==$PELICAN_VERSION" 2>"$WORK/pelican-install.log" \
        || { cat "$WORK/pelican-install.log" >&2; exit 1; }
fi

if [ ! -x "$WORK/node_modules/.bin/mjml" ]; then
    (cd "$WORK" && { [ -f package.json ] || echo '{"private": true}' > package.json; } \
        && npm install --silent --no-audit --no-fund "mjml@$MJML_VERSION" >/dev/null)
fi

echo "hugo: $(hugo version | head -1)"
echo "pelican: $("$WORK/pelican-venv/bin/pelican" --version)"
echo "mjml: $(cd "$WORK" && node -p 'require("mjml/package.json").version')"
echo "node: $(node --version)"
