"""The quality gate on real staged Parquet, real DuckDB and real great-expectations: derived rules
catch the faults they are for, pass clean data, and both engines (GX and plain SQL) agree."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from datetime import date

import duckdb
import pytest

from wmp_platform import ingest
from wmp_platform.declarations import QualityPolicy, QualityRule, parse_declaration
from wmp_platform.identifiers import normalise_pnc, normalise_vrm
from wmp_platform.landing import landing_files
from wmp_platform.quality.gate import FAILED_RULES, GateError, run_gate
from wmp_platform.quality.rules import (
    CATEGORIES, EXISTS_IN_FEED, RECORD_KEY, UNIQUE, VALID_PNC_ID, VALID_REGISTRATION, Rule, derive_rules,
    personal_columns,
)
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic import generate_estate

from conftest import FIXTURES

TODAY = date(2026, 11, 30)
SOURCE = "gate/gate_20261001.csv"
CLEAN = {
    "ref": "R1", "seen_at": "2026-10-01 10:00", "grade": "1", "suspect_pnc": "79/163001B", "suspect_cro": "265416/21G",
    "suspect_ni": "AB123456C", "suspect_dob": "1980-05-01", "suspect_postcode": "b11aa", "scene_uprn": "100000000001",
    "scene_lat": "52.48", "scene_lon": "-1.90", "officer": "1234",
}
# One fault per row; row n of the file is ROWS[n - 1].
ROWS = [
    CLEAN,
    {**CLEAN, "ref": "R2", "suspect_pnc": "2001/0171310S"},  # wrong check letter
    {**CLEAN, "ref": "R3", "suspect_cro": "ABC/21G"},
    {**CLEAN, "ref": "R4", "suspect_postcode": "B1 1A"},
    {**CLEAN, "ref": "R5", "suspect_ni": "BG123456C"},  # a prefix never issued
    {**CLEAN, "ref": "R6", "seen_at": "2027-01-01 09:00"},
    {**CLEAN, "ref": "R7", "suspect_dob": "1899-12-31"},
    {**CLEAN, "ref": "R8", "scene_lat": "51.5074", "scene_lon": "-0.1278"},  # London
    {**CLEAN, "ref": "R9", "grade": "9"},
    CLEAN,  # the same record delivered twice
    {**CLEAN, "ref": "R11", "scene_uprn": "999999999999"},
    {**CLEAN, "ref": "X12"},  # breaks the declared rule
    {**CLEAN, "ref": "R13", "seen_at": "1985-06-01 12:00"},
]
EXPECTED_FAILURES = {
    "record_key_unique": ["R1"],
    "event_time_not_in_future": ["R6"],
    "event_time_not_before_1990": ["R13"],
    "person_suspect_dob_plausible": ["R7"],
    "person_suspect_postcode_valid": ["R4"],
    "person_suspect_pnc_id_valid": ["R2"],
    "person_suspect_cro_number_valid": ["R3"],
    "person_suspect_ni_number_valid": ["R5"],
    "location_scene_uprn_in_gazetteer": ["R11"],
    "location_scene_latitude_in_force_area": ["R8"],
    "location_scene_longitude_in_force_area": ["R8"],
    "grade_allowed": ["R9"],
    "ref_format": ["X12"],
}
NO_ROSTER = "person_officer_collar_number_in_duty_roster"  # the duty roster has no staged files


@pytest.fixture(scope="module")
def feed():
    personal = {"personal_data": "personal"}
    columns = [
        {"name": "ref", "nullable": False}, {"name": "seen_at", "type": "timestamp", "formats": ["%Y-%m-%d %H:%M"]},
        {"name": "grade", "type": "integer", "allowed_values": ["1", "2", "3", "4", "5"]},
        *({"name": n, **personal} for n in ("suspect_pnc", "suspect_cro", "suspect_ni", "suspect_postcode")),
        {"name": "suspect_dob", "type": "date", "formats": ["%Y-%m-%d"], **personal},
        {"name": "scene_uprn"}, {"name": "scene_lat", "type": "float"}, {"name": "scene_lon", "type": "float"},
        {"name": "officer", **personal},
    ]
    return parse_declaration({
        "name": "gate", "description": "gate", "owner": "team:platform", "source_system": "test", "format": "csv",
        "landing": {"pattern": "gate_{date}.csv"}, "partitioning": "daily", "primary_key": ["ref"],
        "event_time": "seen_at", "columns": columns,
        "pole": {
            "event": {"id": "ref", "time": "seen_at"},
            "persons": [
                {"role": "suspect", "pnc_id": "suspect_pnc", "cro_number": "suspect_cro", "ni_number": "suspect_ni",
                 "dob": "suspect_dob", "postcode": "suspect_postcode"},
                {"role": "officer", "collar_number": "officer"},
            ],
            "locations": [{"role": "scene", "uprn": "scene_uprn", "latitude": "scene_lat", "longitude": "scene_lon"}],
        },
        "quality": {"rules": [{"name": "ref_format", "column": "ref", "expectation": "expect_column_values_to_match_regex",
                               "kwargs": {"regex": "^R[0-9]+$"}}]},
    }, "gate")


@pytest.fixture(scope="module")
def layout(tmp_path_factory, feed) -> DataLayout:
    """The feed's rows landed and staged, and a gazetteer holding one UPRN."""
    layout = DataLayout(tmp_path_factory.mktemp("gate"))
    landing = layout.landing / SOURCE
    landing.parent.mkdir(parents=True)
    with landing.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(CLEAN))
        writer.writeheader()
        writer.writerows(ROWS)
    ingest.load_raw(layout, feed, "2026-10-01")
    assert ingest.stage(layout, feed, "2026-10-01").staged_rows == len(ROWS)
    gazetteer = layout.partition_file("gazetteer", "staged", "all")
    gazetteer.parent.mkdir(parents=True)
    duckdb.execute(f"COPY (SELECT '100000000001' AS location_address_uprn) TO '{gazetteer}' (FORMAT parquet)")
    return layout


