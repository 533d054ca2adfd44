"""The shared model. Every stage reads and returns these dataclasses; none of them does I/O.

Text fields hold Markdown source (what the writer wrote); the renderers turn it into HTML or
plain text for each channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

PREGNANCY_VALUES = ("safe", "modify", "avoid")


@dataclass(frozen=True)
class Source:
    """Where something was written: a path relative to the project root, and a 1-based line."""

    path: str
    line: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Section:
    """A level-3 section of an exercise that is none of the known kinds: kept as free text."""

    title: str
    markdown: str
    source: Source


@dataclass(frozen=True)
class CardLink:
    """A link from an exercise to a library card: a prerequisite ("do this first") or a harder
    version ("ready for more?"). `origin` says where it was written, for messages: "'before'"
    (front matter) or "the before-you-start section". `name` is the card's, filled in by load.py."""

    slug: str
    source: Source
    origin: str
    name: str = ""


@dataclass
class ExerciseBlock:
    """One exercise as readers see it: written inline in an article, or a library card.

    `equipment` is None when the writer said nothing and [] when she said "no equipment".
    A block that comes from a library card (```exercise fence) has `ref` set to the card's slug
    and carries the card's content plus the article's own reps, sets and note.
    """

    name: str
    slug: str
    source: Source
    summary: str = ""
    benefits: str = ""
    steps: list[str] = field(default_factory=list)
    tips: list[str] = field(default_factory=list)
    progression: str = ""
    safety: str = ""
    before: str = ""
    equipment: list[str] | None = None
    muscles: list[str] = field(default_factory=list)
    video: str | None = None
    level: str | None = None
    pregnancy: str | None = None
    cautions: list[str] = field(default_factory=list)
    other_sections: list[Section] = field(default_factory=list)
    ref: str | None = None
    reps: str | None = None
    sets: str | None = None
    note: str | None = None
    rest: str | None = None  # rest between sets or sides, from the ```exercise fence
    exercise_type: str | None = None  # e.g. "stretching", "strength" (a card's front matter)
    prerequisites: list[CardLink] = field(default_factory=list)  # cards to do first, in order
    progresses_to: list[CardLink] = field(default_factory=list)  # the harder versions
    stages: tuple[str, ...] | None = None  # inside a `::: only <stage>` block: who sees it; None = everyone


@dataclass
class Exercise:
    """A card of the exercise library, content/exercises/<slug>.md."""

    slug: str
    block: ExerciseBlock
    source: Source
    meta: dict = field(default_factory=dict)
    forgiven: list[LoadWarning] = field(default_factory=list)  # keys the loader did not know

    @property
    def name(self) -> str:
        return self.block.name


@dataclass
class Prose:
    """A run of ordinary Markdown between exercise blocks."""

    markdown: str
    source: Source
    stages: tuple[str, ...] | None = None  # inside a `::: only <stage>` block: who sees it; None = everyone


Part = Prose | ExerciseBlock


@dataclass
class Article:
    slug: str
    title: str
    date: date
    summary: str
    source: Source
    parts: list[Part] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    author: str | None = None
    image: str | None = None
    image_alt: str | None = None
    draft: bool = False
    newsletter: bool = True
    meta: dict = field(default_factory=dict)
    published: datetime | None = None  # the date with its time of day, when the writer gave one
    aliases: list[str] = field(default_factory=list)  # old addresses (site paths) that redirect here
    forgiven: list[LoadWarning] = field(default_factory=list)  # keys the loader did not know

    @property
    def order_key(self) -> tuple:
        """Newest first when sorted ascending: the day, then the time of day (none: midnight)."""
        clock = self.published.time() if self.published else None
        seconds = clock.hour * 3600 + clock.minute * 60 + clock.second if clock else 0
        return (-self.date.toordinal(), -seconds, self.slug)

    @property
    def exercises(self) -> list[ExerciseBlock]:
        return [part for part in self.parts if isinstance(part, ExerciseBlock)]


@dataclass
class IssueNote:
    """content/issues/<week>.md: the writer's subject, intro and article order for one week."""

    week: str
    source: Source
    subject: str | None = None
    intro: str = ""  # the whole intro, every stage's paragraphs included (`::: only` lines removed)
    order: list[str] = field(default_factory=list)
    intro_parts: list[Prose] = field(default_factory=list)  # the intro split at `::: only` blocks, each with its stages
    forgiven: list[LoadWarning] = field(default_factory=list)  # keys the loader did not know


@dataclass(frozen=True)
class LoadWarning:
    """Something another tool writes that the loader forgave (a front matter key it does not
    know): ignored, and said once per key (an error with `[content] strict = true`)."""

    path: str
    line: int
    key: str
    hint: str = ""  # ": did you mean 'title'?" for a near miss, else ""


