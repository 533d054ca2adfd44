"""`newsletter subscribers sync` against each provider's stand-in (every request and reply checked
against its OpenAPI spec): 5,000 subscribers across pages, a 429 in the middle of the listing,
each dated reader's stage tag set for the day, nothing else touched, and a rerun that changes
nothing. Dates are built relative to the clock's today, so this holds on any day."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest

from pipeline.core import clock
from pipeline.core.stage_calendar import add_months
from pipeline.core.stages import GENERAL_STAGE
from pipeline.deliver.stage_sync import plan_sync, sync_stages

from .list_fakes import DATE_FIELDS, LIST_FAKES, OTHER_TAG, STAGE_IDS, Person, subscriber_id

READERS = 5000
DAY = clock.today("UTC")
LIST_PATHS = {
    "buttondown": r"/v1/subscribers$",
    "mailchimp": r"/3.0/lists/[^/]+/members$",
    "kit": r"/v4/subscribers$",
    "listmonk": r"/api/subscribers$",
}
ACTIVE = {"buttondown": "regular", "mailchimp": "subscribed", "kit": "active", "listmonk": "enabled"}
INACTIVE = {"buttondown": "unsubscribed", "mailchimp": "unsubscribed", "kit": "cancelled"}  # not read by the sync
BASE_LIST = 3  # listmonk: the newsletter's own list ([provider] list_ids)


def written(day, name: str, rng: random.Random) -> str:
    """A date as a form or an import left it at the provider (Mailchimp: either of its formats)."""
    if name == "mailchimp" and rng.random() < 0.5:
        return day.strftime("%m/%d/%Y")
    return day.isoformat()


def dates_of(kind: int, rng: random.Random) -> dict:
    """Ten kinds of reader, each a tenth of the list."""
    if kind in (0, 1):
        return {"due_date": DAY + timedelta(days=rng.randint(0, 280))}
    if kind == 2:
        return {"due_date": DAY - timedelta(days=rng.randint(1, 200))}  # due date gone by, no birth date
    if kind in (3, 4):
        return {"birth_date": DAY - timedelta(days=rng.randint(0, 41)), "due_date": DAY + timedelta(days=30)}
    if kind == 5:
        return {"birth_date": DAY - timedelta(days=rng.randint(42, 700))}
    if kind == 6:
        return {"birth_date": add_months(DAY, -24) - timedelta(days=rng.randint(0, 300))}  # past the end
    return {}


def roster(name: str, size: int = READERS, seed: int = 15) -> dict:
    rng = random.Random(seed)
    stage_ids = list(STAGE_IDS[name].values())
    due_field, birth_field = DATE_FIELDS.get(name, ("due_date", "birth_date"))
    people = {}
    for number in range(size):
        kind = number % 10
        fields = {"first_name_field": f"Reader {number}"}
        for key, value in dates_of(kind, rng).items():
            fields[due_field if key == "due_date" else birth_field] = written(value, name, rng)
        if kind == 9:
            fields[due_field] = "soon"  # not a date: left alone
        tags = set(rng.sample(stage_ids, rng.choice((0, 0, 1, 1, 2))))  # none, a stale one, or two
        if rng.random() < 0.3:
            tags.add(OTHER_TAG[name])
        extra = {}
        if name == "listmonk":
            tags.add(BASE_LIST)
            extra[BASE_LIST] = "unconfirmed" if rng.random() < 0.1 else "confirmed"
        if name == "kit":
            extra["first_name"] = f"Reader{number}"
        status = INACTIVE[name] if name in INACTIVE and number % 97 == 0 else ACTIVE[name]
        email = f"reader{number}@example.com"
        people[subscriber_id(name, number)] = Person(email, tags, fields, status, extra)
    return people


def expected_stages(name: str, people: dict, calendar) -> dict[str, set[str]]:
    """What each reader should hold after the sync, by the calendar rule."""
    by_id = {tag: stage for stage, tag in STAGE_IDS[name].items()}
    due_field, birth_field = DATE_FIELDS.get(name, ("due_date", "birth_date"))
    wanted = {}
    for key, person in people.items():
        held = {by_id[tag] for tag in person.tags if tag in by_id}
        due, birth = (_parsed(person.fields.get(f)) for f in (due_field, birth_field))
        if person.status != ACTIVE[name] or (due is None and birth is None):
            wanted[key] = held
            continue
        stage = calendar.stage_on(DAY, due_date=due, birth_date=birth)
        wanted[key] = {stage} if stage != GENERAL_STAGE or name == "listmonk" else set()
    return wanted


def _parsed(text):
    from datetime import date, datetime

    if not text or text == "soon":
        return None
    return datetime.strptime(text, "%m/%d/%Y").date() if "/" in text else date.fromisoformat(text)


def list_harness(make_harness, name: str, size: int):
    fake = LIST_FAKES[name]()
    fake.load(roster(name, size))
    key = "stage_lists" if name == "listmonk" else "stage_tags"
    return make_harness(name, options={key: STAGE_IDS[name]}, fake=fake)


@pytest.fixture(params=list(LIST_FAKES))
def synced_list(request, make_harness):
    """The whole 5,000-reader list."""
    return list_harness(make_harness, request.param, READERS)


@pytest.fixture(params=list(LIST_FAKES))
def short_list(request, make_harness):
    """300 readers of the same kinds: enough for several pages of the smallest page size."""
    return list_harness(make_harness, request.param, 300)


def test_the_sync_sets_every_dated_readers_stage_through_a_429(synced_list, sleeps):
    fake, provider = synced_list.fake, synced_list.provider
    before = fake.snapshot()
    wanted = expected_stages(synced_list.name, fake.people, provider.config.audience.calendar)
    fake.add_fault(method="GET", path=LIST_PATHS[synced_list.name], skip=2, **fake.rate_limited("3"))

    result = sync_stages(provider, DAY)

    assert fake.stages_held() == wanted
    assert fake.snapshot() == before  # no other tag, field or status touched
    assert 3.0 in sleeps  # the 429's Retry-After was honoured, and the listing went on
    pages = [e for e in fake.exchanges if e.method == "GET" and re.search(LIST_PATHS[synced_list.name], e.path)]
    assert len([e for e in pages if e.status == 200]) >= 5 and any(e.status == 429 for e in pages)
    assert result.changes and result.read == sum(
        1 for p in fake.people.values() if p.status == ACTIVE[synced_list.name]
    )


def test_a_second_sync_changes_nothing_and_says_so(synced_list):
    fake, provider = synced_list.fake, synced_list.provider
    sync_stages(provider, DAY)
    writes_before = len(fake.writes())

    again = sync_stages(provider, DAY)

    assert again.changes == []
    assert len(fake.writes()) == writes_before
    assert "nothing to change" in again.describe(done=True)


def test_the_plan_changes_nothing_and_lists_what_the_sync_would_do(short_list):
    fake, provider = short_list.fake, short_list.provider
    before = fake.stages_held()

    planned = plan_sync(provider, DAY)

    assert fake.writes() == [] and fake.stages_held() == before
    done = sync_stages(provider, DAY)
    assert planned.counts() == done.counts()
    assert "would change" in planned.describe(done=False)


def test_readers_without_dates_keep_their_stage_tags(short_list):
    fake, provider = short_list.fake, short_list.provider
    undated = {key for key, p in fake.people.items() if not any(v for k, v in p.fields.items() if "date" in k.lower())}
    before = {key: held for key, held in fake.stages_held().items() if key in undated}

    sync_stages(provider, DAY)

    assert {key: held for key, held in fake.stages_held().items() if key in undated} == before
    assert undated


def _day_first_only(start):
    """A day soon whose day of the month is over 12: written DD/MM/YYYY it is no MM/DD/YYYY date."""
    return next(day for day in (start + timedelta(days=n) for n in range(40)) if day.day > 12)


@pytest.mark.parametrize("date_format, stage", [("DD/MM/YYYY", "pregnant"), (None, None)])
def test_mailchimp_date_fields_are_read_in_the_order_the_audience_is_set_to(make_harness, date_format, stage):
    due = _day_first_only(DAY + timedelta(days=20))
    fake = LIST_FAKES["mailchimp"]()
    fake.load(
        {
            subscriber_id("mailchimp", 0): Person(
                "ana@example.com", set(), {"DUEDATE": due.strftime("%d/%m/%Y")}, "subscribed"
            )
        }
    )
    options = {"stage_tags": STAGE_IDS["mailchimp"], **({"date_format": date_format} if date_format else {})}
    provider = make_harness("mailchimp", options=options, fake=fake).provider

    result = sync_stages(provider, DAY)

    assert fake.stages_held() == {subscriber_id("mailchimp", 0): {stage} if stage else set()}
    if stage is None:  # the default, MM/DD/YYYY: a 13th month is no date, said on her line
        assert result.problems == ["ana@example.com: her 'DUEDATE' is not a date (write it YYYY-MM-DD)"]


def test_a_mailchimp_date_format_that_is_not_one_of_its_two_is_a_config_error(make_harness):
    from pipeline.core.errors import ConfigError

    fake = LIST_FAKES["mailchimp"]()
    fake.load(
        {subscriber_id("mailchimp", 0): Person("ana@example.com", set(), {"DUEDATE": "01/02/2027"}, "subscribed")}
    )
    provider = make_harness(
        "mailchimp", options={"stage_tags": STAGE_IDS["mailchimp"], "date_format": "YYYY/MM/DD"}, fake=fake
    ).provider
    with pytest.raises(ConfigError, match="date_format = 'YYYY/MM/DD' is not one of Mailchimp's date formats"):
        plan_sync(provider, DAY)
