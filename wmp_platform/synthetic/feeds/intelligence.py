"""Intelligence management system: one row per intelligence report."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import CRIME_HOURS, Day
from wmp_platform.synthetic.feeds.base import Feed, Record, full_name, location, person, vehicle
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Address, Officer, Person, Vehicle
from wmp_platform.synthetic.sampling import WeightedChoice, pick

_TOPICS = {
    "Drugs supply": ("supplying class A drugs", "running a drugs line", "storing cannabis for others"),
    "Weapons": ("carrying a knife", "hiding a firearm for an associate", "buying weapons online"),
    "Organised crime": ("moving cash for an organised group", "controlling a car wash used for laundering"),
    "Burglary": ("handling stolen jewellery", "targeting houses with cars on the drive"),
    "Vehicle crime": ("cloning registration plates", "stealing keyless cars to order"),
    "Child exploitation": ("using young people to run drugs", "grooming children at a takeaway"),
    "Violence": ("threatening rivals", "planning a revenge attack"),
}
_TOPIC = WeightedChoice((("Drugs supply", 35), ("Weapons", 15), ("Organised crime", 10), ("Burglary", 10),
                         ("Vehicle crime", 10), ("Child exploitation", 8), ("Violence", 12)))
_SOURCE_3X5X2 = WeightedChoice((("A", 0.2), ("B", 0.6), ("C", 0.2)))
_ASSESSMENT = WeightedChoice((("1", 0.1), ("2", 0.4), ("3", 0.3), ("4", 0.15), ("5", 0.05)))


@dataclass(slots=True)
class IntelligenceCase:
    submitted: datetime
    topic: str
    subject: Person
    vehicle: Vehicle | None
    place: Address
    officer: Officer


class IntelligenceFeed(Feed):
    name = "intelligence"
    share = 0.04
    duplicate_rate = 0.02  # the same information submitted twice
    quality = Quality(typo=0.02, variant=0.1, initial=0.03, former_surname=0.3, dob_swap=0.01, missing=0.15,
                      stale_address=0.3, address_style=0.5)

    def case(self, day: Day, rng: random.Random) -> IntelligenceCase:
        pop = self.population
        subject = pop.suspect(rng)
        roll = rng.random()
        own = pop.vehicles_by_keeper.get(subject.index)
        car = pick(rng, own) if own and roll < 0.5 else pick(rng, pop.vehicles) if roll < 0.6 else None
        place = noise.address_of(rng, subject, self.quality) if rng.random() < 0.6 else pick(rng, pop.addresses)
        submitted = day.time(rng, CRIME_HOURS)
        officer = self.roster.officer_at(rng, day, submitted)
        return IntelligenceCase(submitted, _TOPIC(rng), subject, car, place, officer)

    def render(self, case: IntelligenceCase, day: Day, rng: random.Random) -> Record:
        q = self.quality
        view = noise.person_view(rng, case.subject, q)
        modern = rng.random() < 0.85
        place_text = noise.address_text(rng, case.place, q, town=False)
        row = self.row(
            intel_ref=f"INT/{day.yy}/{self.serial:07d}",
            submitted_at=case.submitted,
            grading_scheme="3x5x2" if modern else "5x5x5",
            source_evaluation=_SOURCE_3X5X2(rng) if modern else pick(rng, "ABCDE"),
            intelligence_assessment=_ASSESSMENT(rng),
            handling_code=("P" if rng.random() < 0.85 else "C") if modern else pick(rng, "12345"),
            topic=case.topic,
            subject_surname=view.surname,
            subject_forename=view.forename,
            subject_dob=view.dob,
            subject_sex=view.sex,
            subject_nickname=case.subject.nickname,
            subject_pnc_id=view.pnc_id,
            location_address=place_text,
            location_postcode=noise.postcode(rng, case.place.postcode, q),
            officer_collar_number=case.officer.collar_number,
        )
        mentions = [person("subject", case.subject), person("officer", case.officer.person),
                    location("address", case.place)]
        sighting = ""
        if case.vehicle:
            car = case.vehicle
            plate = noise.registration(rng, car.registration, q)
            row.update(vehicle_registration=plate, vehicle_make=car.make.title(), vehicle_colour=car.colour.lower())
            mentions.append(vehicle("sighted", car))
            sighting = f" Seen using a {car.colour.lower()} {car.make.title()} {plate}."
        alias = f' (known as "{case.subject.nickname}")' if case.subject.nickname else ""
        activity = pick(rng, _TOPICS[case.topic])
        row["summary"] = f"{full_name(view.forename, view.surname)}{alias} is believed to be {activity}, " \
                         f"using {place_text}.{sighting}"
        return Record(row, mentions)
