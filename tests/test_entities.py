"""Vehicles, locations, golden records and POLE links, on hand-made mentions and on a tiny staged estate."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa
import pytest

from wmp_platform.declarations import LOCATION_ATTRIBUTES, PERSON_ATTRIBUTES, VEHICLE_ATTRIBUTES
from wmp_platform.identifiers import install_macros
from wmp_platform.ingest import load_raw, stage
from wmp_platform.landing import landing_files
from wmp_platform.matching.clusters import PERSON_SETTINGS, HubTables, Run, cluster_full
from wmp_platform.matching.golden import golden_records, history_tables, load_survivorship
from wmp_platform.matching.locations import build_location_entities
from wmp_platform.matching.mentions import entity_mentions_sql
from wmp_platform.matching.relationships import pole_events, pole_links
from wmp_platform.matching.vehicles import build_vehicle_entities
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic import generate_estate

VEHICLES, LOCATIONS, PERSONS = (HubTables.for_kind(k) for k in ("vehicle", "location", "person"))
ATTRIBUTES = {"vehicle": VEHICLE_ATTRIBUTES, "location": LOCATION_ATTRIBUTES,
              "person": tuple(a for a in PERSON_ATTRIBUTES if a != "collar_number")}
TYPES = {"dob": pa.date32(), "latitude": pa.float64(), "longitude": pa.float64()}


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "hub.duckdb")) as connection:
        install_macros(connection)
        yield connection


def put_mentions(con, name: str, kind: str, rows: list[dict]) -> str:
    """Mentions in the shared shape; each row gives feed, record_key, role, partition and attributes."""
    columns = {
        "mention_id": [f"{r['feed']}|{r['record_key']}|{r['role']}" for r in rows],
        **{c: [r[c] for r in rows] for c in ("feed", "record_key", "role", "partition")},
        **{a: pa.array([r.get(a) for r in rows], TYPES.get(a, pa.string())) for a in ATTRIBUTES[kind]},
    }
    con.register("_incoming", pa.table(columns))
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming")
    con.unregister("_incoming")
    return name


def vehicle(feed, key, registration, role="sighted", partition="2026-10-01", **described):
    return {"feed": feed, "record_key": key, "role": role, "partition": partition, "registration": registration,
            **described}


def resolved(con, table: str, column: str) -> dict[str, tuple]:
    return {m: (e, r) for m, e, r in con.execute(f"SELECT mention_id, entity_id, {column} FROM {table}").fetchall()}


def test_an_anpr_misread_links_to_a_vehicle_only_with_agreeing_evidence(con):
    seat = {"make": "SEAT", "model": "LEON", "colour": "SILVER"}
    put_mentions(con, "vehicle_mentions", "vehicle", [
        vehicle("vehicles", "VK1", "BL24XLS", "registered", **seat),
        vehicle("vehicles", "VK2", "AB12CDE", "registered", make="FORD", model="FIESTA", colour="BLUE"),
        vehicle("vehicles", "VK3", "AB12COE", "registered", make="FORD", model="FOCUS", colour="RED"),
        vehicle("anpr", "R1", "BL24XLS"),
        vehicle("anpr", "R2", "BL24XL5"),  # S read as 5: no real plate looks like this; one register match
        vehicle("anpr", "R3", "8L24XLS"),  # B read as 8
        vehicle("anpr", "R6", "BL24XS"),  # a character lost
        vehicle("anpr", "R7", "BL42XLS"),  # two swapped: a typing slip, not what cameras do
        vehicle("intelligence", "I3", "BL42XLS", make="SEAT", colour="SILVER"),  # typed: the register agrees
        vehicle("intelligence", "I1", "BL24XL5", make="FORD", colour="SILVER"),  # the make disagrees
        vehicle("intelligence", "I2", "BL24XL5", make="SEAT", colour="SILVER"),
        vehicle("vehicles", "VK4", "KX19DWS", "registered", make="VAUXHALL", model="CORSA", colour="GREY"),
        vehicle("anpr", "R4", "AB12C0E"),  # could be either registered Ford: left alone
        vehicle("anpr", "R5", "KX19OWS"),  # D read as O, but well formed: it could be a real vehicle
        vehicle("collisions", "C1", "KX19OWS", role="involved", make="VAUXHALL", model="CORSA", colour="GREY"),
    ])
    report = build_vehicle_entities(con, VEHICLES, mentions="vehicle_mentions", run=Run("run-1"))
    found = resolved(con, VEHICLES.assignments, "resolved_by")
    seat_id = found["vehicles|VK1|registered"][0]
    assert {m for m, (e, _) in found.items() if e == seat_id} == {
        "vehicles|VK1|registered", "anpr|R1|sighted", "anpr|R2|sighted", "anpr|R3|sighted", "anpr|R6|sighted",
        "intelligence|I2|sighted", "intelligence|I3|sighted"}
    assert found["anpr|R2|sighted"][1] == found["anpr|R6|sighted"][1] == found["intelligence|I2|sighted"][1] == "misread"
    assert found["intelligence|I3|sighted"][1] == "slip" and found["anpr|R7|sighted"][1] == "unregistered"
    assert found["intelligence|I1|sighted"] != (seat_id, "misread") and found["intelligence|I1|sighted"][1] == "unregistered"
    registered = {found[f"vehicles|VK{i}|registered"][0] for i in (1, 2, 3, 4)}
    assert len(registered) == 4  # two registered plates are never one vehicle
    assert found["anpr|R4|sighted"][0] not in registered and found["anpr|R5|sighted"][0] not in registered
    # the same well-formed read links when make, model and colour agree with the register
    assert found["collisions|C1|involved"] == (found["vehicles|VK4|registered"][0], "misread")
    assert report.entities == 8
    # ids follow from the registration, so a rebuild on the same data gives the same ones
    first = resolved(con, VEHICLES.assignments, "vehicle_key")
    build_vehicle_entities(con, VEHICLES, mentions="vehicle_mentions", run=Run("run-2"))
    assert resolved(con, VEHICLES.assignments, "vehicle_key") == first


GAZETTEER = [
    ("100070001401", "14 ABBEY ROAD CHEYLESMORE COVENTRY", "CV3 3BS", 52.3951, -1.5102),
    ("100070001601", "16 ABBEY ROAD CHEYLESMORE COVENTRY", "CV3 3BS", 52.3953, -1.5104),
    ("100070009902", "FLAT 2 ELMWOOD COURT 14 ABBEY ROAD CHEYLESMORE COVENTRY", "CV3 3BS", 52.3955, -1.5106),
    ("100070012001", "12 MAPLE STREET HALESOWEN", "B63 4AA", 52.4490, -2.0500),
    ("100070012002", "12 MAPLE STREET OLD HILL CRADLEY HEATH", "B64 6BB", 52.4700, -2.0800),
]


def place(feed, key, role="scene", partition="2026-10-02", **given):
    return {"feed": feed, "record_key": key, "role": role, "partition": partition, **given}


def test_an_address_is_resolved_to_the_gazetteer_uprn(con):
    gazetteer = [place("gazetteer", uprn, "address", "all", uprn=uprn, address=a, postcode=p, latitude=y, longitude=x)
                 for uprn, a, p, y, x in GAZETTEER]
    put_mentions(con, "location_mentions", "location", gazetteer + [
        place("person_index", "N1", "home", address="FLAT 2 ELMWOOD CT 14 ABBEY RD", postcode="cv33bs"),
        place("custody", "C1", "home", address="14 ABEBY ROAD CHEYLESMORE", postcode="CV3 3BS"),  # a slip
        place("intelligence", "I1", "address", address="14 ABBEY ROAD CHEYLESMORE"),  # no postcode
        place("intelligence", "I2", "address", address="12 MAPLE STREET"),  # two Maple Streets: unresolved
        place("crime", "R1", address="15 ABBEY ROAD", postcode="CV3 3BS"),  # no such house
        place("crime", "R2", uprn="100070001601", address="somewhere else"),  # the UPRN decides
        place("collisions", "K1", latitude=52.3953, longitude=-1.5104),  # on the gazetteer point
        place("stop_search", "S1", "stop", latitude=52.3956, longitude=-1.5110),  # 30 m from the nearest
        place("stop_search", "S2", "stop", latitude=52.39560, longitude=-1.51100),
    ])
    build_location_entities(con, LOCATIONS, mentions="location_mentions", run=Run("run-1"))
    found = {m: (u, how) for m, u, how in con.execute(
        f"SELECT mention_id, uprn, resolved_by FROM {LOCATIONS.assignments}").fetchall()}
    assert found["person_index|N1|home"] == ("100070009902", "address")
    assert found["custody|C1|home"] == ("100070001401", "address")
    assert found["intelligence|I1|address"] == ("100070001401", "address")
    assert found["intelligence|I2|address"] == (None, "unresolved")
    assert found["crime|R1|scene"] == (None, "unresolved")
    assert found["crime|R2|scene"] == ("100070001601", "uprn")
    assert found["collisions|K1|scene"] == ("100070001601", "coordinates")
    assert found["stop_search|S1|stop"] == (None, "unresolved")
    entity = dict(con.execute(f"SELECT mention_id, entity_id FROM {LOCATIONS.assignments}").fetchall())
    assert entity["person_index|N1|home"] == entity["gazetteer|100070009902|address"]
    assert entity["crime|R2|scene"] == entity["collisions|K1|scene"] == entity["gazetteer|100070001601|address"]
    assert entity["stop_search|S1|stop"] == entity["stop_search|S2|stop"]  # one unresolved point, one place
    assert entity["crime|R1|scene"] not in {entity[f"gazetteer|{g[0]}|address"] for g in GAZETTEER}


def person(feed, key, role, partition, **given):
    return {"feed": feed, "record_key": key, "role": role, "partition": partition, **given}


def test_golden_records_follow_the_survivorship_table_and_keep_every_alias(con, tmp_path):
    put_mentions(con, "person_mentions", "person", [
        person("crime", "1", "suspect", "2026-10-01", forename="Jon", surname="Smyth", dob=date(1990, 5, 1),
               address="1 HIGH STREET", postcode="B1 1AA", phone="07700900001"),
        person("crime", "2", "suspect", "2026-10-02", forename="Jon", surname="Smyth", dob=date(1990, 1, 5)),
        person("person_index", "N7", "offender", "2026-10-01", forename="John", surname="Smith",
               dob=date(1990, 5, 1), pnc_id="2008/0056560Z", address="9 LOW ROAD", postcode="B2 2BB"),
        person("custody", "C3", "detained", "2026-10-03", forename="John", surname="Smith",
               address="4 NEW ROAD", postcode="B3 3CC"),
    ])
    con.execute("CREATE TABLE person_assignments AS SELECT mention_id, 'P-1' AS entity_id FROM person_mentions")
    load_survivorship(con)
    golden_records(con, "person", mentions="person_mentions", assignments="person_assignments")
    row = con.execute("SELECT surname, forename, surname_source, dob, address, postcode, address_source, pnc_id, "
                      "phone, mentions, feeds, first_seen, last_seen FROM person_golden").fetchall()
    assert row == [("Smith", "John", "person_index", date(1990, 5, 1), "4 NEW ROAD", "B3 3CC", "custody",
                    "2008/0056560Z", "07700900001", 4, ["crime", "custody", "person_index"], "2026-10-01", "2026-10-03")]
    made = history_tables(con, "person", mentions="person_mentions", assignments="person_assignments")
    assert con.execute(f"SELECT value, feeds, first_seen, last_seen, mentions FROM {made['aliases']} ORDER BY value").fetchall() == [
        ("John Smith", ["custody", "person_index"], "2026-10-01", "2026-10-03", 2),
        ("Jon Smyth", ["crime"], "2026-10-01", "2026-10-02", 2)]
    assert con.execute(f"SELECT count(*) FROM {made['addresses']}").fetchall() == [(3,)]
    assert con.execute(f"SELECT value FROM {made['identifiers']} WHERE attribute = 'dob' ORDER BY 1").fetchall() == [
        ("1990-01-05",), ("1990-05-01",)]

    # the ranking is data: a table where crime outranks the index makes crime's name win
    rules = tmp_path / "rules.csv"
    rules.write_text("kind,attributes,rule,sources,why\nperson,surname forename,most_frequent,crime person_index,test\n")
    load_survivorship(con, "local_rules", rules)
    golden_records(con, "person", mentions="person_mentions", assignments="person_assignments", rules="local_rules",
                   out="local_golden")
    assert con.execute("SELECT surname, forename FROM local_golden").fetchall() == [("Smyth", "Jon")]
    rules.write_text("kind,attributes,rule,sources,why\nperson,surname,newest,,x\n")
    with pytest.raises(ValueError, match=r"rules.csv, line 2: rule 'newest'"):
        load_survivorship(con, "local_rules", rules)


FEEDS = ("vehicles", "anpr", "collisions", "custody", "gazetteer")


@pytest.fixture(scope="module")
def tiny_estate(tmp_path_factory, declarations):
    """A tiny synthetic estate with the feeds these tests read staged."""
    layout = DataLayout(tmp_path_factory.mktemp("estate") / "data")
    generate_estate(layout.root, size="tiny", seed=11)
    feeds = {name: declarations[name] for name in FEEDS}
    for feed in feeds.values():
        files, _ = landing_files(feed, layout.feed_landing(feed.landing_folder))
        for partition in sorted({f.partition for f in files}):
            load_raw(layout, feed, partition)
            stage(layout, feed, partition)
    return layout, feeds


def test_vehicles_and_places_of_the_estate_never_mix_two_true_ones(con, tiny_estate):
    layout, feeds = tiny_estate
    for kind, tables, build in (("vehicle", VEHICLES, build_vehicle_entities),
                                ("location", LOCATIONS, build_location_entities)):
        con.execute(f"CREATE TABLE {kind}_mentions AS {entity_mentions_sql(layout, feeds, kind)}")
        build(con, tables, mentions=f"{kind}_mentions", run=Run("run-1"))
        truth = layout.ground_truth / f"{kind}s.parquet"
        mixed, linked = con.execute(f"""
            WITH joined AS (
              SELECT a.entity_id, t.{kind}_id AS truth, a.resolved_by
              FROM {tables.assignments} a JOIN {kind}_mentions m USING (mention_id)
              JOIN read_parquet('{truth}') t USING (feed, record_key, role))
            SELECT (SELECT count(*) FROM (SELECT entity_id FROM joined GROUP BY 1 HAVING count(DISTINCT truth) > 1)),
                   (SELECT count(*) FROM joined WHERE resolved_by IN ('misread', 'address', 'coordinates'))""").fetchall()[0]
        assert mixed == 0, kind
        assert linked > 0, kind


def test_pole_links_join_entities_to_events_and_to_each_other(con, tiny_estate):
    layout, feeds = tiny_estate
    for kind in ("vehicle", "location", "person"):
        con.execute(f"CREATE TABLE {kind}_mentions AS {entity_mentions_sql(layout, feeds, kind)}")
    build_vehicle_entities(con, VEHICLES, mentions="vehicle_mentions", run=Run("run-1"))
    build_location_entities(con, LOCATIONS, mentions="location_mentions", run=Run("run-1"))
    con.execute("CREATE TABLE no_edges (mention_id_l VARCHAR, mention_id_r VARCHAR, match_probability DOUBLE, "
                "match_weight DOUBLE)")
    cluster_full(con, PERSON_SETTINGS, PERSONS, mentions="person_mentions", edges="no_edges", run=Run("run-1"))
    pole_events(con, layout, feeds)
    kinds = ("person", "vehicle", "location")
    made = pole_links(con, feeds, mentions={k: f"{k}_mentions" for k in kinds},
                      assignments={k: f"{k}_assignments" for k in kinds})

    register_rows = con.execute("SELECT count(*) FROM vehicle_mentions WHERE feed = 'vehicles'").fetchall()[0][0]
    keepers = con.execute(f"""
        SELECT count(*) FROM {made['person_vehicle']} l
        JOIN person_assignments p ON p.mention_id = l.person_mention_id AND p.entity_id = l.person_entity_id
        JOIN vehicle_assignments v ON v.mention_id = l.vehicle_mention_id AND v.entity_id = l.vehicle_entity_id
        WHERE l.relationship = 'keeper' AND l.feed = 'vehicles'
          AND l.person_mention_id = 'vehicles|' || l.record_key || '|keeper'""").fetchall()[0][0]
    assert keepers == register_rows > 0
    assert {r for r, in con.execute(f"SELECT DISTINCT relationship FROM {made['person_vehicle']}").fetchall()} == {
        "keeper", "driver"}
    # custody links the detained person to their home, never to the custody suite
    homes = con.execute(f"""
        SELECT DISTINCT l.feed, split_part(l.location_mention_id, '|', -1), l.relationship
        FROM {made['person_location']} l""").fetchall()
    assert sorted(homes) == [("custody", "home", "home"), ("vehicles", "home", "home")]
    events = con.execute(f"""
        SELECT entity_kind, count(*), count(event_time) FROM {made['entity_events']}
        WHERE feed = 'custody' GROUP BY 1 ORDER BY 1""").fetchall()
    detained = con.execute("SELECT count(*) FROM person_mentions WHERE feed = 'custody'").fetchall()[0][0]
    assert [k for k, *_ in events] == ["location", "person"] and all(timed > 0 for *_, timed in events)
    assert {k: n for k, n, _ in events}["person"] == detained
    assert con.execute(f"SELECT count(*) FROM {made['entity_events']} WHERE feed = 'gazetteer'").fetchall() == [(0,)]
