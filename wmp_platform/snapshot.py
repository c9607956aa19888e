"""Published snapshots: what readers need, copied out of the warehouse into a read-only DuckDB file
that is swapped in atomically. Readers (search, the API, analysts) open the current snapshot and
never the warehouse, so they never take or wait for the pipeline's lock, and the pipeline never
waits for them.

Under the data folder::

    published/<snapshot_id>.duckdb   one file per publication, never written once swapped in
    published/CURRENT                the current snapshot's file name, replaced with os.replace

``publish_snapshot``:

1. **Copy.** Opens the warehouse read-only (waiting while a writer holds it), attaches a new file
   under a temporary name and copies schemas ``entities`` (the hub, but for the matcher's working
   tables: ``*_mentions`` and names starting ``_``) and ``marts``, tables and views alike, as
   tables; and the warning records of the staged feeds that have a warnings file
   (``views_360``). The warehouse is held only while copying.
2. **Build.** In the new file: the 360 views (schema ``views``), the search index (schema
   ``search``), the platform's SQL macros (so readers have ``wmp_postcode`` and the rest), and
   ``published.catalogue`` (every table with its rows and sensitivity) and
   ``published.manifest`` (snapshot id, when, from which warehouse).
3. **Audit.** Every table the views need was there; every golden record has its 360 row; every
   person with a name, every registration and every postcode is in the index. A failing check
   raises ``SnapshotError`` and the current snapshot keeps serving.
4. **Publish.** The file is renamed into place, then ``CURRENT`` is replaced; snapshots beyond
   the newest ``keep`` are removed (never the current one).

Sensitivity: the hub, the 360 views and the index hold personal data and are ``restricted``; a
mart is ``official`` (aggregates) unless ``marts.published_marts`` marks it restricted (a
person-level mart such as offender harm) or its table comment starts with ``restricted``.

A reader that opened a snapshot keeps reading it while newer ones are published: retention keeps
the last ``keep`` files, and on POSIX a removed file stays readable to whoever holds it open.
``open_published`` opens the current snapshot; a long-running reader uses ``PublishedReader``,
which moves to a new snapshot when ``CURRENT`` changes.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from wmp_platform.identifiers import install_macros
from wmp_platform.search import build_search_index, person_index
from wmp_platform.sql import quote, sql_literal
from wmp_platform.storage import DataLayout, remove_stale_temporaries, temporary_sibling
from wmp_platform.views_360 import (
    NEEDS,
    WARNING_RECORDS,
    build_360_views,
    build_warning_records,
)
from wmp_platform.views_360 import SCHEMA as VIEWS_SCHEMA
from wmp_platform.warehouse import open_warehouse

PUBLISHED = "published"
POINTER = "CURRENT"
COPIED_SCHEMAS = ("entities", "marts")
WORKING_TABLE = re.compile(r"^_|_mentions$")  # the matcher's working copies, not for readers
DEFAULT_KEEP = 3
MEMORY_LIMIT = "3GB"
RESTRICTED = "restricted"
MARTS_LOG = "published_marts"  # marts.published_marts: each mart table, with restricted true for person-level ones
_SNAPSHOT_FILE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z\.duckdb$")


class SnapshotError(RuntimeError):
    """A snapshot could not be built, failed its audit, or there is none to open."""


def published_dir(layout: DataLayout) -> Path:
    return layout.root / PUBLISHED


def snapshot_path(layout: DataLayout, snapshot_id: str) -> Path:
    return published_dir(layout) / f"{snapshot_id}.duckdb"


@dataclass
class PublishedSnapshot:
    """What a publication made: its id and file, rows per table (schema.table), seconds spent."""

    snapshot_id: str
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    warning_feeds: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    copy_seconds: float = 0.0
    build_seconds: float = 0.0

    def __str__(self) -> str:
        people = self.rows.get("views.person_360", 0)
        return (f"snapshot {self.snapshot_id}: {len(self.rows)} tables, {people:,} people, "
                f"{self.rows.get('views.vehicle_360', 0):,} vehicles, {self.rows.get('views.location_360', 0):,} places; "
                f"copied in {self.copy_seconds:.1f} s, built in {self.build_seconds:.1f} s -> {self.path}")


def _new_snapshot_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _tables(con: duckdb.DuckDBPyConnection, database: str, schemas: tuple[str, ...]) -> list[tuple[str, str, str | None]]:
    """(schema, name, comment) of the tables and views of the given schemas in a catalog."""
    return con.execute("""
        SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE database_name = $db AND schema_name IN $schemas
        UNION ALL
        SELECT schema_name, view_name, comment FROM duckdb_views() WHERE database_name = $db AND schema_name IN $schemas
        ORDER BY ALL""", {"db": database, "schemas": list(schemas)}).fetchall()


def publish_snapshot(layout: DataLayout, *, keep: int = DEFAULT_KEEP, wait_seconds: float = 300,
                     memory_limit: str = MEMORY_LIMIT) -> PublishedSnapshot:
    """Build a snapshot from the warehouse, audit it and make it current (see the module docstring).
    DuckDB spills to disk beyond ``memory_limit`` (the machine is shared)."""
    if keep < 1:
        raise ValueError(f"keep {keep}: at least 1 (the current snapshot)")
    if not layout.warehouse.exists():
        raise SnapshotError(f"{layout.warehouse}: no warehouse to publish from; build the warehouse and the entities first")
    folder = published_dir(layout)
    snapshot_id = _new_snapshot_id()
    final = snapshot_path(layout, snapshot_id)
    _remove_leftovers(folder)
    building = temporary_sibling(final)
    published = PublishedSnapshot(snapshot_id, final)
    started = time.perf_counter()
    try:
        with open_warehouse(layout.warehouse, read_only=True, wait_seconds=wait_seconds) as con:
            con.execute("SET enable_progress_bar = false")
            con.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
            warehouse = con.execute("SELECT current_database()").fetchall()[0][0]
            con.execute(f"ATTACH {sql_literal(str(building))} AS snapshot (READ_WRITE)")
            comments = _copy(con, warehouse, published)
            published.copy_seconds = time.perf_counter() - started
            con.execute("USE snapshot")
            con.execute(f"DETACH {quote(warehouse)}")  # the warehouse is free from here on
            _build(con, published, comments, warehouse)
        published.build_seconds = time.perf_counter() - started - published.copy_seconds
        _sync(building)
        os.replace(building, final)
        _point_to(folder, final.name)
    except BaseException:
        building.unlink(missing_ok=True)
        Path(f"{building}.wal").unlink(missing_ok=True)
        raise
    published.removed = _prune(folder, keep)
    return published


def _remove_leftovers(folder: Path) -> None:
    """Remove what killed publications left: their temporary files and write-ahead logs."""
    for name in {p.name[1:].split(".duckdb.", 1)[0] for p in folder.glob(".*.duckdb.*.tmp")}:
        remove_stale_temporaries(folder / f"{name}.duckdb")
    for log in folder.glob(".*.tmp.wal"):
        if not log.with_suffix("").exists():
            log.unlink(missing_ok=True)


def _copy(con: duckdb.DuckDBPyConnection, warehouse: str, published: PublishedSnapshot) -> dict[str, str | None]:
    """Copy the published schemas and the warning records into the snapshot; return comments by table."""
    comments = {}
    for schema in (*COPIED_SCHEMAS, VIEWS_SCHEMA):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS snapshot.{quote(schema)}")
    for schema, table, comment in _tables(con, warehouse, COPIED_SCHEMAS):
        if schema == "entities" and WORKING_TABLE.search(table):
            continue
        name = f"{quote(schema)}.{quote(table)}"
        con.execute(f"CREATE TABLE snapshot.{name} AS SELECT * FROM {quote(warehouse)}.{name}")
        comments[f"{schema}.{table}"] = comment
    published.warning_feeds = build_warning_records(con, f"snapshot.{VIEWS_SCHEMA}.{WARNING_RECORDS}")
    return comments


def _build(con: duckdb.DuckDBPyConnection, published: PublishedSnapshot, comments: dict[str, str | None],
           warehouse: str) -> None:
    present = {f"{s}.{t}" for s, t, _ in _tables(con, "snapshot", ("entities",))}
    missing = sorted({f"entities.{t}" for needs in NEEDS.values() for t in needs} - present)
    if missing:
        raise SnapshotError(f"the warehouse lacks {', '.join(missing)}: build the entities (entities/person, "
                            "entities/vehicle, entities/location) before publishing")
    install_macros(con)  # persisted in the snapshot, so read-only readers have them
    build_360_views(con)
    build_search_index(con)
    _audit(con)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PUBLISHED}")
    rows = {}
    catalogue = []
    tables = _tables(con, "snapshot", (*COPIED_SCHEMAS, VIEWS_SCHEMA, "search"))
    person_level = set()  # marts the marts' own publication log marks restricted
    if ("marts", MARTS_LOG) in {(s, t) for s, t, _ in tables}:
        person_level = {r[0] for r in con.execute(f"SELECT table_name FROM marts.{MARTS_LOG} WHERE restricted").fetchall()}
    for schema, table, comment in tables:
        key = f"{schema}.{table}"
        rows[key] = con.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(table)}").fetchall()[0][0]
        comment = comments.get(key, comment)
        restricted = (schema != "marts" or table in person_level
                      or (comment or "").lower().startswith(RESTRICTED))
        catalogue.append((schema, table, RESTRICTED if restricted else "official", rows[key], comment))
    con.execute(f"CREATE TABLE {PUBLISHED}.catalogue (schema_name VARCHAR, table_name VARCHAR, sensitivity VARCHAR, "
                "row_count BIGINT, comment VARCHAR)")
    con.executemany(f"INSERT INTO {PUBLISHED}.catalogue VALUES (?, ?, ?, ?, ?)", catalogue)
    con.execute(f"CREATE TABLE {PUBLISHED}.manifest AS SELECT ? AS snapshot_id, now() AS published_at, "
                "? AS warehouse, ?::VARCHAR[] AS warning_feeds",
                [published.snapshot_id, warehouse, published.warning_feeds])
    published.rows = rows


AUDITS = (
    ("every person golden record has its 360 view",
     "SELECT count(*) FROM entities.person_golden g ANTI JOIN views.person_360 v USING (entity_id)"),
    ("every vehicle golden record has its 360 view",
     "SELECT count(*) FROM entities.vehicle_golden g ANTI JOIN views.vehicle_360 v USING (entity_id)"),
    ("every location golden record has its 360 view",
     "SELECT count(*) FROM entities.location_golden g ANTI JOIN views.location_360 v USING (entity_id)"),
    ("no entity has two 360 rows",
     ("SELECT (SELECT count(*) - count(DISTINCT entity_id) FROM views.person_360) "
      "+ (SELECT count(*) - count(DISTINCT entity_id) FROM views.vehicle_360) "
      "+ (SELECT count(*) - count(DISTINCT entity_id) FROM views.location_360)")),
    ("every person with a name is in the name index",
     ("SELECT count(DISTINCT entity_id) FROM entities.person_aliases WHERE len(wmp_name_tokens(value)) > 0 "
      "AND entity_id NOT IN (SELECT entity_id FROM search.person_entities JOIN search.person_names USING (entity_no))")),
    ("every registration is in the index",
     ("SELECT count(*) FROM entities.vehicle_golden WHERE registration IS NOT NULL "
      "AND entity_id NOT IN (SELECT entity_id FROM search.vehicle_registrations)")),
    ("every valid postcode is in the index",
     ("SELECT count(*) FROM entities.location_golden WHERE wmp_valid_postcode(wmp_postcode(postcode)) "
      "AND entity_id NOT IN (SELECT entity_id FROM search.location_postcodes)")),
)


def _audit(con: duckdb.DuckDBPyConnection) -> None:
    failed = [f"{what}: {n:,} do not" for what, sql in AUDITS if (n := con.execute(sql).fetchall()[0][0])]
    if failed:
        raise SnapshotError("snapshot failed its audit, the current one stays published: " + "; ".join(failed))


def _sync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _point_to(folder: Path, name: str) -> None:
    """Replace CURRENT atomically: a reader sees the old name or the new one, never a torn file."""
    pointer = folder / POINTER
    remove_stale_temporaries(pointer)
    writing = temporary_sibling(pointer)
    with open(writing, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(writing, pointer)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def snapshots(layout: DataLayout) -> list[Path]:
    """The published snapshot files, oldest first."""
    folder = published_dir(layout)
    return sorted(p for p in folder.glob("*.duckdb") if _SNAPSHOT_FILE.match(p.name)) if folder.is_dir() else []


def _prune(folder: Path, keep: int) -> list[str]:
    current = (folder / POINTER).read_text(encoding="utf-8").strip()
    files = sorted(p for p in folder.glob("*.duckdb") if _SNAPSHOT_FILE.match(p.name))
    removed = []
    for old in files[:-keep]:
        if old.name != current:
            old.unlink(missing_ok=True)
            removed.append(old.stem)
    return removed


def current_snapshot(layout: DataLayout) -> Path:
    """The current snapshot's file; SnapshotError when none was published."""
    pointer = published_dir(layout) / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SnapshotError(f"{published_dir(layout)}: nothing published yet; materialise published/snapshot "
                            "(or call snapshot.publish_snapshot) first") from None
    if not _SNAPSHOT_FILE.match(name):
        raise SnapshotError(f"{pointer}: names {name!r}, which is not a snapshot file")
    return published_dir(layout) / name


