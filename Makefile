# Two commands on a fresh machine: `make demo` and `make test`. Both install what they need, at the
# versions in requirements/*.txt (pinned with hashes by `make lock`): what was tested here is what
# a fresh machine gets. `make demo` installs only what the demo needs; `make test` adds the test tools.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test test-future test-deps lint golden install lock clean

# The locked libraries (hash-checked), then the package itself, editable and without resolving
# anything: its dependencies are the locked ones.
$(DEMO_STAMP): requirements/demo.txt requirements/build.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements/build.txt -r requirements/demo.txt > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	$(PIP) --no-deps --no-build-isolation -e . >> $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	$(PY) -c "import pipeline, mjml, jinja2, markdown"
	touch $@

$(TEST_STAMP): $(DEMO_STAMP) requirements/test.txt
	$(PIP) --require-hashes -r requirements/build.txt -r requirements/test.txt > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	$(PY) -c "import pytest, playwright, openapi_core"
	touch $@

install: $(TEST_STAMP)

demo: $(DEMO_STAMP)
	$(VENV)/bin/newsletter build --week latest
	$(VENV)/bin/newsletter push --week latest
	@echo
	@echo "Look at:"
	@echo "  dist/site/index.html        the blog (open in a browser)"
	@echo "  dist/email/<week>/index.html the week's email; email.txt its text part; email.eml the full message"
	@echo "  outbox/<week>/               what was pushed (campaign.json, email.eml)"

test: test-deps lint
	$(PY) -m pytest -q
# ruff: the rule set and why each is on are in pyproject.toml; zero findings, code as `ruff format` lays it out.
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check -q pipeline tests bench scripts
	$(VENV)/bin/ruff format --check -q pipeline tests bench scripts

# The same suite five years ahead, in the time zone furthest from UTC (+14): a test that holds only
# this month, or only where the machine's date is UTC's, fails here (tests/clock_shift/).
test-future: test-deps
	TZ=Pacific/Kiritimati $(PY) -m pytest -q --clock-shift-days 1830

test-deps: $(TEST_STAMP)
	bash scripts/install-test-deps.sh

golden: $(TEST_STAMP)
	UPDATE_GOLDEN=1 $(PY) -m pytest -q -k golden
	git diff --stat -- tests/golden

clean:
	rm -rf dist outbox .newsletter

# requirements/*.txt afresh from pyproject.toml (uv, pinned with hashes): after changing a dependency.
lock:
	bash scripts/lock.sh
