"""Search latency on a large person hub: the published snapshot's index vs scanning the staged feeds.

Running the matcher on millions of mentions takes hours on 2 cores, so the hub is built from a
synthetic *staged* estate whose truth is known: ``--people`` people (names from the synthetic
estate's name groups, dates of birth 1940-2008, a PNC ID for one in five), each mentioned by 1 to
8 records of the staged feeds ``person_index`` and ``custody`` with the estate's recording noise
(nicknames, initials, typing slips, day and month swapped, missing dates). The entities are the
true people (the matcher's place is taken by the truth); everything after it is the platform's
own code: mentions from the staged files (``matching.mentions``), golden records and the
history of names and identifiers (``matching.golden``), POLE events and links
(``matching.relationships``), then ``snapshot.publish_snapshot`` (360 views and search index).
All of it is deterministic from ``--seed``.

Then, in the same run:

- **hub search**: ``search.search_person`` on the published snapshot, for ``--queries`` people
  drawn at random, each by a noisy name (a typo, a nickname or an initial) and the date of
  birth; the same people by name alone; and by PNC ID (those some record gives one for). Latency
  per search (the 360 view of the first hit included; the name index loaded beforehand, once,
  as a service does), how often the right person came first and how often among the 10 hits.
- **naive baseline**: the same name-and-date searches as one SQL query each over the staged
  feeds (the platform's mention SQL over the Parquet files, names compared by Jaro-Winkler, the
  date or its day-month swap), ``--baseline-queries`` of them: what a look-up without the hub
  does. Latency, and how often a record of the right person came first or among the 10 returned.

    python benchmarks/search_latency.py                          # 1,000,000 people
    python benchmarks/search_latency.py --people 100000 --queries 300
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import shutil
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from wmp_platform.declarations import PERSON_ATTRIBUTES, load_declarations
from wmp_platform.hub import build_places_or_vehicles
from wmp_platform.identifiers import install_macros, make_pnc, normalise_vrm
from wmp_platform.matching.clusters import Run
from wmp_platform.matching.golden import (
    golden_records,
    history_tables,
    load_survivorship,
)
from wmp_platform.matching.mentions import entity_mentions_sql, person_mentions_sql
from wmp_platform.matching.relationships import pole_events, pole_links
from wmp_platform.search import person_index, search_person
from wmp_platform.snapshot import (
    current_snapshot,
    open_published,
    publish_snapshot,
    snapshots,
)
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic.names import NAME_GROUPS, NAME_VARIANTS
from wmp_platform.synthetic.noise import swap_day_month, typo
from wmp_platform.synthetic.population import _vehicles

REPO = Path(__file__).resolve().parent.parent
FEEDS = {"person_index": 0.4, "custody": 0.6}  # feed -> share of records
REGISTER = "vehicles"  # the vehicle keeper register: staged only when vehicles are asked for
DAYS = 30
FIRST_DAY = date(2026, 9, 1)
STREETS = ("High Street", "Church Road", "Station Road", "Victoria Road", "Green Lane", "Park Road", "Mill Lane",
           "Albert Road", "Grange Road", "Stratford Road", "Soho Road", "Coventry Road", "Bristol Road")
TOWNS = ("Birmingham", "Coventry", "Wolverhampton", "Walsall", "Dudley", "West Bromwich", "Solihull")


# --- the synthetic staged estate ---------------------------------------------------------------

def people(count: int, rng: np.random.Generator) -> dict[str, list]:
    """The true people: name group, sex, names, date of birth, PNC ID, address."""
    weights = np.array([g.weight for g in NAME_GROUPS])
    group = rng.choice(len(NAME_GROUPS), size=count, p=weights / weights.sum())
    male = rng.random(count) < 0.5
    pick = rng.random((count, 3))
    forenames, middles, surnames = [], [], []
    for g, m, (a, b, c) in zip(group, male, pick):
        names = NAME_GROUPS[g].male if m else NAME_GROUPS[g].female
        forenames.append(names[int(a * len(names))])
        middles.append(names[int(b * len(names))] if b < 0.4 else None)
        surnames.append(NAME_GROUPS[g].surnames[int(c * len(NAME_GROUPS[g].surnames))])
    start, span = date(1940, 1, 1).toordinal(), (date(2008, 12, 31) - date(1940, 1, 1)).days
    dobs = [date.fromordinal(start + int(d)) for d in rng.integers(0, span, count)]
    has_pnc = rng.random(count) < 0.2
    serials = rng.integers(1, 9_999_999, count)
    years = rng.integers(1990, 2026, count)
    pnc = [make_pnc(int(y), int(s)) if h else None for h, y, s in zip(has_pnc, years, serials)]
    house = rng.integers(1, 250, count)
    street = rng.integers(0, len(STREETS), count)
    town = rng.integers(0, len(TOWNS), count)
    district = rng.integers(1, 39, count)
    inward = rng.integers(0, 9 * 400, count)
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    postcodes = [f"B{d} {i // 400 + 1}{letters[i % 400 // 20]}{letters[i % 20]}" for d, i in zip(district, inward)]
    return {
        "person_id": [f"T{i:07d}" for i in range(count)],
        "forename": forenames, "middle_names": middles, "surname": surnames, "dob": dobs,
        "sex": ["M" if m else "F" for m in male], "pnc_id": pnc,
        "address": [f"{h} {STREETS[s].upper()} {TOWNS[t].upper()}" for h, s, t in zip(house, street, town)],
        "postcode": postcodes,
    }


def noisy_forename(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if roll < 0.04 and NAME_VARIANTS.get(name):
        return rng.choice(NAME_VARIANTS[name])
    if roll < 0.07:
        return name[0]
    if roll < 0.10:
        return typo(rng, name)
    return name


def write_staged(layout: DataLayout, truth: dict[str, list], seed: int, declarations, *, vehicles: int = 0) -> pa.Table:
    """Staged Parquet files of the two feeds (one per day), holding each record's POLE person columns
    and event columns; returns (mention_id, person_id), the truth of every mention.

    With ``vehicles`` (a count), every record also names the person's home (address and postcode) and
    a vehicle keeper register of that many vehicles, each kept by one of the people, is staged too
    (``write_register``), so the hub has places and vehicles to search."""
    rng = random.Random(seed)
    rows: dict[str, dict[tuple[str, str], list]] = {feed: {} for feed in FEEDS}
    truth_ids, truth_people = [], []
    feeds, shares = list(FEEDS), list(FEEDS.values())
    serial = 0
    for i, person in enumerate(truth["person_id"]):
        for _ in range(min(8, 1 + int(rng.expovariate(1 / 1.2)))):
            feed = rng.choices(feeds, shares)[0]
            day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
            serial += 1
            key = f"{'N' if feed == 'person_index' else 'C'}{serial:09d}"
            dob = truth["dob"][i]
            roll = rng.random()
            dob = None if roll < 0.04 else swap_day_month(dob) if roll < 0.05 else dob
            surname = truth["surname"][i]
            if rng.random() < 0.03:
                surname = typo(rng, surname)
            record = {
                "_record_key": key, "forename": noisy_forename(rng, truth["forename"][i]),
                "middle_names": truth["middle_names"][i] if rng.random() < 0.7 else None,
                "surname": surname, "dob": dob, "sex": truth["sex"][i],
                "address": truth["address"][i], "postcode": truth["postcode"][i],
                "pnc_id": truth["pnc_id"][i] if feed == "person_index" or rng.random() < 0.7 else None,
                "event_time": datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60)),
            }
            rows[feed].setdefault(day.isoformat(), []).append(record)
            role = {"person_index": "offender", "custody": "detained"}[feed]
            truth_ids.append(f"{feed}|{key}|{role}")
            truth_people.append(person)
    for feed, days in rows.items():
        declaration = declarations[feed]
        (mapping,) = [m for m in declaration.pole.persons if m.forename]
        folder = layout.layer_dir(feed, "staged")
        folder.mkdir(parents=True, exist_ok=True)
        for day, records in sorted(days.items()):
            columns = event_columns(feed, day, records, "Nominal record" if feed == "person_index" else "Arrest")
            for each in declaration.pole.persons:  # every mapped column; others' roles (an officer) empty
                for attribute in PERSON_ATTRIBUTES:
                    if getattr(each, attribute, None):
                        values = [r.get(attribute) for r in records] if each is mapping else [None] * len(records)
                        columns[f"person_{each.role}_{attribute}"] = pa.array(
                            values, pa.date32() if attribute == "dob" else pa.string())
            if vehicles:
                columns.update(home_columns(declaration, records))
            pq.write_table(pa.table(columns), folder / f"{day}.parquet")
    if vehicles:
        truth_ids, truth_people = write_register(layout, truth, vehicles, seed, declarations[REGISTER],
                                                 (truth_ids, truth_people))
    return pa.table({"mention_id": truth_ids, "person_id": truth_people})


def event_columns(feed: str, day: str, records: list[dict], event_type: str) -> dict[str, pa.Array | list]:
    """A staged partition's lineage and event columns, each record its own event."""
    return {
        "_record_key": [r["_record_key"] for r in records],
        "_source_file": [f"{feed}_{day.replace('-', '')}.synthetic"] * len(records),
        "_row_number": pa.array(range(1, len(records) + 1), pa.int64()),
        "_partition": [day] * len(records),
        "event_id": [r["_record_key"] for r in records],
        "event_time": pa.array([r["event_time"] for r in records], pa.timestamp("us")),
        "event_type": [event_type] * len(records),
    }