@pytest.fixture(scope="module")
def staged(layout):
    return layout.partition_file("gate", "staged", "2026-10-01")


@pytest.fixture(scope="module")
def rules(feed) -> list[Rule]:
    return derive_rules(feed, TODAY)


@pytest.fixture(scope="module")
def gate(staged, rules, layout, feed):
    return run_gate(staged, rules, layout.lake, personal_columns=personal_columns(feed))


def test_rules_are_derived_from_the_declaration(rules):
    assert {r.name for r in rules} == set(EXPECTED_FAILURES) | {NO_ROSTER}
    assert next(r for r in rules if r.name == "grade_allowed").kwargs == {"value_set": [1, 2, 3, 4, 5]}
    assert next(r for r in rules if r.name == "ref_format").category == "declared"


def test_a_declared_rule_replaces_the_derived_rule_of_its_name(feed, rules):
    relaxed = QualityRule(name="record_key_unique", column=RECORD_KEY, expectation=UNIQUE, severity="warn")
    replaced = derive_rules(feed.model_copy(update={"quality": QualityPolicy(rules=[relaxed])}), TODAY)
    assert [r.name for r in replaced] == [r.name for r in rules if r.name != "ref_format"]
    assert replaced[0] == Rule("record_key_unique", RECORD_KEY, UNIQUE, {}, "warn", "keys")


@pytest.mark.parametrize("name", EXPECTED_FAILURES)
def test_each_rule_catches_its_fault_and_passes_clean_rows(gate, name):
    result = gate.result(name)
    assert (gate.failing_keys(name), result.skipped_reason) == (EXPECTED_FAILURES[name], None)
    assert (result.rows_checked, result.rows_failing, result.passed) == (len(ROWS), 1, False)


def test_a_duplicated_key_keeps_its_first_copy(gate):
    failures = gate.failures.to_pylist()
    assert [(f["_source_file"], f["_row_number"]) for f in failures if "record_key_unique" in f[FAILED_RULES]] == [
        (SOURCE, 10)]


def test_failing_rows_carry_every_rule_they_broke(gate):
    broken = {f["_row_number"]: f[FAILED_RULES] for f in gate.failures.to_pylist()}
    assert sorted(broken) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    assert broken[8] == ["location_scene_latitude_in_force_area", "location_scene_longitude_in_force_area"]


