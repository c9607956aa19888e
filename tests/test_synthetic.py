"""The synthetic estate: deterministic, shaped exactly as the feed declarations say, with ground truth
that points at real records, and the real stop-and-search exports fitting their declaration."""

from __future__ import annotations

import csv
import json
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from conftest import FEEDS_DIR, FIXTURES

from wmp_platform.declarations import FeedDeclaration, load_declarations
from wmp_platform.identifiers import is_valid_cro, is_valid_ni, is_valid_pnc, is_valid_vrm
from wmp_platform.synthetic import SIZES, generate_estate
from wmp_platform.synthetic.writers import landing_file_name

LONDON = ZoneInfo("Europe/London")
START = date(2026, 10, 1)
GROUND_TRUTH_FILES = {
    "persons.parquet", "vehicles.parquet", "locations.parquet",
    "people.parquet", "vehicles_master.parquet", "addresses.parquet", "facts",
}
# ground-truth file -> the declarations' POLE mappings its roles come from
MENTION_FILES = {"persons": "persons", "vehicles": "vehicles", "locations": "locations"}


@pytest.fixture(scope="module")
def declarations() -> dict[str, FeedDeclaration]:
    return load_declarations(FEEDS_DIR)


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    return generate_estate(tmp_path_factory.mktemp("estate"), size="tiny", seed=42, start=START)


def read_records(path: Path, feed: FeedDeclaration) -> list[dict[str, str | None]]:
    """A landing file's records as text keyed by column name (blank fields as None)."""
    if feed.format == "csv":
        with path.open(encoding=feed.csv.encoding, newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=feed.csv.delimiter, quotechar=feed.csv.quote))
        return [{c.name: row[c.source] or None for c in feed.columns} for row in rows]
    if feed.format == "jsonl":
        with path.open(encoding="utf-8") as handle:
            return [{c.name: obj.get(c.source) for c in feed.columns} for obj in map(json.loads, handle)]
    if feed.format == "parquet":
        return [{c.name: row[c.source] for c in feed.columns} for row in pq.read_table(path).to_pylist()]
    lines = path.read_text(encoding=feed.csv.encoding).splitlines()
    return [{c.name: line[c.start - 1: c.start - 1 + c.width].strip() or None for c in feed.columns} for line in lines]


@pytest.fixture(scope="module")
def records(estate, declarations) -> dict[str, list[dict[str, str | None]]]:
    """Every feed's records, each with the delivery date of its file under '_file'."""
    found = {}
    for feed in declarations.values():
        found[feed.name] = []
        for path in sorted((estate.root / "landing" / feed.landing_folder).iterdir()):
            for record in read_records(path, feed):
                record["_file"] = path.name
                found[feed.name].append(record)
    return found


def record_key(record: dict, feed: FeedDeclaration) -> str:
    return "|".join(record[k] for k in feed.primary_key)


def parse(value: str, formats: list[str]) -> datetime:
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            pass
    raise AssertionError(f"{value!r} matches none of {formats}")


# --- determinism and size -----------------------------------------------------------------

def all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_same_seed_gives_byte_identical_files_and_another_seed_does_not(estate, tmp_path):
    again = generate_estate(tmp_path / "again", size="tiny", seed=42, start=START)
    other = generate_estate(tmp_path / "other", size="tiny", seed=43, start=START)
    first = all_files(estate.root)
    assert first == all_files(again.root)
    different = all_files(other.root)
    assert first.keys() == different.keys()
    assert first["landing/crime/crime_20261001.csv"] != different["landing/crime/crime_20261001.csv"]
    assert first["ground_truth/people.parquet"] != different["ground_truth/people.parquet"]


def test_tiny_is_about_two_thousand_rows_over_three_days(estate):
    target, days = SIZES["tiny"]
    assert estate.days == days
    assert 0.8 * target <= estate.total_rows <= 1.25 * target
    assert all(rows > 0 for rows in estate.rows.values()), estate.rows
    assert estate.skipped_feeds == []


def test_an_unknown_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown estate size"):
        generate_estate(tmp_path, size="enormous")


# --- files agree with their declarations -----------------------------------------------------

def test_every_feed_gets_the_files_its_landing_pattern_names(estate, declarations):
    days = [date.fromordinal(START.toordinal() + i) for i in range(estate.days)]
    for feed in declarations.values():
        if feed.partitioning == "none":
            deliveries = [START]
        elif feed.partitioning == "monthly":
            deliveries = sorted({d.replace(day=1) for d in days})
        else:
            deliveries = days
        expected = {landing_file_name(feed, d) for d in deliveries}
        landed = {p.name for p in (estate.root / "landing" / feed.landing_folder).iterdir()}
        assert landed == expected, feed.name
    assert {p.name for p in (estate.root / "landing").iterdir()} == {f.landing_folder for f in declarations.values()}


