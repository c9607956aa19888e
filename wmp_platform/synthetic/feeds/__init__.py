"""The synthetic source systems, one module each, by feed name."""

from __future__ import annotations

from wmp_platform.synthetic.feeds.anpr import AnprFeed
from wmp_platform.synthetic.feeds.base import Feed, Mention, Record
from wmp_platform.synthetic.feeds.collisions import CollisionsFeed
from wmp_platform.synthetic.feeds.crime import CrimeFeed
from wmp_platform.synthetic.feeds.custody import CustodyFeed
from wmp_platform.synthetic.feeds.domestic_abuse import DomesticAbuseFeed
from wmp_platform.synthetic.feeds.duty_roster import DutyRosterFeed
from wmp_platform.synthetic.feeds.firearms_licensing import FirearmsLicensingFeed
from wmp_platform.synthetic.feeds.gazetteer import GazetteerFeed
from wmp_platform.synthetic.feeds.incidents import IncidentsFeed
from wmp_platform.synthetic.feeds.intelligence import IntelligenceFeed
from wmp_platform.synthetic.feeds.missing_persons import MissingPersonsFeed
from wmp_platform.synthetic.feeds.person_index import PersonIndexFeed
from wmp_platform.synthetic.feeds.property import PropertyFeed
from wmp_platform.synthetic.feeds.stop_search import StopSearchFeed
from wmp_platform.synthetic.feeds.vehicles import VehiclesFeed
from wmp_platform.synthetic.feeds.warrants import WarrantsFeed

FEEDS: dict[str, type[Feed]] = {
    feed.name: feed
    for feed in (
        CrimeFeed, IncidentsFeed, CustodyFeed, IntelligenceFeed, StopSearchFeed, AnprFeed, VehiclesFeed,
        PersonIndexFeed, MissingPersonsFeed, DomesticAbuseFeed, CollisionsFeed, PropertyFeed,
        FirearmsLicensingFeed, WarrantsFeed, DutyRosterFeed, GazetteerFeed,
    )
}

__all__ = ["FEEDS", "Feed", "Mention", "Record"]