def home_columns(declaration, records: list[dict]) -> dict[str, pa.Array]:
    """The feed's location columns: its ``home`` role holds the record's address and postcode, any
    other role (a custody suite's UPRN) is empty."""
    columns = {}
    for canonical, attribute, _ in declaration.pole.pole_columns():
        if canonical.startswith("location_"):
            home = canonical.startswith("location_home_")
            columns[canonical] = pa.array([r.get(attribute) if home else None for r in records], pa.string())
    return columns


def write_register(layout: DataLayout, truth: dict[str, list], count: int, seed: int, declaration,
                   mention_truth: tuple[list, list]) -> tuple[list, list]:
    """The vehicle keeper register: ``count`` vehicles (the synthetic population's registrations,
    makes and colours), each with one of the people as keeper at their address, one record per
    vehicle over the same days. Appends the keepers' mentions to ``mention_truth`` and returns it."""
    rng = random.Random(seed + 2)
    keepers = [SimpleNamespace(index=i, dob=dob) for i, dob in enumerate(truth["dob"])]
    days: dict[str, list[dict]] = {}
    truth_ids, truth_people = mention_truth
    for serial, vehicle in enumerate(_vehicles(rng, keepers, count, FIRST_DAY + timedelta(days=DAYS)), 1):
        i = vehicle.keeper.index
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        key = f"R{serial:09d}"
        days.setdefault(day.isoformat(), []).append({
            "_record_key": key, "registration": normalise_vrm(vehicle.registration), "make": vehicle.make,
            "model": vehicle.model, "colour": vehicle.colour, "forename": truth["forename"][i],
            "surname": truth["surname"][i], "dob": truth["dob"][i], "address": truth["address"][i],
            "postcode": truth["postcode"][i],
            "event_time": datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60)),
        })
        truth_ids.append(f"{REGISTER}|{key}|keeper")
        truth_people.append(truth["person_id"][i])
    folder = layout.layer_dir(REGISTER, "staged")
    folder.mkdir(parents=True, exist_ok=True)
    for day, records in sorted(days.items()):
        columns = event_columns(REGISTER, day, records, "NEW_KEEPER")
        for canonical, attribute, _ in declaration.pole.pole_columns():
            if not canonical.startswith("event_"):
                columns[canonical] = pa.array([r.get(attribute) for r in records],
                                              pa.date32() if attribute == "dob" else pa.string())
        pq.write_table(pa.table(columns), folder / f"{day}.parquet")
    return truth_ids, truth_people


