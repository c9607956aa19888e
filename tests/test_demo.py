"""The main job end to end on a tiny estate: every declared feed through Dagster into the warehouse."""

from __future__ import annotations

import dagster as dg

from conftest import FEEDS_DIR
from landing_counts import records_in
from wmp_platform.declarations import load_declarations
from wmp_platform.demo import run_demo
from wmp_platform.landing import landing_files
from wmp_platform.warehouse import open_warehouse


def test_demo_materialises_every_feed_losslessly(tmp_path, monkeypatch):
    data = tmp_path / "data"
    # run_demo points Dagster and the resources at the data folder; keep that inside this test
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster"))
    monkeypatch.setenv("WMP_DATA_DIR", str(data))
    report = run_demo(data, size="tiny", seed=7)

    declared = load_declarations(FEEDS_DIR)
    assert set(report.feeds) == set(declared)
    for name, feed in declared.items():
        files, problems = landing_files(feed, data / "landing" / feed.landing_folder)
        assert files and not problems, name
        landed = sum(records_in(f.path, feed) for f in files)
        counts = report.feeds[name]
        assert counts["raw"] == landed, name
        assert counts["staged"] + counts["quarantine"] == counts["raw"], name
        assert counts["staged"] > 0, name

    # the data-quality mart agrees with the lake, partition by partition, and has every rule's result
    with open_warehouse(data / "warehouse.duckdb", read_only=True) as con:
        by_feed = dict(con.execute(
            "SELECT feed, sum(quarantined_rows) FROM marts.data_quality GROUP BY feed").fetchall())
        unchecked = con.execute(
            "SELECT count(*) FROM marts.data_quality WHERE rules_run IS NULL OR rules_run = 0").fetchone()[0]
    assert by_feed == {name: counts["quarantine"] for name, counts in report.feeds.items()}
    assert unchecked == 0

    instance = dg.DagsterInstance.get()
    runs = instance.get_runs()
    assert len(runs) == 4 and all(run.is_success for run in runs)
    materialised = {key.to_user_string() for key in instance.get_asset_keys()}
    expected = {f"feeds/{name}/{layer}" for name in declared for layer in ("raw", "staged")}
    expected |= {"warehouse/feeds", "marts/data_quality"}
    assert expected <= materialised
    rendered = report.render()
    assert all(f"\n{name} " in rendered for name in declared) and "\ntotal " in rendered
