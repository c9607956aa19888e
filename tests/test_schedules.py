"""Schedules and automation conditions evaluated against a real Dagster instance: the ingest
catch-up of the real code location; the merge cycle, nightly rebuild and mart condition on
stand-ins for the match-and-merge and mart assets, which plug into the same builders."""

import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import yaml
from dagster.components import build_defs_for_component

from code_location import code_location, empty_data_folder, execute
from conftest import FIXTURES
from resources import LakeResource
from sensors import (RefreshSettings, mart_automation_sensor, mart_refresh_condition, merge_cycle_schedule,
                     nightly_rebuild_schedule)
from sensors.landing import TRIGGER_TAG
from sensors.schedules import CHANGED_TAG, IN_ONE_PROCESS, REFRESH_TAG
from wmp_platform.components import SourceFeedComponent

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def defs(data_dir):
    return code_location(data_dir, WMP_LANDING_SETTLE_SECONDS="0", WMP_INGEST_LOOKBACK_DAYS="5")


def evaluate(defs: dg.Definitions, name: str, instance, when: datetime):
    schedule = defs.resolve_schedule_def(name)
    # closed after the tick: the context opens its own instance from the reference, and one left
    # open would later restore that instance's (deleted) state storage as Dagster's current one
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                   repository_def=defs.get_repository_def(), resources=defs.resources) as context:
        return schedule.evaluate_tick(context)


def test_the_catch_up_loads_only_what_the_lake_lacks(defs, data_dir, tiny_landing):
    layout = empty_data_folder(data_dir)
    shutil.copytree(tiny_landing / "crime", layout.feed_landing("crime"))
    instance = dg.DagsterInstance.ephemeral()
    schedule = defs.resolve_schedule_def("ingest_daily_feeds_catch_up")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("15 6 * * *", "Europe/London")
    morning = datetime(2026, 10, 4, 6, 15, tzinfo=LONDON)

    [request] = evaluate(defs, "ingest_daily_feeds_catch_up", instance, morning).run_requests
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == (
        "2026-10-01", "2026-10-03")
    assert request.tags["wmp/trigger"] == "catch_up" and request.run_key.startswith("2026-10-04T06:15+01:00/crime/")
    assert execute(defs, request, instance).success

    done = evaluate(defs, "ingest_daily_feeds_catch_up", instance, morning)
    assert done.run_requests == [] and done.skip_message == (
        "every file landed in the last 5 days for the feeds of ingest_daily_feeds is loaded")

    # a corrected file replaces the 2nd: that partition alone is loaded again
    corrected = layout.feed_landing("crime") / "crime_20261002.csv"
    corrected.write_text(corrected.read_text().replace("Coventry", "COVENTRY"))
    [again] = evaluate(defs, "ingest_daily_feeds_catch_up", instance, morning).run_requests
    assert again.partition_key == "2026-10-02"
    # files older than the look-back are left to backfills
    assert evaluate(defs, "ingest_daily_feeds_catch_up", instance, datetime(2026, 10, 8, 6, 15, tzinfo=LONDON)).run_requests == []


def test_settings_come_from_the_environment_and_bad_values_are_named(monkeypatch):
    monkeypatch.setenv("WMP_MERGE_EVERY_HOURS", "3")
    monkeypatch.setenv("WMP_REBUILD_CRON", "30 1 * * *")
    settings = RefreshSettings.from_environment()
    assert (settings.merge_every_hours, settings.rebuild_cron) == (3, "30 1 * * *")
    assert settings.merge_cycle_cron == "0 */3 * * *"
    monkeypatch.setenv("WMP_MERGE_CRON", "0 6,10,14,18 * * *")
    assert RefreshSettings.from_environment().merge_cycle_cron == "0 6,10,14,18 * * *"
    monkeypatch.setenv("WMP_MERGE_CRON", "twice a day")
    with pytest.raises(ValueError, match="WMP_MERGE_CRON='twice a day': not a cron schedule"):
        RefreshSettings.from_environment()
    monkeypatch.delenv("WMP_MERGE_CRON")
    monkeypatch.setenv("WMP_MERGE_EVERY_HOURS", "5")
    with pytest.raises(ValueError, match="WMP_MERGE_EVERY_HOURS=5: must divide 24"):
        RefreshSettings.from_environment()
    monkeypatch.setenv("WMP_MERGE_EVERY_HOURS", "2")
    monkeypatch.setenv("WMP_INGEST_CRON", "every morning")
    with pytest.raises(ValueError, match="WMP_INGEST_CRON='every morning': not a cron schedule"):
        RefreshSettings.from_environment()


# --- the hooks for the match-and-merge and mart layers, on stand-ins ---------------------------

ENTITIES = dg.AssetKey(["entities", "person"])
MART = dg.AssetKey(["marts", "person_summary"])


class EntitiesConfig(dg.Config):
    checks_pass: bool = True


@dg.asset(key=ENTITIES, deps=[dg.AssetKey(["feeds", "court_results", "staged"])],
          check_specs=[dg.AssetCheckSpec("clusters_valid", asset=ENTITIES, blocking=True)])
