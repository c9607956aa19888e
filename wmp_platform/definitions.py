"""The Dagster code location: every feed declared under assets/, the warehouse, jobs and resources."""

import warnings
from pathlib import Path

import dagster as dg

from resources import WAREHOUSE_WRITER, LakeResource, platform_resources
from sensors import (
    RefreshSettings, mart_automation_sensor, merge_cycle_schedule, nightly_rebuild_schedule, operations_definitions,
)
from wmp_platform.marts import build_mart
from wmp_platform.warehouse import open_warehouse, register_lake_views, row_counts

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_FEEDS = dg.AssetKey(["warehouse", "feeds"])
DATA_QUALITY_MART = dg.AssetKey(["marts", "data_quality"])


def warehouse_feeds_asset(staged_keys: list[dg.AssetKey]) -> dg.AssetsDefinition:
    feeds = sorted(key.path[1] for key in staged_keys)

    @dg.asset(
        key=WAREHOUSE_FEEDS, deps=staged_keys, group_name="warehouse", **WAREHOUSE_WRITER
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
        key=DATA_QUALITY_MART, deps=staged_keys, group_name="marts", **WAREHOUSE_WRITER
    )
    def data_quality(lake: LakeResource) -> dg.MaterializeResult:
        """Data quality per feed and partition (marts.data_quality): raw, staged and quarantined rows,
        quarantine rate and its change since the previous partition, rule pass rates, when last
        checked; and every rule's result per partition (marts.data_quality_rules)."""
        if not any(lake.layout.lake.glob("*/quality/*.parquet")):
            raise dg.Failure(f"no feed partition has been checked yet (no results under {lake.layout.lake}/*/quality): "
                             "load a feed first")
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
    settings = RefreshSettings.from_environment()
    merged = dg.Definitions.merge(platform, operations_definitions(platform, settings), refresh_definitions(settings))
    policy = settings.merged_freshness()
    with warnings.catch_warnings():  # mapping specs is a Dagster "preview" API; its result is checked by tests
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return merged.map_resolved_asset_specs(func=lambda spec: spec.replace_attributes(freshness_policy=policy),
                                               selection=MERGED)


def cycle_selection() -> dg.AssetSelection:
    """What each match-and-merge cycle (and the nightly rebuild) refreshes: the warehouse's views
    of the feeds, the data-quality mart and the hub's entities; the person model is retrained
    weekly on its own condition, and the marts and snapshot follow by automation."""
    from assets.entities import MERGE_SELECTION

    return MERGE_SELECTION | dg.AssetSelection.assets(WAREHOUSE_FEEDS, DATA_QUALITY_MART)


# Freshness follows the merge cadence on everything a cycle refreshes and what follows from it;
# the person model is weekly, and the feeds have their own policies from their declared cadence.
MERGED = (dg.AssetSelection.groups("warehouse", "entities", "marts", "published")
          - dg.AssetSelection.assets(dg.AssetKey(["entities", "person_model"])))


def refresh_definitions(settings: RefreshSettings | None = None) -> dg.Definitions:
    """The match-and-merge cycle, the nightly rebuild of entities, and automation (the weekly
    model retraining; marts and the published snapshot after a merge whose checks passed)."""
    from assets.entities import FULL_REBUILD, PERSON_MODEL

    settings = settings or RefreshSettings.from_environment()
    automated = dg.AssetSelection.groups("marts", "published") | dg.AssetSelection.assets(PERSON_MODEL)
    cycle = cycle_selection()
    return dg.Definitions(
        schedules=[merge_cycle_schedule(cycle, settings.merge_every_hours, cron=settings.merge_cycle_cron),
                   nightly_rebuild_schedule(cycle, settings.rebuild_cron, FULL_REBUILD)],
        sensors=[mart_automation_sensor(automated, name="automation", every_seconds=settings.automation_interval_seconds)],
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
