"""What a reader typed into the signup or preferences form, checked. Pure: no I/O.

Every field is checked at once, and each problem is tied to its field so the page can show it
beside the input (and keep what she typed). Line breaks in any field are refused: they are how
header injection starts, and no name or address has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pipeline.core.stage_calendar import StageCalendar
from pipeline.core.stages import GENERAL_STAGE, answer_stages

# The three answers to "Where are you now?"; the stage each stands for is decided from the config.
PREGNANT, HAD_BABY, NEITHER = "pregnant", "had-baby", "general"
ANSWERS = (PREGNANT, HAD_BABY, NEITHER)
HONEYPOT = "website"  # hidden from people; a bot that fills every input fills it
LIMITS = {"email": 254, "name": 100, "token": 400}  # RFC 5321 address; a generous name; a signed link
OTHER_LIMIT = 40  # every other field holds a short choice or a date
FIELDS = ("email", "name", "where", "due_date", "birth_date", "dates_consent")


@dataclass
class Answers:
    """The form as she filled it in: `values` as typed (to show again), `errors` by field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    email: str = ""
    name: str = ""
    where: str | None = None
    due_date: date | None = None
    birth_date: date | None = None
    dates_consent: bool = False
    honeypot_filled: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors


def first_values(fields: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {name: (values[0] if values else "") for name, values in fields.items()}


def read_answers(fields: Mapping[str, str], today: date, calendar: StageCalendar, need_email: bool = True) -> Answers:
    """The form's fields -> Answers; `today` in the writer's zone. A date the calendar's rule
    refuses (StageCalendar.date_problem, as `subscribers import` and `sync` do) is an error."""
    values = {name: fields.get(name, "") for name in FIELDS}
    answers = Answers(values=values, honeypot_filled=bool(fields.get(HONEYPOT, "").strip()))
    for name, value in fields.items():
        limit = LIMITS.get(name, OTHER_LIMIT)
        if "\r" in value or "\n" in value or "\0" in value:
            answers.errors[name] = "Line breaks are not allowed here: type it on one line."
        elif len(value) > limit:
            answers.errors[name] = f"This is too long: at most {limit} characters."
    if need_email:
        _read_email(answers)
    _read_name(answers)
    _read_where(answers, today, calendar)
    return answers


def _read_email(answers: Answers) -> None:
    from pipeline.deliver.subscribers import normalise_email

    typed = answers.values["email"].strip()
    if "email" in answers.errors:
        return
    if not typed:
        answers.errors["email"] = "Enter your email address, like name@example.com."
        return
    try:
        answers.email = normalise_email(typed)
    except ValueError:
        answers.errors["email"] = "This is not an email address: check it reads like name@example.com."


def _read_name(answers: Answers) -> None:
    if "name" not in answers.errors:
        answers.name = " ".join(answers.values["name"].split())


def _read_where(answers: Answers, today: date, calendar: StageCalendar) -> None:
    where = answers.values["where"].strip()
    if where and where not in ANSWERS:
        answers.errors["where"] = "Choose one of the answers, or leave them all unticked."
        return
    answers.where = where or None
    answers.dates_consent = answers.values["dates_consent"] == "yes"
    if where == PREGNANT:
        answers.due_date = _read_date(answers, "due_date", today, "due date")
    elif where == HAD_BABY:
        answers.birth_date = _read_date(answers, "birth_date", today, "baby's birth date")
    _check_dates(answers, today, calendar)
    has_date = answers.due_date is not None or answers.birth_date is not None
    if has_date and not answers.dates_consent:
        field_name = "due_date" if answers.due_date else "birth_date"
        answers.errors.setdefault(
            field_name,
            "To keep this date we need your consent: tick the box below, or clear the date.",
        )


def _read_date(answers: Answers, name: str, today: date, what: str) -> date | None:
    typed = answers.values[name].strip()
    if not typed or name in answers.errors:
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        answers.errors[name] = f"Write your {what} as year-month-day, like {today.isoformat()}."
        return None


def _check_dates(answers: Answers, today: date, calendar: StageCalendar) -> None:
    """The one rule for dates that cannot be right (years away, long gone), the import's and
    the sync's too; the date is then not kept."""
    problem = calendar.date_problem(today, due_date=answers.due_date, birth_date=answers.birth_date)
    if problem is None:
        return
    name = "due_date" if answers.due_date is not None else "birth_date"
    answers.errors[name] = problem[0].upper() + problem[1:] + "."
    answers.due_date = answers.birth_date = None


def chosen_stage(answers: Answers, stages: Sequence[str], pregnant_stage: str) -> str | None:
    """The stage her answer stands for: the pregnant stage, `general`, or for "had my baby" the
    first configured stage after the pregnant one (the gentlest postpartum stage, the safe
    choice when her date is not known). None: she did not answer."""
    if answers.where is None:
        return None
    return answer_stages(stages, pregnant_stage).get(answers.where, GENERAL_STAGE)


def answer_for_stage(stage: str | None, pregnant_stage: str) -> str:
    """The other way, to fill in the preferences form: a stored stage -> the form's answer."""
    if stage is None:
        return ""
    if stage == GENERAL_STAGE:
        return NEITHER
    return PREGNANT if stage == pregnant_stage else HAD_BABY


def consent_time(answers: Answers, now: datetime) -> datetime | None:
    has_date = answers.due_date is not None or answers.birth_date is not None
    return now if has_date and answers.dates_consent else None
