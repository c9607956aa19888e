"""Feed declarations: the shipped ones are valid, and wrong ones fail naming the file and field."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from wmp_platform.declarations import DeclarationError, load_declaration
from conftest import FIXTURES, REPO

COURT = FIXTURES / "court_results" / "defs.yaml"


def write_variant(tmp_path, change) -> str:
    document = yaml.safe_load(COURT.read_text())
    attributes = copy.deepcopy(document["attributes"])
    change(attributes)
    document["attributes"] = attributes
    path = tmp_path / "defs.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_every_shipped_feed_is_declared_and_valid(declarations):
    assert len(declarations) >= 16
    expected = {
        "crime", "incidents", "custody", "intelligence", "stop_search", "anpr", "vehicles", "person_index",
        "missing_persons", "domestic_abuse", "collisions", "property", "firearms_licensing", "warrants",
        "duty_roster", "gazetteer",
    }
    assert expected <= set(declarations)
    formats = {d.format for d in declarations.values()}
    assert formats == {"csv", "jsonl", "parquet", "fixed_width"}
    assert declarations["intelligence"].sensitivity == "restricted"
    assert declarations["gazetteer"].partitioning == "none"


def test_fixture_declaration_loads():
    feed = load_declaration(COURT)
    assert feed.name == "court_results"
    assert ("person_offender_pnc_id", "pnc_id", "defendant_pnc") in feed.pole.pole_columns()


def delete(key):
    return lambda a: a.pop(key)


@pytest.mark.parametrize(
    "change, expected",
    [
        (delete("primary_key"), "primary_key: required field is missing"),
        (lambda a: a.update(primry_key=["case_urn"]), "primry_key: unknown field (misspelt?)"),
        (lambda a: a["columns"][1].update(type="int"), "columns.1.type"),
        (lambda a: a["columns"][0].update(nulable=False), "columns.0.nulable: unknown field"),
        (lambda a: a["pole"]["persons"][0].update(role="culprit"), "pole.persons.0.role"),
        (lambda a: a["pole"]["persons"][0].update(surname="no_such_column"), "'no_such_column', which is not declared"),
        (lambda a: a.update(format="xlsx"), "format"),
        (lambda a: a["columns"][2].pop("formats"), "needs at least one entry in 'formats'"),
        (lambda a: a.update(event_time="court"), "event_time column 'court' is a string"),
        (lambda a: a["landing"].update(pattern="court_results.csv"), "needs {date} in landing.pattern"),
    ],
)
def test_wrong_declaration_names_file_and_field(tmp_path, change, expected):
    path = write_variant(tmp_path, change)
    with pytest.raises(DeclarationError) as error:
        load_declaration(path)
    message = str(error.value)
    assert str(path) in message
    assert expected in message


def test_unknown_role_lists_the_allowed_roles(tmp_path):
    path = write_variant(tmp_path, lambda a: a["pole"]["persons"][0].update(role="culprit"))
    with pytest.raises(DeclarationError, match="suspect"):
        load_declaration(path)


def test_dg_checks_pass_on_the_repository():
    dg_cli = str(Path(sys.executable).with_name("dg"))
    for check in ("yaml", "defs"):
        result = subprocess.run([dg_cli, "check", check], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
