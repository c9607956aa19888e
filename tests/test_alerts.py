"""Alerts: the table in the data folder, the file and webhook sinks (a real HTTP server), and the
run-failure sensor on a real failed run of the platform's code location."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from code_location import code_location, empty_data_folder, execute
from wmp_platform import alerts
from wmp_platform.synthetic import generate_estate

CRIME = [dg.AssetKey(["feeds", "crime", "raw"]), dg.AssetKey(["feeds", "crime", "staged"])]


class Webhook:
    """A local HTTP server that keeps every JSON body POSTed to it and answers `status`."""

    def __init__(self, status: int = 200):
        self.bodies: list[dict] = []
        self.status = status
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                received.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(received.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def test_alerts_are_kept_in_the_table_once_each(layout):
    failure = alerts.run_failure("3f2a9c41-0000", "ingest_daily_feeds", "2026-10-02", "feeds__crime__raw", "ValueError: boom\n  at x")
    unknown = alerts.landing_problem("unknown_folder", "court/x.csv", "no feed reads folder 'court'", None, changed_ns=1)
    alerts.record(layout, [failure, unknown])
    alerts.record(layout, [failure])  # the same failure recorded again, e.g. a retried tick

    table = alerts.read_alerts(layout)
    assert [(a["kind"], a["run_id"], a["file"]) for a in table] == [
        ("run_failure", "3f2a9c41-0000", None), ("landing_unknown_folder", None, "court/x.csv")]
    assert table[0]["summary"] == "ingest_daily_feeds run 3f2a9c41 (2026-10-02): step feeds__crime__raw failed: ValueError: boom"
    assert [a["kind"] for a in alerts.read_alerts(layout, kind="landing_")] == ["landing_unknown_folder"]
    assert list(layout.alerts.glob("alerts-*.jsonl")) == [alerts.alerts_table(layout)]


def test_a_file_sink_receives_one_json_line_per_alert(layout, tmp_path):
    sink = tmp_path / "ops" / "alerts.log"
    found = [alerts.landing_problem("bad_date", f"crime/crime_2026134{n}.csv", "not a date", "crime", n) for n in range(3)]
    alerts.raise_alerts(layout, found, f"file://{sink}")
    assert [json.loads(line)["file"] for line in sink.read_text().splitlines()] == [a.file for a in found]


def test_a_webhook_receives_the_alerts_as_json(layout):
    failure = alerts.run_failure("run-1", "ingest_daily_feeds", None, None, "the run worker exited")
    with Webhook() as hook:
        alerts.raise_alerts(layout, [failure], hook.url)
    [body] = hook.bodies
    assert body["text"] == "ingest_daily_feeds run run-1: the run failed: the run worker exited"
    assert body["alerts"][0]["run_id"] == "run-1" and body["alerts"][0]["id"] == failure.id


def test_a_webhook_that_fails_is_an_error_and_the_table_keeps_the_alert(layout):
    failure = alerts.run_failure("run-2", "ingest_daily_feeds", None, None, "boom")
    with Webhook(status=500) as hook:
        with pytest.raises(alerts.AlertSinkError, match="answered HTTP 500"):
            alerts.raise_alerts(layout, [failure], hook.url)
    with pytest.raises(alerts.AlertSinkError, match="unreachable"):
        alerts.send([failure], "http://127.0.0.1:9/nothing-listens-here", timeout=2)
    assert [a["run_id"] for a in alerts.read_alerts(layout)] == ["run-2"]


# --- the run-failure sensor ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def defs(data_dir):
    return code_location(data_dir)


def test_a_failed_run_is_recorded_and_sent_with_its_step_and_error(defs, data_dir, tmp_path, monkeypatch):
    layout = empty_data_folder(data_dir)
    generate_estate(tmp_path / "estate", size="tiny", seed=5)
    # the crime system renames a column: the load rejects the file, and the run fails
    landed = layout.feed_landing("crime") / "crime_20261002.csv"
    landed.parent.mkdir(parents=True)
    header, rest = (tmp_path / "estate/landing/crime/crime_20261002.csv").read_text().split("\n", 1)
    landed.write_text(header.replace("HOCR_CODE", "HOCR_CODE_V2", 1) + "\n" + rest)
    assert landed.read_text().startswith("CRIME_REF,HOCR_CODE_V2,")

    instance = dg.DagsterInstance.ephemeral()
    sensor = defs.resolve_sensor_def("run_failure_alerts")
    context = dg.build_sensor_context(instance=instance, definitions=defs, resources=defs.resources)
    sensor.evaluate_tick(context)  # the first tick starts watching from now

    request = dg.RunRequest(job_name="ingest_daily_feeds", asset_selection=CRIME, partition_key="2026-10-02")
    failed = execute(defs, request, instance, raise_on_error=False)
    assert not failed.success

    with Webhook() as hook:
        monkeypatch.setenv("WMP_ALERT_SINK", hook.url)
        sensor.evaluate_tick(context)
    [alert] = alerts.read_alerts(layout, kind="run_failure")
    assert (alert["run_id"], alert["job"], alert["step"], alert["partition"]) == (
        failed.run_id, "ingest_daily_feeds", "feeds__crime__raw", "2026-10-02")
    # the error the load raised, not Dagster's wrapper of it
    assert alert["summary"].startswith(
        f"ingest_daily_feeds run {failed.run_id[:8]} (2026-10-02): step feeds__crime__raw failed: "
        f"wmp_platform.readers.SchemaDriftError: {landed}: schema differs from feed 'crime'")
    assert "undeclared column(s) ['HOCR_CODE_V2']" in alert["error"] and "Stack trace:" in alert["error"]
    assert [a["run_id"] for body in hook.bodies for a in body["alerts"]] == [failed.run_id]

    sensor.evaluate_tick(context)  # a failure is reported once
    assert len(alerts.read_alerts(layout, kind="run_failure")) == 1
