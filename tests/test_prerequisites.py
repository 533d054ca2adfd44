"""Prerequisites and progressions: `before` / `progresses_to` (front matter) and links to cards in
a before-you-start or progression section resolve to library cards, may not loop, and show as
"Do this first" / "Ready for more?" links on the blog and in the email, and as a prerequisite
chain on each exercise page."""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
import pytest
from helpers import copy_repo_project

from pipeline.content.assemble import assemble_issue
from pipeline.content.load import content_from_texts, load_content
from pipeline.content.progressions import find_cycles, order_graph, prerequisite_chain
from pipeline.core.config import load_config
from pipeline.core.errors import ContentErrors
from pipeline.core.model import SignupForm
from pipeline.render.blog import render_site
from pipeline.render.email import render_email

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
BASE = "https://strongfromwithin.example/"
SIGNUP = SignupForm(action="https://lists.example/subscribe", method="post", email_field="email")


def card(name: str, front: str = "", body: str = "") -> str:
    return f"---\nname: {name}\n{front}---\n\nSummary of {name}.\n\n### How to do it\n\n1. Move.\n{body}"


def cards(**fronts: str) -> dict[str, str]:
    return {
        f"content/exercises/{slug}.md": card(slug.replace("-", " ").capitalize(), front)
        for slug, front in fronts.items()
    }


def load_error(files: dict[str, str]) -> str:
    with pytest.raises(ContentErrors) as error:
        content_from_texts(files)
    return str(error.value)


# ---------------------------------------------------------------- where links come from


def test_front_matter_links_resolve_to_cards_with_their_names_and_lines():
    content = content_from_texts(
        cards(**{"heel-slides": "before: [breathing]\nprogresses_to: [clam]\n", "breathing": "", "clam": ""})
    )
    block = content.exercises["heel-slides"].block
    assert [(link.slug, link.name, str(link.source)) for link in block.prerequisites] == [
        ("breathing", "Breathing", "content/exercises/heel-slides.md:3")
    ]
    assert [(link.slug, link.name, str(link.source)) for link in block.progresses_to] == [
        ("clam", "Clam", "content/exercises/heel-slides.md:4")
    ]


def test_a_card_linked_from_a_before_you_start_section_is_a_prerequisite():
    article = (
        "---\ntitle: Glutes\ndate: 2026-11-24\nsummary: S.\n---\n\n## Exercise - "
        "the hip extension\n\n### Before you start\n\n"
        "Loosen up with the [stretch](../exercises/stretch.md) and read [this article](other.md) or\n"
        "[this page](https://example.org/exercises/x.md). The [stretch](../exercises/stretch.md#how) again.\n\n"
        "### Progression\n\nThen try the [clam](/exercises/clam/).\n\n### Safety\n\nTake care.\n"
    )
    content = content_from_texts({"content/articles/glutes.md": article, **cards(stretch="", clam="")})
    (block,) = content.articles[0].exercises
    assert [(link.slug, link.name, link.source.line) for link in block.prerequisites] == [("stretch", "Stretch", 11)]
    assert [(link.slug, link.source.line) for link in block.progresses_to] == [("clam", 16)]


def test_front_matter_and_section_links_to_the_same_card_count_once():
    files = cards(breathing="")
    files["content/exercises/heel-slides.md"] = card(
        "Heel slides", "before: [breathing]\n", "\n### Before you start\n\nDo [breathing](breathing.md) first.\n"
    )
    content = content_from_texts(files)
    assert [link.slug for link in content.exercises["heel-slides"].block.prerequisites] == ["breathing"]


def test_a_card_used_in_an_article_brings_its_links_along():
    files = cards(**{"heel-slides": "before: [breathing]\n", "breathing": ""})
    files["content/articles/a.md"] = (
        "---\ntitle: A\ndate: 2026-11-24\nsummary: S.\n---\n\n```exercise\nref: heel-slides\n```\n"
    )
    (block,) = content_from_texts(files).articles[0].exercises
    assert [(link.slug, link.name) for link in block.prerequisites] == [("breathing", "Breathing")]


# ---------------------------------------------------------------- unknown cards and loops


def test_an_unknown_card_in_front_matter_is_an_error_at_the_key():
    message = load_error(cards(clam="before: [breathng]\n", breathing=""))
    assert (
        message
        == "content/exercises/clam.md:3: 'before' names an unknown exercise 'breathng': did you mean 'breathing'?"
    )


def test_an_unknown_card_linked_from_a_section_is_an_error_at_the_link():
    files = {
        "content/exercises/clam.md": card("Clam", "", "\n### Progression\n\nThen the [banded clam](banded-clam.md).\n")
    }
    assert load_error(files) == (
        "content/exercises/clam.md:13: the progression section '### Progression' links to an unknown exercise "
        "'banded-clam' (no card content/exercises/banded-clam.md)"
    )


def test_two_cards_that_come_before_each_other_are_a_loop():
    message = load_error(cards(a="before: [b]\n", b="before: [a]\n"))
    assert message == (
        "content/exercises/b.md:3: 'before' makes a loop: a -> b -> a; an exercise cannot come before itself, "
        "so remove one of these links"
    )


