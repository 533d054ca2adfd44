"""The blog's signup form for each provider: what it asks and under which field names, mapped
from our answers to what that provider's public form takes (docs/providers.md), and what it
leaves out, which `newsletter check` says once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import REPO
from lxml import html as lxml_html

from pipeline.core.config import config_from_dict
from pipeline.deliver.providers import get_provider
from pipeline.render.blog import render_site

STAGE_TAGS = {"pregnant": 101, "postpartum-0-6w": 102, "postpartum-6w-plus": 103}


def form_for(tmp_path, provider: dict):
    config = config_from_dict({"provider": provider}, tmp_path)
    return get_provider(config, {}).signup_form()


def test_buttondown_takes_the_stage_as_a_tag_by_name_or_id(tmp_path):
    by_name = form_for(tmp_path, {"name": "buttondown", "username": "strong"})
    assert (by_name.stage_field, by_name.name_field) == ("tag", "metadata__first_name")
    assert by_name.stage_values == {"pregnant": "pregnant", "had-baby": "postpartum-0-6w", "general": "general"}
    by_id = form_for(tmp_path, {"name": "buttondown", "username": "strong", "stage_tags": {"pregnant": "tag_1"}})
    assert by_id.stage_values["pregnant"] == "tag_1"
    assert by_id.date_fields == {} and by_id.left_out == ("dates",)


@pytest.mark.parametrize(
    ("provider", "field", "name_field"),
    [
        ({"name": "kit", "form_id": 7}, "tags[]", "fields[first_name]"),
        (
            {"name": "mailchimp", "form_action": "https://x.us1.list-manage.com/subscribe/post?u=a&id=b"},
            "tags",
            "FNAME",
        ),
    ],
)
def test_kit_and_mailchimp_take_the_stage_tag_ids_and_ask_nothing_without_them(tmp_path, provider, field, name_field):
    without = form_for(tmp_path, provider)
    assert (without.stage_field, without.left_out, without.name_field) == ("", ("stage", "dates"), name_field)
    tagged = form_for(tmp_path, {**provider, "stage_tags": STAGE_TAGS})
    assert tagged.stage_field == field
    assert tagged.stage_values == {"pregnant": "101", "had-baby": "102"}  # no tag for "general": not offered
    assert tagged.left_out == ("dates",)


def test_listmonk_takes_a_stage_as_one_more_public_list(tmp_path):
    provider = {"name": "listmonk", "base_url": "https://lists.example.com", "list_uuid": "base-uuid"}
    assert form_for(tmp_path, provider).left_out == ("stage", "dates")
    uuids = {"pregnant": "p-uuid", "postpartum-0-6w": "e-uuid", "general": "base-uuid"}
    form = form_for(tmp_path, {**provider, "stage_list_uuids": uuids})
    assert (form.stage_field, form.stage_values, form.name_field) == (
        "l",
        {"pregnant": "p-uuid", "had-baby": "e-uuid"},
        "name",
    )
    assert form.hidden_fields == {"l": "base-uuid"}


def rendered_form(tmp_path, provider: dict):
    config = config_from_dict({"provider": provider}, tmp_path)
    from pipeline.core.model import Content

    files = render_site(Content(articles=[], exercises={}), config, get_provider(config, {}).signup_form(), _now())
    page = lxml_html.fromstring(files["subscribe/index.html"])
    return page.xpath('//form[@class="signup__form"]')[0]


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_the_self_hosted_form_asks_everything_with_labels_a_fieldset_and_an_unticked_consent(tmp_path):
    form = rendered_form(tmp_path, {"name": "outbox"})
    assert form.get("action") == "../subscribe/" and form.get("method") == "post"
    names = [field.get("name") for field in form.xpath(".//input")]
    assert names == ["email", "name", "where", "due_date", "where", "birth_date", "where", "dates_consent", "website"]
    consent = form.xpath('.//input[@name="dates_consent"]')[0]
    assert (
        consent.get("checked") is None
        and "only to send me the version" in form.xpath('.//label[@for="signup-consent"]')[0].text_content()
    )
    assert form.xpath(".//fieldset/legend")[0].text_content().startswith("Where are you now?")
    for field in form.xpath('.//input[@id and @type!="radio" and @type!="hidden"]'):
        assert form.xpath(f'.//label[@for="{field.get("id")}"]'), field.get("id")
    assert form.xpath('.//a[@href="../privacy/"]')


def test_a_kit_form_posts_tags_and_asks_no_dates(tmp_path):
    form = rendered_form(tmp_path, {"name": "kit", "form_id": 7, "stage_tags": STAGE_TAGS})
    radios = form.xpath('.//input[@type="radio"]')
    assert [(r.get("name"), r.get("value")) for r in radios] == [("tags[]", "101"), ("tags[]", "102")]
    assert not form.xpath('.//input[@type="date"]') and not form.xpath('.//input[@type="checkbox"]')


def test_check_says_once_what_the_providers_form_leaves_out(make_project):
    root = make_project(with_repo_content=True)
    config = (root / "newsletter.toml").read_text(encoding="utf-8").split("[provider]")[0]
    (root / "newsletter.toml").write_text(config + '[provider]\nname = "kit"\nform_id = 7\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "check", "--week", "2026-W48", "--format", "json", "--root", str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))},
        timeout=120,
    )
    findings = [f for f in json.loads(result.stdout) if f["rule"] == "signup.left-out"]
    assert len(findings) == 1
    assert "leaves out 'Where are you now?'" in findings[0]["message"] and "due date" in findings[0]["message"]
