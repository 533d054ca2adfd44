"""Reviews that go stale: `last_reviewed` older than `[safety] review_max_age_months`, or in the
future, is a warning that `check`, `build` and `push` all show (never silent, never fatal).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pipeline.core.clock import build_date
from pipeline.core.model import WARNING, Finding, Issue, Review

if TYPE_CHECKING:
    from pipeline.core.config import Config, SafetyConfig


def review_warnings(issues: list[Issue], config: Config, today: date | None = None) -> list[Finding]:
    """What `build` and `push` say of the reviews behind the week's email: a stale or future
    `last_reviewed` of any exercise it shows, once per file."""
    today = today or build_date(config.email.timezone)
    reviews = dict.fromkeys(review for issue in issues for review in issue.reviews)
    return [finding for review in reviews for finding in review_date_findings(review, config.safety, today)]


def review_date_findings(review: Review, safety: SafetyConfig, today: date) -> list[Finding]:
    """A review older than `[safety] review_max_age_months`, or dated after `today`: a warning
    (check, build and push all show it; it never stops them, see the README)."""
    reviewed, path, line = review.reviewed_on, review.source.path, review.source.line
    if reviewed is None:
        return []
    if reviewed < months_before(today, safety.review_max_age_months):
        return [
            Finding(
                path,
                line,
                WARNING,
                f"{review.what} was last reviewed on {reviewed.isoformat()}, more than "
                f"{safety.review_max_age_months} months ago: "
                "have it checked again, then update last_reviewed",
                "safety.review-stale",
            )
        ]
    if reviewed > today:
        return [
            Finding(
                path,
                line,
                WARNING,
                f"last_reviewed {reviewed.isoformat()} is in the future: write the date the review happened",
                "safety.review-future",
            )
        ]
    return []


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")