def test_a_loop_through_before_and_progresses_to_is_found():
    message = load_error(
        cards(a="progresses_to: [b]\n", b="progresses_to: [c]\n", c="before: [b]\nprogresses_to: [a]\n")
    )
    assert "makes a loop: a -> b -> c -> a;" in message


def test_a_card_that_comes_before_itself_is_a_loop():
    assert "'progresses_to' makes a loop: a -> a;" in load_error(cards(a="progresses_to: [a]\n"))


def test_saying_the_same_order_from_both_ends_is_not_a_loop():
    content = content_from_texts(
        cards(breathing="progresses_to: [heel-slides]\n", **{"heel-slides": "before: [breathing]\n"})
    )
    assert find_cycles(order_graph(content.exercises)) == []


# ---------------------------------------------------------------- the prerequisite chain


def test_the_chain_lists_every_earlier_card_in_an_order_to_follow():
    content = content_from_texts(
        cards(
            breathing="",
            stretch="",
            **{
                "heel-slides": "before: [breathing]\n",
                "clam": "before: [heel-slides, stretch]\n",
                "bridge": "before: [clam]\n",
            },
        )
    )
    assert prerequisite_chain(content.exercises, "bridge") == ["breathing", "heel-slides", "stretch", "clam"]
    assert prerequisite_chain(content.exercises, "breathing") == []


def test_the_real_librarys_side_lying_clam_builds_on_breathing_heel_slides_and_the_stretch(make_project):
    content = load_content(load_config(make_project(with_repo_content=True)))
    assert prerequisite_chain(content.exercises, "side-lying-clam") == [
        "diaphragmatic-breathing",
        "heel-slides",
        "piriformis-stretch",
    ]


# ---------------------------------------------------------------- shown on the blog and in the email


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    config = load_config(copy_repo_project(tmp_path_factory.mktemp("real")))
    content = load_content(config)
    site = render_site(content, config, SIGNUP, NOW)
    email = render_email(assemble_issue(content, config, "2026-W48"), config, BASE + "unsubscribe/")
    return site, email


def page(site: dict, path: str):
    return lxml.html.fromstring(site[path])


def test_an_article_card_links_what_to_do_first(real):
    site, _ = real
    card = page(site, "articles/why-your-glutes-grip/index.html").get_element_by_id("exercise-hip-extension")
    (do_first,) = card.find_class("exercise__do-first")
    assert " ".join(do_first.text_content().split()) == "Do this first: Piriformis stretch"
    assert do_first.xpath(".//a/@href") == ["../../exercises/piriformis-stretch/"]


def test_an_article_card_links_the_harder_version(real):
    site, _ = real
    card = page(site, "articles/breathing-and-your-pelvic-floor/index.html").get_element_by_id("exercise-heel-slides")
    (ready,) = card.find_class("exercise__next")
    assert " ".join(ready.text_content().split()) == "Ready for more? Side-lying clam"
    assert ready.xpath(".//a/@href") == ["../../exercises/side-lying-clam/"]


def test_an_exercise_page_shows_its_prerequisite_chain(real):
    site, _ = real
    related = page(site, "exercises/side-lying-clam/index.html").xpath('//section[@class="related"]')[0]
    items = related.xpath('.//ol[@class="chain"]/li')
    assert [" ".join(item.text_content().split()) for item in items] == [
        "Diaphragmatic breathing",
        "Heel slides",
        "Piriformis stretch",
        "Side-lying clam (this exercise)",
    ]
    assert related.xpath('.//ol[@class="chain"]//a/@href') == [
        "../../exercises/diaphragmatic-breathing/",
        "../../exercises/heel-slides/",
        "../../exercises/piriformis-stretch/",
    ]
    assert items[-1].get("aria-current") == "step"


def test_the_first_card_of_the_library_has_no_chain(real):
    site, _ = real
    related = page(site, "exercises/diaphragmatic-breathing/index.html").xpath('//section[@class="related"]')[0]
    assert not related.xpath('.//ol[@class="chain"]')
    assert related.xpath('.//p[@class="exercise__next"]//a/@href') == ["../../exercises/heel-slides/"]


def test_the_email_links_what_to_do_first_and_next_absolutely(real):
    _, email = real
    document = lxml.html.fromstring(email.html)
    first = [
        a
        for a in document.iter("a")
        if a.text == "Piriformis stretch" and "Do this first" in a.getparent().text_content()
    ]
    assert [a.get("href") for a in first] == [BASE + "exercises/piriformis-stretch/"]
    ready = [
        a
        for a in document.iter("a")
        if a.text == "Side-lying clam" and "Ready for more?" in a.getparent().text_content()
    ]
    assert [a.get("href") for a in ready] == [BASE + "exercises/side-lying-clam/"]


def test_the_plain_text_part_spells_the_links_out(real):
    _, email = real
    text = " ".join(email.text.split())
    assert f"Do this first: Piriformis stretch ({BASE}exercises/piriformis-stretch/)" in text
    assert f"Ready for more? Side-lying clam ({BASE}exercises/side-lying-clam/)" in text
