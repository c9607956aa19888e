"""Search and the published snapshot, on a real synthetic estate: staged, matched into a hub by the
platform's own hub build, published, then searched the way an officer would (noisy names, odd
registrations, postcodes and addresses), with the estate's ground truth as the judge."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date

import dagster as dg
import duckdb
import pytest
from conftest import publish_tiny_estate

from assets.published import SNAPSHOT, publish_assets
from resources import LakeResource
from wmp_platform.cli import main
from wmp_platform.search import (
    SearchError,
    install_search_macros,
    name_tokens,
    parse_dob,
    search_location,
    search_person,
    search_vehicle,
    sound_key,
)
from wmp_platform.snapshot import (
    POINTER,
    PublishedReader,
    SnapshotError,
    current_snapshot,
    open_published,
    publish_snapshot,
    published_dir,
    snapshots,
)
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic.names import NAME_GROUPS, NAME_VARIANTS
from wmp_platform.synthetic.noise import typo
from wmp_platform.warehouse import open_warehouse


@pytest.fixture(scope="module")
def estate(tmp_path_factory, declarations) -> DataLayout:
    """A tiny estate, staged, its hub built by the platform's hub build, and published once."""
    return publish_tiny_estate(tmp_path_factory.mktemp("search") / "data", declarations)


def truth_of_entities(con: duckdb.DuckDBPyConnection, layout: DataLayout) -> dict[str, str]:
    """entity_id -> the true person most of its records mention."""
    rows = con.execute(f"""
        SELECT a.entity_id, t.person_id, count(*) AS n
        FROM entities.person_assignments a
        JOIN read_parquet('{layout.ground_truth / "persons.parquet"}') t
          ON a.mention_id = t.feed || '|' || t.record_key || '|' || t.role
        GROUP BY ALL""").fetchall()
    best: dict[str, tuple[int, str]] = {}
    for entity, person, n in rows:
        if n > best.get(entity, (0, ""))[0]:
            best[entity] = (n, person)
    return {entity: person for entity, (_, person) in best.items()}


def noisy(rng: random.Random, forename: str, surname: str, kind: str) -> str:
    """The name as an officer might type it: a typing slip, a nickname or an initial."""
    if kind == "nickname" and NAME_VARIANTS.get(forename):
        return f"{rng.choice(NAME_VARIANTS[forename])} {surname}"
    if kind == "initial":
        return f"{forename[0]} {surname}"
    if rng.random() < 0.5:
        return f"{typo(rng, forename)} {surname}"
    return f"{forename} {typo(rng, surname)}"


def test_a_hundred_people_found_first_by_a_noisy_name_and_date_of_birth(estate):
    with open_published(estate) as con:
        person_of = truth_of_entities(con, estate)
        named = {person for entity, person in person_of.items()
                 if con.execute("SELECT count(*) FROM search.person_entities JOIN search.person_names USING (entity_no) "
                                "WHERE entity_id = ?", [entity]).fetchall()[0][0]}
        people = con.execute(f"""
            SELECT person_id, forename, surname, dob FROM read_parquet('{estate.ground_truth / "people.parquet"}')
            ORDER BY person_id""").fetchall()
        candidates = [p for p in people if p[0] in named]
        rng = random.Random(20261001)
        sample = rng.sample(candidates, 100)
        first, missed = 0, []
        for n, (person_id, forename, surname, dob) in enumerate(sample):
            name = noisy(rng, forename, surname, ("typo", "nickname", "initial")[n % 3])
            result = search_person(con, name, dob, views=0)
            if result.hits and person_of.get(result.hits[0].entity_id) == person_id:
                first += 1
            else:
                missed.append((name, dob, [(h.summary["golden_name"], h.score) for h in result.hits[:3]]))
    print(f"right person first for {first} of 100 noisy searches; missed: {missed}")
    assert first >= 95, f"{first}/100 first; missed: {missed}"


