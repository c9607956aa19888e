"""Recording noise: how a source system gets a true person, place or vehicle slightly wrong.

Each source has a Quality (its error rates). The functions here apply it: typing slips,
nicknames and spelling variants, initials, former surnames, day and month swapped in a date
of birth, stale addresses, blanks, and the many ways identifiers, postcodes and registrations
are written. They return the values a record will hold; feeds only format them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from wmp_platform.synthetic.geography import STREET_ABBREVIATIONS
from wmp_platform.synthetic.names import NAME_VARIANTS
from wmp_platform.synthetic.population import Address, Person
from wmp_platform.synthetic.sampling import pick


@dataclass(frozen=True)
class Quality:
    """A source system's error rates, each the chance per value (or per record, for addresses)."""

    typo: float = 0.01
    variant: float = 0.03  # a nickname or another spelling of the forename
    initial: float = 0.0  # forename cut to its initial
    former_surname: float = 0.15  # a person who changed surname is recorded under the old one
    dob_swap: float = 0.005  # day and month transposed (only where both are 12 or less)
    missing: float = 0.03  # an optional value left blank
    stale_address: float = 0.1  # a person with a previous address is recorded there
    address_style: float = 0.3  # abbreviated street type, no locality, no town
    format_drift: float = 0.1  # identifiers, postcodes, phones, registrations written another way
    garbled_date: float = 0.002  # a record whose date or time field holds text no format reads ("N/K")


GARBLED_DATES = ("N/K", "00/00/0000", "UNKNOWN", "31/02/1985", "?")


@dataclass(slots=True)
class PersonView:
    """A person as one record holds them: possibly misspelt, incomplete or out of date."""

    forename: str | None
    middle_names: str | None
    surname: str | None
    dob: date | None
    sex: str | None
    address: Address | None
    phone: str | None
    pnc_id: str | None
    cro_number: str | None
    ni_number: str | None


_NEIGHBOURS = {
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv", "h": "gyujnb",
    "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm", "o": "iklp", "p": "ol",
    "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji", "v": "cfgb", "w": "qase", "x": "zsdc",
    "y": "tghu", "z": "asx",
}


def typo(rng: random.Random, text: str) -> str:
    """One slip of the keyboard: two letters swapped, one dropped, doubled or mis-hit."""
    if len(text) < 3:
        return text
    i = 1 + int(rng.random() * (len(text) - 2))  # first letters are rarely mistyped
    kind = rng.random()
    if kind < 0.3:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if kind < 0.55:
        return text[:i] + text[i + 1:]
    if kind < 0.75:
        return text[:i] + text[i] + text[i:]
    near = _NEIGHBOURS.get(text[i].lower())
    if not near:
        return text
    hit = pick(rng, near)
    return text[:i] + (hit.upper() if text[i].isupper() else hit) + text[i + 1:]


def swap_day_month(day: date) -> date:
    """The date with day and month transposed, when that is still a date; else unchanged."""
    if day.day <= 12 and day.day != day.month:
        return day.replace(month=day.day, day=day.month)
    return day


def forename(rng: random.Random, person: Person, quality: Quality) -> str:
    """The forename as recorded: now and then another form of it, an initial or a slip."""
    name = person.forename
    roll = rng.random()
    if roll < quality.variant:
        variants = NAME_VARIANTS.get(name)
        if variants:
            name = pick(rng, variants)
    elif roll < quality.variant + quality.initial:
        return name[0]
    if rng.random() < quality.typo:
        name = typo(rng, name)
    return name


def surname(rng: random.Random, person: Person, quality: Quality) -> str:
    """The surname as recorded: now and then a former surname or a slip."""
    name = person.surname
    if person.former_surname and rng.random() < quality.former_surname:
        name = person.former_surname
    if rng.random() < quality.typo:
        name = typo(rng, name)
    return name


def dob(rng: random.Random, person: Person, quality: Quality) -> date | None:
    """The date of birth as recorded: now and then missing, or with day and month swapped."""
    roll = rng.random()
    if roll < quality.missing:
        return None
    if roll < quality.missing + quality.dob_swap:
        return swap_day_month(person.dob)
    return person.dob


def address_of(rng: random.Random, person: Person, quality: Quality) -> Address:
    """The address a record holds for the person: usually current, sometimes the previous one."""
    if person.previous_address is not None and rng.random() < quality.stale_address:
        return person.previous_address
    return person.address


def blank(rng: random.Random, value, quality: Quality):
    """The value, or None at the source's missing-value rate."""
    return None if value is None or rng.random() < quality.missing else value


