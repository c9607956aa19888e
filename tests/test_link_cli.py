"""`wmp link`: an analyst's list of people deduplicated, or matched to the hub's person entities."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import FIXTURES

from wmp_platform.cli import main
from wmp_platform.matching.clusters import PERSON_SETTINGS, HubTables, Run, cluster_full
from wmp_platform.matching.outside_list import (
    DEFAULT_MODEL,
    HUB_ENTITIES,
    HUB_MENTIONS,
    parse_date,
)
from wmp_platform.matching.person_model import predict_person_pairs

LISTS = FIXTURES / "link"
WMP = str(Path(sys.executable).with_name("wmp"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def groups(rows: list[dict[str, str]], column: str) -> set[frozenset[str]]:
    members = defaultdict(set)
    for row in rows:
        members[row[column]].add(row["Ref"] if "Ref" in row else row["Case"])
    return {frozenset(m) for m in members.values()}


def test_dedupe_finds_the_known_duplicates_and_keeps_every_column(tmp_path):
    out = tmp_path / "out.csv"
    run = subprocess.run([WMP, "link", "dedupe", str(LISTS / "people.csv"), "--out", str(out),
                          "--data-dir", str(tmp_path / "no-data")], capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert "17 rows -> 12 entities" in run.stdout
    given, written = read_csv(LISTS / "people.csv"), read_csv(out)
    assert [{k: v for k, v in row.items() if k not in ("entity_id", "match_probability")} for row in written] == given
    # one entity per real person: nicknames, slips, date forms and a swapped day and month joined;
    # a household and namesakes kept apart
    assert groups(written, "entity_id") == groups(given, "Expected")
    for row in written:
        alone = sum(r["entity_id"] == row["entity_id"] for r in written) == 1
        assert (row["match_probability"] == "") if alone else float(row["match_probability"]) >= PERSON_SETTINGS.match_threshold


def test_unrecognised_headers_are_mapped_with_a_flag(tmp_path):
    source = tmp_path / "list.csv"
    source.write_text("Ref,Given,Family,Born\n1,Daniel,Hughes,14/03/1990\n2,Danny,Hughes,1990-03-14\n3,Liam,Hughes,02/07/1993\n")
    out = tmp_path / "out.csv"
    assert main(["link", "dedupe", str(source), "--out", str(out), "--data-dir", str(tmp_path)]) == 2
    assert not out.exists()
    assert main(["link", "dedupe", str(source), "--out", str(out), "--data-dir", str(tmp_path),
                 "--map", "Given=forename", "--map", "Family=surname", "--map", "Born=dob"]) == 0
    written = read_csv(out)
    assert written[0]["entity_id"] == written[1]["entity_id"] != written[2]["entity_id"]


@pytest.mark.parametrize("content, arguments, message", [
    ((LISTS / "bad_date.csv").read_text(), [], "bad_date.csv: line 3, column 'dob' (dob): '31/02/1985' is not a date"),
    ("forename,surname,pnc\nAnna,Lee,2008/0056560A\n", [], "line 2, column 'pnc' (pnc_id): '2008/0056560A' is not a PNC ID"),
    ("first_name,given_name,surname\nAnna,Anna,Lee\n", [], "columns 'first_name' and 'given_name' both read as forename"),
    ("ref,dob\n1,01/02/1990\n", [], "no name column recognised"),
    ("forename,surname\nAnna,Lee,extra\n", [], "line 2: 3 fields where the header has 2"),
    ("forename,surname\nAnna,Lee\n", ["--map", "Surname=surname"], "--map names column 'Surname'"),
    ("forename,surname\nAnna,Lee\n", ["--map", "surname=family"], "unknown attribute 'family'"),
    ("", [], "empty file"),
])
def test_bad_input_is_refused_naming_the_file_row_and_field(tmp_path, capsys, content, arguments, message):
    source = tmp_path / "bad_date.csv"
    source.write_text(content)
    out = tmp_path / "out.csv"
    assert main(["link", "dedupe", str(source), "--out", str(out), "--data-dir", str(tmp_path), *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error and str(source) in error
    assert not out.exists()


@pytest.mark.parametrize("text, expected", [
    ("31/12/1990", "1990-12-31"), ("1990-12-31", "1990-12-31"), ("31-12-1990", "1990-12-31"),
    ("31.12.1990", "1990-12-31"), ("31 Dec 1990", "1990-12-31"), ("31 December 1990", "1990-12-31"),
    ("19901231", "1990-12-31"), ("05/10/72", "1972-10-05"), ("05/10/19", "2019-10-05"), ("12/31/1990", None),
])
def test_dates_in_the_usual_uk_and_iso_forms(text, expected):
    parsed = parse_date(text)
    assert (parsed.isoformat() if parsed else None) == expected


def test_match_links_rows_to_hub_entities_and_gives_the_rest_their_own(tmp_path):
    data = tmp_path / "data"
    (data / HUB_MENTIONS).parent.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT mention_id, '2026-10-01' AS partition, forename, surname, CAST(dob AS DATE) AS dob, sex, address,
                     postcode, CAST(phone AS VARCHAR) AS phone, pnc_id
              FROM read_csv('{LISTS / "hub_people.csv"}', all_varchar = true))
        TO '{data / HUB_MENTIONS}' (FORMAT parquet)""")
    con.register("edges", predict_person_pairs(data / HUB_MENTIONS, DEFAULT_MODEL))
    con.execute(f"CREATE VIEW hub_mentions AS SELECT * FROM '{data / HUB_MENTIONS}'")
    cluster_full(con, PERSON_SETTINGS, HubTables.for_kind("person"), mentions="hub_mentions", edges="edges", run=Run("t"))
    con.execute(f"COPY (SELECT mention_id, entity_id FROM person_assignments) TO '{data / HUB_ENTITIES}' (FORMAT parquet)")
    entity = dict(con.execute("SELECT mention_id, entity_id FROM person_assignments").fetchall())
    assert entity["custody|BL/00007/26|detained"] == entity["warrants|W/26/000003|wanted"]

    out = tmp_path / "matched.csv"
    assert main(["link", "match", str(LISTS / "outside_people.csv"), "--out", str(out), "--data-dir", str(data),
                 "--map", "Born=dob", "--map", "Given Names=forename", "--map", "Family Name=surname"]) == 0
    rows = {row["Case"]: row for row in read_csv(out)}
    assert rows["1"]["entity_id"] == entity["crime|CR/0000101/26|victim"]
    assert rows["2"]["entity_id"] == entity["custody|BL/00007/26|detained"] == entity["warrants|W/26/000003|wanted"]
    assert rows["3"]["entity_id"] == entity["crime|CR/0000102/26|victim"] != entity["crime|CR/0000103/26|victim"]
    assert all(float(rows[case]["match_probability"]) >= PERSON_SETTINGS.match_threshold for case in "123")
    assert rows["4"]["entity_id"] == rows["5"]["entity_id"] and rows["4"]["entity_id"].startswith("NEW")
    assert rows["6"]["entity_id"].startswith("NEW") and rows["6"]["entity_id"] != rows["4"]["entity_id"]
    assert rows["6"]["match_probability"] == ""
    assert pq.ParquetFile(data / HUB_ENTITIES).metadata.num_rows == 7  # the hub is read, never written


def test_match_without_a_hub_says_what_is_missing(tmp_path, capsys):
    assert main(["link", "match", str(LISTS / "people.csv"), "--out", str(tmp_path / "o.csv"),
                 "--data-dir", str(tmp_path)]) == 2
    assert "hub/person_mentions.parquet: the hub's person mentions are not there" in capsys.readouterr().err