def test_a_hit_carries_the_person_360_view(estate):
    with open_published(estate) as con:
        entity, forename, surname, dob = con.execute("""
            SELECT entity_id, forename, surname, dob FROM views.person_360
            WHERE dob IS NOT NULL AND forename IS NOT NULL AND len(events) > 0 AND len(aliases) > 0
            ORDER BY len(events) DESC, entity_id LIMIT 1""").fetchall()[0]
        result = search_person(con, f"{surname}, {forename}", dob.strftime("%d/%m/%Y"))
        top = result.hits[0]
        assert top.entity_id == entity and top.score == 1.0
        view = top.view
        assert view["entity_id"] == entity and view["surname"] == surname
        assert view["events"] and all({"event_key", "feed", "roles", "event_time"} <= set(e) for e in view["events"])
        assert any(a["name"].endswith(surname) for a in view["aliases"])
        # the events are the hub's, each with the roles the person played
        hub_events = set(con.execute("SELECT DISTINCT event_key FROM entities.pole_entity_events WHERE entity_id = ?",
                                     [entity]).fetchall())
        assert {(e["event_key"],) for e in view["events"]} == hub_events
        assert json.loads(result.to_json())["hits"][0]["view"]["entity_id"] == entity


def test_warnings_show_in_the_person_360_view(estate):
    with open_published(estate) as con:
        expected = con.execute("""
            SELECT e.entity_id, count(*) FILTER (WHERE w.active)
            FROM entities.pole_entity_events e JOIN views.warning_records w ON w.event_key = e.event_key AND w.role = e.role
            WHERE e.entity_kind = 'person' GROUP BY e.entity_id""").fetchall()
        assert expected, "the estate has warrants, firearms certificates and missing episodes"
        shown = dict(con.execute("SELECT entity_id, active_warnings FROM views.person_360").fetchall())
        assert all(shown[entity] == active for entity, active in expected)
        kinds = {w for (w,) in con.execute("SELECT DISTINCT unnest(warnings).warning FROM views.person_360").fetchall()}
        assert kinds == {"warrant", "firearms certificate", "missing episode"}
        # an outstanding warrant is active, an executed one is not
        states = dict(con.execute("""
            SELECT status, bool_and(active) FROM views.warning_records WHERE warning = 'warrant' GROUP BY status""").fetchall())
        assert states.get("Outstanding", True) and not states.get("Executed", False)


def in_order(items: list[dict], *keys: tuple[str, bool]) -> bool:
    """Whether ``items`` come sorted by ``keys`` ((field, descending) each, NULLs last): a stable
    sort by each key from the last to the first leaves them as they are."""
    expected = list(items)
    for field, descending in reversed(keys):
        expected = (sorted((i for i in expected if i[field] is not None), key=lambda i: i[field], reverse=descending)
                    + [i for i in expected if i[field] is None])
    return items == expected


ORDERS = {  # the order of each list in the 360 views, as the views' SQL documents it
    "person_360": {"aliases": [("mentions", True), ("name", False)],
                   "identifiers": [("attribute", False), ("mentions", True), ("value", False)],
                   "addresses": [("last_seen", True), ("address", False)],
                   "places": [("last_time", True), ("location_entity_id", False), ("relationship", False)],
                   "vehicles": [("last_time", True), ("vehicle_entity_id", False), ("relationship", False)],
                   "events": [("event_time", True), ("event_key", False)],
                   "warnings": [("active", True), ("since", True)]},
    "vehicle_360": {"registrations": [("mentions", True), ("registration", False)],
                    "keepers": [("first_time", False), ("person_entity_id", False), ("relationship", False)],
                    "sightings": [("event_time", True), ("event_key", False)],
                    "events": [("event_time", True), ("event_key", False)]},
    "location_360": {"addresses": [("mentions", True), ("address", False)],
                     "people": [("last_time", True), ("person_entity_id", False), ("relationship", False)],
                     "events": [("event_time", True), ("event_key", False)],
                     "event_counts": [("events", True), ("feed", False)],
                     "recent_incidents": [("event_time", True), ("event_key", False)]},
}


