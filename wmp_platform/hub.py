"""The POLE hub: every person, vehicle and place in the staged feeds resolved into entities with
stable ids, in the warehouse's ``entities`` schema.

One call per kind, each reading the staged Parquet and writing its tables:

- persons: mentions -> the trained Splink model scores candidate pairs -> clusters with stable
  ids (``matching.clusters``) -> golden records, alias/address/identifier history, and a
  cross-reference from every source record to its entity with the evidence. Incremental when
  staged partitions arrived or were restaged since the last build (their mentions are scored
  against all and among themselves; only the clusters they touch change); a full rebuild,
  keeping ids, when a mention disappeared, or when asked.
- vehicles and places: resolved against the vehicle register and the gazetteer (rebuilt each
  time, keeping ids); golden records and history.
- POLE links: events and the entities in them with their roles; keepers, drivers, homes.

Analysts record clerical-review decisions in ``entities.person_decisions`` (mention_id_l,
mention_id_r, decision 'same' or 'different', decided_by, decided_at); every build honours them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb

from wmp_platform.declarations import FeedDeclaration
from wmp_platform.identifiers import install_macros
from wmp_platform.ingest import _write_parquet_atomically
from wmp_platform.matching.clusters import (
    PERSON_SETTINGS,
    ClusterReport,
    HubTables,
    Run,
    changed_entities,
    cluster_full,
    cross_reference,
    link_partition,
    table_exists,
)
from wmp_platform.matching.golden import (
    golden_records,
    history_tables,
    load_survivorship,
)
from wmp_platform.matching.locations import build_location_entities
from wmp_platform.matching.mentions import entity_mentions, person_mentions
from wmp_platform.matching.person_model import (
    EDGE_SCHEMA,
    load_person_model,
    model_version,
    person_features_files,
    predict_person_pairs,
    save_person_model,
    train_person_model,
    update_person_features,
    write_person_pairs,
)
from wmp_platform.matching.relationships import pole_events, pole_links
from wmp_platform.matching.vehicles import build_vehicle_entities
from wmp_platform.sql import sql_literal
from wmp_platform.storage import DataLayout

SCHEMA = "entities"
KINDS = ("person", "vehicle", "location")
DEFAULT_PERSON_MODEL = Path(__file__).parent / "matching" / "default_person_model.json"
DECISIONS = "person_decisions"
LINKED = "linked_partitions"  # which staged partition files each kind's entities were built from


def use_hub_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Point the warehouse connection at the hub's schema, with the platform's macros."""
    install_macros(con)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(f"USE {SCHEMA}")
    con.execute(f"""CREATE TABLE IF NOT EXISTS {DECISIONS} (
        mention_id_l VARCHAR, mention_id_r VARCHAR, decision VARCHAR, decided_by VARCHAR, decided_at TIMESTAMPTZ)""")
    con.execute(f"CREATE TABLE IF NOT EXISTS {LINKED} (kind VARCHAR, feed VARCHAR, partition VARCHAR, stamp VARCHAR)")


# --- the person model --------------------------------------------------------------------

def person_model_path(layout: DataLayout) -> Path:
    """The current trained person model, once one has been trained on this data."""
    return layout.root / "models" / "person" / "current.json"


def current_person_model(layout: DataLayout) -> tuple[dict[str, Any], str]:
    """The trained model and where it came from; the shipped default until one is trained."""
    path = person_model_path(layout)
    source = path if path.exists() else DEFAULT_PERSON_MODEL
    return load_person_model(source), str(source)


def train_and_save_person_model(layout: DataLayout, feeds: Mapping[str, FeedDeclaration]) -> tuple[dict[str, Any], str, int]:
    """Train on every staged person mention; keep the model under models/person/<version>.json
    and make it current. Returns the model, its version and how many mentions it saw."""
    mentions = person_mentions(layout, feeds)
    model = train_person_model(mentions)
    folder = person_model_path(layout).parent
    folder.mkdir(parents=True, exist_ok=True)
    version = save_person_model(model, folder / f"{model_version(model)}.json")
    save_person_model(model, person_model_path(layout))
    return model, version, mentions.num_rows


