"""The officer search service, tested against the real running server (``wmp serve`` in a subprocess
over a tiny estate's published snapshot): what each role sees, judged against what the snapshot holds
and the feeds' declared sensitivities; the audit log (one entry per consultation, refused without a
justification, unchangeable through the API or the store, tampering detected); hostile input; a
snapshot swap under a client's requests; authentication."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import httpx
import pytest
from service_server import SERVICE_TOKENS, running_service  # noqa: F401  (fixture `service`: the running server)

from wmp_platform.cli import main
from wmp_platform.service.access import SENSITIVITY_BIT, load_roles
from wmp_platform.service.audit import AUDIT_FILE, AUDIT_FOLDER, audit_path, verify
from wmp_platform.service.served import SnapshotSources
from wmp_platform.snapshot import open_published, publish_snapshot

WHY = "Incident 4471: confirming the identity of a person stopped"
SEARCH_ROLES = ("response_officer", "investigator", "intelligence_analyst", "administrator")
ROLES, SECTIONS = load_roles()


@pytest.fixture(scope="module")
def client(service):
    with httpx.Client(base_url=service.base_url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def snapshot(service, declarations):
    """The served snapshot's views and each feed's sensitivity, straight from the files."""
    with open_published(service.layout) as con:
        views = {kind: {entity: json.loads(text) for entity, text in
                        con.execute(f"SELECT entity_id, view FROM search.{kind}_views").fetchall()}
                 for kind in ("person", "vehicle", "location")}
    return {"views": views, "sensitivity": {name: feed.sensitivity for name, feed in declarations.items()}}


def get(client, role, path, **params):
    return client.get(path, params=params, headers={"Authorization": f"Bearer {SERVICE_TOKENS[role]}"})


def audit_head(client) -> dict:
    return get(client, "auditor", "/api/audit", page_size=1).json()["head"]


def entries_since(client, seq: int) -> list[dict]:
    """Audit entries after sequence number ``seq``, oldest first."""
    found, page = [], 1
    while True:
        body = get(client, "auditor", "/api/audit", page=page, page_size=500).json()
        newer = [e for e in body["entries"] if e["seq"] > seq]
        found += newer
        if len(newer) < len(body["entries"]) or not body["entries"] or page * 500 >= body["total"]:
            return sorted(found, key=lambda e: e["seq"])
        page += 1


# --- what each role sees ------------------------------------------------------------------------

def visible_feeds(role: str, sensitivity: dict[str, str]) -> set[str]:
    return {feed for feed, level in sensitivity.items() if level in ROLES[role].sensitivities}


def sample(views: dict, hidden_feed_first: int, plain: int) -> list[str]:
    """Entities with restricted records (some also in other feeds), and some without."""
    with_intel = sorted(e for e, v in views.items() if "intelligence" in v.get("feeds", []))
    without = sorted(e for e, v in views.items() if "intelligence" not in v.get("feeds", []) and len(v["feeds"]) > 1)
    return with_intel[:hidden_feed_first] + without[:plain]


@pytest.mark.parametrize("role", SEARCH_ROLES)
def test_each_role_sees_the_feeds_sections_and_fields_it_may_and_no_more(client, snapshot, role):
    sensitivity = snapshot["sensitivity"]
    sees = visible_feeds(role, sensitivity)
    hidden = set(sensitivity) - sees
    spec = ROLES[role]
    checked = 0
    for kind, count in (("person", 12), ("vehicle", 6), ("location", 6)):
        views = snapshot["views"][kind]
        for entity in sample(views, count, 4):
            full = views[entity]
            response = get(client, role, f"/api/{kind}/{entity}", justification=WHY)
            if not set(full["feeds"]) & sees:
                assert response.status_code == 404, (role, entity, response.text)
                continue
            assert response.status_code == 200, response.text
            shown = response.json()["view"]
            checked += 1
            # sections: a list is there exactly when the role has its section
            for key, section in SECTIONS[kind].items():
                assert (key in shown) == (section in spec.sections), (role, kind, key)
            # no item of a hidden feed; every item of a visible one
            for key in ("events", "warnings", "sightings", "recent_incidents", "event_counts"):
                if key in shown:
                    expected = [item for item in full[key] if item["feed"] in sees]
                    assert [i["feed"] for i in shown[key]] == [i["feed"] for i in expected], (role, entity, key)
            for key in ("aliases", "identifiers", "addresses", "registrations"):
                if key in shown:
                    expected = [item for item in full[key] if set(item["feeds"]) & sees]
                    assert len(shown[key]) == len(expected), (role, entity, key)
                    assert all(set(item["feeds"]) <= sees and item["feeds"] for item in shown[key])
            assert set(shown["feeds"]) == set(full["feeds"]) & sees
            # totals count only what the role sees
            if "events_total" in shown:
                assert shown["events_total"] == sum(c["events"] for c in full["event_counts"] if c["feed"] in sees)
            if "sightings_total" in shown and full["sightings_total"] <= 100:
                assert shown["sightings_total"] == sum(1 for i in full["sightings"] if i["feed"] in sees)
            if "active_warnings" in shown:
                assert shown["active_warnings"] == sum(1 for w in full["warnings"] if w["active"] and w["feed"] in sees)
            # a golden field taken from a hidden feed is withheld
            for key, value in full.items():
                if key.endswith("_source") and value in hidden:
                    field = key.removesuffix("_source")
                    assert shown.get(field) is None and field in shown["withheld"], (role, entity, field)
            text = json.dumps(shown)
            for feed in hidden:
                assert f'"{feed}"' not in text and f'"{feed}|' not in text, (role, entity, feed)
    assert checked >= 20


def test_personal_fields_are_masked_by_role(client, snapshot):
    people = snapshot["views"]["person"]
    entity = next(e for e, v in sorted(people.items()) if v["phone"] and v["dob"] and v["ni_number"]
                  and v["phone_source"] != "intelligence" and v["dob_source"] != "intelligence")
    full = people[entity]
    officer = get(client, "response_officer", f"/api/person/{entity}", justification=WHY).json()["view"]
    assert officer["ni_number"] is None
    assert officer["phone"] == "*" * (len(full["phone"]) - 3) + full["phone"][-3:]
    assert officer["dob"] == full["dob"][:4]
    assert {i["value"] for i in officer["identifiers"] if i["attribute"] == "ni_number"} <= {None}
    assert {i["value"] for i in officer["identifiers"] if i["attribute"] == "dob"} <= {full["dob"][:4]}
    hit = get(client, "response_officer", "/api/search/person", q=full["ni_number"], justification=WHY).json()
    assert [h["summary"]["golden_dob"] for h in hit["hits"] if h["entity_id"] == entity] == [full["dob"][:4]]
    investigator = get(client, "investigator", f"/api/person/{entity}", justification=WHY).json()["view"]
    assert investigator["ni_number"] == "*" * (len(full["ni_number"]) - 3) + full["ni_number"][-3:]
    assert investigator["phone"] == full["phone"] and investigator["dob"] == full["dob"]
    analyst = get(client, "intelligence_analyst", f"/api/person/{entity}", justification=WHY).json()["view"]
    assert (analyst["ni_number"], analyst["phone"], analyst["dob"]) == (full["ni_number"], full["phone"], full["dob"])


def test_search_hits_only_from_hidden_feeds_are_not_shown(client, snapshot):
    people = snapshot["views"]["person"]
    only_intel = sorted(e for e, v in people.items() if v["feeds"] == ["intelligence"] and v["surname"])
    assert only_intel, "the tiny estate has people known only to intelligence"
    for entity in only_intel[:4]:
        name = " ".join(filter(None, (people[entity]["forename"], people[entity]["surname"])))
        found = {}
        for role in SEARCH_ROLES:
            response = get(client, role, "/api/search/person", q=name, justification=WHY, page_size=50)
            assert response.status_code == 200, response.text
            hits = response.json()["hits"]
            found[role] = {h["entity_id"] for h in hits}
            for hit in hits:  # every hit shown has a source the role may see
                assert set(people[hit["entity_id"]]["feeds"]) & visible_feeds(role, snapshot["sensitivity"])
        assert entity in found["intelligence_analyst"] and entity in found["administrator"], name
        assert entity not in found["response_officer"] and entity not in found["investigator"], name


def test_counts_dates_and_matched_names_tell_nothing_of_hidden_feeds(client, snapshot, service):
    """A response officer's view and hits count only the records of feeds the role sees (and date them
    by those); an item some of whose feeds are hidden shows no count or dates; a name only intelligence
    recorded is never what a hit matched."""
    people = snapshot["views"]["person"]
    sees = visible_feeds("response_officer", snapshot["sensitivity"])
    with open_published(service.layout) as con:
        records = con.execute("""
            SELECT entity_id, split_part(mention_id, '|', 1), count(*), min(nullif(partition, 'all')),
                   max(nullif(partition, 'all'))
            FROM entities.person_assignments GROUP BY ALL""").fetchall()
        intelligence_names = con.execute("""
            SELECT a.entity_id, a.value FROM entities.person_aliases a JOIN entities.person_golden g USING (entity_id)
            WHERE a.feeds = ['intelligence'] AND len(g.feeds) > 1 ORDER BY 1, 2""").fetchall()
    mixed = sorted(e for e, v in people.items() if "intelligence" in v["feeds"] and set(v["feeds"]) & sees)
    assert len(mixed) >= 5 and intelligence_names
    for entity in mixed[:8]:
        mine = [r for r in records if r[0] == entity and r[1] in sees]
        shown = get(client, "response_officer", f"/api/person/{entity}", justification=WHY).json()["view"]
        assert shown["mentions"] == sum(r[2] for r in mine) < people[entity]["mentions"]
        assert (shown["first_seen"], shown["last_seen"]) == (min(r[3] for r in mine), max(r[4] for r in mine))
        for alias, full in zip(shown["aliases"], [a for a in people[entity]["aliases"] if set(a["feeds"]) & sees]):
            cut = set(full["feeds"]) - sees
            assert alias["mentions"] == (None if cut else full["mentions"]), (entity, alias)
        name = " ".join(filter(None, (people[entity]["forename"], people[entity]["surname"])))
        hits = get(client, "response_officer", "/api/search/person", q=name, justification=WHY, page_size=50).json()
        assert [h["summary"]["mentions"] for h in hits["hits"] if h["entity_id"] == entity] == [shown["mentions"]]
    for entity, alias in intelligence_names:
        for role in ("response_officer", "intelligence_analyst"):
            hits = get(client, role, "/api/search/person", q=alias, justification=WHY, page_size=50).json()["hits"]
            matched = [h["matched"] for h in hits if h["entity_id"] == entity]
            if role == "intelligence_analyst":
                assert matched == [f"name {alias}"], (alias, matched)
            else:
                assert f"name {alias}" not in matched, (alias, matched)


def test_active_warnings_of_hits_count_only_feeds_the_role_sees(service, snapshot):
    """With warrants declared restricted, a hit's active warnings leave the warrants out for a role that
    does not see restricted feeds (the service's sources over the real snapshot)."""
    bits = {feed: SENSITIVITY_BIT["restricted" if feed == "warrants" else level]
            for feed, level in snapshot["sensitivity"].items()}
    sees = SENSITIVITY_BIT["official"] | SENSITIVITY_BIT["official_sensitive"]
    people = snapshot["views"]["person"]
    warned = sorted(e for e, v in people.items() if any(w["active"] for w in v["warnings"]))
    assert any(w["feed"] == "warrants" for e in warned for w in people[e]["warnings"])
    with open_published(service.layout) as con:
        sources = SnapshotSources(con, bits)
    at = sources.positions("person", warned)
    for everything, expected in ((SENSITIVITY_BIT["restricted"] | sees, lambda w: True),
                                 (sees, lambda w: w["feed"] != "warrants")):
        counts = sources.visible_counts("person", at, everything)["active_warnings"]
        assert counts == [sum(1 for w in people[e]["warnings"] if w["active"] and expected(w)) for e in warned]


def test_the_auditor_sees_the_audit_log_only(client):
    assert get(client, "auditor", "/api/search/person", q="Smith", justification=WHY).status_code == 403
    assert get(client, "auditor", "/api/person/P-000000000000", justification=WHY).status_code == 403
    assert get(client, "auditor", "/api/audit").status_code == 200
    for role in ("response_officer", "investigator", "intelligence_analyst"):
        assert get(client, role, "/api/audit").status_code == 403
    assert get(client, "administrator", "/api/audit").status_code == 200
    me = {role: get(client, role, "/api/me").json() for role in (*SEARCH_ROLES, "auditor")}
    assert me["auditor"]["can"] == ["audit"]
    assert "search" in me["response_officer"]["can"] and "events" not in me["response_officer"]["can"]
    assert "sensitivity:restricted" in me["intelligence_analyst"]["can"]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer"}, {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Basic ZGVtbzpkZW1v"}, {"Authorization": "demo-admin-token"},
])
def test_no_or_unknown_token_is_401(client, headers):
    for path in ("/api/me", f"/api/search/person?q=Smith&justification={WHY}", "/api/audit",
                 f"/api/person/P-000000000000?justification={WHY}"):
        response = client.get(path, headers=headers)
        assert response.status_code == 401, (path, headers, response.text)
        assert response.json()["detail"] and response.headers["www-authenticate"] == "Bearer"