def test_the_360_views_lists_come_in_their_documented_order(estate):
    with open_published(estate) as con:
        for view, lists in ORDERS.items():
            rows = con.sql(f"SELECT entity_id, {', '.join(lists)} FROM views.{view}").to_arrow_table().to_pylist()
            for name, keys in lists.items():
                assert sum(len(row[name]) > 1 for row in rows) > 0, f"{view}.{name}: no list of two to order"
                wrong = [row["entity_id"] for row in rows if not in_order(row[name], *keys)]
                assert wrong == [], f"{view}.{name} out of order for {wrong[:5]}"
        # a vehicle's sightings and a place's events: the newest 100 of all, counted in full
        for view, name, total, kind, role in (("vehicle_360", "sightings", "sightings_total", "vehicle", "sighted"),
                                              ("location_360", "events", "events_total", "location", None)):
            entity, shown, counted = con.execute(f"""
                SELECT entity_id, [e.event_key FOR e IN {name}], {total} FROM views.{view}
                ORDER BY {total} DESC, entity_id LIMIT 1""").fetchall()[0]
            newest = [k for (k,) in con.execute(f"""
                SELECT event_key FROM entities.pole_entity_events
                WHERE entity_kind = ? AND entity_id = ? {"AND role = 'sighted'" if role else ""}
                GROUP BY event_key, event_time ORDER BY event_time DESC NULLS LAST, event_key""", [kind, entity]).fetchall()]
            assert counted == len(newest) and shown == newest[:100], (view, entity)


def test_a_vehicle_by_registration_in_any_spacing_and_case(estate):
    with open_published(estate) as con:
        entity, registration, keepers = con.execute("""
            SELECT entity_id, registration, len(keepers) FROM views.vehicle_360
            WHERE len(keepers) > 0 AND sightings_total > 0 ORDER BY entity_id LIMIT 1""").fetchall()[0]
        for written in (registration.lower(), f" {registration[:4]} {registration[4:]} ", "-".join(registration)):
            result = search_vehicle(con, written)
            assert result.hits[0].entity_id == entity and result.hits[0].matched == f"registration {registration}"
            assert len(result.hits[0].view["keepers"]) == keepers and result.hits[0].view["sightings"]
        # a misread the hub resolved to the vehicle finds it too, as recorded
        misread = con.execute("""
            SELECT v.entity_id, r.registration FROM views.vehicle_360 v, unnest(v.registrations) AS u(r)
            WHERE r.registration <> v.registration ORDER BY 1 LIMIT 1""").fetchall()
        if misread:
            hit = search_vehicle(con, misread[0][1].lower()).hits[0]
            assert hit.entity_id == misread[0][0] and hit.matched.startswith("recorded as")
        assert search_vehicle(con, "ZZ99ZZZ").hits == []