def test_rows_breaking_error_rules_are_quarantined_and_warnings_are_not(feed, layout, rules, tmp_path):
    """Staging with the gate: warnings (postcode R4, coordinates R8, unknown UPRN R11, event in
    1985 R13) quarantine nothing; every row is staged or quarantined."""
    gated = DataLayout(tmp_path)
    shutil.copytree(layout.landing, gated.landing)
    shutil.copytree(layout.lake / "gazetteer", gated.lake / "gazetteer")
    ingest.load_raw(gated, feed, "2026-10-01")
    result = ingest.stage(gated, feed, "2026-10-01", rules)
    quarantine = duckdb.execute(
        f"SELECT _row_number, _issues FROM read_parquet('{gated.partition_file('gate', 'quarantine', '2026-10-01')}') "
        "ORDER BY 1").fetchall()
    assert [row for row, _ in quarantine] == [2, 3, 5, 6, 7, 9, 10, 12]
    assert quarantine[0][1] == ["person_suspect_pnc_id_valid: broke quality rule"]
    assert (result.staged_rows, result.quarantined_rows) == (len(ROWS) - 8, 8)


def test_samples_mask_personal_values(gate):
    assert gate.result("person_suspect_pnc_id_valid").sample == [
        {RECORD_KEY: "R2", "_source_file": SOURCE, "_row_number": 2, "person_suspect_pnc_id": "2***"}
    ]
    assert gate.result("grade_allowed").sample[0]["grade"] == 9


def test_a_reference_to_a_feed_without_staged_files_is_skipped(gate):
    result = gate.result(NO_ROSTER)
    assert result.skipped_reason == "feed 'duty_roster' has no staged files yet"
    assert (result.rows_checked, result.rows_failing) == (0, 0)


@pytest.mark.parametrize("engine", ["great_expectations", "sql"])
def test_a_reference_follows_changes_to_the_referenced_feed(staged, rules, layout, tmp_path, engine):
    """The gazetteer's key set is kept between partitions, and rebuilt when its files change:
    a UPRN added to the gazetteer resolves on the next run, one removed stops resolving."""
    lake = tmp_path / "lake"
    shutil.copytree(layout.lake / "gazetteer", lake / "gazetteer")
    gazetteer = lake / "gazetteer" / "staged" / "all.parquet"
    uprn = [r for r in rules if r.name == "location_scene_uprn_in_gazetteer"]

    def failing_rows() -> int:
        return run_gate(staged, uprn, lake, engine=engine).results[0].rows_failing

    assert failing_rows() == 1  # R11's UPRN is not in the gazetteer
    duckdb.execute(f"COPY (SELECT unnest(['100000000001', '999999999999']) AS location_address_uprn) "
                   f"TO '{gazetteer}' (FORMAT parquet)")
    assert failing_rows() == 0
    duckdb.execute(f"COPY (SELECT '999999999999' AS location_address_uprn) TO '{gazetteer}' (FORMAT parquet)")
    assert failing_rows() == len(ROWS) - 1


def test_great_expectations_validates_each_table_as_it_is(tmp_path):
    """Validations one after another, of tables with other columns, sizes and values: each
    verdict is on that table's own rows (one bad row in 13 passes at 10%, one in 2 does not)."""
    between, regex = ("expect_column_values_to_be_between", {"max_value": 10}), \
        ("expect_column_values_to_match_regex", {"regex": "^[0-9]$"})
    cases = [("x", 13, "CASE WHEN i = 13 THEN 99 ELSE i % 10 END", between), ("y", 2, "i * 8", between),
             ("x", 13, "(i % 11)::VARCHAR", regex), ("x", 2, "i * 8", between)]
    verdicts = []
    for column, rows, value, (expectation, kwargs) in cases:
        path = tmp_path / f"{len(verdicts)}.parquet"
        duckdb.execute(f"COPY (SELECT 'K' || i AS {RECORD_KEY}, 'f.csv' AS _source_file, i AS _row_number, "
                       f"{value} AS {column} FROM range(1, {rows} + 1) AS t(i)) TO '{path}' (FORMAT parquet)")
        result = run_gate(path, [Rule("r", column, expectation, kwargs)], max_failure_rate=0.10).results[0]
        verdicts.append((result.passed, result.rows_checked, result.rows_failing))
    assert verdicts == [(True, 13, 1), (False, 2, 1), (True, 13, 1), (False, 2, 1)]


