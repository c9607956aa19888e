"""A full refresh cycle and an incremental one, through Dagster as production runs them.

Full cycle: seven days of every feed land in an empty platform; then, as the daemon would
launch them, the ingest jobs (one run per kind of partitioning, each over its range of
partitions), the match-and-merge cycle (warehouse views, data-quality mart, person, vehicle
and location entities, POLE links), and the run the automation sensor starts after it (the KPI
marts, offender harm, the published snapshot).

Incremental cycle: an eighth day lands holding 1% of the estate's rows (the day's files of the
daily feeds, cut to 7% of their records), then the same runs: ingest of that one partition,
the cycle (the hub links only the new mentions), marts and snapshot.

Each run goes through Dagster in this process (job.execute_in_process: the in-process
executor, steps one after another, recorded in the data folder's instance), as `wmp demo`
runs them. The daemon's default, the multiprocess executor, starts a process per step (about
5 s of imports each, far more on a busy machine) and runs two steps at once on two cores: the
in-process figures carry less fixed overhead and no step parallelism (the cycle's steps share
one writer pool and run one at a time either way; the daemon runs the cycle in one process
too). The person model is the shipped default, as on a fresh platform; its weekly retraining
is not part of a cycle. Peak memory is of the whole process tree (this
process and any children), sampled every 0.2 s.

    python benchmarks/refresh_cycle.py --rows 1000000
    python benchmarks/refresh_cycle.py --rows 10000000 --skip-incremental

The estate (8 days, so that days 1-7 hold --rows rows) is generated under --work once and reused.
"""

import argparse
import os
import shutil
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import psutil
import pyarrow.parquet as pq

from wmp_platform.declarations import load_declarations
from wmp_platform.demo import FEEDS_DIR, landed_partitions, prepare_instance
from wmp_platform.storage import UNPARTITIONED, DataLayout

START = date(2026, 10, 1)
FULL_DAYS = 7
NEW_DAY = START + timedelta(days=FULL_DAYS)
NEW_SHARE = 0.01  # of the full estate's rows, in the incremental cycle
CYCLE_JOB = "match_and_merge_cycle"
AFTER_MERGE_JOB = "refresh_marts_and_publish"


# --- the jobs ---------------------------------------------------------------------------------

def definitions() -> dg.Definitions:
    """The code location, plus the cycle and the after-merge run as named jobs."""
    from wmp_platform.definitions import build_definitions, cycle_selection

    platform = build_definitions()
    cycle_job = dg.define_asset_job(CYCLE_JOB, selection=cycle_selection())  # what the cycle schedule targets
    # what the automation sensor launches after a merge: the marts the cycle did not refresh, the snapshot
    after_merge = dg.define_asset_job(
        AFTER_MERGE_JOB, selection=dg.AssetSelection.groups("marts", "published")
        - dg.AssetSelection.assets(dg.AssetKey(["marts", "data_quality"])))
    return dg.Definitions.merge(platform, dg.Definitions(jobs=[cycle_job, after_merge]))


# --- measuring -------------------------------------------------------------------------------

class TreeMemory:
    """Peak resident memory of this process and all its descendants, sampled in a thread."""

    def __init__(self, every: float = 0.2):
        self.every, self.peak, self._stop = every, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_stage(defs: dg.Definitions, name: str, instance: dg.DagsterInstance, partitions: list[str] | None = None,
              tags: dict | None = None) -> dict:
    """One run of the named job, in process; wall time, peak tree memory and step times."""
    job = defs.resolve_job_def(name)
    tags = dict(tags or {})
    partition_key = None
    if partitions and partitions != [UNPARTITIONED]:
        if len(partitions) == 1:
            partition_key = partitions[0]
        else:
            tags |= {"dagster/asset_partition_range_start": partitions[0],
                     "dagster/asset_partition_range_end": partitions[-1]}
    started = time.perf_counter()
    with TreeMemory() as memory:
        result = job.execute_in_process(instance=instance, tags=tags, partition_key=partition_key, raise_on_error=False)
        success, run_id = result.success, result.run_id
    wall = time.perf_counter() - started
    if not success:
        failures = [e.event_specific_data.error.message.splitlines()[0]
                    for e in instance.all_logs(run_id) if e.is_step_failure]
        raise SystemExit(f"{name} failed (run {run_id}): {failures}")
    steps = {s.step_key: s.end_time - s.start_time for s in instance.get_run_step_stats(run_id)
             if s.end_time and s.start_time}
    print(f"  {name:28} {wall:8.1f} s  peak {memory.peak / 2**20:8,.0f} MB", flush=True)
    return {"name": name, "wall": wall, "peak": memory.peak, "steps": steps}


