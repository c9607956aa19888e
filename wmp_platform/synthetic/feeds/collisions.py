"""Road collision recording (STATS19 layout): one row per vehicle involved in a collision."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import TRAFFIC_HOURS, Day, format_time
from wmp_platform.synthetic.feeds.base import Feed, Record, coordinate, location, person, upper, vehicle
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Address, Person, Vehicle
from wmp_platform.synthetic.sampling import WeightedChoice, pick

_SEVERITY = WeightedChoice((("Slight", 78), ("Serious", 20), ("Fatal", 2)))
_VEHICLES = WeightedChoice(((1, 25), (2, 60), (3, 15)))
_SPEED = WeightedChoice((("30", 60), ("20", 12), ("40", 14), ("50", 5), ("60", 4), ("70", 5)))
_WEATHER = WeightedChoice((("Fine no high winds", 78), ("Raining no high winds", 13), ("Fine + high winds", 2),
                           ("Raining + high winds", 2), ("Fog or mist", 1), ("Snowing no high winds", 0.5),
                           ("Other", 2), ("Unknown", 1.5)))
_CASUALTY_CLASS = WeightedChoice((("Driver or rider", 55), ("Passenger", 30), ("Pedestrian", 15)))
_SEX = {"M": "Male", "F": "Female", None: "Not known"}


@dataclass(slots=True)
class Collision:
    reference: str
    when: datetime
    severity: str
    scene: Address
    speed_limit: str
    weather: str


@dataclass(slots=True)
class VehicleInvolved:
    collision: Collision
    number: int
    vehicle: Vehicle
    driver: Person
    casualty: Person | None
    casualty_class: str | None
    casualty_severity: str | None


class CollisionsFeed(Feed):
    name = "collisions"
    share = 0.015
    quality = Quality(typo=0.02, variant=0.04, initial=0.03, former_surname=0.2, dob_swap=0.008, missing=0.08,
                      format_drift=0.1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.collisions = 0

    def cases(self, day: Day, rng: random.Random, count: int) -> Iterator[VehicleInvolved]:
        """Whole collisions, one case per vehicle, until the day has about `count` vehicle rows."""
        rows = 0
        while rows < count:
            self.collisions += 1
            collision = Collision(f"{day.year}20{self.collisions:07d}", day.time(rng, TRAFFIC_HOURS), _SEVERITY(rng),
                                  pick(rng, self.population.addresses), _SPEED(rng), _WEATHER(rng))
            for number in range(1, _VEHICLES(rng) + 1):
                rows += 1
                yield self._vehicle(rng, collision, number, first=number == 1)

    def _vehicle(self, rng: random.Random, collision: Collision, number: int, first: bool) -> VehicleInvolved:
        pop = self.population
        car = pick(rng, pop.vehicles)
        keeper_household = [p for p in pop.household(car.keeper) if pop.age(p, collision.when.date()) >= 17]
        driver = car.keeper if rng.random() < 0.8 or not keeper_household else pick(rng, keeper_household)
        casualty = casualty_class = casualty_severity = None
        if first or rng.random() < 0.3:
            casualty_class = _CASUALTY_CLASS(rng)
            casualty = driver if casualty_class == "Driver or rider" else \
                pick(rng, pop.household(driver) or pop.over_ten) if casualty_class == "Passenger" else \
                pick(rng, pop.over_ten)
            casualty_severity = collision.severity if first else "Slight"
        return VehicleInvolved(collision, number, car, driver, casualty, casualty_class, casualty_severity)

    def render(self, case: VehicleInvolved, day: Day, rng: random.Random) -> Record:
        q = self.quality
        collision, car = case.collision, case.vehicle
        scene = collision.scene
        driver = noise.person_view(rng, case.driver, q)
        row = self.row(
            collision_ref=collision.reference,
            vehicle_ref=str(case.number),
            collision_date=day.date,
            collision_time=format_time(collision.when, "%H:%M"),
            severity=collision.severity,
            road_name=scene.street,
            speed_limit=collision.speed_limit,
            weather=collision.weather,
            scene_latitude=coordinate(scene.latitude),
            scene_longitude=coordinate(scene.longitude),
            lsoa_code=scene.lsoa_code,
            vehicle_type=car.body,
            vehicle_registration=noise.registration(rng, car.registration, q),
            vehicle_make=car.make,
            vehicle_model=car.model,
            vehicle_colour=car.colour,
            driver_forename=upper(driver.forename),
            driver_surname=upper(driver.surname),
            driver_dob=driver.dob,
            driver_sex=_SEX[driver.sex],
            driver_postcode=noise.postcode(rng, driver.address.postcode, q),
        )
        mentions = [location("scene", scene), vehicle("involved", car), person("driver", case.driver)]
        if case.casualty:
            hurt = noise.person_view(rng, case.casualty, q)
            row.update(casualty_forename=upper(hurt.forename), casualty_surname=upper(hurt.surname),
                       casualty_dob=hurt.dob, casualty_sex=_SEX[hurt.sex], casualty_class=case.casualty_class,
                       casualty_severity=case.casualty_severity)
            mentions.append(person("casualty", case.casualty))
        return Record(row, mentions)
