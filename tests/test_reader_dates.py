"""A reader's dates as the subscriber list keeps them: "My baby has arrived" moves her at once,
a reader who removes her dates goes back to her chosen stage, and an import refuses dates that
cannot be right, at their file:line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from pipeline.cli.main import main
from pipeline.core import clock
from pipeline.core.config import load_config
from pipeline.core.stage_calendar import add_months
from pipeline.deliver.reader_stages import baby_arrived, reader_version, stored_date
from pipeline.deliver.subscribers import Subscriber, SubscriberStore

TODAY = clock.today("UTC")
CONSENT = datetime.now(UTC) - timedelta(days=30)


@pytest.fixture
def store_and_config(make_project):
    root = make_project()
    config = load_config(root)
    with SubscriberStore.for_config(config) as store:
        yield store, config


def test_my_baby_has_arrived_moves_her_to_early_postpartum_at_once(store_and_config):
    store, config = store_and_config
    ana = Subscriber("ana@example.com", "Ana", due_date=TODAY + timedelta(weeks=5), dates_consent_at=CONSENT)
    store.add(ana)
    assert reader_version(store.get(ana.email), TODAY, config.audience) == "pregnant"

    store.change(baby_arrived(store.get(ana.email), TODAY), via="preferences")

    assert reader_version(store.get(ana.email), TODAY, config.audience) == "postpartum-0-6w"
    assert store.get(ana.email).birth_date == TODAY


def test_my_baby_has_arrived_needs_consent_to_keep_the_date():
    with pytest.raises(ValueError, match="consent"):
        baby_arrived(Subscriber("bea@example.com", stage="pregnant"), TODAY)
    assert baby_arrived(Subscriber("bea@example.com"), TODAY, consent_at=CONSENT).birth_date == TODAY


def test_a_reader_who_removes_her_dates_goes_back_to_the_stage_she_chose(store_and_config):
    store, config = store_and_config
    cat = Subscriber(
        "cat@example.com", stage="pregnant", birth_date=TODAY - timedelta(days=3), dates_consent_at=CONSENT
    )
    store.add(cat)
    assert reader_version(store.get(cat.email), TODAY, config.audience) == "postpartum-0-6w"

    store.change(store.get(cat.email).without_dates())

    assert reader_version(store.get(cat.email), TODAY, config.audience) == "pregnant"


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("due_date", TODAY + timedelta(weeks=60), "is more than 44 weeks away; check the year"),
        ("due_date", add_months(TODAY, -60), "is more than 24 months ago"),
        ("birth_date", TODAY + timedelta(days=9), "is in the future; check the date"),
        ("birth_date", add_months(TODAY, -480), "is more than 24 months ago"),
    ],
)
def test_an_import_refuses_dates_that_cannot_be_right_at_their_line(make_project, column, value, message):
    root = make_project(
        {"people.csv": f"email,{column},dates_consent_at\nana@example.com,{value.isoformat()},{CONSENT.isoformat()}\n"}
    )
    result = CliRunner().invoke(main, ["subscribers", "import", str(root / "people.csv"), "--root", str(root)])
    assert result.exit_code == 2
    assert f"people.csv:2: the {column.replace('_', ' ')} {value.isoformat()} {message}" in result.output
    with SubscriberStore.for_config(load_config(root)) as store:
        assert store.all() == []


@pytest.mark.parametrize(
    "text, expected",
    [("2027-03-01", (2027, 3, 1)), ("2027-03-01T00:00:00Z", (2027, 3, 1)), ("03/01/2027", (2027, 3, 1)), ("", None)],
)
def test_dates_as_providers_store_them(text, expected):
    # Literal dates: these are formats, not days relative to today.
    parsed = stored_date(text)
    assert (parsed.year, parsed.month, parsed.day) == expected if expected else parsed is None


@pytest.mark.parametrize("text", ["soon", "2027-13-01", "31/12/2027", 20270301])
def test_a_stored_value_that_is_no_date_is_refused(text):
    with pytest.raises(ValueError, match="not a date"):
        stored_date(text)
