"""Vehicle keeper register: one row per register record changed that day."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import OFFICE_HOURS, Day
from wmp_platform.synthetic.feeds.base import Feed, Record, location, person, upper, vehicle
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Vehicle
from wmp_platform.synthetic.sampling import WeightedChoice, pick

_CHANGE = WeightedChoice((("VED_RENEWAL", 45), ("MOT", 30), ("KEEPER_ADDRESS", 15), ("MARKER", 10)))


@dataclass(slots=True)
class RegisterCase:
    vehicle: Vehicle
    change: str
    updated: datetime


class VehiclesFeed(Feed):
    name = "vehicles"
    share = 0.025
    duplicate_rate = 0.005
    quality = Quality(typo=0.005, variant=0.02, former_surname=0.25, dob_swap=0.002, missing=0.2,
                      stale_address=0.2, address_style=0.1, format_drift=0.05)

    def case(self, day: Day, rng: random.Random) -> RegisterCase:
        return RegisterCase(pick(rng, self.population.vehicles), _CHANGE(rng), day.time(rng, OFFICE_HOURS))

    def render(self, case: RegisterCase, day: Day, rng: random.Random) -> Record:
        q = self.quality
        car, keeper = case.vehicle, case.vehicle.keeper
        view = noise.person_view(rng, keeper, q)
        home = keeper.address if case.change == "KEEPER_ADDRESS" else view.address
        title = "MR" if keeper.sex == "M" else "MRS" if keeper.former_surname else pick(rng, ("MS", "MISS"))
        row = self.row(
            record_id=f"VK{self.serial:09d}",
            updated_at=case.updated,
            change_type=case.change,
            registration=noise.registration(rng, car.registration, q),
            make=car.make,
            model=car.model,
            colour=car.colour,
            fuel=car.fuel,
            first_registered=car.first_registered,
            stolen_marker="Y" if case.change == "MARKER" and rng.random() < 0.5 else "N",
            keeper_title=title,
            keeper_forename=upper(view.forename),
            keeper_surname=upper(view.surname),
            keeper_dob=view.dob,
            keeper_address=upper(noise.address_text(rng, home, q)),
            keeper_postcode=noise.postcode(rng, home.postcode, q),
            keeper_since=car.keeper_since,
        )
        mentions = [person("keeper", keeper), vehicle("registered", car), location("home", home)]
        return Record(row, mentions)