def test_csv_headers_are_the_declared_source_names_in_order(estate, declarations):
    for feed in (f for f in declarations.values() if f.format == "csv"):
        for path in (estate.root / "landing" / feed.landing_folder).iterdir():
            with path.open(encoding=feed.csv.encoding, newline="") as handle:
                assert next(csv.reader(handle)) == [c.source for c in feed.columns], path.name


def test_json_keys_and_parquet_columns_are_the_declared_source_names(estate, declarations):
    for feed in (f for f in declarations.values() if f.format in ("jsonl", "parquet")):
        for path in (estate.root / "landing" / feed.landing_folder).iterdir():
            if feed.format == "parquet":
                names = pq.read_schema(path).names
            else:
                names = list(json.loads(path.read_text().splitlines()[0]))
            assert names == [c.source for c in feed.columns], path.name


def test_fixed_width_lines_have_the_declared_width(estate, declarations):
    for feed in (f for f in declarations.values() if f.format == "fixed_width"):
        width = max(c.start + c.width - 1 for c in feed.columns)
        for path in (estate.root / "landing" / feed.landing_folder).iterdir():
            lines = path.read_text(encoding=feed.csv.encoding).splitlines()
            assert lines and {len(line) for line in lines} == {width}, path.name


def test_dates_and_numbers_read_back_with_the_declared_types(records, declarations):
    for feed in declarations.values():
        for record in records[feed.name]:
            for column in feed.columns:
                value = record[column.name]
                if value is None:
                    assert column.nullable, f"{feed.name}.{column.name} is blank but not nullable"
                elif column.type in ("date", "timestamp"):
                    parse(value, column.formats)
                elif column.type == "integer":
                    int(value)
                elif column.type in ("float", "decimal"):
                    float(value)
                elif column.type == "boolean":
                    assert value.lower() in column.true_values + column.false_values, (feed.name, value)


def test_primary_keys_are_unique_within_each_feed(records, declarations):
    for feed in declarations.values():
        keys = [record_key(r, feed) for r in records[feed.name]]
        assert len(keys) == len(set(keys)), feed.name


def test_every_event_happens_on_the_day_of_its_file(records, declarations):
    for feed in (f for f in declarations.values() if f.partitioning != "none"):
        column = feed.column(feed.event_time)
        for record in records[feed.name]:
            when = parse(record[column.name], column.formats)
            if when.tzinfo is not None:
                when = when.astimezone(LONDON)
            delivered = feed.landing.pattern.replace("{date}", when.strftime(feed.landing.date_format))
            assert record["_file"] == delivered, (feed.name, record[column.name])


# --- ground truth --------------------------------------------------------------------------

def test_ground_truth_lives_apart_from_the_landing_files(estate):
    assert {p.name for p in (estate.root / "ground_truth").iterdir()} == GROUND_TRUTH_FILES
    assert {p.name for p in estate.root.iterdir()} == {"landing", "ground_truth"}


def test_every_ground_truth_key_is_a_record_in_the_landing_files(estate, records, declarations):
    keys = {name: {record_key(r, feed) for r in records[name]} for name, feed in declarations.items()}
    truth = estate.root / "ground_truth"
    for file, attribute in MENTION_FILES.items():
        mentions = pq.read_table(truth / f"{file}.parquet").to_pylist()
        assert mentions, file
        for mention in mentions:
            feed = declarations[mention["feed"]]
            assert mention["record_key"] in keys[feed.name], (file, mention)
            roles = {m.role for m in getattr(feed.pole, attribute)}
            assert mention["role"] in roles, (file, mention)
    people = set(pq.read_table(truth / "people.parquet", columns=["person_id"]).column(0).to_pylist())
    persons = pq.read_table(truth / "persons.parquet", columns=["person_id"]).column(0).to_pylist()
    assert set(persons) <= people


def test_ground_truth_facts_are_what_each_record_says_before_garbling(estate, records, declarations):
    """Facts (times, grades, codes) of every record of the KPI feeds, as its file writes them."""
    facts_dir = estate.root / "ground_truth" / "facts"
    assert {p.name for p in facts_dir.iterdir()} == {"crime.parquet", "incidents.parquet", "duty_roster.parquet"}
    written = {"crime": {"occurred_at": "occurred_at", "hocr_code": "hocr_code", "outcome": "outcome"},
               "incidents": {"received_at": "received_at", "arrived_at": "arrived_at", "grade": "grade_code",
                             "channel": "channel"},
               "duty_roster": {"shift_start": "shift_start", "duty_status": "duty_status", "lpa": "lpa"}}
    for name, columns in written.items():
        feed = declarations[name]
        by_key = {record_key(r, feed): r for r in records[name]}
        facts = pq.read_table(facts_dir / f"{name}.parquet").to_pylist()
        assert len(facts) == len(by_key), name
        formats = {c.name: c.formats[0] for c in feed.columns if c.formats}
        agreeing = 0
        for fact in facts:
            record = by_key[fact["record_key"]]
            for fact_column, column in columns.items():
                value = fact[fact_column]
                if isinstance(value, datetime):
                    value = value.astimezone(LONDON).strftime(formats[column])
                agreeing += (None if value is None else str(value)) == record[column]
        # a few records have a date garbled on purpose (they end in quarantine)
        assert agreeing >= 0.99 * len(facts) * len(columns), name


