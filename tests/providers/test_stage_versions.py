"""Stage versions at every HTTP provider: each version of a week is its own campaign, targeted at
its stage's readers only, and no reader gets two versions.

Every request is checked against the provider's OpenAPI document (tests/providers/spec_server.py).
Each fake delivers a sent campaign to the readers its audience fields select (fakes.py), so
these tests look at who actually received what.

Mailchimp and Buttondown can say "tagged pregnant and not ..." in one audience, so a reader with
two stage tags gets the version of her first stage. Kit and listmonk cannot, so a push that
would send such a reader two versions is refused before anything is sent.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from pipeline.core.errors import ConfigError, PushRefused
from pipeline.core.model import Issue, RenderedEmail
from pipeline.core.stages import DEFAULT_STAGES, GENERAL_STAGE, version_key, versions
from pipeline.deliver.push import plan

from .conftest import ISSUE_KEY, PROVIDER_NAMES

VERSIONS = versions(DEFAULT_STAGES)  # pregnant, postpartum-0-6w, postpartum-6w-plus, general

# Each provider's ids for the stage tags (listmonk: a list per version, general included).
STAGE_OPTIONS = {
    "mailchimp": {"stage_tags": {"pregnant": 48401, "postpartum-0-6w": 48402, "postpartum-6w-plus": 48403}},
    "buttondown": {
        "stage_tags": {
            "pregnant": "sub_tag_0pregnant0000000000000000",
            "postpartum-0-6w": "sub_tag_0postpartum06w000000000000",
            "postpartum-6w-plus": "sub_tag_0postpartum6wplus0000000000",
        }
    },
    "kit": {"stage_tags": {"pregnant": 5101, "postpartum-0-6w": 5102, "postpartum-6w-plus": 5103}},
    "listmonk": {"stage_lists": {"pregnant": 11, "postpartum-0-6w": 12, "postpartum-6w-plus": 13, "general": 14}},
}

ONE_STAGE_EACH = {
    "ana@example.com": ("pregnant",),
    "bea@example.com": ("postpartum-0-6w",),
    "cat@example.com": ("postpartum-6w-plus",),
    "dee@example.com": (),  # no stage tag: the general version
}
EXPECTED = {
    "ana@example.com": "pregnant",
    "bea@example.com": "postpartum-0-6w",
    "cat@example.com": "postpartum-6w-plus",
    "dee@example.com": GENERAL_STAGE,
}
TWO_TAGS = "eve@example.com"  # tagged pregnant and postpartum-0-6w: her tags were not tidied after the birth


def stage_email(provider, stage: str | None) -> RenderedEmail:
    issue = Issue(
        week="2026-W48",
        key=version_key(ISSUE_KEY, stage),
        subject="Gentle glute work",
        preview_text="Three moves for week 48",
        intro="",
        articles=[],
        monday=date(2026, 11, 23),
        stage=stage,
    )
    unsubscribe = provider.unsubscribe_url()
    html = (
        f"<!doctype html><html><body><p>The {stage or 'everyone'} "
        f'version.</p><p><a href="{unsubscribe}">Unsubscribe</a></p></body></html>'
    )
    text = f"The {stage or 'everyone'} version.\n\nUnsubscribe: {unsubscribe}\n"
    digest = hashlib.sha256("\0".join([issue.subject, issue.preview_text, html, text]).encode()).hexdigest()
    return RenderedEmail(
        issue=issue, subject=issue.subject, preview_text=issue.preview_text, html=html, text=text, content_hash=digest
    )


def provider_ids(name: str, stages: tuple[str, ...]) -> set:
    """What the provider knows of a reader: her tag ids, or for listmonk her lists."""
    key = "stage_lists" if name == "listmonk" else "stage_tags"
    ids = STAGE_OPTIONS[name][key]
    if name == "listmonk" and not stages:
        return {ids[GENERAL_STAGE]}
    return {ids[stage] for stage in stages}


@pytest.fixture
def staged(make_harness):
    def make(name: str, readers: dict[str, tuple[str, ...]] = ONE_STAGE_EACH, options: dict | None = None):
        harness = make_harness(name, options=STAGE_OPTIONS[name] if options is None else options)
        harness.fake.readers = {address: provider_ids(name, stages) for address, stages in readers.items()}
        return harness

    return make


def push_version(harness, stage, **options):
    from pipeline.deliver.push import push_issue

    return push_issue(harness.provider, harness.ledger, stage_email(harness.provider, stage), b"", **options)


def received_versions(harness) -> dict[str, list[str]]:
    """Address -> the versions she was sent, told apart by each version's campaign id."""
    version_of = {
        harness.ledger.state(version_key(ISSUE_KEY, v), harness.name).campaign_id: v
        for v in VERSIONS
        if harness.ledger.state(version_key(ISSUE_KEY, v), harness.name)
    }
    return {
        address: [version_of.get(campaign, campaign) for campaign in campaigns]
        for address, campaigns in harness.fake.received().items()
    }


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_each_version_is_its_own_campaign_and_reaches_only_its_stage(staged, name):
    harness = staged(name)

    results = [push_version(harness, stage, send_now=True) for stage in VERSIONS]

    assert len({result.campaign_id for result in results}) == len(VERSIONS) == len(harness.campaigns())
    assert received_versions(harness) == {address: [version] for address, version in EXPECTED.items()}


