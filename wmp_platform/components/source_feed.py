"""SourceFeedComponent: a feed declared in YAML becomes its raw and staged assets.

This is the one place where declarations meet Dagster; the work itself is done by the
engine (wmp_platform.ingest), which knows nothing of Dagster.
"""

from datetime import date, timedelta

import dagster as dg
from pydantic import ValidationError

from resources import LakeResource
from wmp_platform import ingest
from wmp_platform.declarations import DeclarationError, FeedDeclaration, format_validation_error
from wmp_platform.quality import derive_rules
from wmp_platform.quality.summary import summarise
from wmp_platform.quality.volume import volume
from wmp_platform.storage import UNPARTITIONED

RECONCILIATION_CHECK = "reconciliation"
VOLUME_CHECK = "volume"
QUALITY_CHECK_PREFIX = "quality_"
CATEGORY_DESCRIPTIONS = {
    "keys": "The primary key is unique.",
    "identifiers": "PNC IDs, CRO numbers, NI numbers, registrations, postcodes and phones are valid, check characters included.",
    "dates": "Dates of birth are plausible and event times are not in the future.",
    "coordinates": "Coordinates fall inside the force area.",
    "reference_codes": "Coded columns hold only values from their reference lists.",
    "references": "References resolve: UPRNs in the gazetteer, collar numbers in the duty roster.",
    "declared": "The rules declared in the feed's YAML.",
}
TIMEZONE = "Europe/London"


def partitions_for(feed: FeedDeclaration) -> dg.PartitionsDefinition | None:
    if feed.partitioning == "daily":
        return dg.DailyPartitionsDefinition(start_date=feed.partition_start, timezone=TIMEZONE, end_offset=1)
    if feed.partitioning == "monthly":
        return dg.MonthlyPartitionsDefinition(start_date=feed.partition_start, timezone=TIMEZONE, end_offset=1)
    return None


def partitions_in_run(context: dg.AssetExecutionContext) -> list[str]:
    """The partitions this run covers: one, a backfill range (single-run policy), or the unpartitioned 'all'."""
    return list(context.partition_keys) if context.has_partition_key_range or context.has_partition_key else [UNPARTITIONED]


def column_schema(feed: FeedDeclaration) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.type,
                description=c.description,
                tags={"personal_data": c.personal_data} if c.personal_data != "none" else {},
                constraints=dg.TableColumnConstraints(nullable=c.nullable),
            )
            for c in feed.columns
        ]
    )


def feed_assets(feed: FeedDeclaration) -> list[dg.AssetsDefinition]:
    """The raw and staged assets of one feed, with their checks (volume; reconciliation and quality)."""
    partitions_def = partitions_for(feed)
    raw_key = dg.AssetKey(["feeds", feed.name, "raw"])
    staged_key = dg.AssetKey(["feeds", feed.name, "staged"])
    common = dict(
        owners=[feed.owner],
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
        tags={
            "feed": feed.name,
            "sensitivity": feed.sensitivity,
            "partitioning": "reference" if feed.partitioning == "none" else feed.partitioning,
        },
    )
    about = f"{feed.description.strip()}\n\nSource system: {feed.source_system}. Sensitivity: {feed.sensitivity}."
    warn_hours, fail_hours = feed.quality.freshness.windows(feed.partitioning)

    @dg.asset(
        key=raw_key,
        group_name="raw",
        kinds={"parquet", feed.format.replace("_", "-")},
        description=f"Landing files of {feed.name}, loaded losslessly as text with lineage. {about}",
        metadata={
            "dagster/column_schema": column_schema(feed),
            "landing_pattern": feed.landing.pattern,
            "source_system": feed.source_system,
            "primary_key": feed.primary_key,
        },
        check_specs=[
            dg.AssetCheckSpec(
                VOLUME_CHECK,
                asset=raw_key,
                description="Rows per partition within the declared ratios of the median of recent partitions.",
            )
        ],
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=timedelta(hours=fail_hours), warn_window=timedelta(hours=warn_hours)
        ),
        **common,
    )
    def raw(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        loads = {p: ingest.load_raw(lake.layout, feed, p) for p in partitions_in_run(context)}
        policy = feed.quality.volume
        volumes = [volume(lake.layout, feed, p) for p in loads]
        anomalies = [v for v in volumes if v.anomalous(policy.min_ratio, policy.max_ratio)]
        skipped = [name for load in loads.values() for name in load.skipped_duplicates]
        for name in skipped:
            context.log.warning(f"{feed.name}: skipped re-delivered file {name}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(load.rows for load in loads.values()),
                "partitions": len(loads),
                "files_loaded": dg.MetadataValue.json([f for load in loads.values() for f in load.files]),
                "duplicate_files_skipped": dg.MetadataValue.json(skipped),
                "malformed_records": sum(load.malformed_records for load in loads.values()),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=VOLUME_CHECK,
                    passed=not anomalies,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "anomalies": dg.MetadataValue.json(
                            [{"partition": v.partition, "rows": v.rows, "median_of_history": v.median} for v in anomalies]
                        ),
                        "partitions_with_history": sum(v.median is not None for v in volumes),
                        "min_ratio": policy.min_ratio,
                        "max_ratio": policy.max_ratio,
                    },
                )
            ],
        )

    @dg.asset(
        key=staged_key,
        deps=[raw_key],
        group_name="staged",
        kinds={"parquet", "duckdb"},
        description=(
            f"{feed.name} typed and normalised, with POLE columns named as in every feed; rows that "
            f"cannot be typed go to the feed's quarantine with their reasons. {about}"
        ),
        check_specs=[
            dg.AssetCheckSpec(
                RECONCILIATION_CHECK,
                asset=staged_key,
                blocking=True,
                description="staged rows + quarantined rows = raw rows, for every partition in the run.",
            ),
            *quality_check_specs(feed, staged_key),
        ],
        metadata={"pole_columns": dg.MetadataValue.json([c for c, _, _ in feed.pole.pole_columns()])},
        **common,
    )
    def staged(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        layout = lake.layout
        rules = derive_rules(feed, date.today())
        results = {p: ingest.stage(layout, feed, p, rules) for p in partitions_in_run(context)}
        counted = {
            p: {layer: ingest.count_rows(layout.partition_file(feed.name, layer, p)) for layer in ("raw", "staged", "quarantine")}
            for p in results
        }
        unbalanced = {p: c for p, c in counted.items() if c["staged"] + c["quarantine"] != c["raw"]}
        issues: dict[str, int] = {}
        for result in results.values():
            for name, count in result.issue_counts.items():
                issues[name] = issues.get(name, 0) + count
        quarantined = sum(c["quarantine"] for c in counted.values())
        if quarantined:
            context.log.warning(f"{feed.name}: {quarantined} rows quarantined: {issues}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(c["staged"] for c in counted.values()),
                "quarantined_rows": quarantined,
                "raw_rows": sum(c["raw"] for c in counted.values()),
                "issues_by_field": dg.MetadataValue.json(issues),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=RECONCILIATION_CHECK,
                    passed=not unbalanced,
                    metadata={"partitions_checked": len(counted), "unbalanced": dg.MetadataValue.json(unbalanced)},
                ),
                *quality_check_results(feed, rules, [r.gate for r in results.values()]),
            ],
        )

    return [raw, staged]