def person_view(rng: random.Random, person: Person, quality: Quality) -> PersonView:
    """Everything a record may hold about the person, noised at the source's rates."""
    missing = quality.missing
    r = rng.random
    return PersonView(
        forename=forename(rng, person, quality),
        middle_names=person.middle_names if person.middle_names and r() >= missing * 4 else None,
        surname=surname(rng, person, quality),
        dob=dob(rng, person, quality),
        sex=person.sex if r() >= missing else None,
        address=address_of(rng, person, quality),
        phone=phone(rng, person.phone, quality) if r() >= missing * 3 else None,
        pnc_id=pnc_id(rng, person.pnc_id, quality) if person.pnc_id and r() >= missing * 2 else None,
        cro_number=person.cro_number if person.cro_number and r() >= missing * 2 else None,
        ni_number=ni_number(rng, person.ni_number, quality) if person.ni_number and r() >= missing * 3 else None,
    )


def address_text(rng: random.Random, address: Address, quality: Quality, *, town: bool = True) -> str:
    """The address as typed into a record: parts dropped, street type abbreviated, now and then a slip."""
    street = address.street
    locality, post_town = address.locality, address.town if town else None
    if rng.random() < quality.address_style:
        roll = rng.random()
        if roll < 0.4:
            head, _, kind = street.rpartition(" ")
            street = f"{head} {STREET_ABBREVIATIONS.get(kind, kind)}"
        elif roll < 0.7:
            locality = None
        else:
            post_town = None
    if rng.random() < quality.typo:
        street = typo(rng, street)
    first = f"{address.building_number} {street}" if address.building_number else street
    parts = (address.sub_building, address.building_name, first, locality, post_town)
    return ", ".join(p for p in parts if p)


def postcode(rng: random.Random, code: str | None, quality: Quality) -> str | None:
    """The postcode as written: without its space, lower case or double spaced now and then."""
    if code is None or rng.random() < quality.missing:
        return None
    if rng.random() < quality.format_drift:
        roll = rng.random()
        if roll < 0.5:
            return code.replace(" ", "")
        if roll < 0.8:
            return code.lower()
        return code.replace(" ", "  ")
    return code


def registration(rng: random.Random, vrm: str, quality: Quality) -> str:
    """A registration as typed: without its space, lower case, or with a slip."""
    if rng.random() < quality.format_drift:
        roll = rng.random()
        vrm = vrm.replace(" ", "") if roll < 0.6 else vrm.lower() if roll < 0.8 else vrm.replace(" ", "  ")
    if rng.random() < quality.typo:
        vrm = typo(rng, vrm)
    return vrm


_CONFUSABLE = {
    "O": "0", "0": "O", "I": "1", "1": "I", "B": "8", "8": "B", "S": "5", "5": "S", "D": "0", "Z": "2", "2": "Z",
}


def misread(rng: random.Random, plate: str) -> str:
    """What an ANPR camera makes of a plate it struggles with: a confusable character swapped, or one lost."""
    places = [i for i, c in enumerate(plate) if c in _CONFUSABLE]
    if places and rng.random() < 0.9:
        i = pick(rng, places)
        return plate[:i] + _CONFUSABLE[plate[i]] + plate[i + 1:]
    i = int(rng.random() * len(plate))
    return plate[:i] + plate[i + 1:]


def phone(rng: random.Random, number: str, quality: Quality) -> str:
    """The number as written: spaced, run together or in international form."""
    if rng.random() >= quality.format_drift:
        return number
    digits = number.replace(" ", "")
    roll = rng.random()
    if roll < 0.5:
        return digits
    if roll < 0.8:
        return f"+44 {digits[1:5]} {digits[5:]}"
    return f"({digits[:5]}) {digits[5:]}"


def pnc_id(rng: random.Random, value: str, quality: Quality) -> str:
    """A PNC ID in canonical form, or in the short forms people write (two-digit year, serial unpadded)."""
    roll = rng.random()
    if roll < quality.format_drift:
        year, rest = value.split("/")
        serial, letter = rest[:-1].lstrip("0") or "0", rest[-1]
        return f"{year[2:]}/{serial}{letter}" if roll < quality.format_drift / 2 else f"{year}{rest}"
    if roll < quality.format_drift + quality.typo / 2:
        i = 5 + int(rng.random() * 7)
        return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1:]
    return value


def ni_number(rng: random.Random, value: str, quality: Quality) -> str:
    """A National Insurance number, sometimes spaced in pairs as printed on a card."""
    if rng.random() < quality.format_drift:
        return f"{value[:2]} {value[2:4]} {value[4:6]} {value[6:8]} {value[8:]}"
    return value
