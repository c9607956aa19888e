"""End to end, with nothing in process: `dagster dev` (web UI, daemon, code server) over a data
folder; a file dropped into a landing folder is loaded with no manual step, its second
delivery is not, an unknown file is reported, and a backfill over a date range launched
through the UI's API runs as one run while the UI is open. Everything started is stopped.

When the merge and mart assets exist, this test extends to them: the same file should be
seen in entities and marts.
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

from conftest import REPO
from wmp_platform.alerts import read_alerts
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic import generate_estate

DAGSTER = str(Path(sys.executable).with_name("dagster"))
DEADLINE_SECONDS = 240  # a hard stop; about 90 s on 2 idle cores
INSTANCE = """\
telemetry: {enabled: false}
concurrency:
  pools: {default_limit: 1}
  runs: {max_concurrent_runs: 2}
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
    """`dagster dev` over a fresh data folder, stopped (with every process it started) afterwards."""
    layout = DataLayout(tmp_path / "data")
    generate_estate(tmp_path / "estate", size="tiny", seed=7)
    layout.dagster_home.mkdir(parents=True)
    (layout.dagster_home / "dagster.yaml").write_text(INSTANCE)
    port = free_port()
    env = {**os.environ, "WMP_DATA_DIR": str(layout.root), "DAGSTER_HOME": str(layout.dagster_home),
           "WMP_LANDING_INTERVAL_SECONDS": "2", "WMP_LANDING_SETTLE_SECONDS": "1"}
    monkeypatch.setenv("DAGSTER_HOME", str(layout.dagster_home))
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


def test_a_dropped_file_is_loaded_by_the_daemon_and_a_backfill_runs_from_the_ui(platform):
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
    assert run.status == dg.DagsterRunStatus.SUCCESS, (layout.root.parent / "dagster-dev.log").read_text()[-5000:]
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
    backfill_runs = wait_for("the backfill's run", lambda: [
        r for r in instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": launched["backfillId"]}))
        if r.is_finished], deadline)
    assert [(r.status, r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in backfill_runs] == [(dg.DagsterRunStatus.SUCCESS, "2026-10-01", "2026-10-03")]
    assert read_alerts(layout, kind="run_failure") == []


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
