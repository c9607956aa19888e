"""Locations: every place mention resolved to a gazetteer property (UPRN) where the evidence allows.

Each mention gets a *location key*, and mentions sharing a key are one place, tried in order:

1. **uprn**: the mention gives a UPRN: that is the place (key ``uprn:<UPRN>``), whatever the
   address beside it says.
2. **address**: otherwise its address is matched against the gazetteer (the staged feed
   ``gazetteer``, which maps every property as a location mention with its UPRN). Both sides
   are split into words with common street-type abbreviations spelt out (``ABBREVIATIONS``).
   A candidate must have exactly the same numbers (house, flat, unit: every word holding a
   digit) and, when the mention has a postcode the gazetteer knows, the same postcode; without
   one, candidates are found through the gazetteer's rarer words. The score is the share of the
   mention's other words found in the candidate (a word of four letters or more also matches
   at Jaro-Winkler >= ``WORD_SIMILARITY``, for typing slips). The best candidate wins when its
   score reaches ``min_score`` (``min_score_without_postcode`` without a postcode) and no other
   candidate scores as well.
3. **coordinates**: otherwise the nearest gazetteer point within ``max_distance_m`` (in the
   same postcode when the mention gives one), when no other point is as near.
4. **unresolved**: otherwise the place is an entity of its own, one per description: the same
   address and postcode (``place:``), the same point to five decimals, about a metre
   (``point:``), or a lone postcode (``postcode:``).

Entities get stable ids through ``clusters.assign_entity_ids`` (prefix ``L``, seeded by the key).
"""

from __future__ import annotations

import duckdb

from wmp_platform.matching.clusters import (
    ClusterReport,
    HubTables,
    Run,
    assign_resolved_entities,
    require_columns,
)
from wmp_platform.sql import sql_literal

GAZETTEER_FEED = "gazetteer"
LOCATION_PREFIX = "L"
LOCATION_COLUMNS = ("mention_id", "feed", "partition", "uprn", "address", "postcode", "latitude", "longitude")
ABBREVIATIONS = {
    "RD": "ROAD", "ST": "STREET", "LN": "LANE", "AVE": "AVENUE", "AV": "AVENUE", "CL": "CLOSE", "DR": "DRIVE",
    "GR": "GROVE", "GRO": "GROVE", "GRV": "GROVE", "CRES": "CRESCENT", "CRESC": "CRESCENT", "PL": "PLACE",
    "TER": "TERRACE", "TERR": "TERRACE", "TCE": "TERRACE", "CT": "COURT", "GDNS": "GARDENS", "SQ": "SQUARE",
    "WY": "WAY", "PK": "PARK", "HO": "HOUSE", "PDE": "PARADE", "HTS": "HEIGHTS", "GRN": "GREEN", "MWS": "MEWS",
    "WLK": "WALK", "BLVD": "BOULEVARD", "CTR": "CENTRE", "EST": "ESTATE", "IND": "INDUSTRIAL",
}
WORD_SIMILARITY = 0.88
RARE_WORD = 200  # a gazetteer word on more properties than this does not find candidates on its own
GRID_DEGREES = 0.001  # cells of the nearest-point search: about 111 m by 68 m here
METRES_PER_DEGREE_LATITUDE = 111_200.0


def _words(address: str) -> str:
    spelt = "MAP {" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in ABBREVIATIONS.items()) + "}"
    return (f"list_transform(list_filter(string_split(wmp_address({address}), ' '), lambda t: t <> ''), "
            f"lambda t: coalesce({spelt}[t], t))")


