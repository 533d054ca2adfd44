"""`pytest --clock-shift-days N`: run the suite as if the machine's clock were N days ahead.

A test that passes today but fails next year holds a time bomb: a literal date that has slipped
into the past (a schedule, a review date) or a "now" taken from the machine where the test meant
a fixed day. `.ci/run` runs the whole suite a second time with the clock shifted years ahead, so
such a test fails at the commit that plants it. The shift moves the wall clock of this process
(time-machine, started before any test module is imported) and of every Python process a test
starts (sitecustomize.py beside this file). Monotonic clocks, file times and programs that are not
Python (Chromium, SpamAssassin, Java) keep the machine's real time.

Tests that pin "now" themselves (time-machine's `time_machine` fixture, or a clock passed in)
are unaffected: a pinned clock wins over the shift.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

SITE_FOLDER = Path(__file__).parent
SHIFT_VARIABLE = "NEWSLETTER_TEST_CLOCK_SHIFT_DAYS"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-shift-days",
        type=int,
        default=0,
        metavar="N",
        help="run every test (and every Python process a test starts) with the wall clock N days ahead",
    )


def pytest_configure(config: pytest.Config) -> None:
    days = config.getoption("--clock-shift-days")
    if not days:
        return
    import time_machine

    traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
    traveller.start()
    config.add_cleanup(traveller.stop)
    os.environ[SHIFT_VARIABLE] = str(days)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITE_FOLDER), os.environ.get("PYTHONPATH")]))


def pytest_report_header(config: pytest.Config) -> str | None:
    days = config.getoption("--clock-shift-days")
    if not days:
        return None
    return f"clock shifted {days} days ahead: today is {datetime.now(UTC).date().isoformat()} (UTC) for every test"


def shifted_environment(days: int) -> dict[str, str]:
    """The environment for a Python program that must live `days` days ahead of the machine
    (on top of any --clock-shift-days the suite runs with)."""
    total = days + int(os.environ.get(SHIFT_VARIABLE, "0"))
    path = os.pathsep.join(filter(None, [str(SITE_FOLDER), os.environ.get("PYTHONPATH")]))
    return {**os.environ, SHIFT_VARIABLE: str(total), "PYTHONPATH": path}
