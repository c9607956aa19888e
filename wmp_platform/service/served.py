"""The snapshot the service is serving, and the move to a newer one with no failed request.

A background thread follows ``published/CURRENT`` through ``snapshot.PublishedReader``: when it changes,
the thread opens the new snapshot, loads its person name index and the entities' sources (below), and
only then makes it the served one (one attribute assignment). A request takes the served snapshot once
and reads it through its own cursor, so it never waits for a move and never sees half of one; the
connection replaced stays open until the next move, so requests running on it finish.

Sources: for each kind of entity, the sensitivities of the feeds it appears in and of the feed each
golden field was taken from, as arrays in entity id order, so deciding which search hits and linked
fields a role may see is a binary search, not a query.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from wmp_platform.search import SCHEMA
from wmp_platform.service.access import (
    KINDS,
    LINKED_FIELDS,
    SENSITIVITY_BIT,
    UNKNOWN_FEED_BIT,
    UNSOURCED_LISTS,
)
from wmp_platform.snapshot import PublishedReader, SnapshotError
from wmp_platform.sql import quote, sql_literal
from wmp_platform.storage import DataLayout

log = logging.getLogger("wmp.service")
POLL_SECONDS = 0.25
SENSITIVITY_BITS = tuple(SENSITIVITY_BIT.values())
FEED_COUNTS = ("mentions", "active_warnings")  # per entity and feed, in the search index
# the hub tables that the feed-less lists of each kind of view are built from
UNSOURCED_TABLES = {"person": ("pole_person_location", "pole_person_vehicle"), "vehicle": ("pole_person_vehicle",),
                    "location": ("pole_person_location",)}


class SnapshotSources:
    """Per kind: entity ids (sorted), the sensitivity bits of the feeds each entity appears in, of the
    feed each golden field came from, and the entity's records per sensitivity; and every feed named."""

    def __init__(self, con: duckdb.DuckDBPyConnection, feed_bits: dict[str, int]):
        cases = " ".join(f"WHEN {sql_literal(feed)} THEN {bit}" for feed, bit in sorted(feed_bits.items()))

        def bit(column: str) -> str:  # a feed name -> its sensitivity bit; no feed -> 0
            return f"CASE WHEN {column} IS NULL THEN 0 ELSE (CASE {column} {cases} ELSE {UNKNOWN_FEED_BIT} END) END"

        self.ids: dict[str, np.ndarray] = {}
        self.feeds: dict[str, np.ndarray] = {}
        self.fields: dict[str, dict[str, np.ndarray]] = {}
        # kind -> count (records, active warnings) -> (entities, sensitivities) array
        self.counts: dict[str, dict[str, np.ndarray]] = {}
        self.feed_names: set[str] = set()
        for kind in KINDS:
            columns = sorted(set(LINKED_FIELDS[kind].values()))
            source_bits = ", ".join(f"{bit(quote(c))} AS {quote(c)}" for c in columns)
            per_bit = [f"{c}_{b}" for c in FEED_COUNTS for b in SENSITIVITY_BITS]
            sums = ", ".join(f"sum({c}) FILTER (WHERE bit = {b}) AS {c}_{b}" for c in FEED_COUNTS for b in SENSITIVITY_BITS)
            table = con.sql(f"""
                SELECT entity_id,
                       coalesce(list_aggregate(list_transform(feeds, lambda f: {bit('f')}), 'bit_or'), 0) AS feeds_bits,
                       {source_bits}, {", ".join(f"CAST(coalesce({c}, 0) AS BIGINT) AS {c}" for c in per_bit)}
                FROM entities.{kind}_golden
                LEFT JOIN (SELECT entity_id, {sums}
                           FROM (SELECT *, {bit('feed')} AS bit FROM {SCHEMA}.{kind}_feed_counts)
                           GROUP BY entity_id) USING (entity_id)
                ORDER BY entity_id""").to_arrow_table()
            self.ids[kind] = _fixed_width(table["entity_id"])
            self.feeds[kind] = np.asarray(table["feeds_bits"].to_numpy(zero_copy_only=False), dtype=np.uint8)
            self.fields[kind] = {c: np.asarray(table[c].to_numpy(zero_copy_only=False), dtype=np.uint8)
                                 for c in columns}
            self.counts[kind] = {c: np.stack([table[f"{c}_{b}"].to_numpy() for b in SENSITIVITY_BITS], axis=1)
                                 for c in FEED_COUNTS}
            self.feed_names |= {f for (f,) in con.sql(f"SELECT DISTINCT feed FROM {SCHEMA}.{kind}_feed_counts").fetchall()}

    def positions(self, kind: str, ids: list[str | None]) -> np.ndarray:
        """Row of each id, -1 when unknown."""
        known = self.ids[kind]
        if not len(known):
            return np.full(len(ids), -1)
        encoded = [(i or "").encode("ascii", "replace") for i in ids]
        wanted = np.array(encoded, dtype=known.dtype)  # an id longer than the known ones would be cut: see below
        at = np.minimum(np.searchsorted(known, wanted), len(known) - 1)
        found = (known[at] == wanted) & (np.array([len(e) for e in encoded]) <= known.dtype.itemsize)
        return np.where(found, at, -1)

    def entities_visible(self, kind: str, ids: list[str], sees: int, at: np.ndarray | None = None) -> list[bool]:
        """Whether each entity appears in a feed of a sensitivity the role sees (``at``: their
        ``positions``, when known)."""
        at = self.positions(kind, ids) if at is None else at
        bits = np.where(at >= 0, self.feeds[kind][at], UNKNOWN_FEED_BIT)
        return ((bits & sees) != 0).tolist()

    def visible_counts(self, kind: str, at: np.ndarray, sees: int) -> dict[str, list[int]]:
        """Each entity's records and active warnings in feeds the role sees (``at``: their ``positions``)."""
        seen = np.array([bool(b & sees) for b in SENSITIVITY_BITS])
        return {c: np.where(at >= 0, counts[np.maximum(at, 0)] @ seen, 0).tolist()
                for c, counts in self.counts[kind].items()}

    def visible(self, kind: str, ids: list[str | None], field: str, sees: int, at: np.ndarray | None = None
                ) -> list[bool]:
        """Whether each linked entity's ``field`` (a key of LINKED_FIELDS[kind]) came from a feed the role
        sees (true when the field has no source: then it has no value either)."""
        at = self.positions(kind, ids) if at is None else at
        bits = np.where(at >= 0, self.fields[kind][LINKED_FIELDS[kind][field]][at], 0)
        return ((bits == 0) | ((bits & sees) != 0)).tolist()


