"""`wmp link`: an analyst's list of people deduplicated, or matched to the hub's person entities."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import FIXTURES, stage_landed

from wmp_platform import hub
from wmp_platform.cli import main
from wmp_platform.matching.clusters import PERSON_SETTINGS, Run
from wmp_platform.matching.outside_list import parse_date
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic import generate_estate
from wmp_platform.warehouse import open_warehouse

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


@pytest.fixture(scope="module")
def built_hub(tmp_path_factory, declarations) -> DataLayout:
    """A tiny one-day estate, staged, with its person hub built by the platform (``hub.build_persons``)."""
    layout = DataLayout(tmp_path_factory.mktemp("link-hub"))
    generate_estate(layout.root, size="tiny", days=1, start=date(2026, 10, 1), processes=1)
    # reference feeds first: the other feeds' quality rules read them
    stage_landed(layout, sorted(declarations.values(), key=lambda f: f.name not in ("gazetteer", "duty_roster")))
    with open_warehouse(layout.warehouse) as con:
        hub.build_persons(con, layout, declarations, Run("build"), hub.current_person_model(layout)[0])
    return layout


def test_match_links_rows_to_the_entities_of_a_hub_the_platform_built(built_hub, tmp_path):
    with open_warehouse(built_hub.warehouse, read_only=True) as con:
        entity = dict(con.execute("SELECT mention_id, entity_id FROM entities.person_assignments").fetchall())
        # people the hub holds more than once, each as one of their fully recorded mentions
        known = con.execute("""
            SELECT DISTINCT ON (a.entity_id) a.entity_id, m.forename, m.surname, m.dob, m.address, m.postcode
            FROM entities.person_assignments a JOIN entities.person_mentions m USING (mention_id)
            WHERE a.entity_id IN (SELECT entity_id FROM entities.person_assignments GROUP BY ALL HAVING count(*) > 1)
              AND m.role <> 'officer' AND m.forename IS NOT NULL AND m.surname IS NOT NULL AND m.dob IS NOT NULL
              AND m.address IS NOT NULL AND m.postcode IS NOT NULL
            ORDER BY a.entity_id, m.mention_id LIMIT 3""").fetchall()
    # the files the hub keeps for outside lists agree with the warehouse
    kept = pq.read_table(hub.person_entities_path(built_hub)).to_pylist()
    assert {row["mention_id"]: row["entity_id"] for row in kept} == entity
    assert len(known) == 3
    stranger = ("Zebedee", "Quillfeather", "12/01/1987", "1 NOWHERE LANE WALSALL", "WS1 9ZZ")
    source = tmp_path / "list.csv"
    with source.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Case", "Given Names", "Family Name", "Born", "Home Address", "Post Code"])
        for case, (_, forename, surname, dob, address, postcode) in enumerate(known, start=1):
            # as a partner agency writes them: title case, day-first dates, postcode without its space
            writer.writerow([case, forename.title(), surname.title(), dob.strftime("%d/%m/%Y"), address.title(),
                             postcode.replace(" ", "")])
        writer.writerow([4, *stranger])
        writer.writerow([5, stranger[0], stranger[1], "1987-01-12", "", ""])  # the same stranger again
        writer.writerow([6, known[0][1].title(), known[0][2].title(), "30/06/2003", "9 Other Street Dudley", "DY1 1AA"])
    out = tmp_path / "matched.csv"
    assert main(["link", "match", str(source), "--out", str(out), "--data-dir", str(built_hub.root),
                 "--map", "Born=dob", "--map", "Given Names=forename", "--map", "Family Name=surname"]) == 0
    rows = {row["Case"]: row for row in read_csv(out)}
    for case, (entity_id, *_) in enumerate(known, start=1):
        assert rows[str(case)]["entity_id"] == entity_id
        assert float(rows[str(case)]["match_probability"]) >= PERSON_SETTINGS.match_threshold
    assert rows["4"]["entity_id"] == rows["5"]["entity_id"] and rows["4"]["entity_id"].startswith("NEW")
    # a namesake born in another year, living elsewhere, is someone new
    assert rows["6"]["entity_id"].startswith("NEW") and rows["6"]["entity_id"] != rows["4"]["entity_id"]
    assert rows["6"]["match_probability"] == ""
    assert pq.read_table(hub.person_entities_path(built_hub)).num_rows == len(entity)  # read, never written


def test_match_without_a_hub_says_what_is_missing(tmp_path, capsys):
    assert main(["link", "match", str(LISTS / "people.csv"), "--out", str(tmp_path / "o.csv"),
                 "--data-dir", str(tmp_path)]) == 2
    assert "hub/person_features: the hub's person features are not there" in capsys.readouterr().err
