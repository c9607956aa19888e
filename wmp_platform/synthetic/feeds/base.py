"""What every synthetic feed shares: drawing the truth behind a record, then rendering it.

A feed draws a *case* (who, what, where, when, as they really were) and renders it as its
source system would record it, noise included. A duplicate is the same case rendered again
under a new key, as when a source enters the same person or event twice. Rendered values are
the record's text, except dates and instants, which the feed leaves as Python values and
this base writes in the first format the feed's declaration gives for that column, so the
files always read back with the declared formats.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from wmp_platform.declarations import FeedDeclaration
from wmp_platform.synthetic.days import Day, format_time
from wmp_platform.synthetic.noise import GARBLED_DATES, Quality
from wmp_platform.synthetic.sampling import pick
from wmp_platform.synthetic.population import Address, Person, Population, Vehicle
from wmp_platform.synthetic.roster import Roster

Row = dict[str, object]
Mention = tuple[str, str, str]  # entity kind (person, vehicle, location), role, true id


@dataclass(slots=True)
class Record:
    """One rendered record, the true entities it mentions, by role, and for feeds with ground-truth
    facts (ground_truth.FACTS) the true values behind it."""

    row: Row
    mentions: list[Mention]
    facts: dict[str, object] | None = None


def person(role: str, who: Person) -> Mention:
    """The record mentions this true person in this role."""
    return ("person", role, who.person_id)


def vehicle(role: str, what: Vehicle) -> Mention:
    """The record mentions this true vehicle in this role."""
    return ("vehicle", role, what.vehicle_id)


def location(role: str, where: Address) -> Mention:
    """The record mentions this true place in this role."""
    return ("location", role, where.location_id)


def coordinate(value: float) -> str:
    """Latitude or longitude as written: six decimal places."""
    return f"{value:.6f}"


class Feed:
    """A source system of the estate. Subclasses set the class attributes, case() and render()."""

    name: ClassVar[str]
    share: ClassVar[float] = 0.0  # this feed's share of the estate's daily rows
    duplicate_rate: ClassVar[float] = 0.0
    quality: ClassVar[Quality] = Quality()

    def __init__(self, declaration: FeedDeclaration, population: Population, roster: Roster):
        self.declaration = declaration
        self.population = population
        self.roster = roster
        self.serial = 0  # records rendered so far, over all days
        self.serial_today = 0
        self._temporal = [(c.name, c.formats[0]) for c in declaration.columns if c.type in ("date", "timestamp")]
        self._names = {c.name for c in declaration.columns}
        self._blank = dict.fromkeys(c.name for c in declaration.columns)
        self._checked = False

    def cases(self, day: Day, rng: random.Random, count: int) -> Iterable[object]:
        """The truths behind the day's records: by default `count` independent draws of case()."""
        return (self.case(day, rng) for _ in range(count))

    def case(self, day: Day, rng: random.Random) -> object:
        raise NotImplementedError

    def render(self, case, day: Day, rng: random.Random) -> Record:
        raise NotImplementedError

    def row(self, **values: object) -> Row:
        """A row with every declared column, blank unless given."""
        row = self._blank.copy()
        row.update(values)
        return row

    def records(self, day: Day, rng: random.Random, count: int) -> Iterator[Record]:
        """The day's records, duplicates included, with dates written in the declared formats."""
        self.serial_today = 0
        for case in self.cases(day, rng, count):
            yield self._rendered(case, day, rng)
            if self.duplicate_rate and rng.random() < self.duplicate_rate:
                yield self._rendered(case, day, rng)

    def _rendered(self, case, day: Day, rng: random.Random) -> Record:
        self.serial += 1
        self.serial_today += 1
        record = self.finish(self.render(case, day, rng))
        if self._temporal and rng.random() < self.quality.garbled_date:
            record.row[pick(rng, self._temporal)[0]] = pick(rng, GARBLED_DATES)
        return record

    def finish(self, record: Record) -> Record:
        """The record with its dates and instants written in the declared formats."""
        row = record.row
        if not self._checked:
            self._check(row)
        for name, fmt in self._temporal:
            value = row[name]
            if isinstance(value, (date, datetime)):
                row[name] = format_time(value, fmt)
        return record

    def _check(self, row: Row) -> None:
        if set(row) != self._names:
            raise ValueError(
                f"feed {self.name!r} renders columns that differ from its declaration: "
                f"undeclared {sorted(set(row) - self._names)}, missing {sorted(self._names - set(row))}"
            )
        self._checked = True


def upper(value: str | None) -> str | None:
    """Upper case, blanks left blank (sources that shout names)."""
    return value.upper() if value else value


def full_name(forename: str | None, surname: str | None) -> str | None:
    """Forename and surname in one field."""
    return " ".join(p for p in (forename, surname) if p) or None
