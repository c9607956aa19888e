"""Linking a new partition into a large person hub, clusters updated: incremental vs full rebuild.

Builds a hub of ``--entities`` synthetic entities (1 to 6 mentions each, match edges inside each
entity, review-band noise between entities; among them ``--officers`` officers with
``--officer-records`` records each, joined by certain collar-number edges) in a DuckDB file,
then links a partition of ``--new`` mentions: a record for every officer, and people, most of
them known again (links to one entity's mentions), some new (links among themselves), a few
joining two entities (merges) or on weak links. It
times ``clusters.link_partition`` on the hub (the target: 10,000 mentions into 1,000,000
entities in <= 10 s) against ``clusters.cluster_full`` over all mentions and edges (the peer),
and checks that both give the same entities.

    python benchmarks/incremental_link.py                       # 1,000,000 entities, 10,000 new mentions
    python benchmarks/incremental_link.py --entities 100000 --new 2000
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from wmp_platform.matching.clusters import PERSON_SETTINGS, HubTables, Run, cluster_full, link_partition

TABLES = HubTables.for_kind("person")
MENTIONS_PER_ENTITY = np.array([1, 2, 3, 4, 6])
SHARES = np.array([0.62, 0.22, 0.09, 0.05, 0.02])
STRENGTHS = np.array([0.96, 0.99, 0.9995, 0.99999])  # match probabilities of true pairs


def _mention_ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(prefix, numbers.astype(str)).astype(object))


def hub_tables(entities: int, rng: np.random.Generator) -> tuple[pa.Table, pa.Table, np.ndarray]:
    """Mentions and edges of the existing hub; also each mention's entity (for drawing the new partition)."""
    sizes = rng.choice(MENTIONS_PER_ENTITY, size=entities, p=SHARES)
    owner = np.repeat(np.arange(entities), sizes)
    count = len(owner)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    days = rng.integers(1, 29, count)
    mentions = pa.table({
        "mention_id": _mention_ids("person_index|", np.arange(count)),
        "partition": pa.array(np.char.add("2026-09-", np.char.zfill(days.astype(str), 2)).astype(object)),
    })
    left, right = [], []
    for size in np.unique(sizes[sizes > 1]):
        first = starts[sizes == size]
        for i in range(size):
            for j in range(i + 1, size):
                left.append(first + i)
                right.append(first + j)
    left, right = np.concatenate(left), np.concatenate(right)
    keep = rng.random(len(left)) < 0.85  # blocking does not compare every true pair
    left, right = left[keep], right[keep]
    noise = entities // 20
    left = np.concatenate([left, rng.integers(0, count, noise)])
    right = np.concatenate([right, rng.integers(0, count, noise)])
    probability = np.concatenate([rng.choice(STRENGTHS, keep.sum(), p=[0.05, 0.15, 0.3, 0.5]),
                                  rng.uniform(0.5, 0.94, noise)])
    distinct = left != right
    edges = _edges(_mention_ids("person_index|", left[distinct]), _mention_ids("person_index|", right[distinct]),
                   probability[distinct])
    return mentions, edges, owner


def _edges(left: pa.Array, right: pa.Array, probability: np.ndarray) -> pa.Table:
    return pa.table({"mention_id_l": left, "mention_id_r": right, "match_probability": probability,
                     "match_weight": np.log2(probability / (1 - probability + 1e-12))})


