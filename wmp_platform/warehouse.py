"""The DuckDB warehouse: one file where the lake's feeds appear as tables for analysts
and for the downstream layers. Feed data stays in Parquet (written in parallel, lock-free);
the warehouse holds views over it, refreshed by a single writer."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

from wmp_platform.sql import quote, sql_literal
from wmp_platform.storage import DATA_LAYERS, LAYERS, DataLayout


@contextmanager
def open_warehouse(path: Path, read_only: bool = False, wait_seconds: float = 300):
    """A connection to the warehouse file that waits while another process holds its lock.

    DuckDB allows one writing process per file; the platform's writers share one pool, and
    this wait covers what runs outside it (an analyst's session, a manual run).
    """
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    try:
        yield con
    finally:
        con.close()


def register_lake_views(con: duckdb.DuckDBPyConnection, layout: DataLayout, feeds: list[str]) -> None:
    """Create or replace raw.<feed>, staged.<feed> and quarantine.<feed> views over the lake.

    Views read the partition files by glob, so partitions written later appear without a refresh.
    """
    for layer in LAYERS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    for feed in feeds:
        for layer in LAYERS:
            folder = layout.layer_dir(feed, layer)
            view = f"{layer}.{quote(feed)}"
            if folder.is_dir() and any(folder.glob("*.parquet")):
                glob = sql_literal(str(folder / "*.parquet"))
                con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet({glob}, union_by_name = true)")
            else:
                con.execute(f"DROP VIEW IF EXISTS {view}")


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Rows per feed in each layer, as the warehouse sees them."""
    views = con.execute(
        f"SELECT schema_name, view_name FROM duckdb_views() WHERE schema_name IN {DATA_LAYERS}"
    ).fetchall()
    counts: dict[str, dict[str, int]] = {}
    for layer, feed in sorted(views, key=lambda v: v[1]):
        counts.setdefault(feed, dict.fromkeys(DATA_LAYERS, 0))
        counts[feed][layer] = con.execute(f"SELECT count(*) FROM {layer}.{quote(feed)}").fetchone()[0]
    return counts
