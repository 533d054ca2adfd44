"""A reader's stage on a given day from her dates (pipeline/core/stage_calendar.py) and the
`[audience]` keys that set its boundaries. Days are built relative to the clock's today, so the
tests hold on any date and on a shifted clock; leap days are literal because they are the point."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.core import clock
from pipeline.core.config import config_from_dict
from pipeline.core.errors import ConfigError
from pipeline.core.stage_calendar import StageCalendar, add_months, send_day
from pipeline.core.stages import GENERAL_STAGE

RULES = StageCalendar()  # the defaults: 6 weeks early postpartum, general after 24 months
TODAY = clock.today("UTC")


def stage(day: date, **dates) -> str | None:
    return RULES.stage_on(day, **dates)


class TestBoundaries:
    """Each boundary: the day before, the day itself, the day after."""

    BIRTH = TODAY - timedelta(days=100)

    def test_pregnant_until_the_day_before_the_birth(self):
        assert stage(self.BIRTH - timedelta(days=1), birth_date=self.BIRTH) == "pregnant"

    def test_early_postpartum_from_the_birth_day(self):
        assert stage(self.BIRTH, birth_date=self.BIRTH) == "postpartum-0-6w"

    def test_early_postpartum_through_the_last_day_of_week_six(self):
        assert stage(self.BIRTH + timedelta(days=41), birth_date=self.BIRTH) == "postpartum-0-6w"

    def test_later_postpartum_from_six_weeks_to_the_day(self):
        assert stage(self.BIRTH + timedelta(days=42), birth_date=self.BIRTH) == "postpartum-6w-plus"

    def test_later_postpartum_through_the_day_before_the_end(self):
        end = add_months(self.BIRTH, 24)
        assert stage(end - timedelta(days=1), birth_date=self.BIRTH) == "postpartum-6w-plus"

    def test_general_from_the_end(self):
        end = add_months(self.BIRTH, 24)
        assert stage(end, birth_date=self.BIRTH) == GENERAL_STAGE
        assert RULES.stage_tag_on(end, birth_date=self.BIRTH) is None

    def test_configured_boundaries_move_the_stages(self):
        rules = StageCalendar(early_postpartum_weeks=8, postpartum_end_months=12)
        assert rules.stage_on(self.BIRTH + timedelta(weeks=7), birth_date=self.BIRTH) == "postpartum-0-6w"
        assert rules.stage_on(self.BIRTH + timedelta(weeks=8), birth_date=self.BIRTH) == "postpartum-6w-plus"
        assert rules.stage_on(add_months(self.BIRTH, 12), birth_date=self.BIRTH) == GENERAL_STAGE

    def test_custom_stage_names_follow_the_same_rule(self):
        rules = StageCalendar(dated_stages=("expecting", "newborn", "recovering"))
        assert [rules.stage_on(self.BIRTH + timedelta(days=d), birth_date=self.BIRTH) for d in (-1, 0, 42)] == [
            "expecting",
            "newborn",
            "recovering",
        ]


class TestWhichDateCounts:
    def test_the_due_date_stands_for_the_birth_when_no_birth_date_is_known(self):
        due = TODAY + timedelta(days=3)
        assert [stage(due + timedelta(days=d), due_date=due) for d in (-1, 0)] == ["pregnant", "postpartum-0-6w"]

    def test_a_due_date_in_the_past_without_a_birth_date_is_postpartum(self):
        assert stage(TODAY, due_date=TODAY - timedelta(days=10)) == "postpartum-0-6w"
        assert stage(TODAY, due_date=TODAY - timedelta(days=60)) == "postpartum-6w-plus"

    def test_a_birth_long_before_the_due_date_counts_from_the_birth(self):
        birth, due = TODAY - timedelta(days=5), TODAY + timedelta(weeks=12)
        assert stage(TODAY, due_date=due, birth_date=birth) == "postpartum-0-6w"
        assert stage(birth + timedelta(days=42), due_date=due, birth_date=birth) == "postpartum-6w-plus"

    def test_a_birth_after_the_due_date_keeps_her_pregnant_until_it(self):
        due, birth = TODAY - timedelta(days=10), TODAY + timedelta(days=1)
        assert stage(TODAY, due_date=due, birth_date=birth) == "pregnant"

    def test_a_reader_with_no_date_keeps_the_stage_she_chose(self):
        assert stage(TODAY, chosen_stage="postpartum-6w-plus") == "postpartum-6w-plus"
        assert stage(TODAY) is None

    def test_dates_win_over_the_stage_she_chose(self):
        assert stage(TODAY, due_date=TODAY + timedelta(days=30), chosen_stage="postpartum-6w-plus") == "pregnant"

    def test_a_reader_who_removes_her_dates_goes_back_to_her_chosen_stage(self):
        chosen = "pregnant"
        with_dates = stage(TODAY, birth_date=TODAY - timedelta(days=3), chosen_stage=chosen)
        without = stage(TODAY, chosen_stage=chosen)
        assert (with_dates, without) == ("postpartum-0-6w", "pregnant")

    def test_without_dated_stages_dates_pick_nothing(self):
        rules = StageCalendar(dated_stages=())
        assert rules.stage_on(TODAY, due_date=TODAY, chosen_stage="trying") == "trying"


class TestLeapDays:
    # Literal dates: 29 February exists only in leap years, which is what these tests are about.
    def test_a_birth_on_29_february_ends_on_the_last_day_of_february_two_years_on(self):
        birth = date(2028, 2, 29)
        assert add_months(birth, 24) == date(2030, 2, 28)
        assert stage(date(2030, 2, 27), birth_date=birth) == "postpartum-6w-plus"
        assert stage(date(2030, 2, 28), birth_date=birth) == GENERAL_STAGE

    def test_six_weeks_across_29_february_are_42_days(self):
        birth = date(2028, 2, 1)
        assert stage(date(2028, 3, 13), birth_date=birth) == "postpartum-0-6w"  # day 41
        assert stage(date(2028, 3, 14), birth_date=birth) == "postpartum-6w-plus"  # day 42

    def test_a_due_date_on_29_february(self):
        due = date(2028, 2, 29)
        assert [stage(date(2028, 2, d), due_date=due) for d in (28, 29)] == ["pregnant", "postpartum-0-6w"]
        assert stage(date(2028, 3, 1), due_date=due) == "postpartum-0-6w"


class TestSendDay:
    def test_the_day_is_the_day_in_the_writers_time_zone(self):
        day = TODAY + timedelta(days=7)
        late_utc = datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC)
        assert send_day(late_utc, "Pacific/Auckland") == day + timedelta(days=1)
        assert send_day(late_utc, "America/Los_Angeles") == day
        assert send_day(late_utc, "UTC") == day

    def test_a_reader_due_on_the_send_day_is_postpartum_whatever_the_hour(self):
        due, zone = TODAY + timedelta(days=7), ZoneInfo("Europe/London")
        for hour, minute in ((0, 0), (0, 5), (23, 59)):
            instant = datetime(due.year, due.month, due.day, hour, minute, tzinfo=zone)
            assert stage(send_day(instant, "Europe/London"), due_date=due) == "postpartum-0-6w"

    def test_one_minute_before_midnight_is_still_the_day_before(self):
        due = TODAY + timedelta(days=7)
        instant = datetime(due.year, due.month, due.day, 0, 0, tzinfo=UTC) - timedelta(minutes=1)
        assert stage(send_day(instant, "UTC"), due_date=due) == "pregnant"

    def test_the_same_instant_is_a_different_stage_on_either_side_of_the_date_line(self):
        due = TODAY + timedelta(days=7)
        instant = datetime(due.year, due.month, due.day, 0, 0, tzinfo=UTC) - timedelta(hours=2)
        assert stage(send_day(instant, "Pacific/Kiritimati"), due_date=due) == "postpartum-0-6w"
        assert stage(send_day(instant, "America/New_York"), due_date=due) == "pregnant"

    def test_a_send_time_without_a_zone_is_refused(self):
        with pytest.raises(ValueError, match="time zone"):
            send_day(datetime(TODAY.year, TODAY.month, TODAY.day, 8), "UTC")


class TestDateProblems:
    def problem(self, **dates) -> str | None:
        return RULES.date_problem(TODAY, due_date=dates.get("due_date"), birth_date=dates.get("birth_date"))

    def test_plausible_dates_are_fine(self):
        assert self.problem(due_date=TODAY + timedelta(weeks=30)) is None
        assert self.problem(due_date=TODAY + timedelta(weeks=2), birth_date=TODAY - timedelta(days=3)) is None

    def test_a_due_date_in_the_far_future_is_refused(self):
        far = TODAY + timedelta(weeks=45)
        assert self.problem(due_date=far) == (
            f"the due date {far.isoformat()} is more than 44 weeks away; "
            "check the year (a pregnancy lasts about 40 weeks)"
        )

    def test_a_due_date_in_the_far_past_is_refused(self):
        assert "more than 24 months ago" in self.problem(due_date=add_months(TODAY, -25))

    def test_a_birth_date_in_the_future_is_refused(self):
        assert "is in the future" in self.problem(birth_date=TODAY + timedelta(days=2))

    def test_a_birth_date_in_the_far_past_is_refused(self):
        assert "more than 24 months ago" in self.problem(birth_date=add_months(TODAY, -360))


class TestPersonalLine:
    def test_weeks_pregnant_from_the_due_date(self):
        assert RULES.personal_line(TODAY, due_date=TODAY + timedelta(weeks=16), birth_date=None) == (
            "You are 24 weeks pregnant"
        )

    def test_the_babys_age_from_the_birth_date(self):
        birth = TODAY - timedelta(days=23)
        assert RULES.personal_line(TODAY, due_date=None, birth_date=birth) == "Your baby is 3 weeks old"
        assert RULES.personal_line(TODAY, due_date=None, birth_date=TODAY - timedelta(days=1)) == (
            "Your baby is 1 day old"
        )

    def test_months_after_twelve_weeks(self):
        birth = add_months(TODAY, -7)
        assert RULES.personal_line(TODAY, due_date=None, birth_date=birth) == "Your baby is 7 months old"

    def test_left_out_when_the_due_date_has_passed_without_a_birth_date(self):
        assert RULES.personal_line(TODAY, due_date=TODAY - timedelta(days=3), birth_date=None) is None

    def test_left_out_without_dates_and_after_the_end(self):
        assert RULES.personal_line(TODAY, due_date=None, birth_date=None) is None
        assert RULES.personal_line(TODAY, due_date=None, birth_date=add_months(TODAY, -30)) is None


class TestAudienceKeys:
    def test_the_defaults(self):
        calendar = config_from_dict({}, Path(".")).audience.calendar
        assert calendar == StageCalendar(("pregnant", "postpartum-0-6w", "postpartum-6w-plus"), 6, 24)

    def test_configured_boundaries_are_read(self):
        audience = {"early_postpartum_weeks": 8, "postpartum_end_months": 12}
        calendar = config_from_dict({"audience": audience}, Path(".")).audience.calendar
        assert (calendar.early_postpartum_weeks, calendar.postpartum_end_months) == (8, 12)

    def test_custom_stages_without_the_defaults_turn_dates_off(self):
        calendar = config_from_dict({"audience": {"stages": ["trying", "pregnant"]}}, Path(".")).audience.calendar
        assert not calendar.uses_dates

    @pytest.mark.parametrize(
        "audience, message",
        [
            ({"early_postpartum_weeks": 0}, "early_postpartum_weeks must be between 1 and 52"),
            ({"early_postpartum_weeks": "6"}, "early_postpartum_weeks must be a int"),
            ({"postpartum_end_months": 1}, "postpartum_end_months must be longer than early_postpartum_weeks"),
            ({"postpartum_end_months": 121}, "at most 120"),
            ({"dated_stages": ["pregnant", "postpartum-0-6w"]}, "dated_stages must name three different stages"),
            (
                {"dated_stages": ["pregnant", "newborn", "postpartum-6w-plus"]},
                "dated_stages: 'newborn' is not one of the stages",
            ),
        ],
    )
    def test_bad_boundaries_are_refused_naming_the_key(self, audience, message):
        with pytest.raises(ConfigError, match=rf"newsletter.toml: \[audience\] .*{re.escape(message)}"):
            config_from_dict({"audience": audience}, Path("."))
