"""Rebuild time of the KPI marts on an estate's staged feeds: crime analytics, incident performance
and offender harm, each written into its scratch schema, audited and published, plus the charts
and the report; beside two peers in the same run:

- read floor: DuckDB reading every staged column the marts use, once (what any rebuild must pay);
- naive query: one plain GROUP BY per mart giving its headline table without LSOAs, comparisons,
  roll-ups, availability or audits (what an analyst's one-off query costs).

    python benchmarks/marts.py --data-dir /tmp/bench10m

The estate's lake is only read: views to it live in a temporary warehouse file. Offender harm
needs the hub's person cross-reference; when the estate has none, it is taken from the
estate's ground truth (true person ids as entity ids), loaded before the clock starts.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from wmp_platform.marts.kpi import build_crime_mart, build_incident_mart, build_offender_harm_mart
from wmp_platform.marts.report import write_kpi_report
from wmp_platform.storage import DataLayout
from wmp_platform.warehouse import register_lake_views

FEEDS = ("crime", "incidents", "duty_roster", "gazetteer")
# every staged column the marts read
READ = {
    "crime": ("_record_key", "crime_category", "hocr_code", "lpa", "outcome", "occurred_at", "location_scene_uprn",
              "location_scene_postcode", "location_scene_latitude", "location_scene_longitude"),
    "incidents": ("channel", "grade_code", "lpa", "received_at", "answered_at", "dispatched_at", "arrived_at",
                  "closed_at", "person_officer_collar_number"),
    "duty_roster": ("duty_date", "lpa", "duty_status", "shift_start", "shift_end", "person_officer_collar_number"),
    "gazetteer": ("lsoa_code", "lsoa_name", "location_address_uprn", "location_address_postcode",
                  "location_address_latitude", "location_address_longitude"),
}
NAIVE = {
    "crime": """SELECT date_trunc('week', occurred_at), lpa, crime_category, count(*) FROM staged.crime GROUP BY ALL""",
    "incidents": """SELECT CAST(received_at AS DATE), lpa, grade_code, count(*),
                           quantile_cont(date_diff('second', received_at, arrived_at), [0.5, 0.9])
                    FROM staged.incidents GROUP BY ALL""",
    "offender_harm": """SELECT x.entity_id, count(*) FROM staged.crime c
                        JOIN entities.person_xref x ON x.feed = 'crime' AND x.role = 'suspect'
                         AND x.record_key = c._record_key GROUP BY ALL""",
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(step) -> tuple[object, float, float]:
    """The step's result, wall seconds and CPU seconds (every thread of the process)."""
    cpu, started = time.process_time(), time.perf_counter()
    result = step()
    return result, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True, help="data folder of an estate with staged feeds")
    parser.add_argument("--repeat", type=int, default=1, help="rebuilds of each mart; the fastest is reported")
    args = parser.parse_args()
    lake = DataLayout(args.data_dir.resolve())

    with tempfile.TemporaryDirectory(prefix="marts-bench-") as scratch:
        con = duckdb.connect(str(Path(scratch) / "warehouse.duckdb"))
        register_lake_views(con, lake, list(FEEDS))
        rows = {feed: con.execute(f"SELECT count(*) FROM staged.{feed}").fetchone()[0] for feed in FEEDS}
        estate_rows = con.execute(
            f"SELECT sum(num_rows) FROM parquet_file_metadata('{lake.lake}/*/staged/*.parquet')").fetchone()[0]
        con.execute("CREATE SCHEMA entities")
        if (lake.ground_truth / "persons.parquet").exists():
            con.execute(f"""CREATE TABLE entities.person_xref AS
                SELECT feed || '|' || record_key || '|' || role AS mention_id, feed, record_key, role,
                       person_id AS entity_id
                FROM read_parquet('{lake.ground_truth / "persons.parquet"}') WHERE feed = 'crime'""")
            con.execute(f"""CREATE TABLE entities.person_golden AS
                SELECT person_id AS entity_id, forename, surname, dob
                FROM read_parquet('{lake.ground_truth / "people.parquet"}')""")
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        print(f"estate: {estate_rows:,} staged rows in {lake.lake}; the marts read "
              + ", ".join(f"{feed} {n:,}" for feed, n in rows.items()) + f"  (DuckDB threads: {threads})")

        floor = [0.0, 0.0]
        for feed, columns in READ.items():
            _, wall, cpu = timed(lambda columns=columns, feed=feed: con.execute(
                f"SELECT {', '.join(f'count({c})' for c in columns)} FROM staged.{feed}").fetchall())
            floor = [floor[0] + wall, floor[1] + cpu]
        naive = {}
        for name, query in NAIVE.items():
            naive[name] = timed(lambda query=query: con.execute(query).fetchall())[1:]

        builds = {"crime": build_crime_mart, "incidents": build_incident_mart, "offender_harm": build_offender_harm_mart}
        results = {}
        for name, build in builds.items():
            best = None
            for _ in range(args.repeat):
                run = timed(lambda build=build: build(con))
                if best is None or run[1] < best[1]:
                    best = run
            results[name] = best
        _, *report = timed(lambda: write_kpi_report(con, Path(scratch) / "reports"))
        con.close()

    print(f"\n{'step':<30} {'wall s':>7} {'cpu s':>7} {'write':>6} {'audit':>6} {'publish':>7} {'rows out':>9} "
          f"{'cpu vs naive':>12} {'cpu vs floor':>12}")
    print(f"{'read floor (every column once)':<30} {floor[0]:7.2f} {floor[1]:7.2f}")
    for name, (published, wall, cpu) in results.items():
        parts = published.seconds
        print(f"{name + ' mart':<30} {wall:7.2f} {cpu:7.2f} {parts['write']:6.2f} {parts['audit']:6.2f} "
              f"{parts['publish']:7.2f} {sum(published.rows.values()):>9,} {cpu / naive[name][1]:11.1f}x "
              f"{cpu / floor[1]:11.1f}x")
        print(f"{'  naive query':<30} {naive[name][0]:7.2f} {naive[name][1]:7.2f}")
    print(f"{'charts and report':<30} {report[0]:7.2f} {report[1]:7.2f}")
    wall = sum(r[1] for r in results.values()) + report[0]
    cpu = sum(r[2] for r in results.values()) + report[1]
    naive_cpu = sum(c for _, c in naive.values())
    print(f"{'all marts, charts and report':<30} {wall:7.2f} {cpu:7.2f} {'':>6} {'':>6} {'':>7} {'':>9} "
          f"{cpu / naive_cpu:11.1f}x {cpu / floor[1]:11.1f}x")
    print(f"\npeak RSS {peak_rss_mb():,.0f} MB; {sum(rows.values()) / wall:,.0f} staged rows read per wall second; "
          f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall above CPU/threads "
          "means the machine was shared)")


if __name__ == "__main__":
    main()