# --- the audit log -------------------------------------------------------------------------------

def test_every_search_and_view_leaves_exactly_one_audit_entry(client, snapshot):
    before = audit_head(client)["seq"]
    person = min(snapshot["views"]["person"])
    asked = [
        ("investigator", "/api/search/person", {"q": "Smith", "justification": WHY}, "search", 200),
        ("response_officer", "/api/search/vehicle", {"q": "AB12 CDE", "justification": WHY}, "search", 200),
        ("intelligence_analyst", "/api/search/location", {"q": "B1 1AA", "justification": WHY}, "search", 200),
        ("investigator", f"/api/person/{person}", {"justification": WHY}, "view", 200),
        ("investigator", "/api/person/P-000000000000", {"justification": WHY}, "view", 404),
        ("response_officer", "/api/search/person", {"q": "Smith"}, "search", 400),
        ("response_officer", "/api/search/person", {"q": "Smith<script>", "justification": WHY}, "search", 400),
        ("auditor", "/api/search/person", {"q": "Smith", "justification": WHY}, "search", 403),
    ]
    returned = []
    for role, path, params, _, status in asked:
        response = get(client, role, path, **params)
        assert response.status_code == status, (path, params, response.text)
        body = response.json()
        returned.append([h["entity_id"] for h in body["hits"]] if "hits" in body
                        else [body["entity_id"]] if "entity_id" in body else [])
    entries = entries_since(client, before)
    assert len(entries) == len(asked)
    for entry, (role, path, params, action, status), ids in zip(entries, asked, returned):
        assert (entry["role"], entry["action"], entry["status"]) == (role, action, status)
        assert entry["kind"] == path.split("/")[-1 if action == "search" else -2]
        assert entry["entity_ids"] == ids
        assert entry["justification"] == params.get("justification")
        assert entry["at"].endswith("+00:00")
        if status == 200:
            assert entry["snapshot_id"] and entry["detail"] is None
        else:
            assert entry["detail"]
    assert entries[0]["query"]["q"] == "Smith" and entries[3]["query"] == {"entity_id": person}