def test_a_reader_limited_to_some_feeds_finds_only_what_those_feeds_recorded(estate):
    """Need-to-know: a name, date of birth, identifier, registration, postcode, UPRN or address that only
    feeds a reader does not see recorded finds nothing through it (``feeds``); the same search over the
    feeds that recorded it finds the entity."""
    def ids(result):
        return {h.entity_id for h in result.hits}

    with open_published(estate) as con:
        every = {f for (f,) in con.execute(" UNION ".join(
            f"SELECT DISTINCT split_part(mention_id, '|', 1) FROM entities.{kind}_assignments"
            for kind in ("person", "vehicle", "location"))).fetchall()}
        checked = Counter()
        identifiers = [(search_person, "person", "pnc_id"), (search_person, "person", "phone"),
                       (search_vehicle, "vehicle", "registration"), (search_location, "location", "uprn")]
        for search, kind, attribute in identifiers:
            for entity, value, feeds in con.execute(f"""
                    SELECT entity_id, value, feeds FROM entities.{kind}_identifiers
                    WHERE attribute = ? AND len(feeds) < {len(every)} ORDER BY entity_id, value LIMIT 5""",
                                                    [attribute]).fetchall():
                assert entity in ids(search(con, value, limit=100)) & ids(search(con, value, limit=100, feeds=feeds))
                assert entity not in ids(search(con, value, limit=100, feeds=every - set(feeds))), (kind, value)
                checked[attribute] += 1
        # a registration the reader's feeds recorded, but not as the vehicle's current one: no current match
        for entity, registration, source, feeds in con.execute("""
                SELECT g.entity_id, g.registration, g.registration_source, i.feeds
                FROM entities.vehicle_golden g JOIN entities.vehicle_identifiers i
                  ON i.entity_id = g.entity_id AND i.attribute = 'registration' AND i.value = g.registration
                WHERE len(list_filter(i.feeds, lambda f: f <> g.registration_source)) > 0
                ORDER BY g.entity_id LIMIT 5""").fetchall():
            others = set(feeds) - {source}
            hit = next(h for h in search_vehicle(con, registration, limit=100, feeds=others).hits if h.entity_id == entity)
            assert (float(hit.score), hit.matched) == (0.9, f"recorded as {registration}"), (registration, source, others)
            hit = next(h for h in search_vehicle(con, registration, limit=100, feeds={source}).hits if h.entity_id == entity)
            assert (float(hit.score), hit.matched) == (1.0, f"registration {registration}")
            checked["current"] += 1
        # a person by name: every name of theirs recorded by some feeds only
        for entity, name, feeds in con.execute("""
                SELECT g.entity_id, concat_ws(' ', g.forename, g.surname), list_distinct(flatten(list(a.feeds)))
                FROM entities.person_golden g JOIN entities.person_aliases a USING (entity_id)
                WHERE g.forename IS NOT NULL AND g.surname IS NOT NULL
                GROUP BY ALL HAVING len(list_distinct(flatten(list(a.feeds)))) < ?
                ORDER BY g.entity_id LIMIT 8""", [len(every)]).fetchall():
            assert entity in ids(search_person(con, name, limit=100, feeds=feeds))
            assert entity not in ids(search_person(con, name, limit=100, feeds=every - set(feeds))), name
            checked["name"] += 1
        # a date of birth only hidden feeds recorded is unknown to the reader: it neither finds nor scores
        for entity, name, dob, dob_feeds, name_feeds in con.execute("""
                WITH d AS (SELECT entity_id, value, feeds FROM entities.person_identifiers WHERE attribute = 'dob'
                           QUALIFY count(*) OVER (PARTITION BY entity_id) = 1),
                     n AS (SELECT entity_id, list_distinct(flatten(list(feeds))) AS feeds
                           FROM entities.person_aliases GROUP BY entity_id)
                SELECT g.entity_id, concat_ws(' ', g.forename, g.surname), d.value, d.feeds,
                       list_filter(n.feeds, lambda f: NOT list_contains(d.feeds, f))
                FROM entities.person_golden g JOIN d USING (entity_id) JOIN n USING (entity_id)
                WHERE g.forename IS NOT NULL AND g.surname IS NOT NULL AND g.dob_source IN d.feeds
                  AND len(list_filter(n.feeds, lambda f: NOT list_contains(d.feeds, f))) > 0
                ORDER BY g.entity_id LIMIT 5""").fetchall():
            seen = {h.entity_id: h.matched for h in search_person(con, name, dob, limit=100).hits}
            assert seen[entity].endswith("dob same")
            limited = {h.entity_id: h.matched for h in search_person(con, name, dob, limit=100, feeds=name_feeds).hits}
            assert limited[entity].endswith("dob unknown"), (name, dob, limited[entity])
            checked["dob"] += 1
        # a place by postcode and by address: every address of it recorded by some feeds only
        for entity, address, postcode, feeds in con.execute("""
                SELECT g.entity_id, g.address, g.postcode, list_distinct(flatten(list(a.feeds)))
                FROM entities.location_golden g JOIN entities.location_addresses a USING (entity_id)
                WHERE g.postcode IS NOT NULL AND regexp_matches(g.address, '^[0-9]+ [A-Z]')
                GROUP BY ALL HAVING len(list_distinct(flatten(list(a.feeds)))) < ?
                ORDER BY g.entity_id LIMIT 5""", [len(every)]).fetchall():
            for text in (postcode, address):
                assert entity in ids(search_location(con, text, limit=100, feeds=feeds)), text
                assert entity not in ids(search_location(con, text, limit=100, feeds=every - set(feeds))), text
            checked["place"] += 1
    assert all(checked[what] for what in ("pnc_id", "phone", "registration", "uprn", "current", "name", "dob", "place")), checked


