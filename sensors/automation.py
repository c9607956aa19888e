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
