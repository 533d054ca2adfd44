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
from pipeline.deliver.reader_stages import DAY_FIRST, MONTH_FIRST, baby_arrived, reader_version, stored_date
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
    "text, order, expected",
    [
        pytest.param("2027-03-01", None, (2027, 3, 1), id="iso-date"),
        pytest.param("2027-03-01T00:00:00Z", None, (2027, 3, 1), id="iso-datetime-utc"),
        pytest.param("2027-03-01T23:30:00-05:00", None, (2027, 3, 1), id="iso-datetime-offset-date-as-written"),
        pytest.param("2027-03-01 08:00", None, (2027, 3, 1), id="iso-with-space"),
        pytest.param("03/01/2027", MONTH_FIRST, (2027, 3, 1), id="mailchimp-month-first"),
        pytest.param("01/03/2027", DAY_FIRST, (2027, 3, 1), id="mailchimp-day-first"),
        pytest.param("31/12/2027", None, (2027, 12, 31), id="free-text-day-first-unambiguous"),
        pytest.param("12/31/2027", None, (2027, 12, 31), id="free-text-month-first-unambiguous"),
        pytest.param("1.3.2027", DAY_FIRST, (2027, 3, 1), id="dots"),
        pytest.param("05/05/2027", None, (2027, 5, 5), id="same-day-and-month"),
        pytest.param("", None, None, id="empty"),
    ],
)
def test_dates_as_providers_store_them(text, order, expected):
    # Literal dates: these are formats, not days relative to today.
    parsed = stored_date(text, order)
    assert (parsed.year, parsed.month, parsed.day) == expected if expected else parsed is None


@pytest.mark.parametrize(
    "text, order",
    [
        ("soon", None),
        ("2027-13-01", None),
        ("31/12/2027", MONTH_FIRST),  # the field says month first: there is no month 31
        ("2027-03-01T25:00", None),
        (20270301, None),
        ({"due": "2027-03-01"}, None),  # listmonk attributes may hold any JSON
    ],
)
def test_a_stored_value_that_is_no_date_is_refused(text, order):
    with pytest.raises(ValueError, match="not a date"):
        stored_date(text, order)


def test_a_free_text_date_that_could_be_either_day_or_month_first_is_refused_not_guessed():
    with pytest.raises(ValueError, match="could be day/month or month/day"):
        stored_date("03/04/2027")  # 3 April or 4 March: Kit, Buttondown and listmonk fields are free text
