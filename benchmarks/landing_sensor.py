"""What a landing-sensor tick costs with 16 and 80 feeds and a year of files in each folder.

For each feed count: landing folders holding `--days` daily files per feed (small files, as a
tick's cost is in listing and stat-ing, not in file size, except for hashing new files), then:

- first look: no cursor, nothing loaded (a new deployment): every file is hashed;
- steady tick: the cursor from the first look, nothing new: what nearly every tick costs;
- one new file: a tick that hashes one file and asks for one run;
- 80 one-folder looks: the same steady tick split as one sensor per feed would do it, before
  Dagster's own cost per tick (a call into the code server, a tick record) is added 80 times;
- catch-up: the ingest schedule's look at the last 7 days of every feed (every file hashed).

    python benchmarks/landing_sensor.py [--days 365] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from wmp_platform.declarations import load_declarations
from wmp_platform.landing_watch import LandingCursor, pending_deliveries, recent_partitions, scan_landing
from wmp_platform.storage import DataLayout

REPO = Path(__file__).resolve().parent.parent


def declarations(total: int) -> list:
    """The shipped daily feeds, copied under new names up to `total` (as the 80-feed plan)."""
    shipped = [f for f in load_declarations(REPO / "assets" / "feeds").values() if f.partitioning == "daily"]
    feeds = []
    for index in range(total):
        feed = shipped[index % len(shipped)]
        if index >= len(shipped):
            feed = feed.model_copy(update={"name": f"{feed.name}_{index}"})
        feeds.append(feed)
    return feeds


def land(layout: DataLayout, feeds: list, first: date, days: int) -> int:
    count = 0
    for feed in feeds:
        folder = layout.feed_landing(feed.landing_folder)
        folder.mkdir(parents=True, exist_ok=True)
        for offset in range(days):
            day = first + timedelta(days=offset)
            name = feed.landing.pattern.replace("{date}", day.strftime(feed.landing.date_format))
            (folder / name).write_text(f"{feed.name},{day}\n" * 50)
            count += 1
    return count


def timed(action, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    first = date(2025, 1, 1)
    print(f"landing sensor tick, {args.days} daily files per feed, median of {args.repeat}")
    print(f"{'feeds':>5} {'files':>7} {'first look':>11} {'steady tick':>12} {'one new file':>13} "
          f"{'80 one-folder looks':>20} {'catch-up (7 days)':>18}")
    for total in (16, 80):
        feeds = declarations(total)
        with tempfile.TemporaryDirectory() as tmp:
            layout = DataLayout(Path(tmp))
            files = land(layout, feeds, first, args.days)
            look = dict(settle_seconds=0, hash_budget_seconds=600)
            first_look, scan = timed(lambda: scan_landing(layout, feeds, **look), 1)
            cursor = LandingCursor.from_json(scan.cursor.to_json())
            steady, _ = timed(lambda: scan_landing(layout, feeds, cursor, **look), args.repeat)

            def one_new():
                extra = layout.feed_landing(feeds[0].landing_folder) / feeds[0].landing.pattern.replace(
                    "{date}", (first + timedelta(days=args.days)).strftime(feeds[0].landing.date_format))
                extra.write_text(f"new {time.perf_counter_ns()}\n")
                found = scan_landing(layout, feeds, cursor, **look)
                assert len(found.requests) == 1, found.requests
                extra.unlink()
                return found

            new_file, _ = timed(one_new, args.repeat)
            # one sensor per feed sees only its folder: a landing root per feed, linking to it
            alone = []
            for feed in feeds:
                own = DataLayout(Path(tmp) / "per_feed" / feed.name)
                own.landing.mkdir(parents=True)
                (own.landing / feed.landing_folder).symlink_to(layout.feed_landing(feed.landing_folder))
                alone.append((own, feed, scan_landing(own, [feed], **look).cursor))
            split, _ = timed(lambda: [scan_landing(own, [f], c, **look) for own, f, c in alone], args.repeat)
            today = first + timedelta(days=args.days - 1)
            catch_up, _ = timed(lambda: [pending_deliveries(layout, f, recent_partitions(f, today, 7), settle_seconds=0)
                                         for f in feeds], 1)
            print(f"{total:>5} {files:>7,} {first_look:>10.2f}s {steady * 1000:>10.1f}ms {new_file * 1000:>11.1f}ms "
                  f"{split * 1000:>18.1f}ms {catch_up * 1000:>16.1f}ms")


if __name__ == "__main__":
    main()
