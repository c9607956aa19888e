"""Freshness of feeds and of what the merge refreshes, as Dagster itself judges it and the UI shows it.

The platform's real code location is loaded as the daemon loads it (workspace.yaml's module), a
feed's raw asset is materialised in a real instance with a real run, the freshness daemon's own
evaluation runs once at chosen moments after it, and the verdict is read back through the web
UI's GraphQL API.

Dagster has no public API to run one freshness evaluation or to set the clock it reads, so
this test drives the daemon class directly under Dagster's own time-freezing helper.
"""

import shutil

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.freshness import FreshnessDaemon
from dagster_graphql.test.utils import execute_dagster_graphql

from code_location import code_location
from conftest import REPO
from sensors import RefreshSettings
from wmp_platform.definitions import DATA_QUALITY_MART
from wmp_platform.synthetic import generate_estate

FEED = "crime"
RAW = dg.AssetKey(["feeds", FEED, "raw"])
STAGED = dg.AssetKey(["feeds", FEED, "staged"])
MERGE_EVERY_HOURS = "3"  # not the default, so the merged assets' windows are seen to follow the setting
FRESHNESS_IN_THE_UI = """
query {
  instance { freshnessEvaluationEnabled }
  assetNodes {
    assetKey { path }
    internalFreshnessPolicy { ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds } }
    freshnessStatusInfo { freshnessStatus freshnessStatusMetadata { lastMaterializedTimestamp } }
  }
}"""


@pytest.fixture
def data_dir(tmp_path):
    """A data folder holding two days' deliveries of the feed, as a sender would land them."""
    estate = tmp_path / "estate"
    generate_estate(estate, size=200, days=2, processes=1)
    data = tmp_path / "data"
    shutil.copytree(estate / "landing" / FEED, data / "landing" / FEED)
    return data


@pytest.fixture
def workspace(data_dir, monkeypatch):
    """The code location named in workspace.yaml, loaded over data_dir, beside a real instance."""
    monkeypatch.setenv("WMP_DATA_DIR", str(data_dir))
    monkeypatch.setenv("WMP_MERGE_EVERY_HOURS", MERGE_EVERY_HOURS)
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="wmp_platform.definitions", working_directory=str(REPO)),
        location_name="wmp_platform",
    )
    with (
        dg.instance_for_test() as instance,
        create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(origin), instance) as context,
    ):
        yield context


def freshness_in_the_ui(workspace, at: float | None = None) -> dict:
    """Run the freshness daemon's evaluation once (at the given time, else now), then read every
    asset's freshness policy and status as the UI does."""
    daemon = FreshnessDaemon()
    if at is None:
        list(daemon.run_iteration(workspace))
    else:
        with freeze_time(at):
            list(daemon.run_iteration(workspace))
    result = execute_dagster_graphql(workspace.create_request_context(), FRESHNESS_IN_THE_UI)
    assert not result.errors, result.errors
    assert result.data["instance"]["freshnessEvaluationEnabled"]
    return {"/".join(node["assetKey"]["path"]): node for node in result.data["assetNodes"]}


def status(nodes: dict, key: dg.AssetKey) -> str:
    return nodes[key.to_user_string()]["freshnessStatusInfo"]["freshnessStatus"]


def deliver(defs: dg.Definitions, instance: dg.DagsterInstance, partition: str) -> float:
    """Load one day's file into the feed's raw asset with the ingest job, as the landing sensor's
    run would; the time Dagster recorded the materialisation."""
    job = defs.resolve_job_def("ingest_daily_feeds")
    result = job.execute_in_process(instance=instance, asset_selection=[RAW], partition_key=partition)
    assert result.success
    return instance.get_latest_materialization_event(RAW).timestamp


