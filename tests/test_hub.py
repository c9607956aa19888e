"""The POLE hub on a real synthetic estate: built through Dagster, linked incrementally as a new
day arrives, with stable ids, honoured review decisions, and accuracy against ground truth."""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from wmp_platform import hub, ingest
from wmp_platform.landing import landing_files
from wmp_platform.matching.clusters import HubTables, Run, cross_reference
from wmp_platform.matching.golden import golden_records, history_tables
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic import generate_estate
from wmp_platform.warehouse import open_warehouse

from code_location import code_location

DAYS = ("2026-10-01", "2026-10-02")
REFERENCE = ("gazetteer", "duty_roster")


def stage_days(layout: DataLayout, declarations, days) -> None:
    for feed in sorted(declarations.values(), key=lambda f: f.name not in REFERENCE):
        files, _ = landing_files(feed, layout.feed_landing(feed.landing_folder))
        for partition in sorted({f.partition for f in files}):
            if feed.partitioning == "daily" and partition not in days:
                continue
            ingest.load_raw(layout, feed, partition)
            ingest.stage(layout, feed, partition)


@pytest.fixture(scope="module")
def estate(tmp_path_factory, declarations) -> DataLayout:
    """A tiny two-day estate with only its first day staged."""
    layout = DataLayout(tmp_path_factory.mktemp("hub"))
    generate_estate(layout.root, size="tiny", days=2, start=date(2026, 10, 1), processes=1)
    stage_days(layout, declarations, DAYS[:1])
    return layout


@pytest.fixture(scope="module")
def first_build(estate):
    """The hub built from day one through Dagster: model trained, entities, links."""
    defs = code_location(estate.root)  # the real code location, its data folder the estate's
    keys = [dg.AssetKey(["entities", k]) for k in ("person_model", "person", "vehicle", "location", "pole_links")]
    result = dg.materialize([defs.resolve_assets_def(k) for k in keys])
    assert result.success
    with open_warehouse(estate.warehouse, read_only=True) as con:
        ids = dict(con.execute("SELECT mention_id, entity_id FROM entities.person_assignments").fetchall())
    return result, ids


def person_metadata(result) -> dict:
    return next(e.event_specific_data.materialization.metadata for e in result.get_asset_materialization_events()
                if e.asset_key == dg.AssetKey(["entities", "person"]))


def test_dagster_builds_every_kind_of_entity_with_a_trained_model(estate, first_build):
    result, ids = first_build
    assert hub.person_model_path(estate).exists()
    metadata = person_metadata(result)
    assert metadata["mode"].value == "full" and metadata["model"].value == str(hub.person_model_path(estate))
    assert 0 < len(set(ids.values())) < len(ids)  # people mentioned more than once were merged
    with open_warehouse(estate.warehouse, read_only=True) as con:
        for table in ("person_golden", "person_xref", "vehicle_golden", "location_golden", "pole_entity_events"):
            assert con.execute(f"SELECT count(*) FROM entities.{table}").fetchall()[0][0] > 0, table
        unreferenced = con.execute(
            "SELECT count(*) FROM entities.person_xref WHERE entity_id NOT IN (SELECT entity_id FROM entities.person_golden)"
        ).fetchall()[0][0]
    assert unreferenced == 0


def test_accuracy_is_reported_against_ground_truth(first_build):
    result, _ = first_build
    metadata = person_metadata(result)
    assert metadata["cluster_precision"].value >= 0.99
    check = next(c for c in result.get_asset_check_evaluations() if c.check_name == "accuracy")
    assert check.metadata["precision"].value == metadata["cluster_precision"].value


def test_a_rebuild_on_the_same_data_keeps_every_id(estate, first_build, declarations):
    _, ids = first_build
    with open_warehouse(estate.warehouse) as con:
        done = hub.build_persons(con, estate, declarations, Run("rebuild"), hub.current_person_model(estate)[0], full=True)
        again = dict(con.execute("SELECT mention_id, entity_id FROM person_assignments").fetchall())
    assert done["mode"] == "full" and again == ids


def assert_described_as_if_anew(con: duckdb.DuckDBPyConnection) -> None:
    """The cross-reference, golden records and histories an incremental build made again in part
    equal ones made from scratch."""
    changed = con.execute("SELECT count(*) FROM _changed_entities").fetchall()[0][0]
    entities = con.execute("SELECT count(*) FROM person_golden").fetchall()[0][0]
    assert 0 < changed < entities  # made again in part
    tables = HubTables.for_kind("person")
    made = {"person_xref": cross_reference(con, tables, mentions="person_mentions", decisions=hub.DECISIONS,
                                           out="anew_xref"),
            "person_golden": golden_records(con, "person", mentions="person_mentions",
                                            assignments=tables.assignments, out="anew_golden")}
    made |= {f"person_{what}": table for what, table in history_tables(
        con, "person", mentions="person_mentions", assignments=tables.assignments, prefix="anew").items()}
    assert len(made) == 5
    for table, anew in made.items():
        for one, other in ((table, anew), (anew, table)):
            assert con.execute(f"SELECT count(*) FROM (FROM {one} EXCEPT ALL FROM {other})").fetchall()[0][0] == 0, table