def test_people_appear_in_several_feeds_and_duplicates_are_known(estate):
    persons = pq.read_table(estate.root / "ground_truth" / "persons.parquet").to_pylist()
    feeds_by_person: dict[str, set[str]] = {}
    keys_by_person_feed: dict[tuple[str, str], set[str]] = {}
    for mention in persons:
        feeds_by_person.setdefault(mention["person_id"], set()).add(mention["feed"])
        keys_by_person_feed.setdefault((mention["person_id"], mention["feed"]), set()).add(mention["record_key"])
    assert max(len(feeds) for feeds in feeds_by_person.values()) >= 6
    assert any(len(keys) > 1 for (_, feed), keys in keys_by_person_feed.items() if feed == "person_index")


def test_the_gazetteer_covers_every_uprn_used_by_other_feeds(records, declarations):
    gazetteer = {r["uprn"] for r in records["gazetteer"]}
    used = 0
    for feed in declarations.values():
        for mapping in feed.pole.locations:
            if mapping.uprn and feed.name != "gazetteer":
                values = {r[mapping.uprn] for r in records[feed.name]} - {None}
                assert values <= gazetteer, (feed.name, sorted(values - gazetteer)[:5])
                used += len(values)
    assert used


def test_officers_in_other_feeds_are_on_the_duty_roster(records, declarations):
    roster = {r["officer_collar_number"] for r in records["duty_roster"]}
    for feed in declarations.values():
        for mapping in feed.pole.persons:
            if mapping.collar_number and feed.name != "duty_roster":
                collars = {r[mapping.collar_number] for r in records[feed.name]} - {None}
                assert collars and collars <= roster, feed.name


def test_incident_times_run_in_order(records):
    steps = ("received_at", "answered_at", "graded_at", "dispatched_at", "arrived_at", "closed_at")
    for record in records["incidents"]:
        times = [datetime.fromisoformat(record[s]) for s in steps if record[s]]
        assert times == sorted(times) and len(set(times)) == len(times), record


def test_true_identifiers_are_valid(estate):
    truth = estate.root / "ground_truth"
    people = pq.read_table(truth / "people.parquet").to_pylist()
    pnc = [p["pnc_id"] for p in people if p["pnc_id"]]
    cro = [p["cro_number"] for p in people if p["cro_number"]]
    ni = [p["ni_number"] for p in people if p["ni_number"]]
    assert pnc and cro and ni
    assert all(map(is_valid_pnc, pnc)) and all(map(is_valid_cro, cro)) and all(map(is_valid_ni, ni))
    vehicles = pq.read_table(truth / "vehicles_master.parquet").column("registration").to_pylist()
    assert vehicles and all(map(is_valid_vrm, vehicles))
    addresses = pq.read_table(truth / "addresses.parquet").to_pylist()
    for place in addresses:
        assert 52.38 <= place["latitude"] <= 52.66 and -2.21 <= place["longitude"] <= -1.42
        assert place["kind"] == "camera_site" or (len(place["uprn"]) == 12 and place["uprn"].isdigit())


# --- the real data.police.uk exports -----------------------------------------------------------

REAL_STOP_AND_SEARCH = sorted((FIXTURES / "police_uk").glob("*-west-midlands-stop-and-search.csv"))


def test_the_real_stop_and_search_files_have_exactly_the_declared_headers(declarations):
    feed = declarations["stop_search"]
    assert len(REAL_STOP_AND_SEARCH) == 2
    declared = [c.source for c in feed.columns]
    assert len(declared) == 15
    for path in REAL_STOP_AND_SEARCH:
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == declared, path.name
        assert all(len(row) == 15 for row in rows[1:]), path.name


def test_the_real_stop_and_search_records_fit_the_declaration(declarations):
    feed = declarations["stop_search"]
    for path in REAL_STOP_AND_SEARCH:
        month = path.name[:7]
        for record in read_records(path, feed):
            for column in feed.columns:
                value = record[column.name]
                if value is None:
                    assert column.nullable, (path.name, column.name)
                elif column.type == "timestamp":
                    assert parse(value, column.formats).strftime("%Y-%m") == month
                elif column.type == "float":
                    float(value)
                elif column.type == "boolean":
                    assert value.lower() in column.true_values + column.false_values


@pytest.mark.slow
def test_medium_generates_in_well_under_two_minutes(tmp_path):
    began = time.perf_counter()
    summary = generate_estate(tmp_path, size="medium")
    assert summary.total_rows >= 900_000
    assert time.perf_counter() - began < 120