def test_great_expectations_counts_failures_against_the_tolerance_as_the_quarantine_does(tmp_path):
    """The two engines give one verdict, the tolerance being a share of all the rows: three rows
    sharing a value in twenty (two later copies, 10%) pass uniqueness at 12% and fail at 8%;
    with ten of the twenty NULL (GX counts shares of the other ten) two copies still pass at 12%,
    and two bad values among them pass a format rule at 12% and fail at 8%. A column with no
    value at all has no copy."""
    path = tmp_path / "copies.parquet"
    duckdb.execute(f"""COPY (SELECT 'K' || i AS {RECORD_KEY}, 'f.csv' AS _source_file, i AS _row_number,
                              least(i, 18) AS x, CASE WHEN i > 10 THEN least(i, 18) END AS sparse,
                              CASE WHEN i > 10 THEN CASE WHEN i > 18 THEN 'bad' ELSE 'ok' END END AS code,
                              NULL::VARCHAR AS empty
                       FROM range(1, 21) AS t(i)) TO '{path}' (FORMAT parquet)""")
    rules = [Rule("x_unique", "x", UNIQUE, {}), Rule("sparse_unique", "sparse", UNIQUE, {}),
             Rule("code_ok", "code", "expect_column_values_to_be_in_set", {"value_set": ["ok"]})]
    for engine in ("great_expectations", "sql"):
        lenient, strict = (run_gate(path, rules, max_failure_rate=rate, engine=engine) for rate in (0.12, 0.08))
        for name in ("x_unique", "sparse_unique", "code_ok"):
            assert (lenient.result(name).passed, strict.result(name).passed) == (True, False), (engine, name)
            assert lenient.result(name).rows_failing == 2, (engine, name)
        assert run_gate(path, [Rule("empty_unique", "empty", UNIQUE, {})], engine=engine).results[0].passed


def test_a_gate_that_cannot_decide_leaves_the_partition_as_it_was(feed, layout, rules, tmp_path):
    """A rule great-expectations refuses (an argument it does not know) stops staging with an
    error naming the rule; the partition's staged, quarantine and quality files stay those of the
    last run, and no temporary file is left."""
    gated = DataLayout(tmp_path)
    shutil.copytree(layout.landing, gated.landing)
    shutil.copytree(layout.lake / "gazetteer", gated.lake / "gazetteer")
    ingest.load_raw(gated, feed, "2026-10-01")
    ingest.stage(gated, feed, "2026-10-01", rules)
    folders = [gated.layer_dir(feed.name, layer) for layer in ("staged", "quarantine", "quality")]
    before = {path: path.read_bytes() for folder in folders for path in folder.iterdir()}
    assert len(before) == 3
    refused = Rule("grade_known", "grade", "expect_column_values_to_be_in_set", {"value_set": [1, 2], "value_sets": [3]})
    with pytest.raises(GateError, match="grade_known.*value_sets"):
        ingest.stage(gated, feed, "2026-10-01", [*rules, refused])
    assert {path: path.read_bytes() for folder in folders for path in folder.iterdir()} == before


def test_the_sql_engine_alone_gives_the_same_results(gate, staged, rules, layout, feed):
    alone = run_gate(staged, rules, layout.lake, personal_columns=personal_columns(feed), engine="sql")
    assert alone.results == gate.results and alone.failures.equals(gate.failures)


def test_great_expectations_verdict_honours_the_failure_rate(staged, rules, layout):
    """One failing row in 13 (7.7%) passes at a 10% tolerance and fails at 5%."""
    pnc = [r for r in rules if r.name == "person_suspect_pnc_id_valid"]
    assert run_gate(staged, pnc, layout.lake, max_failure_rate=0.10).results[0].passed
    assert not run_gate(staged, pnc, layout.lake, max_failure_rate=0.05).results[0].passed
    assert run_gate(staged, pnc, layout.lake, max_failure_rate=0.05, min_failing_rows=2).results[0].passed


def test_an_empty_file_passes(staged, rules, layout, tmp_path):
    empty = tmp_path / "empty.parquet"
    duckdb.execute(f"COPY (SELECT * FROM read_parquet('{staged}') LIMIT 0) TO '{empty}' (FORMAT parquet)")
    result = run_gate(empty, rules, layout.lake)
    assert result.rows == 0 and result.failures.num_rows == 0
    assert all(r.rows_failing == 0 for r in result.results)


