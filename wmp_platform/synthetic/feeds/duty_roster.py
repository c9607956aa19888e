"""Duty management system: every officer's duty, one row per officer per day."""

from __future__ import annotations

import random

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import Day
from wmp_platform.synthetic.feeds.base import Feed, Record, person, upper
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.roster import Duty


class DutyRosterFeed(Feed):
    name = "duty_roster"
    share = 0.06  # sets the number of officers: one row each per day
    quality = Quality(typo=0.002, variant=0.05, initial=0.25, former_surname=0.05, missing=0.0)

    def cases(self, day: Day, rng: random.Random, count: int) -> list[Duty]:
        """The whole roster, whatever the count: the force has as many officers as it has."""
        return self.roster.duties(day)

    def render(self, case: Duty, day: Day, rng: random.Random) -> Record:
        officer = case.officer
        row = self.row(
            duty_date=day.date,
            officer_collar_number=officer.collar_number,
            officer_surname=upper(noise.surname(rng, officer.person, self.quality)),
            officer_forename=noise.forename(rng, officer.person, self.quality),
            rank=officer.rank,
            lpa=officer.lpa,
            team=officer.team,
            shift_start=case.start,
            shift_end=case.end,
            duty_status=case.status,
        )
        facts = {"duty_date": day.date, "lpa": officer.lpa, "duty_status": case.status,
                 "shift_start": case.start, "shift_end": case.end}
        return Record(row, [person("officer", officer.person)], facts)
