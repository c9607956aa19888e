"""Dagster assets of the KPI marts: crime analytics, incident performance and offender harm.

Thin: each asset opens the warehouse (in the single-writer pool), calls the engine
(wmp_platform.marts.kpi), which writes the mart into a scratch schema, audits it and publishes it
in one transaction, then reports rows, audits and charts. A failed audit fails the asset and
leaves the last published version in place.
"""

import dagster as dg

from resources import WAREHOUSE_WRITER, LakeResource
from sensors import mart_refresh_condition
from wmp_platform.marts.charts import markdown_image
from wmp_platform.marts.kpi import (
    CRIME,
    INCIDENTS,
    OFFENDER_HARM,
    build_crime_mart,
    build_incident_mart,
    build_offender_harm_mart,
)
from wmp_platform.marts.publishing import Mart, MartAuditFailed, PublishedMart
from wmp_platform.marts.report import kpi_charts, write_kpi_report
from wmp_platform.warehouse import open_warehouse

GROUP = "marts"
WAREHOUSE_FEEDS = dg.AssetKey(["warehouse", "feeds"])
PERSON_ENTITIES = dg.AssetKey(["entities", "person"])
# which chart belongs in which table's metadata
CHART_OF_TABLE = {"crime_by_area_day": "crime_trend", "response_time_distribution": "response_times",
                  "incident_response": "response_times", "officer_availability": "officer_availability"}


def table_key(mart: Mart, table: str) -> dg.AssetKey:
    """marts/<mart>/<table without the mart's prefix>, e.g. marts/crime/by_lsoa_week."""
    short = table.removeprefix("crime_").removeprefix("incident_")
    return dg.AssetKey(["marts", mart.name, short])


def _column_schema(columns: list[tuple[str, str]]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=name, type=kind) for name, kind in columns])


def _table_metadata(published: PublishedMart, table: str) -> dict:
    return {
        "dagster/row_count": published.rows[table],
        "dagster/table_name": f"marts.{table}",
        "dagster/column_schema": _column_schema(published.columns[table]),
        "published_at": dg.MetadataValue.timestamp(published.published_at.timestamp()),
        "audits": dg.MetadataValue.md(published.audits_markdown()),
    }


def _failure(error: MartAuditFailed) -> dg.Failure:
    lines = ["| audit | checks | problems | e.g. |", "|---|---|---:|---|"]
    lines += [f"| {a.name} | {a.description} | {a.problem_count} | {'; '.join(a.problems)} |" for a in error.failed]
    return dg.Failure(description=str(error), metadata={"failed audits": dg.MetadataValue.md("\n".join(lines))})


def kpi_mart_assets(mart: Mart, build) -> dg.AssetsDefinition:
    """One multi-asset per aggregate mart: a key per published table, all published together."""
    specs = [
        dg.AssetSpec(
            table_key(mart, table.name), description=table.description, deps=[WAREHOUSE_FEEDS], group_name=GROUP,
            kinds=WAREHOUSE_WRITER["kinds"], owners=WAREHOUSE_WRITER["owners"],
            tags={"sensitivity": "official", "mart": mart.name}, metadata={"personal_data": False},
            automation_condition=mart_refresh_condition(),
        )
        for table in mart.tables
    ]

    @dg.multi_asset(name=f"{mart.name}_mart", specs=specs, can_subset=False, pool=WAREHOUSE_WRITER["pool"],
                    description=mart.description)
    def kpi_mart(lake: LakeResource):
        """Write, audit and publish the mart's tables in the warehouse (schema marts), then draw its charts
        and refresh the KPI report in the data folder."""
        with open_warehouse(lake.layout.warehouse) as con:
            try:
                published = build(con)
            except MartAuditFailed as error:
                raise _failure(error) from error
            charts = kpi_charts(con)
            report = write_kpi_report(con, lake.layout.reports)
        for table in mart.tables:
            metadata = _table_metadata(published, table.name)
            metadata["report"] = dg.MetadataValue.path(str(report))
            chart = CHART_OF_TABLE.get(table.name)
            if chart in charts:
                metadata["chart"] = dg.MetadataValue.md(markdown_image(charts[chart], chart.replace("_", " ")))
            yield dg.MaterializeResult(asset_key=table_key(mart, table.name), metadata=metadata)

    return kpi_mart


def offender_harm_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key=["marts", "offender_harm"], deps=[WAREHOUSE_FEEDS, PERSON_ENTITIES], group_name=GROUP,
        tags={"sensitivity": "restricted", "mart": OFFENDER_HARM.name},
        metadata={"personal_data": True, "restricted": True,
                  "tables": [f"marts.{t.name}" for t in OFFENDER_HARM.tables]},
        automation_condition=mart_refresh_condition(),
        **WAREHOUSE_WRITER,
    )
    def offender_harm(lake: LakeResource) -> dg.MaterializeResult:
        """Crime harm per person entity over a rolling 12 months, weighted by the editable harm-weight
        table (marts.harm_weights, from wmp_platform/marts/harm_weights.csv, each weight with its source):
        marts.offender_harm (per person), marts.offender_harm_top (the 100 most harmful per area, with
        names from the golden record) and marts.offender_harm_monthly (trend). RESTRICTED: person-level."""
        with open_warehouse(lake.layout.warehouse) as con:
            try:
                published = build_offender_harm_mart(con)
            except MartAuditFailed as error:
                raise _failure(error) from error
        metadata = _table_metadata(published, "offender_harm")
        metadata["rows per table"] = dg.MetadataValue.json(published.rows)
        return dg.MaterializeResult(metadata=metadata)

    return offender_harm


def mart_assets() -> list[dg.AssetsDefinition]:
    """Every KPI mart asset, for the code location to register."""
    return [kpi_mart_assets(CRIME, build_crime_mart), kpi_mart_assets(INCIDENTS, build_incident_mart),
            offender_harm_asset()]


# The defs folder loads the assets of this module.
MART_ASSETS = mart_assets()
