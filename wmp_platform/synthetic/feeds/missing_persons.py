"""Missing persons case system: one row per missing episode."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import DEMAND_HOURS, Day
from wmp_platform.synthetic.feeds.base import Feed, Record, full_name, location, person
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Address, Person
from wmp_platform.synthetic.sampling import WeightedChoice, pick

_CHILD_RISK = WeightedChoice((("No apparent risk", 5), ("Low", 30), ("Medium", 50), ("High", 15)))
_ELDER_RISK = WeightedChoice((("Low", 10), ("Medium", 50), ("High", 40)))
_ADULT_RISK = WeightedChoice((("No apparent risk", 10), ("Low", 35), ("Medium", 40), ("High", 15)))
_CHILD_VULNERABILITY = ("Child at risk of exploitation", "Mental health", "Looked-after child", "None recorded")
_ELDER_VULNERABILITY = ("Dementia", "Physical health condition", "Dementia; diabetic")
_ADULT_VULNERABILITY = ("Mental health", "Self-harm risk", "Alcohol dependency", "None recorded")
_STATUS = WeightedChoice((("Found", 60), ("Returned", 20), ("Missing", 20)))


@dataclass(slots=True)
class MissingCase:
    missing: Person
    reporter: Person
    relationship: str
    reported: datetime
    last_seen: datetime
    last_seen_at: Address
    risk: str
    vulnerability: str
    status: str
    found: datetime | None


class MissingPersonsFeed(Feed):
    name = "missing_persons"
    share = 0.01
    duplicate_rate = 0.01
    quality = Quality(typo=0.015, variant=0.06, former_surname=0.1, dob_swap=0.005, missing=0.05, stale_address=0.05)

    def case(self, day: Day, rng: random.Random) -> MissingCase:
        pop = self.population
        missing = pick(rng, pop.missing_pool)
        age = pop.age(missing, day.date)
        home = [p for p in pop.household(missing) if pop.age(p, day.date) >= 18]
        if home:
            reporter = pick(rng, home)
            relationship = "Parent" if age < 18 else "Son or daughter" if age >= 75 else "Partner"
        else:
            reporter = pick(rng, pop.adults)
            relationship = pick(rng, ("Care home staff", "Children's home staff", "School")) if age < 18 else \
                pick(rng, ("Care home staff", "Neighbour")) if age >= 75 else pick(rng, ("Friend", "Colleague"))
        if age < 18:
            risk, vulnerability = _CHILD_RISK(rng), pick(rng, _CHILD_VULNERABILITY)
        elif age >= 75:
            risk, vulnerability = _ELDER_RISK(rng), pick(rng, _ELDER_VULNERABILITY)
        else:
            risk, vulnerability = _ADULT_RISK(rng), pick(rng, _ADULT_VULNERABILITY)
        reported = day.time(rng, DEMAND_HOURS)
        last_seen = reported - timedelta(minutes=rng.randint(30, 24 * 60))
        place = missing.address if rng.random() < 0.4 else pick(rng, pop.addresses)
        status = _STATUS(rng)
        found = None if status == "Missing" else reported + timedelta(minutes=rng.randint(60, 20 * 60))
        return MissingCase(missing, reporter, relationship, reported, last_seen, place, risk, vulnerability,
                           status, found)

    def render(self, case: MissingCase, day: Day, rng: random.Random) -> Record:
        q = self.quality
        view = noise.person_view(rng, case.missing, q)
        place = case.last_seen_at
        reporter_name = full_name(noise.forename(rng, case.reporter, q), noise.surname(rng, case.reporter, q))
        row = self.row(
            report_ref=f"MP/{day.yy}/{self.serial:06d}",
            reported_at=case.reported,
            last_seen_at=case.last_seen,
            risk_grade=case.risk,
            missing_surname=view.surname,
            missing_forename=view.forename,
            missing_dob=view.dob,
            missing_sex=view.sex,
            missing_address=noise.address_text(rng, view.address, q),
            missing_postcode=noise.postcode(rng, view.address.postcode, q),
            missing_phone=view.phone,
            vulnerability=case.vulnerability,
            last_seen_uprn=noise.blank(rng, place.uprn, q),
            last_seen_address=noise.address_text(rng, place, q, town=False),
            last_seen_postcode=noise.postcode(rng, place.postcode, q),
            reporter_name=reporter_name,
            reporter_relationship=case.relationship,
            reporter_phone=noise.blank(rng, noise.phone(rng, case.reporter.phone, q), q),
            status=case.status,
            found_at=case.found,
        )
        mentions = [person("missing", case.missing), person("reporter", case.reporter),
                    location("last_seen", place)]
        return Record(row, mentions)
