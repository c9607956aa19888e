"""The KPI marts on a small synthetic estate: each headline figure equals the same figure computed
here, in plain Python, from the generator's ground truth (true facts and places of every record
the pipeline staged); aggregate marts hold no personal data; a failing audit leaves the last good
version published; the Dagster assets build them all."""

from __future__ import annotations

import csv
import shutil
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import FEEDS_DIR, stage_landed

from resources import LakeResource
from wmp_platform.declarations import load_declarations
from assets.marts import mart_assets
from wmp_platform.marts.kpi import (
    CRIME,
    INCIDENTS,
    OFFENDER_HARM,
    build_crime_mart,
    build_incident_mart,
    build_offender_harm_mart,
)
from wmp_platform.marts.publishing import SQL_DIR, MartAuditFailed
from wmp_platform.marts.reference import ReferenceTable
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic import generate_estate
from wmp_platform.warehouse import open_warehouse, register_lake_views

LONDON = ZoneInfo("Europe/London")
FEEDS = ("crime", "incidents", "duty_roster", "gazetteer")
AGGREGATE_MARTS = (CRIME, INCIDENTS)


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> DataLayout:
    """A small estate with the four feeds the marts read staged, a warehouse with their views, the person
    entities taken from ground truth (true person ids as entity ids), and the three marts published."""
    layout = DataLayout(tmp_path_factory.mktemp("kpi") / "data")
    generate_estate(layout.root, size="small", seed=5)
    declarations = load_declarations(FEEDS_DIR)
    stage_landed(layout, [declarations[name] for name in FEEDS])
    with open_warehouse(layout.warehouse) as con:
        register_lake_views(con, layout, list(FEEDS))
        put_entities_from_truth(con, layout)
        build_crime_mart(con)
        build_incident_mart(con)
        build_offender_harm_mart(con)
    return layout


def put_entities_from_truth(con: duckdb.DuckDBPyConnection, layout: DataLayout) -> None:
    """The hub's contract (entities.person_xref and person_golden), filled from ground truth."""
    truth = layout.ground_truth
    con.execute("CREATE SCHEMA IF NOT EXISTS entities")
    con.execute(f"""CREATE OR REPLACE TABLE entities.person_xref AS
        SELECT feed || '|' || record_key || '|' || role AS mention_id, feed, record_key, role, person_id AS entity_id
        FROM read_parquet('{truth / "persons.parquet"}')""")
    con.execute(f"""CREATE OR REPLACE TABLE entities.person_golden AS
        SELECT person_id AS entity_id, forename, surname, dob FROM read_parquet('{truth / "people.parquet"}')""")


def published(layout: DataLayout, query: str) -> list[tuple]:
    with open_warehouse(layout.warehouse, read_only=True) as con:
        return con.execute(query).fetchall()


# --- ground truth, read in plain Python --------------------------------------------------------

def staged_keys(layout: DataLayout, feed: str) -> set[str]:
    """Which records the pipeline staged: the marts count those (quarantined ones cannot be read)."""
    return {k for path in layout.layer_dir(feed, "staged").glob("*.parquet")
            for k in pq.read_table(path, columns=["_record_key"]).column(0).to_pylist()}


def true_facts(layout: DataLayout, feed: str) -> dict[str, dict]:
    keys = staged_keys(layout, feed)
    rows = pq.read_table(layout.ground_truth / "facts" / f"{feed}.parquet").to_pylist()
    facts = {r["record_key"]: r for r in rows if r["record_key"] in keys}
    assert len(facts) == len(keys) > 0, feed
    return facts


def true_places(layout: DataLayout, feed: str) -> dict[str, dict]:
    """record_key -> the true address (LSOA, area) of the record's scene."""
    addresses = {a["location_id"]: a for a in pq.read_table(layout.ground_truth / "addresses.parquet").to_pylist()}
    mentions = pq.read_table(layout.ground_truth / "locations.parquet").to_pylist()
    return {m["record_key"]: addresses[m["location_id"]] for m in mentions if m["feed"] == feed and m["role"] == "scene"}


