"""The published snapshot's asset: the hub, the marts, the 360 views and the search index copied
out of the warehouse into a read-only file that search and the API read (engine:
wmp_platform.snapshot)."""

from collections.abc import Sequence

import dagster as dg

from resources import WAREHOUSE_POOL, LakeResource
from assets.marts import mart_assets
from sensors import mart_refresh_condition
from wmp_platform.snapshot import DEFAULT_KEEP, SnapshotError, publish_snapshot

SNAPSHOT = dg.AssetKey(["published", "snapshot"])
ENTITY_KEYS = tuple(dg.AssetKey(["entities", k]) for k in ("person", "vehicle", "location", "pole_links"))
DATA_QUALITY_MART = dg.AssetKey(["marts", "data_quality"])


def _mart_keys() -> list[dg.AssetKey]:
    return [DATA_QUALITY_MART, *(key for asset in mart_assets() for key in asset.keys)]


def publish_assets(mart_keys: Sequence[dg.AssetKey] | None = None, keep: int = DEFAULT_KEEP) -> list:
    """The asset ``published/snapshot``, downstream of the entities and the marts (every KPI mart
    and the data-quality mart unless ``mart_keys`` says otherwise)."""
    deps = [*ENTITY_KEYS, *(_mart_keys() if mart_keys is None else mart_keys)]

    @dg.asset(key=SNAPSHOT, deps=deps, group_name="published", owners=["team:platform"], kinds={"duckdb"},
              pool=WAREHOUSE_POOL, tags={"sensitivity": "restricted"},
              automation_condition=mart_refresh_condition())
    def published_snapshot(lake: LakeResource) -> dg.MaterializeResult:
        """The read-only snapshot readers use (search, the API, analysts): the hub (schema entities),
        the marts, the person, vehicle and location 360 views and the search index, built from the
        warehouse into published/<snapshot_id>.duckdb, audited, then swapped in atomically; refreshed
        after each merge and the marts it refreshes. A failing audit fails the run and the previous
        snapshot keeps serving. Restricted: holds personal data."""
        try:
            published = publish_snapshot(lake.layout, keep=keep)
        except SnapshotError as error:
            raise dg.Failure(description=str(error)) from error
        table = "| table | rows |\n|---|---:|\n" + "\n".join(
            f"| {name} | {rows:,} |" for name, rows in sorted(published.rows.items()))
        return dg.MaterializeResult(metadata={
            "dagster/row_count": published.rows.get("views.person_360", 0),
            "snapshot_id": published.snapshot_id,
            "path": dg.MetadataValue.path(str(published.path)),
            "tables": dg.MetadataValue.md(table),
            "warning_feeds": published.warning_feeds,
            "copy_seconds": round(published.copy_seconds, 2),
            "build_seconds": round(published.build_seconds, 2),
            "removed_snapshots": published.removed,
        })

    return [published_snapshot]


# The defs folder loads the assets of this module.
PUBLISHED_ASSETS = publish_assets()
