"""The synthetic population: the true people, vehicles and places every feed renders.

Built once per estate from the seed, before any feed is drawn. People live in households at
addresses (families share a surname; some married women keep a former surname elsewhere),
some have a previous address, a minority are offenders with PNC IDs (a few of them prolific,
drawn far more often by the feeds that record offending), some are police officers with
collar numbers, and many keep a vehicle.

Telephone numbers come only from the ranges Ofcom reserves for drama, so no real subscriber
is ever named; they are unique while the population is small (tiny, small) and shared beyond.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from wmp_platform.identifiers import is_valid_vrm, make_cro, make_pnc
from wmp_platform.synthetic.geography import (
    BLOCK_NAMES,
    COMMERCIAL_NAMES,
    DISTRICTS,
    INWARD_LETTERS,
    POLICING_AREAS,
    STREET_STEMS,
    STREET_TYPES,
    District,
    clamp_point,
)
from wmp_platform.synthetic.names import NAME_GROUPS, STREET_NAMES, NameGroup
from wmp_platform.synthetic.sampling import WeightedChoice, pick, rng_for


@dataclass(frozen=True, slots=True)
class Address:
    """An addressable place in the gazetteer (or a camera site, which has no UPRN)."""

    location_id: str
    kind: str  # "address" or "camera_site"
    uprn: str | None
    classification: str  # R residential, C commercial, P public building
    sub_building: str | None
    building_name: str | None
    building_number: str | None
    street: str
    locality: str | None
    town: str
    postcode: str | None
    latitude: float
    longitude: float
    lsoa_code: str
    lsoa_name: str
    local_authority_code: str
    lpa: str

    @property
    def line(self) -> str:
        """The full address on one line, without the postcode."""
        first = f"{self.building_number} {self.street}" if self.building_number else self.street
        parts = (self.sub_building, self.building_name, first, self.locality, self.town)
        return ", ".join(p for p in parts if p)


@dataclass(slots=True)
class Person:
    """One true person. Feeds render them imperfectly; this is what they really are."""

    index: int
    person_id: str
    forename: str
    middle_names: str | None
    surname: str
    former_surname: str | None
    sex: str  # M or F
    dob: date
    ethnicity: str  # 18+1 code
    address: Address
    previous_address: Address | None
    phone: str
    ni_number: str | None = None
    pnc_id: str | None = None
    cro_number: str | None = None
    nickname: str | None = None
    markers: str | None = None
    offender_level: int = 0  # 0 none, 1 offender, 2 prolific offender
    collar_number: str | None = None


@dataclass(frozen=True, slots=True)
class Vehicle:
    vehicle_id: str
    registration: str  # canonical: upper case, one space where the plate has one
    make: str
    model: str
    body: str
    colour: str
    fuel: str
    first_registered: date
    keeper: Person
    keeper_since: date


@dataclass(frozen=True, slots=True)
class Officer:
    person: Person
    collar_number: str
    rank: str
    lpa: str
    team: str


@dataclass(frozen=True, slots=True)
class Camera:
    camera_id: str
    site: Address
    direction: str
    description: str


@dataclass(frozen=True, slots=True)
class CustodySuite:
    name: str
    code: str
    address: Address


@dataclass(frozen=True)
class PopulationSize:
    """How many of each thing the estate holds."""

    people: int
    officers: int
    cameras: int

    @property
    def addresses(self) -> int:
        return max(60, round(self.people / 2.1))

    @property
    def vehicles(self) -> int:
        return max(40, round(self.people * 0.45))


@dataclass
class Population:
    """Everything true about the estate, with ready-made pools the feeds draw from."""

    addresses: list[Address]
    cameras: list[Camera]
    suites: list[CustodySuite]
    people: list[Person]
    vehicles: list[Vehicle]
    officers: list[Officer]
    residents: dict[str, list[Person]] = field(default_factory=dict)
    vehicles_by_keeper: dict[int, list[Vehicle]] = field(default_factory=dict)
    adults: list[Person] = field(default_factory=list)
    over_ten: list[Person] = field(default_factory=list)
    suspects: list[Person] = field(default_factory=list)  # offenders, prolific ones repeated
    offenders: list[Person] = field(default_factory=list)
    missing_pool: list[Person] = field(default_factory=list)
    licence_holders: list[Person] = field(default_factory=list)
    abusive_pairs: list[tuple[Person, Person, str]] = field(default_factory=list)  # victim, perpetrator, relationship
    sighted_vehicles: list[Vehicle] = field(default_factory=list)  # offenders' vehicles repeated
    residential: list[Address] = field(default_factory=list)
    commercial: list[Address] = field(default_factory=list)

    def suspect(self, rng: random.Random) -> Person:
        """Someone to suspect of an offence: mostly known offenders, prolific ones most of all."""
        return pick(rng, self.suspects) if rng.random() < 0.8 else pick(rng, self.adults)

    def age(self, person: Person, on: date) -> int:
        return on.year - person.dob.year - ((on.month, on.day) < (person.dob.month, person.dob.day))

    def household(self, person: Person) -> list[Person]:
        """The other people living at the person's address."""
        return [p for p in self.residents.get(person.address.location_id, ()) if p is not person]


