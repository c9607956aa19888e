"""The run-failure sensor: every failed run, step by step, into the alerts table and the sink."""

import dagster as dg

from resources import LakeResource
from wmp_platform import alerts

from sensors.landing import RANGE_END_TAG, RANGE_START_TAG

RUN_FAILURE_SENSOR = "run_failure_alerts"


def run_partition(run: dg.DagsterRun) -> str | None:
    if run.tags.get("dagster/partition"):
        return run.tags["dagster/partition"]
    if run.tags.get(RANGE_START_TAG):
        return f"{run.tags[RANGE_START_TAG]}..{run.tags.get(RANGE_END_TAG)}"
    return None


def user_error(error) -> str:
    """The error the step's code raised, with its stack, rather than Dagster's wrapper of it."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip() + "\n\nStack trace:\n" + "".join(error.stack)


def failure_alerts(context: dg.RunFailureSensorContext) -> list[alerts.Alert]:
    """One alert per failed step, with its error and stack; one for the run when no step failed
    (the run worker died, or the run could not start)."""
    run = context.dagster_run
    partition = run_partition(run)
    found = []
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        text = user_error(error) if error else event.message or "no error recorded"
        found.append(alerts.run_failure(run.run_id, run.job_name, partition, event.step_key, text))
    if not found:
        found.append(alerts.run_failure(run.run_id, run.job_name, partition, None,
                                        context.failure_event.message or "the run failed"))
    return found


@dg.run_failure_sensor(
    name=RUN_FAILURE_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every failed run of this code location, with its job, step and error, into the alerts "
    "table (alerts/ in the data folder) and the sink named by WMP_ALERT_SINK (a file or a webhook URL).",
)
def run_failure_alerts(context: dg.RunFailureSensorContext, lake: LakeResource) -> None:
    found = failure_alerts(context)
    for alert in found:
        context.log.error(alert.summary)
    # recorded first; a sink that fails makes the tick fail, which the sensor's page in the UI shows
    alerts.raise_alerts(lake.layout, found, alerts.configured_sink())
