"""End to end, with nothing in process: `dagster dev` (web UI, daemon, code server) over a data
folder already holding the other feeds; files dropped into a landing folder are loaded with no
manual step, then merged into the entities by the match-and-merge cycle, then the marts and the
published snapshot refresh by automation; a second delivery loads nothing, an unknown file is
reported, and a backfill over a date range launched through the UI's API runs as one run while
the UI is open. Everything started is stopped.

The cycle runs every minute here (WMP_MERGE_CRON), every two hours in production.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from conftest import FEEDS_DIR, REPO, stage_landed
from wmp_platform.alerts import read_alerts
from wmp_platform.declarations import load_declarations
from wmp_platform.snapshot import current_snapshot
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic import generate_estate

DAGSTER = str(Path(sys.executable).with_name("dagster"))
DEADLINE_SECONDS = 420  # a hard stop; about 150 s on 2 idle cores
# loaded before the platform starts: what the crime and incident marts read besides crime
ALREADY_LOADED = ("gazetteer", "incidents", "duty_roster")
MERGED = [dg.AssetKey(["warehouse", "feeds"]), dg.AssetKey(["entities", "person"]), dg.AssetKey(["entities", "pole_links"])]
AFTER_MERGE = [dg.AssetKey(["marts", "crime", "by_lsoa_week"]), dg.AssetKey(["marts", "incidents", "response"]),
               dg.AssetKey(["marts", "offender_harm"]), dg.AssetKey(["published", "snapshot"])]
INSTANCE = """\
telemetry: {enabled: false}
concurrency:
  pools: {default_limit: 1}
  runs: {max_concurrent_runs: 3}