def build_hub(layout: DataLayout, mention_truth: pa.Table, declarations) -> dict[str, float]:
    """The hub in the warehouse's entities schema: the true people as entities, then the platform's
    golden records, history and POLE links. When the vehicle register was staged, vehicles and places
    are the platform's own (``hub.build_places_or_vehicles``: the register and the homes' addresses)."""
    feeds = {name: declarations[name] for name in (*FEEDS, REGISTER) if layout.layer_dir(name, "staged").is_dir()}
    places = REGISTER in feeds
    timings = {}
    with duckdb.connect(str(layout.warehouse)) as con:
        install_macros(con)
        con.execute("SET preserve_insertion_order = false")
        con.execute("CREATE SCHEMA IF NOT EXISTS entities")
        con.execute("USE entities")
        started = time.perf_counter()
        con.execute(f"CREATE TABLE person_mentions AS {person_mentions_sql(layout, feeds)}")
        con.register("mention_truth", mention_truth)
        con.execute("""
            CREATE TABLE person_assignments AS
            SELECT m.mention_id, m.partition, 'P-' || upper(left(md5(t.person_id), 12)) AS entity_id
            FROM person_mentions m JOIN mention_truth t USING (mention_id)""")
        con.unregister("mention_truth")
        for kind in ("vehicle", "location"):
            if places:
                continue
            # no vehicles or places in this estate: the tables, empty
            con.execute(f"CREATE TABLE {kind}_mentions AS {entity_mentions_sql(layout, [], kind)}")
            con.execute(f"CREATE TABLE {kind}_assignments AS SELECT mention_id, partition, NULL::VARCHAR AS entity_id "
                        f"FROM {kind}_mentions")
        timings["mentions"] = time.perf_counter() - started
        if places:
            started = time.perf_counter()
            for kind in ("vehicle", "location"):
                build_places_or_vehicles(con, layout, feeds, Run("benchmark"), kind)
            timings["vehicles_and_places"] = time.perf_counter() - started
        started = time.perf_counter()
        load_survivorship(con)
        for kind in ("person",) if places else ("person", "vehicle", "location"):  # the others have theirs
            golden_records(con, kind, mentions=f"{kind}_mentions", assignments=f"{kind}_assignments")
            history_tables(con, kind, mentions=f"{kind}_mentions", assignments=f"{kind}_assignments")
        timings["golden_and_history"] = time.perf_counter() - started
        started = time.perf_counter()
        pole_events(con, layout, feeds)
        pole_links(con, feeds, mentions={k: f"{k}_mentions" for k in ("person", "vehicle", "location")},
                   assignments={k: f"{k}_assignments" for k in ("person", "vehicle", "location")})
        timings["pole_links"] = time.perf_counter() - started
    return timings


