"""Raw and staged layers on real files and a real DuckDB: lossless, idempotent, typed, reconciled."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wmp_platform import ingest
from wmp_platform.declarations import parse_declaration
from wmp_platform.readers import SchemaDriftError

DAY1, DAY2 = "2026-10-01", "2026-10-02"


def rows(path, where: str = "true") -> list[dict]:
    with duckdb.connect() as con:
        return con.execute(f"SELECT * FROM read_parquet('{path}') WHERE {where} ORDER BY _row_number").df().to_dict("records")


def test_raw_keeps_every_row_with_lineage(layout, court_results):
    load = ingest.load_raw(layout, court_results, DAY1)
    assert load.rows == 4 and load.files == ["court_results/court_results_20261001.csv"]
    raw = rows(layout.partition_file("court_results", "raw", DAY1))
    assert [r["_row_number"] for r in raw] == [1, 2, 3, 4]
    assert {r["_source_file"] for r in raw} == {"court_results/court_results_20261001.csv"}
    assert all(len(r["_file_sha256"]) == 64 for r in raw)
    # raw is the text as delivered: nothing trimmed, cased or parsed
    assert raw[0]["defendant_forename"] == "  jon " and raw[2]["defendant_dob"] == "31/02/1979"


def test_staged_is_typed_normalised_and_reconciles(layout, court_results):
    ingest.load_raw(layout, court_results, DAY1)
    result = ingest.stage(layout, court_results, DAY1)
    assert (result.raw_rows, result.staged_rows, result.quarantined_rows) == (4, 2, 2)
    assert result.reconciled
    staged = rows(layout.partition_file("court_results", "staged", DAY1))
    first = staged[0]
    assert first["_record_key"] == "20BW0123456|1"
    assert first["person_offender_forename"] == "Jon" and first["person_offender_surname"] == "Smith"
    assert first["person_offender_postcode"] == "B1 1AA"
    assert first["person_offender_pnc_id"] == "1985/0012345L"
    assert str(first["person_offender_dob"])[:10] == "1985-03-02"
    assert first["remanded"] is False and staged[1]["remanded"] is True
    # 10:00 on 1 October in London is 09:00 UTC (British Summer Time)
    with duckdb.connect() as con:
        utc = con.execute(
            f"SELECT strftime(timezone('UTC', event_time), '%H:%M') FROM read_parquet('{layout.partition_file('court_results', 'staged', DAY1)}') ORDER BY _row_number LIMIT 1"
        ).fetchone()[0]
    assert utc == "09:00"


def test_quarantine_gives_every_reason_with_file_and_row(layout, court_results):
    ingest.load_raw(layout, court_results, DAY1)
    ingest.stage(layout, court_results, DAY1)
    quarantined = rows(layout.partition_file("court_results", "quarantine", DAY1))
    assert [(r["_row_number"], list(r["_issues"])) for r in quarantined] == [
        (3, ["defendant_dob: not a date in format %d/%m/%Y or %Y-%m-%d"]),
        (4, ["remanded: not a boolean"]),
    ]
    # the quarantined row keeps its delivered values
    assert quarantined[0]["defendant_dob"] == "31/02/1979"
    assert quarantined[0]["_source_file"] == "court_results/court_results_20261001.csv"


def test_reload_replaces_the_partition_and_never_duplicates(layout, court_results):
    ingest.load_raw(layout, court_results, DAY1)
    ingest.load_raw(layout, court_results, DAY1)
    assert ingest.count_rows(layout.partition_file("court_results", "raw", DAY1)) == 4
    landing = layout.feed_landing("court_results")
    # the same bytes delivered again under another name, in another partition
    shutil.copy(landing / "court_results_20261001.csv", landing / "court_results_20261003.csv")
    again = ingest.load_raw(layout, court_results, "2026-10-03")
    assert again.rows == 0
    assert again.skipped_duplicates == [
        "court_results/court_results_20261003.csv (same bytes as 2026-10-01)"
    ]


def test_same_partition_duplicate_file_is_skipped(layout, court_results):
    feed = court_results.model_copy(update={"landing": court_results.landing.model_copy(update={"pattern": "court_results_{date}*.csv"})})
    landing = layout.feed_landing("court_results")
    shutil.copy(landing / "court_results_20261001.csv", landing / "court_results_20261001_copy.csv")
    load = ingest.load_raw(layout, feed, DAY1)
    assert load.rows == 4
    assert load.skipped_duplicates == [
        "court_results/court_results_20261001_copy.csv (same bytes as court_results/court_results_20261001.csv)"
    ]


def test_malformed_csv_record_is_kept_with_its_reason(layout, court_results):
    path = layout.feed_landing("court_results") / "court_results_20261001.csv"
    lines = path.read_text().splitlines()
    lines.insert(2, "20BW9999999,1,01/10/2026 12:00,Too,Few,Fields")
    path.write_text("\n".join(lines) + "\n")
    load = ingest.load_raw(layout, court_results, DAY1)
    assert load.rows == 5 and load.malformed_records == 1
    raw = rows(layout.partition_file("court_results", "raw", DAY1))
    assert [r["_row_number"] for r in raw] == [1, 2, 3, 4, 5]
    assert raw[1]["_load_error"] == "expected 11 fields, found 6"
    assert raw[1]["_raw_record"] == "20BW9999999,1,01/10/2026 12:00,Too,Few,Fields"
    assert raw[2]["case_urn"] == "20BW0123457"
    result = ingest.stage(layout, court_results, DAY1)
    assert result.reconciled and result.issue_counts["record"] == 1


def test_schema_drift_rejects_the_file_whole(layout, court_results):
    ingest.load_raw(layout, court_results, DAY1)
    before = layout.partition_file("court_results", "raw", DAY1).read_bytes()
    path = layout.feed_landing("court_results") / "court_results_20261001.csv"
    path.write_text(path.read_text().replace("DefPostcode", "DefPostCode", 1))
    with pytest.raises(SchemaDriftError) as error:
        ingest.load_raw(layout, court_results, DAY1)
    message = str(error.value)
    assert str(path) in message and "missing column(s) ['DefPostcode']" in message
    assert "undeclared column(s) ['DefPostCode']" in message
    assert layout.partition_file("court_results", "raw", DAY1).read_bytes() == before


def small_feed(fmt: str, **extra) -> dict:
    columns = [
        {"name": "ref", "nullable": False},
        {"name": "seen_at", "type": "timestamp", "formats": ["%Y-%m-%d %H:%M:%S"]},
        {"name": "plate"},
    ]
    for column, (start, width) in zip(columns, [(1, 6), (7, 19), (26, 8)]):
        if fmt == "fixed_width":
            column.update(start=start, width=width)
    return parse_declaration(
        {
            "name": "sample", "description": "sample", "owner": "team:platform", "source_system": "test",
            "format": fmt, "landing": {"pattern": "sample_{date}.dat", "date_format": "%Y%m%d"},
            "partitioning": "daily", "primary_key": ["ref"], "event_time": "seen_at", "columns": columns,
            "pole": {"vehicles": [{"role": "sighted", "registration": "plate"}]}, **extra,
        },
        "sample",
    )


def land(layout, name: str, content: bytes) -> None:
    folder = layout.feed_landing("sample")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)


def test_jsonl_keeps_invalid_lines_and_rejects_undeclared_keys(layout):
    feed = small_feed("jsonl")
    good = {"ref": "A1", "seen_at": "2026-10-01 08:00:00", "plate": "ab12 cde"}
    land(layout, "sample_20261001.dat", (json.dumps(good) + "\n{not json\n" + json.dumps({"ref": 7}) + "\n").encode())
    assert ingest.load_raw(layout, feed, DAY1).malformed_records == 1
    staged = rows(layout.partition_file("sample", "raw", DAY1))
    assert [r["ref"] for r in staged] == ["A1", None, "7"]
    assert staged[1]["_load_error"].startswith("invalid JSON") and staged[1]["_raw_record"] == "{not json"
    result = ingest.stage(layout, feed, DAY1)
    assert (result.staged_rows, result.quarantined_rows) == (2, 1)
    assert rows(layout.partition_file("sample", "staged", DAY1))[0]["vehicle_sighted_registration"] == "AB12CDE"

    land(layout, "sample_20261002.dat", (json.dumps({**good, "speed": 30}) + "\n").encode())
    with pytest.raises(SchemaDriftError, match=r"undeclared column\(s\) \['speed'\]"):
        ingest.load_raw(layout, feed, DAY2)


def test_fixed_width_slices_and_flags_overlong_records(layout):
    feed = small_feed("fixed_width")
    records = ["A1    2026-10-01 08:00:00AB12CDE ", "A2    2026-10-01 09:30:00X1YZ", "A3    2026-10-01 10:00:00AB12CDE SPILL"]
    land(layout, "sample_20261001.dat", ("\n".join(records) + "\n").encode())
    load = ingest.load_raw(layout, feed, DAY1)
    assert (load.rows, load.malformed_records) == (3, 1)
    raw = rows(layout.partition_file("sample", "raw", DAY1))
    assert [(r["ref"], r["plate"]) for r in raw[:2]] == [("A1", "AB12CDE"), ("A2", "X1YZ")]
    assert raw[2]["_load_error"] == "record longer than the declared 33 characters"


def test_parquet_typed_columns_load_as_text(layout):
    feed = small_feed("parquet")
    table = pa.table({"ref": ["A1", "A2"], "seen_at": ["2026-10-01 08:00:00", None], "plate": ["ab12cde", "xyz 123"]})
    folder = layout.feed_landing("sample")
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "sample_20261001.dat")
    assert ingest.load_raw(layout, feed, DAY1).rows == 2
    result = ingest.stage(layout, feed, DAY1)
    assert (result.staged_rows, result.quarantined_rows) == (2, 0)
    assert [r["vehicle_sighted_registration"] for r in rows(layout.partition_file("sample", "staged", DAY1))] == ["AB12CDE", "XYZ123"]


def test_required_value_missing_is_quarantined(layout):
    feed = small_feed("jsonl")
    land(layout, "sample_20261001.dat", (json.dumps({"ref": " ", "plate": "AB12CDE"}) + "\n").encode())
    ingest.load_raw(layout, feed, DAY1)
    ingest.stage(layout, feed, DAY1)
    assert list(rows(layout.partition_file("sample", "quarantine", DAY1))[0]["_issues"]) == ["ref: required value missing"]


def load_and_stage_repeatedly(root: str, partition: str, times: int) -> None:
    from conftest import FIXTURES
    from wmp_platform.declarations import load_declaration
    from wmp_platform.storage import DataLayout

    layout, feed = DataLayout(Path(root)), load_declaration(FIXTURES / "court_results" / "defs.yaml")
    for _ in range(times):
        ingest.load_raw(layout, feed, partition)
        ingest.stage(layout, feed, partition)


def test_parallel_writers_of_one_feed_do_not_disturb_each_other(layout, court_results):
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=load_and_stage_repeatedly, args=(str(layout.root), partition, 15))
        for partition in (DAY1, DAY2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert ingest.count_rows(layout.partition_file("court_results", "raw", DAY1)) == 4
    assert ingest.count_rows(layout.partition_file("court_results", "raw", DAY2)) == 2
    assert not list(layout.layer_dir("court_results", "raw").glob(".*.tmp"))


def test_leftovers_of_a_dead_writer_are_removed_and_a_live_writers_kept(layout, court_results):
    target = layout.partition_file("court_results", "raw", DAY1)
    target.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = target.with_name(f".{target.name}.{dead.stdout.strip()}.abc.tmp")
    live = target.with_name(f".{target.name}.{os.getpid()}.def.tmp")
    other_partition = target.with_name(f".{DAY2}.parquet.{dead.stdout.strip()}.abc.tmp")
    for path in (stale, live, other_partition):
        path.write_bytes(b"partial")
    ingest.load_raw(layout, court_results, DAY1)
    assert not stale.exists() and live.exists() and other_partition.exists()