# --- what the hub keeps outside the warehouse ------------------------------------------------
# Scoring new person records against the hub (a new partition, or an analyst's list with `wmp
# link match`) reads the hub's matching features from Parquet files rather than computing them
# for every mention again; the list also needs each mention's entity. Every file is written
# atomically (as staged partitions are), so a reader never waits for the warehouse's lock and
# never sees half a file. An incremental build adds the features of its new records as one more
# file; a rebuild (and a restaged record) rewrites them as one.

def person_features_path(layout: DataLayout) -> Path:
    """The folder of the matching features of every person mention in the hub
    (``person_model.person_features``; its files kept by ``update_person_features``)."""
    return layout.root / "hub" / "person_features"


def person_entities_path(layout: DataLayout) -> Path:
    """mention_id -> entity_id of every person mention in the hub, as of the last build."""
    return layout.root / "hub" / "person_entities.parquet"


# --- building the hub ----------------------------------------------------------------------

def _staged_stamps(layout: DataLayout, feeds: Mapping[str, FeedDeclaration]) -> dict[tuple[str, str], str]:
    """(feed, partition) -> a stamp of the staged file (size and modification time): a restaged
    partition gets a new stamp."""
    stamps = {}
    for name in feeds:
        folder = layout.layer_dir(name, "staged")
        for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
            status = path.stat()
            stamps[(name, path.stem)] = f"{status.st_size}:{status.st_mtime_ns}"
    return stamps


def _changed_partitions(con, kind: str, stamps: dict[tuple[str, str], str]) -> set[tuple[str, str]]:
    """The partitions new or restaged since the kind's last build."""
    built = {(feed, partition): stamp for feed, partition, stamp in con.execute(
        f"SELECT feed, partition, stamp FROM {LINKED} WHERE kind = ?", [kind]).fetchall()}
    return {key for key, stamp in stamps.items() if built.get(key) != stamp}


def _record_built(con, kind: str, stamps: dict[tuple[str, str], str]) -> None:
    con.execute(f"DELETE FROM {LINKED} WHERE kind = ?", [kind])
    con.executemany(f"INSERT INTO {LINKED} VALUES (?, ?, ?, ?)", [(kind, f, p, s) for (f, p), s in stamps.items()])


def build_persons(
    con: duckdb.DuckDBPyConnection, layout: DataLayout, feeds: Mapping[str, FeedDeclaration], run: Run,
    model: dict[str, Any], full: bool = False,
) -> dict[str, Any]:
    """Person entities (see the module docstring). Returns what was done, for the asset's metadata."""
    use_hub_schema(con)
    tables = HubTables.for_kind("person")
    stamps = _staged_stamps(layout, feeds)
    new = _changed_partitions(con, "person", stamps)
    mentions = person_mentions(layout, feeds)
    con.register("person_mentions_arrow", mentions)
    con.execute("CREATE OR REPLACE TABLE person_mentions AS SELECT * FROM person_mentions_arrow")
    con.unregister("person_mentions_arrow")
    # Linking only adds: a restaged partition is re-linked, but a mention gone needs a rebuild.
    mode = "full" if full or not table_exists(con, tables.assignments) or con.execute(
        f"SELECT count(*) FROM {tables.assignments} ANTI JOIN person_mentions USING (mention_id)"
    ).fetchall()[0][0] else "incremental"
    threshold = PERSON_SETTINGS.review_threshold  # below it a pair is neither a link nor worth review
    features = person_features_path(layout)
    if mode == "full":
        update_person_features(features, mentions)
        edges = features.with_name("person_edges.parquet")
        scored = write_person_pairs(edges, person_features_files(features), model, threshold=threshold)
        try:
            con.execute(f"CREATE OR REPLACE TEMP VIEW person_edges_scored AS SELECT * FROM read_parquet({sql_literal(str(edges))})")
            report = _cluster(con, cluster_full, tables, "person_mentions", "person_edges_scored", run)
        finally:
            con.execute("DROP VIEW IF EXISTS person_edges_scored")
            edges.unlink(missing_ok=True)
    else:  # also with nothing new: review decisions made since the last build still apply
        new_mentions = con.sql(
            "SELECT * FROM person_mentions WHERE (feed, partition) IN (SELECT unnest($feeds), unnest($partitions))",
            params={"feeds": [f for f, _ in new], "partitions": [p for _, p in new]},
        ).to_arrow_table()
        update_person_features(features, mentions, changed=new_mentions.select(["mention_id"]))
        edges = (predict_person_pairs(person_features_files(features), model, new_mentions=new_mentions,
                                      threshold=threshold)
                 if new_mentions.num_rows else EDGE_SCHEMA.empty_table())
        scored = edges.num_rows
        con.execute(f"CREATE OR REPLACE TEMP TABLE person_entities_before AS SELECT mention_id, entity_id "
                    f"FROM {tables.assignments}")
        con.register("new_person_mentions", new_mentions)
        con.register("person_edges_scored", edges)
        try:
            report = _cluster(con, link_partition, tables, "new_person_mentions", "person_edges_scored", run)
            # only what the link changed is described again
            changed = changed_entities(con, tables.assignments, before="person_entities_before",
                                       mentions="new_person_mentions")
            cross_reference(con, tables, mentions="person_mentions", decisions=DECISIONS, out="person_xref",
                            changed=changed, new_links="person_edges_scored")
            _describe(con, "person", tables, "person_mentions", changed)
        finally:
            con.unregister("new_person_mentions")
            con.unregister("person_edges_scored")
            con.execute("DROP TABLE IF EXISTS person_entities_before")
    if mode == "full":
        cross_reference(con, tables, mentions="person_mentions", decisions=DECISIONS, out="person_xref")
        _describe(con, "person", tables, "person_mentions")
    _write_parquet_atomically(lambda path: con.execute(
        f"COPY (SELECT mention_id, entity_id FROM {tables.assignments}) TO {sql_literal(str(path))} "
        "(FORMAT parquet, COMPRESSION zstd)"), person_entities_path(layout))
    _record_built(con, "person", stamps)
    return {"mode": mode, "new_partitions": len(new), "edges_scored": scored,
            "model_version": model_version(model), **asdict(report)}


