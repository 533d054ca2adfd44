"""schema.org structured data for the blog, as search engines read it.

- Each exercise is one node typed `HowTo` (its steps, with its safety note and tips as
  `HowToTip`s), `ExercisePlan` (repetitions, rest, exercise type, muscles) and `PhysicalTherapy`
  (the one schema.org type with `contraindication`, for its cautions), plus a `VideoObject` when
  it has a video.
- An article page is a `BlogPosting` on a `MedicalWebPage` that says who reviewed the guidance
  and when; an exercise page is a `MedicalWebPage` with the card's review.

Every property used here is defined for one of its node's types in the schema.org vocabulary
(tests/test_jsonld.py checks this against the vocabulary file). Text fields are plain text, not HTML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from pipeline.core.model import Article, ExerciseBlock
from pipeline.render.video import VideoLink

CONTEXT = "https://schema.org"
EXERCISE_TYPES = ["HowTo", "ExercisePlan", "PhysicalTherapy"]
SAFETY_TIP_NAME = "Safety first"

# Turns a Markdown snippet into plain text (schema.org text fields are not HTML).
PlainText = Callable[[str], str]

# "10", "8-10", "5 to 10 breaths", "5 each side", "up to 20"
_REPETITIONS = re.compile(
    r"^(?P<upto>up\s+to\s+)?(?P<low>\d+)(?:\s*(?:-|–|—|to)\s*(?P<high>\d+))?\s*(?P<unit>.*)$", re.IGNORECASE
)


@dataclass(frozen=True)
class VideoData:
    """What the page knows about an exercise's video beyond its address."""

    link: VideoLink | None  # None: a video elsewhere than YouTube or Vimeo
    url: str
    thumbnail_url: str | None = None
    upload_date: date | None = None  # when it first appeared on this site


def exercise(
    block: ExerciseBlock, url: str, plain: PlainText, node_id: str | None = None, video: VideoData | None = None
) -> dict:
    data: dict = {
        "@context": CONTEXT,
        "@type": list(EXERCISE_TYPES),
        "@id": node_id or url,
        "name": block.name,
        "url": url,
    }
    if block.summary:
        data["description"] = plain(block.summary)
    steps = howto_steps(block, plain)
    if steps:
        data["step"] = steps
    if block.equipment:
        data["tool"] = [{"@type": "HowToTool", "name": item} for item in block.equipment]
    data.update(exercise_plan_fields(block))
    contraindications = [plain(caution) for caution in block.cautions]
    if block.pregnancy == "avoid":
        contraindications.insert(0, "Pregnancy")
    if contraindications:
        data["contraindication"] = contraindications
    if video:
        data["video"] = video_object(block, video, plain)
    return data


def howto_steps(block: ExerciseBlock, plain: PlainText) -> list[dict]:
    """The safety note first, as readers see it, then the numbered steps, then the tips."""
    items: list[dict] = []
    if block.safety:
        items.append({"@type": "HowToTip", "name": SAFETY_TIP_NAME, "text": plain(block.safety)})
    items += [{"@type": "HowToStep", "position": n, "text": plain(step)} for n, step in enumerate(block.steps, start=1)]
    items += [{"@type": "HowToTip", "text": plain(tip)} for tip in block.tips]
    return items


def exercise_plan_fields(block: ExerciseBlock) -> dict:
    data: dict = {}
    if block.exercise_type:
        data["exerciseType"] = block.exercise_type
    if block.level:
        data["educationalLevel"] = block.level
    repetitions = repetitions_value(block.reps or "")
    if repetitions is not None:
        data["repetitions"] = repetitions
    if block.rest:
        data["restPeriods"] = block.rest
    if block.muscles:
        data["associatedAnatomy"] = [{"@type": "Muscle", "name": muscle} for muscle in block.muscles]
    return data


def repetitions_value(reps: str) -> int | dict | None:
    """`repetitions` must be a number or a QuantitativeValue: "10" -> 10, "5 to 10 breaths" ->
    {minValue 5, maxValue 10, unitText breaths}; words alone ("as many as feel good") -> None."""
    match = _REPETITIONS.match(reps.strip())
    if not match:
        return None
    low, high, unit = int(match["low"]), match["high"], match["unit"].strip()
    if not unit and not high and not match["upto"]:
        return low
    value: dict = {"@type": "QuantitativeValue"}
    if match["upto"]:
        value["maxValue"] = low
    elif high:
        value.update(minValue=low, maxValue=int(high))
    else:
        value["value"] = low
    if unit:
        value["unitText"] = unit
    return value


def video_object(block: ExerciseBlock, video: VideoData, plain: PlainText) -> dict:
    data: dict = {
        "@type": "VideoObject",
        "name": block.name,
        "description": plain(block.summary) if block.summary else f"How to do {block.name}.",
        "url": video.url,
    }
    if video.link:
        data["embedUrl"] = video.link.embed_url
    if video.thumbnail_url:
        data["thumbnailUrl"] = video.thumbnail_url
    if video.upload_date:
        data["uploadDate"] = video.upload_date.isoformat()
    return data


def medical_web_page(url: str, name: str, description: str, meta: dict, language: str, main_entity: str) -> dict:
    """The page as a health page: who reviewed its guidance (`reviewed_by: Name, role`) and when."""
    data: dict = {
        "@context": CONTEXT,
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "name": name,
        "inLanguage": language,
        "mainEntity": {"@id": main_entity},
    }
    if description:
        data["description"] = description
    if meta.get("last_reviewed"):
        data["lastReviewed"] = meta["last_reviewed"].isoformat()
    if meta.get("reviewed_by"):
        data["reviewedBy"] = reviewer(meta["reviewed_by"])
    return data


def reviewer(reviewed_by: str) -> dict:
    """ "Dr Anouk Verhoeven, pelvic health physiotherapist" -> a Person with that name and job title."""
    name, _, role = reviewed_by.partition(",")
    person = {"@type": "Person", "name": name.strip()}
    if role.strip():
        person["jobTitle"] = role.strip()
    return person


def blog_posting(
    article: Article, url: str, description: str, site_author: str, image_url: str | None, publisher: str
) -> dict:
    data: dict = {
        "@context": CONTEXT,
        "@type": "BlogPosting",
        "@id": posting_id(url),
        "headline": article.title,
        "description": description,
        "datePublished": article.date.isoformat(),
        "url": url,
        "mainEntityOfPage": url,
        "author": {"@type": "Person", "name": article.author}
        if article.author
        else {"@type": "Organization", "name": site_author or publisher},
        "publisher": {"@type": "Organization", "name": publisher},
    }
    if article.tags:
        data["keywords"] = article.tags
    if image_url:
        data["image"] = image_url
    return data


def posting_id(page_url: str) -> str:
    return f"{page_url}#article"


def script_body(data: dict) -> Markup:
    """JSON safe to place inside <script>: no `<`, `>` or `&` can end the script or open a comment."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)
