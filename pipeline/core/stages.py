"""Reader stages: who gets which version of a week's issue. Pure: no I/O.

Subscribers carry a stage tag (by default `pregnant`, `postpartum-0-6w`, `postpartum-6w-plus`;
`[audience] stages` in newsletter.toml). A week whose content is the same for everyone goes out
as one email. A week with stage-specific content (`::: only <stage>` blocks, or an exercise
marked `pregnancy: avoid`) goes out as one version per stage plus a `general` version for
readers with no stage tag.

The one rule every provider follows, so that nobody gets two versions: a reader gets the version
of her *first* stage tag in the configured order; a reader with none of the stage tags gets the
general version. So the audience of stage number i is "tagged stage i and none of the stages
before it", and the general audience is "none of the stage tags".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEFAULT_STAGES = ("pregnant", "postpartum-0-6w", "postpartum-6w-plus")
DEFAULT_PREGNANT_STAGE = "pregnant"
GENERAL_STAGE = "general"  # the version for readers without a stage tag; not a configurable stage


@dataclass(frozen=True)
class Targeting:
    """The audience of one version: readers tagged `include` (None: no tag needed) and none of
    the tags in `exclude`."""

    stage: str
    include: str | None
    exclude: tuple[str, ...]

    def describe(self, tag_word: str = "tagged") -> str:
        """`readers tagged 'postpartum-0-6w' and not 'pregnant'`, for plans and confirmations."""
        excluded = " or ".join(f"'{tag}'" for tag in self.exclude)
        if self.include is None:
            return f"readers with no stage tag (not {tag_word} {excluded})" if excluded else "every reader"
        text = f"readers {tag_word} '{self.include}'"
        return f"{text} and not {excluded}" if excluded else text


def versions(stages: Sequence[str]) -> tuple[str, ...]:
    """Every version a staged week can have, in order: each stage, then the general one."""
    return (*stages, GENERAL_STAGE)


def targeting(stages: Sequence[str], stage: str) -> Targeting:
    """The audience of the version for `stage` (a configured stage or GENERAL_STAGE)."""
    if stage == GENERAL_STAGE:
        return Targeting(stage, None, tuple(stages))
    if stage not in stages:
        raise ValueError(f"'{stage}' is not a configured stage ({', '.join(stages)})")
    position = list(stages).index(stage)
    return Targeting(stage, stage, tuple(stages[:position]))


def version_for_tags(tags: Iterable[str], stages: Sequence[str]) -> str:
    """The version a reader with these tags gets: her first stage in the configured order, or
    the general version when she has none of them."""
    held = set(tags)
    return next((stage for stage in stages if stage in held), GENERAL_STAGE)


def answer_stages(stages: Sequence[str], pregnant_stage: str) -> dict[str, str]:
    """The stage each answer to the form's "Where are you now?" stands for: "pregnant" the
    pregnant stage, "had-baby" the first other stage (the gentlest postpartum version while her
    date is not known), "general" none. An answer with no stage configured for it is left out."""
    answers = {}
    if pregnant_stage in stages:
        answers["pregnant"] = pregnant_stage
    after = [stage for stage in stages if stage != pregnant_stage]
    if after:
        answers["had-baby"] = after[0]
    answers["general"] = GENERAL_STAGE
    return answers


def version_key(base_key: str, stage: str | None) -> str:
    """The issue key of one version: `example-com-2026-W48-pregnant`; the base key when the
    week has one version for everyone."""
    return f"{base_key}-{stage}" if stage else base_key


def base_key(issue_key: str, stage: str | None) -> str:
    return issue_key.removesuffix(f"-{stage}") if stage else issue_key