def test_concurrent_searches_each_leave_one_entry_in_one_unbroken_chain(client, service):
    before = audit_head(client)["seq"]
    names = ["Smith", "Jones", "Khan", "Patel", "Brown", "Taylor", "Wilson", "Evans"] * 4
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda n: get(client, "investigator", "/api/search/person", q=n,
                                               justification=WHY).status_code, names))
    assert statuses == [200] * len(names)
    entries = entries_since(client, before)
    assert [e["seq"] for e in entries] == list(range(before + 1, before + 1 + len(names)))
    assert sorted(e["query"]["q"] for e in entries) == sorted(names)
    assert verify(audit_path(service.data_dir)).ok


@pytest.mark.parametrize("justification", [None, "", "          ", "because", "x" * 9, "\u200b" * 12])
def test_a_search_or_view_without_a_justification_is_refused_and_audited(client, justification):
    before = audit_head(client)["seq"]
    params = {"q": "Smith"} if justification is None else {"q": "Smith", "justification": justification}
    response = get(client, "investigator", "/api/search/person", **params)
    assert response.status_code == 400
    assert "justification" in response.json()["detail"]
    view = get(client, "investigator", "/api/person/P-000000000000", **({} if justification is None else
                                                                        {"justification": justification}))
    assert view.status_code == 400 and "justification" in view.json()["detail"]
    entries = entries_since(client, before)
    assert [(e["action"], e["status"], e["entity_ids"]) for e in entries] == [("search", 400, []), ("view", 400, [])]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/api/audit", "/api/audit/1", "/api/audit/entries/1"])