def open_published(layout: DataLayout) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current snapshot. It takes no lock a writer waits for: the
    pipeline never writes a published file."""
    for _ in range(3):  # the file named may be pruned between reading CURRENT and opening it
        path = current_snapshot(layout)
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException:
            if path.exists():
                raise
    raise SnapshotError(f"{published_dir(layout)}: the current snapshot kept disappearing while opening it")


class PublishedReader:
    """A long-running reader's view of the published snapshots: one read-only connection to the
    current snapshot, moved to a newer one as soon as ``CURRENT`` changes (checked on each call),
    with the new snapshot's person name index loaded before the move.

    The connection it replaces stays open until the next change, so a query running on it
    finishes; use ``connection().cursor()`` per thread.
    """

    def __init__(self, layout: DataLayout):
        self.layout = layout
        self._pointer = published_dir(layout) / POINTER
        self._stamp: tuple[int, int] | None = None
        self._current: duckdb.DuckDBPyConnection | None = None
        self._previous: duckdb.DuckDBPyConnection | None = None
        self.path: Path | None = None

    def connection(self) -> duckdb.DuckDBPyConnection:
        try:
            status = self._pointer.stat()
            stamp = (status.st_ino, status.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if self._current is None or stamp != self._stamp:
            fresh = open_published(self.layout)
            # load the new snapshot's name index before serving from it, so no search waits for it
            person_index(fresh, fresh.execute("SELECT snapshot_id FROM published.manifest").fetchall()[0][0])
            if self._previous is not None:
                self._previous.close()
            self._previous, self._current = self._current, fresh
            self._stamp, self.path = stamp, current_snapshot(self.layout)
        return self._current

    def close(self) -> None:
        for con in (self._current, self._previous):
            if con is not None:
                con.close()
        self._current = self._previous = None

    def __enter__(self) -> PublishedReader:  # noqa: PYI034
        return self

    def __exit__(self, *exc) -> None:
        self.close()
