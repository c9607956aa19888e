"""Stop and search as data.police.uk publishes it: no names, an anonymised map point, one file a month."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from wmp_platform.synthetic.days import CRIME_HOURS, Day
from wmp_platform.synthetic.feeds.base import Feed, Record, coordinate, location
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Address, Person
from wmp_platform.synthetic.sampling import WeightedChoice, pick

_TYPE = WeightedChoice((("Person search", 77), ("Person and Vehicle search", 16), ("Vehicle search", 7)))
_LEGISLATION = WeightedChoice((
    (("Misuse of Drugs Act 1971 (section 23)", ("Controlled drugs",)), 50),
    (("Police and Criminal Evidence Act 1984 (section 1)",
      ("Stolen goods", "Offensive weapons", "Article for use in theft", "Articles for use in criminal damage")), 40),
    (("Firearms Act 1968 (section 47)", ("Firearms",)), 8),
    (("Criminal Justice and Public Order Act 1994 (section 60)", ("Offensive weapons",)), 1.5),
    (("Criminal Justice Act 1988 (section 139B)", ("Offensive weapons",)), 0.5),
))
_OUTCOME = WeightedChoice((
    ("A no further action disposal", 68), ("Arrest", 16), ("Khat or Cannabis warning", 5), ("Community resolution", 4),
    ("Penalty Notice for Disorder", 2), ("Summons / charged by post", 1), ("Caution (simple or conditional)", 0.5),
    (None, 7),
))
SELF_DEFINED = {
    "W1": "White - English/Welsh/Scottish/Northern Irish/British", "W2": "White - Irish",
    "W3": "White - Gypsy or Irish Traveller", "W9": "White - Any other White background",
    "M1": "Mixed/Multiple ethnic groups - White and Black Caribbean",
    "M2": "Mixed/Multiple ethnic groups - White and Black African",
    "M3": "Mixed/Multiple ethnic groups - White and Asian",
    "M9": "Mixed/Multiple ethnic groups - Any other Mixed/Multiple ethnic background",
    "A1": "Asian/Asian British - Indian", "A2": "Asian/Asian British - Pakistani",
    "A3": "Asian/Asian British - Bangladeshi", "A4": "Asian/Asian British - Chinese",
    "A9": "Asian/Asian British - Any other Asian background",
    "B1": "Black/African/Caribbean/Black British - Caribbean", "B2": "Black/African/Caribbean/Black British - African",
    "B9": "Black/African/Caribbean/Black British - Any other Black/African/Caribbean background",
    "O1": "Other ethnic group - Arab", "O9": "Other ethnic group - Any other ethnic group",
    "NS": "Other ethnic group - Not stated",
}
_OFFICER_DEFINED = {"W": "White", "B": "Black", "A": "Asian", "O": "Other", "N": "Other"}


def age_range(age: int) -> str:
    """The published age band of a person searched."""
    return "10-17" if age < 18 else "18-24" if age < 25 else "25-34" if age < 35 else "over 34"


@dataclass(slots=True)
class StopCase:
    kind: str
    when: datetime
    place: Address
    searched: Person | None
    legislation: str
    searched_for: str
    outcome: str | None


class StopSearchFeed(Feed):
    name = "stop_search"
    share = 0.015
    quality = Quality(missing=0.07)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._month = None
        self._points: set[tuple[datetime, str]] = set()  # the published key (time, point) stays unique

    def case(self, day: Day, rng: random.Random) -> StopCase:
        pop = self.population
        if self._month != (day.year, day.date.month):
            self._month, self._points = (day.year, day.date.month), set()
        kind = _TYPE(rng)
        searched = None
        if kind != "Vehicle search":
            searched = pop.suspect(rng) if rng.random() < 0.7 else pick(rng, pop.over_ten)
        while True:
            when = day.time(rng, CRIME_HOURS).replace(second=0)
            place = searched.address if searched and rng.random() < 0.3 else pick(rng, pop.addresses)
            if (when, place.location_id) not in self._points:
                self._points.add((when, place.location_id))
                break
        legislation, objects = _LEGISLATION(rng)
        return StopCase(kind, when, place, searched, legislation, pick(rng, objects), _OUTCOME(rng))

    def render(self, case: StopCase, day: Day, rng: random.Random) -> Record:
        missing = self.quality.missing
        row = self.row(
            type=case.kind,
            date=case.when,
            latitude=coordinate(case.place.latitude),
            longitude=coordinate(case.place.longitude),
            legislation=case.legislation,
            object_of_search=case.searched_for,
            outcome=case.outcome,
            removal_of_more_than_just_outer_clothing=None if rng.random() < missing else
            "True" if rng.random() < 0.03 else "False",
        )
        if case.outcome and case.outcome != "A no further action disposal" and rng.random() < 0.6:
            row["outcome_linked_to_object_of_search"] = "True" if rng.random() < 0.6 else "False"
        searched = case.searched
        if searched:
            age = self.population.age(searched, day.date)
            code = searched.ethnicity
            row.update(
                gender=None if rng.random() < missing else "Male" if searched.sex == "M" else "Female",
                age_range=None if rng.random() < missing * 2 else age_range(age),
                self_defined_ethnicity=None if rng.random() < missing else SELF_DEFINED[code],
                officer_defined_ethnicity=None if rng.random() < 0.6 else
                _OFFICER_DEFINED[code[0]] if code[0] != "M" else pick(rng, ("White", "Black", "Other")),
            )
        return Record(row, [location("stop", case.place)])