def _cluster(con, cluster, tables: HubTables, mentions: str, edges: str, run: Run) -> ClusterReport:
    return cluster(con, PERSON_SETTINGS, tables, mentions=mentions, edges=edges, decisions=DECISIONS, run=run)


def _describe(con, kind: str, tables: HubTables, mentions: str, changed: str | None = None) -> None:
    """Golden records and the alias, address and identifier history of the kind's entities (of the
    ``changed`` ones only, when given)."""
    load_survivorship(con)
    golden_records(con, kind, mentions=mentions, assignments=tables.assignments, changed=changed)
    history_tables(con, kind, mentions=mentions, assignments=tables.assignments, changed=changed)


def build_places_or_vehicles(
    con: duckdb.DuckDBPyConnection, layout: DataLayout, feeds: Mapping[str, FeedDeclaration], run: Run, kind: str,
) -> dict[str, Any]:
    """Vehicle or location entities, rebuilt from every mention (ids kept where they persist)."""
    use_hub_schema(con)
    build = {"vehicle": build_vehicle_entities, "location": build_location_entities}[kind]
    con.register(f"{kind}_mentions_arrow", entity_mentions(layout, feeds, kind))
    con.execute(f"CREATE OR REPLACE TABLE {kind}_mentions AS SELECT * FROM {kind}_mentions_arrow")
    con.unregister(f"{kind}_mentions_arrow")
    tables = HubTables.for_kind(kind)
    report = build(con, tables, mentions=f"{kind}_mentions", run=run)
    _describe(con, kind, tables, f"{kind}_mentions")
    return asdict(report)


def build_pole_links(con: duckdb.DuckDBPyConnection, layout: DataLayout, feeds: Mapping[str, FeedDeclaration]) -> dict[str, int]:
    """Events, and every entity linked to them with its role; keepers, drivers, homes."""
    use_hub_schema(con)
    pole_events(con, layout, feeds)
    made = pole_links(con, feeds, mentions={k: f"{k}_mentions" for k in KINDS},
                      assignments={k: HubTables.for_kind(k).assignments for k in KINDS})
    return {table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in ["pole_events", *made.values()]}


def entity_counts(con: duckdb.DuckDBPyConnection, kind: str) -> dict[str, int]:
    """Mentions and entities of the kind (read-only connections too)."""
    assignments = f"{SCHEMA}.{HubTables.for_kind(kind).assignments}"
    mentions, entities = con.execute(f"SELECT count(*), count(DISTINCT entity_id) FROM {assignments}").fetchall()[0]
    return {"mentions": mentions, "entities": entities}