def true_people(layout: DataLayout, feed: str, role: str) -> dict[str, str]:
    mentions = pq.read_table(layout.ground_truth / "persons.parquet").to_pylist()
    return {m["record_key"]: m["person_id"] for m in mentions if m["feed"] == feed and m["role"] == role}


def reference(name: str) -> list[dict[str, str]]:
    with (SQL_DIR / f"{name}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def local(instant: datetime) -> datetime:
    return instant.astimezone(LONDON)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def shift_of(hour: int) -> str:
    for row in reference("shifts"):
        start, end = int(row["starts_at_hour"]), int(row["ends_at_hour"])
        if (start <= hour < end) if start < end else (hour >= start or hour < end):
            return row["shift"]
    raise AssertionError(f"no shift covers hour {hour}")


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


# --- crime -------------------------------------------------------------------------------------

def true_crimes(layout: DataLayout) -> list[dict]:
    places = true_places(layout, "crime")
    return [{"day": local(f["occurred_at"]).date(), "category": f["crime_category"], "outcome": f["outcome"],
             "hocr_code": f["hocr_code"], "lpa": places[key]["lpa"], "lsoa": places[key]["lsoa_code"], "key": key}
            for key, f in true_facts(layout, "crime").items()]


def test_crimes_per_lsoa_week_and_month_with_changes_match_the_ground_truth(estate):
    crimes = true_crimes(estate)
    first_day = min(c["day"] for c in crimes)
    for table, period_of, previous_of in (
        ("crime_by_lsoa_week", week_start, lambda start: start - timedelta(days=7)),
        ("crime_by_lsoa_month", lambda d: d.replace(day=1), lambda start: (start - timedelta(days=1)).replace(day=1)),
    ):
        expected = Counter((period_of(c["day"]), c["lpa"], c["lsoa"], c["category"]) for c in crimes)
        rows = published(estate, f"""SELECT period_start, lpa, lsoa_code, crime_category, crimes, previous_period_crimes,
                                            change_vs_previous_period, same_period_last_year_crimes FROM marts.{table}""")
        assert {r[:4]: r[4] for r in rows if r[4] > 0} == expected, table
        for start, lpa, lsoa, category, count, previous, change, last_year in rows:
            if start > first_day:  # the data reach back to the previous period
                assert previous == expected.get((previous_of(start), lpa, lsoa, category), 0), (table, start, lsoa)
                assert change == count - previous
            else:
                assert previous is None and change is None
            assert last_year is None  # a week of data does not reach back a year
    assert len(expected) > 100


def test_outcome_rates_and_hotspots_match_the_ground_truth(estate):
    crimes = true_crimes(estate)
    groups = Counter((c["day"].replace(day=1), c["lpa"], c["category"]) for c in crimes)
    outcomes = Counter((c["day"].replace(day=1), c["lpa"], c["category"], c["outcome"]) for c in crimes)
    rows = published(estate, "SELECT month_start, lpa, crime_category, outcome, crimes, share_of_crimes FROM marts.crime_outcomes")
    assert {r[:4]: r[4] for r in rows} == outcomes
    assert all(close(r[5], outcomes[r[:4]] / groups[r[:3]]) for r in rows)

    last_day = max(c["day"] for c in crimes)
    recent = [c for c in crimes if c["day"] > last_day - timedelta(days=28)]
    per_lsoa = Counter((c["lpa"], c["lsoa"]) for c in recent)
    per_area = Counter(c["lpa"] for c in recent)
    expected = []
    for lpa in sorted(per_area):
        ranked = sorted(((n, lsoa) for (area, lsoa), n in per_lsoa.items() if area == lpa), key=lambda t: (-t[0], t[1]))
        expected += [(lpa, rank, lsoa, n, n / per_area[lpa]) for rank, (n, lsoa) in enumerate(ranked[:10], start=1)]
    rows = published(estate, """SELECT lpa, rank, lsoa_code, crimes, share_of_area_crimes FROM marts.crime_hotspots
                                ORDER BY lpa, rank""")
    assert [r[:4] for r in rows] == [e[:4] for e in expected]
    assert all(close(r[4], e[4]) for r, e in zip(rows, expected))


# --- incidents ---------------------------------------------------------------------------------

def true_incidents(layout: DataLayout) -> list[dict]:
    places = true_places(layout, "incidents")
    targets = {int(r["grade_code"]): float(r["attend_within_minutes"]) if r["attend_within_minutes"] else None
               for r in reference("response_targets")}
    out = []
    for key, f in true_facts(layout, "incidents").items():
        received = f["received_at"]

        def minutes(instant, received=received):
            return None if instant is None else (instant - received).total_seconds() / 60

        out.append({"key": key, "channel": f["channel"], "grade": f["grade"], "lpa": places[key]["lpa"],
                    "received": local(received), "day": local(received).date(), "shift": shift_of(local(received).hour),
                    "target": targets[f["grade"]], "dispatch": minutes(f["dispatched_at"]),
                    "attendance": minutes(f["arrived_at"]),
                    "answer": None if f["answered_at"] is None else (f["answered_at"] - received).total_seconds(),
                    "dispatched_at": f["dispatched_at"], "closed_at": f["closed_at"]})
    return out


def response_figures(incidents: list[dict]) -> tuple:
    attended = [i["attendance"] for i in incidents if i["attendance"] is not None]
    dispatched = [i["dispatch"] for i in incidents if i["dispatch"] is not None]
    target = incidents[0]["target"]
    within = None if target is None else sum(1 for a in attended if a <= target)
    share = None if target is None or not attended else within / len(attended)
    return (len(incidents), len(dispatched), len(attended), within, share, percentile(dispatched, 50),
            percentile(dispatched, 90), percentile(attended, 50), percentile(attended, 90))


def test_attendance_against_target_per_area_and_shift_matches_the_ground_truth(estate):
    incidents = true_incidents(estate)
    by_day = defaultdict(list)
    for i in incidents:
        by_day[(i["day"], i["lpa"], i["shift"], i["grade"])].append(i)
    rows = published(estate, """
        SELECT period_start, lpa, shift, grade_code, incidents, dispatched, attended, attended_within_target,
               share_within_target, median_dispatch_minutes, p90_dispatch_minutes, median_attendance_minutes,
               p90_attendance_minutes
        FROM marts.incident_response WHERE period_unit = 'day' AND lpa <> 'All areas' AND shift <> 'All shifts'""")
    assert {r[:4] for r in rows} == set(by_day)
    for row in rows:
        assert all(close(a, b) for a, b in zip(row[4:], response_figures(by_day[row[:4]]))), row

    # the headline: emergencies attended within 15 minutes, force-wide, this month
    emergencies = [i for i in incidents if i["grade"] == 1]
    expected = response_figures(emergencies)
    (share, median, p90), = published(estate, """
        SELECT share_within_target, median_attendance_minutes, p90_attendance_minutes FROM marts.incident_response
        WHERE period_unit = 'month' AND lpa = 'All areas' AND shift = 'All shifts' AND grade_code = 1""")
    assert close(share, expected[4]) and close(median, expected[7]) and close(p90, expected[8])
    assert 0.5 < share < 1 and len(emergencies) > 1000


def test_volumes_by_grade_and_hour_and_call_answering_match_the_ground_truth(estate):
    incidents = true_incidents(estate)
    volumes = Counter((i["day"], i["received"].hour, i["lpa"], i["channel"], i["grade"]) for i in incidents)
    rows = published(estate, "SELECT incident_date, hour, lpa, channel, grade_code, incidents FROM marts.incident_volumes")
    assert {r[:5]: r[5] for r in rows} == volumes

    targets = {r["channel"]: float(r["answer_within_seconds"]) for r in reference("answer_targets")}
    for channel, target in targets.items():
        calls = [i for i in incidents if i["channel"] == channel]
        answers = [i["answer"] for i in calls if i["answer"] is not None]
        (count, share, median, p90), = published(estate, f"""
            SELECT calls, share_within_target, median_answer_seconds, p90_answer_seconds FROM marts.call_answering
            WHERE period_unit = 'month' AND lpa = 'All areas' AND channel = '{channel}'""")
        assert count == len(calls) > 0
        assert close(share, sum(1 for a in answers if a <= target) / len(calls))
        assert close(median, percentile(answers, 50)) and close(p90, percentile(answers, 90))


def test_officer_availability_matches_the_roster_and_allocations_of_the_ground_truth(estate):
    roster_officer = true_people(estate, "duty_roster", "officer")
    duties = [dict(f, officer=roster_officer[key]) for key, f in true_facts(estate, "duty_roster").items()]
    incident_officer = true_people(estate, "incidents", "officer")
    allocations = defaultdict(list)
    for i in true_incidents(estate):
        if i["key"] in incident_officer and i["dispatched_at"] is not None:
            allocations[incident_officer[i["key"]]].append((i["dispatched_at"], i["closed_at"]))
    expected = {}
    for day in sorted({d["duty_date"] for d in duties}):
        hour = datetime(day.year, day.month, day.day, tzinfo=LONDON)
        while hour.astimezone(LONDON).date() == day:
            on_duty = Counter()
            committed = Counter()
            for duty in duties:
                if duty["duty_status"] == "On duty" and duty["shift_start"] <= hour < duty["shift_end"]:
                    on_duty[duty["lpa"]] += 1
                    committed[duty["lpa"]] += any(start <= hour < end for start, end in allocations[duty["officer"]])
            for lpa in {d["lpa"] for d in duties}:
                expected[(hour, lpa)] = (on_duty[lpa], committed[lpa])
            hour = (hour.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(LONDON)
    rows = published(estate, "SELECT hour_start, lpa, on_duty, committed, free FROM marts.officer_availability")
    assert {(h, lpa): (n, c) for h, lpa, n, c, _ in rows} == expected
    assert all(free == n - c >= 0 for _, _, n, c, free in rows)
    assert sum(c for _, c in expected.values()) > 0


# --- offender harm -----------------------------------------------------------------------------

def test_offender_harm_top_100_per_area_matches_the_ground_truth(estate):
    weights = {r["hocr_code"]: float(r["harm_weight_days"]) for r in reference("harm_weights")}
    suspects = true_people(estate, "crime", "suspect")
    crimes = [c for c in true_crimes(estate) if c["key"] in suspects]
    as_at = max(c["day"] for c in true_crimes(estate))
    window = [c for c in crimes if as_at - timedelta(days=365) < c["day"] <= as_at]  # a week of data: all of it
    harm, count = defaultdict(float), Counter()
    for c in window:
        harm[(c["lpa"], suspects[c["key"]])] += weights[c["hocr_code"]]
        count[(c["lpa"], suspects[c["key"]])] += 1
    expected = []
    for lpa in sorted({lpa for lpa, _ in harm}):
        people = sorted(((h, count[(a, p)], p) for (a, p), h in harm.items() if a == lpa), key=lambda t: (-t[0], -t[1], t[2]))
        expected += [(lpa, rank, person, h) for rank, (h, _, person) in enumerate(people[:100], start=1)]
    rows = published(estate, "SELECT lpa, rank_in_area, entity_id, harm_12m FROM marts.offender_harm_top ORDER BY lpa, rank_in_area")
    assert rows == expected
    per_person = defaultdict(float)
    for (_, person), h in harm.items():
        per_person[person] += h
    rows = published(estate, "SELECT entity_id, harm_12m, harm_previous_12m FROM marts.offender_harm")
    assert {e: h for e, h, _ in rows} == per_person
    assert all(previous is None for *_, previous in rows)  # the data do not reach back a year
    # names come from the golden record, for the people on the list only
    people = {p["person_id"]: p for p in pq.read_table(estate.ground_truth / "people.parquet").to_pylist()}
    named = published(estate, "SELECT entity_id, surname, dob FROM marts.offender_harm_top")
    assert all((people[e]["surname"], people[e]["dob"]) == (s, d) for e, s, d in named)


# --- no personal data; restricted marked ------------------------------------------------------

IDENTIFYING = {"forename", "surname", "dob", "birth", "pnc", "cro", "phone", "address", "postcode", "uprn", "collar",
               "entity", "person", "caller", "victim", "suspect", "officer", "ni"}


def test_aggregate_marts_hold_no_personal_data_and_offender_harm_is_restricted(estate, declarations):
    personal_columns = set()
    for feed in declarations.values():
        personal = {c.name for c in feed.columns if c.personal_data != "none"}
        personal_columns |= personal
        personal_columns |= {canonical for canonical, _, source in feed.pole.pole_columns() if source in personal}
    personal_values = set()
    with open_warehouse(estate.warehouse, read_only=True) as con:
        for feed in ("crime", "incidents", "duty_roster"):
            columns = [c for c, in con.execute(f"SELECT column_name FROM (DESCRIBE staged.{feed})").fetchall()
                       if c in personal_columns]
            for column in columns:
                personal_values |= {str(v) for v, in con.execute(
                    f"SELECT DISTINCT {column} FROM staged.{feed} WHERE {column} IS NOT NULL").fetchall()}
        assert len(personal_values) > 1000
        for mart in AGGREGATE_MARTS:
            for table in mart.tables:
                columns = con.execute(f"DESCRIBE marts.{table.name}").fetchall()
                names = [name for name, *_ in columns]
                assert not set(names) & personal_columns, table.name
                assert not [n for n in names if set(n.split("_")) & IDENTIFYING], table.name
                for name, kind, *_ in columns:
                    if kind == "VARCHAR":
                        values = {v for v, in con.execute(f"SELECT DISTINCT {name} FROM marts.{table.name}").fetchall()}
                        assert not values & personal_values, (table.name, name, sorted(values & personal_values)[:5])
        restricted = dict(con.execute("SELECT mart, bool_and(restricted) FROM marts.published_marts GROUP BY mart").fetchall())
    assert restricted == {"crime": False, "incidents": False, "offender_harm": True}


# --- write, audit, publish ---------------------------------------------------------------------

def snapshot(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict:
    state = {t: con.execute(f"SELECT * FROM marts.{t} ORDER BY ALL").fetchall() for t in tables}
    state["published_at"] = con.execute("SELECT mart, max(published_at) FROM marts.published_marts GROUP BY ALL ORDER BY ALL").fetchall()
    return state


def test_a_failing_audit_leaves_the_previous_incident_mart_published(estate, tmp_path):
    layout = DataLayout(tmp_path / "data")
    for feed in ("incidents", "duty_roster"):
        shutil.copytree(estate.layer_dir(feed, "staged"), layout.layer_dir(feed, "staged"))
    tables = [t.name for t in INCIDENTS.tables]
    with open_warehouse(layout.warehouse) as con:
        register_lake_views(con, layout, ["incidents", "duty_roster"])
        build_incident_mart(con)
        before = snapshot(con, tables)

        # a new day arrives from a command-and-control system whose clock ran behind: officers
        # "arrive" before the call came in
        last = max(layout.layer_dir("incidents", "staged").glob("*.parquet"))
        bad = layout.partition_file("incidents", "staged", "2026-10-08")
        con.execute(f"""COPY (SELECT * REPLACE (_record_key || '-next' AS _record_key, '2026-10-08' AS _partition,
                                                received_at + INTERVAL 1 DAY AS received_at,
                                                received_at + INTERVAL 1 DAY - INTERVAL 5 MINUTE AS arrived_at)
                              FROM read_parquet('{last}')) TO '{bad}' (FORMAT parquet)""")
        with pytest.raises(MartAuditFailed) as failure:
            build_incident_mart(con)
        assert "times_not_negative" in [a.name for a in failure.value.failed]
        assert "before they were received" in str(failure.value)
        assert snapshot(con, tables) == before  # readers still see the last good version
        candidate = con.execute("SELECT count(*) FROM scratch_incidents._incidents").fetchone()[0]
        assert candidate > con.execute("SELECT sum(incidents) FROM marts.incident_volumes").fetchone()[0]

        bad.unlink()
        build_incident_mart(con)
        after = snapshot(con, tables)
        assert after["published_at"] != before["published_at"]
        assert {t: after[t] for t in tables} == {t: before[t] for t in tables}
        assert con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'scratch_incidents'").fetchone()[0] == 0


def test_a_harm_weight_table_missing_an_offence_does_not_replace_the_published_harm(estate, tmp_path):
    weights = tmp_path / "harm_weights.csv"
    lines = (SQL_DIR / "harm_weights.csv").read_text().splitlines(keepends=True)
    weights.write_text("".join(line for line in lines if not line.startswith("46,")))  # shoplifting left out
    warehouse = tmp_path / "warehouse.duckdb"
    with open_warehouse(warehouse) as con:
        register_lake_views(con, estate, ["crime"])
        put_entities_from_truth(con, estate)
        build_offender_harm_mart(con)
        before = snapshot(con, [t.name for t in OFFENDER_HARM.tables] + ["harm_weights"])
        with pytest.raises(MartAuditFailed) as failure:
            build_offender_harm_mart(con, harm_weights=weights)
        assert "every_offence_weighted" in [a.name for a in failure.value.failed]
        assert "HOCR code 46 has no harm weight" in str(failure.value)
        assert snapshot(con, [t.name for t in OFFENDER_HARM.tables] + ["harm_weights"]) == before


def test_a_bad_reference_row_is_named_by_file_line_and_field(tmp_path):
    path = tmp_path / "response_targets.csv"
    path.write_text("grade_code,grade_label,attend_within_minutes,source\n1,Emergency,15,x\n2,Priority,an hour,y\n")
    table = ReferenceTable("response_targets", path, {"grade_code": "integer", "grade_label": "text",
                                                      "attend_within_minutes": "number"}, key="grade_code")
    with pytest.raises(ValueError, match=r"response_targets.csv, line 3, field attend_within_minutes: 'an hour' is not a number"):
        table.read()
    path.write_text("grade_code,grade_label,attend_within_minutes,source\n1,Emergency,15,\n")
    with pytest.raises(ValueError, match=r"line 2, field source: every row names its source"):
        table.read()


# --- Dagster -----------------------------------------------------------------------------------

def test_the_mart_assets_publish_every_mart_with_charts_and_a_report(estate):
    assets = mart_assets()
    specs = {spec.key.to_user_string(): spec for a in assets for spec in a.specs}
    assert set(specs) == {
        "marts/crime/by_lsoa_week", "marts/crime/by_lsoa_month", "marts/crime/by_area_day", "marts/crime/outcomes",
        "marts/crime/hotspots", "marts/incidents/volumes", "marts/incidents/response", "marts/incidents/call_answering",
        "marts/incidents/response_time_distribution", "marts/incidents/officer_availability", "marts/offender_harm"}
    for key, spec in specs.items():
        assert spec.group_name == "marts" and spec.kinds == {"duckdb"} and spec.owners and spec.description, key
        deps = {d.asset_key.to_user_string() for d in spec.deps}
        assert "warehouse/feeds" in deps, key
        assert spec.tags["sensitivity"] == ("restricted" if key == "marts/offender_harm" else "official"), key
        assert spec.automation_condition is not None, key
    assert "entities/person" in {d.asset_key.to_user_string() for d in specs["marts/offender_harm"].deps}
    assert all(a.op.pool == "warehouse" for a in assets)

    result = dg.materialize(assets, resources={"lake": LakeResource(data_dir=str(estate.root))})
    assert result.success
    metadata = {e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
                for e in result.get_asset_materialization_events()}
    assert set(metadata) == set(specs)
    assert metadata["marts/incidents/response_time_distribution"]["chart"].value.startswith("![response times](data:image/svg+xml;base64,")
    assert metadata["marts/crime/by_area_day"]["chart"].value.startswith("![crime trend](data:image/svg+xml;base64,")
    assert metadata["marts/crime/by_lsoa_week"]["dagster/row_count"].value > 0
    report = Path(metadata["marts/crime/hotspots"]["report"].value)
    html = report.read_text()
    assert report.parent == estate.reports and html.count("<svg") == 3 and "within 15 min" in html
    listed = published(estate, "SELECT entity_id, forename || ' ' || surname FROM marts.offender_harm_top")
    assert listed and not any(entity in html or name in html for entity, name in listed)