@dataclass
class Content:
    """Everything under content/, loaded and cross-checked."""

    articles: list[Article]  # newest first
    exercises: dict[str, Exercise]  # by slug
    issue_notes: dict[str, IssueNote] = field(default_factory=dict)  # by week
    source_texts: dict[str, str] = field(
        default_factory=dict
    )  # content file -> its text as written (rules that scan words)
    warnings: list[Finding] = field(default_factory=list)  # what the loader forgave, one per unknown key

    def articles_using(self, exercise_slug: str) -> list[Article]:
        return [a for a in self.articles if any(b.ref == exercise_slug for b in a.exercises)]

    def published_articles(self) -> list[Article]:
        return [a for a in self.articles if not a.draft]


@dataclass(frozen=True)
class Review:
    """When an exercise a reader may follow was last checked by a professional: the
    `last_reviewed` of its card, or of the article it is written in (None: not given)."""

    what: str  # "exercise card 'Heel slides'", for messages
    source: Source  # the last_reviewed line, or line 1 when there is none
    reviewed_on: date | None


@dataclass
class Issue:
    """One week's email, assembled from the content."""

    week: str  # ISO week, "2026-W48"
    key: str  # stable across rebuilds: site + week
    subject: str
    preview_text: str
    intro: str
    articles: list[Article]
    monday: date
    # Which version of the week this is (pipeline/core/stages.py): None = the one email for everyone;
    # a stage name = the version for readers of that stage; "general" = readers with no stage tag.
    stage: str | None = None
    reviews: tuple[Review, ...] = ()  # of the exercises the week shows, one per file
    # The welcome email (pipeline/content/welcome.py) is not a week and its article is not a blog
    # page: it says `label` instead of "Week of ...", and its title links to the blog's home.
    label: str = ""
    on_blog: bool = True


@dataclass
class RenderedEmail:
    issue: Issue
    subject: str
    preview_text: str
    html: str
    text: str
    content_hash: str  # sha256 over subject, preview text, html and text
    excerpted: list[str] = field(default_factory=list)  # slugs cut to excerpts so the email is not clipped
    image_bytes: int = 0  # what the resized pictures it shows weigh together
    web_copy: str = ""  # the body of its page on the blog (WebCopy.body_html); not part of content_hash


@dataclass
class PushResult:
    provider: str
    action: str  # "created", "updated", "unchanged"
    issue_key: str
    campaign_id: str | None = None
    pushed_at: datetime | None = None
    message: str = ""
    steps: list[str] = field(default_factory=list)  # what this push had the provider do, as ledger steps, in order


ERROR, WARNING = "error", "warning"  # the severities of a Finding


@dataclass(frozen=True)
class Finding:
    """One problem `newsletter check` reports: `path:line: severity: message`."""

    path: str
    line: int
    severity: str  # "error" or "warning"
    message: str
    rule: str = ""  # short id of the check that found it, e.g. "links.unknown-article"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class WebCopy:
    """One version of a week's email as its page on the blog shows it (issues/<week>/): made when
    the email is built, kept in the ledger when it is pushed, so the page shows what went out."""

    issue_key: str
    week: str
    stage: str | None  # None: the one email for everyone; else the version (general included)
    subject: str
    preview_text: str
    monday: date
    body_html: str  # the page's main part, links relative to issues/<week>/[<stage>/]
    pushed_at: datetime | None = None  # None: built, not pushed yet


@dataclass
class SignupForm:
    """What the blog's signup form posts to, and under which names, mapped from our answers to
    what the provider takes from a public form; each provider supplies its own."""

    action: str
    method: str = "post"
    email_field: str = "email"
    hidden_fields: dict[str, str] = field(default_factory=dict)
    note: str = ""  # e.g. "We'll send you an email to confirm." for double opt-in
    name_field: str = ""  # the first name's input; "": not asked
    # "Where are you now?": the radios' name, and the value each answer ("pregnant", "had-baby",
    # "general") posts; an answer missing from stage_values is not offered. "": not asked.
    stage_field: str = ""
    stage_values: dict[str, str] = field(default_factory=dict)
    # The dates ("due_date", "birth_date" -> input name) and the consent box they need; {}: not asked.
    date_fields: dict[str, str] = field(default_factory=dict)
    consent_field: str = ""
    honeypot_field: str = ""  # a field people never see nor fill in
    on_site: bool = False  # `action` is a path on the blog's own address (made relative per page)
    left_out: tuple[str, ...] = ()  # what this provider's form cannot ask ("stage", "dates"), for `check`


class MailingList(Protocol):
    """What a build needs of the list it builds for: every provider is one (deliver/providers/base.py)."""

    def signup_form(self) -> SignupForm: ...

    def unsubscribe_url(self) -> str | None: ...

    def preferences_url(self) -> str | None: ...

    def personal_line(self) -> str | None: ...