def person(config: EntitiesConfig) -> dg.MaterializeResult:
    """Stands for the match-and-merge asset."""
    return dg.MaterializeResult(check_results=[dg.AssetCheckResult(check_name="clusters_valid", passed=config.checks_pass)])


@dg.asset(key=MART, deps=[ENTITIES], automation_condition=mart_refresh_condition())
def person_summary() -> None:
    """Stands for a mart."""


@pytest.fixture
def stand_in(layout, court_results):
    component = SourceFeedComponent.resolve_from_yaml(
        yaml.safe_dump(yaml.safe_load((FIXTURES / "court_results" / "defs.yaml").read_text())["attributes"]))
    feed = build_defs_for_component(component)
    cycle = merge_cycle_schedule(dg.AssetSelection.assets(ENTITIES), every_hours=2)
    rebuild = nightly_rebuild_schedule(dg.AssetSelection.assets(ENTITIES), "0 2 * * *")
    return dg.Definitions.merge(feed, dg.Definitions(
        assets=[person, person_summary], schedules=[cycle, rebuild],
        sensors=[mart_automation_sensor(dg.AssetSelection.assets(MART))],
        resources={"lake": LakeResource(data_dir=str(layout.root))}))


def materialise(defs, keys, instance, partition=None, checks_pass=True):
    return dg.materialize(
        [defs.resolve_assets_def(key) for key in keys], instance=instance, partition_key=partition,
        raise_on_error=False, run_config={"ops": {"entities__person": {"config": {"checks_pass": checks_pass}}}}
        if ENTITIES in keys else None)


@pytest.fixture
def instance():
    """An instance a schedule can open from its reference, as the daemon's schedules do."""
    with dg.instance_for_test() as instance:
        yield instance


def test_the_merge_cycle_runs_every_two_hours_over_what_changed(stand_in, instance):
    schedule = stand_in.resolve_schedule_def("match_and_merge_cycle")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 */2 * * *", "Europe/London")
    noon = datetime(2026, 10, 2, 12, 0, tzinfo=LONDON)
    job = stand_in.resolve_job_def(schedule.job_name)

    # nothing to merge before a feed is loaded; the first merge (a full build) waits for files being loaded
    assert evaluate(stand_in, "match_and_merge_cycle", instance, noon).skip_message == (
        "no feed is loaded yet: nothing to merge")
    staged = dg.AssetKey(["feeds", "court_results", "staged"])
    raw = dg.AssetKey(["feeds", "court_results", "raw"])
    materialise(stand_in, [raw, staged], instance, "2026-10-01")
    loading = instance.create_run_for_job(job, tags={TRIGGER_TAG: "landing"})
    assert evaluate(stand_in, "match_and_merge_cycle", instance, noon).skip_message.startswith(
        "nothing merged yet and feeds are loading (run ")
    instance.delete_run(loading.run_id)
    [first] = evaluate(stand_in, "match_and_merge_cycle", instance, noon).run_requests  # never merged
    assert first.tags[REFRESH_TAG] == "incremental" and first.tags[CHANGED_TAG] == "feeds/court_results/staged"
    assert first.run_config == IN_ONE_PROCESS  # its steps share one writer pool: nothing to run side by side
    materialise(stand_in, [ENTITIES], instance)
    assert evaluate(stand_in, "match_and_merge_cycle", instance, noon).skip_message == (
        "nothing upstream changed since the last cycle")

    materialise(stand_in, [raw, staged], instance, "2026-10-02")
    [changed] = evaluate(stand_in, "match_and_merge_cycle", instance, noon).run_requests
    assert changed.tags[CHANGED_TAG] == "feeds/court_results/staged"

    # a cycle still running: the next one waits
    instance.create_run_for_job(job, tags={"dagster/schedule_name": "match_and_merge_cycle"})
    assert evaluate(stand_in, "match_and_merge_cycle", instance, noon).skip_message.startswith(
        "the previous cycle (run ")


def test_the_nightly_rebuild_asks_for_a_full_refresh(stand_in, instance):
    schedule = stand_in.resolve_schedule_def("nightly_full_rebuild")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Europe/London")
    [request] = evaluate(stand_in, "nightly_full_rebuild", instance,
                         datetime(2026, 10, 3, 2, 0, tzinfo=LONDON)).run_requests
    assert request.tags[REFRESH_TAG] == "full" and request.run_config == IN_ONE_PROCESS


def test_marts_refresh_after_a_merge_only_when_its_blocking_checks_passed(stand_in, instance):

    def requested(cursor):
        result = dg.evaluate_automation_conditions(stand_in, instance, asset_selection=dg.AssetSelection.assets(MART),
                                                   cursor=cursor)
        return result.get_requested_partitions(MART) != set(), result.cursor

    sensor = stand_in.resolve_sensor_def("marts_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.asset_selection.resolve(stand_in.resolve_asset_graph()) == {MART}
    wanted, cursor = requested(None)
    assert not wanted  # nothing merged yet

    materialise(stand_in, [ENTITIES], instance, checks_pass=False)
    wanted, cursor = requested(cursor)
    assert not wanted  # merged, but its blocking check failed

    materialise(stand_in, [ENTITIES], instance, checks_pass=True)
    wanted, cursor = requested(cursor)
    assert wanted