# --- places ---------------------------------------------------------------------------

@dataclass
class _Street:
    name: str
    district: District
    locality: str
    sector: str
    lsoa: tuple[str, str]
    latitude: float
    longitude: float
    units: list[str] = field(default_factory=list)
    next_number: int = 1


def _lsoas(rng: random.Random) -> dict[tuple[str, str], tuple[str, str]]:
    """Three or four LSOAs per district, numbered within each local authority."""
    codes = iter(rng.sample(range(10_000, 999_999), len(DISTRICTS) * 4))
    numbers: dict[str, int] = {}
    lsoas = {}
    for district in DISTRICTS:
        for sector in "1234"[: pick(rng, (3, 4))]:
            numbers[district.area] = numbers.get(district.area, 0) + 1
            number, letter = divmod(numbers[district.area] - 1, 4)
            name = f"{district.area} {number + 1:03d}{'ABCD'[letter]}"
            lsoas[(district.code, sector)] = (f"E01{next(codes):06d}", name)
    return lsoas


def _streets(rng: random.Random, count: int) -> list[_Street]:
    lsoas = _lsoas(rng)
    by_area = {area: [d for d in DISTRICTS if d.area == area] for area in POLICING_AREAS}
    district_weights = [(d, POLICING_AREAS[d.area].weight / len(by_area[d.area])) for d in DISTRICTS]
    pick_district = WeightedChoice(district_weights)
    pick_type = WeightedChoice(STREET_TYPES)
    used: set[tuple[str, str]] = set()
    streets = []
    while len(streets) < count:
        district = pick_district(rng)
        name = f"{pick(rng, STREET_STEMS)} {pick_type(rng)}"
        if (district.code, name) in used and len(used) < len(DISTRICTS) * len(STREET_STEMS):
            continue
        used.add((district.code, name))
        sectors = [s for (code, s) in lsoas if code == district.code]
        sector = pick(rng, sectors)
        latitude, longitude = clamp_point(
            district.latitude + rng.gauss(0, 0.007), district.longitude + rng.gauss(0, 0.011)
        )
        streets.append(_Street(name, district, pick(rng, district.localities), sector,
                               lsoas[(district.code, sector)], latitude, longitude))
    return streets


def _address(location_id: str, uprn: str | None, street: _Street, postcode: str | None, rng: random.Random,
             *, classification="R", sub_building=None, building_name=None, number: str | None = None,
             kind="address") -> Address:
    latitude, longitude = clamp_point(street.latitude + rng.gauss(0, 0.0012), street.longitude + rng.gauss(0, 0.0018))
    area = POLICING_AREAS[street.district.area]
    locality = street.locality if street.locality != street.district.town else None
    return Address(
        location_id, kind, uprn, classification, sub_building, building_name, number, street.name,
        locality, street.district.town, postcode, round(latitude, 6), round(longitude, 6),
        street.lsoa[0], street.lsoa[1], area.local_authority_code, area.name,
    )


