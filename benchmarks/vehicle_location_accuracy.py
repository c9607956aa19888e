"""Vehicle and place resolution against the synthetic estate's ground truth.

Generates an estate (``--size``, default small) or reads one already staged (``--data-dir``),
stages every feed (without the quality gates: they only quarantine rows), resolves every vehicle
and location mention, and scores the entities with ``accuracy.cluster_accuracy`` (pairs of
mentions put together against pairs truly the same). Peers, on the same mentions:

- vehicles: the registration exactly as read (no misread tolerance, no register);
- locations: the UPRN where given, otherwise the address and postcode exactly as written,
  otherwise the exact point (no gazetteer matching).

ANPR reads are most of the vehicle and location mentions (ten cameras hold most place pairs),
so the scores are also given without them.

    python benchmarks/vehicle_location_accuracy.py
    python benchmarks/vehicle_location_accuracy.py --data-dir ~/wmp-data
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from wmp_platform.declarations import load_declarations
from wmp_platform.ingest import connect, load_raw, stage
from wmp_platform.landing import landing_files
from wmp_platform.matching.accuracy import cluster_accuracy, estate_truth
from wmp_platform.matching.clusters import HubTables, Run
from wmp_platform.matching.locations import build_location_entities
from wmp_platform.matching.mentions import entity_mentions_sql
from wmp_platform.matching.vehicles import build_vehicle_entities
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic import generate_estate

FEEDS_DIR = Path(__file__).resolve().parent.parent / "assets" / "feeds"
BUILD = {"vehicle": build_vehicle_entities, "location": build_location_entities}
PEER = {
    "vehicle": "coalesce(registration, 'mention:' || mention_id)",
    "location": "coalesce('uprn:' || uprn, 'place:' || address || '|' || coalesce(postcode, ''), "
                "'point:' || latitude || ',' || longitude, 'mention:' || mention_id)",
}


def stage_estate(layout: DataLayout, feeds) -> int:
    partitions = 0
    for feed in feeds.values():
        files, _ = landing_files(feed, layout.feed_landing(feed.landing_folder))
        for partition in sorted({f.partition for f in files}):
            load_raw(layout, feed, partition)
            stage(layout, feed, partition)
            partitions += 1
    return partitions


def score(con, kind: str, layout: DataLayout, where: str = "true") -> dict[str, object]:
    truth = estate_truth(layout, kind)
    con.register("_truth", truth)
    kept = con.sql(f"SELECT t.* FROM _truth t JOIN {kind}_mentions m USING (mention_id) WHERE {where}").to_arrow_table()
    ours = con.sql(f"SELECT mention_id, entity_id AS cluster_id FROM {kind}_assignments").to_arrow_table()
    peer = con.sql(f"SELECT mention_id, {PEER[kind]} AS cluster_id FROM {kind}_mentions").to_arrow_table()
    con.unregister("_truth")
    return {"ours": cluster_accuracy(ours, kept), "peer": cluster_accuracy(peer, kept)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="an estate already generated and staged")
    parser.add_argument("--size", default="small")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    feeds = load_declarations(FEEDS_DIR)
    with tempfile.TemporaryDirectory(prefix="wmp-accuracy-") as scratch:
        if args.data_dir:
            layout = DataLayout(args.data_dir.expanduser().resolve())
        else:
            layout = DataLayout(Path(scratch) / "data")
            started = time.perf_counter()
            generate_estate(layout.root, size=args.size, seed=args.seed)
            partitions = stage_estate(layout, feeds)
            print(f"estate {args.size} (seed {args.seed}) generated and {partitions} partitions staged "
                  f"in {time.perf_counter() - started:.0f} s")
        with connect() as con:
            for kind in ("vehicle", "location"):
                con.execute(f"CREATE OR REPLACE TEMP TABLE {kind}_mentions AS {entity_mentions_sql(layout, feeds, kind)}")
                started = time.perf_counter()
                report = BUILD[kind](con, HubTables.for_kind(kind), mentions=f"{kind}_mentions", run=Run("accuracy"))
                elapsed = time.perf_counter() - started
                con.register("_truth", estate_truth(layout, kind))
                truth_entities = con.execute(
                    f"SELECT count(DISTINCT truth_id) FROM _truth SEMI JOIN {kind}_mentions USING (mention_id)"
                ).fetchall()[0][0]
                con.unregister("_truth")
                how = ", ".join(f"{n:,} {k}" for k, n in con.execute(
                    f"SELECT resolved_by, count(*) FROM {kind}_assignments GROUP BY 1 ORDER BY 2 DESC").fetchall())
                print(f"\n{kind}s: {report.mentions:,} mentions -> {report.entities:,} entities "
                      f"({truth_entities:,} true ones) in {elapsed:.1f} s; resolved by: {how}")
                for label, where in (("all mentions", "true"), ("without ANPR", "m.feed <> 'anpr'")):
                    scores = score(con, kind, layout, where)
                    ours, peer = scores["ours"], scores["peer"]
                    print(f"  {label:>13}: ours  {ours}")
                    print(f"  {'':>13}  peer  {peer}")
                    print(f"  {'':>13}  recall ours/peer {ours.recall / peer.recall:.3f}, "
                          f"precision ours/peer {ours.precision / peer.precision:.4f}")


if __name__ == "__main__":
    main()