def test_an_overdue_feed_shows_as_failing_freshness_and_a_fresh_one_as_passing(data_dir, workspace, declarations):
    instance = workspace.instance
    # `dagster-daemon run` (and so `dagster dev`) starts the freshness daemon on a default instance
    assert FreshnessDaemon.daemon_type() in instance.get_required_daemon_types()
    nodes = freshness_in_the_ui(workspace)
    feeds = {key.split("/")[1] for key in nodes if key.startswith("feeds/")}
    assert feeds == set(declarations)
    for name, feed in declarations.items():
        warn, fail = feed.quality.freshness.windows(feed.partitioning)
        raw = nodes[f"feeds/{name}/raw"]
        assert raw["internalFreshnessPolicy"] == {"failWindowSeconds": fail * 3600, "warnWindowSeconds": warn * 3600}
        # policy known, nothing delivered yet: the daemon cannot judge it
        assert raw["freshnessStatusInfo"]["freshnessStatus"] == "UNKNOWN"
        # freshness is judged where deliveries arrive; staged follows raw in the same run
        assert nodes[f"feeds/{name}/staged"]["internalFreshnessPolicy"] is None

    defs = code_location(data_dir)
    delivered = deliver(defs, instance, "2026-10-01")
    warn, fail = (hours * 3600 for hours in declarations[FEED].quality.freshness.windows("daily"))
    minute = 60
    seen = {
        elapsed: status(freshness_in_the_ui(workspace, at=delivered + elapsed), RAW)
        for elapsed in (minute, warn - minute, warn + minute, fail - minute, fail + minute, 7 * fail)
    }
    assert seen == {
        minute: "HEALTHY",
        warn - minute: "HEALTHY",
        warn + minute: "WARNING",
        fail - minute: "WARNING",
        fail + minute: "DEGRADED",
        7 * fail: "DEGRADED",
    }
    overdue = freshness_in_the_ui(workspace, at=delivered + fail + minute)
    assert overdue[RAW.to_user_string()]["freshnessStatusInfo"]["freshnessStatusMetadata"] == {
        "lastMaterializedTimestamp": delivered
    }
    # Dagster's record of the verdict is the freshness state change event the UI reads
    record = instance.get_freshness_state_records([RAW])[RAW]
    assert record.freshness_state == FreshnessState.FAIL

    # the next day's file arrives: the feed is fresh again from that delivery
    redelivered = deliver(defs, instance, "2026-10-02")
    assert status(freshness_in_the_ui(workspace, at=redelivered + minute), RAW) == "HEALTHY"
    assert status(freshness_in_the_ui(workspace, at=redelivered + warn + minute), RAW) == "WARNING"


def test_the_merged_assets_are_overdue_after_a_missed_cycle_and_a_missed_nightly_rebuild(data_dir, workspace):
    instance = workspace.instance
    assert RefreshSettings.from_environment().merge_every_hours == int(MERGE_EVERY_HOURS)
    warn, fail = 7 * 3600, 31 * 3600  # two 3-hour cycles and an hour; a day more
    nodes = freshness_in_the_ui(workspace)
    merged = [key for key in nodes if key.split("/")[0] in ("warehouse", "entities", "marts", "published")]
    assert {"entities/person", "marts/crime/by_lsoa_week", "marts/offender_harm", "marts/data_quality",
            "published/snapshot"} <= set(merged)
    for key in merged:
        expected = None if key == "entities/person_model" else {"failWindowSeconds": fail, "warnWindowSeconds": warn}
        assert nodes[key]["internalFreshnessPolicy"] == expected, key
    assert status(nodes, DATA_QUALITY_MART) == "UNKNOWN"  # never built: cannot be judged

    # a real mart, built by its asset from a real staged partition; before one, it fails saying so
    defs = code_location(data_dir, WMP_MERGE_EVERY_HOURS=MERGE_EVERY_HOURS)
    empty = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, asset_selection=[DATA_QUALITY_MART], raise_on_error=False)
    [failure] = [event for event in empty.all_events if event.is_step_failure]
    assert "no feed partition has been checked yet" in failure.step_failure_data.error.message
    job = defs.resolve_job_def("ingest_daily_feeds")
    assert job.execute_in_process(instance=instance, asset_selection=[RAW, STAGED], partition_key="2026-10-01").success
    mart = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, asset_selection=[DATA_QUALITY_MART])
    assert mart.success
    built = instance.get_latest_materialization_event(DATA_QUALITY_MART).timestamp
    minute = 60
    seen = {elapsed: status(freshness_in_the_ui(workspace, at=built + elapsed), DATA_QUALITY_MART)
            for elapsed in (warn - minute, warn + minute, fail + minute)}
    assert seen == {warn - minute: "HEALTHY", warn + minute: "WARNING", fail + minute: "DEGRADED"}
    assert instance.get_freshness_state_records([DATA_QUALITY_MART])[DATA_QUALITY_MART].freshness_state == (
        FreshnessState.FAIL)