def test_a_rule_that_cannot_run_fails_loudly(staged):
    missing = Rule("no_such_column_present", "no_such_column", "expect_column_values_to_not_be_null")
    with pytest.raises(GateError, match="no_such_column_present"):
        run_gate(staged, [missing])


def test_every_shipped_declaration_derives_rules(declarations):
    for name, feed in declarations.items():
        rules = derive_rules(feed, TODAY)
        staged_columns = {RECORD_KEY} | {c.name for c in feed.columns} | {c for c, _, _ in feed.pole.pole_columns()}
        assert len({r.name for r in rules}) == len(rules), name
        for rule in rules:
            assert re.fullmatch("[a-z][a-z0-9_]*", rule.name) and rule.category in CATEGORIES, rule
            assert rule.column in staged_columns, rule
            if rule.expectation == EXISTS_IN_FEED:
                target = declarations[rule.kwargs["feed"]]
                assert rule.kwargs["feed_column"] in {c for c, _, _ in target.pole.pole_columns()}, rule


def test_the_engine_package_imports_neither_dagster_nor_gx_up_front():
    code = ("import sys, wmp_platform.quality.gate, wmp_platform.quality.rules;"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'dagster', 'great_expectations'}))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_published_stop_search_codes_are_allowed(declarations, tmp_path):
    feed = declarations["stop_search"]
    layout = DataLayout(tmp_path)
    shutil.copytree(FIXTURES / "police_uk", layout.feed_landing(feed.landing_folder))
    reference_codes = [r for r in derive_rules(feed, TODAY) if r.category == "reference_codes"]
    for partition in ("2017-01-01", "2018-08-01"):  # old and new vocabularies
        ingest.load_raw(layout, feed, partition)
        ingest.stage(layout, feed, partition)
        result = run_gate(layout.partition_file("stop_search", "staged", partition), reference_codes)
        assert {r.rule.name: r.rows_failing for r in result.results} == dict.fromkeys(
            ["type_allowed", "age_range_allowed", "outcome_allowed"], 0)


# --- the synthetic estate -------------------------------------------------------------

# The generator mistypes a digit of some PNC IDs and a character of some registrations on
# purpose; such a value is no true person's or vehicle's. Every other error rule must pass.
DELIBERATE = {VALID_PNC_ID: ("people", "pnc_id", normalise_pnc),
              VALID_REGISTRATION: ("vehicles_master", "registration", normalise_vrm)}


@pytest.fixture(scope="module")
def estate(tmp_path_factory, declarations):
    """A one-day estate (large enough for some deliberate typos), staged; reference feeds first
    so references resolve."""
    layout = DataLayout(tmp_path_factory.mktemp("estate"))
    generate_estate(layout.root, size=8_000, days=1, start=date(2026, 10, 1), processes=1)
    staged = []
    for name in sorted(declarations, key=lambda n: n not in ("gazetteer", "duty_roster")):
        feed = declarations[name]
        files, problems = landing_files(feed, layout.feed_landing(feed.landing_folder))
        assert files and not problems, name
        for partition in sorted({f.partition for f in files}):
            ingest.load_raw(layout, feed, partition)
            ingest.stage(layout, feed, partition)
            staged.append((feed, layout.partition_file(name, "staged", partition)))
    return layout, staged


def test_synthetic_estate_passes_every_error_rule(estate):
    layout, staged = estate
    truth = {
        expectation: {normal(v) for (v,) in duckdb.execute(
            f"SELECT {column} FROM read_parquet('{layout.ground_truth / table}.parquet') WHERE {column} IS NOT NULL"
        ).fetchall()}
        for expectation, (table, column, normal) in DELIBERATE.items()
    }
    for feed, path in staged:
        result = run_gate(path, derive_rules(feed, TODAY), layout.lake, sample_size=10**6)
        assert result.rows > 0, path
        for r in result.results:
            assert r.skipped_reason is None, (path, r.rule.name)
            if r.severity != "error" or not r.rows_failing:
                continue
            assert r.rule.expectation in DELIBERATE, (path, r.rule.name, r.sample[:3])
            assert r.failure_rate <= feed.quality.max_failure_rate, (path, r.rule.name)
            assert not {s[r.rule.column] for s in r.sample} & truth[r.rule.expectation], (path, r.rule.name)