def test_no_verb_changes_the_audit_log_through_the_api(client, service, method, path):
    before = audit_head(client)
    response = client.request(method, path, headers=service.headers("administrator"),
                              json={"seq": 1, "justification": "rewritten"})
    assert response.status_code == 405
    assert "append-only" in response.json()["detail"]
    assert audit_head(client) == before
    assert verify(audit_path(service.data_dir)).ok


def backup_of(path, folder):
    """A consistent copy of the audit store in ``folder``/audit/ (SQLite's online backup)."""
    (folder / AUDIT_FOLDER).mkdir(parents=True)
    copy = sqlite3.connect(folder / AUDIT_FOLDER / AUDIT_FILE)
    with closing(sqlite3.connect(path, timeout=30)) as store:
        store.backup(copy)
    return copy


def test_the_store_refuses_update_and_delete_and_verify_detects_an_edit_behind_its_back(client, service, tmp_path):
    for _ in range(3):  # entries 1 to 3 at least
        get(client, "investigator", "/api/search/person", q="Smith", justification=WHY)
    path = audit_path(service.data_dir)
    with closing(sqlite3.connect(path, timeout=30)) as store:
        for statement in ("UPDATE audit_log SET justification = 'nothing to see' WHERE seq = 1",
                          "DELETE FROM audit_log WHERE seq = 1"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                store.execute(statement)
    assert verify(path).ok
    assert main(["audit", "verify", "--data-dir", str(service.data_dir)]) == 0
    # copies edited behind the store's back: triggers dropped, then an entry changed, deleted, or the end cut off
    for edit, problem in (
        ("UPDATE audit_log SET justification = 'nothing to see' WHERE seq = 1", "entry 1: its fields were changed"),
        ("DELETE FROM audit_log WHERE seq = 2", "entries 2 to 2 are missing"),
        ("UPDATE audit_log SET entity_ids = '[]', status = 404 WHERE seq = 3", "entry 3: its fields were changed"),
    ):
        folder = tmp_path / f"copy{problem[6]}"
        with closing(backup_of(path, folder)) as copy:
            head = verify(folder / AUDIT_FOLDER / AUDIT_FILE).head
            copy.execute("DROP TRIGGER audit_log_no_update")
            copy.execute("DROP TRIGGER audit_log_no_delete")
            copy.execute(edit)
            copy.commit()
        result = verify(folder / AUDIT_FOLDER / AUDIT_FILE)
        assert not result.ok and any(p.startswith(problem) for p in result.problems), (edit, result.problems)
        assert main(["audit", "verify", "--data-dir", str(folder)]) == 1
    folder = tmp_path / "cut"
    with closing(backup_of(path, folder)) as copy:
        head = verify(folder / AUDIT_FOLDER / AUDIT_FILE).head
        copy.execute("DROP TRIGGER audit_log_no_delete")
        copy.execute("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
        copy.commit()
    assert verify(folder / AUDIT_FOLDER / AUDIT_FILE).ok  # a chain cut at the end is still a chain...
    assert not verify(folder / AUDIT_FOLDER / AUDIT_FILE, head).ok  # ...but not the one noted before
    assert main(["audit", "verify", "--data-dir", str(folder), "--head", f"{head['seq']}:{head['hash']}"]) == 1


def test_the_service_can_only_insert_and_select_on_its_audit_store(service, tmp_path):
    from wmp_platform.service.audit import AuditLog

    backup_of(audit_path(service.data_dir), tmp_path).close()
    log = AuditLog(tmp_path)
    seq = log.record(user="u", role="investigator", action="search", kind="person", query={"q": "x"},
                     justification=WHY, entity_ids=[], snapshot_id=None, status=200)
    assert log.head()["seq"] == seq
    for statement in ("UPDATE audit_log SET user = 'v'", "DELETE FROM audit_log", "DROP TRIGGER audit_log_no_update",
                      "DROP TABLE audit_log", "PRAGMA writable_schema = ON"):
        with pytest.raises(sqlite3.DatabaseError, match="not authori[sz]ed"):
            log._con.execute(statement)
    log.close()
    assert verify(tmp_path / AUDIT_FOLDER / AUDIT_FILE).ok


# --- hostile input ----------------------------------------------------------------------------------

HOSTILE = [
    # (path with a raw, already-encoded query string, what it is)
    ("/api/search/person?q=%27%20OR%201%3D1%20--", "SQL injection"),
    ("/api/search/person?q=Robert%27)%3B%20DROP%20TABLE%20audit_log%3B--", "SQL injection, a statement"),
    ("/api/search/vehicle?q=AB12%27%3B%20DELETE%20FROM%20x", "SQL injection in a registration"),
    ("/api/search/location?q=1%20High%20St%27%20UNION%20SELECT%20*%20FROM%20audit_log--", "SQL injection, union"),
    ("/api/search/person?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "script injection"),
    ("/api/search/location?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", "script injection in an address"),
    ("/api/search/person?q=Smith%00", "NUL"),
    ("/api/search/person?q=Smith%E2%80%AEhtimS", "right-to-left override"),
    ("/api/search/person?q=Sm%E2%80%8Bith", "zero-width space"),
    ("/api/search/person?q=Smith%CC%81%CC%81%CC%81", "stacked combining marks"),
    ("/api/search/person?q=%CC%81", "a lone combining mark"),
    ("/api/search/person?q=%ED%A0%80", "a lone surrogate, as UTF-8 bytes"),
    ("/api/search/person?q=%FF%FE", "bytes that are not UTF-8"),
    ("/api/search/person?q=%F0%9F%98%80", "an emoji"),
    ("/api/search/person?q=" + "a" * 201, "over the 200-character cap"),
    ("/api/search/person?q=" + "a%20" * 2000, "a huge query string"),
    ("/api/search/person?q=", "empty"),
    ("/api/search/person?q=%20%20%20", "blank"),
    ("/api/search/person?q=Smith&dob=2099-01-01", "a date of birth in the future"),
    ("/api/search/person?q=Smith&dob=31/02/1980", "no such date"),
    ("/api/search/person?q=Smith&dob=%27%3B--", "SQL in a date of birth"),
    ("/api/search/person?q=Smith&page=-1", "a negative page"),
    ("/api/search/person?q=Smith&page=abc", "a page that is no number"),
    ("/api/search/person?q=Smith&page_size=100000", "a page too large"),
    ("/api/search/person?q=Smith&page=99&page_size=50", "too deep"),
    ("/api/search/person?q=9999%2F1234567Z", "a PNC ID with a wrong check letter"),
    ("/api/search/persons?q=Smith", "no such kind"),
    ("/api/search/%00?q=Smith", "NUL as the kind"),
    ("/api/person/P-1%27%20OR%20%271%27%3D%271", "SQL injection in an entity id"),
    ("/api/person/%3Cscript%3E", "script in an entity id"),
    ("/api/person/V-0058B282742E", "an id of another kind"),
    ("/api/person/P-ZZZZZZZZZZZZ", "not hexadecimal"),
    ("/api/vehicle/..%2F..%2Fetc%2Fpasswd", "path traversal"),
    ("/api/audit/..%2F..", "path traversal on the audit log"),
]


@pytest.mark.parametrize("path, what", HOSTILE, ids=[w for _, w in HOSTILE])
def test_hostile_input_gets_a_4xx_with_a_clear_message(client, service, path, what):
    separator = "&" if "?" in path else "?"
    response = client.get(f"{path}{separator}justification=Incident%204471%20identity%20check",
                          headers=service.headers("investigator"))
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text)
    detail = response.json()["detail"]
    assert isinstance(detail, str) and 10 <= len(detail) <= 600, (what, detail)


@pytest.mark.parametrize("justification", ["%00%00%00%00%00%00%00%00%00%00%00", "Incident%E2%80%AE1234567890",
                                           "x" * 501, "%ED%A0%80" * 5])
def test_a_hostile_justification_gets_a_4xx(client, service, justification):
    response = client.get(f"/api/search/person?q=Smith&justification={justification}",
                          headers=service.headers("investigator"))
    assert response.status_code == 400 and "justification" in response.json()["detail"]


def test_after_hostile_input_the_service_and_its_audit_log_are_whole(client, service):
    assert client.get("/health").json()["status"] == "ok"
    assert get(client, "investigator", "/api/search/person", q="Smith", justification=WHY).status_code == 200
    assert verify(audit_path(service.data_dir)).ok


# --- pages, docs ---------------------------------------------------------------------------------------

def test_the_web_page_its_files_and_the_api_docs_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search/{kind}", "/api/{kind}/{entity_id}", "/api/audit", "/api/me", "/health"} <= set(paths)
    search = get(client, "investigator", "/api/search/person", q="Smith", justification=WHY)
    assert search.headers["cache-control"] == "no-store"


# --- snapshot swaps ----------------------------------------------------------------------------------

def test_a_snapshot_swap_under_a_looping_client_fails_no_request(client, service):
    old = client.get("/health").json()["snapshot_id"]
    person = get(client, "investigator", "/api/search/person", q="Smith", justification=WHY).json()["hits"][0]
    seen: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def loop() -> None:
        with httpx.Client(base_url=service.base_url, timeout=30, headers=service.headers("investigator")) as http:
            while not stop.is_set():
                for path, params in (("/api/search/person", {"q": "Smith", "justification": WHY}),
                                     (f"/api/person/{person['entity_id']}", {"justification": WHY})):
                    try:
                        response = http.get(path, params=params)
                        seen.append((response.status_code, response.json().get("snapshot_id")))
                    except httpx.HTTPError as error:
                        seen.append((0, repr(error)))

    looping = threading.Thread(target=loop)
    looping.start()
    try:
        new = publish_snapshot(service.layout).snapshot_id
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(s == new for _, s in seen[-4:]):
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        stop.set()
        looping.join()
    failed = [s for s in seen if s[0] != 200]
    assert not failed, failed[:5]
    ids = [s for _, s in seen]
    assert old in ids and new in ids and ids[-1] == new
    assert ids.index(new) > ids.index(old) and old not in ids[ids.index(new):]  # moved once, never back
    assert client.get("/health").json()["snapshot_id"] == new


@pytest.mark.slow
def test_two_worker_processes_append_to_one_unbroken_chain(service):
    """``wmp serve --workers 2`` (uvicorn's factory, the data folder passed by environment) on the same data
    folder: concurrent searches answered by both processes leave one entry each in one chain."""
    from service_server import start_service

    second = start_service(service.data_dir, workers=2)
    try:
        with httpx.Client(base_url=second.base_url, timeout=30) as http:
            before = audit_head(http)["seq"]
            with ThreadPoolExecutor(16) as pool:
                statuses = list(pool.map(lambda n: get(http, "investigator", "/api/search/person", q=n,
                                                       justification=WHY).status_code, ["Smith", "Khan"] * 40))
            assert statuses == [200] * 80
            entries = entries_since(http, before)
        assert [e["seq"] for e in entries] == list(range(before + 1, before + 81))
        assert verify(audit_path(service.data_dir)).ok
    finally:
        second.stop()


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_before_anything_is_published_the_service_answers_503_and_audits_the_attempt(tmp_path):
    """In process (no snapshot to build a server on): health and searches say why, nothing fails."""
    from fastapi.testclient import TestClient

    from wmp_platform.service.app import create_app

    with TestClient(create_app(tmp_path)) as http:
        health = http.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "no snapshot"
        response = http.get("/api/search/person", params={"q": "Smith", "justification": WHY},
                            headers={"Authorization": f"Bearer {SERVICE_TOKENS['investigator']}"})
        assert response.status_code == 503 and "no snapshot published yet" in response.json()["detail"]
    entries = sqlite3.connect(audit_path(tmp_path)).execute("SELECT user, status FROM audit_log").fetchall()
    assert entries == [("dc.investigator", 503)]
