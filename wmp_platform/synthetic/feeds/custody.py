"""Custody management system: one row per detention."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import NIGHT_HOURS, Day
from wmp_platform.synthetic.feeds.base import Feed, Record, location, person, upper
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import CustodySuite, Officer, Person
from wmp_platform.synthetic.sampling import WeightedChoice, pick

_REASONS = WeightedChoice((
    ("Assault occasioning actual bodily harm", 12), ("Common assault", 10), ("Assault - domestic", 10),
    ("Possession with intent to supply a controlled drug of class A", 6), ("Possession of a controlled drug", 6),
    ("Theft - shoplifting", 10), ("Burglary - dwelling", 6), ("Robbery", 3), ("Criminal damage", 6),
    ("Possession of an offensive weapon", 4), ("Public order - section 4", 5), ("Drink driving", 6),
    ("Breach of bail conditions", 5), ("Wanted on warrant", 5), ("Harassment", 3),
    ("Taking a vehicle without consent", 3),
))
_DISPOSALS = WeightedChoice((
    ("Charged - remanded", 6), ("Charged - bailed", 18), ("Released under investigation", 30), ("Bailed", 12),
    ("No further action", 20), ("Caution", 8), ("Community resolution", 6),
))
_SEX = {"M": "Male", "F": "Female", None: "Unknown"}


@dataclass(slots=True)
class CustodyCase:
    detained: Person
    suite: CustodySuite
    arrested: datetime
    arrived: datetime
    released: datetime | None
    reason: str
    disposal: str | None
    officer: Officer


class CustodyFeed(Feed):
    name = "custody"
    share = 0.025
    duplicate_rate = 0.003
    quality = Quality(typo=0.01, variant=0.05, former_surname=0.2, dob_swap=0.004, missing=0.02,
                      stale_address=0.15, format_drift=0.08)

    def case(self, day: Day, rng: random.Random) -> CustodyCase:
        pop = self.population
        detained = pop.suspect(rng)
        local = [s for s in pop.suites if s.address.lpa == detained.address.lpa]
        suite = pick(rng, local or pop.suites)
        arrived = day.time(rng, NIGHT_HOURS)
        arrested = arrived - timedelta(minutes=rng.randint(15, 90))
        disposal = _DISPOSALS(rng) if rng.random() > 0.03 else None  # None: still detained at the extract
        released = None
        if disposal and disposal != "Charged - remanded":  # the remanded go from the cells to court
            released = arrived + timedelta(minutes=int(600 * rng.lognormvariate(0, 0.6)))
        return CustodyCase(detained, suite, arrested, arrived, released, _REASONS(rng), disposal,
                           self.roster.officer_at(rng, day, arrested))

    def render(self, case: CustodyCase, day: Day, rng: random.Random) -> Record:
        q = self.quality
        view = noise.person_view(rng, case.detained, q)
        row = self.row(
            custody_number=f"{case.suite.code}/{self.serial:05d}/{day.yy}",
            custody_suite=case.suite.name,
            suite_uprn=case.suite.address.uprn,
            arrested_at=case.arrested,
            arrived_at=case.arrived,
            released_at=case.released,
            detained_surname=upper(view.surname),
            detained_forename=view.forename,
            detained_middle_names=view.middle_names,
            detained_dob=view.dob,
            detained_sex=_SEX[view.sex],
            detained_ethnicity=noise.blank(rng, case.detained.ethnicity, q),
            detained_address=noise.address_text(rng, view.address, q),
            detained_postcode=noise.postcode(rng, view.address.postcode, q),
            detained_pnc_id=view.pnc_id,
            detained_cro_number=view.cro_number,
            arrest_reason=case.reason,
            disposal=case.disposal,
            detention_authorised="Y" if rng.random() < 0.97 else "N",
            officer_collar_number=case.officer.collar_number,
        )
        mentions = [
            person("detained", case.detained), person("officer", case.officer.person),
            location("custody_suite", case.suite.address), location("home", view.address),
        ]
        return Record(row, mentions)
