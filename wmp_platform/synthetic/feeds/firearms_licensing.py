"""Firearms licensing system: one JSON object per certificate acted on that day."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import OFFICE_HOURS, Day
from wmp_platform.synthetic.feeds.base import Feed, Record, location, person
from wmp_platform.synthetic.names import FEMALE_TITLES, MALE_TITLES
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import Person
from wmp_platform.synthetic.sampling import WeightedChoice, pick

CERTIFICATE_LIFE = timedelta(days=5 * 365)  # five years, less the day of issue (one leap day)
_ACTION = WeightedChoice((("Grant", 25), ("Renewal", 55), ("Variation", 10), ("Revocation", 3), ("Surrender", 7)))
_STATUS = {"Revocation": "Revoked", "Surrender": "Surrendered"}
_TITLES = {"M": WeightedChoice(MALE_TITLES), "F": WeightedChoice(FEMALE_TITLES)}


@dataclass(slots=True)
class CertificateCase:
    holder: Person
    kind: str
    action: str
    acted: datetime
    issued: date
    firearms: int
    title: str


class FirearmsLicensingFeed(Feed):
    name = "firearms_licensing"
    share = 0.008
    quality = Quality(typo=0.004, variant=0.01, former_surname=0.05, dob_swap=0.001, missing=0.02, stale_address=0.03)

    def case(self, day: Day, rng: random.Random) -> CertificateCase:
        holder = pick(rng, self.population.licence_holders)
        action = _ACTION(rng)
        issued = day.date if action in ("Grant", "Renewal") else day.date - timedelta(days=rng.randint(30, 1800))
        kind = "Shotgun" if rng.random() < 0.65 else "Firearm"
        return CertificateCase(holder, kind, action, day.time(rng, OFFICE_HOURS), issued,
                               rng.randint(1, 4 if kind == "Shotgun" else 8), _TITLES[holder.sex](rng))

    def render(self, case: CertificateCase, day: Day, rng: random.Random) -> Record:
        q = self.quality
        view = noise.person_view(rng, case.holder, q)
        home = view.address
        row = self.row(
            certificate_number=f"WM/{'SGC' if case.kind == 'Shotgun' else 'FAC'}/{self.serial:06d}",
            certificate_type=case.kind,
            action=case.action,
            action_at=case.acted,
            holder_title=case.title,
            holder_forename=view.forename,
            holder_middle_names=view.middle_names,
            holder_surname=view.surname,
            holder_dob=view.dob,
            holder_phone=view.phone,
            home_uprn=home.uprn,
            home_address=noise.address_text(rng, home, q),
            home_postcode=noise.postcode(rng, home.postcode, q),
            issue_date=case.issued,
            expiry_date=case.issued + CERTIFICATE_LIFE,
            status=_STATUS.get(case.action, "Active"),
            firearms_held=str(case.firearms),
            medical_marker="true" if rng.random() < 0.02 else "false",
        )
        return Record(row, [person("licence_holder", case.holder), location("home", home)])