def test_a_place_by_postcode_and_by_address_text(estate):
    with open_published(estate) as con:
        entity, address, postcode, uprn = con.execute("""
            SELECT entity_id, address, postcode, uprn FROM views.location_360
            WHERE uprn IS NOT NULL AND len(people) > 0 AND regexp_matches(address, '^[0-9]+ ')
            ORDER BY entity_id LIMIT 1""").fetchall()[0]
        by_postcode = search_location(con, postcode.replace(" ", "").lower(), limit=100)
        assert entity in {h.entity_id for h in by_postcode.hits}
        assert all(h.summary["current_postcode"] == postcode for h in by_postcode.hits if h.score == 1.0)
        # address text as typed: street type abbreviated, lower case, a slip in a long word
        words = address.split()
        typed = " ".join(w[:-1] + w[-1].lower() if len(w) > 6 else w for w in words).replace(" ROAD", " Rd")
        typed = " ".join(typo(random.Random(1), w) if len(w) > 7 else w for w in typed.split())
        by_text = search_location(con, typed.lower())
        assert by_text.hits[0].entity_id == entity, (typed, by_text.render())
        assert by_text.hits[0].view["people"]
        # with its postcode at the end, and by UPRN
        assert search_location(con, f"{typed}, {postcode.lower()}").hits[0].entity_id == entity
        assert search_location(con, uprn).hits[0].entity_id == entity
        # another house number is another place
        other = str(int(words[0]) + 1000)
        assert entity not in {h.entity_id for h in search_location(con, " ".join([other, *words[1:]])).hits}


@pytest.mark.parametrize(("kind", "query", "dob", "message"), [
    ("person", "   ", None, "nothing to search for"),
    ("person", "Smith; DROP TABLE entities.person_golden", None, "is not part of a name"),
    ("person", "<script>alert(1)</script>", None, "is not part of a name"),
    ("person", "jon smith", "31/02/1985", "not a date"),
    ("person", "jon smith", "2999-01-01", "from 1900-01-01 to today"),
    ("person", "2001/0171310S", None, "check letter is wrong"),
    ("person", "Smith, Jon, Paul", None, "at most one comma"),
    ("person", "x" * 300, None, "at most 200"),
    ("vehicle", "AB12 CD€", None, "only letters, digits"),
    ("vehicle", "A", None, "a registration has 2 to 8"),
    ("location", "14 High St; --", None, "only letters, digits"),
    ("location", "14 15", None, "give a street or place name"),
    ("location", "1234567890123", None, "at most 12 digits"),
])
def test_bad_input_is_refused_with_a_clear_message(estate, kind, query, dob, message):
    with open_published(estate) as con, pytest.raises(SearchError, match=message):
        if kind == "person":
            search_person(con, query, dob)
        elif kind == "vehicle":
            search_vehicle(con, query)
        else:
            search_location(con, query)


