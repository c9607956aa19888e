"""Gate results summed over the partitions of a run, per rule category: what a person needs
to act on (rows checked and failing, failure rate, the expectation, a masked sample)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wmp_platform.quality.gate import GateResult
from wmp_platform.quality.rules import CATEGORIES, Rule


@dataclass
class CategorySummary:
    category: str
    passed: bool = True
    failing_severity: str | None = None  # "error" when an error rule failed, else "warn"
    rules: list[dict] = field(default_factory=list)
    sample: list[dict] = field(default_factory=list)


def summarise(rules: list[Rule], gates: list[GateResult], sample_size: int = 5) -> dict[str, CategorySummary]:
    """Per category: each rule's totals over the gates; a rule fails when it failed on any
    partition, that is when more than max_failure_rate of the rows it checked there broke it
    (its failing rows are quarantined either way when it is an error rule)."""
    summaries = {c: CategorySummary(c) for c in CATEGORIES if any(r.category == c for r in rules)}
    for rule in rules:
        results = [g.result(rule.name) for g in gates]
        ran = [r for r in results if r.skipped_reason is None]
        checked = sum(r.rows_checked for r in ran)
        failing = sum(r.rows_failing for r in ran)
        rate = failing / checked if checked else 0.0
        failed = not all(r.passed for r in ran)
        summary = summaries[rule.category]
        summary.rules.append({
            "rule": rule.name, "column": rule.column, "expectation": rule.expectation, "severity": rule.severity,
            "rows_checked": checked, "rows_failing": failing, "failure_rate": round(rate, 6),
            "passed": not failed, "skipped": sorted({r.skipped_reason for r in results if r.skipped_reason}),
        })
        for result in ran:
            summary.sample.extend({"rule": rule.name, **row} for row in result.sample[: sample_size - len(summary.sample)])
        if failed:
            summary.passed = False
            if summary.failing_severity != "error":
                summary.failing_severity = rule.severity
    return summaries