"""
LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(what: str, condition, deadline: float, every: float = 0.5):
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    raise TimeoutError(f"gave up waiting for {what}")


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def platform(tmp_path, monkeypatch):
    """`dagster dev` over a data folder holding the feeds other than crime (staged, no Dagster
    runs), stopped (with every process it started) afterwards."""
    layout = DataLayout(tmp_path / "data")
    generate_estate(tmp_path / "estate", size="tiny", seed=7)
    feeds = load_declarations(FEEDS_DIR)
    for name in ALREADY_LOADED:
        shutil.copytree(tmp_path / "estate" / "landing" / name, layout.feed_landing(name))
    stage_landed(layout, [feeds[name] for name in ALREADY_LOADED])
    layout.dagster_home.mkdir(parents=True)
    (layout.dagster_home / "dagster.yaml").write_text(INSTANCE)
    port = free_port()
    env = {**os.environ, "WMP_DATA_DIR": str(layout.root), "DAGSTER_HOME": str(layout.dagster_home),
           "WMP_LANDING_INTERVAL_SECONDS": "2", "WMP_LANDING_SETTLE_SECONDS": "1", "WMP_MERGE_CRON": "* * * * *",
           "WMP_AUTOMATION_INTERVAL_SECONDS": "5"}
    monkeypatch.setenv("DAGSTER_HOME", str(layout.dagster_home))
    with dg.DagsterInstance.get() as instance:  # storage created here, not raced for by dagster dev's processes
        instance.get_run_records(limit=1)
        instance.get_latest_materialization_event(dg.AssetKey(["warehouse", "feeds"]))
    log = (tmp_path / "dagster-dev.log").open("w")
    process = subprocess.Popen(
        [DAGSTER, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)], cwd=REPO, env=env,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield layout, tmp_path / "estate" / "landing", port, time.monotonic() + DEADLINE_SECONDS
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
        try:  # run workers started by the daemon share the session; none may outlive the test
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_dropped_files_flow_to_the_entities_marts_and_snapshot_and_a_backfill_runs_from_the_ui(platform):
    layout, estate, port, deadline = platform
    instance = dg.DagsterInstance.get()

    def landing_runs():
        return instance.get_runs(filters=dg.RunsFilter(tags={"dagster/sensor_name": "landing_files"}))

    wait_for("the web UI", lambda: _answers(port), deadline)
    (layout.landing / "crime").mkdir(parents=True)
    days = ("2026-10-01", "2026-10-02", "2026-10-03")
    for day in days:  # written under a hidden name and renamed into place, as senders should
        name = f"crime_{day.replace('-', '')}.csv"
        shutil.copyfile(estate / "crime" / name, layout.landing / "crime" / f".{name}.part")
        os.replace(layout.landing / "crime" / f".{name}.part", layout.landing / "crime" / name)

    # three days delivered at once: one run over the range
    [run] = wait_for("the landing sensor's run", landing_runs, deadline)
    run = wait_for("the run to finish", lambda: (r := instance.get_run_by_id(run.run_id)).is_finished and r, deadline)
    assert run.status == dg.DagsterRunStatus.SUCCESS, _log(layout)
    assert (run.job_name, run.tags["dagster/asset_partition_range_start"], run.tags["dagster/asset_partition_range_end"]) == (
        "ingest_daily_feeds", "2026-10-01", "2026-10-03")
    for day in days:
        raw = pq.ParquetFile(layout.partition_file("crime", "raw", day)).metadata.num_rows
        staged = pq.ParquetFile(layout.partition_file("crime", "staged", day)).metadata.num_rows
        quarantined = pq.ParquetFile(layout.partition_file("crime", "quarantine", day)).metadata.num_rows
        assert staged > 0 and staged + quarantined == raw
    checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(["feeds", "crime", "staged"]), "reconciliation")])
    assert [c.status.value for c in checks.values()] == ["SUCCEEDED"]

    # a day delivered again, then a file no feed reads: once the unknown file is reported, the
    # tick that saw the second delivery has passed
    shutil.copyfile(estate / "crime" / "crime_20261002.csv", layout.landing / "crime" / "crime_20261002.csv")
    (layout.landing / "court_results").mkdir()
    (layout.landing / "court_results" / "results_20261002.csv").write_text("case,result\n")
    wait_for("the unknown file's alert", lambda: read_alerts(layout, kind="landing_unknown_folder"), deadline)
    assert len(landing_runs()) == 1

    # a backfill over the three days from the UI's API, with the UI open: one run (single-run
    # policy); of the raw layer alone, to keep the test short
    keys = [{"path": ["feeds", "crime", "raw"]}]
    answer = graphql(port, LAUNCH_BACKFILL, {"params": {
        "assetSelection": keys, "partitionNames": ["2026-10-01", "2026-10-02", "2026-10-03"]}})
    launched = answer["data"]["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", answer
    # meanwhile the cycle merged the loaded files, and automation refreshed the marts and snapshot after it
    loaded = instance.get_run_record_by_id(run.run_id).end_time
    cycle = wait_for("a match-and-merge cycle after the load", lambda: [
        r for r in instance.get_run_records(dg.RunsFilter(tags={"dagster/schedule_name": "match_and_merge_cycle"}))
        if r.start_time and r.start_time > loaded and r.dagster_run.is_finished], deadline)[-1]
    assert cycle.dagster_run.status == dg.DagsterRunStatus.SUCCESS, _log(layout)
    merged = {key: instance.get_latest_materialization_event(key) for key in MERGED}
    assert {key: event.run_id for key, event in merged.items()} == dict.fromkeys(MERGED, cycle.dagster_run.run_id)
    person = merged[dg.AssetKey(["entities", "person"])].asset_materialization.metadata
    assert person["dagster/row_count"].value > 0
    # the KPI marts follow the warehouse views (refreshed first in the cycle), offender harm the
    # person entities, the snapshot everything
    refreshed = wait_for("the marts and snapshot after the cycle", lambda: all(
        (e := instance.get_latest_materialization_event(key)) and e.timestamp > cycle.start_time for key in AFTER_MERGE)
        and [instance.get_latest_materialization_event(key) for key in AFTER_MERGE], deadline)
    for event in refreshed:
        after = instance.get_run_by_id(event.run_id)
        assert after.status != dg.DagsterRunStatus.FAILURE and after.tags.get("dagster/sensor_name") == "automation"
    assert refreshed[-1].timestamp == max(e.timestamp for e in refreshed)  # published last
    assert current_snapshot(layout).exists()

    backfill_runs = wait_for("the backfill's run", lambda: [
        r for r in instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": launched["backfillId"]}))
        if r.is_finished], deadline)
    assert [(r.status, r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in backfill_runs] == [(dg.DagsterRunStatus.SUCCESS, "2026-10-01", "2026-10-03")]
    assert read_alerts(layout, kind="run_failure") == []


def _log(layout: DataLayout) -> str:
    return (layout.root.parent / "dagster-dev.log").read_text()[-5000:]


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