def partition_tables(new: int, owner: np.ndarray, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """A new day's mentions and their edges: 60% known people, 25% new people in pairs, 15% alone;
    1% of the known ones also certain of a second entity (a merge); 5% with a review-band link."""
    ids = _mention_ids("custody|", np.arange(new))
    mentions = pa.table({"mention_id": ids, "partition": pa.array(["2026-10-01"] * new)})
    roll = rng.random(new)
    first_of = np.searchsorted(owner, np.arange(owner.max() + 1))
    known = np.flatnonzero(roll < 0.6)
    target = rng.integers(0, owner.max() + 1, len(known))
    left = [known, known]
    right = [first_of[target], first_of[target] + (owner[np.minimum(first_of[target] + 1, len(owner) - 1)] == target)]
    probability = [rng.choice(STRENGTHS, len(known)), rng.choice(STRENGTHS, len(known))]
    merging = known[: max(1, len(known) // 60)]
    left.append(merging)
    right.append(first_of[rng.integers(0, owner.max() + 1, len(merging))])
    probability.append(np.full(len(merging), 0.99999))
    doubtful = np.flatnonzero(roll > 0.95)
    left.append(doubtful)
    right.append(rng.integers(0, len(owner), len(doubtful)))
    probability.append(rng.uniform(0.5, 0.94, len(doubtful)))
    left, right, probability = np.concatenate(left), np.concatenate(right), np.concatenate(probability)
    pairs_new = np.flatnonzero((roll >= 0.6) & (roll < 0.85))
    pairs_new = pairs_new[: len(pairs_new) // 2 * 2].reshape(-1, 2)
    within = _edges(_mention_ids("custody|", pairs_new[:, 0]), _mention_ids("custody|", pairs_new[:, 1]),
                    rng.choice(STRENGTHS, len(pairs_new)))
    across = _edges(_mention_ids("custody|", left), _mention_ids("person_index|", right), probability)
    return mentions, pa.concat_tables([across, within])


def officer_tables(officers: int, records: int, day: str | None) -> tuple[pa.Table, pa.Table]:
    """Officers: records joined by their collar number, each to the officer's first record (a star of
    certain edges, as the person model gives them). With ``day``: one new record per officer that day."""
    if day is None:
        serials = np.arange(officers * records)
        ids = _mention_ids("duty_roster|", serials)
        partitions = np.char.add("2026-09-", np.char.zfill((1 + serials % 28).astype(str), 2)).astype(object)
        leaves = serials[serials % records != 0]
        anchors = _mention_ids("duty_roster|", leaves - leaves % records)
        mentions = pa.table({"mention_id": ids, "partition": pa.array(partitions)})
        return mentions, _edges(_mention_ids("duty_roster|", leaves), anchors, np.ones(len(leaves)))
    ids = _mention_ids("crime|officer", np.arange(officers))
    mentions = pa.table({"mention_id": ids, "partition": pa.array([day] * officers)})
    return mentions, _edges(ids, _mention_ids("duty_roster|", np.arange(officers) * records), np.ones(officers))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--officers", type=int, default=2_000, help="officers in the hub; each has a new record")
    parser.add_argument("--officer-records", type=int, default=200, help="records per officer in the hub")
    parser.add_argument("--skip-full", action="store_true", help="do not time the full rebuild (the peer)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="wmp-incremental-"))
    try:
        started = time.perf_counter()
        mentions, edges, owner = hub_tables(args.entities - args.officers, rng)
        new_mentions, new_edges = partition_tables(args.new - args.officers, owner, rng)
        if args.officers:
            staff, staff_edges = officer_tables(args.officers, args.officer_records, None)
            on_duty, on_duty_edges = officer_tables(args.officers, args.officer_records, "2026-10-01")
            mentions, edges = pa.concat_tables([mentions, staff]), pa.concat_tables([edges, staff_edges])
            new_mentions = pa.concat_tables([new_mentions, on_duty])
            new_edges = pa.concat_tables([new_edges, on_duty_edges])
        print(f"synthetic hub: {mentions.num_rows:,} mentions, {edges.num_rows:,} edges; new partition: "
              f"{new_mentions.num_rows:,} mentions, {new_edges.num_rows:,} edges "
              f"({time.perf_counter() - started:.1f} s to draw)")

        hub = folder / "hub.duckdb"
        with duckdb.connect(str(hub)) as con:
            for name, table in (("mentions", mentions), ("edges", edges)):
                con.register("_t", table)
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM _t")
                con.unregister("_t")
            started = time.perf_counter()
            built = cluster_full(con, PERSON_SETTINGS, TABLES, mentions="mentions", edges="edges", run=Run("build"))
            print(f"hub built: {built.entities:,} entities from {built.mentions:,} mentions "
                  f"in {time.perf_counter() - started:.1f} s")
        shutil.copy(hub, folder / "peer.duckdb")

        with duckdb.connect(str(hub)) as con:
            con.register("_m", new_mentions)
            con.register("_e", new_edges)
            con.execute("CREATE TEMP TABLE new_mentions AS SELECT * FROM _m")
            con.execute("CREATE TEMP TABLE new_edges AS SELECT * FROM _e")
            started = time.perf_counter()
            report = link_partition(con, PERSON_SETTINGS, TABLES, mentions="new_mentions", edges="new_edges",
                                    run=Run("link"))
            con.execute("CHECKPOINT")
            incremental = time.perf_counter() - started
            result = con.execute(f"SELECT mention_id, entity_id FROM {TABLES.assignments} ORDER BY 1").fetchall()
        print(f"incremental link: {incremental:.2f} s  (target <= 10 s)  {report.attached:,} new mentions joined "
              f"settled entities directly; re-clustered {report.mentions:,} mentions into {report.entities:,} "
              f"entities: {report.new_entities:,} new, {report.merges} merges, {report.splits} splits, "
              f"{report.guarded_components} components cut by the guards")

        if not args.skip_full:
            with duckdb.connect(str(folder / "peer.duckdb")) as con:
                con.register("_m", new_mentions)
                con.register("_e", new_edges)
                con.execute("CREATE TEMP TABLE all_mentions AS SELECT * FROM mentions UNION ALL SELECT * FROM _m")
                con.execute("CREATE TEMP TABLE all_edges AS SELECT * FROM edges UNION ALL SELECT * FROM _e")
                started = time.perf_counter()
                cluster_full(con, PERSON_SETTINGS, TABLES, mentions="all_mentions", edges="all_edges", run=Run("link"))
                con.execute("CHECKPOINT")
                full = time.perf_counter() - started
                same = con.execute(f"SELECT mention_id, entity_id FROM {TABLES.assignments} ORDER BY 1").fetchall() == result
            print(f"full rebuild (peer): {full:.2f} s  -> incremental is {full / incremental:.1f}x faster; "
                  f"same entities: {same}")
        print(f"peak RSS: {peak_rss_mb():,.0f} MB")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