def _postcode_unit(rng: random.Random, street: _Street, used: set[str]) -> str:
    """A postcode unit on the street: a new one every dozen or so addresses."""
    if street.units and (street.next_number % 12 or len(street.units) > 3):
        return street.units[-1]
    while True:
        code = f"{street.district.code} {street.sector}{pick(rng, INWARD_LETTERS)}{pick(rng, INWARD_LETTERS)}"
        if code not in used:
            used.add(code)
            street.units.append(code)
            return code


_SUITES = (
    ("Perry Barr", "PB", "B42"), ("Bournville Lane", "BL", "B30"), ("Oldbury", "OB", "B69"),
    ("Coventry", "CV", "CV6"), ("Wolverhampton", "WV", "WV10"), ("Walsall", "WS", "WS2"),
    ("Solihull", "SH", "B91"),
)


def _unique_numbers(rng: random.Random, low: int, high: int):
    """Endless distinct random integers in [low, high)."""
    seen: set[int] = set()
    while True:
        n = rng.randrange(low, high)
        if n not in seen:
            seen.add(n)
            yield n


def _places(rng: random.Random, size: PopulationSize):
    """Addresses (residential, commercial, custody suites) and camera sites."""
    streets = _streets(rng, max(12, size.addresses // 16))
    uprns = _unique_numbers(rng, 10**7, 10**8)
    used_postcodes: set[str] = set()
    addresses: list[Address] = []

    def add(street: _Street, postcode: str | None, **parts) -> Address:
        address = _address(f"L{len(addresses) + 1:07d}", f"1000{next(uprns)}", street, postcode, rng, **parts)
        addresses.append(address)
        return address

    street_cycle = 0
    while len(addresses) < size.addresses:
        street = streets[street_cycle % len(streets)]
        street_cycle += 1
        for _ in range(rng.randint(4, 30)):
            if len(addresses) >= size.addresses:
                break
            postcode = _postcode_unit(rng, street, used_postcodes)
            number = str(street.next_number)
            street.next_number += pick(rng, (1, 1, 2))
            roll = rng.random()
            if roll < 0.10:
                add(street, postcode, classification="C", building_name=pick(rng, COMMERCIAL_NAMES),
                    number=number if rng.random() < 0.7 else None)
            elif roll < 0.18:
                block = pick(rng, BLOCK_NAMES)
                for flat in range(1, min(rng.randint(2, 6), size.addresses - len(addresses) + 1)):
                    add(street, postcode, sub_building=f"Flat {flat}", building_name=block, number=number)
            else:
                add(street, postcode, number=number)
    suites = []
    for name, code, district_code in _SUITES:
        street = next((s for s in streets if s.district.code == district_code), streets[len(suites) % len(streets)])
        address = add(street, _postcode_unit(rng, street, used_postcodes), classification="P",
                      building_name=f"{name} Police Station")
        suites.append(CustodySuite(name, code, address))
    cameras = []
    for index in range(size.cameras):
        street = pick(rng, streets)
        direction = pick(rng, "NSEW")
        site = _address(f"L{len(addresses) + index + 1:07d}", None, street, None, rng, classification="C",
                        kind="camera_site")
        cameras.append(Camera(f"CAM{index + 1:04d}", site, direction,
                              f"{street.name}, {street.locality} ({direction}/B)"))
    return addresses, suites, cameras


# --- people ---------------------------------------------------------------------------

# Ofcom's ranges for drama: each prefix followed by 000 to 999. Mobiles first: most people give one.
_DRAMA_PREFIXES = (
    "07700 900", "0121 496 0", "01632 960", "020 7946 0", "0113 496 0", "0114 496 0", "0115 496 0", "0116 496 0",
    "0117 496 0", "0118 496 0", "0131 496 0", "0141 496 0", "0151 496 0", "0161 496 0", "0191 498 0", "028 9649 6",
    "029 2018 0",
)


def _phone_numbers(rng: random.Random) -> list[str]:
    mobiles = [f"{_DRAMA_PREFIXES[0]}{n:03d}" for n in range(1000)]
    landlines = [f"{prefix}{n:03d}" for prefix in _DRAMA_PREFIXES[1:] for n in range(1000)]
    rng.shuffle(mobiles)
    rng.shuffle(landlines)
    return mobiles + landlines


_NI_PREFIXES = tuple(
    a + b for a in "ABCEGHJKLMNOPRSTWXYZ" for b in "ABCEGHJKLMNPRSTWXYZ"
    if a + b not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")
)


def _ni_number(rng: random.Random, used: set[str]) -> str:
    while True:
        ni = f"{pick(rng, _NI_PREFIXES)}{int(rng.random() * 10**6):06d}{pick(rng, 'ABCD')}"
        if ni not in used:
            used.add(ni)
            return ni


_HOUSEHOLD_SIZES = WeightedChoice(((1, 0.3), (2, 0.33), (3, 0.16), (4, 0.13), (5, 0.08)))


class _PeopleBuilder:
    def __init__(self, rng: random.Random, today: date):
        self.rng = rng
        self.today = today
        self.people: list[Person] = []
        self.phones = _phone_numbers(rng)
        self.ni_numbers: set[str] = set()
        self.pick_group = WeightedChoice([(g, g.weight) for g in NAME_GROUPS])
        self.pick_ethnicity = {id(g): WeightedChoice(g.ethnicities) for g in NAME_GROUPS}

    def dob(self, age: int) -> date:
        return self.today - timedelta(days=365 * age + int(self.rng.random() * 365))

    def forenames(self, group: NameGroup, sex: str) -> tuple[str, str | None]:
        names = group.male if sex == "M" else group.female
        forename = pick(self.rng, names)
        roll = self.rng.random()
        if roll < 0.40:
            middle = [pick(self.rng, names) for _ in range(1 if roll < 0.36 else 2)]
            middle = [m for m in middle if m != forename]
            return forename, " ".join(middle) or None
        return forename, None

    def person(self, group: NameGroup, sex: str, age: int, surname: str, address: Address,
               former_surname: str | None = None) -> Person:
        rng = self.rng
        index = len(self.people)
        forename, middle = self.forenames(group, sex)
        dob = self.dob(age)
        person = Person(
            index=index, person_id=f"P{index + 1:07d}", forename=forename, middle_names=middle, surname=surname,
            former_surname=former_surname, sex=sex, dob=dob,
            ethnicity=self.pick_ethnicity[id(group)](rng), address=address, previous_address=None,
            phone=self.phones[index % len(self.phones)],
            ni_number=_ni_number(rng, self.ni_numbers) if age >= 16 else None,
        )
        self.people.append(person)
        return person

    def household(self, address: Address) -> None:
        rng = self.rng
        group = self.pick_group(rng)
        size = _HOUSEHOLD_SIZES(rng)
        head_sex = pick(rng, "MF")
        head_age = rng.randint(19, 88)
        surname = pick(rng, group.surnames)
        head = self.person(group, head_sex, head_age, surname, address)
        if size == 1:
            return
        if rng.random() < 0.75:  # a partner
            sex = "F" if head_sex == "M" else "M"
            if rng.random() < 0.04:
                sex = head_sex
            age = max(18, head_age + rng.randint(-6, 6))
            own = pick(rng, group.surnames)
            married = rng.random() < 0.65 and own != surname
            if married and sex == "F":
                self.person(group, sex, age, surname, address, former_surname=own)
            elif married and head_sex == "F":
                # the head took her partner's name: her birth surname is the one held elsewhere
                head.former_surname, head.surname = head.surname, own
                surname = own
                self.person(group, sex, age, own, address)
            else:
                self.person(group, sex, age, own, address)
            size -= 1
        for _ in range(size - 1):
            child_age = head_age - rng.randint(20, 40)
            if child_age >= 5:
                self.person(group, pick(rng, "MF"), child_age, surname, address)
            else:  # a lodger or relative
                other = self.pick_group(rng)
                self.person(other, pick(rng, "MF"), rng.randint(18, 60), pick(rng, other.surnames), address)


def _offending(rng: random.Random, people: list[Person], today: date) -> None:
    """Mark offenders (PNC ID, sometimes a CRO number, markers, street names); a few are prolific."""
    pnc_serials: set[int] = set()
    for person in people:
        age = today.year - person.dob.year
        if not 14 <= age <= 75:
            continue
        chance = (0.30 if age <= 45 else 0.12) if person.sex == "M" else 0.07
        if rng.random() >= chance:
            continue
        prolific = person.sex == "M" and 17 <= age <= 45 and rng.random() < 0.16 or rng.random() < 0.01
        person.offender_level = 2 if prolific else 1
        year = rng.randint(max(person.dob.year + 14, 1975), today.year)
        while (serial := rng.randrange(1, 9_999_999)) in pnc_serials:
            pass
        pnc_serials.add(serial)
        person.pnc_id = make_pnc(year, serial)
        if rng.random() < (0.9 if prolific else 0.5):
            person.cro_number = make_cro(rng.randrange(1, 999_999), min(year + rng.randint(0, 3), today.year) % 100)
        markers = [m for m in ("VI", "WE", "DR", "MH", "SH", "ES") if rng.random() < (0.35 if prolific else 0.06)]
        person.markers = " ".join(markers) or None
        if rng.random() < (0.6 if prolific else 0.08):
            person.nickname = pick(rng, STREET_NAMES)


_RANKS = (("PC", 0.70), ("PCSO", 0.10), ("PS", 0.12), ("Insp", 0.05), ("CI", 0.02), ("Supt", 0.01))
_TEAMS = (
    ("Response 1", 0.11), ("Response 2", 0.11), ("Response 3", 0.11), ("Response 4", 0.11), ("Response 5", 0.11),
    ("Neighbourhood", 0.15), ("CID", 0.12), ("Custody", 0.06), ("Roads Policing", 0.06), ("Public Protection", 0.06),
)


def _officers(rng: random.Random, people: list[Person], count: int, today: date) -> list[Officer]:
    eligible = [p for p in people if p.offender_level == 0 and 20 <= today.year - p.dob.year <= 60]
    chosen = rng.sample(eligible, min(count, len(eligible)))
    collars = rng.sample(range(1000, 99_999), len(chosen))
    pick_rank, pick_team = WeightedChoice(_RANKS), WeightedChoice(_TEAMS)
    pick_area = WeightedChoice([(a.name, a.weight) for a in POLICING_AREAS.values()])
    officers = []
    for person, collar in zip(chosen, collars):
        person.collar_number = str(collar)
        rank = pick_rank(rng)
        team = "Neighbourhood" if rank == "PCSO" else pick_team(rng)
        officers.append(Officer(person, person.collar_number, rank, pick_area(rng), team))
    return officers


# --- vehicles -------------------------------------------------------------------------

_CATALOGUE = {  # make: (model, body, relative share)
    "FORD": (("FIESTA", "Car", 8), ("FOCUS", "Car", 7), ("KUGA", "Car", 3), ("TRANSIT", "Van", 4)),
    "VAUXHALL": (("CORSA", "Car", 7), ("ASTRA", "Car", 5), ("INSIGNIA", "Car", 2)),
    "VOLKSWAGEN": (("GOLF", "Car", 6), ("POLO", "Car", 5), ("PASSAT", "Car", 2)),
    "BMW": (("1 SERIES", "Car", 3), ("3 SERIES", "Car", 3), ("X5", "Car", 1)),
    "AUDI": (("A3", "Car", 3), ("A4", "Car", 2), ("Q5", "Car", 1)),
    "MERCEDES-BENZ": (("A CLASS", "Car", 3), ("C CLASS", "Car", 2), ("SPRINTER", "Van", 2)),
    "TOYOTA": (("YARIS", "Car", 3), ("COROLLA", "Car", 2), ("PRIUS", "Car", 2)),
    "NISSAN": (("QASHQAI", "Car", 4), ("MICRA", "Car", 2), ("JUKE", "Car", 2)),
    "HONDA": (("CIVIC", "Car", 2), ("JAZZ", "Car", 2), ("PCX 125", "Motorcycle", 1)),
    "KIA": (("SPORTAGE", "Car", 3), ("PICANTO", "Car", 2)),
    "HYUNDAI": (("TUCSON", "Car", 2), ("I10", "Car", 2)),
    "PEUGEOT": (("208", "Car", 3), ("308", "Car", 2)),
    "RENAULT": (("CLIO", "Car", 3),),
    "SKODA": (("OCTAVIA", "Car", 3), ("FABIA", "Car", 2)),
    "SEAT": (("IBIZA", "Car", 2), ("LEON", "Car", 2)),
    "MINI": (("COOPER", "Car", 2),),
    "LAND ROVER": (("RANGE ROVER EVOQUE", "Car", 1), ("DISCOVERY", "Car", 1)),
    "TESLA": (("MODEL 3", "Car", 1),),
    "CITROEN": (("BERLINGO", "Van", 2), ("C3", "Car", 2)),
    "YAMAHA": (("NMAX 125", "Motorcycle", 1),),
}
_COLOURS = (
    ("BLACK", 18), ("WHITE", 17), ("SILVER", 14), ("GREY", 18), ("BLUE", 13), ("RED", 10), ("GREEN", 2),
    ("ORANGE", 1), ("YELLOW", 1), ("BROWN", 1), ("BEIGE", 1), ("PURPLE", 1), ("MULTI-COLOUR", 0.3),
)
_FUELS = (("PETROL", 55), ("DIESEL", 32), ("HYBRID ELECTRIC", 9), ("ELECTRICITY", 4))
_PLATE_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"  # no I, Q or Z
_LAST_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"  # current-style random letters exclude I and Q
_AREA_LETTERS = "ABCDEFGHKLMNOPRSVWY"
_YEAR_LETTERS = "ABCDEFGHJKLMNPRSTVWXY"  # one a year: suffix plates from 1963, prefix plates from 1983


def _registration(rng: random.Random, registered: date) -> str:
    if registered >= date(2001, 9, 1):
        year = registered.year % 100
        age = year + 50 if registered.month >= 9 else year if registered.month >= 3 else year - 1 + 50
        memory = ("B" if rng.random() < 0.55 else pick(rng, _AREA_LETTERS)) + pick(rng, _PLATE_LETTERS)
        return f"{memory}{age:02d} {''.join(rng.choices(_LAST_LETTERS, k=3))}"
    if registered >= date(1983, 8, 1):
        letter = _YEAR_LETTERS[min(len(_YEAR_LETTERS) - 1, registered.year - 1983)]
        return f"{letter}{rng.randint(1, 999)} {''.join(rng.choices(_PLATE_LETTERS, k=3))}"
    letter = _YEAR_LETTERS[min(len(_YEAR_LETTERS) - 1, max(0, registered.year - 1963))]
    return f"{''.join(rng.choices(_PLATE_LETTERS, k=3))} {rng.randint(1, 999)}{letter}"


def _vehicles(rng: random.Random, keepers: list[Person], count: int, today: date) -> list[Vehicle]:
    pick_model = WeightedChoice(
        [((make, model, body), share) for make, models in _CATALOGUE.items() for model, body, share in models]
    )
    pick_colour, pick_fuel = WeightedChoice(_COLOURS), WeightedChoice(_FUELS)
    used: set[str] = set()
    vehicles = []
    while len(vehicles) < count:
        age_days = int(rng.expovariate(1 / 2900)) if rng.random() < 0.985 else rng.randint(9000, 20000)
        registered = today - timedelta(days=age_days + 1)
        registration = _registration(rng, registered)
        if registration in used or not is_valid_vrm(registration):
            continue
        used.add(registration)
        keeper = pick(rng, keepers)
        earliest = max(registered, keeper.dob + timedelta(days=17 * 365 + 5))
        span = max(1, (today - earliest).days - 1)
        make, model, body = pick_model(rng)
        vehicles.append(Vehicle(
            f"V{len(vehicles) + 1:07d}", registration, make, model, body, pick_colour(rng),
            "ELECTRICITY" if make == "TESLA" else pick_fuel(rng), registered, keeper,
            earliest + timedelta(days=rng.randrange(span)),
        ))
    return vehicles


# --- the whole population ---------------------------------------------------------------

_RELATIONSHIPS = (("Partner", 0.35), ("Spouse", 0.2), ("Ex-partner", 0.3), ("Son", 0.08), ("Other family member", 0.07))


def build_population(seed: int, size: PopulationSize, today: date) -> Population:
    """The estate's true people, vehicles and places for this seed and size."""
    rng = rng_for(seed, "population")
    addresses, suites, cameras = _places(rng, size)
    residential = [a for a in addresses if a.classification == "R"]
    builder = _PeopleBuilder(rng, today)
    order = residential[:]
    rng.shuffle(order)
    while len(builder.people) < size.people:
        for address in order:
            if len(builder.people) >= size.people:
                break
            builder.household(address)
    people = builder.people
    for person in people:
        if rng.random() < 0.3:
            person.previous_address = pick(rng, residential)
    _offending(rng, people, today)
    officers = _officers(rng, people, size.officers, today)

    population = Population(addresses, cameras, suites, people, [], officers)
    population.residential = residential
    population.commercial = [a for a in addresses if a.classification == "C"]
    for person in people:
        population.residents.setdefault(person.address.location_id, []).append(person)
    ages = {p.index: population.age(p, today) for p in people}
    population.adults = [p for p in people if ages[p.index] >= 18]
    population.over_ten = [p for p in people if ages[p.index] >= 10]
    population.offenders = [p for p in people if p.offender_level]
    prolific = [p for p in people if p.offender_level == 2]
    population.suspects = population.offenders + prolific * 8 or population.adults
    population.vehicles = _vehicles(rng, population.adults + prolific * 2, size.vehicles, today)
    for vehicle in population.vehicles:
        population.vehicles_by_keeper.setdefault(vehicle.keeper.index, []).append(vehicle)
    population.sighted_vehicles = population.vehicles + [
        v for v in population.vehicles if v.keeper.offender_level for _ in range(2 * v.keeper.offender_level)
    ]
    young = [p for p in people if 12 <= ages[p.index] <= 17]
    frequent = young[: max(1, len(young) // 8)]
    population.missing_pool = young + frequent * 6 + [p for p in people if ages[p.index] >= 75] or population.adults
    holders = [p for p in population.adults if p.offender_level == 0 and 25 <= ages[p.index] <= 80]
    population.licence_holders = rng.sample(holders, max(10, len(holders) // 40)) if len(holders) > 10 else holders
    population.abusive_pairs = _abusive_pairs(rng, population, ages)
    return population


def _abusive_pairs(
    rng: random.Random, population: Population, ages: dict[int, int]
) -> list[tuple[Person, Person, str]]:
    """Victim and perpetrator pairs: partners at the same address, ex-partners elsewhere, sons."""
    pick_relationship = WeightedChoice(_RELATIONSHIPS)
    women = [p for p in population.adults if p.sex == "F"]
    men = [p for p in population.adults if p.sex == "M"]
    violent_men = [p for p in population.offenders if p.sex == "M" and ages[p.index] >= 18] or men
    pairs = []
    for _ in range(max(5, len(population.people) // 40)):
        victim = pick(rng, women)
        relationship = pick_relationship(rng)
        home = [p for p in population.household(victim) if p.sex == "M" and ages[p.index] >= 16]
        if relationship != "Ex-partner" and home:
            perpetrator = pick(rng, home)
            gap = ages[victim.index] - ages[perpetrator.index]
            if gap >= 15:
                relationship = "Son"
            elif gap <= -15:
                relationship = "Other family member"
            elif relationship not in ("Partner", "Spouse"):
                relationship = "Partner"
        else:
            relationship = "Ex-partner"
            perpetrator = pick(rng, violent_men)
        pairs.append((victim, perpetrator, relationship))
    return pairs