def _distance_m(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """Metres between two nearby points (equirectangular: exact enough below a kilometre)."""
    return (f"{METRES_PER_DEGREE_LATITUDE} * sqrt(pow({lat2} - {lat1}, 2) + "
            f"pow(({lon2} - {lon1}) * cos(radians(({lat1} + {lat2}) / 2)), 2))")


def resolve_locations(
    con: duckdb.DuckDBPyConnection,
    *,
    mentions: str,
    out: str = "location_resolution",
    gazetteer_feed: str = GAZETTEER_FEED,
    min_score: float = 0.5,
    min_score_without_postcode: float = 0.8,
    max_distance_m: float = 5.0,
) -> str:
    """Create table ``out``: mention_id, partition, location_key, uprn (resolved, or NULL),
    resolved_by ('uprn' | 'address' | 'coordinates' | 'unresolved'), address_score, distance_m.

    ``con`` needs the platform's macros (``ingest.connect()``); ``mentions`` holds location
    mentions, the gazetteer's among them.
    """
    require_columns(con, mentions, LOCATION_COLUMNS, "location mentions")
    if not 0 < max_distance_m <= 60:
        raise ValueError(f"max_distance_m {max_distance_m} must be above 0 and at most 60 (the search grid's reach)")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _place AS
        WITH cleaned AS (
          SELECT mention_id, feed, partition, nullif(upper(trim(CAST(uprn AS VARCHAR))), '') AS uprn,
                 nullif(wmp_address(address), '') AS address, wmp_postcode(postcode) AS postcode,
                 latitude, longitude
          FROM {mentions}
        )
        SELECT * REPLACE (CASE WHEN regexp_full_match(uprn, '[0-9]{{1,12}}') THEN CAST(CAST(uprn AS HUGEINT) AS VARCHAR)
                               ELSE uprn END AS uprn),
               {_words('address')} AS words
        FROM cleaned""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _gazetteer AS
        SELECT uprn, arg_max(postcode, (partition, mention_id)) AS postcode,
               arg_max(latitude, (partition, mention_id)) AS latitude,
               arg_max(longitude, (partition, mention_id)) AS longitude,
               arg_max(words, (partition, mention_id)) AS words
        FROM _place WHERE feed = {sql_literal(gazetteer_feed)} AND uprn IS NOT NULL GROUP BY uprn""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _gazetteer AS
        SELECT *, list_sort(list_filter(words, lambda w: regexp_matches(w, '[0-9]'))) AS numbers,
               list_filter(words, lambda w: NOT regexp_matches(w, '[0-9]')) AS names
        FROM _gazetteer""")
    # addresses: each distinct description once
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _described AS
        SELECT DISTINCT address, postcode, list_sort(list_filter(words, lambda w: regexp_matches(w, '[0-9]'))) AS numbers,
               list_filter(words, lambda w: NOT regexp_matches(w, '[0-9]')) AS names,
               postcode IN (SELECT postcode FROM _gazetteer) AS known_postcode
        FROM _place WHERE uprn IS NULL AND address IS NOT NULL""")
    similar = (f"g = w OR (length(w) >= 4 AND length(g) >= 4 AND jaro_winkler_similarity(g, w) >= {WORD_SIMILARITY})")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _address_match AS
        WITH named AS (SELECT DISTINCT uprn, unnest(names) AS name FROM _gazetteer),
        rare AS (
          SELECT uprn, name FROM named
          WHERE name IN (SELECT name FROM named GROUP BY name HAVING count(*) <= {RARE_WORD})
        ),
        candidate AS (
          SELECT d.address, d.postcode, g.uprn FROM _described d
          JOIN _gazetteer g ON g.postcode = d.postcode AND g.numbers = d.numbers
          WHERE d.known_postcode
          UNION
          SELECT d.address, d.postcode, g.uprn
          FROM (SELECT *, unnest(names) AS name FROM _described WHERE NOT coalesce(known_postcode, false)) d
          JOIN rare USING (name)
          JOIN _gazetteer g ON g.uprn = rare.uprn AND g.numbers = d.numbers
        ),
        scored AS (
          SELECT c.address, c.postcode, c.uprn, d.known_postcode,
                 len(list_filter(d.names, lambda w: len(list_filter(g.names, lambda g: {similar})) > 0))
                   / greatest(len(d.names), 1) AS score
          FROM candidate c JOIN _described d ON d.address = c.address AND d.postcode IS NOT DISTINCT FROM c.postcode
          JOIN _gazetteer g ON g.uprn = c.uprn
        ),
        best AS (
          SELECT *, count(*) OVER (PARTITION BY address, postcode, score) AS tied
          FROM scored
          QUALIFY rank() OVER (PARTITION BY address, postcode ORDER BY score DESC) = 1
        )
        SELECT address, postcode, uprn, score FROM best
        WHERE tied = 1 AND score >= CASE WHEN known_postcode THEN {min_score} ELSE {min_score_without_postcode} END""")
    # coordinates: each distinct point once, searched in its grid cell and the eight around it
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _point_match AS
        WITH point AS (
          SELECT DISTINCT p.latitude, p.longitude, p.postcode FROM _place p
          ANTI JOIN _address_match a ON a.address = p.address AND a.postcode IS NOT DISTINCT FROM p.postcode
          WHERE p.uprn IS NULL AND p.latitude IS NOT NULL AND p.longitude IS NOT NULL
        ),
        cell AS (
          SELECT uprn, postcode, latitude, longitude, floor(latitude / {GRID_DEGREES})::BIGINT AS y,
                 floor(longitude / {GRID_DEGREES})::BIGINT AS x
          FROM _gazetteer WHERE latitude IS NOT NULL AND longitude IS NOT NULL
        ),
        near AS (
          SELECT p.latitude, p.longitude, p.postcode, c.uprn,
                 {_distance_m('p.latitude', 'p.longitude', 'c.latitude', 'c.longitude')} AS distance_m
          FROM point p CROSS JOIN (SELECT unnest([-1, 0, 1]) AS dy) CROSS JOIN (SELECT unnest([-1, 0, 1]) AS dx)
          JOIN cell c ON c.y = floor(p.latitude / {GRID_DEGREES})::BIGINT + dy
                     AND c.x = floor(p.longitude / {GRID_DEGREES})::BIGINT + dx
          WHERE p.postcode IS NULL OR p.postcode = c.postcode
        ),
        nearest AS (
          SELECT *, count(*) OVER (PARTITION BY latitude, longitude, postcode, distance_m) AS tied FROM near
          WHERE distance_m <= {max_distance_m}
          QUALIFY rank() OVER (PARTITION BY latitude, longitude, postcode ORDER BY distance_m) = 1
        )
        SELECT latitude, longitude, postcode, uprn, distance_m FROM nearest WHERE tied = 1""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {out} AS
        SELECT p.mention_id, p.partition,
               CASE WHEN p.uprn IS NOT NULL THEN 'uprn:' || p.uprn
                    WHEN a.uprn IS NOT NULL THEN 'uprn:' || a.uprn
                    WHEN n.uprn IS NOT NULL THEN 'uprn:' || n.uprn
                    WHEN p.address IS NOT NULL THEN 'place:' || p.address || '|' || coalesce(p.postcode, '')
                    WHEN p.latitude IS NOT NULL AND p.longitude IS NOT NULL
                      THEN 'point:' || printf('%.5f,%.5f', p.latitude, p.longitude)
                    WHEN p.postcode IS NOT NULL THEN 'postcode:' || p.postcode
                    ELSE 'mention:' || p.mention_id END AS location_key,
               coalesce(p.uprn, a.uprn, n.uprn) AS uprn,
               CASE WHEN p.uprn IS NOT NULL THEN 'uprn' WHEN a.uprn IS NOT NULL THEN 'address'
                    WHEN n.uprn IS NOT NULL THEN 'coordinates' ELSE 'unresolved' END AS resolved_by,
               CASE WHEN p.uprn IS NULL THEN a.score END AS address_score,
               CASE WHEN p.uprn IS NULL AND a.uprn IS NULL THEN n.distance_m END AS distance_m
        FROM _place p
        LEFT JOIN _address_match a ON p.uprn IS NULL AND a.address = p.address
                                  AND a.postcode IS NOT DISTINCT FROM p.postcode
        LEFT JOIN _point_match n ON p.uprn IS NULL AND a.uprn IS NULL AND n.latitude = p.latitude
                                AND n.longitude = p.longitude AND n.postcode IS NOT DISTINCT FROM p.postcode
        ORDER BY p.mention_id""")
    return out


def build_location_entities(
    con: duckdb.DuckDBPyConnection,
    tables: HubTables,
    *,
    mentions: str,
    run: Run,
    gazetteer_feed: str = GAZETTEER_FEED,
    max_distance_m: float = 5.0,
) -> ClusterReport:
    """Resolve every location mention and give each place a stable id.

    Replaces ``tables.assignments`` (mention_id, partition, entity_id, location_key, uprn,
    resolved_by, address_score, distance_m); ids of places already there are kept where they
    persist, and splits and merges go to ``tables.history``.
    """
    resolution = resolve_locations(con, mentions=mentions, out="_location_resolution", gazetteer_feed=gazetteer_feed,
                                   max_distance_m=max_distance_m)
    return assign_resolved_entities(
        con, tables, LOCATION_PREFIX, resolution, key="location_key", seed="location_key",
        columns=("location_key", "uprn", "resolved_by", "address_score", "distance_m"), run=run)
