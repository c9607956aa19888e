"""Vehicles: every vehicle mention resolved to one vehicle, the keeper register as the anchor.

Registrations arrive normalised (``wmp_vrm``: upper case, letters and digits only). Each
mention gets a *vehicle key*, and mentions sharing a key are one vehicle:

1. **register**: the registration is in the vehicle register (feed ``vehicles``): its key is
   the registration. Two registrations the register holds are never one vehicle.
2. **misread** / **slip**: otherwise, when exactly one registration in the register could
   have been meant, and the evidence agrees, the mention takes that registration's key. Could
   have been meant: it reads the same under the ANPR confusions (``CONFUSABLE``: O/D/0, I/1,
   B/8, S/5, Z/2, G/6), or lost one character (both *misread*), or is one keystroke away
   (two characters swapped, one dropped, doubled or mis-hit: *slip*). Evidence agrees when
   - the mention has make, model or colour: none differs from the register's latest record
     and at least one is the same (two when the read is itself a well-formed registration,
     which could be another real vehicle);
   - it has none (an ANPR read): the read is a camera's misread (not a keystroke slip) and is
     not a well-formed registration (``wmp_valid_vrm``), so it cannot be a real vehicle of
     its own, and the register's one candidate is it.
3. **unregistered**: otherwise the registration as read is the key: the same plate is the same
   vehicle whatever the feed, and a misread the register cannot confirm stays apart.
4. **unresolved**: a mention without a registration is a vehicle of its own.

Entities get stable ids through ``clusters.assign_entity_ids`` (prefix ``V``, seeded by the
key, so a vehicle's id follows from its registration on a first build).
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

REGISTER_FEED = "vehicles"
VEHICLE_PREFIX = "V"
# What ANPR cameras confuse, each mapped to one stand-in character.
CONFUSABLE = {"O": "0", "D": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"}
VEHICLE_COLUMNS = ("mention_id", "feed", "partition", "registration", "make", "model", "colour")


def _confusion_key(column: str) -> str:
    return f"translate({column}, {sql_literal(''.join(CONFUSABLE))}, {sql_literal(''.join(CONFUSABLE.values()))})"


def resolve_vehicles(
    con: duckdb.DuckDBPyConnection, *, mentions: str, out: str = "vehicle_resolution", register_feed: str = REGISTER_FEED,
) -> str:
    """Create table ``out``: mention_id, partition, registration (as read), vehicle_key,
    resolved_by ('register' | 'misread' | 'slip' | 'unregistered' | 'unresolved'), one row per mention.

    ``con`` needs the platform's macros (``ingest.connect()``); ``mentions`` holds vehicle mentions.
    """
    require_columns(con, mentions, VEHICLE_COLUMNS, "vehicle mentions")
    attributes = ("make", "model", "colour")
    compared = " + ".join(f"(m.{a} IS NOT NULL AND r.{a} IS NOT NULL)::INT" for a in attributes)
    agreed = " + ".join(f"coalesce(m.{a} = r.{a}, false)::INT" for a in attributes)
    con.execute(f"""
        CREATE OR REPLACE TABLE {out} AS
        WITH vehicle AS (
          SELECT mention_id, feed, partition, registration, {_confusion_key('registration')} AS confusion_key,
                 coalesce(wmp_valid_vrm(registration), false) AS well_formed,
                 upper(make) AS make, upper(model) AS model, upper(colour) AS colour
          FROM {mentions}
        ),
        register AS (  -- each registration's latest record in the register
          SELECT registration, any_value(confusion_key) AS confusion_key,
                 arg_max(make, (partition, mention_id)) FILTER (WHERE make IS NOT NULL) AS make,
                 arg_max(model, (partition, mention_id)) FILTER (WHERE model IS NOT NULL) AS model,
                 arg_max(colour, (partition, mention_id)) FILTER (WHERE colour IS NOT NULL) AS colour
          FROM vehicle WHERE feed = {sql_literal(register_feed)} AND registration IS NOT NULL GROUP BY registration
        ),
        read AS (  -- registrations read that the register lacks, each once
          SELECT DISTINCT registration, confusion_key FROM vehicle
          WHERE registration IS NOT NULL AND registration NOT IN (SELECT registration FROM register)
        ),
        register_variant AS (  -- each registration and the ones it becomes with a character lost
          SELECT registration, unnest(list_transform(range(1, length(registration) + 1),
                 lambda i: registration[:i - 1] || registration[i + 1:])) AS variant FROM register
          UNION ALL SELECT registration, registration FROM register
        ),
        read_variant AS (
          SELECT registration, unnest(list_transform(range(1, length(registration) + 1),
                 lambda i: registration[:i - 1] || registration[i + 1:])) AS variant FROM read
          UNION ALL SELECT registration, registration FROM read
        ),
        meant AS (  -- (read, registration it could mean, by a camera's misread?)
          SELECT d.registration AS read, r.registration, true AS misread
          FROM read d JOIN register r USING (confusion_key)
          UNION ALL
          SELECT d.registration, r.registration, length(d.registration) = length(r.registration) - 1
          FROM read_variant d JOIN register_variant r USING (variant)
          WHERE damerau_levenshtein(d.registration, r.registration) = 1
        ),
        lone AS (  -- reads that could mean one registration only
          SELECT read, any_value(registration) AS registration, bool_or(misread) AS misread
          FROM meant GROUP BY read HAVING count(DISTINCT registration) = 1
        ),
        candidate AS (
          SELECT m.mention_id, r.registration, lone.misread, {compared} AS compared, {agreed} AS agreed
          FROM vehicle m JOIN lone ON lone.read = m.registration JOIN register r ON r.registration = lone.registration
        ),
        confirmed AS (
          SELECT c.mention_id, c.registration, c.misread FROM candidate c JOIN vehicle m USING (mention_id)
          WHERE CASE WHEN c.compared = 0 THEN c.misread AND NOT m.well_formed
                     ELSE c.agreed = c.compared AND c.agreed >= CASE WHEN m.well_formed THEN 2 ELSE 1 END END
        )
        SELECT m.mention_id, m.partition, m.registration,
               CASE WHEN m.registration IS NULL THEN 'mention:' || m.mention_id
                    ELSE coalesce(c.registration, m.registration) END AS vehicle_key,
               CASE WHEN m.registration IS NULL THEN 'unresolved'
                    WHEN m.registration IN (SELECT registration FROM register) THEN 'register'
                    WHEN c.misread THEN 'misread'
                    WHEN c.registration IS NOT NULL THEN 'slip'
                    ELSE 'unregistered' END AS resolved_by
        FROM vehicle m LEFT JOIN confirmed c USING (mention_id)
        ORDER BY m.mention_id""")
    return out


def build_vehicle_entities(
    con: duckdb.DuckDBPyConnection,
    tables: HubTables,
    *,
    mentions: str,
    run: Run,
    register_feed: str = REGISTER_FEED,
) -> ClusterReport:
    """Resolve every vehicle mention and give each vehicle a stable id.

    Replaces ``tables.assignments`` (mention_id, partition, entity_id, registration as read,
    vehicle_key, resolved_by); ids of vehicles already there are kept where they persist, and
    splits and merges go to ``tables.history``.
    """
    resolution = resolve_vehicles(con, mentions=mentions, out="_vehicle_resolution", register_feed=register_feed)
    return assign_resolved_entities(
        con, tables, VEHICLE_PREFIX, resolution, key="vehicle_key",
        seed="CASE WHEN resolved_by = 'unresolved' THEN mention_id ELSE 'vrm:' || vehicle_key END",
        columns=("registration", "vehicle_key", "resolved_by"), run=run)