def test_a_new_day_links_incrementally_and_agrees_with_a_full_rebuild(estate, first_build, declarations, tmp_path):
    _, ids = first_build
    stage_days(estate, declarations, DAYS[1:])
    rebuilt = DataLayout(tmp_path)  # the same data, built from scratch in one go
    shutil.copytree(estate.lake, rebuilt.lake)
    shutil.copytree(estate.root / "models", rebuilt.root / "models")
    model = hub.current_person_model(estate)[0]
    with open_warehouse(estate.warehouse) as con:
        done = hub.build_persons(con, estate, declarations, Run("day2"), model)
        linked = dict(con.execute("SELECT mention_id, entity_id FROM person_assignments").fetchall())
        merged = {(old, new) for old_ids, new_ids in con.execute(
            "SELECT old_ids, new_ids FROM person_history WHERE run_id = 'day2' AND kind = 'merge'").fetchall()
            for old in old_ids for new in new_ids}
        assert_described_as_if_anew(con)
    assert done["mode"] == "incremental" and done["new_partitions"] > 0
    # day one's people keep their ids, unless the new day showed two were one (a recorded merge)
    changed = {(ids[m], linked[m]) for m in ids if linked[m] != ids[m]}
    assert len(changed) < len(set(ids.values())) / 10 and changed <= merged
    with open_warehouse(rebuilt.warehouse) as con:
        hub.build_persons(con, rebuilt, declarations, Run("scratch"), model)
        scratch = dict(con.execute("SELECT mention_id, entity_id FROM person_assignments").fetchall())

    def groups(assignments):
        clusters = {}
        for mention, entity in assignments.items():
            clusters.setdefault(entity, set()).add(mention)
        return {frozenset(c) for c in clusters.values()}

    assert groups(linked) == groups(scratch)


def test_a_restaged_partition_with_a_corrected_name_is_described_again(estate, first_build, declarations):
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    # the custody extract of day one is sent again with a surname corrected: its file is restaged
    path = estate.partition_file("custody", "staged", DAYS[0])
    table = pq.read_table(path)
    column = next(c for c in table.column_names  # a person's surname as the hub reads it (person_<role>_surname)
                  if c.startswith("person_") and c.endswith("_surname") and table[c].null_count < table.num_rows)
    row = next(i for i, v in enumerate(table[column].to_pylist()) if v)
    corrected = table[column].to_pylist()
    corrected[row] = "CORRECTEDNAME"
    pq.write_table(table.set_column(table.column_names.index(column), column, pa.array(corrected, table[column].type)),
                   path)
    with open_warehouse(estate.warehouse) as con:
        done = hub.build_persons(con, estate, declarations, Run("restaged"), hub.current_person_model(estate)[0])
        assert done["mode"] == "incremental" and done["new_partitions"] >= 1
        assert con.execute("SELECT count(*) FROM person_aliases WHERE value LIKE '%CORRECTEDNAME%'").fetchall()[0][0] == 1
        assert_described_as_if_anew(con)
    assert pc.sum(pc.equal(pq.read_table(path)[column], "CORRECTEDNAME")).as_py() == 1


def test_an_analysts_different_decision_splits_an_entity_on_the_next_run(estate, first_build, declarations):
    with open_warehouse(estate.warehouse) as con:
        hub.use_hub_schema(con)
        pair = con.execute("""
            SELECT a.mention_id, b.mention_id FROM person_assignments a JOIN person_assignments b
              ON a.entity_id = b.entity_id AND a.mention_id < b.mention_id
            JOIN person_links l ON l.mention_id_l = a.mention_id AND l.mention_id_r = b.mention_id
            WHERE NOT a.mention_id LIKE 'duty_roster%' ORDER BY l.match_probability LIMIT 1""").fetchall()[0]
        con.execute("INSERT INTO person_decisions VALUES (?, ?, 'different', 'analyst 4521', now())", list(pair))
        hub.build_persons(con, estate, declarations, Run("decided"), hub.current_person_model(estate)[0])
        after = dict(con.execute("SELECT mention_id, entity_id FROM person_assignments WHERE mention_id IN (?, ?)",
                                 list(pair)).fetchall())
        assert_described_as_if_anew(con)
    assert after[pair[0]] != after[pair[1]]


def test_readers_see_the_hub_schema_by_name(estate, first_build):
    con = duckdb.connect(str(estate.warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM entities.person_golden").fetchall()[0][0] > 0
    finally:
        con.close()
