"""Property and exhibits system: one row per lost, found or seized item."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import OFFICE_HOURS, Day
from wmp_platform.synthetic.feeds.base import Feed, Record, location, person, vehicle
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Address, Officer, Person, Vehicle
from wmp_platform.synthetic.sampling import WeightedChoice, pick

_STATUS = WeightedChoice((("Lost", 35), ("Found", 35), ("Seized", 30)))
_ITEMS = {
    "Lost": ("Mobile phone", "Wallet/purse", "Keys", "Jewellery", "Bicycle", "Laptop"),
    "Found": ("Mobile phone", "Wallet/purse", "Keys", "Jewellery", "Bicycle", "Cash"),
    "Seized": ("Knife", "Controlled drugs", "Cash", "Mobile phone", "Vehicle"),
}
_COLOURS = ("black", "white", "silver", "blue", "red", "gold", "grey")


def describe(rng: random.Random, category: str, car: Vehicle | None) -> tuple[str, str | None, float]:
    """Description, serial number and estimated value of an item."""
    colour = pick(rng, _COLOURS)
    if category == "Mobile phone":
        brand = pick(rng, ("Samsung Galaxy", "Apple iPhone", "Google Pixel", "Motorola", "Nokia"))
        return f"{colour.title()} {brand} in a case", f"35{rng.randrange(10**13):013d}", rng.uniform(80, 900)
    if category == "Bicycle":
        frame = f"WTU{rng.randrange(10**6):06d}{pick(rng, 'CDFGH')}"
        return f"{colour.title()} mountain bike", frame, rng.uniform(90, 1200)
    if category == "Laptop":
        return f"{colour.title()} laptop in a bag", f"SN{rng.randrange(16**8):08X}", rng.uniform(200, 1500)
    if category == "Cash":
        amount = rng.randint(2, 400) * 5
        return f"Cash, GBP {amount}", None, float(amount)
    if category == "Knife":
        return f"Kitchen knife, {rng.randint(8, 30)}cm blade", None, 0.0
    if category == "Controlled drugs":
        return pick(rng, ("Bag of herbal substance believed cannabis", "Wraps of white powder",
                          "Tablets in a grip-seal bag")), None, 0.0
    if category == "Vehicle" and car:
        return f"{car.colour.title()} {car.make.title()} {car.model.title()}", None, rng.uniform(800, 25000)
    if category == "Jewellery":
        return pick(rng, ("Gold necklace", "Silver ring", "Gold bracelet", "Wristwatch")), None, rng.uniform(30, 2500)
    return {"Wallet/purse": "Leather wallet with bank cards", "Keys": "Bunch of keys with a car fob"}[category], \
        None, rng.uniform(5, 60)


@dataclass(slots=True)
class PropertyCase:
    status: str
    category: str
    recorded: datetime
    owner: Person | None
    car: Vehicle | None
    place: Address | None
    officer: Officer
    store: str
    description: str
    serial_number: str | None
    value: float


class PropertyFeed(Feed):
    name = "property"
    share = 0.035
    duplicate_rate = 0.005
    quality = Quality(typo=0.02, variant=0.06, initial=0.02, former_surname=0.15, missing=0.08, stale_address=0.1)

    def case(self, day: Day, rng: random.Random) -> PropertyCase:
        pop = self.population
        status = _STATUS(rng)
        category = pick(rng, _ITEMS[status])
        car = pick(rng, pop.sighted_vehicles) if category == "Vehicle" else None
        if car:
            owner = car.keeper
        elif status == "Seized":
            owner = pop.suspect(rng)
        elif status == "Lost" or rng.random() < 0.5:
            owner = pick(rng, pop.adults)
        else:
            owner = None
        place = None if status == "Lost" else pick(rng, pop.addresses)
        recorded = day.time(rng, OFFICE_HOURS)
        store = f"Property store - {pick(rng, pop.suites).name}"
        return PropertyCase(status, category, recorded, owner, car, place,
                            self.roster.officer_at(rng, day, recorded), store, *describe(rng, category, car))

    def render(self, case: PropertyCase, day: Day, rng: random.Random) -> Record:
        q = self.quality
        row = self.row(
            property_ref=f"PR{day.yy}{self.serial:07d}",
            recorded_at=case.recorded,
            property_status=case.status,
            item_category=case.category,
            item_description=case.description,
            serial_number=case.serial_number,
            estimated_value=f"{case.value:.2f}",
            store=case.store,
            officer_collar_number=case.officer.collar_number,
        )
        mentions = [person("officer", case.officer.person)]
        if case.owner:
            view = noise.person_view(rng, case.owner, q)
            row.update(owner_forename=view.forename, owner_surname=view.surname, owner_phone=view.phone,
                       owner_address=noise.address_text(rng, view.address, q),
                       owner_postcode=noise.postcode(rng, view.address.postcode, q))
            mentions.append(person("owner", case.owner))
        if case.car:
            row["vehicle_registration"] = noise.registration(rng, case.car.registration, q)
            mentions.append(vehicle("seized", case.car))
        if case.place:
            row.update(found_uprn=noise.blank(rng, case.place.uprn, q),
                       found_address=noise.address_text(rng, case.place, q, town=False),
                       found_postcode=noise.postcode(rng, case.place.postcode, q))
            mentions.append(location("found_at", case.place))
        return Record(row, mentions)
