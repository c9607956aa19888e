"""Dagster resources, each defined once for the whole code location."""


from pathlib import Path

import dagster as dg

from wmp_platform.storage import DataLayout, default_data_dir

WAREHOUSE_POOL = "warehouse"  # one writer at a time on the DuckDB warehouse file
# every asset that writes the warehouse file
WAREHOUSE_WRITER = dict(kinds={"duckdb"}, owners=["team:platform"], pool=WAREHOUSE_POOL)


class LakeResource(dg.ConfigurableResource):
    """The platform's data folder: landing files, the Parquet lake and the DuckDB warehouse."""

    data_dir: str

    @property
    def layout(self) -> DataLayout:
        return DataLayout(Path(self.data_dir))


def platform_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of the code location; the data folder comes from WMP_DATA_DIR."""
    return {"lake": LakeResource(data_dir=str(default_data_dir()))}
