"""A backfill over a date range from the command line: one run over the range (the feeds'
single-run policy), its steps in parallel processes, while another process writes the
warehouse, with no DuckDB lock error. (A backfill launched from the UI, run by the daemon, is
in test_refresh_daemon.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from conftest import REPO
from wmp_platform.synthetic import generate_estate

DAGSTER = str(Path(sys.executable).with_name("dagster"))
INSTANCE = "telemetry: {enabled: false}\nconcurrency:\n  pools: {default_limit: 1}\n"


def dagster_cli(env, *arguments) -> subprocess.Popen:
    return subprocess.Popen([DAGSTER, *arguments], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.mark.slow  # about a minute and a half on 2 cores: three CLI processes and their step workers
def test_a_date_range_from_the_cli_is_one_run_beside_a_warehouse_writer(tmp_path, monkeypatch):
    data = tmp_path / "data"
    generate_estate(data, size="tiny", seed=13)
    (data / "dagster").mkdir()
    (data / "dagster" / "dagster.yaml").write_text(INSTANCE)
    env = {**os.environ, "WMP_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster")}

    backfill = dagster_cli(env, "asset", "materialize", "-m", "wmp_platform.definitions",
                           "--select", "feeds/crime/raw,feeds/crime/staged,feeds/custody/raw,feeds/custody/staged",
                           "--partition-range", "2026-10-01...2026-10-03")
    warehouse = dagster_cli(env, "asset", "materialize", "-m", "wmp_platform.definitions",
                            "--select", "warehouse/feeds")
    backfill_output, _ = backfill.communicate(timeout=300)
    warehouse_output, _ = warehouse.communicate(timeout=300)
    assert backfill.returncode == 0, backfill_output
    assert warehouse.returncode == 0, warehouse_output
    assert "lock" not in (backfill_output + warehouse_output).lower()

    for feed in ("crime", "custody"):
        for day in ("2026-10-01", "2026-10-02", "2026-10-03"):
            assert pq.ParquetFile(data / "lake" / feed / "staged" / f"{day}.parquet").metadata.num_rows > 0
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster"))
    runs = dg.DagsterInstance.get().get_runs(filters=dg.RunsFilter(tags={"dagster/asset_partition_range_start": "2026-10-01"}))
    assert [(r.status, r.tags["dagster/asset_partition_range_end"]) for r in runs] == [
        (dg.DagsterRunStatus.SUCCESS, "2026-10-03")]
