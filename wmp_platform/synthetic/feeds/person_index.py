"""Mainframe nominal index: fixed-width entries for offenders created or amended that day."""

from __future__ import annotations

import random
import unicodedata

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import Day
from wmp_platform.synthetic.feeds.base import Feed, Record, location, person
from wmp_platform.synthetic.names import NAME_VARIANTS
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Person
from wmp_platform.synthetic.sampling import pick


def mainframe_text(value: str | None) -> str | None:
    """Upper case with accents dropped: the index predates Unicode."""
    if not value:
        return value
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().upper()


class PersonIndexFeed(Feed):
    name = "person_index"
    share = 0.03
    duplicate_rate = 0.03  # the same person indexed again under a new reference
    quality = Quality(typo=0.005, variant=0.01, former_surname=0.1, dob_swap=0.002, missing=0.03,
                      stale_address=0.25, address_style=0.2, format_drift=0.0)

    def case(self, day: Day, rng: random.Random) -> Person:
        return pick(rng, self.population.suspects)

    def render(self, case: Person, day: Day, rng: random.Random) -> Record:
        view = noise.person_view(rng, case, self.quality)
        row = self.row(
            record_type="A" if rng.random() < 0.15 else "U",
            person_ref=f"LP{self.serial:08d}",
            pnc_id=case.pnc_id,
            cro_number=view.cro_number,
            surname=mainframe_text(view.surname),
            forename=mainframe_text(view.forename),
            middle_names=mainframe_text(view.middle_names),
            aliases=mainframe_text(self._aliases(rng, case)),
            dob=view.dob,
            sex=view.sex or "U",
            ni_number=view.ni_number,
            address=mainframe_text(noise.address_text(rng, view.address, self.quality)),
            postcode=view.address.postcode,
            updated_on=day.date,
            warning_markers=case.markers,
        )
        return Record(row, [person("offender", case), location("home", view.address)])

    @staticmethod
    def _aliases(rng: random.Random, who: Person) -> str | None:
        """Other names on the entry: a former surname, another form of the forename, a street name."""
        names = []
        if who.former_surname:
            names.append(f"{who.former_surname},{who.forename}")
        variants = NAME_VARIANTS.get(who.forename)
        if variants and rng.random() < 0.5:
            names.append(f"{who.surname},{pick(rng, variants)}")
        if who.nickname and rng.random() < 0.5:
            names.append(f"{who.nickname},")
        return ";".join(names) or None
