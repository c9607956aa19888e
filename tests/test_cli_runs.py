"""Runs through the `dagster` CLI as a platform engineer types them, including a run killed mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import FEEDS_DIR
from landing_counts import records_in
from wmp_platform.declarations import load_declarations
from wmp_platform.synthetic import generate_estate

DAGSTER = str(Path(sys.executable).with_name("dagster"))


@pytest.fixture
def estate(tmp_path):
    data = tmp_path / "data"
    generate_estate(data, size="tiny", seed=11)
    env = {**os.environ, "WMP_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster")}
    (data / "dagster").mkdir()
    return data, env


def materialize(env, selection: str, partition: str | None, **kwargs) -> subprocess.Popen:
    command = [DAGSTER, "asset", "materialize", "-m", "wmp_platform.definitions", "--select", selection]
    if partition:
        command += ["--partition", partition]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, **kwargs)


def first_day(data: Path, feed: str) -> tuple[Path, str]:
    path = sorted((data / "landing" / feed).iterdir())[0]
    digits = "".join(ch for ch in path.name if ch.isdigit())[:8]
    return path, f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"


def test_cli_materialises_a_partition(estate):
    data, env = estate
    feed = load_declarations(FEEDS_DIR)["crime"]
    landed, partition = first_day(data, "crime")
    run = materialize(env, "feeds/crime/raw,feeds/crime/staged", partition)
    output, _ = run.communicate(timeout=180)
    assert run.returncode == 0, output
    raw = pq.ParquetFile(data / "lake" / "crime" / "raw" / f"{partition}.parquet").metadata.num_rows
    staged = pq.ParquetFile(data / "lake" / "crime" / "staged" / f"{partition}.parquet").metadata.num_rows
    quarantined = pq.ParquetFile(data / "lake" / "crime" / "quarantine" / f"{partition}.parquet").metadata.num_rows
    assert raw == records_in(landed, feed) and staged + quarantined == raw


def test_run_killed_mid_write_leaves_no_partial_or_duplicate_data(estate):
    data, env = estate
    feed = load_declarations(FEEDS_DIR)["crime"]
    landed, partition = first_day(data, "crime")
    # make the day's file large enough that writing it takes a while; each copy gets its own
    # crime reference (the first field), so the quality gate sees distinct records
    header, *records = landed.read_text().splitlines(keepends=True)
    copies = max(1, 100_000 // max(len(records), 1))
    landed.write_text(header + "".join(
        f"{reference}-{copy}," + rest for copy in range(copies) for reference, rest in (r.split(",", 1) for r in records)
    ))
    expected = records_in(landed, feed)

    raw_dir = data / "lake" / "crime" / "raw"
    run = materialize(env, "feeds/crime/raw,feeds/crime/staged", partition)
    deadline = time.monotonic() + 120
    while not list(raw_dir.glob(".*.tmp")) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert run.poll() is None, "the run finished before it could be killed mid-write"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()

    # nothing half-written is visible: the partition file does not exist or is whole
    visible = raw_dir / f"{partition}.parquet"
    assert not visible.exists() or pq.ParquetFile(visible).metadata.num_rows == expected

    rerun = materialize(env, "feeds/crime/raw,feeds/crime/staged", partition)
    output, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, output
    assert pq.ParquetFile(visible).metadata.num_rows == expected
    staged = pq.ParquetFile(data / "lake" / "crime" / "staged" / f"{partition}.parquet").metadata.num_rows
    quarantined = pq.ParquetFile(data / "lake" / "crime" / "quarantine" / f"{partition}.parquet").metadata.num_rows
    assert staged + quarantined == expected
    assert not list(raw_dir.glob(".*.tmp")), "leftovers of the killed run were not cleaned up"