def test_the_cli_searches_the_published_snapshot(estate, capsys):
    with open_published(estate) as con:
        entity, forename, surname, dob = con.execute("""
            SELECT entity_id, forename, surname, dob FROM views.person_360
            WHERE dob IS NOT NULL AND forename IS NOT NULL ORDER BY mentions DESC, entity_id LIMIT 1""").fetchall()[0]
    data = ["--data-dir", str(estate.root)]
    assert main(["search", "person", f"{forename.lower()} {surname.lower()}", "--dob", dob.isoformat(), "--json",
                 *data]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["kind"] == "person" and found["hits"][0]["entity_id"] == entity
    assert found["hits"][0]["view"]["entity_id"] == entity and found["snapshot_id"] == current_snapshot(estate).stem
    assert main(["search", "person", f"{forename} {surname}", "--dob", dob.isoformat(), *data]) == 0
    text = capsys.readouterr().out
    assert entity in text and "person 360" in text and "(restricted)" in text
    assert main(["search", "vehicle", "zz99 zzz", *data]) == 1  # nothing found
    assert main(["search", "person", "jon smith", "--dob", "yesterday", *data]) == 2
    assert "wmp search person: date of birth 'yesterday': not a date" in capsys.readouterr().err
    assert main(["search", "location", "B1 1AA", "--data-dir", str(estate.root / "nowhere")]) == 2
    assert "nothing published yet" in capsys.readouterr().err


def test_readers_keep_their_snapshot_while_a_new_one_is_published(estate):
    layout = estate
    before = current_snapshot(layout)
    reader = open_published(layout)
    old_id = reader.execute("SELECT snapshot_id FROM published.manifest").fetchall()[0][0]
    # the pipeline's writer is not blocked by the reader: it opens the warehouse for writing at once
    with open_warehouse(layout.warehouse, wait_seconds=0) as con:
        con.execute("CREATE OR REPLACE TABLE entities.person_review_note AS SELECT 1 AS note")
    long_running = PublishedReader(layout)
    long_running.connection()
    assert long_running.path == before
    published = [publish_snapshot(layout, keep=2) for _ in range(3)]
    # the old reader still reads its snapshot, whole, though two newer ones have been swapped in
    assert reader.execute("SELECT snapshot_id FROM published.manifest").fetchall()[0][0] == old_id
    assert reader.execute("SELECT count(*) FROM views.person_360").fetchall()[0][0] > 0
    assert search_person(reader, "a smith").snapshot_id == old_id
    reader.close()
    # the next open, and the long-running reader's next call, see the newest
    with open_published(layout) as fresh:
        assert fresh.execute("SELECT snapshot_id FROM published.manifest").fetchall()[0][0] == published[-1].snapshot_id
        assert fresh.execute("SELECT count(*) FROM entities.person_review_note").fetchall() == [(1,)]
    assert long_running.connection().execute("SELECT snapshot_id FROM published.manifest").fetchall()[0][0] == \
        published[-1].snapshot_id
    long_running.close()
    # retention: the newest two remain; the pointer names the newest; no temporary files are left
    assert [p.stem for p in snapshots(layout)] == [p.snapshot_id for p in published[-2:]]
    assert (published_dir(layout) / POINTER).read_text().strip() == published[-1].path.name
    assert not [p for p in published_dir(layout).iterdir() if p.name.startswith(".")]
    with open_warehouse(layout.warehouse) as con:
        con.execute("DROP TABLE entities.person_review_note")


def test_a_snapshot_failing_its_audit_is_not_published(estate, tmp_path):
    layout = DataLayout(tmp_path / "broken")
    layout.root.mkdir()
    with duckdb.connect(str(layout.warehouse)) as con, open_published(estate) as published:
        con.execute("CREATE SCHEMA entities")
        for (table,) in published.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'entities'").fetchall():
            rows = published.sql(f"SELECT * FROM entities.{table}").to_arrow_table()
            con.register("rows", rows)
            con.execute(f"CREATE TABLE entities.{table} AS SELECT * FROM rows")
            con.unregister("rows")
    first = publish_snapshot(layout)
    with duckdb.connect(str(layout.warehouse)) as con:  # a golden record with no id: no 360 row can carry it
        con.execute("INSERT INTO entities.person_golden (entity_id, surname) VALUES (NULL, 'Nobody')")
    with pytest.raises(SnapshotError, match="failed its audit.*every person golden record has its 360 view"):
        publish_snapshot(layout)
    assert current_snapshot(layout) == first.path and [p.stem for p in snapshots(layout)] == [first.snapshot_id]
    assert not [p for p in published_dir(layout).iterdir() if p.name.startswith(".")]
    with duckdb.connect(str(layout.warehouse)) as con:
        con.execute("DROP TABLE entities.vehicle_golden")
    with pytest.raises(SnapshotError, match="the warehouse lacks entities.vehicle_golden"):
        publish_snapshot(layout)


def test_the_published_snapshot_asset_materialises(estate):
    (asset,) = publish_assets(mart_keys=[])
    result = dg.materialize([asset], resources={"lake": LakeResource(data_dir=str(estate.root))})
    assert result.success
    metadata = result.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    assert metadata["snapshot_id"].value == current_snapshot(estate).stem
    with open_published(estate) as con:
        assert metadata["dagster/row_count"].value == con.execute("SELECT count(*) FROM views.person_360").fetchall()[0][0]
        sensitivity = Counter(s for (s,) in con.execute("SELECT sensitivity FROM published.catalogue").fetchall())
        assert sensitivity["restricted"] > 0
        assert con.execute("SELECT DISTINCT sensitivity FROM published.catalogue WHERE schema_name IN "
                           "('entities', 'views', 'search')").fetchall() == [("restricted",)]
    spec = next(iter(asset.specs))
    assert spec.key == SNAPSHOT and spec.group_name == "published" and spec.owners == ["team:platform"]
    assert dg.AssetKey(["entities", "person"]) in asset.dependency_keys and asset.descriptions_by_key[SNAPSHOT]


def test_dates_of_birth_are_read_in_both_usual_forms():
    assert parse_dob("1985-03-02") == parse_dob("02/03/1985") == date(1985, 3, 2)


NAMES = ["Smith", "Smyth", "O'Brien-Smith", "Zoë", "Siân", "Renée", "Łukasz", "Straße", "Ashcraft", "Pfister",
         "Tymczak", "Hwang", "Whitehead", "Phillips", "Knight", "Wright", "Xavier", "Catherine", "Kathryn", "Mary-Jo",
         "Van Der Berg", "  jon   paul  SMITH ", "Smith, Jon", "Nguyễn", "İbrahim", "Ødegaard", "A", "Q.", ""]


def test_the_python_twins_make_the_keys_the_index_makes():
    """A query's name keys and sounds-alike keys are made in Python; the index's in SQL: they agree."""
    con = duckdb.connect()
    install_search_macros(con)
    names = NAMES + [n for g in NAME_GROUPS for n in (*g.male, *g.female, *g.surnames)]
    in_sql = dict(con.execute("SELECT n, wmp_name_tokens(n) FROM unnest(?::VARCHAR[]) AS t(n)", [names]).fetchall())
    assert {n: name_tokens(n) for n in names} == in_sql
    keys = sorted({k for tokens in in_sql.values() for k in tokens})
    sounds = dict(con.execute("SELECT k, wmp_sound_key(k) FROM unnest(?::VARCHAR[]) AS t(k)", [keys]).fetchall())
    assert {k: sound_key(k) for k in keys} == sounds
    assert sound_key("SMITH") == sound_key("SMYTH") == "S530" and sound_key("KATHRYN") == sound_key("CATHERINE")
    assert sound_key("ASHCRAFT") == "A261" and sound_key("PFISTER") == "P236"  # Soundex's own examples
