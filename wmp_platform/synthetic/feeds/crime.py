"""Crime recording system: one row per recorded crime."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import CRIME_HOURS, Day, minutes
from wmp_platform.synthetic.feeds.base import Feed, Record, coordinate, location, person, upper
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Address, Officer, Person
from wmp_platform.synthetic.sampling import WeightedChoice, pick


@dataclass(frozen=True)
class Offence:
    code: str
    name: str
    category: str
    weight: float
    victim: str  # person, woman, business
    scene: str  # home, commercial, street
    detection: float  # chance a suspect is named


_VIOLENCE = "Violence and sexual offences"
OFFENCES = (
    Offence("8N", "Assault with injury", _VIOLENCE, 12, "person", "street", 0.7),
    Offence("105A", "Assault without injury", _VIOLENCE, 14, "person", "street", 0.65),
    Offence("8L", "Harassment", _VIOLENCE, 8, "person", "home", 0.85),
    Offence("8Q", "Stalking", _VIOLENCE, 3, "woman", "home", 0.95),
    Offence("19C", "Rape of a female aged 16 and over", _VIOLENCE, 1.2, "woman", "home", 0.7),
    Offence("1", "Murder", _VIOLENCE, 0.03, "person", "street", 0.9),
    Offence("2", "Attempted murder", _VIOLENCE, 0.05, "person", "street", 0.8),
    Offence("28E", "Burglary residential", "Burglary", 7, "person", "home", 0.15),
    Offence("30C", "Burglary business and community", "Burglary", 2, "business", "commercial", 0.1),
    Offence("34B", "Robbery of personal property", "Robbery", 3, "person", "street", 0.3),
    Offence("39", "Theft from the person", "Theft from the person", 3, "person", "street", 0.15),
    Offence("45", "Theft from vehicle", "Vehicle crime", 6, "person", "home", 0.08),
    Offence("46", "Shoplifting", "Shoplifting", 12, "business", "commercial", 0.6),
    Offence("48", "Theft or unauthorised taking of a motor vehicle", "Vehicle crime", 4, "person", "home", 0.1),
    Offence("56A", "Arson endangering life", "Criminal damage and arson", 0.5, "person", "home", 0.4),
    Offence("58A", "Criminal damage to a dwelling", "Criminal damage and arson", 7, "person", "home", 0.3),
)
_OFFENCE = WeightedChoice((o, o.weight) for o in OFFENCES)
_DETECTED = WeightedChoice((
    ("Under investigation", 35), ("Awaiting court outcome", 15), ("Unable to prosecute suspect", 25),
    ("Offender given a caution", 5), ("Local resolution", 6), ("Formal action is not in the public interest", 3),
    ("Further investigation is not in the public interest", 3), ("Court result unavailable", 2),
))
_UNDETECTED = WeightedChoice((("Under investigation", 40), ("Investigation complete; no suspect identified", 60)))
_SEX = {"M": "M", "F": "F", None: None}


@dataclass(slots=True)
class CrimeCase:
    offence: Offence
    occurred: datetime
    reported: datetime
    victim: Person | None
    suspect: Person | None
    scene: Address
    officer: Officer
    outcome: str


class CrimeFeed(Feed):
    name = "crime"
    share = 0.09
    duplicate_rate = 0.004
    quality = Quality(typo=0.015, variant=0.04, former_surname=0.2, dob_swap=0.006, missing=0.04)

    def case(self, day: Day, rng: random.Random) -> CrimeCase:
        pop = self.population
        offence = _OFFENCE(rng)
        victim = None
        if offence.victim != "business":
            victim = pick(rng, pop.over_ten)
            for _ in range(5):
                if offence.victim != "woman" or victim.sex == "F":
                    break
                victim = pick(rng, pop.over_ten)
        if offence.scene == "home":
            scene = victim.address if victim else pick(rng, pop.residential)
        elif offence.scene == "commercial":
            scene = pick(rng, pop.commercial)
        else:
            scene = pick(rng, pop.addresses)
        suspect = pop.suspect(rng) if rng.random() < offence.detection else None
        if suspect is victim:
            suspect = None
        occurred = day.time(rng, CRIME_HOURS)
        reported = occurred + minutes(rng, 150)
        outcome = _DETECTED(rng) if suspect else _UNDETECTED(rng)
        return CrimeCase(offence, occurred, reported, victim, suspect, scene,
                         self.roster.officer_at(rng, day, occurred), outcome)

    def render(self, case: CrimeCase, day: Day, rng: random.Random) -> Record:
        q = self.quality
        scene = case.scene
        row = self.row(
            crime_ref=f"CR/{self.serial:07d}/{day.yy}",
            hocr_code=case.offence.code,
            crime_type=case.offence.name,
            crime_category=case.offence.category,
            occurred_at=case.occurred,
            reported_at=case.reported,
            scene_uprn=noise.blank(rng, scene.uprn, q),
            scene_address=noise.address_text(rng, scene, q),
            scene_postcode=noise.postcode(rng, scene.postcode, q),
            scene_latitude=coordinate(scene.latitude),
            scene_longitude=coordinate(scene.longitude),
            lpa=scene.lpa,
            outcome=case.outcome,
            officer_collar_number=case.officer.collar_number,
        )
        mentions = [location("scene", scene), person("officer", case.officer.person)]
        victim = case.victim
        if victim:
            view = noise.person_view(rng, victim, q)
            row.update(
                victim_surname=upper(view.surname), victim_forename=view.forename, victim_dob=view.dob,
                victim_sex=_SEX[view.sex], victim_ethnicity=noise.blank(rng, victim.ethnicity, q),
                victim_address=noise.address_text(rng, view.address, q),
                victim_postcode=noise.postcode(rng, view.address.postcode, q), victim_phone=view.phone,
            )
            mentions.append(person("victim", victim))
        suspect = case.suspect
        if suspect:
            view = noise.person_view(rng, suspect, q)
            row.update(suspect_surname=upper(view.surname), suspect_forename=view.forename, suspect_dob=view.dob,
                       suspect_sex=_SEX[view.sex], suspect_pnc_id=view.pnc_id)
            mentions.append(person("suspect", suspect))
        facts = {"hocr_code": case.offence.code, "crime_category": case.offence.category,
                 "occurred_at": case.occurred, "outcome": case.outcome}
        return Record(row, mentions, facts)
