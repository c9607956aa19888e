"""Corporate address gazetteer: every address in the estate, delivered whole."""

from __future__ import annotations

import random

from wmp_platform.synthetic.days import Day
from wmp_platform.synthetic.feeds.base import Feed, Record, coordinate, location
from wmp_platform.synthetic.population import Address


class GazetteerFeed(Feed):
    name = "gazetteer"

    def cases(self, day: Day, rng: random.Random, count: int) -> list[Address]:
        """Every address, whatever the count: reference data is complete, and clean."""
        return [a for a in self.population.addresses if a.kind == "address"]

    def render(self, case: Address, day: Day, rng: random.Random) -> Record:
        row = self.row(
            uprn=case.uprn,
            classification=case.classification,
            sub_building=case.sub_building,
            building_name=case.building_name,
            building_number=case.building_number,
            street=case.street,
            locality=case.locality,
            town=case.town,
            postcode=case.postcode,
            address=case.line,
            latitude=coordinate(case.latitude),
            longitude=coordinate(case.longitude),
            lsoa_code=case.lsoa_code,
            lsoa_name=case.lsoa_name,
            local_authority_code=case.local_authority_code,
            lpa=case.lpa,
        )
        return Record(row, [location("address", case)])
