"""The Dagster code location: every feed declared under assets/, the warehouse, jobs and resources."""


from pathlib import Path

import dagster as dg

from resources import WAREHOUSE_WRITER, LakeResource, platform_resources
from sensors import (
    RefreshSettings, mart_automation_sensor, merge_cycle_schedule, nightly_rebuild_schedule, operations_definitions,
)
from wmp_platform.marts import build_mart
from wmp_platform.warehouse import open_warehouse, register_lake_views, row_counts

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def warehouse_feeds_asset(staged_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    feeds = sorted(key.path[1] for key in staged_keys)

    @dg.asset(
        key=["warehouse", "feeds"], deps=staged_keys, group_name="warehouse", **WAREHOUSE_WRITER
    )
    def warehouse_feeds(lake: LakeResource) -> dg.MaterializeResult:
        """Every feed's raw, staged and quarantine layers as views in the DuckDB warehouse
        (schemas raw, staged, quarantine), so analysts and downstream assets query them by name."""
        lake.layout.root.mkdir(parents=True, exist_ok=True)
        with open_warehouse(lake.layout.warehouse) as con:
            register_lake_views(con, lake.layout, feeds)
            counts = row_counts(con)
        table = "| feed | raw | staged | quarantine |\n|---|---:|---:|---:|\n" + "\n".join(
            f"| {feed} | {c['raw']:,} | {c['staged']:,} | {c['quarantine']:,} |" for feed, c in counts.items()
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(c["staged"] for c in counts.values()),
                "feeds": dg.MetadataValue.md(table),
                "warehouse": dg.MetadataValue.path(str(lake.layout.warehouse)),
            }
        )

    return warehouse_feeds


def data_quality_mart_asset(staged_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=["marts", "data_quality"], deps=staged_keys, group_name="marts", **WAREHOUSE_WRITER
    )
    def data_quality(lake: LakeResource) -> dg.MaterializeResult:
        """Data quality per feed and partition (marts.data_quality): raw, staged and quarantined rows,
        quarantine rate and its change since the previous partition, rule pass rates, when last
        checked; and every rule's result per partition (marts.data_quality_rules)."""
        lake.layout.root.mkdir(parents=True, exist_ok=True)
        with open_warehouse(lake.layout.warehouse) as con:
            build_mart(con, "data_quality", lake.layout)
            rows = con.execute(
                "SELECT feed, sum(raw_rows), sum(quarantined_rows), min(worst_pass_rate), "
                "round(min(feed_hours_since_checked), 1) FROM marts.data_quality GROUP BY ALL ORDER BY feed"
            ).fetchall()
            partitions = con.execute("SELECT count(*) FROM marts.data_quality").fetchone()[0]
        table = "| feed | raw rows | quarantined | worst rule pass rate | hours since checked |\n|---|---:|---:|---:|---:|\n"
        table += "\n".join(
            f"| {feed} | {raw:,} | {quarantined:,} | {'' if rate is None else f'{rate:.2%}'} | {'' if hours is None else hours} |"
            for feed, raw, quarantined, rate, hours in rows
        )
        return dg.MaterializeResult(metadata={"dagster/row_count": partitions, "by_feed": dg.MetadataValue.md(table)})

    return data_quality


DOWNSTREAM_JOB = "build_hub_and_marts"


def downstream_job():
    """Everything after the feeds, in order: warehouse views, the hub (model included), marts,
    the published snapshot."""
    return dg.define_asset_job(
        DOWNSTREAM_JOB, selection=dg.AssetSelection.groups("warehouse", "entities", "marts", "published"),
        description="Warehouse views, the trained model and the entities, the marts and the published snapshot.",
    )


def ingest_jobs() -> list:
    """One job per kind of partitioning, so a run never mixes partition schemes."""
    return [
        dg.define_asset_job(
            f"ingest_{kind}_feeds",
            selection=dg.AssetSelection.tag("partitioning", kind),
            description=f"Load and stage every {kind} feed for the chosen partitions.",
        )
        for kind in ("daily", "monthly", "reference")
    ]


def build_definitions(project_root: Path = PROJECT_ROOT) -> dg.Definitions:
    feeds = dg.Definitions.merge(
        dg.load_from_defs_folder(project_root=project_root),
        dg.Definitions(jobs=[*ingest_jobs(), downstream_job()], resources=platform_resources()),
    )
    staged = [key for key in feeds.resolve_all_asset_keys() if key.path[0] == "feeds" and key.path[-1] == "staged"]
    platform = dg.Definitions.merge(
        feeds, dg.Definitions(assets=[warehouse_feeds_asset(staged), data_quality_mart_asset(staged)])
    )
    return dg.Definitions.merge(platform, operations_definitions(platform), refresh_definitions())


def refresh_definitions() -> dg.Definitions:
    """The match-and-merge cycle, the nightly rebuild of entities, and automation (the weekly
    model retraining; marts and the published snapshot after a merge whose checks passed)."""
    from assets.entities import FULL_REBUILD, MERGE_SELECTION, PERSON_MODEL

    settings = RefreshSettings.from_environment()
    automated = dg.AssetSelection.groups("marts", "published") | dg.AssetSelection.assets(PERSON_MODEL)
    return dg.Definitions(
        schedules=[merge_cycle_schedule(MERGE_SELECTION, settings.merge_every_hours),
                   nightly_rebuild_schedule(MERGE_SELECTION, settings.rebuild_cron, FULL_REBUILD)],
        sensors=[mart_automation_sensor(automated, name="automation")],
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