@pytest.mark.parametrize("name", ["mailchimp", "buttondown"])
def test_a_reader_with_two_stage_tags_gets_only_her_first_stages_version(staged, name):
    harness = staged(name, readers={**ONE_STAGE_EACH, TWO_TAGS: ("pregnant", "postpartum-0-6w")})

    for stage in VERSIONS:
        push_version(harness, stage, send_now=True)

    received = received_versions(harness)
    assert received[TWO_TAGS] == ["pregnant"]
    assert all(len(versions) == 1 for versions in received.values())


@pytest.mark.parametrize("name", ["kit", "listmonk"])
def test_a_reader_in_two_stage_audiences_stops_the_send_before_anyone_gets_two(staged, name):
    harness = staged(name, readers={**ONE_STAGE_EACH, TWO_TAGS: ("pregnant", "postpartum-0-6w")})

    with pytest.raises(PushRefused, match=rf"1 reader .* two emails: {TWO_TAGS}"):
        push_version(harness, "pregnant", send_now=True)
    with pytest.raises(PushRefused, match=TWO_TAGS):
        push_version(harness, "postpartum-0-6w", send_now=True)

    assert harness.fake.deliveries == []
    assert all(campaign["status"] == "draft" for campaign in harness.campaigns())  # nothing was created twice either


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_pushing_every_version_again_changes_nothing(staged, name):
    harness = staged(name)
    first = [push_version(harness, stage) for stage in VERSIONS]
    writes_before = len(harness.fake.writes())

    again = [push_version(harness, stage) for stage in VERSIONS]

    assert [result.action for result in again] == ["unchanged"] * len(VERSIONS)
    assert [result.campaign_id for result in again] == [result.campaign_id for result in first]
    assert len(harness.fake.writes()) == writes_before
    assert len(harness.campaigns()) == len(VERSIONS)


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_scheduling_a_version_keeps_its_audience(staged, name):
    from .test_shared_cases import SCHEDULE_AT

    harness = staged(name)
    push_version(harness, "postpartum-0-6w", schedule_at=SCHEDULE_AT)

    campaign_id = harness.ledger.state(version_key(ISSUE_KEY, "postpartum-0-6w"), name).campaign_id
    target = audience_fields(harness, campaign_id)
    assert target == audience_fields_for(name, "postpartum-0-6w")


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_the_one_email_for_everyone_is_not_narrowed(staged, name):
    harness = staged(
        name, options={**STAGE_OPTIONS[name], **({"list_ids": [11, 12, 13, 14]} if name == "listmonk" else {})}
    )

    push_version(harness, None, send_now=True)

    assert sorted(harness.fake.received()) == sorted(ONE_STAGE_EACH)


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_a_missing_stage_id_stops_the_push_before_anything_changes(staged, name):
    key = "stage_lists" if name == "listmonk" else "stage_tags"
    incomplete = {
        key: {stage: value for stage, value in STAGE_OPTIONS[name][key].items() if stage != "postpartum-6w-plus"}
    }
    harness = staged(name, options=incomplete)

    with pytest.raises(ConfigError, match=rf"\[provider\] {key} needs the .* of 'postpartum-6w-plus'"):
        push_version(harness, "pregnant")
    assert harness.campaigns() == []


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_the_plan_names_each_versions_key_and_audience(staged, name):
    harness = staged(name)

    described = plan(harness.provider, harness.ledger, stage_email(harness.provider, "postpartum-0-6w")).describe()

    assert f"issue key {ISSUE_KEY}-postpartum-0-6w" in described
    assert "readers tagged 'postpartum-0-6w' and not 'pregnant'" in described
    assert "- create a new draft" in described


# What each provider was told -----------------------------------------------------------------


def audience_fields(harness, campaign_id: str):
    campaign = harness.fake.campaigns[campaign_id]
    return {
        "mailchimp": lambda: campaign["recipients"].get("segment_opts"),
        "buttondown": lambda: campaign["filters"],
        "kit": lambda: campaign["subscriber_filter"],
        "listmonk": lambda: [item["id"] for item in campaign["lists"]],
    }[harness.name]()


def audience_fields_for(name: str, stage: str):
    """postpartum-0-6w's audience, in each provider's terms (the rule is in pipeline/core/stages.py)."""
    ids = STAGE_OPTIONS[name]["stage_lists" if name == "listmonk" else "stage_tags"]
    return {
        "mailchimp": {
            "match": "all",
            "conditions": [
                {"condition_type": "StaticSegment", "field": "static_segment", "op": "static_is", "value": ids[stage]},
                {
                    "condition_type": "StaticSegment",
                    "field": "static_segment",
                    "op": "static_not",
                    "value": ids["pregnant"],
                },
            ],
        },
        "buttondown": {
            "filters": [
                {"field": "subscriber.tags", "operator": "contains", "value": ids[stage]},
                {"field": "subscriber.tags", "operator": "not_contains", "value": ids["pregnant"]},
            ],
            "groups": [],
            "predicate": "and",
        },
        "kit": [{"all": [{"type": "tag", "ids": [ids[stage]]}], "any": None, "none": None}],
        "listmonk": [ids[stage]],
    }[name]
