"""raw -> staged throughput and peak memory at scale, beside a plain DuckDB copy as the floor.

Generates a synthetic estate of --rows feed rows (or reuses --data-dir), then, on a pool of
--workers processes (one task per feed and partition, as Dagster's multiprocess executor
would run them):

  raw     landing files -> raw Parquet (lossless text, lineage, checksums, dedupe)
  staged  raw Parquet -> staged + quarantine Parquet (typing, normal forms, POLE columns)
  floor   landing files -> Parquet with DuckDB's own readers and nothing else
          (no lineage, no typing, no checks): what any loader must at least spend

and prints rows/s, peak resident memory of a worker, and our time over the floor's.

    python benchmarks/ingest_throughput.py --rows 10000000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb

from wmp_platform import ingest
from wmp_platform.declarations import load_declarations
from wmp_platform.landing import landing_files
from wmp_platform.sql import sql_literal
from wmp_platform.storage import DataLayout

FEEDS = Path(__file__).resolve().parent.parent / "assets" / "feeds"

FLOOR_READERS = {
    "csv": "read_csv({path}, all_varchar = true)",
    "jsonl": "read_json({path}, format = 'newline_delimited')",
    "parquet": "read_parquet({path})",
    "fixed_width": "read_csv({path}, header = false, all_varchar = true, delim = '\\x1f', quote = '', columns = {{'line': 'VARCHAR'}})",
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_task(task: tuple[str, str, str, str]) -> tuple[str, int, float, float]:
    step, root, feed_name, partition = task
    layout = DataLayout(Path(root))
    feed = load_declarations(FEEDS)[feed_name]
    started = time.perf_counter()
    if step == "raw":
        rows = ingest.load_raw(layout, feed, partition).rows
    elif step == "staged":
        rows = ingest.stage(layout, feed, partition).raw_rows
    else:
        rows = 0
        files, _ = landing_files(feed, layout.feed_landing(feed.landing_folder))
        with duckdb.connect() as con:
            for landed in (f for f in files if f.partition == partition):
                source = FLOOR_READERS[feed.format].format(path=sql_literal(str(landed.path)))
                target = Path(root) / "floor" / f"{feed_name}-{landed.path.name}.parquet"
                target.parent.mkdir(exist_ok=True)
                con.execute(f"COPY (SELECT * FROM {source}) TO {sql_literal(str(target))} (FORMAT parquet)")
                rows += con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(str(target))})").fetchone()[0]
    return step, rows, time.perf_counter() - started, peak_rss_mb()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--data-dir", type=Path, default=None, help="reuse an estate already generated here")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_dir or Path(tmp)
        if not (root / "landing").exists():
            from wmp_platform.synthetic import generate_estate

            started = time.perf_counter()
            generate_estate(root, size=args.rows)
            print(f"generated {args.rows:,} target rows in {time.perf_counter() - started:.0f} s")
        layout = DataLayout(root)
        tasks = []
        for feed in load_declarations(FEEDS).values():
            files, _ = landing_files(feed, layout.feed_landing(feed.landing_folder))
            tasks += [(feed.name, p) for p in sorted({f.partition for f in files})]

        results = {}
        for step in ("floor", "raw", "staged"):
            started = time.perf_counter()
            with ProcessPoolExecutor(max_workers=args.workers) as pool:
                done = list(pool.map(run_task, [(step, str(root), f, p) for f, p in tasks]))
            wall = time.perf_counter() - started
            rows = sum(r[1] for r in done)
            results[step] = (rows, wall, max(r[3] for r in done))

    print(f"\n{len(tasks)} feed partitions, {args.workers} worker processes")
    print(f"{'step':<8} {'rows':>12} {'wall s':>8} {'rows/s':>12} {'peak RSS/worker':>16}")
    for step, (rows, wall, rss) in results.items():
        print(f"{step:<8} {rows:>12,} {wall:>8.1f} {rows / wall:>12,.0f} {rss:>13.0f} MB")
    raw, staged, floor = results["raw"], results["staged"], results["floor"]
    print(f"\nraw + staged: {raw[0] / (raw[1] + staged[1]):,.0f} rows/s end to end")
    print(f"raw load over the floor copy: {raw[1] / floor[1]:.2f}x; raw + staged over the floor: "
          f"{(raw[1] + staged[1]) / floor[1]:.2f}x")


if __name__ == "__main__":
    main()