# --- queries --------------------------------------------------------------------------------------

def queries(truth: dict[str, list], count: int, seed: int) -> list[dict]:
    """People drawn at random with a noisy name: a typo, a nickname or an initial, in turn."""
    rng = random.Random(seed + 1)
    picked = rng.sample(range(len(truth["person_id"])), count)
    out = []
    for n, i in enumerate(picked):
        forename, surname = truth["forename"][i], truth["surname"][i]
        noise = ("typo", "nickname", "initial")[n % 3]
        if noise == "nickname" and NAME_VARIANTS.get(forename):
            forename = rng.choice(NAME_VARIANTS[forename])
        elif noise == "initial":
            forename = forename[0]
        else:
            noise = "typo"
            if rng.random() < 0.5 and len(surname) > 3:
                surname = typo(rng, surname)
            else:
                forename = typo(rng, forename)
        out.append({"person_id": truth["person_id"][i], "name": f"{forename} {surname}", "noise": noise,
                    "dob": truth["dob"][i], "pnc_id": truth["pnc_id"][i], "surname": surname, "forename": forename})
    return out


def percentiles(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    return (statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
            max(ordered) * 1000)


def recorded_pnc(layout: DataLayout, declarations, mention_truth: pa.Table) -> set[str]:
    """The people some staged record gives a PNC ID for: the only ones a PNC ID can find."""
    feeds = {name: declarations[name] for name in FEEDS}
    with duckdb.connect() as con:
        con.register("mention_truth", mention_truth)
        return {p for (p,) in con.execute(f"""
            SELECT DISTINCT t.person_id FROM ({person_mentions_sql(layout, feeds)}) m JOIN mention_truth t USING (mention_id)
            WHERE m.pnc_id IS NOT NULL""").fetchall()}


def run_hub_searches(layout: DataLayout, asked: list[dict], entity_of: dict[str, str],
                     with_pnc: set[str]) -> tuple[dict[str, tuple], float]:
    """Latency, right-first and right-in-the-hits counts per kind of search; and the seconds the name
    index took to load."""
    results = {}
    with open_published(layout) as con:
        started = time.perf_counter()
        person_index(con, con.execute("SELECT snapshot_id FROM published.manifest").fetchall()[0][0])
        load_seconds = time.perf_counter() - started
        for label, call in (
            ("name + dob", lambda q: search_person(con, q["name"], q["dob"])),
            ("name only", lambda q: search_person(con, q["name"])),
            ("pnc id", lambda q: search_person(con, q["pnc_id"])),
        ):
            times, first, listed = [], 0, 0
            chosen = [q for q in asked if q["person_id"] in with_pnc] if label == "pnc id" else asked
            search_person(con, chosen[0]["name"] if label != "pnc id" else chosen[0]["pnc_id"])  # warm the cache
            for q in chosen:
                started = time.perf_counter()
                result = call(q)
                times.append(time.perf_counter() - started)
                found = [hit.entity_id for hit in result.hits]
                first += found[:1] == [entity_of[q["person_id"]]]
                listed += entity_of[q["person_id"]] in found
            results[label] = (len(chosen), *percentiles(times), first, listed)
    return results, load_seconds


def run_baseline(layout: DataLayout, asked: list[dict], declarations, mention_truth: pa.Table) -> tuple:
    feeds = {name: declarations[name] for name in FEEDS}
    scan = person_mentions_sql(layout, feeds)
    times, first, listed = [], 0, 0
    with duckdb.connect() as con:
        con.register("mention_truth", mention_truth)
        for q in asked:
            forename, surname = q["forename"].upper(), q["surname"].upper()
            swapped = swap_day_month(q["dob"])
            started = time.perf_counter()
            rows = con.execute(f"""
                SELECT mention_id, forename, surname, dob,
                       jaro_winkler_similarity(upper(surname), $surname)
                         + CASE WHEN upper(forename) = $forename THEN 1
                                WHEN length($forename) = 1 AND upper(left(forename, 1)) = $forename THEN 0.85
                                ELSE jaro_winkler_similarity(upper(forename), $forename) END
                         + CASE WHEN dob = $dob THEN 1 ELSE 0.8 END AS score
                FROM ({scan}) m
                WHERE (dob = $dob OR dob = $swapped) AND jaro_winkler_similarity(upper(surname), $surname) >= 0.8
                ORDER BY score DESC LIMIT 10""", {"surname": surname, "forename": forename, "dob": q["dob"],
                                                   "swapped": swapped}).fetchall()
            times.append(time.perf_counter() - started)
            people = [con.execute("SELECT person_id FROM mention_truth WHERE mention_id = ?", [r[0]]).fetchall()[0][0]
                      for r in rows]
            first += people[:1] == [q["person_id"]]
            listed += q["person_id"] in people
    return (len(asked), *percentiles(times), first, listed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries", type=int, default=1000, help="hub searches of each kind")
    parser.add_argument("--baseline-queries", type=int, default=30, help="searches by scanning the staged feeds")
    parser.add_argument("--data-dir", type=Path, default=None, help="keep the estate here (default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the estate, hub and snapshot already in --data-dir (publish only if none is)")
    args = parser.parse_args()
    root = args.data_dir or Path(tempfile.mkdtemp(prefix="wmp-search-"))
    layout = DataLayout(root)
    declarations = load_declarations(REPO / "assets" / "feeds")
    try:
        started = time.perf_counter()
        truth = people(args.people, np.random.default_rng(args.seed))
        truth_file = layout.ground_truth / "mentions.parquet"
        if args.reuse and truth_file.exists():
            mention_truth, timings = pq.read_table(truth_file), {}
            generated = time.perf_counter() - started
        else:
            for old in (layout.lake, layout.ground_truth, layout.root / "published"):
                shutil.rmtree(old, ignore_errors=True)
            layout.warehouse.unlink(missing_ok=True)
            mention_truth = write_staged(layout, truth, args.seed, declarations)
            truth_file.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(mention_truth, truth_file)
            generated = time.perf_counter() - started
            timings = build_hub(layout, mention_truth, declarations)
        started = time.perf_counter()
        if args.reuse and snapshots(layout):
            published, publish_seconds = None, None
        else:
            published = publish_snapshot(layout)
            publish_seconds = time.perf_counter() - started
        entity_of = {p: "P-" + hashlib.md5(p.encode()).hexdigest()[:12].upper() for p in truth["person_id"]}
        asked = queries(truth, args.queries, args.seed)
        hub, load_seconds = run_hub_searches(layout, asked, entity_of, recorded_pnc(layout, declarations, mention_truth))
        baseline = run_baseline(layout, asked[: args.baseline_queries], declarations, mention_truth)
        size = sum(p.stat().st_size for p in layout.lake.rglob("*.parquet"))
        print(f"estate: {args.people:,} people, {mention_truth.num_rows:,} staged records in {FEEDS} "
              f"({size / 1e6:,.0f} MB Parquet), generated in {generated:.0f} s")
        print("hub build: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + " (entities = the truth)")
        if published:
            print(f"publish: {publish_seconds:.0f} s ({published.copy_seconds:.0f} s copying); "
                  f"snapshot {published.path.stat().st_size / 1e6:,.0f} MB; "
                  f"{published.rows['search.person_names']:,} names indexed")
        else:
            print(f"publish: reused {current_snapshot(layout).name}")
        print(f"name index loaded in {load_seconds:.1f} s (once per snapshot and process)")
        print()
        print(f"{'search':<34} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'right first':>12} "
              f"{'in the hits':>12}")
        rows = [("hub snapshot, " + label, figures) for label, figures in hub.items()]
        for label, (n, p50, p95, top, first, listed) in [*rows, ("scan staged feeds, name + dob", baseline)]:
            print(f"{label:<34} {n:>7} {p50:>8.1f} {p95:>8.1f} {top:>8.1f} {first / n:>11.1%} {listed / n:>11.1%}")
        n, p50, p95, top, first, listed = baseline
        hub_p50, hub_p95 = hub["name + dob"][1], hub["name + dob"][2]
        print(f"\nname + dob: the scan takes {p50 / hub_p50:,.0f}x the hub's median and {p95 / hub_p95:,.0f}x its p95; "
              f"target p95 <= 50 ms: {'met' if hub_p95 <= 50 else 'NOT met'}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {peak:,.0f} MB")
    finally:
        if args.data_dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
