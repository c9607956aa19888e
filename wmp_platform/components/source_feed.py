"""SourceFeedComponent: a feed declared in YAML becomes its raw and staged assets.

This is the one place where declarations meet Dagster; the work itself is done by the
engine (wmp_platform.ingest), which knows nothing of Dagster.
"""

import dagster as dg
from pydantic import ValidationError

from resources import LakeResource
from wmp_platform import ingest
from wmp_platform.declarations import DeclarationError, FeedDeclaration, format_validation_error
from wmp_platform.storage import UNPARTITIONED

RECONCILIATION_CHECK = "reconciliation"
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
    """The raw and staged assets of one feed, with the staged reconciliation check."""
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
        **common,
    )
    def raw(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        loads = {p: ingest.load_raw(lake.layout, feed, p) for p in partitions_in_run(context)}
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
            }
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
            )
        ],
        metadata={"pole_columns": dg.MetadataValue.json([c for c, _, _ in feed.pole.pole_columns()])},
        **common,
    )
    def staged(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        layout = lake.layout
        results = {p: ingest.stage(layout, feed, p) for p in partitions_in_run(context)}
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
                )
            ],
        )

    return [raw, staged]


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
