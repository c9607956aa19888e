"""Public protection system: one row per DASH domestic abuse risk assessment."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import DEMAND_HOURS, Day
from wmp_platform.synthetic.feeds.base import Feed, Record, location, person
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Person
from wmp_platform.synthetic.sampling import pick

_SEX = {"M": "male", "F": "female", None: "unknown"}


def risk_level(score: int, rng: random.Random) -> str:
    """DASH risk from the yes count (14 or more is high), sometimes raised on professional judgement."""
    level = "high" if score >= 14 else "medium" if score >= 10 else "standard"
    if level != "high" and rng.random() < 0.05:
        level = "medium" if level == "standard" else "high"
    return level


@dataclass(slots=True)
class AssessmentCase:
    victim: Person
    perpetrator: Person
    relationship: str
    assessed: datetime
    score: int
    risk: str
    children: bool


class DomesticAbuseFeed(Feed):
    name = "domestic_abuse"
    share = 0.02
    duplicate_rate = 0.005
    quality = Quality(typo=0.01, variant=0.05, former_surname=0.3, dob_swap=0.005, missing=0.04, stale_address=0.0)

    def case(self, day: Day, rng: random.Random) -> AssessmentCase:
        pop = self.population
        victim, perpetrator, relationship = pick(rng, pop.abusive_pairs)
        score = int(rng.betavariate(2, 4) * 28)
        children = any(pop.age(p, day.date) < 18 for p in pop.household(victim))
        return AssessmentCase(victim, perpetrator, relationship, day.time(rng, DEMAND_HOURS), score,
                              risk_level(score, rng), children)

    def render(self, case: AssessmentCase, day: Day, rng: random.Random) -> Record:
        q = self.quality
        victim = noise.person_view(rng, case.victim, q)
        perpetrator = noise.person_view(rng, case.perpetrator, q)
        home = case.victim.address
        row = self.row(
            dash_ref=f"DA/{day.yy}/{self.serial:06d}",
            assessed_at=case.assessed,
            victim_forename=victim.forename,
            victim_surname=victim.surname,
            victim_dob=victim.dob,
            victim_sex=_SEX[victim.sex],
            victim_phone=victim.phone,
            home_uprn=noise.blank(rng, home.uprn, q),
            home_address=noise.address_text(rng, home, q),
            home_postcode=noise.postcode(rng, home.postcode, q),
            perpetrator_forename=perpetrator.forename,
            perpetrator_surname=perpetrator.surname,
            perpetrator_dob=perpetrator.dob,
            perpetrator_sex=_SEX[perpetrator.sex],
            perpetrator_pnc_id=perpetrator.pnc_id,
            relationship=case.relationship,
            dash_score=str(case.score),
            risk_level=case.risk,
            marac_referral="true" if case.risk == "high" else "false",
            children_in_household="true" if case.children else "false",
        )
        mentions = [person("victim", case.victim), person("perpetrator", case.perpetrator), location("home", home)]
        return Record(row, mentions)
