"""The DuckDB warehouse: views over the lake, and one writer at a time without lock failures."""

from __future__ import annotations

import multiprocessing
import time

import duckdb

from wmp_platform import ingest
from wmp_platform.warehouse import open_warehouse, register_lake_views, row_counts


def hold_write_lock(path: str, seconds: float, ready) -> None:
    with duckdb.connect(path) as con:
        con.execute("CREATE TABLE IF NOT EXISTS held (x INTEGER)")
        ready.set()
        time.sleep(seconds)


def test_views_follow_the_lake_and_writers_wait_for_the_lock(layout, court_results):
    for partition in ("2026-10-01", "2026-10-02"):
        ingest.load_raw(layout, court_results, partition)
        ingest.stage(layout, court_results, partition)
    layout.root.mkdir(parents=True, exist_ok=True)

    ready = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(
        target=hold_write_lock, args=(str(layout.warehouse), 2.0, ready)
    )
    holder.start()
    try:
        assert ready.wait(60)
        started = time.monotonic()
        with open_warehouse(layout.warehouse) as con:  # waits for the holder instead of failing
            waited = time.monotonic() - started
            register_lake_views(con, layout, ["court_results", "never_landed"])
            assert row_counts(con) == {"court_results": {"raw": 6, "staged": 4, "quarantine": 2}}
    finally:
        holder.join()
    assert waited > 0.5

    # a partition written after the views were made shows without refreshing them
    (layout.feed_landing("court_results") / "court_results_20261003.csv").write_text(
        "CaseURN,HearingNo,HearingDate,DefForename,DefSurname,DefDOB,DefPNC,DefPostcode,Court,Result,Remanded\n"
        "20BW0999999,1,03/10/2026 10:00,Ann,Lee,01/01/1990,,B1 1AA,Birmingham Magistrates,Bail,N\n"
    )
    ingest.load_raw(layout, court_results, "2026-10-03")
    ingest.stage(layout, court_results, "2026-10-03")
    with open_warehouse(layout.warehouse, read_only=True) as con:
        assert con.execute('SELECT count(*) FROM staged."court_results"').fetchone()[0] == 5