def quality_check_specs(feed: FeedDeclaration, asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """One check per category of the feed's quality rules; blocking when the category has error rules."""
    rules = derive_rules(feed, date.today())
    return [
        dg.AssetCheckSpec(
            QUALITY_CHECK_PREFIX + category,
            asset=asset_key,
            blocking=any(r.severity == "error" for r in rules if r.category == category),
            description=f"{CATEGORY_DESCRIPTIONS[category]} (great-expectations; rows breaking an error rule are quarantined)",
        )
        for category in dict.fromkeys(r.category for r in rules)
    ]


def quality_check_results(feed: FeedDeclaration, rules, gates) -> list[dg.AssetCheckResult]:
    summaries = summarise(rules, gates)
    return [
        dg.AssetCheckResult(
            check_name=QUALITY_CHECK_PREFIX + category,
            passed=summary.passed,
            severity=dg.AssetCheckSeverity.ERROR if summary.failing_severity == "error" else dg.AssetCheckSeverity.WARN,
            metadata={
                "rows_checked": max((r["rows_checked"] for r in summary.rules), default=0),
                "rows_failing": sum(r["rows_failing"] for r in summary.rules),
                "max_failure_rate": feed.quality.max_failure_rate,
                "rules": dg.MetadataValue.md(_rules_table(summary.rules)),
                "failing_sample": dg.MetadataValue.json(summary.sample),
            },
        )
        for category, summary in summaries.items()
    ]


def _rules_table(rules: list[dict]) -> str:
    lines = ["| rule | expectation | severity | checked | failing | rate | passed |", "|---|---|---|---:|---:|---:|---|"]
    lines += [
        f"| {r['rule']} | {r['expectation']} | {r['severity']} | {r['rows_checked']:,} | {r['rows_failing']:,} "
        f"| {r['failure_rate']:.2%} | {'skipped: ' + '; '.join(r['skipped']) if r['skipped'] and not r['rows_checked'] else r['passed']} |"
        for r in rules
    ]
    return "\n".join(lines)


class SourceFeedComponent(FeedDeclaration, dg.Component, dg.Resolvable):
    """A source feed declared in YAML (defs.yaml): its raw and staged assets and their checks."""

    @classmethod
    def load(cls, attributes, context: dg.ComponentLoadContext) -> "SourceFeedComponent":
        try:
            return super().load(attributes, context)
        except ValidationError as error:
            raise DeclarationError(format_validation_error(context.path / "defs.yaml", error)) from None

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return dg.Definitions(assets=feed_assets(self))
