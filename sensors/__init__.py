"""Dagster sensors, schedules and automation of the platform: files landing start runs, failed
runs raise alerts, schedules catch up and (when the merge layer exists) cycle and rebuild."""

import dagster as dg

from wmp_platform.components import SourceFeedComponent

from sensors.alerts import run_failure_alerts
from sensors.automation import mart_automation_sensor, mart_refresh_condition
from sensors.landing import feed_targets, landing_sensor
from sensors.schedules import ingest_schedule, merge_cycle_schedule, nightly_rebuild_schedule
from sensors.settings import RefreshSettings

__all__ = [
    "RefreshSettings", "mart_automation_sensor", "mart_refresh_condition", "merge_cycle_schedule",
    "nightly_rebuild_schedule", "operations_definitions",
]


def operations_definitions(platform: dg.Definitions, settings: RefreshSettings | None = None) -> dg.Definitions:
    """The landing sensor, the run-failure sensor and one catch-up schedule per ingest job,
    for the feeds declared in the platform's defs folder and the jobs that hold them."""
    settings = settings or RefreshSettings.from_environment()
    tree = platform.component_tree
    feeds = tree.get_all_components(of_type=SourceFeedComponent) if tree else []
    jobs = [job for job in platform.jobs or [] if hasattr(job, "selection")]  # asset jobs (define_asset_job)
    targets = feed_targets(feeds, jobs, platform.resolve_asset_graph())
    used = [job for job in jobs if any(target.job_name == job.name for target in targets)]
    return dg.Definitions(
        sensors=[landing_sensor(targets, used, settings), run_failure_alerts],
        schedules=[ingest_schedule(job, [t for t in targets if t.job_name == job.name], settings) for job in used],
    )
