"""Automation conditions the mart assets take (automation_condition=mart_refresh_condition())."""

import dagster as dg


def mart_refresh_condition() -> dg.AutomationCondition:
    """Refresh after anything upstream (the merge) is updated, but only once every blocking
    check on the upstream assets passed: a merge whose checks failed leaves the marts as they
    were. A blocking check does not undo the write it checks, so this, not the check alone,
    keeps failed data out of the marts."""
    return (dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()).with_label(
        "after an upstream update whose blocking checks passed"
    )


def mart_automation_sensor(
    selection: dg.AssetSelection, name: str = "marts_automation", every_seconds: int = 30,
) -> dg.AutomationConditionSensorDefinition:
    """Evaluates the selection's automation conditions (the marts') every `every_seconds`, on from
    the start: Dagster's default automation sensor is created stopped."""
    return dg.AutomationConditionSensorDefinition(
        name,
        target=selection,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=every_seconds,
        description="Refreshes the marts after a merge whose blocking checks passed.",
    )
