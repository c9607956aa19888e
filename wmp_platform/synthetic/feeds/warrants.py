"""Courts warrants interface: one row per warrant received that day."""

from __future__ import annotations

import random
from dataclasses import dataclass

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import Day
from wmp_platform.synthetic.feeds.base import Feed, Record, person, upper
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Person
from wmp_platform.synthetic.sampling import WeightedChoice, pick

_TYPE = WeightedChoice((
    ("Arrest - failed to appear, not backed for bail", 40), ("Arrest - backed for bail", 15),
    ("Arrest - breach of community order", 20), ("Arrest - fine default", 15), ("Commitment to prison", 10),
))
_COURTS = {
    "Birmingham": "Birmingham Magistrates' Court", "Coventry": "Coventry Magistrates' Court",
    "Wolverhampton": "Wolverhampton Magistrates' Court", "Walsall": "Wolverhampton Magistrates' Court",
    "Dudley": "Dudley Magistrates' Court", "Sandwell": "Birmingham Magistrates' Court",
    "Solihull": "Birmingham Magistrates' Court",
}
_CROWN_COURTS = ("Birmingham Crown Court", "Wolverhampton Crown Court", "Coventry Crown Court")
_OFFENCES = ("Theft from a shop", "Assault by beating", "Possession of a controlled drug of class B",
             "Driving whilst disqualified", "Criminal damage", "Breach of a restraining order", "Failing to surrender",
             "Burglary", "Possession of a bladed article")
_STATUS = WeightedChoice((("Outstanding", 90), ("Executed", 5), ("Withdrawn", 5)))


@dataclass(slots=True)
class WarrantCase:
    wanted: Person
    kind: str
    court: str
    offence: str
    status: str


class WarrantsFeed(Feed):
    name = "warrants"
    share = 0.01
    duplicate_rate = 0.01  # a warrant re-sent by a second court system
    quality = Quality(typo=0.01, variant=0.03, former_surname=0.1, dob_swap=0.004, missing=0.05, stale_address=0.35)

    def case(self, day: Day, rng: random.Random) -> WarrantCase:
        wanted = pick(rng, self.population.suspects)
        court = pick(rng, _CROWN_COURTS) if rng.random() < 0.15 else _COURTS[wanted.address.lpa]
        return WarrantCase(wanted, _TYPE(rng), court, pick(rng, _OFFENCES), _STATUS(rng))

    def render(self, case: WarrantCase, day: Day, rng: random.Random) -> Record:
        q = self.quality
        view = noise.person_view(rng, case.wanted, q)
        forenames = " ".join(n for n in (view.forename, view.middle_names) if n)
        row = self.row(
            warrant_number=f"W/{day.yy}/{self.serial:06d}",
            issued_date=day.date,
            warrant_type=case.kind,
            court=case.court,
            offence=case.offence,
            wanted_surname=upper(view.surname),
            wanted_forenames=forenames,
            wanted_dob=view.dob,
            wanted_sex=view.sex,
            wanted_pnc_id=view.pnc_id,
            wanted_address=noise.address_text(rng, view.address, q),
            wanted_postcode=noise.postcode(rng, view.address.postcode, q),
            status=case.status,
        )
        return Record(row, [person("wanted", case.wanted)])
