"""Feeds as Dagster assets: real materialisations of declared feeds, their partitions and checks."""

from __future__ import annotations

import shutil
from datetime import timedelta

import dagster as dg
import duckdb
import yaml
from dagster.components import build_defs_for_component

from conftest import FIXTURES
from resources import LakeResource
from wmp_platform.components import SourceFeedComponent
from wmp_platform.components.source_feed import RECONCILIATION_CHECK


def component_from(path) -> SourceFeedComponent:
    return SourceFeedComponent.resolve_from_yaml(yaml.safe_dump(yaml.safe_load(path.read_text())["attributes"]))


def materialize_range(defs: dg.Definitions, layout, start: str, end: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets),
        resources={"lake": LakeResource(data_dir=str(layout.root))},
        tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
    )


def test_a_feed_added_from_yaml_and_sample_files_alone(layout, court_results):
    defs = build_defs_for_component(component_from(FIXTURES / "court_results" / "defs.yaml"))
    specs = {spec.key.to_user_string(): spec for asset in defs.assets for spec in asset.specs}
    assert set(specs) == {"feeds/court_results/raw", "feeds/court_results/staged"}
    staged = specs["feeds/court_results/staged"]
    assert staged.group_name == "staged" and staged.owners == ["team:criminal-justice"]
    assert staged.description.startswith("court_results typed and normalised")
    assert staged.tags["sensitivity"] == "official_sensitive"
    assert isinstance(staged.partitions_def, dg.DailyPartitionsDefinition)
    assert specs["feeds/court_results/raw"].freshness_policy == dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=48), warn_window=timedelta(hours=30)
    )

    result = materialize_range(defs, layout, "2026-10-01", "2026-10-02")
    assert result.success
    materialised = sorted(
        (event.asset_key.to_user_string(), event.partition) for event in result.get_asset_materialization_events()
    )
    assert materialised == [
        ("feeds/court_results/raw", "2026-10-01"), ("feeds/court_results/raw", "2026-10-02"),
        ("feeds/court_results/staged", "2026-10-01"), ("feeds/court_results/staged", "2026-10-02"),
    ]
    checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
    assert set(checks) == {RECONCILIATION_CHECK, "volume", "quality_keys", "quality_identifiers", "quality_dates"}
    assert all(check.passed for check in checks.values())
    metadata = result.get_asset_materialization_events()[-1].materialization.metadata
    assert metadata["quarantined_rows"].value == 2 and metadata["raw_rows"].value == 6


def test_a_blocking_quality_failure_stops_downstream_assets(layout, court_results):
    # a PNC ID with a wrong check letter on every row: the identifier rule fails far above its tolerance
    landing = layout.feed_landing("court_results")
    for path in landing.iterdir():
        path.write_text(path.read_text().replace("85/12345L", "85/12345X").replace(",,", ",85/12345X,", 1))
    defs = build_defs_for_component(component_from(FIXTURES / "court_results" / "defs.yaml"))

    @dg.asset(
        deps=[dg.AssetKey(["feeds", "court_results", "staged"])],
        partitions_def=dg.DailyPartitionsDefinition("2025-01-01", timezone="Europe/London", end_offset=1),
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def downstream() -> None:
        """Stands for matching and marts."""

    result = dg.materialize(
        [*defs.assets, downstream], resources={"lake": LakeResource(data_dir=str(layout.root))},
        partition_key="2026-10-01", raise_on_error=False,
    )
    checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
    identifiers = checks["quality_identifiers"]
    assert not identifiers.passed and identifiers.severity == dg.AssetCheckSeverity.ERROR
    assert "person_offender_pnc_id_valid" in identifiers.metadata["rules"].value
    materialised = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert "feeds/court_results/staged" in materialised and "downstream" not in materialised
    # the rows breaking the rule were quarantined with the rule's name, and nothing was lost
    quarantine = layout.partition_file("court_results", "quarantine", "2026-10-01")
    issues = duckdb.sql(f"SELECT list_sort(_issues) FROM '{quarantine}' ORDER BY _row_number").fetchall()
    assert ["person_offender_pnc_id_valid: broke quality rule"] in [row[0] for row in issues]
    assert checks[RECONCILIATION_CHECK].passed


def test_real_stop_and_search_files_load_row_for_row(layout, declarations):
    feed = declarations["stop_search"]
    landing = layout.feed_landing(feed.landing_folder)
    landing.mkdir(parents=True)
    for real in (FIXTURES / "police_uk").glob("*.csv"):
        shutil.copy(real, landing / real.name)
    defs = build_defs_for_component(component_from(next(FIXTURES.parent.parent.glob("assets/feeds/stop_search/defs.yaml"))))
    resources = {"lake": LakeResource(data_dir=str(layout.root))}
    for partition, records in (("2017-01-01", 993), ("2018-08-01", 1085)):
        result = dg.materialize(list(defs.assets), resources=resources, partition_key=partition)
        assert result.success
        counts = {
            e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()
        }
        assert counts["raw"]["dagster/row_count"].value == records
        # the real files are clean: every row types and stages
        assert counts["staged"]["dagster/row_count"].value == records
        assert counts["staged"]["quarantined_rows"].value == 0
        checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
        assert checks["reconciliation"].passed and checks["quality_reference_codes"].passed
        # several people searched together share the published key: reported, not quarantined
        assert checks["quality_keys"].severity == dg.AssetCheckSeverity.WARN
