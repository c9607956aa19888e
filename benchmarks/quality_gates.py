"""What the quality gates add to ingest: every feed partition of an estate loaded and staged
without the gate, then staged again with the gate run by plain DuckDB SQL only, and with the
gate as the assets run it (great-expectations in DuckDB beside the SQL that finds the rows).

    python benchmarks/quality_gates.py --rows 10000000 --data-dir /tmp/bench10m

The steps of one partition run back to back in the same worker, so a busy machine slows
them alike; each step's time is summed over partitions. Reference feeds (gazetteer, duty
roster) go first so that references resolve. Peak memory is the largest resident set of a
worker after its ingest steps and after its gate steps (the gate's is the larger of the two).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from wmp_platform import ingest
from wmp_platform.declarations import load_declarations
from wmp_platform.landing import landing_files
from wmp_platform.quality import derive_rules
from wmp_platform.storage import DataLayout

FEEDS = Path(__file__).resolve().parent.parent / "assets" / "feeds"
STEPS = ("raw", "staged", "staged + gate, SQL only", "staged + gate (great-expectations)")
REFERENCE_FEEDS = ("gazetteer", "duty_roster")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_partition(task: tuple[str, str, str]) -> tuple[int, dict[str, float], float, float]:
    root, feed_name, partition = task
    layout, feed = DataLayout(Path(root)), load_declarations(FEEDS)[feed_name]
    rules = derive_rules(feed, date.today())
    steps = (
        lambda: ingest.load_raw(layout, feed, partition),
        lambda: ingest.stage(layout, feed, partition),
        lambda: ingest.stage(layout, feed, partition, rules, gate_engine="sql"),
        lambda: ingest.stage(layout, feed, partition, rules),
    )
    times = {}
    for name, step in zip(STEPS, steps):
        started = time.perf_counter()
        step()
        times[name] = time.perf_counter() - started
        if name == "staged":
            ingest_peak = peak_rss_mb()
    return ingest.count_rows(layout.partition_file(feed.name, "raw", partition)), times, ingest_peak, peak_rss_mb()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000, help="estate size when it has to be generated")
    parser.add_argument("--data-dir", type=Path, default=None, help="reuse an estate already generated here")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_dir or Path(tmp)
        if not (root / "landing").exists():
            from wmp_platform.synthetic import generate_estate

            generate_estate(root, size=args.rows)
        layout = DataLayout(root)
        tasks = []
        for feed in sorted(load_declarations(FEEDS).values(), key=lambda f: f.name not in REFERENCE_FEEDS):
            files, _ = landing_files(feed, layout.feed_landing(feed.landing_folder))
            tasks += [(str(root), feed.name, p) for p in sorted({f.partition for f in files})]
        references = [t for t in tasks if t[1] in REFERENCE_FEEDS]
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            done = list(pool.map(run_partition, references)) + list(pool.map(run_partition, tasks[len(references):]))
        wall = time.perf_counter() - started

    rows = sum(d[0] for d in done)
    seconds = {step: sum(d[1][step] for d in done) for step in STEPS}
    print(f"{len(tasks)} feed partitions, {rows:,} rows, {args.workers} workers, {wall:.0f} s in all\n")
    print(f"{'step':<38} {'worker s':>9} {'rows/s/worker':>14}")
    for step, spent in seconds.items():
        print(f"{step:<38} {spent:>9.1f} {rows / spent:>14,.0f}")
    ingest_s = seconds["raw"] + seconds["staged"]
    sql = seconds["staged + gate, SQL only"] - seconds["staged"]
    gx = seconds["staged + gate (great-expectations)"] - seconds["staged"]
    print(f"\ningest (raw + staged): {ingest_s:.1f} worker s")
    print(f"gate, SQL only:               +{sql:.1f} s = {sql / ingest_s:+.1%} of ingest")
    print(f"gate with great-expectations: +{gx:.1f} s = {gx / ingest_s:+.1%} of ingest "
          f"({gx / sql:.2f}x the SQL-only gate)")
    print(f"peak RSS/worker: {max(d[2] for d in done):.0f} MB after ingest, {max(d[3] for d in done):.0f} MB after the gates")


if __name__ == "__main__":
    main()
