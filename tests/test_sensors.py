"""The landing sensor on real landing folders, with the platform's real code location and a real
Dagster instance: new files ask for runs of their partitions, once; unloadable files are reported."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import dagster as dg
import pytest

from code_location import code_location, empty_data_folder, execute
from conftest import FIXTURES
from wmp_platform.alerts import read_alerts
from wmp_platform.declarations import load_declaration, load_declarations
from wmp_platform.landing_watch import LandingCursor, scan_landing

CRIME = [dg.AssetKey(["feeds", "crime", "raw"]), dg.AssetKey(["feeds", "crime", "staged"])]


@pytest.fixture(scope="module")
def defs(data_dir):
    return code_location(data_dir, WMP_LANDING_SETTLE_SECONDS="0")


@pytest.fixture
def layout(data_dir):
    return empty_data_folder(data_dir)


def deliver(landing, layout, *names: str, as_name: str | None = None):
    """Copy landing files of the synthetic estate into the data folder, as a sender would."""
    for name in names:
        target = layout.landing / (as_name or name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(landing / name, target)
    return layout.landing / (as_name or names[-1])


def tick(defs, instance, cursor=None) -> dg.SensorExecutionData:
    sensor = defs.resolve_sensor_def("landing_files")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs, resources=defs.resources)
    return sensor.evaluate_tick(context)


def test_a_new_file_asks_for_one_run_of_its_partition(defs, tiny_landing, layout):
    landed = deliver(tiny_landing, layout, "crime/crime_20261002.csv")
    result = tick(defs, dg.DagsterInstance.ephemeral())

    [request] = result.run_requests
    assert request.job_name == "ingest_daily_feeds"
    assert request.asset_selection == CRIME
    assert request.partition_key == "2026-10-02"
    assert request.run_key == f"crime/2026-10-02/{hashlib.sha256(landed.read_bytes()).hexdigest()}"
    assert request.tags["wmp/landing_files"] == "crime/crime_20261002.csv"
    assert request.tags["dagster/partition"] == "2026-10-02"


def test_the_same_file_again_asks_for_nothing(defs, tiny_landing, layout):
    instance = dg.DagsterInstance.ephemeral()
    deliver(tiny_landing, layout, "crime/crime_20261002.csv")
    first = tick(defs, instance)
    [request] = first.run_requests

    again = tick(defs, instance, first.cursor)
    assert again.run_requests == [] and again.skip_message == "no new landing files"

    # the cursor lost before the run finished: the same run key, which Dagster launches only once
    assert [r.run_key for r in tick(defs, instance).run_requests] == [request.run_key]

    assert execute(defs, request, instance).success
    # delivered again with the same bytes, written in place and renamed into place
    deliver(tiny_landing, layout, "crime/crime_20261002.csv")
    redelivered = tick(defs, instance, again.cursor)
    assert redelivered.run_requests == []
    assert "1 new file(s) already loaded: crime/crime_20261002.csv" in redelivered.skip_message
    deliver(tiny_landing, layout, "crime/crime_20261002.csv", as_name="crime/.crime_20261002.csv.part")
    os.replace(layout.landing / "crime/.crime_20261002.csv.part", layout.landing / "crime/crime_20261002.csv")
    assert tick(defs, instance, redelivered.cursor).run_requests == []
    # and with no cursor at all: the lake says what is loaded
    assert tick(defs, instance).run_requests == []


def test_a_restart_with_the_saved_cursor_asks_for_nothing(defs, data_dir, tiny_landing, layout, tmp_path):
    deliver(tiny_landing, layout, "crime/crime_20261001.csv", "custody/custody_20261001.csv")
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        before = tick(defs, instance)
        assert sorted(r.asset_selection[0].path[1] for r in before.run_requests) == ["crime", "custody"]
        saved = before.cursor

    # a new code server (definitions loaded again) and the instance opened again
    restarted = code_location(data_dir, WMP_LANDING_SETTLE_SECONDS="0")
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        after = tick(restarted, instance, saved)
        assert after.run_requests == []
        deliver(tiny_landing, layout, "crime/crime_20261003.csv")
        [request] = tick(restarted, instance, after.cursor).run_requests
        assert request.partition_key == "2026-10-03"


def test_files_that_fit_no_feed_are_reported_once(defs, tiny_landing, layout, tmp_path, monkeypatch):
    sink = tmp_path / "sink.jsonl"
    monkeypatch.setenv("WMP_ALERT_SINK", str(sink))
    for name, text in {
        "court_records/results_20261001.csv": "a,b\n",        # a folder no feed reads
        "notes.txt": "hello\n",                                # the landing folder itself
        "crime/crime_2026-10-01.csv": "a\n",                   # name does not fit the pattern
        "crime/crime_20261341.csv": "a\n",                     # not a date
        "crime/crime_20201001.csv": "a\n",                     # before the feed's first partition
        "crime/old/crime_20261001.csv": "a\n",                 # a folder inside a feed's folder
    }.items():
        (layout.landing / name).parent.mkdir(parents=True, exist_ok=True)
        (layout.landing / name).write_text(text)
    deliver(tiny_landing, layout, "crime/crime_20261001.csv")
    instance = dg.DagsterInstance.ephemeral()

    result = tick(defs, instance)
    assert [r.partition_key for r in result.run_requests] == ["2026-10-01"]  # the good file still loads
    reported = {a["file"]: a["kind"] for a in read_alerts(layout)}
    assert reported == {
        "court_records/results_20261001.csv": "landing_unknown_folder",
        "notes.txt": "landing_unknown_folder",
        "crime/crime_2026-10-01.csv": "landing_unmatched_name",
        "crime/crime_20261341.csv": "landing_bad_date",
        "crime/crime_20201001.csv": "landing_outside_partitions",
        "crime/old": "landing_subfolder",
    }
    assert [json.loads(line)["file"] for line in sink.read_text().splitlines()] == list(reported)
    reasons = {a["file"]: a["summary"] for a in read_alerts(layout)}
    assert "name does not match feed 'crime' pattern 'crime_{date}.csv'" in reasons["crime/crime_2026-10-01.csv"]
    assert "partition 2020-10-01 is outside feed 'crime'" in reasons["crime/crime_20201001.csv"]
    # the UI shows the problems of a feed's folder on the feed's raw asset
    observed = {e.metadata["file"].value: e.metadata["landing_problem"].value for e in result.asset_events}
    assert observed == {name: kind.removeprefix("landing_") for name, kind in reported.items() if name.startswith("crime/")}
    assert all(e.asset_key == CRIME[0] for e in result.asset_events)

    later = tick(defs, instance, result.cursor)
    assert later.run_requests == [] and later.asset_events == []
    assert len(read_alerts(layout)) == len(reported)
    # with nothing to load, the tick says why in the UI
    (layout.landing / "notes.txt").write_text("changed\n")
    assert "1 file(s) cannot be loaded (see the alerts table): notes.txt (unknown_folder)" in tick(
        defs, instance, later.cursor).skip_message


def test_a_delivery_of_many_days_is_one_run_per_contiguous_range(defs, tiny_landing, layout):
    deliver(tiny_landing, layout, "crime/crime_20261001.csv", "crime/crime_20261002.csv", "crime/crime_20261003.csv",
            "custody/custody_20261001.csv", "custody/custody_20261003.csv", "gazetteer/gazetteer_20261001.csv")
    instance = dg.DagsterInstance.ephemeral()
    requests = {(r.tags["wmp/feed"], r.partition_key, r.tags.get("dagster/asset_partition_range_start"),
                 r.tags.get("dagster/asset_partition_range_end"), r.job_name) for r in tick(defs, instance).run_requests}
    assert requests == {
        ("crime", None, "2026-10-01", "2026-10-03", "ingest_daily_feeds"),
        ("custody", "2026-10-01", None, None, "ingest_daily_feeds"),
        ("custody", "2026-10-03", None, None, "ingest_daily_feeds"),
        ("gazetteer", None, None, None, "ingest_reference_feeds"),
    }
    [crime] = [r for r in tick(defs, instance).run_requests if r.tags["wmp/feed"] == "crime"]
    result = execute(defs, crime, instance)
    assert sorted(e.partition for e in result.get_asset_materialization_events()) == [
        "2026-10-01", "2026-10-01", "2026-10-02", "2026-10-02", "2026-10-03", "2026-10-03"]
    assert [r.tags["wmp/feed"] for r in tick(defs, instance).run_requests] == ["custody", "custody", "gazetteer"]


# --- the engine under the sensor -------------------------------------------------------------

@pytest.fixture(scope="module")
def feeds():
    return load_declarations(FIXTURES.parent.parent / "assets" / "feeds")


def test_a_file_still_being_written_waits_until_it_settles(feeds, tiny_landing, layout):
    landed = deliver(tiny_landing, layout, "crime/crime_20261001.csv")
    changed = landed.stat().st_ctime_ns
    early = scan_landing(layout, feeds.values(), now_ns=changed + 5 * 10**9, settle_seconds=30)
    assert early.requests == [] and early.settling == ["crime/crime_20261001.csv"]
    settled = scan_landing(layout, feeds.values(), early.cursor, now_ns=changed + 31 * 10**9, settle_seconds=30)
    assert [r.run_key.split("/")[:2] for r in settled.requests] == [["crime", "2026-10-01"]]
    assert scan_landing(layout, feeds.values(), settled.cursor, now_ns=changed + 60 * 10**9).requests == []


def test_a_backlog_is_worked_through_over_several_looks(feeds, tiny_landing, layout):
    names = [f"crime/crime_2026100{day}.csv" for day in (1, 2, 3)]
    deliver(tiny_landing, layout, *names)
    cursor, asked = None, []
    for _ in range(3):  # no time to hash: one file per folder per look
        scan = scan_landing(layout, feeds.values(), cursor, settle_seconds=0, hash_budget_seconds=0)
        asked += [d.name for r in scan.requests for d in r.deliveries]
        cursor = LandingCursor.from_json(scan.cursor.to_json())
    assert asked == names
    assert scan_landing(layout, feeds.values(), cursor, settle_seconds=0).requests == []


def test_declaring_a_feed_for_a_folder_makes_its_files_load(feeds, layout):
    shutil.copytree(FIXTURES / "court_results" / "landing", layout.feed_landing("court_results"))
    before = scan_landing(layout, feeds.values(), settle_seconds=0)
    assert {p.kind for p in before.problems} == {"unknown_folder"} and before.requests == []
    court_results = load_declaration(FIXTURES / "court_results" / "defs.yaml")
    after = scan_landing(layout, [*feeds.values(), court_results], before.cursor, settle_seconds=0)
    assert [(r.feed, r.partitions) for r in after.requests] == [("court_results", ("2026-10-01", "2026-10-02"))]


def test_an_unreadable_cursor_is_a_clear_error():
    with pytest.raises(ValueError, match="landing cursor is not readable"):
        LandingCursor.from_json('{"version": 0}')