def cycle(defs: dg.Definitions, layout: DataLayout, instance: dg.DagsterInstance, label: str) -> dict:
    print(f"{label} cycle", flush=True)
    stages = []
    started = time.perf_counter()
    with TreeMemory() as memory:
        for job_name, partitions in landed_partitions(layout).items():
            if label == "incremental":  # only what the new day brought
                partitions = [p for p in partitions if p == NEW_DAY.isoformat()]
                if not partitions:
                    continue
            stages.append(run_stage(defs, job_name, instance, partitions))
        stages.append(run_stage(defs, CYCLE_JOB, instance, tags={"wmp/refresh": "incremental"}))
        stages.append(run_stage(defs, AFTER_MERGE_JOB, instance))
    return {"label": label, "wall": time.perf_counter() - started, "peak": memory.peak, "stages": stages}


# --- the estate ------------------------------------------------------------------------------

def estate_for(rows: int, work: Path, seed: int) -> Path:
    """An 8-day estate whose first 7 days hold about `rows` feed rows, generated once."""
    from wmp_platform.synthetic import generate_estate

    root = work / f"estate-{rows}"
    if not (root / "ESTATE_COMPLETE").exists():
        started = time.perf_counter()
        summary = generate_estate(root, size=round(rows * (FULL_DAYS + 1) / FULL_DAYS), days=FULL_DAYS + 1, seed=seed)
        (root / "ESTATE_COMPLETE").write_text(f"{summary.total_rows}\n")
        print(f"estate generated in {time.perf_counter() - started:.0f} s:\n{summary}", flush=True)
    return root


def is_new_day(feed, path: Path) -> bool:
    return feed.partitioning == "daily" and NEW_DAY.strftime(feed.landing.date_format) in path.name


def deliver_full(estate: Path, layout: DataLayout) -> None:
    """Every landing file but the eighth day's (hard links: the bytes are the estate's)."""
    for feed in load_declarations(FEEDS_DIR).values():
        source = estate / "landing" / feed.landing_folder
        target = layout.feed_landing(feed.landing_folder)
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(source.iterdir()):
            if not is_new_day(feed, path):
                os.link(path, target / path.name)


def deliver_new_day(estate: Path, layout: DataLayout, keep: float) -> None:
    """The eighth day's file of each daily feed, cut to its first `keep` share of records."""
    for feed in load_declarations(FEEDS_DIR).values():
        for path in sorted((estate / "landing" / feed.landing_folder).iterdir()):
            if not is_new_day(feed, path):
                continue
            target = layout.feed_landing(feed.landing_folder) / path.name
            if feed.format == "parquet":
                table = pq.read_table(path)
                pq.write_table(table.slice(0, max(1, round(table.num_rows * keep))), target)
                continue
            lines = path.read_bytes().splitlines(keepends=True)
            header = lines[:1] if feed.format == "csv" else []
            body = lines[len(header):]
            target.write_bytes(b"".join(header + body[:max(1, round(len(body) * keep))]))


def staged_rows(layout: DataLayout, day: str | None = None) -> int:
    total = 0
    for path in layout.root.glob("lake/*/staged/*.parquet"):
        if day is None or path.stem == day:
            total += pq.ParquetFile(path).metadata.num_rows
    return total


def report(rows: int, runs: list[dict]) -> None:
    print(f"\n== refresh cycle at {rows:,} feed rows (in-process executor; 2 cores shared) ==")
    for run in runs:
        print(f"{run['label']}: {run['wall']:.1f} s wall, peak {run['peak'] / 2**20:,.0f} MB (process tree), "
              f"{run['rows']:,} staged rows new")
        for stage in run["stages"]:
            steps = ", ".join(f"{k} {v:.1f}" for k, v in sorted(stage["steps"].items(), key=lambda kv: -kv[1])[:8])
            print(f"    {stage['name']:28} {stage['wall']:8.1f} s  peak {stage['peak'] / 2**20:7,.0f} MB  [{steps}]")
    if len(runs) == 2:
        full, incremental = runs
        print(f"incremental / full wall time: {incremental['wall'] / full['wall']:.3f} "
              f"({incremental['rows'] / max(full['rows'], 1):.2%} of the rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="feed rows in the full cycle (days 1-7)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/wmp-refresh-benchmark"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-incremental", action="store_true")
    args = parser.parse_args()

    estate = estate_for(args.rows, args.work, args.seed)
    layout = DataLayout(args.work / f"data-{args.rows}")
    if layout.root.exists():
        shutil.rmtree(layout.root)
    layout.root.mkdir(parents=True)
    prepare_instance(layout)  # DAGSTER_HOME and WMP_DATA_DIR, for this process and the step processes
    deliver_full(estate, layout)
    runs = []
    defs = definitions()
    with dg.DagsterInstance.get() as instance:
        full = cycle(defs, layout, instance, "full")
        full["rows"] = staged_rows(layout)
        runs.append(full)
        if not args.skip_incremental:
            deliver_new_day(estate, layout, keep=NEW_SHARE * FULL_DAYS)
            incremental = cycle(defs, layout, instance, "incremental")
            incremental["rows"] = staged_rows(layout, NEW_DAY.isoformat())
            runs.append(incremental)
    report(args.rows, runs)


if __name__ == "__main__":
    sys.exit(main())
