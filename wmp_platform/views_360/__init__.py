"""The 360 views of a person, a vehicle and a location, from SQL kept in files beside this module.

Each view is one row per entity with nested lists (aliases, addresses, vehicles, events, ...), so
a reader fetches a whole picture with one keyed read. They hold personal data and are
**restricted**: published only in the read-only snapshot (``snapshot.py``), never in a KPI mart.

Warnings (a person wanted on a warrant, holding a firearms certificate, missing) need a detail
the hub does not keep, the record's status: ``warnings/<feed>.sql`` reads it from ``staged.<feed>``
as (event_key, role, warning, status, active, details). A feed without staged rows adds nothing;
a new warning source is one more file.

Lists come in a set order (newest events first, most-used names first, ...). DuckDB's ordered
aggregate, ``list(x ORDER BY k)``, sorts each group on its own and takes about twice the time at a
million entities; the views number each entity's rows once with ``row_number() OVER (PARTITION BY
entity_id ORDER BY k)`` and sort each list by that number: ``list_transform(list_sort(list({'r': r,
'v': x})), lambda x: x.v)``, the same lists.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent
WARNINGS_DIR = SQL_DIR / "warnings"
SCHEMA = "views"
VIEWS = ("person_360", "vehicle_360", "location_360")
WARNING_RECORDS = "warning_records"
WARNING_COLUMNS = ("event_key VARCHAR, role VARCHAR, warning VARCHAR, status VARCHAR, active BOOLEAN, "
                   "details VARCHAR")
# what each view needs from the hub (schema entities)
NEEDS = {
    "person_360": ("person_golden", "person_aliases", "person_identifiers", "person_addresses", "pole_entity_events",
                   "pole_person_vehicle", "pole_person_location", "vehicle_golden", "location_golden"),
    "vehicle_360": ("vehicle_golden", "vehicle_identifiers", "person_golden", "pole_entity_events",
                    "pole_person_vehicle", "location_golden"),
    "location_360": ("location_golden", "location_addresses", "person_golden", "pole_events", "pole_entity_events",
                     "pole_person_location"),
}


def view_sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def warning_feeds() -> list[str]:
    """Feeds with a warnings file, in name order."""
    return sorted(path.stem for path in WARNINGS_DIR.glob("*.sql"))


def build_warning_records(con: duckdb.DuckDBPyConnection, out: str) -> list[str]:
    """Create table ``out`` from every warnings file whose ``staged.<feed>`` the connection's default
    catalog holds (the warehouse); returns the feeds read."""
    staged = {row[0] for row in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'staged'"
    ).fetchall()}
    feeds = [feed for feed in warning_feeds() if feed in staged]
    con.execute(f"CREATE OR REPLACE TABLE {out} ({WARNING_COLUMNS})")
    for feed in feeds:
        con.execute(f"INSERT INTO {out} BY NAME {(WARNINGS_DIR / f'{feed}.sql').read_text()}")
    return feeds


def build_360_views(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Create ``views.<name>`` for every view in the connection's default catalog (the snapshot),
    which holds the hub's tables in schema ``entities`` and ``views.warning_records``; returns
    rows per view."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    rows = {}
    for name in VIEWS:
        con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{name} AS {view_sql(name)}")
        con.execute(f"COMMENT ON TABLE {SCHEMA}.{name} IS 'restricted: personal data, one row per entity'")
        rows[name] = con.execute(f"SELECT count(*) FROM {SCHEMA}.{name}").fetchall()[0][0]
    return rows
