"""What the quality gates cost: great-expectations in DuckDB against the same rules as plain
DuckDB SQL, over every staged partition of an estate, beside the ingest time itself.

Run after benchmarks/ingest_throughput.py on the same data folder (it leaves the staged files):

    python benchmarks/quality_gates.py --data-dir /tmp/bench10m

Each step runs on a pool of --workers processes, one task per feed partition; peak memory is
the largest resident set of a worker.
"""

from __future__ import annotations

import argparse
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from wmp_platform import ingest
from wmp_platform.declarations import load_declarations
from wmp_platform.quality import derive_rules, personal_columns, run_gate, run_rules_in_sql
from wmp_platform.storage import DataLayout

FEEDS = Path(__file__).resolve().parent.parent / "assets" / "feeds"


def run_task(task: tuple[str, str, str, str]) -> tuple[int, float, float]:
    step, root, feed_name, partition = task
    layout, feed = DataLayout(Path(root)), load_declarations(FEEDS)[feed_name]
    path = layout.partition_file(feed.name, "staged", partition)
    rules = derive_rules(feed, date.today())
    started = time.perf_counter()
    if step == "great_expectations":
        run_gate(path, rules, layout.lake, personal_columns=personal_columns(feed))
    else:
        run_rules_in_sql(path, rules, layout.lake)
    elapsed = time.perf_counter() - started
    return ingest.count_rows(path), elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    layout = DataLayout(args.data_dir)
    tasks = [
        (feed.name, path.stem)
        for feed in load_declarations(FEEDS).values()
        for path in sorted(layout.layer_dir(feed.name, "staged").glob("*.parquet"))
    ]
    print(f"{len(tasks)} staged partitions under {layout.lake}, {args.workers} workers")
    print(f"{'step':<20} {'rows':>12} {'wall s':>8} {'rows/s':>12} {'peak RSS/worker':>16}")
    walls = {}
    for step in ("plain_sql", "great_expectations"):
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            done = list(pool.map(run_task, [(step, str(layout.root), f, p) for f, p in tasks]))
        walls[step] = time.perf_counter() - started
        rows = sum(r[0] for r in done)
        print(f"{step:<20} {rows:>12,} {walls[step]:>8.1f} {rows / walls[step]:>12,.0f} {max(r[2] for r in done):>13.0f} MB")
    print(f"\ngreat-expectations over plain SQL: {walls['great_expectations'] / walls['plain_sql']:.2f}x")


if __name__ == "__main__":
    main()
