"""Command and control: one JSON object per incident log (999, 101, online and alarm contacts)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import DEMAND_HOURS, Day, minutes
from wmp_platform.synthetic.feeds.base import Feed, Record, coordinate, full_name, location, person
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Address, Officer, Person
from wmp_platform.synthetic.sampling import WeightedChoice, pick

ANONYMOUS = "Anonymous"
GRADES = {1: "Emergency", 2: "Priority", 3: "Routine", 4: "Scheduled", 5: "No attendance"}
_CHANNEL = WeightedChoice((("999", 40), ("101", 42), ("Online", 13), ("Alarm", 5)))
_GRADE = {
    "999": WeightedChoice(((1, 45), (2, 35), (3, 12), (4, 3), (5, 5))),
    "101": WeightedChoice(((1, 3), (2, 25), (3, 35), (4, 17), (5, 20))),
    "Online": WeightedChoice(((2, 5), (3, 30), (4, 30), (5, 35))),
    "Alarm": WeightedChoice(((1, 60), (2, 35), (5, 5))),
}
_CATEGORY = {
    1: WeightedChoice((("Crime - Violence", 30), ("Concern for Safety", 20), ("Domestic Incident", 25),
                       ("RTC - Injury", 10), ("Crime - Robbery", 8), ("Crime - Burglary", 7))),
    2: WeightedChoice((("Domestic Incident", 20), ("Suspicious Circumstances", 15), ("Crime - Theft", 15),
                       ("Crime - Criminal Damage", 10), ("ASB - Personal", 15), ("Missing Person", 10),
                       ("RTC - Damage Only", 15))),
    3: WeightedChoice((("Crime - Theft", 30), ("Crime - Burglary", 20), ("ASB - Nuisance", 20),
                       ("Crime - Criminal Damage", 20), ("Concern for Safety", 10))),
    5: WeightedChoice((("Lost/Found Property", 25), ("ASB - Environmental", 20), ("Abandoned Call", 25),
                       ("Highway Disruption", 10), ("Crime - Theft", 20))),
}
_CATEGORY[4] = _CATEGORY[3]
_RECLASSIFIED = ("Crime - Violence", "Domestic Incident", "Concern for Safety", "Crime - Theft", "ASB - Nuisance",
                 "No Police Action Required", "Suspicious Circumstances")
_TRAVEL_MEDIAN_MINUTES = {1: 6.0, 2: 12.0, 3: 15.0, 4: 15.0}


@dataclass(slots=True)
class IncidentCase:
    channel: str
    grade: int
    received: datetime
    answered: datetime | None
    graded: datetime
    dispatched: datetime | None
    arrived: datetime | None
    closed: datetime
    opening: str
    closing: str
    caller: Person | None
    scene: Address
    officer: Officer | None


def _dispatch_delay(rng: random.Random, grade: int) -> timedelta:
    if grade == 1:
        return minutes(rng, 1.2)
    if grade == 2:
        return minutes(rng, 15)
    if grade == 3:
        return minutes(rng, 6 * 60)
    return timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 8))


class IncidentsFeed(Feed):
    name = "incidents"
    share = 0.16
    duplicate_rate = 0.01  # a second log opened for the same incident
    quality = Quality(typo=0.03, variant=0.08, missing=0.06, address_style=0.5, format_drift=0.2)

    def case(self, day: Day, rng: random.Random) -> IncidentCase:
        pop = self.population
        channel = _CHANNEL(rng)
        grade = _GRADE[channel](rng)
        opening = "Alarm - Intruder" if channel == "Alarm" else _CATEGORY[grade](rng)
        closing = opening if rng.random() < 0.75 else pick(rng, _RECLASSIFIED)
        one_second = timedelta(seconds=1)
        received = day.time(rng, DEMAND_HOURS)
        if channel == "999":
            answered = received + one_second + timedelta(seconds=int(rng.expovariate(1 / 4)))  # ~90% in 10 s
        elif channel == "101":
            answered = received + one_second + minutes(rng, 2.5)
        else:
            answered = None
        graded = (answered or received) + timedelta(seconds=20) + minutes(rng, 1.5)
        dispatched = arrived = officer = None
        if grade == 5:
            closed = graded + one_second + minutes(rng, 25)
        else:
            dispatched = graded + one_second + _dispatch_delay(rng, grade)
            travel = _TRAVEL_MEDIAN_MINUTES[grade] * rng.lognormvariate(0, 0.5)
            if grade > 1 and rng.random() < 0.05:  # cancelled before anyone arrived
                closed = dispatched + minutes(rng, 20) + one_second
            else:
                arrived = dispatched + timedelta(seconds=60 + int(travel * 60))
                closed = arrived + minutes(rng, 70) + one_second
            officer = self.roster.officer_at(rng, day, dispatched)
        caller = None if channel == "Alarm" else pick(rng, pop.adults)
        scene = caller.address if caller and rng.random() < 0.4 else pick(rng, pop.addresses)
        return IncidentCase(channel, grade, received, answered, graded, dispatched, arrived, closed,
                            opening, closing, caller, scene, officer)

    def render(self, case: IncidentCase, day: Day, rng: random.Random) -> Record:
        q = self.quality
        scene = case.scene
        row = self.row(
            log_date=day.date,
            log_number=str(self.serial_today),
            channel=case.channel,
            grade_code=str(case.grade),
            grade_label=GRADES[case.grade],
            received_at=case.received,
            answered_at=case.answered,
            graded_at=case.graded,
            dispatched_at=case.dispatched,
            arrived_at=case.arrived,
            closed_at=case.closed,
            opening_category=case.opening,
            closing_category=case.closing,
            scene_uprn=scene.uprn if rng.random() < 0.85 else None,
            scene_address=noise.address_text(rng, scene, q, town=False),
            scene_postcode=noise.postcode(rng, scene.postcode, q),
            scene_latitude=coordinate(scene.latitude),
            scene_longitude=coordinate(scene.longitude),
            lpa=scene.lpa,
        )
        mentions = [location("scene", scene)]
        if case.officer:
            row["officer_collar_number"] = case.officer.collar_number
            mentions.append(person("officer", case.officer.person))
        if case.caller:
            name, phone = self._caller(rng, case.caller)
            row.update(caller_name=name, caller_phone=phone)
            if phone or name != ANONYMOUS:
                mentions.append(person("caller", case.caller))
        facts = {"channel": case.channel, "grade": case.grade, "received_at": case.received,
                 "answered_at": case.answered, "dispatched_at": case.dispatched, "arrived_at": case.arrived,
                 "closed_at": case.closed}
        return Record(row, mentions, facts)

    def _caller(self, rng: random.Random, caller: Person) -> tuple[str | None, str | None]:
        """The caller's name as a call handler types it, and the number they called from."""
        q = self.quality
        phone = caller.phone if rng.random() < 0.9 else None
        roll = rng.random()
        if roll < 0.06:
            return ANONYMOUS, phone
        forename, surname = noise.forename(rng, caller, q), noise.surname(rng, caller, q)
        if roll < 0.66:
            name = full_name(forename, surname)
        elif roll < 0.78:
            name = f"{surname.upper()}, {forename}"
        elif roll < 0.9:
            name = f"{'Mr' if caller.sex == 'M' else 'Mrs'} {surname}"
        else:
            name = forename
        return name, phone and noise.phone(rng, phone, q)
