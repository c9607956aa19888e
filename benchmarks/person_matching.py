"""Person matching at scale: the platform's refresh against a cold out-of-the-box Splink run and
recordlinkage, on the same synthetic person records; then a new partition linked into the hub.

    python benchmarks/person_matching.py --records 100000
    python benchmarks/person_matching.py --records 100000 1000000 --recordlinkage-max 100000
    python benchmarks/person_matching.py --records 1000000 --only link   # again, on the hub built before

Records: people of the synthetic population (``synthetic.population``) as source systems record
them (``synthetic.noise``: typing slips, nicknames and initials, former surnames, day/month
swaps, stale addresses, blanks, identifiers and postcodes written other ways), in five record
shapes (custody, crime victim, caller, keeper, nominal index), normalised by the staging
macros. Deterministic for a seed; ground truth is each record's person. ``--records`` N makes
N hub records plus a partition of ``--new`` records (people seen before and people new).

Each contender runs in its own process, so its peak resident memory is its own:

- **train**: ``train_person_model`` (on its own schedule in the platform, not part of a refresh);
- **refresh**: the trained model reused: the hub's matching features (``write_person_features``,
  kept for later partitions), its edges (``write_person_pairs``, probability >= the review
  threshold) and the hub's clustering (``clusters.cluster_full``) into a DuckDB file;
- **cold Splink**: Splink as its tutorial sets it up (one library comparison per column, term
  frequencies on names, the same blocking rules on the same normalised values), trained and run
  from nothing, clustered by Splink's connected components at the same threshold;
- **recordlinkage**: the same blocks, its comparisons and the ECM classifier (unsupervised),
  connected components; only up to ``--recordlinkage-max`` records (it is pandas and slow);
- **link**: the new partition scored against the hub (its kept features) and within itself, and
  the hub's clusters updated (``clusters.link_partition``); target <= 10 s for 10,000 records into
  1,000,000.

Precision, recall and F1 are counted over the pairs the clusters put together (``accuracy``).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from wmp_platform.ingest import connect
from wmp_platform.matching.accuracy import cluster_accuracy
from wmp_platform.matching.clusters import (
    PERSON_SETTINGS,
    HubTables,
    Run,
    cluster_full,
    link_partition,
)
from wmp_platform.matching.person_model import (
    BLOCKING_RULES,
    candidate_pairs,
    load_person_model,
    person_features,
    predict_person_pairs,
    save_person_model,
    train_person_model,
    write_person_features,
    write_person_pairs,
)
from wmp_platform.synthetic import noise
from wmp_platform.synthetic.noise import Quality
from wmp_platform.synthetic.population import PopulationSize, build_population
from wmp_platform.synthetic.sampling import WeightedChoice, pick

TODAY = date(2026, 10, 1)
THRESHOLD = PERSON_SETTINGS.match_threshold
TABLES = HubTables.for_kind("person")
ATTRIBUTES = ("forename", "middle_names", "surname", "dob", "sex", "address", "postcode", "phone", "pnc_id",
              "cro_number", "ni_number")
# record shapes: (name, share, its error rates, the attributes it records)
SHAPES = (
    ("custody", 0.2, Quality(typo=0.01, variant=0.05, former_surname=0.2, dob_swap=0.004, missing=0.02),
     ("forename", "middle_names", "surname", "dob", "sex", "address", "postcode", "pnc_id", "cro_number")),
    ("victim", 0.3, Quality(typo=0.015, variant=0.04, former_surname=0.2, dob_swap=0.006, missing=0.04),
     ("forename", "surname", "dob", "sex", "address", "postcode", "phone")),
    ("caller", 0.2, Quality(typo=0.03, variant=0.08, missing=0.06), ("forename", "surname", "phone")),
    ("keeper", 0.15, Quality(typo=0.005, variant=0.02, former_surname=0.25, dob_swap=0.002, missing=0.2),
     ("forename", "surname", "dob", "address", "postcode")),
    ("nominal", 0.15, Quality(typo=0.005, variant=0.01, former_surname=0.1, dob_swap=0.002, missing=0.03),
     ("forename", "middle_names", "surname", "dob", "sex", "address", "postcode", "pnc_id", "cro_number", "ni_number")),
)
RECORDS_PER_PERSON = WeightedChoice(((1, 0.35), (2, 0.25), (3, 0.15), (4, 0.1), (6, 0.08), (10, 0.05), (25, 0.02)))


# --- the records -------------------------------------------------------------------------


def generate(total: int, seed: int, path: Path) -> None:
    """``total`` person records with their person, in a random order, as one Parquet file."""
    rng = random.Random(seed)
    shares = WeightedChoice(tuple((shape, shape[1]) for shape in SHAPES))
    population = build_population(seed, PopulationSize(people=max(300, total // 3), officers=10, cameras=1), TODAY)
    people = population.people
    rows: dict[str, list] = {c: [] for c in ("mention_id", "person_id", *ATTRIBUTES)}
    while len(rows["mention_id"]) < total:
        person = pick(rng, people)
        for _ in range(RECORDS_PER_PERSON(rng)):
            name, _, quality, recorded = shares(rng)
            view = noise.person_view(rng, person, quality)
            address = noise.address_text(rng, view.address, quality) if view.address else None
            values = {
                "forename": view.forename, "middle_names": view.middle_names, "surname": view.surname,
                "dob": view.dob, "sex": view.sex, "address": address,
                "postcode": noise.postcode(rng, view.address.postcode, quality) if view.address else None,
                "phone": view.phone, "pnc_id": view.pnc_id, "cro_number": view.cro_number, "ni_number": view.ni_number,
            }
            rows["mention_id"].append(f"{name}|{len(rows['mention_id'])}")
            rows["person_id"].append(person.person_id)
            for attribute in ATTRIBUTES:
                rows[attribute].append(values[attribute] if attribute in recorded else None)
    order = list(range(total))
    rng.shuffle(order)
    table = pa.table({c: pa.array(v[:total], pa.date32() if c == "dob" else pa.string()) for c, v in rows.items()}).take(order)
    with connect() as con:  # the staging macros: records arrive as staged rows would
        con.register("records", table)
        normalised = con.sql("""
            SELECT mention_id, person_id, CASE WHEN row_number() OVER () <= $hub THEN 'hub' ELSE 'new' END AS partition,
                   wmp_name(forename) AS forename, wmp_name(middle_names) AS middle_names, wmp_name(surname) AS surname,
                   dob, wmp_sex(sex) AS sex, wmp_address(address) AS address, wmp_postcode(postcode) AS postcode,
                   wmp_phone(phone) AS phone, wmp_pnc(pnc_id) AS pnc_id, wmp_cro(cro_number) AS cro_number,
                   wmp_ni(ni_number) AS ni_number
            FROM records""", params={"hub": HUB_SIZE[0]}).to_arrow_table()
    pq.write_table(normalised, path)


HUB_SIZE = [0]  # set before generate(): the first records are the hub, the rest the new partition


# --- contenders, each in its own process -------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hub(records: Path) -> pa.Table:
    return duckdb.sql(f"SELECT * FROM '{records}' WHERE partition = 'hub'").to_arrow_table()


def _truth(records: Path, partitions: tuple[str, ...] = ("hub",)) -> pa.Table:
    return duckdb.sql(f"SELECT mention_id, person_id AS truth_id FROM '{records}' "
                      f"WHERE partition IN {partitions if len(partitions) > 1 else repr(partitions[0]).join('()')}").to_arrow_table()


def peer_records(hub: pa.Table) -> pa.Table:
    """The records as the peers get them: the same normalised values, and the columns the shared
    blocking rules read."""
    con = duckdb.connect()
    con.register("hub", hub)
    con.register("features", person_features(hub))
    return con.sql("""
        SELECT f.mention_id, f.forename, f.surname, f.dob, f.sex, h.address, f.postcode, f.phone, f.pnc_id,
               f.cro_number, f.ni_number, f.street_key
        FROM features f JOIN hub h USING (mention_id) WHERE f.comparable""").to_arrow_table()


def step_train(work: Path, records: Path) -> dict:
    hub = _hub(records)
    started = time.perf_counter()
    model = train_person_model(hub)
    wall = time.perf_counter() - started
    save_person_model(model, work / "model.json")
    return {"wall": wall}


def step_refresh(work: Path, records: Path) -> dict:
    hub = _hub(records)
    model = load_person_model(work / "model.json")
    (work / "hub.duckdb").unlink(missing_ok=True)
    started = time.perf_counter()
    # features kept beside the hub's mentions (for linking partitions later); edges from DuckDB to
    # Parquet without passing through Python memory
    write_person_features(hub, work / "hub_features.parquet")
    edges = write_person_pairs(work / "edges.parquet", work / "hub_features.parquet", model,
                               threshold=PERSON_SETTINGS.review_threshold)
    con = duckdb.connect(str(work / "hub.duckdb"))
    con.register("hub_mentions", hub.select(["mention_id", "partition"]))
    con.execute(f"CREATE TEMP VIEW edges AS SELECT * FROM '{work / 'edges.parquet'}'")
    cluster_full(con, PERSON_SETTINGS, TABLES, mentions="hub_mentions", edges="edges", run=Run("refresh"))
    wall = time.perf_counter() - started
    assigned = con.sql(f"SELECT mention_id, entity_id FROM {TABLES.assignments}").to_arrow_table()
    con.close()
    accuracy = cluster_accuracy(assigned, _truth(records), cluster_column="entity_id")
    return {"wall": wall, "pairs": candidate_pairs(work / "hub_features.parquet"), "edges": edges, **accuracy.as_dict()}


def step_cold(work: Path, records: Path) -> dict:
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink import comparison_library as cl
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    hub = _hub(records)
    started = time.perf_counter()
    con = duckdb.connect()
    con.register("peer_records", peer_records(hub))
    con.execute("CREATE TABLE records AS SELECT * FROM peer_records")
    db_api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="mention_id",
        comparisons=[
            cl.NameComparison("forename").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            cl.ExactMatch("sex"),
            cl.LevenshteinAtThresholds("address", [2, 5]),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("pnc_id"),
            cl.ExactMatch("cro_number"),
            cl.ExactMatch("ni_number"),
        ],
        blocking_rules_to_generate_predictions=list(BLOCKING_RULES),
    )
    linker = Linker(db_api.register("records"), settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match([block_on("forename", "surname", "dob")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("forename", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    predictions = linker.inference.predict(threshold_match_probability=PERSON_SETTINGS.review_threshold)
    clusters = cluster_pairwise_predictions_at_threshold(
        "records", predictions.physical_name, db_api, node_id_column_name="mention_id",
        edge_id_column_name_left="mention_id_l", edge_id_column_name_right="mention_id_r",
        threshold_match_probability=THRESHOLD)
    assigned = con.sql(f"SELECT mention_id, cluster_id FROM {clusters.physical_name}").to_arrow_table()
    wall = time.perf_counter() - started
    return {"wall": wall, "pairs": candidate_pairs(hub), **cluster_accuracy(assigned, _truth(records)).as_dict()}


def step_recordlinkage(work: Path, records: Path) -> dict:
    import numpy as np
    import pandas as pd
    import recordlinkage
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    frame = peer_records(_hub(records)).to_pandas().set_index("mention_id")
    started = time.perf_counter()
    # the platform's blocking rules but the swapped-name one (recordlinkage blocks on equal columns)
    frame["dob_year"] = pd.to_datetime(frame["dob"]).dt.year
    frame["pnc_year"] = frame["pnc_id"].str[:4]
    for column in ("forename", "surname"):
        frame[f"{column}2"] = frame[column].str[:2]
    indexer = recordlinkage.Index()
    for rule in (["forename", "surname", "dob_year"], ["forename", "surname", "street_key"], ["dob", "surname2"],
                 ["dob", "forename2"], ["dob", "postcode"], ["surname", "postcode"], ["forename", "postcode"],
                 ["pnc_id"], ["surname", "pnc_year"], ["cro_number"], ["ni_number"], ["phone"]):
        indexer.block(left_on=rule)
    pairs = indexer.index(frame)
    compare = recordlinkage.Compare()
    compare.string("forename", "forename", method="jarowinkler", threshold=0.88, label="forename")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.88, label="surname")
    compare.exact("dob", "dob", label="dob")
    compare.exact("sex", "sex", label="sex")
    compare.string("address", "address", method="jarowinkler", threshold=0.9, label="address")
    for column in ("postcode", "phone", "pnc_id", "cro_number", "ni_number"):
        compare.exact(column, column, label=column)
    features = compare.compute(pairs, frame)
    links = recordlinkage.ECMClassifier(binarize=0.5).fit_predict(features)
    position = {m: i for i, m in enumerate(frame.index)}
    left = np.array([position[m] for m in links.get_level_values(0)], dtype=np.int64)
    right = np.array([position[m] for m in links.get_level_values(1)], dtype=np.int64)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(len(frame), len(frame)))
    _, labels = connected_components(graph, directed=False)
    wall = time.perf_counter() - started
    assigned = pa.table({"mention_id": list(frame.index), "cluster_id": labels.astype(str)})
    return {"wall": wall, "pairs": len(pairs), **cluster_accuracy(assigned, _truth(records)).as_dict()}


def step_link(work: Path, records: Path) -> dict:
    new = duckdb.sql(f"SELECT * FROM '{records}' WHERE partition = 'new'").to_arrow_table()
    model = load_person_model(work / "model.json")
    linked = work / "linked.duckdb"
    linked.write_bytes((work / "hub.duckdb").read_bytes())
    con = duckdb.connect(str(linked))
    import splink  # noqa: F401  (a service linking partitions has it loaded: its import is not the link's time)
    started, cpu_started = time.perf_counter(), time.process_time()
    edges = predict_person_pairs(work / "hub_features.parquet", model, new_mentions=new,
                                 threshold=PERSON_SETTINGS.review_threshold)
    scored = time.perf_counter() - started
    con.register("new_mentions", new.select(["mention_id", "partition"]))
    con.register("new_edges", edges)
    link_partition(con, PERSON_SETTINGS, TABLES, mentions="new_mentions", edges="new_edges", run=Run("link"))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assigned = con.sql(f"SELECT mention_id, entity_id FROM {TABLES.assignments}").to_arrow_table()
    con.close()
    accuracy = cluster_accuracy(assigned, _truth(records, ("hub", "new")), cluster_column="entity_id")
    return {"wall": wall, "cpu": cpu, "scored": scored, "pairs": edges.num_rows, "new": new.num_rows,
            **accuracy.as_dict()}


STEPS = {"train": step_train, "refresh": step_refresh, "cold Splink": step_cold, "recordlinkage": step_recordlinkage,
         "link": step_link}


def run_step(step: str, work: Path, records: Path, timeout: float) -> dict:
    command = [sys.executable, __file__, "--step", step, "--work-dir", str(work), "--records-file", str(records)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"skipped": f"over {timeout:.0f} s"}
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "Error" in line or "Exception" in line]
        return {"skipped": f"failed: {errors[-1] if errors else done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(records: int, results: dict[str, dict]) -> None:
    print(f"\n{records:,} person records")
    print(f"{'step':16} {'wall s':>8} {'peak MB':>8} {'pairs':>12} {'precision':>9} {'recall':>7} {'F1':>7}")
    for step, r in results.items():
        if "skipped" in r:
            print(f"{step:16} skipped ({r['skipped']})")
            continue
        scores = (f"{r['precision']:>9.4f} {r['recall']:>7.4f} {r['f1']:>7.4f}" if "f1" in r else "")
        print(f"{step:16} {r['wall']:>8.1f} {r['peak_mb']:>8.0f} {r.get('pairs', ''):>12,} {scores}"
              if isinstance(r.get("pairs"), int) else f"{step:16} {r['wall']:>8.1f} {r['peak_mb']:>8.0f} {'':>12} {scores}")
    refresh, cold = results.get("refresh", {}), results.get("cold Splink", {})
    if "wall" in refresh and "wall" in cold:
        print(f"refresh vs cold Splink: {cold['wall'] / refresh['wall']:.1f}x faster; "
              f"F1 {refresh['f1']:.4f} vs {cold['f1']:.4f}")
    if "wall" in results.get("link", {}):
        link = results["link"]
        print(f"link: {link['new']:,} new records into {records:,} in {link['wall']:.1f} s "
              f"(scoring {link['scored']:.1f} s, {link['pairs']:,} edges; {link['cpu']:.1f} CPU-seconds over both cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100_000], help="hub sizes, in person records")
    parser.add_argument("--new", type=int, default=10_000, help="records in the partition linked afterwards")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--recordlinkage-max", type=int, default=100_000, help="largest size recordlinkage is run at")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds a contender may take")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/wmp-person-matching"))
    parser.add_argument("--only", nargs="+", choices=STEPS, default=list(STEPS), metavar="STEP",
                        help="run only these steps (link reuses the work folder's trained model and refreshed hub)")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--records-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        result = STEPS[args.step](args.work_dir, args.records_file)
        print(json.dumps({**result, "peak_mb": peak_rss_mb()}))
        return
    for size in args.records:
        work = args.work_dir / str(size)
        work.mkdir(parents=True, exist_ok=True)
        records = work / f"records_seed{args.seed}_new{args.new}.parquet"
        if not records.exists():
            started = time.perf_counter()
            HUB_SIZE[0] = size
            generate(size + args.new, args.seed, records)
            print(f"generated {size + args.new:,} records in {time.perf_counter() - started:.0f} s: {records}")
        results = {}
        for step in args.only:
            if step == "recordlinkage" and size > args.recordlinkage_max:
                results[step] = {"skipped": f"over --recordlinkage-max {args.recordlinkage_max:,}"}
                continue
            results[step] = run_step(step, work, records, args.timeout)
            print(f"  {step}: {results[step]}", flush=True)
        report(size, results)


if __name__ == "__main__":
    main()
