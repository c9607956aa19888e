"""POLE relationships: entities linked to events with their roles, and to each other.

- ``pole_events``: one event per staged row of a feed that declares ``pole.event``: event_key
  (feed || '|' || record_key), feed, record_key, event_id (the declared id, else the record
  key), event_time, event_type, partition.
- ``pole_links`` builds three tables from the kinds' mentions and entity assignments:
  - ``<prefix>_entity_events``: every person, vehicle and place mentioned by an event's row, with
    the mention's role (suspect, victim, keeper, sighted, scene, ...);
  - ``<prefix>_person_vehicle``: a person and a vehicle on the same row, when the person's role
    says how they stand to the vehicle (``PERSON_VEHICLE_ROLES``: keeper, driver);
  - ``<prefix>_person_location``: a person and a place on the same row when the feed declares
    them from the same column (the keeper's address is the ``home`` location), so the place is
    that person's and not, say, where a missing person was last seen. The relationship is the
    location's role (home, address).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import duckdb

from wmp_platform.declarations import FeedDeclaration
from wmp_platform.sql import quote, sql_literal
from wmp_platform.storage import DataLayout

PERSON_VEHICLE_ROLES = {"keeper": "keeper", "driver": "driver"}  # person role -> relationship to the row's vehicle
KINDS = ("person", "vehicle", "location")


def _feed_list(feeds: Mapping[str, FeedDeclaration] | Iterable[FeedDeclaration]) -> list[FeedDeclaration]:
    return list(feeds.values()) if isinstance(feeds, Mapping) else list(feeds)


def pole_events(
    con: duckdb.DuckDBPyConnection,
    layout: DataLayout,
    feeds: Mapping[str, FeedDeclaration] | Iterable[FeedDeclaration],
    *,
    partitions: Iterable[str] | None = None,
    out: str = "pole_events",
) -> str:
    """Create ``out`` from the staged partitions (all by default) of the feeds that declare an event."""
    wanted = None if partitions is None else set(partitions)
    selects = []
    for feed in _feed_list(feeds):
        folder = layout.layer_dir(feed.name, "staged")
        files = sorted(p for p in folder.glob("*.parquet") if wanted is None or p.stem in wanted) if folder.is_dir() else []
        if not feed.pole.event or not files:
            continue
        event = feed.pole.event
        name = sql_literal(feed.name)
        event_id = "CAST(event_id AS VARCHAR)" if event.id else "_record_key"
        event_time = "CAST(event_time AS TIMESTAMPTZ)" if event.time else "CAST(NULL AS TIMESTAMPTZ)"
        event_type = "CAST(event_type AS VARCHAR)" if event.type else "CAST(NULL AS VARCHAR)"
        selects.append(
            f"SELECT {name} || '|' || _record_key AS event_key, {name} AS feed, _record_key AS record_key, "
            f"coalesce({event_id}, _record_key) AS event_id, {event_time} AS event_time, {event_type} AS event_type, "
            f"_partition AS partition "
            f"FROM read_parquet([{', '.join(sql_literal(str(f)) for f in files)}])"
        )
    if not selects:
        selects = [("SELECT NULL::VARCHAR AS event_key, NULL::VARCHAR AS feed, NULL::VARCHAR AS record_key, "
                    "NULL::VARCHAR AS event_id, NULL::TIMESTAMPTZ AS event_time, NULL::VARCHAR AS event_type, "
                    "NULL::VARCHAR AS partition WHERE false")]
    con.execute(f"CREATE OR REPLACE TABLE {out} AS {' UNION ALL '.join(selects)} ORDER BY event_key")
    return out


def person_location_roles(
    feeds: Mapping[str, FeedDeclaration] | Iterable[FeedDeclaration],
) -> list[tuple[str, str, str]]:
    """(feed, person role, location role) where the feed maps the location from the person's own
    address, postcode or UPRN column."""
    found = []
    for feed in _feed_list(feeds):
        for location in feed.pole.locations:
            columns = {location.address, location.postcode, location.uprn} - {None}
            for person in feed.pole.persons:
                if columns & ({person.address, person.postcode} - {None}):
                    found.append((feed.name, person.role, location.role))
    return sorted(set(found))


def _values(rows: list[tuple], columns: tuple[str, ...]) -> str:
    if not rows:
        return f"(SELECT {', '.join(f'NULL::VARCHAR AS {c}' for c in columns)} WHERE false)"
    body = ", ".join("(" + ", ".join(sql_literal(v) for v in row) + ")" for row in rows)
    return f"(SELECT * FROM (VALUES {body}) AS t({', '.join(columns)}))"


def pole_links(
    con: duckdb.DuckDBPyConnection,
    feeds: Mapping[str, FeedDeclaration] | Iterable[FeedDeclaration],
    *,
    mentions: Mapping[str, str],
    assignments: Mapping[str, str],
    events: str = "pole_events",
    prefix: str = "pole",
) -> dict[str, str]:
    """Create ``<prefix>_entity_events``, ``<prefix>_person_vehicle`` and ``<prefix>_person_location``.

    mentions and assignments: {kind: table} for the kinds at hand ('person', 'vehicle',
    'location'); a mention table needs mention_id, feed, record_key, role; an assignment table
    mention_id and entity_id. Returns {what: table name}.
    """
    unknown = set(mentions) - set(KINDS)
    if unknown or set(mentions) != set(assignments):
        raise ValueError(f"mentions and assignments must name the same kinds out of {KINDS}; got "
                         f"{sorted(mentions)} and {sorted(assignments)}")
    entity_mentions = " UNION ALL ".join(
        f"SELECT {sql_literal(kind)} AS kind, a.entity_id, m.mention_id, m.feed, m.record_key, m.role "
        f"FROM {mentions[kind]} m JOIN {assignments[kind]} a USING (mention_id)"
        for kind in KINDS if kind in mentions
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _entity_mentions AS {entity_mentions}")
    made = {what: f"{prefix}_{what}" for what in ("entity_events", "person_vehicle", "person_location")}
    con.execute(f"""
        CREATE OR REPLACE TABLE {made['entity_events']} AS
        SELECT m.kind AS entity_kind, m.entity_id, m.role, e.event_key, e.feed, e.record_key, e.event_id,
               e.event_time, e.event_type, m.mention_id
        FROM _entity_mentions m JOIN {events} e USING (feed, record_key)
        ORDER BY e.event_key, m.kind, m.role""")
    pairs = {
        "person_vehicle": ("vehicle", _values(sorted(PERSON_VEHICLE_ROLES.items()), ("person_role", "relationship")),
                           "p.role = r.person_role"),
        "person_location": ("location", _values(person_location_roles(feeds), ("feed", "person_role", "relationship")),
                            "p.feed = r.feed AND p.role = r.person_role AND o.role = r.relationship"),
    }
    for what, (kind, roles, condition) in pairs.items():
        con.execute(f"""
            CREATE OR REPLACE TABLE {made[what]} AS
            SELECT DISTINCT p.entity_id AS person_entity_id, o.entity_id AS {quote(kind + '_entity_id')},
                   r.relationship, p.feed, p.record_key, e.event_key, e.event_time,
                   p.mention_id AS person_mention_id, o.mention_id AS {quote(kind + '_mention_id')}
            FROM _entity_mentions p
            JOIN _entity_mentions o ON o.feed = p.feed AND o.record_key = p.record_key AND o.kind = {sql_literal(kind)}
            JOIN {roles} r ON {condition}
            LEFT JOIN {events} e ON e.feed = p.feed AND e.record_key = p.record_key
            WHERE p.kind = 'person'
            ORDER BY ALL""")
    return made