def _fixed_width(column: pa.ChunkedArray) -> np.ndarray:
    """Ids as a numpy bytes array for binary search; read straight from Arrow's buffer when all have
    one length (entity ids do: P-1A2B3C4D5E6F), with no Python string per id."""
    values = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if len(values) and not values.null_count and pa.types.is_string(values.type):
        offsets = np.frombuffer(values.buffers()[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4)
        width = int(offsets[1] - offsets[0])
        if width and (np.diff(offsets) == width).all():
            return np.frombuffer(values.buffers()[2], dtype=f"S{width}", count=len(values),
                                 offset=int(offsets[0])).copy()
    return np.array(values.to_pylist(), dtype="S")


@dataclass
class ServedSnapshot:
    snapshot_id: str
    connection: duckdb.DuckDBPyConnection
    sources: SnapshotSources
    unsourced_feeds: dict[str, set[str]]  # kind -> feeds its feed-less lists are built from
    path: Path | None = None


def load_served(connection: duckdb.DuckDBPyConnection, feed_bits: dict[str, int], path: Path | None) -> ServedSnapshot:
    snapshot_id = connection.execute("SELECT snapshot_id FROM published.manifest").fetchall()[0][0]
    held = {t for (t,) in connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [SCHEMA]).fetchall()}
    if not {f"{kind}_feed_counts" for kind in KINDS} | {"feed_sets"} <= held:
        raise SnapshotError(f"snapshot {snapshot_id} has no feeds in its search index (published by an older "
                            "version): publish a new snapshot for the service to serve")
    unsourced = {}
    for kind in KINDS:
        feeds: set[str] = set()
        for table in UNSOURCED_TABLES[kind]:
            feeds |= {r[0] for r in connection.execute(f"SELECT DISTINCT feed FROM entities.{table}").fetchall()}
        unsourced[kind] = feeds
    assert set(UNSOURCED_TABLES) == set(UNSOURCED_LISTS)
    return ServedSnapshot(snapshot_id, connection, SnapshotSources(connection, feed_bits), unsourced, path)


class SnapshotFollower:
    """Serves the current published snapshot and moves to each new one in a background thread."""

    def __init__(self, data_dir: Path, feed_bits: dict[str, int], poll_seconds: float = POLL_SECONDS):
        self.reader = PublishedReader(DataLayout(Path(data_dir)))
        self.feed_bits = feed_bits
        self.poll_seconds = poll_seconds
        self.served: ServedSnapshot | None = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refresh()

    def refresh(self) -> None:
        """Move to the current snapshot if it changed (only the follower's thread calls this after start)."""
        try:
            connection = self.reader.connection()
            if self.served is None or connection is not self.served.connection:
                served = load_served(connection, self.feed_bits, self.reader.path)
                self.served = served  # the move: requests from here on read the new snapshot
                log.info("serving snapshot %s", served.snapshot_id)
            self.error = None
        except (SnapshotError, duckdb.Error, OSError) as error:
            self.error = str(error)  # keep serving what we have; /health reports it
            if self.served is None:
                log.warning("no snapshot to serve yet: %s", error)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="snapshot-follower", daemon=True)
            self._thread.start()

    def _follow(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.reader.close()

    def describe(self) -> dict[str, Any]:
        return {"snapshot_id": self.served.snapshot_id if self.served else None, "error": self.error}
